import Foundation
import ThreatModel

/// A manifest that does not parse or fit the schema.
public enum InvalidPolicyCheck: Check {
    public static let description = CheckDescription(
        id: "policies.invalid", name: "InvalidNetworkPolicy",
        shortDescription: "A deployed network policy is not valid",
        fullDescription: "A CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy or NetworkPolicy manifest does not parse or does not fit the policy schema, so it is not enforced as intended.",
        help: "Fix the manifest at the location shown, then check it with `kubectl apply --dry-run=server -f FILE`.",
        section: "policies", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        guard let set = context.environment.policies.value else { return [] }
        return set.items.filter { !$0.valid }.map { p in
            Finding(
                id: id, severity: .warning, environment: context.environment.name,
                title: "Policy \(p.name) is not valid",
                guidance: """
                Fix the manifest at \(p.origin): \(p.problems.first?.description ?? "it does not fit the policy schema"). \
                Check it with `threat-report policy explain \(PolicyFindings.file(p))` and `kubectl apply --dry-run=server -f \(PolicyFindings.file(p))`; \
                until then it is not enforced as intended.
                """, subject: p.name)
        }
    }
}

/// Deployed, but GitLab's disabled_by label makes it select no pod.
public enum DisabledPolicyCheck: Check {
    public static let description = CheckDescription(
        id: "policies.disabled", name: "DisabledNetworkPolicy",
        shortDescription: "A deployed network policy is not enforced",
        fullDescription: "The policy's endpoint selector carries GitLab's network-policy.gitlab.com/disabled_by label, so it selects no pods and enforces nothing.",
        help: "Review it with `threat-report policy explain`, then enable it with `threat-report policy enable FILE --apply` or remove the label with `kubectl edit`.",
        section: "policies", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let set = env.policies.value else { return [] }
        return set.items.filter { $0.valid && !$0.enabled }.map { p in
            let file = PolicyFindings.file(p)
            return Finding(
                id: id, severity: .warning, environment: env.name,
                title: "Policy \(p.name) is deployed but not enforced",
                guidance: """
                Its selector carries \(gitlabDisabledByLabel), so it selects no pods. Review it with \
                `threat-report policy explain \(file)`, then enable it with \
                `threat-report policy enable \(file) --apply --dry-run=server` (checked by the API server, not stored) \
                and again without --dry-run, or with \
                `threat-report policy enable \(file) > enabled.yaml && kubectl apply -f enabled.yaml`, or remove the \
                label in place: `kubectl -n \(p.namespace ?? env.namespace) edit \(FindingAnalyzer.kubectlResource(p.kind)) \(p.name)`.
                """, subject: p.name)
        }
    }
}

/// The namespace had flow traffic, and no valid, enabled policy applies.
public enum NoPolicyCheck: Check {
    public static let description = CheckDescription(
        id: "policies.none", name: "NoNetworkPolicy",
        shortDescription: "A namespace with traffic has no enforced network policy",
        fullDescription: "The environment's namespace had flow traffic in the window, and no valid, enabled network policy selects its pods, so every pod accepts and sends any traffic.",
        help: "Start from GitLab's predefined policies (`threat-report policy predefined --namespace NAMESPACE`), or write one for your pods: `threat-report policy new --name web-ingress --namespace NAMESPACE --endpoint app=web --allow-from-labels app=frontend --ports 80/tcp --apply --dry-run=server`, then without --dry-run.",
        section: "policies", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment, ns = env.namespace
        guard PolicyFindings.noEnforcedPolicyWithTraffic(env), let counts = env.flows.value?.counts else { return [] }
        let total = PolicyFindings.grouped(counts.total)
        return [Finding(
            id: id, severity: .warning, environment: env.name,
            title: "No enforced network policy in \(ns), which had \(total) flows",
            guidance: """
            \(total) flows (\(PolicyFindings.grouped(counts.dropped)) dropped) reached or left \(ns) \
            in the window, and no valid, enabled policy selects its pods, so every pod accepts and sends any traffic. \
            Start from GitLab's predefined policies: `threat-report policy predefined --namespace \(ns) > predefined.yaml`, \
            review and enable them (`threat-report policy enable predefined.yaml`), or write one for your pods: \
            `threat-report policy new --name web-ingress --namespace \(ns) --endpoint app=web --allow-from-labels app=frontend --ports 80/tcp`.
            """)]
    }
}

