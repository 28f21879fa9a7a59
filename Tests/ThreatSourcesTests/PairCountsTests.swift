import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources
import TestSupport

/// The report's dropped and audited pairs are counted by slot (`PairCounts`), a scanned line's pair
/// found by its sides without building its key: the counts, ranking, `other` and warning must be
/// those of `BoundedCounts` on the same keys, caps reached or not, with keys that are equal as
/// strings but not as bytes (NFC and NFD, the Kelvin sign and K), keys cut at 1 KiB, and the pair
/// memory starting over. The drop reasons' keys are worked out once per distinct reason
/// (`DistinctFlows.Reason.canonical`) and must be those of `DropReason.canonical`.
@Suite("Pair table and drop-reason keys: the same results as the string tables")
struct PairCountsTests {
    /// Keys of generated pairs: plain, accented in NFC and NFD (equal as strings), with a Kelvin
    /// sign or a K (equal as strings), and longer than 1 KiB with a shared first KiB (one key once cut).
    static func key(_ i: Int) -> String {
        let long = String(repeating: "p", count: 1100)
        switch i % 6 {
        case 0: return "team-\(i % 37)/client-\(i % 11) → shop/web-\(i % 5):8080/TCP"
        case 1: return "caf\u{E9}-\(i % 13)/pod → shop/api-\(i % 7):443/TCP"
        case 2: return "cafe\u{301}-\(i % 13)/pod → shop/api-\(i % 7):443/TCP"
        case 3: return "\u{212A}-\(i / 6 % 9)/pod → shop/db:5432/TCP"
        case 4: return "K-\(i / 6 % 9)/pod → shop/db:5432/TCP"
        default: return "world → shop/\(long)-\(i % 17):80/UDP"
        }
    }

    /// Counts the same generated flows into both tables: a pair (its number standing for its sides)
    /// is always the same key; some flows come by their key alone, as the tree parser's do.
    static func run(cap: Int, byteCap: Int, pairCapacity: Int, seed: UInt64,
                    key: (Int) -> String = PairCountsTests.key) -> (BoundedCounts, PairCounts, built: Int) {
        var rng = SplitMix(state: seed)
        var bounded = BoundedCounts(cap: cap, byteCap: byteCap)
        var pairs = PairCounts(cap: cap, byteCap: byteCap, pairCapacity: pairCapacity)
        var built = 0
        for _ in 0..<20_000 {
            let p = Int(rng.next() % 3_000)
            let n = rng.next() % 5 == 0 ? Int(rng.next() % 40) + 1 : 1
            let k = key(p)
            bounded.add(k, n)
            if rng.next() % 10 == 0 {
                pairs.add(k, n)
            } else {
                let pair = PairCounts.Pair(source: p, destination: p % 7, port: p % 2 == 0 ? Int.min : 8080, l4: 1)
                pairs.add(pair, n) {
                    built += 1
                    return k
                }
            }
        }
        return (bounded, pairs, built)
    }

