import Foundation
import ThreatModel
import ThreatPolicy

/// One `hubble observe -o json` flow as the policy commands need it: both endpoints with their
/// labels, identities and addresses, whether it is a reply, and what DNS showed.
public struct ObservedFlow: Sendable, Equatable {
    public var time: Date
    public var verdict: String
    /// `is_reply` (or the older `reply`); nil when the flow does not say.
    public var isReply: Bool?
    public var connection: PolicyConnection
    public var dropReason: String?
    public var sourcePod: String?
    public var destinationPod: String?
    /// `workloads[0].name` of each side, when Hubble gives it.
    public var sourceWorkload: String?
    public var destinationWorkload: String?
    /// Names and answer addresses of a DNS flow (`l7.dns`), when it is one.
    public var dnsQuery: String?
    public var dnsIPs: [String] = []
    /// The policies Cilium named for a drop or an audit (`ingress_denied_by`/`egress_denied_by`).
    public var deniedBy: [String] = []

    /// FORWARDED, REDIRECTED and AUDIT: the connection went through.
    public var wasAllowed: Bool { ["FORWARDED", "REDIRECTED", "AUDIT"].contains(verdict) }

    /// A DROPPED flow whose reason is a policy (`POLICY_DENIED`, `POLICY_DENY`, codes 133 and 181).
    public var droppedByPolicy: Bool {
        guard verdict == "DROPPED", let r = dropReason else { return false }
        return r.contains("POLICY") || r == "REASON_133" || r == "REASON_181"
    }
}

/// Who reads the connections of `HubbleConnectionReader.readDistinct`: `policy suggest`, or
/// `policy simulate` (reading every address when a rule matches addresses).
public enum ConnectionUse: Sendable, Equatable {
    case suggest
    case simulate(allAddresses: Bool)
}

/// How many flows of one connection `HubbleConnectionReader.readDistinct` read, and when.
public struct ConnectionCount: Sendable, Equatable {
    public var flows: Int
    public var first: Date
    public var last: Date
    /// Outside the reader's window (every flow of the connection is).
    public var outsideWindow: Bool
}

/// What reading the flow files gave: the counts and the places of the lines that were not flows.
public struct FlowReadCoverage: Sendable, Equatable {
    public var files = 0
    public var lines = 0
    public var flows = 0
    /// Lines that are not hubble flow JSON (or lack the fields a connection needs).
    public var skipped = 0
    /// Lines longer than the line limit.
    public var tooLong = 0
    /// Flows without an L4 protocol (ARP, other IP protocols): not connections, left out.
    public var withoutL4 = 0
    /// `file:line` of the first skipped lines (at most `HubbleFlowSource.reportedSkips`).
    public var skipPlaces: [String] = []
    /// The read stopped early (deadline); the figures cover what was read before.
    public var cutOff: String?

    /// One sentence per problem, for stderr and the JSON output.
    public var warnings: [String] {
        var w: [String] = []
        if skipped > 0 {
            w.append("skipped \(skipped) line(s) that are not hubble flow JSON, first at \(skipPlaces.joined(separator: ", "))")
        }
        if withoutL4 > 0 { w.append("left out \(withoutL4) flow(s) without a TCP, UDP, SCTP or ICMP layer (not connections)") }
        if tooLong > 0 { w.append("skipped \(tooLong) line(s) longer than \(InputLimits.describe(bytes: InputLimits.lineBytes))") }
        if let cutOff { w.append(cutOff) }
        return w
    }
}

/// Reads flow files (plain or `.gz`) with the report's line reader, so the same limits hold: lines
/// are capped at `InputLimits.lineBytes`, JSON depth at `InputLimits.jsonDepth`, FIFOs never block,
/// and a bad line is counted and named, never fatal.
public enum HubbleConnectionReader {
    public static func read(_ patterns: [String], deadline: RunDeadline = .none,
                            _ each: (ObservedFlow) -> Void) throws(SourceError) -> FlowReadCoverage {
        var decoder = HubbleLineDecoder()
        return try lines(patterns, deadline: deadline) { cover, place, b in
            // The scanner reads the usual lines; the tree parser the others, with the same result.
            if let f = count(decoder.scan(b) ? decoder.observed() : parseDetailed(b), &cover, place()) { each(f) }
        }
    }

