import Foundation
import ThreatModel

/// One check: its description and its evaluation are one type, as a lint rule and its description
/// are. Adding a check means adding one type conforming to `Check` and naming it in `Checks.all`;
/// the SARIF rules, JUnit test cases and docs/checks.md follow from that list.
public protocol Check: Sendable {
    /// The id, name, descriptions, help, section and levels, said once.
    static var description: CheckDescription { get }
    /// The findings of this check for one environment, every one with `description.id`. Pure.
    static func findings(in context: CheckContext) -> [Finding]
}

extension Check {
    /// The finding id this check emits.
    public static var id: String { description.id }
}

/// What a check reads: one environment's report and the window it covers.
public struct CheckContext: Sendable {
    public var environment: EnvironmentReport
    public var window: TimeWindow

    public init(environment: EnvironmentReport, window: TimeWindow) {
        self.environment = environment
        self.window = window
    }

    /// The window's length for `--since` in commands (`24h`).
    public var since: String { WindowText.since(window) }
}

/// The list of checks the analysis runs, in catalogue order (the order of SARIF rules and JUnit
/// test cases).
public enum Checks {
    public static let all: [any Check.Type] = [
        AnomalousRatioCheck.self,
        DroppedRatioCheck.self,
        HighSeverityCategoriesCheck.self,
        BlockingDisabledCheck.self,
        AttackBurstCheck.self,
        CRSUnconfiguredCheck.self,
        FalsePositiveCandidatesCheck.self,
        AnomalousRatioRisingCheck.self,
        NewTopClientsCheck.self,
        DroppedRatioRisingCheck.self,
        DropBurstCheck.self,
        PolicyDeniedDominantCheck.self,
        NoFlowMetricsCheck.self,
        PolicyAuditModeCheck.self,
        InvalidPolicyCheck.self,
        DisabledPolicyCheck.self,
        NoPolicyCheck.self,
        WorldIngressCheck.self,
        EgressOpenCheck.self,
        RuleModeUnsupportedCheck.self,
        DuplicatePolicyNameCheck.self,
        PolicyRemovedSinceLastRunCheck.self,
        PolicyDisabledSinceLastRunCheck.self,
        UncoveredWorkloadCheck.self,
        InputUnreadableCheck.self,
        InputPartiallyReadCheck.self,
        NoDenominatorCheck.self,
    ]

    /// The descriptions of `all`, for the renderers' catalogue.
    public static var descriptions: [CheckDescription] { all.map { $0.description } }

    /// The window given to the checks that do not read it (the policy and input checks run alone).
    static let windowless = TimeWindow(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 0), interval: .hour)

    /// The findings of `checks` for one environment, check by check.
    static func run(_ checks: [any Check.Type], _ env: EnvironmentReport, window: TimeWindow) -> [Finding] {
        let context = CheckContext(environment: env, window: window)
        return checks.flatMap { $0.findings(in: context) }
    }
}

extension Checks {
    /// The sections a check may read; `input` reads the coverage of all three.
    public static let sections = ["waf", "flows", "policies", "input"]

    /// What is wrong with a list of checks and the findings they emitted, one sentence each
    /// (empty when nothing is): a description missing a part, an id that is not
    /// `<section>.<snake_case>`, two checks sharing an id or a name, a finding whose id no check of
    /// the list has, or whose level its check does not declare.
    public static func problems(_ checks: [any Check.Type], emitted: [Finding] = []) -> [String] {
        var out: [String] = []
        var ids: [String: Int] = [:], names: [String: Int] = [:]
        for (i, check) in checks.enumerated() {
            let d = check.description
            let which = "check \(i + 1) (\(String(describing: check)), id \"\(d.id)\")"
            let parts = [("name", d.name), ("short description", d.shortDescription), ("full description", d.fullDescription),
                         ("help", d.help)]
            for (part, text) in parts where text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                out.append("\(which) has no \(part)")
            }
            let pieces = d.id.split(separator: ".", omittingEmptySubsequences: false)
            if pieces.count != 2 || String(pieces[0]) != d.section || pieces[1].isEmpty
                || !pieces[1].allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) {
                out.append("\(which): the id is not <section>.<snake_case> with section \"\(d.section)\"")
            }
            if !sections.contains(d.section) { out.append("\(which): unknown section \"\(d.section)\"") }
            if !d.help.contains("`") { out.append("\(which): the help names no command (in backticks)") }
            if !d.severities.contains(d.defaultSeverity) { out.append("\(which): the default level is not among its levels") }
            if let first = ids[d.id] { out.append("\(which) has the id of check \(first + 1)") } else { ids[d.id] = i }
            if let first = names[d.name] { out.append("\(which) has the name of check \(first + 1)") } else { names[d.name] = i }
        }
        for f in emitted {
            guard let i = ids[f.id] else {
                out.append("finding \"\(f.id)\" (\(f.title.prefix(80))) is emitted by no check of the list")
                continue
            }
            if !checks[i].description.severities.contains(f.severity) {
                out.append("finding \"\(f.id)\" has level \(f.severity.rawValue), which its check does not declare")
            }
        }
        return out
    }
}