    static func same(_ b: BoundedCounts, _ p: PairCounts) {
        #expect(p.ranked(limit: .max) == b.ranked(limit: .max))
        #expect(p.ranked() == b.ranked())
        #expect(p.other == b.other && p.bytes == b.bytes && p.keys.count == b.counts.count)
        #expect(p.warning("dropped flows", with: "flow pairs") == b.warning("dropped flows", with: "flow pairs"))
        for (k, c) in b.counts { #expect(p.count(k) == c) }
    }

    @Test("Pair table, no cap reached: counts and ranking equal BoundedCounts; keys equal as strings share one count")
    func sameWithoutCaps() {
        let (b, p, _) = Self.run(cap: 100_000, byteCap: 8 << 20, pairCapacity: 32_768, seed: 1)
        Self.same(b, p)
        #expect(b.other == 0)
        // NFC and NFD spellings, and the Kelvin sign and K, were counted as one key each: fewer
        // keys are kept than byte-distinct keys were counted, one spelling of each.
        let counted = (0..<3_000).map(Self.key).filter { !$0.hasPrefix("team") && !$0.hasPrefix("world") }
        let spellings = Set(counted.map { Array($0.utf8) }).count
        let kept = p.keys.filter { !$0.hasPrefix("team") && !$0.hasPrefix("world") }
        #expect(Set(counted).count < spellings && kept.count <= Set(counted).count)
        #expect(Set(p.keys).count == p.keys.count)
        // Long keys were cut to 1 KiB: their 17 spellings are one key.
        #expect(p.keys.filter { $0.hasPrefix("world") }.count == 1)
        #expect(p.keys.allSatisfy { $0.utf8.count <= InputLimits.keyBytes })
    }

    @Test("Pair table, plain keys only (ASCII and arrows, found by their bytes): counts, ranking, other and warning equal BoundedCounts")
    func samePlainOnly() {
        for (cap, byteCap) in [(100_000, 8 << 20), (90, 8 << 20), (100_000, 5_000)] {
            let (b, p, _) = Self.run(cap: cap, byteCap: byteCap, pairCapacity: 32_768, seed: 5) { Self.key([0, 4, 5][$0 % 3] + 6 * ($0 / 3)) }
            Self.same(b, p)
            #expect(p.keys.allSatisfy(PairCounts.isPlain))
            #expect((b.other > 0) == (cap < 100_000 || byteCap < 8 << 20))
        }
    }

    @Test("Pair table, one key in two spellings: K and the Kelvin sign, NFC and NFD, in either order, share one count")
    func spellingsShareOneCount() {
        let spellings = [("K-1/pod → shop/db:5432/TCP", "\u{212A}-1/pod → shop/db:5432/TCP"),
                         ("caf\u{E9}/pod → shop/db:5432/TCP", "cafe\u{301}/pod → shop/db:5432/TCP")]
        for (a, b) in spellings {
            for (first, second) in [(a, b), (b, a)] {
                var p = PairCounts()
                p.add(PairCounts.Pair(source: 1, destination: 2, port: 5432, l4: 1), 3) { first }
                p.add(PairCounts.Pair(source: 3, destination: 2, port: 5432, l4: 1), 4) { second }
                p.add(PairCounts.Pair(source: 1, destination: 2, port: 5432, l4: 1), 1) { first }
                p.add(second, 2)
                #expect(p.keys == [first] && p.counts == [10] && p.other == 0)
            }
        }
        #expect(PairCounts.isPlain("K-1/pod → shop/db:5432/TCP") && !PairCounts.isPlain("\u{212A}-1/pod → shop/db:5432/TCP"))
        #expect(!PairCounts.isPlain("a → b\u{338}") && !PairCounts.isPlain("caf\u{E9}"))
    }

    @Test("Pair table, entry cap reached: the same keys ranked, the same other count and warning as BoundedCounts")
    func sameAtEntryCap() {
        let (b, p, _) = Self.run(cap: 150, byteCap: 8 << 20, pairCapacity: 32_768, seed: 2)
        Self.same(b, p)
        #expect(b.other > 0 && b.counts.count == 150)
    }

    @Test("Pair table, byte cap reached: the same keys ranked, the same other count and warning as BoundedCounts")
    func sameAtByteCap() {
        let (b, p, _) = Self.run(cap: 100_000, byteCap: 6_000, pairCapacity: 32_768, seed: 3)
        Self.same(b, p)
        #expect(b.other > 0 && b.bytes <= 6_000 && b.counts.count < 150)
    }

    @Test("Pair memory: a pair's key is built on its first flow only, and again after the memory starts over, with the same counts")
    func pairMemoryStartsOver() {
        let (_, _, built) = Self.run(cap: 100_000, byteCap: 8 << 20, pairCapacity: 32_768, seed: 4)
        // Every pair number is one pair; it is built at most once (3,000 numbers).
        #expect(built > 0 && built <= 3_000)
        let (b, p, rebuilt) = Self.run(cap: 120, byteCap: 8 << 20, pairCapacity: 64, seed: 4)
        #expect(rebuilt > 3_000)
        Self.same(b, p)
        #expect(b.other > 0)
    }

    @Test("Drop-reason keys: worked out once per distinct reason, equal to DropReason.canonical of the reason cut to 1 KiB")
    func dropReasonKeys() {
        let reasons: [String?] = [nil, "", "   ", "POLICY_DENIED", "Policy denied", " policy  denied ", "REASON_181", "ct: map insertion failed",
                                  "caf\u{E9} d\u{E9}nied", String(repeating: "x", count: 1023) + "\u{E9}tail", "\u{212A}elvin"]
        for r in reasons {
            let cached = DistinctFlows.Reason(flow: r, observed: r ?? "REASON_5")
            #expect(cached.canonical == DropReason.canonical(InputLimits.keyPrefix(r ?? "UNKNOWN")))
            #expect(cached.flow == r)
        }
        #expect(DistinctFlows.Reason(flow: "Policy denied", observed: nil).canonical == "POLICY_DENIED")
        #expect(DistinctFlows.Reason(flow: nil, observed: "REASON_133").canonical == "UNKNOWN")
        #expect(DistinctFlows.Reason(flow: "  ", observed: nil).canonical == "UNKNOWN")
    }

    static let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!,
                                   interval: .hour)

