import Foundation
import ThreatConfig
import ThreatModel
import ThreatPolicy

/// Flow statistics from files written by `hubble observe -o json` (plain or `.gz`, streamed): the
/// same counts, rate series and drop detail as the Prometheus source, for users who export flow
/// logs. Hubble's ring buffer holds minutes, so nightly windows need exported logs. docs/flows.md
/// lists the verdicts, directions and what the evidence digest covers.
public struct HubbleFlowSource: FlowSource {
    public var settings: HubbleSettings
    /// How many malformed-line locations a warning lists.
    public static let reportedSkips = 5
    /// The entries of the distinct-connection table (`DistinctFlows`).
    var distinctCapacity = DistinctFlows.defaultCapacity

    public init(settings: HubbleSettings) { self.settings = settings }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<FlowStatistics> {
        let files = try FileGlob.expand(settings.flowLogs)
        var tally = Tally(namespace: context.environment.namespace, window: context.window)
        // Read line by line without touching `tally` (reading a captured struct copies it whole).
        let namespace = tally.namespace, window = tally.window
        // The same least-privilege suggestions as `policy suggest`, from the flows counted here.
        var suggester = PolicySuggester(namespace: context.environment.namespace, kind: .cilium,
                                        from: context.window.from, to: context.window.to)
        var skipped = 0, tooLong = 0
        var skipPlaces: [String] = [], longPlaces: [String] = []
        var evidence: [EvidenceItem] = []
        var decoder = HubbleLineDecoder()
        var distinct = DistinctFlows(capacity: distinctCapacity)
        /// The distinct connections so far, into the tables and the suggestions (each counted flow
        /// is inside the window, the suggestions' own window too).
        func flush() {
            distinct.forEachEntry { d, e in
                let (flow, sides) = d.flow(e)
                tally.countKeyed(flow, sides: sides, n: e.count, reason: d.canonicalReason(e))
                if case let .flow(o) = d.observed(e) {
                    suggester.add(o, selectors: (sides.0.selector, sides.1.selector), count: e.count, first: e.first, last: e.last,
                                  outsideWindow: false)
                }
            }
            distinct.startOver()
        }
        var cover = InputCoverage(name: "flow log", unit: "lines", files: files.count, bytes: 0, read: 0, parsed: 0,
                                  inWindow: 0, attributed: 0)
        for path in files {
            // The digest covers the file's bytes as stored (compressed for .gz), whatever the lines
            // hold: it equals `sha256sum`, and an unreadable file still gets its own digest.
            var digest = SHA256Digest()
            if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int { cover.bytes! += size }
            try LineReader(path: path, deadline: context.deadline).forEachLine(onRead: { digest.update($0) }) { lineNo, line in
                switch line {
                case .tooLong:
                    tooLong += 1
                    cover.read += 1
                    cover.skip("longer than \(InputLimits.describe(bytes: InputLimits.lineBytes))", place: "\(path):\(lineNo)")
                    if longPlaces.count < HubbleFlowSource.reportedSkips { longPlaces.append("\(path):\(lineNo)") }
                case let .bytes(b):
                    // The scanner reads the usual lines, and decodes the rest of a flow only when it is
                    // counted; the tree parser reads the others, with the same result.
                    var outcome: Tally.Outcome?
                    if decoder.scan(b) {
                        if let (verdict, time) = decoder.head() {
                            outcome = Tally.classify(time: time, window: window, inbound: decoder.sideNamespace(1, is: namespace),
                                                     outbound: decoder.sideNamespace(0, is: namespace))
                            cover.seen(time)
                            if outcome == .counted {
                                // Counted per distinct connection (`DistinctFlows`); the rate
                                // buckets and the pod pairs of drops per flow.
                                if distinct.isFull { flush() }
                                let key = decoder.distinctKey(verdict: verdict, into: &distinct, use: .report)
                                tally.countEach(verdict: verdict, time: time) { $0.add(decoder.pair()) { decoder.pairKey() } }
                                distinct.count(key, time: time)
                            }
                        }
                    } else if let json = try? JSONValue.parse(bytes: Array(b), maxDepth: InputLimits.jsonDepth),
                              let f = HubbleFlowSource.parse(json: json) {
                        // Flow by flow, after the distinct connections before it (the capped
                        // tables see every flow in file order).
                        flush()
                        outcome = tally.add(f)
                        cover.seen(f.time)
                        if outcome == .counted, case let .flow(o) = HubbleConnectionReader.parseDetailed(json: json) { suggester.add(o) }
                    }
                    if let outcome {
                        cover.read += 1
                        cover.parsed += 1
                        switch outcome {
                        case .outsideWindow: break
                        case .otherNamespace:
                            cover.inWindow! += 1
                            cover.otherEnvironment += 1
                        case .counted:
                            cover.inWindow! += 1
                            cover.attributed! += 1
                        }
                    } else if !b.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) {
                        skipped += 1
                        cover.read += 1
                        cover.skip("not hubble flow JSON", place: "\(path):\(lineNo)", value: SkipExample.cut(bytes: b))
                        if skipPlaces.count < HubbleFlowSource.reportedSkips { skipPlaces.append("\(path):\(lineNo)") }
                    }
                }
            }
            evidence.append(EvidenceItem(section: "flows", source: path, sha256: digest.finalize()))
        }
        flush()
        var warnings: [String] = []
        if skipped > 0 {
            warnings.append("skipped \(skipped) line(s) that are not hubble flow JSON, first at \(skipPlaces.joined(separator: ", "))")
        }
        if tooLong > 0 {
            warnings.append("skipped \(tooLong) line(s) longer than \(InputLimits.describe(bytes: InputLimits.lineBytes)), first at \(longPlaces.joined(separator: ", "))")
        }
        var statistics = tally.statistics()
        statistics.suggestions = suggester.report(files: files.count)
        return SourceOutput(value: statistics, evidence: evidence, warnings: tally.capWarnings() + warnings,
                            coverage: SourceCoverage(source: "hubble", inputs: [cover], notes: [tally.map.note()]))
    }

    /// The running counts of one environment's flows in the window.
    struct Tally {
        let namespace: String
        let window: TimeWindow
        let step: Double
        let buckets: [Date]
        let origin: Double
        var fwdBuckets: [Int], dropBuckets: [Int]
        var all = FlowCounts(forwarded: 0, dropped: 0), inbound = FlowCounts(forwarded: 0, dropped: 0)
        var outbound = FlowCounts(forwarded: 0, dropped: 0)
        // Every table is capped in entries and bytes, so unique pod or policy names cannot grow it
        // without bound; occurrences beyond a cap are counted as other and flagged (`capWarnings`).
        var reasons = BoundedCounts(cap: 10_000, byteCap: 1 << 20), tuples = PairCounts(cap: 100_000, byteCap: 8 << 20)
        var auditPairs = PairCounts(cap: 100_000, byteCap: 8 << 20)
        var denying = BoundedCounts(cap: 10_000, byteCap: 1 << 20), auditDenying = BoundedCounts(cap: 10_000, byteCap: 1 << 20)
        /// The kind of each policy key kept in `denying` or `auditDenying`.
        var policyKinds: [String: String] = [:]
        var unattributed = 0
        /// Who talks to whom (docs/flows.md, "Traffic map"), capped like the tables above.
        var map: TrafficMapBuilder
        var workloads: WorkloadTally

        init(namespace: String, window: TimeWindow) {
            workloads = WorkloadTally(namespace: namespace)
            self.namespace = namespace
            map = TrafficMapBuilder(namespace: namespace)
            self.window = window
            step = Double(window.interval.seconds)
            buckets = window.bucketStarts
            origin = buckets.first?.timeIntervalSince1970 ?? window.from.timeIntervalSince1970
            fwdBuckets = [Int](repeating: 0, count: buckets.count)
            dropBuckets = fwdBuckets
        }

        /// Counts a flow of this environment in the window: inbound when its destination namespace
        /// is the environment's, outbound when its source is (an intra-namespace flow is both, and
        /// counts once in the total).
        /// What became of a parsed flow, for the coverage line.
        enum Outcome { case outsideWindow, otherNamespace, counted }

        @discardableResult
        mutating func add(_ f: Flow) -> Outcome {
            let outcome = classify(time: f.time, inbound: f.destinationNamespace == namespace, outbound: f.sourceNamespace == namespace)
            if outcome == .counted { count(f) }
            return outcome
        }

        /// Whether a flow at `time`, into and out of the environment's namespace or not, is counted.
        func classify(time: Date, inbound: Bool, outbound: Bool) -> Outcome {
            Tally.classify(time: time, window: window, inbound: inbound, outbound: outbound)
        }

        static func classify(time: Date, window: TimeWindow, inbound: Bool, outbound: Bool) -> Outcome {
            guard time >= window.from, time < window.to else { return .outsideWindow }
            return inbound || outbound ? .counted : .otherNamespace
        }

        /// Counts a flow that `classify` accepted (with its sides' workload keys when known).
        mutating func count(_ f: Flow, sides: (HubbleLineDecoder.SideInfo, HubbleLineDecoder.SideInfo)? = nil) {
            countEach(verdict: f.verdict, time: f.time) { $0.add(HubbleFlowSource.pairKey(f)) }
            countKeyed(f, sides: sides, n: 1, reason: nil)
        }

        /// What depends on each flow's time and pods: the rate buckets, and the pairs of dropped
        /// and audited flows (`pair` counts the flow's pair in the table it is given).
        mutating func countEach(verdict: String, time: Date, pair: (inout PairCounts) -> Void) {
            let i = Int((time.timeIntervalSince1970 - origin) / step)
            let inRange = i >= 0 && i < buckets.count
            switch verdict {
            case "FORWARDED":
                if inRange { fwdBuckets[i] += 1 }
            case "DROPPED":
                if inRange { dropBuckets[i] += 1 }
                pair(&tuples)
            case "AUDIT":
                pair(&auditPairs)
            default:
                break
            }
        }

        /// The rest, for `n` flows alike but for their time and pods (`DistinctFlows`); `reason` is
        /// the flow's drop-reason key when known (`DistinctFlows.Reason.canonical`).
        mutating func countKeyed(_ f: Flow, sides: (HubbleLineDecoder.SideInfo, HubbleLineDecoder.SideInfo)?, n: Int, reason: String?) {
            let isIn = f.destinationNamespace == namespace, isOut = f.sourceNamespace == namespace
            all.add(verdict: f.verdict, n)
            if isIn { inbound.add(verdict: f.verdict, n) }
            if isOut { outbound.add(verdict: f.verdict, n) }
            if let (s, d) = sides {
                map.add(from: mapNode(s), to: mapNode(d), verdict: f.verdict, isReply: f.isReply, n: n)
            } else {
                map.add(from: map.node(f.source), to: map.node(f.destination), verdict: f.verdict, isReply: f.isReply, n: n)
            }
            workloads.add(f, source: sides?.0.tally, destination: sides?.1.tally, n: n)
            switch f.verdict {
            case "DROPPED":
                reasons.add(reason ?? DistinctFlows.Reason.canonical(f.dropReason), n)
                if f.deniedBy.isEmpty { unattributed += n }
                Tally.countPolicies(f, into: &denying, kinds: &policyKinds, n: n)
            case "AUDIT":
                Tally.countPolicies(f, into: &auditDenying, kinds: &policyKinds, n: n)
            default:
                break
            }
        }

        /// A side's map node, worked out once per distinct side.
        func mapNode(_ side: HubbleLineDecoder.SideInfo) -> TrafficMap.Node {
            if let (ns, node) = side.mapNode, ns == namespace { return node }
            let node = map.node(side.endpoint)
            side.mapNode = (namespace, node)
            return node
        }

        /// Counts a flow once for each policy it names (a policy named in both directions once).
        static func countPolicies(_ f: Flow, into table: inout BoundedCounts, kinds: inout [String: String], n: Int) {
            var seen = Set<String>()
            for p in f.deniedBy where seen.insert(p.key).inserted {
                table.add(p.key, n)
                let key = InputLimits.keyPrefix(p.key)
                if table.counts[key] != nil, kinds[key] == nil { kinds[key] = InputLimits.keyPrefix(p.kind) }
            }
        }

        func ranked(_ table: BoundedCounts) -> [RankedCount] {
            table.ranked().map { r in
                var r = r
                if let kind = policyKinds[r.key], !kind.isEmpty { r.label = kind }
                return r
            }
        }

        /// One warning per table that reached its cap.
        func capWarnings() -> [String] {
            [reasons.warning("dropped flows", with: "drop reasons"), tuples.warning("dropped flows", with: "flow pairs"),
             auditPairs.warning("audit flows", with: "flow pairs"), denying.warning("dropped flows", with: "denying policies"),
             auditDenying.warning("audit flows", with: "policies"), map.warning(), workloads.warning].compactMap { $0 }
        }

        func statistics() -> FlowStatistics {
            var s = FlowStatistics(
                counts: all, inbound: inbound, outbound: outbound,
                forwardedRate: zip(buckets, fwdBuckets).map { SeriesPoint($0, Double($1) / step) },
                droppedRate: zip(buckets, dropBuckets).map { SeriesPoint($0, Double($1) / step) },
                topDropReasons: reasons.ranked(), topDroppedPairs: tuples.ranked())
            s.topDenyingPolicies = ranked(denying)
            s.topAuditPolicies = ranked(auditDenying)
            s.unattributedDrops = unattributed
            s.topAuditPairs = auditPairs.ranked()
            s.map = map.map()
            s.workloads = workloads.workloads
            return s
        }
    }
}

extension InputCoverage {
    /// Widens the first and last times seen to include `time`.
    mutating func seen(_ time: Date) {
        if firstTime.map({ time < $0 }) ?? true { firstTime = time }
        if lastTime.map({ time > $0 }) ?? true { lastTime = time }
    }
}
