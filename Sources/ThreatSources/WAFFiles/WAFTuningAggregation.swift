import Foundation
import ThreatModel

/// The tuning input of one scanned window (docs/waf.md "Tuning candidates"), from the compact
/// records the scan keeps: per (rule, path prefix, target) the signals that tell a false positive
/// from an attack, the entries of attack-looking clients (so the analysis can check what an
/// exclusion would let through), and the campaigns. Bounded: at most `WAFTuningInput.rowCap` rows
/// and `campaignEntryCap` entries, each client set at `WAFTargetStats.clientCap`; what did not fit
/// is counted.
enum WAFTuningAggregation {
    /// A client looks like a campaign when it fired this many distinct attack rules in the window,
    /// this many attack requests, or this many attack families over this many requests; an entry
    /// does when it matched `campaignEntryRules` attack rules. (A person whose searches and comments trip a few rules of three
    /// families in three requests does not look like a campaign; a scanner does.)
    static let campaignFamilies = 3
    static let campaignFamilyRequests = 10
    static let campaignRules = 6
    static let campaignRequests = 20
    static let campaignEntryRules = 3
    /// Campaigns listed, and the smallest session of a client that does not look like one.
    static let campaignCount = 10
    static let campaignMinRequests = 5

    struct Key: Hashable {
        var rule: UInt32
        var path: Int
        var target: UInt32
    }

    /// Each client's shape, by client id (ids are dense).
    struct ClientShapes: Sendable {
        private var shapes: [ClientShape?]

        init(clients: Int) { shapes = [ClientShape?](repeating: nil, count: clients) }

        subscript(client: UInt32) -> ClientShape? {
            get { Int(client) < shapes.count ? shapes[Int(client)] : nil }
            set { if Int(client) < shapes.count { shapes[Int(client)] = newValue } }
        }

        /// Changes a client's shape where it is (a copy taken out and put back would copy its rule
        /// set on every change).
        mutating func update(_ client: UInt32, _ body: (inout ClientShape) -> Void) {
            guard Int(client) < shapes.count else { return }
            if shapes[Int(client)] == nil { shapes[Int(client)] = ClientShape() }
            body(&shapes[Int(client)]!)
        }
    }

    /// Per client: families (bits of `CRSCategory.allCases` indices) and distinct attack rules.
    struct ClientShape {
        var families: UInt16 = 0
        var rules: Set<UInt32> = []
        var attackRequests = 0
        var looksLikeCampaign: Bool {
            rules.count >= WAFTuningAggregation.campaignRules || attackRequests >= WAFTuningAggregation.campaignRequests
                || (families.nonzeroBitCount >= WAFTuningAggregation.campaignFamilies && attackRequests >= WAFTuningAggregation.campaignFamilyRequests)
        }
    }

