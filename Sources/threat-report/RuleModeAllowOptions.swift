import ArgumentParser
import Foundation
import ThreatModel
import ThreatPolicy

/// The `--allow-*` flags of GitLab's rule mode, shared by `policy new` and `policy edit`. `--ports`
/// stays with each command: it sets every rule in `new` and only the added rules in `edit`.
struct RuleModeAllowOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Allow inbound from pods with these labels, key=value[,key=value] (repeatable: ORed).", valueName: "labels"))
    var allowFromLabels: [String] = []

    @Option(name: .long, help: ArgumentHelp("Allow inbound from Cilium entities: \(RuleModeValues.entities.joined(separator: ", ")).", valueName: "entities"))
    var allowFromEntities: [String] = []

    @Option(name: .customLong("allow-from-cidr"), help: ArgumentHelp("Allow inbound from these address ranges, like 10.0.0.0/8.", valueName: "cidrs"))
    var allowFromCIDR: [String] = []

    @Option(name: .long, help: ArgumentHelp("Allow outbound to pods with these labels, key=value[,key=value] (repeatable: ORed).", valueName: "labels"))
    var allowToLabels: [String] = []

    @Option(name: .long, help: ArgumentHelp("Allow outbound to Cilium entities (as --allow-from-entities).", valueName: "entities"))
    var allowToEntities: [String] = []

    @Option(name: .customLong("allow-to-cidr"), help: ArgumentHelp("Allow outbound to these address ranges, like 10.0.0.0/8.", valueName: "cidrs"))
    var allowToCIDR: [String] = []

    @Option(name: .customLong("allow-to-fqdn"), help: ArgumentHelp("Allow outbound to these DNS names (api.example.com) or patterns (*.example.com).", valueName: "names"))
    var allowToFQDN: [String] = []

    /// Sets the peers of `policy` from the flags; every value checked, errors naming the flag.
    func fill(_ policy: inout RuleModePolicy) throws {
        policy.fromLabels = try allowFromLabels.map { try RuleModeFlagValues.labels($0, flag: "--allow-from-labels") }
        policy.toLabels = try allowToLabels.map { try RuleModeFlagValues.labels($0, flag: "--allow-to-labels") }
        policy.fromEntities = try RuleModeFlagValues.list(allowFromEntities, flag: "--allow-from-entities", check: RuleModeValues.entity)
        policy.toEntities = try RuleModeFlagValues.list(allowToEntities, flag: "--allow-to-entities", check: RuleModeValues.entity)
        policy.fromCIDRs = try RuleModeFlagValues.list(allowFromCIDR, flag: "--allow-from-cidr", check: RuleModeValues.cidr)
        policy.toCIDRs = try RuleModeFlagValues.list(allowToCIDR, flag: "--allow-to-cidr", check: RuleModeValues.cidr)
        policy.toFQDNs = try RuleModeFlagValues.list(allowToFQDN, flag: "--allow-to-fqdn", check: RuleModeValues.fqdn)
    }
}

/// Reading rule-mode flag values, with errors that name the flag.
enum RuleModeFlagValues {
    /// `key=value[,key=value]`, ANDed.
    static func labels(_ text: String, flag: String) throws -> [LabelPair] {
        switch RuleModeValues.labels(text) {
        case let .success(l): return l
        case let .failure(e): throw ValidationError("\(flag): \(e)")
        }
    }

    /// Comma-separated or repeated values, each checked, duplicates dropped, order kept.
    static func list(_ values: [String], flag: String, check: (String) -> RuleModeValueError?) throws -> [String] {
        var out: [String] = []
        for v in values.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            let item = v.trimmingCharacters(in: .whitespaces)
            if let e = check(item) { throw ValidationError("\(flag): \(e)") }
            if !out.contains(item) { out.append(item) }
        }
        return out
    }

    /// `port[-end][/protocol]`, comma-separated.
    static func ports(_ text: String) throws -> [RuleModePort] {
        switch RuleModeValues.ports(text) {
        case let .success(list): return list
        case let .failure(e): throw ValidationError("--ports: \(e)")
        }
    }
}
