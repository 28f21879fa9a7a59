import Foundation
import ThreatModel
import ThreatPolicy

/// The distinct-connection key of a scanned line (`DistinctFlows`): everything `flow` and
/// `observed` decode, the time and the pod instances aside.
extension HubbleLineDecoder {
    /// Who reads the key, and so which fields it keeps. The report (its tables and suggestions) and
    /// `policy suggest` read an address only where the end is not a pod (a peer outside the cluster
    /// or an entity) and only for an allowed new TCP, UDP or SCTP connection with a port; `policy
    /// simulate` reads every address when a rule matches addresses (CIDR, ipBlock), else as the
    /// others do (a pod's address decides nothing then; `SimulationVerdictCache` relies on the same).
    /// Replies and flows that were not allowed only count for the suggestions, and replies only
    /// count for the simulation: their port, addresses and DNS are left out.
    enum KeyUse: Equatable { case report, suggest, simulate(allAddresses: Bool) }

    /// What `observed` would make of the line just scanned, without decoding it: a connection (its
    /// verdict and time), a flow without L4, or not a flow.
    enum ConnectionHead { case flow(String, Date), withoutL4, notFlow }

    mutating func connectionHead() -> ConnectionHead {
        guard let (verdict, time) = head() else { return .notFlow }
        let (port, proto) = HubbleLineDecoder.observedL4(l4: scanner.l4, port: port())
        guard proto != nil else { return .withoutL4 }
        if let p = port, !(0...65535).contains(p) { return .notFlow }
        return .flow(verdict, time)
    }

    /// The key of the line just scanned, whose verdict `head` gave.
    mutating func distinctKey(verdict: String, into d: inout DistinctFlows, use: KeyUse) -> DistinctFlows.Key {
        var k = DistinctFlows.Key()
        let src = side(0), dst = side(1)
        k.source = d.classID(src)
        k.destination = d.classID(dst)
        k.verdict = d.verdictID(verdict)
        k.l4 = UInt8(truncatingIfNeeded: scanner.l4)
        if let reply = bool(scanner[.isReply]) ?? bool(scanner[.reply]) { k.reply = reply ? 2 : 1 }
        let port = self.port()
        let (_, proto) = HubbleLineDecoder.observedL4(l4: scanner.l4, port: port)
        let allowed = verdict == "FORWARDED" || verdict == "REDIRECTED" || verdict == "AUDIT"
        // Whether the port and the rest of the connection are read: not for a reply, nor (but by
        // the simulation) for a flow that was not allowed. A port out of range still makes the
        // line no connection at all for the policy commands, so it stays.
        let connection = k.reply != 2 && (allowed || use != .report && use != .suggest)
        if connection || port.map({ !(0...65535).contains($0) }) ?? false { k.port = port ?? Int.min }
        if use == .report || verdict == "DROPPED" && use != .suggest {
            let r = scanner[.dropReasonDesc], code = scanner[.dropReason]
            if r.kind != .absent || code.kind != .absent {
                let flow = string(r) ?? int(r).map { "REASON_\($0)" }
                let observed = flow ?? int(code).map { "REASON_\($0)" }
                k.reason = d.reasons.id(Self.textKey([flow, observed])) { .init(flow: flow, observed: observed) }
            }
        }
        if use == .report, !scanner.denied.isEmpty { k.denied = deniedKey(&d) }
        guard connection else { return k }
        if case .simulate = use {
            if !scanner.names.isEmpty {
                let names = scanner.names.map { String(decoding: bytes($0), as: UTF8.self) }.filter { $0.utf8.count <= 253 }
                k.names = d.names.id(Self.textKey(names)) { names }
            }
        } else {
            // The suggestions read the addresses and DNS answers of allowed TCP, UDP and SCTP connections with a port.
            guard let proto, !proto.hasPrefix("ICMP"), let p = port, p > 0 else { return k }
            let query = text(scanner[.dnsQuery])
            if query != nil || !scanner.dnsIPs.isEmpty {
                let ips = scanner.dnsIPs.map { String(decoding: bytes($0), as: UTF8.self) }
                k.dns = d.dns.id(Self.textKey([query] + ips)) { .init(query: query, ips: ips) }
            }
        }
        let all = use == .simulate(allAddresses: true)
        if all || !src.policy.isPod, let ip = string(scanner[.ipSource]) { k.sourceIP = d.addresses.id(ip) { ip } }
        if all || !dst.policy.isPod, let ip = string(scanner[.ipDestination]) { k.destinationIP = d.addresses.id(ip) { ip } }
        return k
    }

