import Foundation
import ThreatModel

extension PredefinedPolicies {
    /// The same two policies as `networking.k8s.io/v1` NetworkPolicy, the form GitLab shipped
    /// first. `drop-outbound`: Egress in policyTypes and no egress rule, so nothing may leave.
    /// `allow-inbound-http`: one ingress rule with ports and no `from`, so any source on TCP 80/443.
    public static let networkPolicyManifests: [String: String] = [
        "drop-outbound": """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: drop-outbound
            spec:
              podSelector: {}
              policyTypes:
              - Egress
            """,
        "allow-inbound-http": """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata:
              name: allow-inbound-http
            spec:
              podSelector: {}
              ingress:
              - ports:
                - port: 80
                  protocol: TCP
                - port: 443
                  protocol: TCP
            """,
    ]

    /// A predefined policy's manifest as `policy predefined` prints it: Cilium or NetworkPolicy
    /// form, with `metadata.namespace` when given, and disabled with GitLab's label unless `enabled`
    /// (GitLab listed them disabled by default).
    public static func manifest(_ name: String, kind: PolicyKind, enabled: Bool, namespace: String? = nil) -> String? {
        let source = kind == .networkPolicy ? networkPolicyManifests : manifests
        guard var text = source[name] else { return nil }
        if let namespace {
            text = text.replacingOccurrences(of: "  name: \(name)\n", with: "  name: \(name)\n  namespace: \(YAMLLines.scalar(namespace))\n")
        }
        if !enabled {
            let key = kind == .networkPolicy ? "podSelector" : "endpointSelector"
            text = text.replacingOccurrences(of: "  \(key): {}", with: """
                  \(key):
                    matchLabels:
                      \(gitlabDisabledByLabel): gitlab
                """)
        }
        return text + "\n"
    }
}