    /// Dropped and audited flows with reasons in several spellings (or none, or a code), pods named
    /// in NFC and NFD, with a Kelvin sign, without a pod or namespace, and without a port.
    static func lines(wrapped: Bool) -> [String] {
        let reasons = [#","drop_reason_desc":"POLICY_DENIED""#, #","drop_reason_desc":"Policy denied""#, "", #","drop_reason_desc":181"#,
                       #","drop_reason":133"#, #","drop_reason_desc":"  stale  \u00e9 entry ""#]
        let pods = ["caf\u{E9}-0", "cafe\u{301}-0", "\u{212A}-1", "K-1", "web-7d9f8c6b5-x2x7k"]
        return (0..<3_000).map { i in
            let verdict = ["DROPPED", "AUDIT", "FORWARDED"][i % 3]
            // Each peer namespace sees every spelling (its drops and audits land on the same pairs).
            let pod = pods[i / 120 % pods.count]
            let src = i % 11 == 0 ? #"{"identity":2,"labels":["reserved:world"]}"#
                : #"{"identity":\#(1000 + i % 40),"namespace":"team-\#(i % 40)","labels":["k8s:app=client"],"pod_name":"\#(pod)"}"#
            let dst = #"{"identity":48211,"namespace":"shop","labels":["k8s:app=web"],"pod_name":"web-\#(i % 3)"}"#
            let l4 = i % 13 == 0 ? #"{"ICMPv4":{"type":8}}"# : #"{"TCP":{"destination_port":\#(8080 + i % 4)}}"#
            let time = "2026-11-19T\(String(format: "%02d:%02d:00", i % 24, i % 60)).5Z"
            let flow = #"{"time":"\#(time)","verdict":"\#(verdict)","l4":\#(l4),"source":\#(src),"destination":\#(dst),"is_reply":false\#(reasons[i / 3 % reasons.count])}"#
            return wrapped ? #"{"flow":\#(flow),"node_name":"n1","time":"\#(time)"}"# : flow
        }
    }

    @Test("Report: dropped and audited pairs and drop reasons counted by slot and cached key equal the flow-by-flow path")
    func reportEqualsFlowByFlow() throws {
        let dir = NSTemporaryDirectory() + "pair-counts-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let wrapped = dir + "/wrapped.json", bare = dir + "/bare.json"
        try (Self.lines(wrapped: true).joined(separator: "\n") + "\n").write(toFile: wrapped, atomically: true, encoding: .utf8)
        try (Self.lines(wrapped: false).joined(separator: "\n") + "\n").write(toFile: bare, atomically: true, encoding: .utf8)
        let env = EnvironmentConfig(name: "shop", namespace: "shop", hosts: [], thresholds: .defaults)
        let context = SourceContext(window: Self.window, environment: env, redactor: SecretRedactor())
        let fast = try HubbleFlowSource(settings: HubbleSettings(flowLogs: [wrapped])).fetch(context)
        let each = try HubbleFlowSource(settings: HubbleSettings(flowLogs: [bare])).fetch(context)
        #expect(fast.value.counts.total == 3_000)
        #expect(fast.value == each.value)
        #expect(fast.warnings == each.warnings)
        let reasons = Set(fast.value.topDropReasons.map(\.key))
        #expect(reasons.isSuperset(of: ["POLICY_DENIED", "REASON_181", "UNKNOWN", "STALE_ENTRY"]))
        // The NFC and NFD pods, and the Kelvin sign and K, were one pair each on both paths.
        let pairs = fast.value.topDroppedPairs.map(\.key)
        #expect(Set(pairs).count == pairs.count)
        #expect(fast.value.topDroppedPairs.count == 10 && fast.value.topAuditPairs.count == 10)
    }
}
