import Foundation
import ThreatModel
import ThreatPolicy

/// `policy suggest`: least-privilege policies, one per workload of a namespace, from the allowed
/// flows observed (FORWARDED, REDIRECTED, AUDIT). Replies are not connections to allow; dropped
/// flows are not allowed; ICMP is not turned into rules (counted).
public struct PolicySuggester: Sendable {
    public let namespace: String
    public let kind: SuggestionKind
    public let from: Date?
    public let to: Date?
    /// The most peers kept per workload and direction, and workloads per namespace.
    public static let peerCap = 500
    public static let workloadCap = 1_000

    /// What was seen of one peer before it becomes a rule: the entity's addresses are kept for the
    /// NetworkPolicy kind (ipBlocks) and for Cilium egress to the world (CIDR or DNS name).
    struct PeerKey: Hashable {
        var peer: SuggestedPeer
        var ip: String?
    }

    struct Workload {
        var name: String
        var selector: [LabelPair]
        var names: Set<String> = []
        var ingress: [PeerKey: Set<SuggestedPort>] = [:]
        var egress: [PeerKey: Set<SuggestedPort>] = [:]
        var flowsIn = 0, flowsOut = 0, peersDropped = 0
        var first: Date?, last: Date?
    }

    private var workloads: [String: Workload] = [:]
    private var selectors: [[String: String]: (pairs: [LabelPair], key: String)] = [:]
    private var podNames: [String: String?] = [:]
    static let selectorMemoCap = 4096
    /// Names the workload's DNS lookups gave each address (selector key → address → names).
    private var dnsNames: [String: [String: Set<String>]] = [:]
    public private(set) var replies = 0, notAllowed = 0, outsideWindow = 0, icmp = 0, otherNamespaces = 0
    public private(set) var noLabels = 0, workloadsDropped = 0, used = 0

    public init(namespace: String, kind: SuggestionKind, from: Date? = nil, to: Date? = nil) {
        self.namespace = namespace
        self.kind = kind
        self.from = from
        self.to = to
    }

    public mutating func add(_ f: ObservedFlow) { add(f, selectors: nil) }

    typealias Selector = (pairs: [LabelPair], key: String)

    /// The same, with the two ends' selectors already known (`selector(for:)` of their labels).
    mutating func add(_ f: ObservedFlow, selectors: (source: Selector, destination: Selector)?) {
        add(f, selectors: selectors, count: 1, first: f.time, last: f.time, outsideWindow: isOutside(f.time))
    }

    /// The flows of one connection as `HubbleConnectionReader.readDistinct` counts them.
    public mutating func add(_ f: ObservedFlow, _ c: ConnectionCount) {
        add(f, selectors: nil, count: c.flows, first: c.first, last: c.last, outsideWindow: c.outsideWindow)
    }

    /// Whether `time` is outside the window.
    public func isOutside(_ time: Date) -> Bool {
        if let from, time < from { return true }
        if let to, time >= to { return true }
        return false
    }

    /// `n` flows of one connection (`f` but for its time), seen from `first` to `last`, all inside
    /// the window or all outside it: the same as adding each of them.
    mutating func add(_ f: ObservedFlow, selectors: (source: Selector, destination: Selector)?, count n: Int, first: Date, last: Date,
                      outsideWindow: Bool) {
        if f.isReply == true { return replies += n }
        guard f.wasAllowed else { return notAllowed += n }
        if outsideWindow { return self.outsideWindow += n }
        let c = f.connection
        let inbound = c.destination.isPod && c.destination.namespace == namespace
        let outbound = c.source.isPod && c.source.namespace == namespace
        guard inbound || outbound else { return otherNamespaces += n }
        if c.protocolName.hasPrefix("ICMP") { return icmp += n }
        guard let port = c.port, port > 0 else { return icmp += n }
        var counted = false
        if outbound, let key = workloadKey(c.source, pod: f.sourcePod, workload: f.sourceWorkload, selectors?.source, n: n) {
            if let q = f.dnsQuery, !f.dnsIPs.isEmpty {
                for ip in f.dnsIPs.prefix(32) where (dnsNames[key]?.count ?? 0) < 4096 {
                    dnsNames[key, default: [:]][ip, default: []].insert(FQDNMatch.normalize(q))
                }
            }
            let peer = peerKey(c.destination, inbound: false, port: port, selectors?.destination)
            record(key, first, last) { w in
                w.flowsOut += n
                if w.egress[peer] == nil && w.egress.count >= PolicySuggester.peerCap { w.peersDropped += n; return }
                w.egress[peer, default: []].insert(SuggestedPort(port, c.protocolName))
            }
            counted = true
        }
        if inbound, let key = workloadKey(c.destination, pod: f.destinationPod, workload: f.destinationWorkload, selectors?.destination, n: n) {
            let peer = peerKey(c.source, inbound: true, port: port, selectors?.source)
            record(key, first, last) { w in
                w.flowsIn += n
                if w.ingress[peer] == nil && w.ingress.count >= PolicySuggester.peerCap { w.peersDropped += n; return }
                w.ingress[peer, default: []].insert(SuggestedPort(port, c.protocolName))
            }
            counted = true
        }
        if counted { used += n }
    }

