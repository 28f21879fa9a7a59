import Foundation
import ThreatModel

/// Attack campaigns (docs/waf.md "Attack campaigns"): audit entries with an attack-family match,
/// grouped by client (or by its /24 or /64 network when several of that network's addresses
/// each sent two attack requests or more in the window), by rule family (each request goes to its dominant family), and split
/// where two are more than one report interval apart. A group is listed when one of its clients
/// looks like a campaign or when it holds at least `campaignMinRequests` requests. Its id is a
/// digest of its group, family, start, end, size and rules: the same data gives the same ids,
/// whatever order the entries came in.
enum WAFCampaigns {
    /// Attack requests an address must have sent to be grouped with its network.
    static let networkMinRequests = 2

    struct GroupKey: Hashable {
        var group: String
        var family: CRSCategory
    }

    static func build(_ o: WAFLogScan.Outcome, records: [Int], shapes: WAFTuningAggregation.ClientShapes, step: Int,
                      family: (UInt32) -> CRSCategory) -> [WAFCampaign] {
        // 1. Attack entries with their dominant family, and the attacking addresses per network.
        var attacks: [(record: Int, family: CRSCategory)] = []
        var perClient: [UInt32: Int] = [:]
        var scratch = FamilyScratch()
        // Each rule's attack family as an index of `CRSCategory.allCases` (-1: none), looked up once.
        let attackIndex = (0..<o.rules.count).map { rule in
            let f = family(UInt32(rule))
            return f.isAttack ? Int16(CRSCategory.allCases.firstIndex(of: f) ?? -1) : -1
        }
        for k in records {
            let r = o.records[k]
            guard r.client != Interner.overflow, let f = dominantFamily(o, r, attackIndex: attackIndex, scratch: &scratch) else { continue }
            attacks.append((k, f))
            perClient[r.client, default: 0] += 1
        }
        // 2. A client's group: its network when two or more of the network's addresses each sent
        // at least `networkMinRequests` attack requests (many users of one network who each trip
        // one rule once stay apart).
        var networkOf: [UInt32: String] = [:], members: [String: Int] = [:]
        for (client, n) in perClient where n >= networkMinRequests {
            guard let net = network(o.clients.string(client) ?? "") else { continue }
            networkOf[client] = net
            members[net, default: 0] += 1
        }
        func group(_ client: UInt32) -> String {
            if let n = networkOf[client], (members[n] ?? 0) > 1 { return n }
            return o.clients.string(client) ?? ""
        }
        // Groups numbered once per client, entries keyed by (group, family index).
        let families = CRSCategory.allCases
        var groupOfClient: [UInt32: Int] = [:], groupNumber: [String: Int] = [:], groupNames: [String] = []
        var byGroup: [Int: [Int]] = [:]
        for a in attacks {
            let client = o.records[a.record].client
            let g: Int
            if let known = groupOfClient[client] {
                g = known
            } else {
                let name = group(client)
                g = groupNumber[name] ?? { groupNames.append(name); groupNumber[name] = groupNames.count - 1; return groupNames.count - 1 }()
                groupOfClient[client] = g
            }
            byGroup[g * families.count + (families.firstIndex(of: a.family) ?? 0), default: []].append(a.record)
        }

        // 3. Sessions: cut where two entries are more than one interval apart.
        var out: [WAFCampaign] = []
        for (number, list) in byGroup {
            let key = GroupKey(group: groupNames[number / families.count], family: families[number % families.count])
            let sorted = list.sorted { (o.records[$0].time, $0) < (o.records[$1].time, $1) }
            var session: [Int] = []
            func flush() {
                defer { session.removeAll() }
                guard !session.isEmpty else { return }
                let looks = session.contains { shapes[o.records[$0].client]?.looksLikeCampaign ?? false }
                guard looks || session.count >= WAFTuningAggregation.campaignMinRequests else { return }
                out.append(campaign(o, key: key, session, family: family))
            }
            for k in sorted {
                if let last = session.last, o.records[k].time - o.records[last].time > Int64(step) { flush() }
                session.append(k)
            }
            flush()
        }
        out.sort { a, b in
            if a.requests != b.requests { return a.requests > b.requests }
            if a.start != b.start { return a.start < b.start }
            return a.id < b.id
        }
        return Array(out.prefix(WAFTuningAggregation.campaignCount))
    }

    /// What `dominantFamily` reuses from one entry to the next: the rules seen and the count per
    /// family (indices of `CRSCategory.allCases`).
    struct FamilyScratch {
        var seen = DistinctRules()
        var counts = [Int](repeating: 0, count: CRSCategory.allCases.count)
    }

    /// The distinct rules of one entry: a short list looked through (most entries match a few
    /// rules), a set past 16.
    struct DistinctRules {
        private var list: [UInt32] = []
        private var set = Set<UInt32>()

        mutating func removeAll() {
            list.removeAll(keepingCapacity: true)
            if !set.isEmpty { set.removeAll(keepingCapacity: true) }
        }

        /// True when `rule` was not in yet.
        mutating func insert(_ rule: UInt32) -> Bool {
            if set.isEmpty {
                if list.contains(rule) { return false }
                list.append(rule)
                if list.count > 16 { set = Set(list) }
                return true
            }
            return set.insert(rule).inserted
        }
    }

    /// The attack family with the most distinct rules in the entry (ties: the first in
    /// `CRSCategory.allCases`), or nil when it has no attack match.
    static func dominantFamily(_ o: WAFLogScan.Outcome, _ r: AuditRecord, attackIndex: [Int16],
                               scratch: inout FamilyScratch) -> CRSCategory? {
        scratch.seen.removeAll()
        for k in scratch.counts.indices { scratch.counts[k] = 0 }
        var any = false
        for ref in WAFTuningAggregation.refs(o, r) where ref.rule != Interner.overflow && scratch.seen.insert(ref.rule) {
            let k = Int(ref.rule) < attackIndex.count ? Int(attackIndex[Int(ref.rule)]) : -1
            if k >= 0 {
                scratch.counts[k] += 1
                any = true
            }
        }
        guard any, let top = scratch.counts.max() else { return nil }
        return scratch.counts.firstIndex(of: top).map { CRSCategory.allCases[$0] }
    }

