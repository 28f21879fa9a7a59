import Foundation
import ThreatModel
import ThreatPolicy

/// Reads `hubble observe -o json` lines through `HubbleFlowScanner`, and decodes a flow's fields
/// only as far as they are asked for: the time, verdict and namespaces of every line, the rest
/// only for flows an environment counts. A flow's two sides repeat from line to line (the same
/// pods talk again and again), so each distinct side object is decoded once, by the tree parser
/// and the same functions as the slow path, and kept in a bounded cache by its bytes.
struct HubbleLineDecoder {
    typealias Flow = HubbleFlowSource.Flow

    /// Everything read from one side object (a class: a flow takes it without copying its fields).
    final class SideInfo {
        var endpoint = HubbleFlowSource.Endpoint()
        var namespace: String?
        var labels: [String] = []
        var pod: String?
        var workload: String?
        /// The policy commands' view, without the address and DNS names (set per flow).
        var policy = PolicyEndpoint()
        var podText: String?
        var workloadText: String?
        /// The coverage table's labels and key for this side.
        var tally = WorkloadTally.Prepared(workload: nil, pod: nil, labels: [])
        /// The suggestions' selector of this side (`WorkloadIdentity.labels` of its labels) and its key.
        var selector: (pairs: [LabelPair], key: String) = ([], "")
        /// The traffic-map node of this side, for the map's namespace.
        var mapNode: (namespace: String, node: TrafficMap.Node)?
        /// Every value above that the report, the suggestions and the simulation read, the pod
        /// instance aside (its derived workload names are in): sides with the same key count as one
        /// class in `DistinctFlows`.
        var classKey = ""
        /// The class id in `DistinctFlows` and the generation it belongs to.
        var classRef: (generation: Int, id: Int32) = (0, 0)
        /// This side's number, unique within a decoder (0: the absent side): it names the side in
        /// `PairCounts.Pair` for as long as the decoder lives, even once the cache has let it go.
        var serial = 0
    }

    /// Distinct side objects kept, and their bytes; when either is reached the cache starts over.
    /// (A cache smaller than the pods that take turns in the flows misses on every line: 4,096
    /// sides against the map benchmark's 5,000 peers cost 7× the ingest.)
    static let cacheEntries = 16_384
    static let cacheBytes = 8 << 20

    private(set) var scanner = HubbleFlowScanner()
    /// The cached sides: their place by the keyed hash of their bytes (`KeyedIndex`: no second
    /// hash per lookup, two per line), their bytes and their objects.
    private var cacheIndex = KeyedIndex()
    private var cachedSides: [(bytes: [UInt8], info: SideInfo)] = []
    private var cachedBytes = 0
    private let hashKey = HashKey.random()
    private let absent: SideInfo
    /// The serial of the next side decoded.
    private var nextSerial = 1

    init() {
        absent = HubbleLineDecoder.decodeSide(nil)
    }

    /// The line's two sides once looked up (a flow and its connection read them both).
    private var lineSides: [SideInfo?] = [nil, nil]

    /// Scans a line; false when it must be read by the tree parser (`JSONValue`).
    mutating func scan(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        lineSides[0] = nil
        lineSides[1] = nil
        return scanner.scan(line)
    }

    // MARK: Scalars, as `JSONValue` reads them