    /// The selector of the workload a pod belongs to (its identifying labels), registered with its
    /// name. Nil when the pod has no usable label (a policy must not select the whole namespace).
    private mutating func workloadKey(_ e: PolicyEndpoint, pod: String?, workload: String?,
                                      _ known: (pairs: [LabelPair], key: String)?, n: Int) -> String? {
        let (selector, key) = known ?? self.selector(e.labels)
        guard !selector.isEmpty else {
            noLabels += n
            return nil
        }
        if workloads[key] == nil {
            guard workloads.count < PolicySuggester.workloadCap else {
                workloadsDropped += n
                return nil
            }
            let name = self.name(pod: pod, workload: workload) ?? selector.map(\.value).joined(separator: "-")
            workloads[key] = Workload(name: name, selector: selector)
        }
        if let n = self.name(pod: pod, workload: workload), workloads[key]!.names.count < 20 {
            workloads[key]!.names.insert(n)
        }
        return key
    }

    private mutating func record(_ key: String, _ first: Date, _ last: Date, _ change: (inout Workload) -> Void) {
        // In place: a copy of the workload would copy its peer tables on every flow.
        guard workloads[key] != nil else { return }
        if workloads[key]!.first.map({ first < $0 }) ?? true { workloads[key]!.first = first }
        if workloads[key]!.last.map({ last > $0 }) ?? true { workloads[key]!.last = last }
        change(&workloads[key]!)
    }

