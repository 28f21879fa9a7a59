import ArgumentParser
import Foundation
import ThreatModel
import ThreatPolicy
import ThreatSources

/// `threat-report policy predefined`: GitLab's two predefined policies as manifests.
struct PolicyPredefinedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predefined",
        abstract: "Print GitLab's predefined policies (drop-outbound, allow-inbound-http), disabled unless --enabled.",
        discussion: """
        drop-outbound denies all outbound traffic of every pod; allow-inbound-http lets every pod accept inbound \
        traffic only on TCP 80 and 443. GitLab listed them disabled by default, so they carry the \
        network-policy.gitlab.com/disabled_by label unless --enabled is given.
        """)

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case ciliumnetworkpolicy, networkpolicy
    }

    @Argument(help: ArgumentHelp("Only this policy: drop-outbound or allow-inbound-http (default: both).", valueName: "name"))
    var name: String?

    @Option(name: .long, help: ArgumentHelp("Manifest kind: ciliumnetworkpolicy (GitLab's last form) or networkpolicy (Kubernetes).", valueName: "kind"))
    var kind: Kind = .ciliumnetworkpolicy

    @Option(name: .long, help: ArgumentHelp("metadata.namespace to write (default: none, kubectl's current namespace).", valueName: "namespace"))
    var namespace: String?

    @Flag(name: .long, help: "Print the policies enforced, without GitLab's disabled_by label.")
    var enabled = false

    func validate() throws {
        if let name, !PredefinedPolicies.isPredefined(name) {
            throw ValidationError("name: '\(name)' is not a predefined policy (\(PredefinedPolicies.names.joined(separator: ", ")))")
        }
        if let namespace, !RuleModeValues.isDNSLabel(namespace) {
            throw ValidationError("--namespace: '\(namespace)' is not a namespace name (lowercase letters, digits and '-', at most 63)")
        }
    }

    func run() {
        let names = name.map { [$0] } ?? PredefinedPolicies.names
        let policyKind: PolicyKind = kind == .networkpolicy ? .networkPolicy : .ciliumNetworkPolicy
        let docs = names.compactMap { PredefinedPolicies.manifest($0, kind: policyKind, enabled: enabled, namespace: namespace) }
        PolicyInput.write(docs.joined(separator: "---\n"))
    }
}