    func bytes(_ s: HubbleFlowScanner.Slot) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: scanner.p + s.start, count: s.end - s.start)
    }

    func string(_ s: HubbleFlowScanner.Slot) -> String? {
        s.kind == .string ? String(decoding: bytes(s), as: UTF8.self) : nil
    }

    /// `JSONValue.intValue`: a number (the scanner keeps only plain integers of ≤ 15 digits), or a
    /// string that reads as a non-negative `Int`.
    func int(_ s: HubbleFlowScanner.Slot) -> Int? {
        switch s.kind {
        case .number:
            var v = 0
            for c in bytes(s) { v = v * 10 + Int(c - 0x30) }
            return v
        case .string:
            return Int(String(decoding: bytes(s), as: UTF8.self)).flatMap { $0 >= 0 && $0 < 9_000_000_000_000_000 ? $0 : nil }
        default: return nil
        }
    }

    func bool(_ s: HubbleFlowScanner.Slot) -> Bool? {
        switch s.kind {
        case .trueValue: return true
        case .falseValue: return false
        default: return nil
        }
    }

    /// `HubbleConnectionReader.text`: a non-empty string of at most 1024 bytes.
    func text(_ s: HubbleFlowScanner.Slot) -> String? {
        guard s.kind == .string, s.end > s.start else { return nil }
        let t = String(decoding: bytes(s), as: UTF8.self)
        return t.utf8.count <= 1024 ? t : nil
    }

    // MARK: Every line

    /// The verdict and time (nil: not a flow, as `HubbleFlowSource.parse` says).
    mutating func head() -> (verdict: String, time: Date)? {
        let v = scanner[.verdict]
        guard let verdict = string(v) ?? int(v).map(HubbleFlowSource.verdictName) else { return nil }
        let t = scanner[.time].kind == .string ? scanner[.time] : scanner[.rootTime]
        guard t.kind == .string, let time = RFC3339.parse(bytes: bytes(t)) else { return nil }
        return (verdict, time)
    }

    /// Whether side `s` (0 source, 1 destination) has `namespace` as its non-empty `namespace`.
    mutating func sideNamespace(_ s: Int, is namespace: String) -> Bool {
        let slot = scanner.sides[s].namespace
        guard slot.kind == .string, slot.end > slot.start else { return false }
        let b = bytes(slot)
        // ASCII bytes compare as the strings do; other text compares as Swift strings (canonical equivalence).
        if b.allSatisfy({ $0 < 0x80 }), namespace.utf8.allSatisfy({ $0 < 0x80 }) {
            var ns = namespace
            return ns.withUTF8 { $0.count == b.count && memcmp($0.baseAddress!, b.baseAddress!, b.count) == 0 }
        }
        return String(decoding: b, as: UTF8.self) == namespace
    }

    // MARK: Sides

    mutating func side(_ s: Int) -> SideInfo {
        if let known = lineSides[s] { return known }
        let info = lookUp(s)
        lineSides[s] = info
        return info
    }

    private mutating func lookUp(_ s: Int) -> SideInfo {
        guard scanner.sides[s].present else { return absent }
        let raw = UnsafeBufferPointer(start: scanner.p + scanner.sides[s].start, count: scanner.sides[s].end - scanner.sides[s].start)
        let h = wideByteHash(raw, key: hashKey) | 1  // never 0, as `KeyedIndex` asks
        let at = cacheIndex[h]
        if let at, cachedSides[at].bytes.count == raw.count,
           cachedSides[at].bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, raw.baseAddress!, raw.count) == 0 }) {
            return cachedSides[at].info
        }
        let info = HubbleLineDecoder.decodeSide(try? JSONValue.parse(bytes: Array(raw), maxDepth: InputLimits.jsonDepth))
        info.serial = nextSerial
        nextSerial += 1
        if at == nil {
            if cachedSides.count >= Self.cacheEntries || cachedBytes + raw.count > Self.cacheBytes {
                cacheIndex.removeAll()
                cachedSides.removeAll(keepingCapacity: true)
                cachedBytes = 0
            }
            cacheIndex.set(h, cachedSides.count)
            cachedSides.append((Array(raw), info))
            cachedBytes += raw.count
        }
        return info
    }

    /// A side object read by the slow path's own functions.
    static func decodeSide(_ json: JSONValue?) -> SideInfo {
        let i = SideInfo()
        i.endpoint = HubbleFlowSource.endpoint(json)
        i.namespace = json?["namespace"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        i.labels = json?["labels"]?.arrayValue?.compactMap(\.stringValue) ?? []
        i.pod = json?["pod_name"]?.stringValue
        i.workload = json?["workloads"]?.arrayValue?.first?["name"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        i.policy = HubbleConnectionReader.endpoint(json, ip: nil, names: [])
        i.podText = HubbleConnectionReader.text(json?["pod_name"])
        i.workloadText = HubbleConnectionReader.text(json?["workloads"]?.arrayValue?.first?["name"])
        i.tally = WorkloadTally.Prepared(workload: i.workload, pod: i.pod, labels: i.labels)
        i.selector = PolicySuggester.selector(for: i.policy.labels)
        i.classKey = classKey(i)
        return i
    }

    // MARK: Whole flows

    /// The destination port of the last TCP, UDP or SCTP layer present.
    func port() -> Int? {
        let ports: [HubbleFlowScanner.Field] = [.portTCP, .portUDP, .portSCTP]
        var port: Int?
        for k in 0..<3 where scanner.l4 & (1 << k) != 0 { port = int(scanner[ports[k]]) }
        return port
    }

    /// The report's port and protocol (`HubbleFlowSource.parse`) from the layers present.
    static func flowL4(l4: Int, port found: Int?) -> (port: Int?, proto: String?) {
        var port: Int?, proto: String?
        for k in 0..<3 where l4 & (1 << k) != 0 {
            proto = ["TCP", "UDP", "SCTP"][k]
            port = found
        }
        if l4 & (1 << 3 | 1 << 4) != 0 { proto = "ICMP" }
        if l4 & (1 << 5) != 0 { proto = "VRRP" }
        if l4 & (1 << 6) != 0 { proto = "IGMP" }
        return (port, proto)
    }

    /// The policy commands' port and protocol (`HubbleConnectionReader.parseDetailed`).
    static func observedL4(l4: Int, port found: Int?) -> (port: Int?, proto: String?) {
        var port: Int?, proto: String?
        for k in 0..<3 where l4 & (1 << k) != 0 {
            proto = ["TCP", "UDP", "SCTP"][k]
            port = found
        }
        if l4 & (1 << 3) != 0 { proto = "ICMP" }
        if l4 & (1 << 4) != 0 { proto = "ICMPV6" }
        return (port, proto)
    }

    /// The flow as `HubbleFlowSource.parse(json:)` gives it, and its sides' coverage keys.
    mutating func flow(verdict: String, time: Date) -> (Flow, (SideInfo, SideInfo)) {
        let (port, proto) = HubbleLineDecoder.flowL4(l4: scanner.l4, port: self.port())
        let r = scanner[.dropReasonDesc]
        let reason = string(r) ?? int(r).map { "REASON_\($0)" }
        var denied: [HubbleFlowSource.DenyingPolicy] = []
        for direction in 0..<2 {
            for d in scanner.denied where d.direction == direction {
                guard let name = string(d.name), !name.isEmpty else { continue }
                denied.append(HubbleFlowSource.DenyingPolicy(name: name, namespace: string(d.namespace) ?? "", kind: string(d.kind) ?? "",
                                                             direction: direction == 0 ? "ingress" : "egress"))
            }
        }
        let src = side(0), dst = side(1)
        let flow = Flow(time: time, verdict: verdict, sourceNamespace: src.namespace, destinationNamespace: dst.namespace,
                    sourcePod: src.pod, destinationPod: dst.pod, destinationPort: port, proto: proto, dropReason: reason,
                    deniedBy: denied, source: src.endpoint, destination: dst.endpoint,
                    isReply: bool(scanner[.isReply]) ?? bool(scanner[.reply]) ?? false,
                    sourceLabels: src.labels, destinationLabels: dst.labels, sourceWorkload: src.workload,
                    destinationWorkload: dst.workload)
        return (flow, (src, dst))
    }

    /// The flow as `HubbleConnectionReader.parseDetailed(json:)` gives it.
    mutating func observed(head known: (verdict: String, time: Date)? = nil) -> HubbleConnectionReader.LineOutcome {
        guard let (verdict, time) = known ?? head() else { return .notFlow }
        let (port, protocolName) = HubbleLineDecoder.observedL4(l4: scanner.l4, port: self.port())
        guard let proto = protocolName else { return .withoutL4 }
        if let p = port, !(0...65535).contains(p) { return .notFlow }
        let names = scanner.names.map { String(decoding: bytes($0), as: UTF8.self) }.filter { $0.utf8.count <= 253 }
        let src = side(0), dst = side(1)
        var s = src.policy, d = dst.policy
        s.ip = string(scanner[.ipSource])
        d.ip = string(scanner[.ipDestination])
        d.dnsNames = names
        var f = ObservedFlow(time: time, verdict: verdict, isReply: bool(scanner[.isReply]) ?? bool(scanner[.reply]),
                             connection: PolicyConnection(source: s, destination: d, port: port, protocolName: proto))
        let r = scanner[.dropReasonDesc]
        f.dropReason = string(r) ?? int(r).map { "REASON_\($0)" } ?? int(scanner[.dropReason]).map { "REASON_\($0)" }
        f.sourcePod = src.podText
        f.destinationPod = dst.podText
        f.sourceWorkload = src.workloadText
        f.destinationWorkload = dst.workloadText
        f.dnsQuery = text(scanner[.dnsQuery])
        f.dnsIPs = scanner.dnsIPs.map { String(decoding: bytes($0), as: UTF8.self) }
        for direction in 0..<2 {
            for e in scanner.denied where e.direction == direction {
                guard let name = text(e.name) else { continue }
                f.deniedBy.append(text(e.namespace).map { "\($0)/\(name)" } ?? name)
            }
        }
        return .flow(f)
    }
}
