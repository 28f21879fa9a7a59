import Foundation
import ThreatModel

/// Attack campaigns (docs/waf.md "Campaigns"): a client's audit entries with an attack-family
/// match, split where two are more than one report interval apart. A session is listed when its
/// client looks like a campaign (several attack families or many distinct attack rules in the
/// window) or when it holds at least `campaignMinRequests` requests. Its id is a digest of its
/// client, start, end and rules, so the same data gives the same ids on every run.
enum WAFCampaigns {
    static func build(_ o: WAFLogScan.Outcome, records: [Int], shapes: [UInt32: WAFTuningAggregation.ClientShape], step: Int,
                      family: (UInt32) -> CRSCategory) -> [WAFCampaign] {
        var byClient: [UInt32: [Int]] = [:]
        for k in records {
            let r = o.records[k]
            guard r.client != Interner.overflow else { continue }
            let attacks = WAFTuningAggregation.refs(o, r).contains { $0.rule != Interner.overflow && family($0.rule).isAttack }
            if attacks { byClient[r.client, default: []].append(k) }
        }
        var out: [WAFCampaign] = []
        for (client, list) in byClient {
            let sorted = list.sorted { (o.records[$0].time, $0) < (o.records[$1].time, $1) }
            var session: [Int] = []
            func flush() {
                defer { session.removeAll() }
                guard !session.isEmpty else { return }
                let looks = shapes[client]?.looksLikeCampaign ?? false
                guard looks || session.count >= WAFTuningAggregation.campaignMinRequests else { return }
                out.append(campaign(o, client: client, session, family: family))
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

    static func campaign(_ o: WAFLogScan.Outcome, client: UInt32, _ session: [Int], family: (UInt32) -> CRSCategory) -> WAFCampaign {
        let first = o.records[session[0]], last = o.records[session[session.count - 1]]
        let name = o.clients.string(client) ?? ""
        var c = WAFCampaign(id: "", client: name, start: Date(timeIntervalSince1970: Double(first.time)),
                            end: Date(timeIntervalSince1970: Double(last.time)))
        var rules: [String: Int] = [:], uris: [String: Int] = [:]
        var families = Set<CRSCategory>()
        for k in session {
            let r = o.records[k]
            c.requests += 1
            if r.blocked { c.blocked += 1 }
            c.statuses.add(Int(r.status))
            var highSeverity = false
            var seen = Set<UInt32>()
            for ref in WAFTuningAggregation.refs(o, r) where ref.rule != Interner.overflow && seen.insert(ref.rule).inserted {
                let f = family(ref.rule)
                guard f != .anomaly else { continue }
                if f.isAttack { families.insert(f) }
                if [.rce, .sqli, .lfi].contains(f) { highSeverity = true }
                rules[o.rules.string(ref.rule) ?? "", default: 0] += 1
            }
            if highSeverity, (200..<300).contains(Int(r.status)) { c.successfulHighSeverity += 1 }
            uris[r.uri == Interner.overflow ? "(other)" : (o.uris.string(r.uri) ?? ""), default: 0] += 1
        }
        func top(_ counts: [String: Int], _ n: Int) -> [RankedCount] {
            counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(n).map { RankedCount(key: $0.key, count: $0.value) }
        }
        c.families = CRSCategory.allCases.filter { families.contains($0) }.map(\.rawValue)
        c.topRules = top(rules, 5)
        c.topURIs = top(uris, 3)
        var digest = SHA256Digest()
        digest.update(Array("\(name)\u{0}\(first.time)\u{0}\(last.time)\u{0}\(c.requests)\u{0}".utf8))
        for r in rules.keys.sorted() { digest.update(Array("\(r)=\(rules[r]!)\u{0}".utf8)) }
        c.id = "c-" + digest.finalize().prefix(12)
        return c
    }
}