    /// `203.0.113.0/24` for an IPv4 address, `2001:db8:1:2::/64` for an IPv6 one, nil otherwise.
    static func network(_ address: String) -> String? {
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            let b = withUnsafeBytes(of: &v4) { Array($0) }
            return "\(b[0]).\(b[1]).\(b[2]).0/24"
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            let b = withUnsafeBytes(of: &v6) { Array($0) }
            let groups = stride(from: 0, to: 8, by: 2).map { String(UInt16(b[$0]) << 8 | UInt16(b[$0 + 1]), radix: 16) }
            return groups.joined(separator: ":") + "::/64"
        }
        return nil
    }

    static func campaign(_ o: WAFLogScan.Outcome, key: GroupKey, _ session: [Int], family: (UInt32) -> CRSCategory) -> WAFCampaign {
        let first = o.records[session[0]], last = o.records[session[session.count - 1]]
        var c = WAFCampaign(id: "", client: key.group, start: Date(timeIntervalSince1970: Double(first.time)),
                            end: Date(timeIntervalSince1970: Double(last.time)))
        c.family = key.family.rawValue
        // Counted by interned id (one id per distinct text), named once at the end; the URIs
        // (one a request, often all different) by sorting their ids.
        var ruleCounts: [UInt32: Int] = [:]
        var uriIDs: [UInt32] = [], clientIDs: [UInt32] = []
        uriIDs.reserveCapacity(session.count)
        clientIDs.reserveCapacity(session.count)
        var familyMask: UInt64 = 0
        var seen = DistinctRules()
        for k in session {
            let r = o.records[k]
            c.requests += 1
            clientIDs.append(r.client)
            if r.blocked { c.blocked += 1 }
            c.statuses.add(Int(r.status))
            var highSeverity = false
            seen.removeAll()
            for ref in WAFTuningAggregation.refs(o, r) where ref.rule != Interner.overflow && seen.insert(ref.rule) {
                let f = family(ref.rule)
                guard f != .anomaly else { continue }
                if f.isAttack { familyMask |= 1 << UInt64(CRSCategory.allCases.firstIndex(of: f) ?? 0) }
                if f == .rce || f == .sqli || f == .lfi { highSeverity = true }
                ruleCounts[ref.rule, default: 0] += 1
            }
            if highSeverity, (200..<300).contains(Int(r.status)) { c.successfulHighSeverity += 1 }
            uriIDs.append(r.uri)
        }
        var rules: [String: Int] = [:], uris: [String: Int] = [:]
        for (id, n) in ruleCounts { rules[o.rules.string(id) ?? "", default: 0] += n }
        // The URIs' counts, then only those that can be among the first three are named. A plain
        // URI (ASCII, not "(other)") is a name no other id shares, so one below the third largest
        // plain count cannot rank; the others (names Unicode may equate, the overflow's "(other)")
        // are all named and added up by name.
        uriIDs.sort()
        var runs: [(id: UInt32, count: Int, plain: Bool)] = []
        for id in uriIDs {
            if let last = runs.last, last.id == id {
                runs[runs.count - 1].count += 1
            } else {
                let plain = id != Interner.overflow && (o.uris.withBytes(id) { b in b.allSatisfy { $0 < 0x80 } && !b.elementsEqual("(other)".utf8) } ?? false)
                runs.append((id, 1, plain))
            }
        }
        let third = firstSorted(runs.lazy.filter(\.plain).map(\.count), count: 3, by: >)
        let bar = third.count == 3 ? third[2] : 0
        // Of the plain ones at the bar, the three first by name (ASCII: byte order is name order).
        func bytesLess(_ a: UInt32, _ b: UInt32) -> Bool {
            o.uris.withBytes(a) { x in o.uris.withBytes(b) { y in x.lexicographicallyPrecedes(y) } ?? false } ?? false
        }
        let atBar = firstSorted(runs.lazy.filter { $0.plain && $0.count == bar }, count: 3) { bytesLess($0.id, $1.id) }
        for run in runs.lazy.filter({ !$0.plain || $0.count > bar }) + atBar {
            uris[run.id == Interner.overflow ? "(other)" : (o.uris.string(run.id) ?? ""), default: 0] += run.count
        }
        func top(_ counts: [String: Int], _ n: Int) -> [RankedCount] {
            firstSorted(counts, count: n) { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { RankedCount(key: $0.key, count: $0.value) }
        }
        clientIDs.sort()
        c.addresses = clientIDs.indices.reduce(0) { $0 + ($1 == 0 || clientIDs[$1] != clientIDs[$1 - 1] ? 1 : 0) }
        c.families = CRSCategory.allCases.enumerated().filter { familyMask & (1 << UInt64($0.offset)) != 0 }.map(\.element.rawValue)
        c.topRules = top(rules, 5)
        c.topURIs = top(uris, 3)
        var digest = SHA256Digest()
        digest.update(Array("\(key.group)\u{0}\(key.family.rawValue)\u{0}\(first.time)\u{0}\(last.time)\u{0}\(c.requests)\u{0}\(c.addresses)\u{0}".utf8))
        for r in rules.keys.sorted() { digest.update(Array("\(r)=\(rules[r]!)\u{0}".utf8)) }
        c.id = "c-" + digest.finalize().prefix(12)
        return c
    }
}
