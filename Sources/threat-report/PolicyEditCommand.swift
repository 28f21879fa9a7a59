import ArgumentParser
import Foundation
import ThreatModel
import ThreatPolicy
import ThreatRender
import ThreatSources

/// `threat-report policy edit FILE|-`: rule-mode changes to an existing CiliumNetworkPolicy, in place.
struct PolicyEditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Print a CiliumNetworkPolicy with rule-mode changes (--allow-*, --remove-*), keeping its comments and layout.",
        discussion: """
        --allow-* flags add rules as `policy new` writes them (one rule per peer type, with --ports), after the last \
        rule of their section; --remove-* flags take a peer out of every rule that names it (a rule left without \
        peers goes). Everything else keeps its text. A policy that GitLab's rule mode cannot show (deny rules, L7 \
        rules, CIDR sets, several peer types in one rule, flow-style lists…) is refused: switch to YAML mode. \
        Review the output, then `kubectl apply -f` it. Exit codes: 0 done; 2 usage error, unreadable input, or a \
        policy outside rule mode (nothing printed).
        """)

    @Argument(help: ArgumentHelp("The manifest (one CiliumNetworkPolicy), or - for stdin.", valueName: "file"))
    var file: String

    @OptionGroup(title: "Peers to allow")
    var allow: RuleModeAllowOptions
    @Option(name: .long, help: ArgumentHelp("Ports of the rules --allow-* adds: port[-end][/tcp|udp|sctp|any], comma-separated (none = every port).", valueName: "ports"))
    var ports: String?

    @Option(name: .long, help: ArgumentHelp("Remove the inbound peer selecting exactly these labels.", valueName: "labels"))
    var removeFromLabels: [String] = []
    @Option(name: .long, help: ArgumentHelp("Remove these inbound entities.", valueName: "entities"))
    var removeFromEntities: [String] = []
    @Option(name: .customLong("remove-from-cidr"), help: ArgumentHelp("Remove these inbound address ranges.", valueName: "cidrs"))
    var removeFromCIDR: [String] = []
    @Option(name: .long, help: ArgumentHelp("Remove the outbound peer selecting exactly these labels.", valueName: "labels"))
    var removeToLabels: [String] = []
    @Option(name: .long, help: ArgumentHelp("Remove these outbound entities.", valueName: "entities"))
    var removeToEntities: [String] = []
    @Option(name: .customLong("remove-to-cidr"), help: ArgumentHelp("Remove these outbound address ranges.", valueName: "cidrs"))
    var removeToCIDR: [String] = []
    @Option(name: .customLong("remove-to-fqdn"), help: ArgumentHelp("Remove these outbound DNS names or patterns.", valueName: "names"))
    var removeToFQDN: [String] = []

    func validate() throws { _ = try edit() }

    /// The change the flags describe; every value checked, errors naming the flag.
    func edit() throws -> RuleModeEdit {
        var e = RuleModeEdit()
        try allow.fill(&e.add)
        e.remove.fromLabels = try removeFromLabels.map { try RuleModeFlagValues.labels($0, flag: "--remove-from-labels") }
        e.remove.toLabels = try removeToLabels.map { try RuleModeFlagValues.labels($0, flag: "--remove-to-labels") }
        e.remove.fromEntities = try RuleModeFlagValues.list(removeFromEntities, flag: "--remove-from-entities", check: RuleModeValues.entity)
        e.remove.toEntities = try RuleModeFlagValues.list(removeToEntities, flag: "--remove-to-entities", check: RuleModeValues.entity)
        e.remove.fromCIDRs = try RuleModeFlagValues.list(removeFromCIDR, flag: "--remove-from-cidr", check: RuleModeValues.cidr)
        e.remove.toCIDRs = try RuleModeFlagValues.list(removeToCIDR, flag: "--remove-to-cidr", check: RuleModeValues.cidr)
        e.remove.toFQDNs = try RuleModeFlagValues.list(removeToFQDN, flag: "--remove-to-fqdn", check: RuleModeValues.fqdn)
        if let ports {
            guard e.add.hasIngress || e.add.hasEgress else { throw ValidationError("--ports: it sets the ports of the rules --allow-* adds; give an --allow-* flag") }
            e.add.ports = try RuleModeFlagValues.ports(ports)
        }
        guard !e.isEmpty else { throw ValidationError("nothing to change: give at least one --allow-* or --remove-* flag") }
        return e
    }

    func run() throws {
        let change = try edit()
        let input = try PolicyInput.read(file)
        if let place = TerminalText.firstUnsafe(in: input.text) {
            throw PolicyInput.fail("\(input.origin):\(place.line):\(place.column): \(place.name) in the manifest. "
                + "edit prints the manifest with its text kept, and refuses control characters and bidi overrides, which can disguise text on a terminal; remove it and retry.")
        }
        let result: PolicyRuleEditResult
        do {
            result = try PolicyRuleEditor.apply(change, to: input.text, origin: input.origin)
        } catch {
            throw PolicyInput.fail(error.description)
        }
        PolicyInput.write(result.text)
        for n in result.notes { PolicyInput.note("edited: \(n)") }
        if !change.add.toFQDNs.isEmpty {
            PolicyInput.note("note: toFQDNs works only when Cilium's DNS proxy sees the lookups: also allow DNS to kube-dns with an L7 DNS rule (see docs/policies.md)")
        }
    }
}