/// An enforced policy admits traffic from outside the cluster: warning on every port, info when
/// limited to some ports (a web front end is often meant to be public).
public enum WorldIngressCheck: Check {
    public static let description = CheckDescription(
        id: "policies.world_ingress", name: "WorldIngressNetworkPolicy",
        shortDescription: "An enforced network policy admits inbound traffic from outside the cluster",
        fullDescription: "An allow rule of an enforced policy admits traffic from the `world` or `all` entity, from 0.0.0.0/0 or ::/0, or from any peer at all. Warning when it admits every port, info when it is limited to some ports.",
        help: "If only the ingress controller or some pods should reach the pods, allow them by labels instead: `threat-report policy new --name NAME --namespace NAMESPACE --allow-from-labels app.kubernetes.io/name=ingress-nginx --ports 80/tcp`, and check it with `threat-report policy explain FILE`.",
        section: "policies", defaultSeverity: .warning, severities: [.info, .warning])

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment, ns = env.namespace
        guard let set = env.policies.value else { return [] }
        return set.items.filter { $0.valid && $0.enabled }.compactMap { p -> Finding? in
            let rules = p.worldIngress ?? []
            guard !rules.isEmpty else { return nil }
            let open = rules.contains(where: \.anyPort)
            let what = rules.map { "\($0.path) admits \($0.peer == "anywhere" ? "any source" : $0.peer) on \($0.ports)" }
            // A host policy (nodeSelector) guards the nodes themselves: pod labels cannot narrow it.
            let guidance = p.selectsNodes == true ? """
                \(what.joined(separator: "; ")). This is a host policy: it admits that traffic to the selected nodes \
                themselves. If only the load balancer or a management network should reach them, allow its addresses \
                instead with `fromCIDRSet` (or the `remote-node` and `health` entities for cluster traffic), keep the \
                ports to what the node serves, and check the result with `threat-report policy explain FILE`.
                """ : """
                \(what.joined(separator: "; ")). If only the ingress controller or some pods should reach these pods, \
                allow them by labels instead, e.g. `threat-report policy new --name \(p.name) --namespace \(p.namespace ?? ns) \
                --allow-from-labels app.kubernetes.io/name=ingress-nginx --ports 80/tcp`, and check the result with \
                `threat-report policy explain FILE`.
                """
            return Finding(
                id: id, severity: open ? .warning : .info, environment: env.name,
                title: "Policy \(p.name) accepts inbound traffic from outside the cluster" + (open ? " on every port" : ""),
                guidance: guidance, subject: p.name)
        }
    }
}

/// No valid, enabled policy restricts egress in the namespace, so any pod may connect anywhere.
/// Left out when `policies.none` already says there is no policy, and when a policy was read
/// without its traits (older recordings cannot say).
public enum EgressOpenCheck: Check {
    public static let description = CheckDescription(
        id: "policies.egress_open", name: "OpenEgress",
        shortDescription: "No network policy restricts outbound traffic",
        fullDescription: "No valid, enabled policy in the namespace puts its pods into default-deny for egress, so any pod may connect anywhere.",
        help: "GitLab's predefined drop-outbound policy denies all outbound traffic (`threat-report policy predefined drop-outbound --namespace NAMESPACE --enabled`); allow what the pods need with `threat-report policy new --name web-egress --namespace NAMESPACE --endpoint app=web --allow-to-fqdn api.example.com --ports 443/tcp`.",
        section: "policies", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment, ns = env.namespace
        guard let set = env.policies.value, !PolicyFindings.noEnforcedPolicyWithTraffic(env),
              set.items.filter({ $0.valid && $0.enabled }).allSatisfy({ $0.restrictsEgress == false }) else { return [] }
        return [Finding(
            id: id, severity: .warning, environment: env.name,
            title: "No policy restricts outbound traffic in \(ns)",
            guidance: """
            Any pod in \(ns) may connect anywhere, which is how a compromised pod reaches out. GitLab's predefined \
            drop-outbound policy denies all outbound traffic (`threat-report policy predefined drop-outbound --namespace \(ns) --enabled`); \
            allow what the pods need with `threat-report policy new --name web-egress --namespace \(ns) --endpoint app=web \
            --allow-to-fqdn api.example.com --ports 443/tcp`.
            """)]
    }
}

