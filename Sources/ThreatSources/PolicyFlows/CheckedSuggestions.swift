import Foundation
import ThreatModel
import ThreatPolicy

/// The suggestions as `policy suggest` and the report both write them: each manifest read back
/// through the tool's own validator and explainer before it is kept.
public struct CheckedSuggestion: Sendable, Equatable {
    public var policy: SuggestedPolicy
    /// `<workload slug>.yaml`.
    public var file: String
    public var yaml: String
    /// What `policy explain` says of it.
    public var explanation: [String]
}

extension CheckedSuggestion {
    /// Each policy's manifest (disabled) read back through the validator and explainer: the valid
    /// ones are kept with their explanation, the others named in `rejected` and never written.
    public static func check(_ policies: [SuggestedPolicy], kind: SuggestionKind, namespace: String) -> (kept: [CheckedSuggestion], rejected: [String]) {
        // Each policy is written and read back on its own (a YAML round trip of up to 500 peers a
        // direction): on every core, then taken in order.
        let outcomes: Locked<[Result<CheckedSuggestion, Rejected>?]> = .slots(policies.count)
        DispatchQueue.concurrentPerform(iterations: policies.count) { i in
            outcomes.set(i, check(policies[i], kind: kind, namespace: namespace))
        }
        var kept: [CheckedSuggestion] = [], rejected: [String] = []
        for outcome in outcomes.current {
            switch outcome {
            case let .success(c): kept.append(c)
            case let .failure(r): rejected.append(r.reason)
            case nil: break
            }
        }
        return (kept, rejected)
    }

    struct Rejected: Error {
        var reason: String
    }

    static func check(_ p: SuggestedPolicy, kind: SuggestionKind, namespace: String) -> Result<CheckedSuggestion, Rejected> {
        let yaml = p.yaml(kind: kind, disabled: true)
        let file = String(p.name.dropFirst("suggested-".count)) + ".yaml"
        let check = PolicyDocumentLoader.loadDetailed(text: yaml, origin: file, namespace: namespace)
        guard check.items.count == 1, check.items[0].valid, !check.items[0].description.isEmpty else {
            let why = check.items.first?.problems.map(\.description).joined(separator: "; ") ?? "no policy"
            return .failure(Rejected(reason: "the policy suggested for \(namespace)/\(p.workloads.first ?? p.name) does not read back as valid (\(why)); not written"))
        }
        return .success(CheckedSuggestion(policy: p, file: file, yaml: yaml, explanation: check.items[0].description))
    }
}

extension PolicySuggester {
    /// What was left out of the suggestions, one phrase each (for the summary line and the report).
    public var skippedPhrases: [String] {
        var skipped: [String] = []
        if replies > 0 { skipped.append("\(replies) replies") }
        if notAllowed > 0 { skipped.append("\(notAllowed) not allowed (dropped or other verdicts)") }
        if otherNamespaces > 0 { skipped.append("\(otherNamespaces) of other namespaces") }
        if outsideWindow > 0 { skipped.append("\(outsideWindow) outside the window") }
        if icmp > 0 { skipped.append("\(icmp) ICMP or portless (not turned into rules)") }
        if noLabels > 0 { skipped.append("\(noLabels) ends with no identifying label") }
        if workloadsDropped > 0 { skipped.append("\(workloadsDropped) of workloads past the \(PolicySuggester.workloadCap)-workload limit") }
        return skipped
    }

    /// The policies that read back as valid, with their explanation; the others are named in
    /// `rejected` (a bug if it ever happens: they are never written).
    public func checked(files: Int) -> (kept: [CheckedSuggestion], rejected: [String]) {
        CheckedSuggestion.check(policies(files: files), kind: kind, namespace: namespace)
    }

    /// The report's value: every checked suggestion, and what was left out.
    public func report(files: Int) -> PolicySuggestions {
        let (kept, rejected) = checked(files: files)
        var notes = rejected
        let skipped = skippedPhrases
        if !skipped.isEmpty { notes.insert("From \(used) allowed flow(s); left out " + skipped.joined(separator: ", ") + ".", at: 0) }
        return PolicySuggestions(
            items: kept.map { PolicySuggestions.Item(file: $0.file, name: $0.policy.name, workloads: $0.policy.workloads,
                                                     explanation: $0.explanation, manifest: $0.yaml) },
            flowsUsed: used, notes: notes)
    }
}
