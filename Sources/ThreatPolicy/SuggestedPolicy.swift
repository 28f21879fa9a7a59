import Foundation
import ThreatModel

/// The manifest kind `policy suggest` writes.
public enum SuggestionKind: String, Sendable, CaseIterable {
    case cilium, kubernetes
}

/// One peer of a suggested rule.
public enum SuggestedPeer: Sendable, Hashable, Comparable {
    /// Pods of a namespace with these (identifying) labels; no labels = every pod of the namespace.
    case pods(namespace: String, labels: [LabelPair])
    /// A Cilium entity (`world`, `host`, `remote-node`, `kube-apiserver`…).
    case entity(String)
    /// One address range (`192.0.2.1/32`).
    case cidr(String)
    /// A DNS name (Cilium `toFQDNs.matchName`).
    case fqdn(String)

    public var sortKey: String {
        switch self {
        case let .pods(ns, labels): "0 \(ns) " + labels.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        case let .entity(e): "1 \(e)"
        case let .cidr(c): "2 \(c)"
        case let .fqdn(n): "3 \(n)"
        }
    }

    public static func < (a: SuggestedPeer, b: SuggestedPeer) -> Bool { a.sortKey < b.sortKey }

    /// True for kube-dns pods (`k8s-app: kube-dns`).
    public var isKubeDNS: Bool {
        if case let .pods(_, labels) = self { return labels.contains(LabelPair("k8s-app", "kube-dns")) }
        return false
    }
}

/// One port and protocol that was observed. Port 0 is every port of the protocol (flow metrics
/// carry no port): Cilium reads `port: "0"` so, a NetworkPolicy entry without a port likewise;
/// protocol `ANY` (Cilium only) is every protocol.
public struct SuggestedPort: Sendable, Hashable, Comparable {
    public var port: Int
    public var proto: String
    public init(_ port: Int, _ proto: String) {
        self.port = port
        self.proto = proto
    }

    public static func < (a: SuggestedPort, b: SuggestedPort) -> Bool { (a.port, a.proto) < (b.port, b.proto) }
}

/// A least-privilege policy for one workload: its selector, and per direction the peers it was seen
/// with and the ports used. Both directions are default deny: what was not seen is not allowed.
public struct SuggestedPolicy: Sendable, Equatable {
    public var name: String
    public var namespace: String
    /// The workloads the selector covers (several when their identifying labels are the same).
    public var workloads: [String]
    public var selector: [LabelPair]
    public var ingress: [SuggestedPeer: Set<SuggestedPort>] = [:]
    public var egress: [SuggestedPeer: Set<SuggestedPort>] = [:]
    /// Comment lines opening the file (without `# `).
    public var comment: [String] = []

    public init(name: String, namespace: String, workloads: [String], selector: [LabelPair]) {
        self.name = name
        self.namespace = namespace
        self.workloads = workloads
        self.selector = selector
    }

    /// The manifest; `disabled` adds GitLab's disabled_by label to the selector, so the policy
    /// selects no pod until someone enables it.
    public func yaml(kind: SuggestionKind, disabled: Bool) -> String {
        var y = YAMLLines()
        for c in comment { y.line(0, "# " + SuggestedPolicy.commentSafe(c)) }
        var sel = selector
        if disabled { sel.append(LabelPair(gitlabDisabledByLabel, PolicyNodeEdits.labelValue)) }
        switch kind {
        case .cilium:
            y.line(0, "apiVersion: cilium.io/v2")
            y.line(0, "kind: CiliumNetworkPolicy")
        case .kubernetes:
            y.line(0, "apiVersion: networking.k8s.io/v1")
            y.line(0, "kind: NetworkPolicy")
        }
        y.line(0, "metadata:")
        y.line(1, "name: \(YAMLLines.scalar(name))")
        y.line(1, "namespace: \(YAMLLines.scalar(namespace))")
        y.line(0, "spec:")
        if kind == .cilium {
            y.selector(1, "endpointSelector", sel)
            y.line(1, "enableDefaultDeny:")
            y.line(2, "ingress: true")
            y.line(2, "egress: true")
            cilium(&y, "ingress", ingress, peersKey: "from")
            cilium(&y, "egress", egress, peersKey: "to")
        } else {
            y.selector(1, "podSelector", sel)
            y.line(1, "policyTypes:")
            y.line(1, "- Ingress")
            y.line(1, "- Egress")
            kubernetes(&y, "ingress", ingress, peersKey: "from")
            kubernetes(&y, "egress", egress, peersKey: "to")
        }
        return y.text
    }

