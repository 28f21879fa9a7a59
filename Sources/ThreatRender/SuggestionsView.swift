import Foundation
import ThreatModel

/// The "Suggested policies" section of an environment whose flows came from flow files or Hubble workload metrics: one
/// least-privilege policy per workload, written beside the report, with what `policy explain`
/// says of it. Nothing is applied.
struct SuggestionsView: Sendable {
    let count: String
    let flows_used: String
    let notes: [String]
    let items: [ItemView]
    let empty: Bool
    let namespace: String
    /// The rules allow every port (suggestions from metrics, which carry none).
    let ports_unknown: Bool

    struct ItemView: Sendable {
        let file: String
        let name: String
        let workloads: String
        let explanation: [String]
        let manifest: String
    }

    /// Nil when the flow source gives no suggestions (a replay without them, no flows section).
    init?(_ env: EnvironmentReport) {
        guard let s = env.flows.value?.suggestions else { return nil }
        count = CoverageText.plural(s.items.count, "suggested policy", "suggested policies")
        flows_used = NumberText.grouped(s.flowsUsed)
        notes = s.notes.map { Sanitize.text($0, max: 600) }
        items = s.items.map { i in
            ItemView(file: Sanitize.text(i.file, max: 300), name: Sanitize.text(i.name, max: 120),
                     workloads: Sanitize.text(i.workloads.joined(separator: ", "), max: 600),
                     explanation: i.explanation.map { Sanitize.text($0, max: 2000) },
                     manifest: Sanitize.text(i.manifest, max: 20000, keepNewlines: true))
        }
        // When the source could give none, the note says why; "no allowed connection" would not be true.
        empty = s.items.isEmpty && s.unavailable != true
        namespace = Sanitize.text(env.namespace, max: 80)
        ports_unknown = s.portsUnknown == true
    }

    /// `environments[].flows.suggestions` of report.json (null where the source gives none).
    static func json(_ env: EnvironmentReport) -> JSONValue {
        guard let s = env.flows.value?.suggestions else { return .null }
        return .object([
            ("items", .array(s.items.map { i in .object([
                ("file", .string(i.file)), ("name", .string(i.name)),
                ("workloads", .array(i.workloads.map { .string($0) })),
                ("explanation", .array(i.explanation.map { .string($0) })),
            ]) })),
            ("flows_used", .number(Double(s.flowsUsed))),
            ("notes", .array(s.notes.map { .string($0) })),
        ])
    }
}
