import Foundation
import ThreatModel

/// The network-policy checks of one environment. Pure: they read the policy set the source gave
/// (with the traits the loader computed from the typed model) and the flow counts.
///
/// - `policies.invalid`: a manifest that does not parse or fit the schema (warning).
/// - `policies.disabled`: deployed, but GitLab's disabled_by label makes it select no pod (warning).
/// - `policies.none`: the namespace had flow traffic, and no valid, enabled policy applies (warning).
/// - `policies.world_ingress`: an enforced policy admits traffic from outside the cluster; warning on
///   every port, info when limited to some ports (a web front end is often meant to be public).
/// - `policies.egress_open`: no valid, enabled policy restricts egress in the namespace, so any pod may
///   connect anywhere (warning; left out when `policies.none` already says there is no policy, and when
///   a policy was read without its traits).
/// - `policies.unsupported_in_rule_mode`: GitLab's policy editor can show some policies in YAML mode
///   only: one summary per environment listing them (info).
/// - `policies.duplicate_name`: two manifests define the same kind and name in one namespace, so the
///   one applied last replaces the other (warning).
public enum PolicyFindings {
    public static func findings(for env: EnvironmentReport) -> [Finding] {
        guard let set = env.policies.value else { return [] }
        var out: [Finding] = []
        let ns = env.namespace
        let enforced = set.items.filter { $0.valid && $0.enabled }
        for p in set.items where !p.valid {
            out.append(Finding(
                id: "policies.invalid", severity: .warning, environment: env.name,
                title: "Policy \(p.name) is not valid",
                guidance: """
                Fix the manifest at \(p.origin): \(p.problems.first?.description ?? "it does not fit the policy schema"). \
                Check it with `threat-report policy explain \(file(p))` and `kubectl apply --dry-run=server -f \(file(p))`; \
                until then it is not enforced as intended.
                """, subject: p.name))
        }
        for p in set.items where p.valid && !p.enabled {
            out.append(Finding(
                id: "policies.disabled", severity: .warning, environment: env.name,
                title: "Policy \(p.name) is deployed but not enforced",
                guidance: """
                Its selector carries \(gitlabDisabledByLabel), so it selects no pods. Review it with \
                `threat-report policy explain \(file(p))`, then enable it with \
                `threat-report policy enable \(file(p)) --apply --dry-run=server` (checked by the API server, not stored) \
                and again without --dry-run, or with \
                `threat-report policy enable \(file(p)) > enabled.yaml && kubectl apply -f enabled.yaml`, or remove the \
                label in place: `kubectl -n \(p.namespace ?? ns) edit \(FindingAnalyzer.kubectlResource(p.kind)) \(p.name)`.
                """, subject: p.name))
        }
        let noPolicy = enforced.isEmpty && (env.flows.value?.counts.total ?? 0) > 0
        if noPolicy, let flows = env.flows.value {
            let counts = flows.counts
            out.append(Finding(
                id: "policies.none", severity: .warning, environment: env.name,
                title: "No enforced network policy in \(ns), which had \(grouped(counts.total)) flows",
                guidance: """
                \(grouped(counts.total)) flows (\(grouped(counts.dropped)) dropped) reached or left \(ns) \
                in the window, and no valid, enabled policy selects its pods, so every pod accepts and sends any traffic. \
                Start from GitLab's predefined policies: `threat-report policy predefined --namespace \(ns) > predefined.yaml`, \
                review and enable them (`threat-report policy enable predefined.yaml`), or write one for your pods: \
                `threat-report policy new --name web-ingress --namespace \(ns) --endpoint app=web --allow-from-labels app=frontend --ports 80/tcp`.
                """))
        }
        for p in enforced {
            let rules = p.worldIngress ?? []
            guard !rules.isEmpty else { continue }
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
            out.append(Finding(
                id: "policies.world_ingress", severity: open ? .warning : .info, environment: env.name,
                title: "Policy \(p.name) accepts inbound traffic from outside the cluster" + (open ? " on every port" : ""),
                guidance: guidance, subject: p.name))
        }
        // Policies read without traits (older recordings) cannot say: then no finding.
        if !noPolicy, enforced.allSatisfy({ $0.restrictsEgress == false }) {
            out.append(Finding(
                id: "policies.egress_open", severity: .warning, environment: env.name,
                title: "No policy restricts outbound traffic in \(ns)",
                guidance: """
                Any pod in \(ns) may connect anywhere, which is how a compromised pod reaches out. GitLab's predefined \
                drop-outbound policy denies all outbound traffic (`threat-report policy predefined drop-outbound --namespace \(ns) --enabled`); \
                allow what the pods need with `threat-report policy new --name web-egress --namespace \(ns) --endpoint app=web \
                --allow-to-fqdn api.example.com --ports 443/tcp`.
                """))
        }
        if let f = yamlOnlySummary(env, set) { out.append(f) }
        out += duplicateNames(env, set)
        return out
    }

    /// One finding for every policy GitLab's rule mode cannot show: a long policy set is one line,
    /// not one finding per policy.
    static func yamlOnlySummary(_ env: EnvironmentReport, _ set: PolicySet) -> Finding? {
        let yamlOnly = set.items.filter { $0.valid && !($0.ruleModeUnsupported ?? []).isEmpty }
        guard !yamlOnly.isEmpty else { return nil }
        if yamlOnly.count == 1, let p = yamlOnly.first {
            let gaps = p.ruleModeUnsupported ?? []
            let shown = gaps.prefix(3).joined(separator: "; ") + (gaps.count > 3 ? "; and \(gaps.count - 3) more" : "")
            return Finding(
                id: "policies.unsupported_in_rule_mode", severity: .info, environment: env.name,
                title: "Policy \(p.name) can be edited only as YAML in GitLab's policy editor",
                guidance: """
                GitLab's rule mode cannot show: \(shown). Review what it does with `threat-report policy explain \(file(p))` \
                and keep editing it as YAML.
                """, subject: p.name)
        }
        let n = yamlOnly.count
        let listed = yamlOnly.prefix(10).map { p -> String in
            let gaps = p.ruleModeUnsupported ?? []
            return "\(p.name) (\(gaps.prefix(2).joined(separator: "; "))\(gaps.count > 2 ? "; …" : ""))"
        }
        let more = n > 10 ? "; and \(n - 10) more" : ""
        return Finding(
            id: "policies.unsupported_in_rule_mode", severity: .info, environment: env.name,
            title: "\(n) policies can be edited only as YAML in GitLab's policy editor",
            value: Double(n),
            guidance: """
            GitLab's rule mode cannot show: \(listed.joined(separator: "; "))\(more). Review what each does with \
            `threat-report policy explain FILE` and keep editing them as YAML.
            """, unit: .count)
    }

    /// Manifests that define the same kind and name in one namespace: Kubernetes keeps one object per
    /// name, so only the last one applied is in force and the report would show a policy that is not.
    static func duplicateNames(_ env: EnvironmentReport, _ set: PolicySet) -> [Finding] {
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
                id: "policies.duplicate_name", severity: .warning, environment: env.name,
                title: "\(same.count) manifests define \(kind) \(first.name) in \(ns)",
                value: Double(same.count),
                guidance: """
                Kubernetes keeps one \(kind) per name and namespace: applying these manifests in turn leaves only the last one \
                in force. They are at \(same.map(\.origin).joined(separator: ", ")); compare them with \
                `threat-report policy explain FILE`, rename one or merge them, and check what is deployed with `kubectl -n \(ns) get \(FindingAnalyzer.kubectlResource(first.kind)) \(first.name) -o yaml`.
                """, subject: first.name, unit: .count)
        }
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
