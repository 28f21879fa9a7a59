import Foundation
import ThreatModel

/// GitLab's predefined network policies (Threat Monitoring, 12.9–13.x), in Cilium form.
public enum PredefinedPolicies {
    public static let names = ["drop-outbound", "allow-inbound-http"]

    /// The manifests. `drop-outbound`: every pod, one empty egress rule — Cilium puts the pods in
    /// egress default-deny and the empty rule allows nothing, so all outbound traffic is dropped.
    /// `allow-inbound-http`: every pod, inbound allowed only on TCP 80 and 443, from any source (an
    /// L4-only rule matches every peer). GitLab's own manifest left `protocol` out, which in Cilium
    /// means any protocol; TCP is written here, as the policy's name promises.
    public static let manifests: [String: String] = Dictionary(uniqueKeysWithValues: GitLabPredefinedPolicy.allCases.map { ($0.name, $0.ciliumManifest) })

    public static func isPredefined(_ name: String) -> Bool { names.contains(name) }
}

extension NetworkPolicyModel {
    /// What GitLab's policy editor "rule mode" cannot show: it edits one CiliumNetworkPolicy `spec`
    /// with an endpointSelector by matchLabels and ingress/egress rules made of ONE peer type (labels,
    /// entities, CIDR, FQDN names for egress) plus L4 ports (`port`, `protocol`). Everything else is
    /// listed here, one entry per place, for a finding ("edit in YAML mode only").
    public func unsupportedInRuleMode() -> [String] {
        var out: [String] = []
        if kind != .ciliumNetworkPolicy {
            out.append("kind \(kind.rawValue): the rule mode edits CiliumNetworkPolicy only")
        }
        let topAllowed = ["apiVersion", "kind", "metadata", "spec", "status", "description"]
        for key in topLevelKeys where !topAllowed.contains(key) {
            out.append(key == "specs" ? "specs: several rule sets in one policy" : "top-level key \(key)")
        }
        guard kind != .networkPolicy else { return out }
        let specReasons = [
            "ingressDeny": "deny rules", "egressDeny": "deny rules", "nodeSelector": "host policy",
            "enableDefaultDeny": "default-deny switch", "labels": "rule labels", "description": "spec description",
            "log": "policy logging",
        ]
        for spec in specs {
            for key in spec.keys where !["endpointSelector", "ingress", "egress"].contains(key) {
                out.append("\(spec.path).\(key)" + (specReasons[key].map { " (\($0))" } ?? ""))
            }
            if case let .pods(sel) = spec.subject, !sel.matchExpressions.isEmpty {
                out.append("\(spec.path).endpointSelector.matchExpressions")
            }
            for (d, rules) in [("ingress", spec.ingress ?? []), ("egress", spec.egress ?? [])] {
                for rule in rules { out += ruleModeGaps(rule, direction: d) }
            }
        }
        return out
    }

    private func ruleModeGaps(_ rule: PolicyRule, direction: String) -> [String] {
        var out: [String] = []
        let peerKeys = ["fromEntities", "toEntities", "fromCIDR", "toCIDR", "toFQDNs", "fromEndpoints", "toEndpoints"]
        let reasons = [
            "fromCIDRSet": "CIDR sets and except ranges", "toCIDRSet": "CIDR sets and except ranges",
            "toServices": "services", "fromRequires": "requirements", "toRequires": "requirements",
            "icmps": "ICMP matches", "authentication": "mutual authentication", "fromNodes": "node selectors",
            "toNodes": "node selectors", "fromGroups": "cloud groups", "toGroups": "cloud groups",
        ]
        for key in rule.keys where !peerKeys.contains(key) && key != "toPorts" {
            out.append("\(rule.path).\(key)" + (reasons[key].map { " (\($0))" } ?? ""))
        }
        let used = rule.keys.filter { peerKeys.contains($0) }
        if used.count > 1 {
            out.append("\(rule.path) combines \(used.joined(separator: " and ")) (the rule mode keeps one peer type per rule)")
        }
        if case let .some(peers) = rule.peers {
            let epKey = direction == "ingress" ? "fromEndpoints" : "toEndpoints"
            for (i, peer) in peers.enumerated() {
                switch peer {
                case let .endpoints(sel, _) where !sel.matchExpressions.isEmpty:
                    out.append("\(rule.path).\(epKey) matchExpressions (peer \(i + 1))")
                case let .fqdn(_, pattern?):
                    out.append("\(rule.path).toFQDNs matchPattern \(pattern)")
                default: break
                }
            }
        }
        for (i, pr) in rule.ports.enumerated() {
            let p = "\(rule.path).toPorts[\(i)]"
            if let l7 = pr.l7 { out.append("\(p).rules (L7 \(l7.kind) rules)") }
            for extra in pr.extras { out.append("\(p).\(extra)") }
            for (j, port) in pr.ports.enumerated() where port.endPort != nil {
                out.append("\(p).ports[\(j)].endPort (port ranges)")
            }
        }
        return out
    }
}
