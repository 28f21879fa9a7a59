import Foundation
import ThreatConfig
import ThreatModel

/// Flow statistics from files written by `hubble observe -o json` (plain or `.gz`, streamed): the
/// same counts, rate series and drop detail as the Prometheus source, for users who export flow
/// logs. Hubble's ring buffer holds minutes, so nightly windows need exported logs.
public struct HubbleFlowSource: FlowSource {
    public var settings: HubbleSettings
    /// How many malformed-line locations a warning lists.
    public static let reportedSkips = 5

    public init(settings: HubbleSettings) { self.settings = settings }

    /// One flow as the statistics need it.
    public struct Flow: Equatable, Sendable {
        public var time: Date
        public var verdict: String
        public var sourceNamespace: String?
        public var destinationNamespace: String?
        public var sourcePod: String?
        public var destinationPod: String?
        public var destinationPort: Int?
        public var proto: String?
        public var dropReason: String?
    }

    /// Parses one line: `{"flow": {...}, "node_name": ..., "time": ...}` (hubble ≥ 0.8) or the bare
    /// flow object (older). Nil for anything else.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Flow? {
        guard let json = try? JSONValue.parse(bytes: Array(bytes), maxDepth: InputLimits.jsonDepth) else { return nil }
        let flow = json["flow"] ?? json
        guard let verdict = flow["verdict"]?.stringValue ?? flow["verdict"]?.intValue.map(verdictName),
              let timeText = flow["time"]?.stringValue ?? json["time"]?.stringValue,
              let time = RFC3339.parse(timeText) else { return nil }
        func ns(_ side: String) -> String? { flow.at("\(side).namespace")?.stringValue.flatMap { $0.isEmpty ? nil : $0 } }
        var port: Int?, proto: String?
        for p in ["TCP", "UDP", "SCTP"] {
            if let l4 = flow.at("l4.\(p)") {
                proto = p
                port = l4["destination_port"]?.intValue
            }
        }
        if flow.at("l4.ICMPv4") != nil || flow.at("l4.ICMPv6") != nil { proto = "ICMP" }
        let reason = flow["drop_reason_desc"]?.stringValue ?? flow["drop_reason_desc"]?.intValue.map { "REASON_\($0)" }
        return Flow(time: time, verdict: verdict, sourceNamespace: ns("source"), destinationNamespace: ns("destination"),
                    sourcePod: flow.at("source.pod_name")?.stringValue, destinationPod: flow.at("destination.pod_name")?.stringValue,
                    destinationPort: port, proto: proto, dropReason: reason)
    }

    static func verdictName(_ v: Int) -> String {
        ["VERDICT_UNKNOWN", "FORWARDED", "DROPPED", "ERROR", "AUDIT", "REDIRECTED", "TRACED", "TRANSLATED"][safe: v] ?? "VERDICT_\(v)"
    }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<FlowStatistics> {
        let files = try FileGlob.expand(settings.flowLogs)
        let ns = context.environment.namespace
        let w = context.window
        let step = Double(w.interval.seconds)
        let buckets = w.bucketStarts
        let origin = buckets.first?.timeIntervalSince1970 ?? w.from.timeIntervalSince1970
        var fwdBuckets = [Int](repeating: 0, count: buckets.count), dropBuckets = fwdBuckets
        var all = FlowCounts(forwarded: 0, dropped: 0), inbound = all, outbound = all
        var reasons: [String: Int] = [:], tuples: [String: Int] = [:]
        var skipped = 0, tooLong = 0
        var skipPlaces: [String] = [], longPlaces: [String] = []
        var evidence: [EvidenceItem] = []
        var cover = InputCoverage(name: "flow log", unit: "lines", files: files.count, bytes: 0, read: 0, parsed: 0,
                                  inWindow: 0, attributed: 0)
        for path in files {
            var digest = SHA256Digest()
            if let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int { cover.bytes! += size }
            try LineReader(path: path).forEachLine { lineNo, line in
                if case .tooLong = line {
                    tooLong += 1
                    cover.read += 1
                    cover.skip("longer than \(InputLimits.describe(bytes: InputLimits.lineBytes))", place: "\(path):\(lineNo)")
                    if longPlaces.count < HubbleFlowSource.reportedSkips { longPlaces.append("\(path):\(lineNo)") }
                    return
                }
                guard case let .bytes(b) = line, let f = HubbleFlowSource.parse(b) else {
                    if case let .bytes(b) = line, b.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
                    skipped += 1
                    cover.read += 1
                    if case let .bytes(b) = line {
                        cover.skip("not hubble flow JSON", place: "\(path):\(lineNo)", value: SkipExample.cut(bytes: b))
                    }
                    if skipPlaces.count < HubbleFlowSource.reportedSkips { skipPlaces.append("\(path):\(lineNo)") }
                    return
                }
                cover.read += 1
                cover.parsed += 1
                if cover.firstTime.map({ f.time < $0 }) ?? true { cover.firstTime = f.time }
                if cover.lastTime.map({ f.time > $0 }) ?? true { cover.lastTime = f.time }
                if case let .bytes(b) = line { digest.update(b) }
                guard f.time >= w.from, f.time < w.to else { return }
                cover.inWindow! += 1
                let isIn = f.destinationNamespace == ns, isOut = f.sourceNamespace == ns
                guard isIn || isOut else {
                    cover.otherEnvironment += 1
                    return
                }
                cover.attributed! += 1
                let dropped: Bool
                switch f.verdict {
                case "FORWARDED": dropped = false
                case "DROPPED": dropped = true
                default: return  // GitLab's total is FORWARDED + DROPPED
                }
                func add(_ c: inout FlowCounts) { if dropped { c.dropped += 1 } else { c.forwarded += 1 } }
                add(&all)
                if isIn { add(&inbound) }
                if isOut { add(&outbound) }
                let i = Int((f.time.timeIntervalSince1970 - origin) / step)
                if i >= 0, i < buckets.count { if dropped { dropBuckets[i] += 1 } else { fwdBuckets[i] += 1 } }
                if dropped {
                    reasons[DropReason.canonical(f.dropReason ?? "UNKNOWN"), default: 0] += 1
                    let src = [f.sourceNamespace ?? "world", f.sourcePod].compactMap { $0 }.joined(separator: "/")
                    let dst = [f.destinationNamespace ?? "world", f.destinationPod].compactMap { $0 }.joined(separator: "/")
                    let port = f.destinationPort.map { ":\($0)" } ?? ""
                    tuples["\(src) → \(dst)\(port)/\(f.proto ?? "?")", default: 0] += 1
                }
            }
            evidence.append(EvidenceItem(section: "flows", source: path, sha256: digest.finalize()))
        }
        let stats = FlowStatistics(
            counts: all, inbound: inbound, outbound: outbound,
            forwardedRate: zip(buckets, fwdBuckets).map { SeriesPoint($0, Double($1) / step) },
            droppedRate: zip(buckets, dropBuckets).map { SeriesPoint($0, Double($1) / step) },
            topDropReasons: FlowStatisticsBuilder.rank(reasons.map { RankedCount(key: $0.key, count: $0.value) }),
            topDroppedPairs: FlowStatisticsBuilder.rank(tuples.map { RankedCount(key: $0.key, count: $0.value) }))
        var warnings: [String] = []
        if skipped > 0 {
            warnings.append("skipped \(skipped) line(s) that are not hubble flow JSON, first at \(skipPlaces.joined(separator: ", "))")
        }
        if tooLong > 0 {
            warnings.append("skipped \(tooLong) line(s) longer than \(InputLimits.describe(bytes: InputLimits.lineBytes)), first at \(longPlaces.joined(separator: ", "))")
        }
        return SourceOutput(value: stats, evidence: evidence, warnings: warnings,
                            coverage: SourceCoverage(source: "hubble", inputs: [cover]))
    }
}

extension Array {
    subscript(safe i: Int) -> Element? { indices.contains(i) ? self[i] : nil }
}