    static func input(_ o: WAFLogScan.Outcome, window: ScanWindow, index: Int = 0) -> WAFTuningInput {
        var out = WAFTuningInput()
        // Each rule's family and family bit, by rule id (the overflow id has neither: no family).
        let categories = (0..<o.rules.count).map { CRSCategory(ruleID: o.rules.string(UInt32($0)) ?? "") }
        let none = CRSCategory(ruleID: "")
        @Sendable func family(_ rule: UInt32) -> CRSCategory { Int(rule) < categories.count ? categories[Int(rule)] : none }
        func bit(_ c: CRSCategory) -> UInt16 { 1 << UInt16(CRSCategory.allCases.firstIndex(of: c) ?? 0) }
        let familyBits = categories.map(bit)
        func ruleBit(_ rule: UInt32) -> UInt16 { Int(rule) < familyBits.count ? familyBits[Int(rule)] : bit(none) }
        let mine = o.records.indices.filter { o.records[$0].window == index && o.records[$0].belongsToEnvironment }

        // 1. Each client's shape over the window.
        var shapes = ClientShapes(clients: o.clients.count)
        for k in mine {
            let r = o.records[k]
            guard r.client != Interner.overflow else { continue }
            shapes.update(r.client) { s in
                var attack = false
                for ref in refs(o, r) where ref.rule != Interner.overflow && family(ref.rule).isAttack {
                    s.families |= ruleBit(ref.rule)
                    if s.rules.count < 64 { s.rules.insert(ref.rule) }
                    attack = true
                }
                if attack { s.attackRequests += 1 }
            }
        }

        // 2. The campaigns, on a thread of their own while this one makes the rows.
        let campaignThread = ParallelTask { [shapes, mine] in
            WAFCampaigns.build(o, records: mine, shapes: shapes, step: window.step, family: family)
        }

        // 3. The rows.
        var rowOf: [Key: Int] = [:]
        var clientSets: [Set<UInt32>] = []
        var campaignClientSets: [Set<UInt32>] = []
        var familyMasks: [UInt16] = []
        var rowKeys: [Key] = []
        // By URI id (ids are dense): its path prefix's number, -1 until first asked.
        var paths = [Int](repeating: -1, count: o.uris.count)
        var pathNames: [String] = [], pathOf: [String: Int] = [:]
        func pathIndex(_ uri: UInt32) -> Int {
            if Int(uri) < paths.count, paths[Int(uri)] >= 0 { return paths[Int(uri)] }
            let name = pathPrefix(o.uris, uri)
            let p = pathOf[name] ?? { pathNames.append(name); pathOf[name] = pathNames.count - 1; return pathNames.count - 1 }()
            if Int(uri) < paths.count { paths[Int(uri)] = p }
            return p
        }
        var campaign = WAFCampaignEntries()
        var entryRows: [Int32] = [], entryPoints: [UInt8] = []
        var lastRow = [Int?](repeating: nil, count: o.rules.count)
        for k in mine {
            let r = o.records[k]
            let shape = shapes[r.client] ?? ClientShape()
            // The matches that are no anomaly evaluation, and how many of them are attack rules.
            var attack = 0
            for ref in refs(o, r) where ref.rule != Interner.overflow && family(ref.rule).isAttack { attack += 1 }
            let suspect = shape.looksLikeCampaign || attack >= campaignEntryRules
            entryRows.removeAll(keepingCapacity: true)
            entryPoints.removeAll(keepingCapacity: true)
            let time = Date(timeIntervalSince1970: Double(r.time))
            for ref in refs(o, r) where ref.rule == Interner.overflow || family(ref.rule) != .anomaly {
                var row: Int32 = -1
                defer {
                    if suspect {
                        entryRows.append(row)
                        entryPoints.append(points(ref.severity))
                    }
                }
                if ref.rule == Interner.overflow || ref.target == Interner.overflow || r.uri == Interner.overflow {
                    out.overflowedMatches += 1
                    continue
                }
                if ref.target == RuleRef.noTarget {
                    out.untargetedMatches += 1
                    continue
                }
                let key = Key(rule: ref.rule, path: pathIndex(r.uri), target: ref.target)
                // The row this rule had last: most matches fall in it again.
                var i: Int? = nil
                if Int(ref.rule) < lastRow.count, let last = lastRow[Int(ref.rule)], rowKeys[last] == key { i = last } else { i = rowOf[key] }
                if i == nil {
                    guard out.rows.count < WAFTuningInput.rowCap else { out.droppedMatches += 1; continue }
                    i = out.rows.count
                    rowOf[key] = i
                    out.rows.append(WAFTargetStats(ruleID: o.rules.string(ref.rule) ?? "", path: pathNames[key.path],
                                                   target: o.targets.string(ref.target) ?? "", firstSeen: time, lastSeen: time))
                    clientSets.append([])
                    campaignClientSets.append([])
                    familyMasks.append(0)
                    rowKeys.append(key)
                }
                let n = i!
                if Int(ref.rule) < lastRow.count { lastRow[Int(ref.rule)] = n }
                row = Int32(n)
                out.rows[n].count += 1
                out.rows[n].statuses.add(Int(r.status))
                if r.score >= 0 {
                    out.rows[n].scoreTotal += Int(r.score)
                    out.rows[n].scoredEntries += 1
                }
                out.rows[n].attackMatches += attack
                out.rows[n].firstSeen = min(out.rows[n].firstSeen, time)
                out.rows[n].lastSeen = max(out.rows[n].lastSeen, time)
                if r.client != Interner.overflow {
                    if clientSets[n].count < WAFTargetStats.clientCap { clientSets[n].insert(r.client) } else if !clientSets[n].contains(r.client) {
                        out.rows[n].clientsCapped = true
                    }
                    familyMasks[n] |= shape.families & ~ruleBit(ref.rule)
                }
                if suspect {
                    out.rows[n].campaignEntries += 1
                    if campaignClientSets[n].count < WAFTargetStats.clientCap { campaignClientSets[n].insert(r.client) }
                }
            }
            if suspect {
                if campaign.count < WAFTuningInput.campaignEntryCap {
                    campaign.append(rows: entryRows, points: entryPoints)
                } else {
                    out.droppedCampaignEntries += 1
                }
            }
        }
        for n in out.rows.indices {
            out.rows[n].clients = clientSets[n].count
            out.rows[n].campaignClients = campaignClientSets[n].count
            out.rows[n].otherFamilies = CRSCategory.allCases.filter { familyMasks[n] & bit($0) != 0 }.map(\.rawValue)
            // The workers' earliest entries of this (rule, path, target), the environment's only.
            let k = rowKeys[n]
            let kept = o.examples[TuningExamples.Key(rule: k.rule, prefix: pathNames[k.path], target: k.target, window: UInt8(clamping: index))] ?? []
            out.rows[n].examples = kept.filter { o.records[Int($0.record)].belongsToEnvironment }.prefix(3).map { String(decoding: $0.uid, as: UTF8.self) }
        }

        // Rows in a stable order; the entries follow their rows.
        let order = out.rows.indices.sorted { a, b in
            let x = out.rows[a], y = out.rows[b]
            if x.count != y.count { return x.count > y.count }
            return (x.ruleID, x.path, x.target) < (y.ruleID, y.path, y.target)
        }
        var newIndex = [Int32](repeating: -1, count: out.rows.count)
        for (to, from) in order.enumerated() { newIndex[from] = Int32(to) }
        out.rows = order.map { out.rows[$0] }
        out.campaignEntries = campaign.renumbered(newIndex)
        var seen = Set<String>()
        for k in 0..<o.rules.count { if let s = o.rules.string(UInt32(k)), seen.insert(s).inserted { out.ruleIDsSeen.append(s) } }
        out.ruleIDsSeen.sort()
        out.campaigns = campaignThread.wait()
        return out
    }