    /// Reads every line of the files: counts lines and over-long ones (named), passes over blank
    /// ones and gives `body` the others, with their place; when the deadline passes, calls
    /// `stopped` and says where reading stopped.
    private static func lines(_ patterns: [String], deadline: RunDeadline, stopped: () -> Void = {},
                              _ body: (inout FlowReadCoverage, @autoclosure () -> String, UnsafeBufferPointer<UInt8>) -> Void)
        throws(SourceError) -> FlowReadCoverage {
        let files = try FileGlob.expand(patterns)
        var cover = FlowReadCoverage(files: files.count)
        for path in files {
            do {
                try LineReader(path: path, deadline: deadline).forEachLine { lineNo, line in
                    switch line {
                    case .tooLong:
                        cover.lines += 1
                        cover.tooLong += 1
                        note(&cover, "\(path):\(lineNo)")
                    case let .bytes(b):
                        if b.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
                        cover.lines += 1
                        body(&cover, "\(path):\(lineNo)", b)
                    }
                }
            } catch {
                stopped()
                if deadline.passed {
                    cover.cutOff = "stopped reading at \(path): \(error.description)"
                    return cover
                }
                throw error
            }
        }
        return cover
    }

    /// Counts a line's outcome (a flow, a flow without L4, or no flow, named by its place); the
    /// flow, if it is one.
    private static func count(_ outcome: LineOutcome, _ cover: inout FlowReadCoverage, _ place: @autoclosure () -> String) -> ObservedFlow? {
        switch outcome {
        case let .flow(f):
            cover.flows += 1
            return f
        case .withoutL4:
            cover.withoutL4 += 1
        case .notFlow:
            cover.skipped += 1
            note(&cover, place())
        }
        return nil
    }

    /// The same flows, handed over once per distinct connection (`DistinctFlows`) with how many
    /// flows it had and when, in the order of each connection's first flow: for consumers whose
    /// result is a sum over flows. `use` says which consumer reads them: a connection is distinct
    /// in what that consumer reads of it (`HubbleLineDecoder.KeyUse`); `outside` says which times
    /// are outside the consumer's window (every flow of a connection handed over is inside, or
    /// every one outside).
    public static func readDistinct(_ patterns: [String], deadline: RunDeadline = .none, for consumer: ConnectionUse,
                                    outside: ((Date) -> Bool)? = nil,
                                    _ each: (ObservedFlow, ConnectionCount) -> Void) throws(SourceError) -> FlowReadCoverage {
        try readDistinct(patterns, deadline: deadline, for: consumer, outside: outside, capacity: DistinctFlows.defaultCapacity, each)
    }

    /// The same with a distinct table of `capacity` entries.
    static func readDistinct(_ patterns: [String], deadline: RunDeadline, for consumer: ConnectionUse, outside: ((Date) -> Bool)?,
                             capacity: Int, _ each: (ObservedFlow, ConnectionCount) -> Void) throws(SourceError) -> FlowReadCoverage {
        var decoder = HubbleLineDecoder()
        var distinct = DistinctFlows(capacity: capacity)
        let use: HubbleLineDecoder.KeyUse
        switch consumer {
        case .suggest: use = .suggest
        case let .simulate(all): use = .simulate(allAddresses: all)
        }
        func flush() {
            for e in distinct.entries {
                guard case let .flow(f) = distinct.observed(e) else { continue }
                each(f, ConnectionCount(flows: e.count, first: e.first, last: e.last, outsideWindow: e.key.outsideWindow))
            }
            distinct.startOver()
        }
        let cover = try lines(patterns, deadline: deadline, stopped: flush) { cover, place, b in
            if decoder.scan(b) {
                switch decoder.connectionHead() {
                case let .flow(verdict, time):
                    cover.flows += 1
                    if distinct.isFull { flush() }
                    var key = decoder.distinctKey(verdict: verdict, into: &distinct, use: use)
                    key.outsideWindow = outside?(time) ?? false
                    distinct.count(key, time: time)
                case .withoutL4:
                    _ = count(.withoutL4, &cover, place())
                case .notFlow:
                    _ = count(.notFlow, &cover, place())
                }
                return
            }
            // The tree parser's flows one by one, after the connections before them.
            if let f = count(parseDetailed(b), &cover, place()) {
                flush()
                each(f, ConnectionCount(flows: 1, first: f.time, last: f.time, outsideWindow: outside?(f.time) ?? false))
            }
        }
        flush()
        return cover
    }

    static func note(_ cover: inout FlowReadCoverage, _ place: String) {
        if cover.skipPlaces.count < HubbleFlowSource.reportedSkips { cover.skipPlaces.append(place) }
    }

