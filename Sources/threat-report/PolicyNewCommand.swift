import ArgumentParser
import Foundation
import ThreatModel
import ThreatPolicy
import ThreatSources

/// `threat-report policy new`: a CiliumNetworkPolicy from GitLab rule-mode choices.
struct PolicyNewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Print a CiliumNetworkPolicy built from rule-mode flags, as GitLab's policy editor did.",
        discussion: """
        Each --allow-* flag adds peers; per direction there is one rule per peer type (labels, entities, CIDR, FQDN), \
        and --ports applies to every rule. Labels are key=value pairs separated by commas (ANDed); repeat \
        --allow-from-labels / --allow-to-labels for alternatives (ORed). Lists take commas or repeated flags. \
        Example: threat-report policy new --name web --namespace shop --endpoint app=web \
        --allow-from-labels app=frontend --ports 80/tcp. --apply creates it through the Kubernetes API (POST; \
        --dry-run=server: validated, not stored); exit 3 when the API refuses it.
        """)

    @Option(name: .long, help: ArgumentHelp("metadata.name (lowercase letters, digits, '-' and '.').", valueName: "name"))
    var name: String

    @Option(name: .long, help: ArgumentHelp("metadata.namespace (default: none, kubectl's current namespace).", valueName: "namespace"))
    var namespace: String?

    @Option(name: .long, help: ArgumentHelp("Labels of the pods the policy applies to, key=value[,key=value] (repeatable; none = every pod).", valueName: "labels"))
    var endpoint: [String] = []

    @OptionGroup(title: "Peers to allow")
    var allow: RuleModeAllowOptions

    @Option(name: .long, help: ArgumentHelp("Ports of every rule: port[-end][/tcp|udp|sctp|any], comma-separated (default protocol TCP; none = every port).", valueName: "ports"))
    var ports: String?

    @Flag(name: .long, help: "Write it disabled: GitLab's disabled_by label in the endpoint selector.")
    var disabled = false

    @OptionGroup(title: "Sending the policy to the cluster")
    var kube: PolicyApplyOptions

    func validate() throws {
        _ = try policy()
        if kube.apply && namespace == nil { throw ValidationError("--apply needs --namespace (the namespace to create the policy in)") }
    }

    /// The policy the flags describe; every value checked, errors naming the flag.
    func policy() throws -> RuleModePolicy {
        guard RuleModeValues.isDNSSubdomain(name) else {
            throw ValidationError("--name: '\(name)' is not a policy name (lowercase letters, digits, '-' and '.', at most 253)")
        }
        if let namespace, !RuleModeValues.isDNSLabel(namespace) {
            throw ValidationError("--namespace: '\(namespace)' is not a namespace name (lowercase letters, digits and '-', at most 63)")
        }
        var p = RuleModePolicy(name: name, namespace: namespace)
        for text in endpoint {
            for l in try RuleModeFlagValues.labels(text, flag: "--endpoint") {
                guard !p.endpoint.contains(where: { $0.key == l.key }) else {
                    throw ValidationError("--endpoint: label key '\(l.key)' is given twice")
                }
                p.endpoint.append(l)
            }
        }
        try allow.fill(&p)
        if let ports { p.ports = try RuleModeFlagValues.ports(ports) }
        p.disabled = disabled
        guard p.hasIngress || p.hasEgress else {
            throw ValidationError("nothing to allow: give at least one --allow-from-* or --allow-to-* flag")
        }
        return p
    }

    func run() throws {
        let p = try policy()
        let yaml = p.yaml()
        // The manifest must read back as a valid policy; anything else is a bug, not a user error.
        let check = PolicyDocumentLoader.loadDetailed(text: yaml, origin: "new policy")
        guard check.items.count == 1, check.items[0].valid else {
            throw PolicyInput.fail("the policy built from the flags does not read back as valid (\(check.items.first?.problems.map(\.description).joined(separator: "; ") ?? "no policy")); please report this")
        }
        var write: PolicyWrite?
        if kube.apply {
            do {
                write = try KubernetesPolicyAPI.create(manifest: yaml, origin: "new policy", namespace: namespace, dryRun: kube.dryRun == .server)
            } catch {
                throw PolicyInput.fail("--apply: \(error.description)")
            }
        }
        PolicyInput.write(yaml)
        if !p.toFQDNs.isEmpty {
            PolicyInput.note("note: toFQDNs works only when Cilium's DNS proxy sees the lookups: also allow DNS to kube-dns with an L7 DNS rule (see docs/policies.md)")
        }
        try kube.send(write.map { [$0] } ?? [])
    }
}