    static func refs(_ o: WAFLogScan.Outcome, _ r: AuditRecord) -> ArraySlice<RuleRef> {
        o.ruleRefs[Int(r.rulesStart)..<(Int(r.rulesStart) + Int(r.rulesCount))]
    }

    /// CRS anomaly points by severity: CRITICAL (and worse) 5, ERROR 4, WARNING 3, NOTICE 2;
    /// unknown counts as CRITICAL (the safe side when checking what an exclusion lets through).
    static func points(_ severity: UInt8) -> UInt8 {
        switch severity {
        case 0...2: 5
        case 3: 4
        case 4: 3
        case 5: 2
        case 6, 7: 0
        default: 5
        }
    }

    /// `/products/42?x=1` → `/products/`: the path without query or fragment, up to its first
    /// segment that holds a digit (ids, dates), at most 128 bytes (cut after a `/`).
    static func pathPrefix(_ uri: String) -> String {
        var bytes = uri
        if let cut = bytes.withUTF8({ pathPrefixRange($0) }) {
            return cut.isEmpty ? "/" : bytes.withUTF8 { String(decoding: UnsafeBufferPointer(rebasing: $0[cut]), as: UTF8.self) }
        }
        return pathPrefixOfCharacters(uri)
    }

    /// `pathPrefix` of an interned URI, read from its bytes.
    static func pathPrefix(_ uris: Interner, _ id: UInt32) -> String {
        withPathPrefix(uris, id) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the bytes of `pathPrefix(uris, id)`: for an ASCII URI a range of its own
    /// bytes, no String made.
    static func withPathPrefix<R>(_ uris: Interner, _ id: UInt32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let fast: R?? = uris.withBytes(id) { p in
            pathPrefixRange(p).map { r in
                r.isEmpty ? slash.withUnsafeBufferPointer(body) : body(UnsafeBufferPointer(rebasing: p[r]))
            }
        }
        if let fast, let fast { return fast }
        var text = pathPrefix(uris.string(id) ?? "")
        return text.withUTF8(body)
    }

    private static let slash: [UInt8] = [0x2F]

    /// `pathPrefix` of an ASCII URI as a range of its bytes (empty for "/"); nil when the URI holds
    /// a byte past ASCII, which `pathPrefixOfCharacters` reads as Characters. The prefix is the
    /// path up to the `/` before its first segment with a digit (or past 128 bytes), without a
    /// second `/` after an empty segment, or the whole path.
    static func pathPrefixRange(_ p: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var end = p.count
        for (i, b) in p.enumerated() {
            if b >= 0x80 { return nil }
            if b == 0x3F || b == 0x23, end == p.count { end = i }
        }
        var start = 0
        func has(_ prefix: StaticString) -> Bool {
            let n = prefix.utf8CodeUnitCount
            return end >= n && memcmp(p.baseAddress!, prefix.utf8Start, n) == 0
        }
        if has("http://") || has("https://") {
            // An absolute-form target: the path after the authority.
            var i = 0
            while i < end, p[i] != 0x3A { i += 1 }
            i = min(i + 3, end)
            while i < end, p[i] != 0x2F { i += 1 }
            guard i < end else { return 0..<0 }
            start = i
        }
        guard start < end, p[start] == 0x2F else { return 0..<0 }
        var length = 1, segment = start + 1
        while true {
            var i = segment, digit = false
            while i < end, p[i] != 0x2F {
                if p[i] >= 0x30 && p[i] <= 0x39 { digit = true }
                i += 1
            }
            length += i - segment + 1
            if digit || length > 128 {
                // Cut before this segment; after an empty one the path already ends with `/`.
                return segment >= start + 2 && p[segment - 2] == 0x2F ? start..<(segment - 1) : start..<segment
            }
            if i >= end { return start..<end }
            segment = i + 1
        }
    }

    static func pathPrefixOfCharacters(_ uri: String) -> String {
        var path = Substring(uri)
        if let q = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<q] }
        if path.hasPrefix("http://") || path.hasPrefix("https://") {
            // An absolute-form target: the path after the authority.
            let rest = path.drop { $0 != ":" }.dropFirst(3)
            path = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        guard path.hasPrefix("/") else { return "/" }
        var kept: [Substring] = []
        var cut = false, length = 1
        for segment in path.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            length += segment.utf8.count + 1
            if segment.contains(where: \.isNumber) || length > 128 { cut = true; break }
            kept.append(segment)
        }
        var out = "/" + kept.joined(separator: "/")
        if cut, !out.hasSuffix("/") { out += "/" }
        return out
    }
}
