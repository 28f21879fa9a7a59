import Foundation
import ThreatModel

// What the report's policy checks need from a typed policy, computed once in the loader and kept
// on `PolicyItem`, so the analysis stays free of the typed model.

extension NetworkPolicyModel {
    /// Entities that stand for the outside world (Cilium: `world` and its per-family halves, `all`).
    static let worldEntities: Set<String> = ["world", "world-ipv4", "world-ipv6", "all"]

    /// Allow rules that let traffic from outside the cluster in: a peer that is the `world`/`all`
    /// entity, 0.0.0.0/0 or ::/0 (Cilium CIDR or Kubernetes ipBlock), or no L3 peer at all (a
    /// Kubernetes rule without `from`, a Cilium L4-only rule). Kubernetes ingress rules count only
    /// when Ingress is in the (defaulted) policyTypes; a spec whose deny rules refuse the world on
    /// every port admits nothing from it.
    public func worldIngressRules() -> [WorldIngressRule] {
        var out: [WorldIngressRule] = []
        for spec in specs {
            if kind == .networkPolicy && !effectivePolicyTypes(spec).contains(.ingress) { continue }
            if spec.denyRules(.ingress).contains(where: { $0.allowsAnyPort && Self.worldPeer(in: $0.peers) != nil }) { continue }
            for rule in spec.allowRules(.ingress) {
                guard let peer = Self.worldPeer(in: rule.peers) else { continue }
                out.append(WorldIngressRule(path: rule.path, peer: peer, anyPort: rule.allowsAnyPort,
                                            ports: PolicyExplainer.portsText(rule)))
            }
        }
        return out
    }

    /// The peer of a rule that admits the outside world, as the finding names it.
    static func worldPeer(in peers: PeerSet) -> String? {
        switch peers {
        case .anywhere: return "anywhere"
        case .nothing: return nil
        case let .some(list):
            for peer in list {
                switch peer {
                case let .entity(e) where worldEntities.contains(e): return "entity \(e)"
                case let .cidr(c, _, _) where isWholeAddressSpace(c): return c
                default: continue
                }
            }
            return nil
        }
    }

    /// 0.0.0.0/0 or ::/0 (any spelling of the IPv6 zero address).
    static func isWholeAddressSpace(_ cidr: String) -> Bool {
        let parts = cidr.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[1] == "0" else { return false }
        var buf = [UInt8](repeating: 0, count: 16)
        return inet_pton(AF_INET, String(parts[0]), &buf) == 1 || inet_pton(AF_INET6, String(parts[0]), &buf) == 1
    }

    /// Whether some spec puts its pods into default-deny for `direction`.
    public func restricts(_ direction: PolicyDirection) -> Bool {
        specs.contains { isDefaultDeny($0, direction) }
    }

    /// Whether some spec selects every pod (GitLab's disabled_by label aside).
    public var selectsAllPods: Bool {
        specs.contains { spec in
            if case let .pods(sel) = spec.subject { return sel.withoutGitLabDisabledBy.isEmpty }
            return false
        }
    }
}

extension PolicyItem {
    /// Copies the traits the analysis reads from the typed model.
    mutating func addTraits(from model: NetworkPolicyModel) {
        worldIngress = model.worldIngressRules()
        restrictsIngress = model.restricts(.ingress)
        restrictsEgress = model.restricts(.egress)
        selectsAllPods = model.selectsAllPods
        selectsNodes = model.specs.contains { if case .nodes = $0.subject { true } else { false } }
        fingerprint = model.fingerprint()
        podSelectors = model.podSelectorTraits()
    }
}