    /// What one line is.
    public enum LineOutcome: Sendable {
        case flow(ObservedFlow)
        /// A flow, but not a connection (no TCP, UDP, SCTP or ICMP layer).
        case withoutL4
        case notFlow
    }

    /// One line: `{"flow": {...}}` or the bare flow object. Nil when it is not a flow with a
    /// verdict, a time and an L4 protocol.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> ObservedFlow? {
        if case let .flow(f) = parseDetailed(bytes) { return f }
        return nil
    }

    public static func parseDetailed(_ bytes: UnsafeBufferPointer<UInt8>) -> LineOutcome {
        guard let json = try? JSONValue.parse(bytes: Array(bytes), maxDepth: InputLimits.jsonDepth) else { return .notFlow }
        return parseDetailed(json: json)
    }

    public static func parseDetailed(json: JSONValue) -> LineOutcome {
        let flow = json["flow"] ?? json
        guard let verdict = flow["verdict"]?.stringValue ?? flow["verdict"]?.intValue.map(HubbleFlowSource.verdictName),
              let timeText = flow["time"]?.stringValue ?? json["time"]?.stringValue,
              let time = RFC3339.parse(timeText) else { return .notFlow }
        var port: Int?, proto: String?
        for p in ["TCP", "UDP", "SCTP"] {
            if let l4 = flow.at("l4.\(p)") {
                proto = p
                port = l4["destination_port"]?.intValue
            }
        }
        if flow.at("l4.ICMPv4") != nil { proto = "ICMP" }
        if flow.at("l4.ICMPv6") != nil { proto = "ICMPV6" }
        guard let proto else { return .withoutL4 }
        if let p = port, !(0...65535).contains(p) { return .notFlow }
        let names = (flow["destination_names"]?.arrayValue ?? []).compactMap(\.stringValue).filter { $0.utf8.count <= 253 }
        let src = endpoint(flow["source"], ip: flow.at("IP.source")?.stringValue, names: [])
        let dst = endpoint(flow["destination"], ip: flow.at("IP.destination")?.stringValue, names: names)
        var f = ObservedFlow(time: time, verdict: verdict, isReply: flow["is_reply"]?.boolValue ?? flow["reply"]?.boolValue,
                             connection: PolicyConnection(source: src, destination: dst, port: port, protocolName: proto))
        f.dropReason = flow["drop_reason_desc"]?.stringValue ?? flow["drop_reason_desc"]?.intValue.map { "REASON_\($0)" }
            ?? flow["drop_reason"]?.intValue.map { "REASON_\($0)" }
        f.sourcePod = text(flow.at("source.pod_name"))
        f.destinationPod = text(flow.at("destination.pod_name"))
        f.sourceWorkload = text(flow.at("source.workloads")?.arrayValue?.first?["name"])
        f.destinationWorkload = text(flow.at("destination.workloads")?.arrayValue?.first?["name"])
        if let dns = flow.at("l7.dns") {
            f.dnsQuery = text(dns["query"])
            f.dnsIPs = (dns["ips"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
        for field in ["ingress_denied_by", "egress_denied_by"] {
            for p in flow[field]?.arrayValue ?? [] {
                guard let name = text(p["name"]) else { continue }
                let ns = text(p["namespace"])
                f.deniedBy.append(ns.map { "\($0)/\(name)" } ?? name)
            }
        }
        return .flow(f)
    }

    static func text(_ v: JSONValue?) -> String? {
        guard let s = v?.stringValue, !s.isEmpty, s.utf8.count <= 1024 else { return nil }
        return s
    }

    static func endpoint(_ side: JSONValue?, ip: String?, names: [String]) -> PolicyEndpoint {
        let labels = (side?["labels"]?.arrayValue ?? []).prefix(256).compactMap(\.stringValue)
        var e = PolicyEndpoint.fromCiliumLabels(labels, namespace: text(side?["namespace"]), ip: ip, names: names)
        // Flows without labels still say the reserved identity by number (flow.proto's reserved ids).
        if e.entities.isEmpty, e.namespace == nil, let id = side?["identity"]?.intValue,
           let name = [1: "host", 2: "world", 3: "unmanaged", 4: "health", 5: "init", 6: "remote-node",
                       7: "kube-apiserver", 8: "ingress", 9: "world-ipv4", 10: "world-ipv6"][id] {
            e.entities = [name]
        }
        return e
    }
}