    /// A comment line without line breaks or control characters, at most 300 characters.
    static func commentSafe(_ s: String) -> String {
        let kept = String(s.unicodeScalars.map { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" || $0 == "\u{85}" ? "?" : Character($0) })
        return kept.count > 300 ? String(kept.prefix(300)) + "…" : kept
    }

    private func cilium(_ y: inout YAMLLines, _ section: String, _ peers: [SuggestedPeer: Set<SuggestedPort>], peersKey: String) {
        guard !peers.isEmpty else { return }
        y.line(1, "\(section):")
        let usesFQDN = peers.keys.contains { if case .fqdn = $0 { return true }; return false }
        for peer in peers.keys.sorted() {
            let ports = peers[peer]!.sorted()
            switch peer {
            case let .pods(ns, labels):
                y.line(1, "- \(peersKey)Endpoints:")
                y.line(2, "- matchLabels:")
                y.line(4, "k8s:io.kubernetes.pod.namespace: \(YAMLLines.scalar(ns))")
                for l in labels { y.line(4, "\(YAMLLines.scalar(l.key)): \(YAMLLines.scalar(l.value))") }
            case let .entity(e):
                y.line(1, "- \(peersKey)Entities:")
                y.line(2, "- \(YAMLLines.scalar(e))")
            case let .cidr(c):
                y.line(1, "- \(peersKey)CIDR:")
                y.line(2, "- \(YAMLLines.scalar(c))")
            case let .fqdn(n):
                y.line(1, "- toFQDNs:")
                y.line(2, "- matchName: \(YAMLLines.scalar(n))")
            }
            // DNS to kube-dns: both protocols, and the DNS proxy rule toFQDNs needs to learn names.
            let dns = section == "egress" && peer.isKubeDNS
            let list = dns ? Array(Set(ports + [SuggestedPort(53, "UDP"), SuggestedPort(53, "TCP")])).sorted() : ports
            y.line(2, "toPorts:")
            y.line(2, "- ports:")
            for p in list {
                y.line(3, "- port: \"\(p.port)\"")
                y.line(3, "  protocol: \(p.proto)")
            }
            if dns && usesFQDN && list.allSatisfy({ $0.port == 53 }) {
                y.line(3, "rules:")
                y.line(4, "dns:")
                y.line(4, "- matchPattern: \"*\"")
            }
        }
    }

    private func kubernetes(_ y: inout YAMLLines, _ section: String, _ peers: [SuggestedPeer: Set<SuggestedPort>], peersKey: String) {
        guard !peers.isEmpty else { return }
        y.line(1, "\(section):")
        for peer in peers.keys.sorted() {
            let ports = peers[peer]!.sorted()
            switch peer {
            case let .pods(ns, labels):
                y.line(1, "- \(peersKey):")
                y.line(2, "- namespaceSelector:")
                y.line(4, "matchLabels:")
                y.line(5, "kubernetes.io/metadata.name: \(YAMLLines.scalar(ns))")
                y.selector(3, "podSelector", labels)
            case let .cidr(c):
                y.line(1, "- \(peersKey):")
                y.line(2, "- ipBlock:")
                y.line(4, "cidr: \(YAMLLines.scalar(c))")
            case .entity, .fqdn:
                continue // turned into addresses before (a NetworkPolicy has neither)
            }
            let dns = section == "egress" && peer.isKubeDNS
            let list = dns ? Array(Set(ports + [SuggestedPort(53, "UDP"), SuggestedPort(53, "TCP")])).sorted() : ports
            y.line(2, "ports:")
            for p in list {
                if p.port == 0 {
                    y.line(2, "- protocol: \(p.proto)")
                } else {
                    y.line(2, "- port: \(p.port)")
                    y.line(2, "  protocol: \(p.proto)")
                }
            }
        }
    }
}