/// GitLab's policy editor can show some policies in YAML mode only: one summary per environment
/// listing them, not one finding per policy.
public enum RuleModeUnsupportedCheck: Check {
    public static let description = CheckDescription(
        id: "policies.unsupported_in_rule_mode", name: "PolicyOutsideRuleMode",
        shortDescription: "Network policies can be edited only as YAML in GitLab's policy editor",
        fullDescription: "Policies use constructs GitLab's policy editor rule mode cannot show (deny rules, L7 rules, CIDR sets with except, services, matchExpressions, the NetworkPolicy kind…); they work, but must be reviewed as YAML. One finding per environment lists them; the value is their number.",
        help: "Review what it does with `threat-report policy explain FILE` and keep editing it as YAML.",
        section: "policies", defaultSeverity: .info)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let set = env.policies.value else { return [] }
        let yamlOnly = set.items.filter { $0.valid && !($0.ruleModeUnsupported ?? []).isEmpty }
        guard !yamlOnly.isEmpty else { return [] }
        if yamlOnly.count == 1, let p = yamlOnly.first {
            let gaps = p.ruleModeUnsupported ?? []
            let shown = gaps.prefix(3).joined(separator: "; ") + (gaps.count > 3 ? "; and \(gaps.count - 3) more" : "")
            return [Finding(
                id: id, severity: .info, environment: env.name,
                title: "Policy \(p.name) can be edited only as YAML in GitLab's policy editor",
                guidance: """
                GitLab's rule mode cannot show: \(shown). Review what it does with `threat-report policy explain \(PolicyFindings.file(p))` \
                and keep editing it as YAML.
                """, subject: p.name)]
        }
        let n = yamlOnly.count
        let listed = yamlOnly.prefix(10).map { p -> String in
            let gaps = p.ruleModeUnsupported ?? []
            return "\(p.name) (\(gaps.prefix(2).joined(separator: "; "))\(gaps.count > 2 ? "; …" : ""))"
        }
        let more = n > 10 ? "; and \(n - 10) more" : ""
        return [Finding(
            id: id, severity: .info, environment: env.name,
            title: "\(n) policies can be edited only as YAML in GitLab's policy editor",
            value: Double(n),
            guidance: """
            GitLab's rule mode cannot show: \(listed.joined(separator: "; "))\(more). Review what each does with \
            `threat-report policy explain FILE` and keep editing them as YAML.
            """, unit: .count)]
    }
}

/// Manifests that define the same kind and name in one namespace: Kubernetes keeps one object per
/// name, so only the last one applied is in force and the report would show a policy that is not.
public enum DuplicatePolicyNameCheck: Check {
    public static let description = CheckDescription(
        id: "policies.duplicate_name", name: "DuplicatePolicyName",
        shortDescription: "Two manifests define the same policy name in one namespace",
        fullDescription: "Two or more manifests of the policy source define the same kind and name in the same namespace. Kubernetes keeps one object per name, so only the manifest applied last is in force; the others describe policies that do not exist. The value is the number of manifests.",
        help: "Rename one of them or merge their rules, then check what is deployed with `kubectl -n NAMESPACE get networkpolicy NAME -o yaml` (or `ciliumnetworkpolicy`).",
        section: "policies", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let set = env.policies.value else { return [] }
        var groups: [String: [PolicyItem]] = [:]
        var order: [String] = []
        for p in set.items {
            let key = "\(p.kind?.rawValue ?? p.kindText)\u{0}\(p.namespace ?? env.namespace)\u{0}\(p.name)"
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(p)
        }
        return order.compactMap { key -> Finding? in
            guard let same = groups[key], same.count > 1, let first = same.first else { return nil }
            let kind = first.kind?.rawValue ?? first.kindText, ns = first.namespace ?? env.namespace
            return Finding(
                id: id, severity: .warning, environment: env.name,
                title: "\(same.count) manifests define \(kind) \(first.name) in \(ns)",
                value: Double(same.count),
                guidance: """
                Kubernetes keeps one \(kind) per name and namespace: applying these manifests in turn leaves only the last one \
                in force. They are at \(same.map(\.origin).joined(separator: ", ")); compare them with \
                `threat-report policy explain FILE`, rename one or merge them, and check what is deployed with `kubectl -n \(ns) get \(FindingAnalyzer.kubectlResource(first.kind)) \(first.name) -o yaml`.
                """, subject: first.name, unit: .count)
        }
    }
}

/// The network-policy checks of one environment. Pure: they read the policy set the source gave
/// (with the traits the loader computed from the typed model) and the flow counts.
public enum PolicyFindings {
    public static let checks: [any Check.Type] = [
        InvalidPolicyCheck.self, DisabledPolicyCheck.self, NoPolicyCheck.self, WorldIngressCheck.self,
        EgressOpenCheck.self, RuleModeUnsupportedCheck.self, DuplicatePolicyNameCheck.self,
    ]

    public static func findings(for env: EnvironmentReport) -> [Finding] {
        Checks.run(checks, env, window: Checks.windowless)
    }

    /// The namespace had flow traffic and no valid, enabled policy (`policies.none`).
    static func noEnforcedPolicyWithTraffic(_ env: EnvironmentReport) -> Bool {
        guard let set = env.policies.value else { return false }
        return !set.items.contains { $0.valid && $0.enabled } && (env.flows.value?.counts.total ?? 0) > 0
    }

    /// 12,345 (as the report shows counts).
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// The manifest file of a policy when its origin is a YAML file (`dir/web.yaml:12`), else `FILE`.
    static func file(_ p: PolicyItem) -> String {
        guard let colon = p.origin.lastIndex(of: ":") else { return "FILE" }
        let path = String(p.origin[..<colon])
        let ext = (path as NSString).pathExtension.lowercased()
        guard ["yaml", "yml"].contains(ext), !path.contains(" ") else { return "FILE" }
        return path
    }
}