    /// `HubbleFlowSource.pairKey` of the line just scanned.
    mutating func pairKey() -> String {
        let (port, proto) = HubbleLineDecoder.flowL4(l4: scanner.l4, port: port())
        let s = side(0), d = side(1)
        return HubbleFlowSource.pairKey(s.namespace, s.pod, d.namespace, d.pod, port: port, proto: proto)
    }

    /// What `pairKey` reads of the line just scanned: its sides, port and L4 layers.
    mutating func pair() -> PairCounts.Pair {
        PairCounts.Pair(source: side(0).serial, destination: side(1).serial, port: port() ?? Int.min, l4: scanner.l4)
    }

    /// The denying policies as `flow` and `observed` read them.
    private mutating func deniedKey(_ d: inout DistinctFlows) -> Int32 {
        var flow: [HubbleFlowSource.DenyingPolicy] = [], observed: [String] = []
        for direction in 0..<2 {
            for e in scanner.denied where e.direction == direction {
                if let name = string(e.name), !name.isEmpty {
                    flow.append(HubbleFlowSource.DenyingPolicy(name: name, namespace: string(e.namespace) ?? "", kind: string(e.kind) ?? "",
                                                               direction: direction == 0 ? "ingress" : "egress"))
                }
                if let name = text(e.name) { observed.append(text(e.namespace).map { "\($0)/\(name)" } ?? name) }
            }
        }
        let parts = flow.flatMap { [$0.name, $0.namespace, $0.kind, $0.direction] } + ["|"] + observed
        return d.denied.id(Self.textKey(parts)) { .init(flow: flow, observed: observed) }
    }

    /// Texts joined without ambiguity: each as its length and bytes, nil as `-`.
    static func textKey(_ parts: [String?]) -> String {
        var out = "", size = 0
        for p in parts { size += p.map { $0.utf8.count + 21 } ?? 1 }
        out.reserveCapacity(size)
        for p in parts {
            if let p {
                out += String(p.utf8.count)
                out += ":"
                out += p
            } else {
                out += "-"
            }
        }
        return out
    }

    /// A side's class: every value of it that is read downstream, except the pod name itself (the
    /// pod names of one Deployment differ; what is read of them is the workload name derived from
    /// them, which is in). The report's dropped and audited pairs name the pod: they are counted
    /// flow by flow, never from a class.
    static func classKey(_ i: SideInfo) -> String {
        func sorted(_ d: [String: String]) -> [String?] {
            [String(d.count)] + d.sorted { $0.key < $1.key }.flatMap { [$0.key, $0.value] }
        }
        let p = i.policy
        // The three workload names, the pod name's worked out once when the pod texts are the same bytes.
        let fromPod = WorkloadIdentity.name(pod: i.podText, workload: nil)
        let fromPodText = i.workloadText.flatMap { $0.isEmpty ? nil : $0 } ?? fromPod
        let samePod = i.pod.map { pod in i.podText.map { pod.utf8.elementsEqual($0.utf8) } ?? false } ?? (i.podText == nil)
        let fromFlow = i.workload.flatMap { $0.isEmpty ? nil : $0 } ?? (samePod ? fromPod : WorkloadIdentity.name(pod: i.pod, workload: nil))
        var parts: [String?] = [i.endpoint.namespace, i.endpoint.workload, i.endpoint.entity, i.namespace, i.workload, i.workloadText,
                                i.pod == nil ? nil : "", i.podText == nil ? nil : "",
                                fromPod, fromPodText, fromFlow,
                                i.tally.key?.key, i.tally.key?.name, i.selector.key, p.namespace, p.ip]
        parts += [String(i.labels.count)] + i.labels
        parts += sorted(i.tally.labels) + sorted(p.labels) + sorted(p.namespaceLabels)
        parts += [String(p.entities.count)] + p.entities.sorted()
        parts += [String(p.dnsNames.count)] + p.dnsNames
        parts += sorted(p.namedPorts.mapValues { String($0) })
        return textKey(parts)
    }
}