    /// `WorkloadIdentity.labels` of a label set, and the key a workload is known by.
    static func selector(for labels: [String: String]) -> (pairs: [LabelPair], key: String) {
        let pairs = WorkloadIdentity.labels(labels)
        return (pairs, pairs.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
    }

    /// `WorkloadIdentity.name`, kept for the pod names seen (its pattern match is the costly part).
    private mutating func name(pod: String?, workload: String?) -> String? {
        if let workload, !workload.isEmpty { return workload }
        guard let pod else { return nil }
        if let known = podNames[pod] { return known }
        let n = WorkloadIdentity.name(pod: pod, workload: workload)
        if podNames.count >= PolicySuggester.selectorMemoCap { podNames.removeAll(keepingCapacity: true) }
        podNames[pod] = .some(n)
        return n
    }

    /// `WorkloadIdentity.labels` of a label set and its key, kept for the label sets seen (the
    /// same pods appear flow after flow); the memo starts over past `selectorMemoCap` sets.
    private mutating func selector(_ labels: [String: String]) -> (pairs: [LabelPair], key: String) {
        if let s = selectors[labels] { return s }
        let s = PolicySuggester.selector(for: labels)
        if selectors.count >= PolicySuggester.selectorMemoCap { selectors.removeAll(keepingCapacity: true) }
        selectors[labels] = s
        return s
    }

    private mutating func peerKey(_ e: PolicyEndpoint, inbound: Bool, port: Int, _ known: (pairs: [LabelPair], key: String)?) -> PeerKey {
        if let ns = e.namespace { return PeerKey(peer: .pods(namespace: ns, labels: (known ?? selector(e.labels)).pairs)) }
        let entity = ["kube-apiserver", "host", "remote-node", "health", "init", "ingress", "unmanaged"].first(where: e.entities.contains)
            ?? "world"
        // Cilium ingress from an entity needs no address; everything else keeps it.
        let keepIP = kind == .kubernetes || (entity == "world" && !inbound)
        return PeerKey(peer: .entity(entity), ip: keepIP ? e.ip : nil)
    }

    /// `192.0.2.1/32` or `2001:db8::1/128`.
    static func hostCIDR(_ ip: String) -> String? {
        guard let bytes = IPRange.address(ip) else { return nil }
        return "\(ip)/\(bytes.count * 8)"
    }

    /// The policies, sorted by workload name, each with its opening comment. `files` names the
    /// inputs for the comment.
    public func policies(files: Int) -> [SuggestedPolicy] {
        let sorted = workloads.values.sorted { ($0.name, $0.selector.description) < ($1.name, $1.selector.description) }
        let slugs = FileNameSlug.slugs(sorted.map(\.name))
        var out: [SuggestedPolicy] = []
        for (w, slug) in zip(sorted, slugs) {
            var p = SuggestedPolicy(name: "suggested-\(slug)", namespace: namespace, workloads: w.names.sorted(), selector: w.selector)
            var skipped = 0
            let key = w.selector.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            for (peer, ports) in w.ingress { for r in rules(peer, egress: false, names: [:], skipped: &skipped) { p.ingress[r, default: []].formUnion(ports) } }
            for (peer, ports) in w.egress {
                for r in rules(peer, egress: true, names: dnsNames[key] ?? [:], skipped: &skipped) { p.egress[r, default: []].formUnion(ports) }
            }
            p.comment = comment(w, files: files, ingressPeers: p.ingress.count, egressPeers: p.egress.count, skipped: skipped)
            out.append(p)
        }
        return out
    }

    private func rules(_ k: PeerKey, egress: Bool, names: [String: Set<String>], skipped: inout Int) -> [SuggestedPeer] {
        guard case let .entity(entity) = k.peer else { return [k.peer] }
        if kind == .cilium {
            guard entity == "world", egress else { return [k.peer] }
            if let ip = k.ip, let seen = names[ip], !seen.isEmpty { return seen.sorted().map { .fqdn($0) } }
            if let ip = k.ip, let c = PolicySuggester.hostCIDR(ip) { return [.cidr(c)] }
            return [k.peer]
        }
        guard let ip = k.ip, let c = PolicySuggester.hostCIDR(ip) else {
            skipped += 1
            return []
        }
        return [.cidr(c)]
    }

    private func comment(_ w: Workload, files: Int, ingressPeers: Int, egressPeers: Int, skipped: Int) -> [String] {
        let fmt = { (d: Date?) -> String in d.map { RFC3339.format($0) } ?? "-" }
        let window = from == nil && to == nil ? "every flow in the files"
            : "\(from == nil ? "start of the files" : fmt(from)) to \(to == nil ? "end of the files" : fmt(to))"
        let pods = w.names.count > 1 ? " (pods of \(w.names.sorted().joined(separator: ", ")))" : ""
        let noInbound = ingressPeers == 0 ? "; no inbound connection was observed, so none is allowed" : ""
        var c: [String] = []
        c.append("Suggested by `threat-report policy suggest` from \(files) flow file(s): least privilege for what was observed.")
        c.append("Workload: \(namespace)/\(w.name)" + pods)
        c.append("Window: \(window)")
        c.append("Observed: \(w.flowsIn) inbound and \(w.flowsOut) outbound allowed flow(s); \(ingressPeers) inbound and \(egressPeers) outbound peer(s)")
        c.append("First seen: \(fmt(w.first)); last seen: \(fmt(w.last))")
        c.append("Everything not observed is denied in both directions (default deny)" + noInbound + ".")
        c.append("Deployed disabled: GitLab's disabled_by label is in the selector; `threat-report policy enable FILE` removes it.")
        if w.peersDropped > 0 { c.append("Not kept: \(w.peersDropped) flow(s) to peers past the \(PolicySuggester.peerCap)-peer limit.") }
        if skipped > 0 { c.append("Not kept: \(skipped) peer(s) outside the cluster with no address (a NetworkPolicy needs one).") }
        return c
    }
}
