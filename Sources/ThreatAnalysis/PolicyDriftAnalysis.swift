import Foundation
import ThreatModel

/// Compares an environment's policy set with the previous report's (docs/policies.md, "Policy
/// drift"). Policies are matched by kind, namespace and name; content is compared by the rule
/// fingerprint (selectors and rules, layout and comments aside), or by the manifest text where a
/// side has no fingerprint (an older report, an invalid manifest).
public enum PolicyDriftAnalysis {
    /// The drift of every environment, attached to its report (nil where no policy source is configured).
    public static func attach(_ previous: PreviousPolicySnapshot.State, to reports: [EnvironmentReport]) -> [EnvironmentReport] {
        reports.map { env in
            var e = env
            e.policyDrift = drift(env, previous: previous)
            return e
        }
    }

    public static func drift(_ env: EnvironmentReport, previous: PreviousPolicySnapshot.State) -> PolicyDrift? {
        if env.policies.status == .notConfigured { return nil }
        let snapshot: PreviousPolicySnapshot
        switch previous {
        case .absent: return PolicyDrift(status: .noPreviousReport, note: "No previous report in the output folder: this run is the baseline.")
        case let .unreadable(why):
            return PolicyDrift(status: .notCompared, note: "The previous report could not be read (\(why)); nothing is known about changes since then.")
        case let .read(s): snapshot = s
        }
        func notCompared(_ why: String) -> PolicyDrift {
            PolicyDrift(status: .notCompared, note: why, previousGeneratedAt: snapshot.generatedAt, previousSHA256: snapshot.sha256)
        }
        guard let current = env.policies.value else {
            return notCompared("The policies were not read in this run (\(env.policies.error ?? env.policies.status.rawValue)), so they cannot be compared.")
        }
        guard let prev = snapshot.environments[env.name] else {
            return notCompared("The previous report has no environment \(env.name): this run is its baseline.")
        }
        guard let before = prev.items, prev.status == "ok" || prev.status == "partial" else {
            return notCompared("The previous report has no policy list for \(env.name) (its policy section was \(prev.status)).")
        }
        var notes: [String] = []
        if env.policies.status == .partial { notes.append("this run's policy list may be incomplete, so a policy shown as removed may only be unread") }
        if prev.status == "partial" { notes.append("the previous run's policy list may have been incomplete, so a policy shown as added may only have been unread then") }
        if let ns = prev.namespace, ns != env.namespace { notes.append("the previous report read namespace \(ns), this one \(env.namespace)") }
        var drift = compare(current.items, before, defaultNamespace: env.namespace)
        drift.previousGeneratedAt = snapshot.generatedAt
        drift.previousSHA256 = snapshot.sha256
        if drift.added.contains(where: { !$0.detailsComplete }) || drift.changed.contains(where: { !$0.detailsComplete }) {
            notes.append("some rule summaries were cut or missing, so not every changed line is listed")
        }
        if !notes.isEmpty { drift.note = "Caveat: " + notes.joined(separator: "; ") + "." }
        return drift
    }

    static func state(valid: Bool, enabled: Bool) -> PolicyEnforcementChange.State {
        !valid ? .invalid : enabled ? .enforced : .disabled
    }

    /// Keys `kind/namespace/name`, with `#2`, `#3` for repeated ones (the duplicate_name check).
    static func keyed<T>(_ items: [T], _ key: (T) -> String) -> [(String, T)] {
        var seen: [String: Int] = [:]
        return items.map { item in
            let k = key(item)
            let n = seen[k, default: 0] + 1
            seen[k] = n
            return (n == 1 ? k : "\(k)#\(n)", item)
        }
    }

    static func compare(_ now: [PolicyItem], _ before: [PreviousPolicySnapshot.Policy], defaultNamespace ns: String) -> PolicyDrift {
        let cur = keyed(now) { "\($0.kind?.rawValue ?? $0.kindText)/\($0.namespace ?? ns)/\($0.name)" }
        let old = keyed(before) { "\($0.kind)/\($0.namespace ?? ns)/\($0.name)" }
        let oldByKey = Dictionary(old, uniquingKeysWith: { a, _ in a })
        let curKeys = Set(cur.map(\.0))
        var drift = PolicyDrift(status: .compared)
        for (key, p) in cur {
            let kind = p.kind?.rawValue ?? p.kindText
            guard let o = oldByKey[key] else {
                let lines = p.fingerprint?.lines ?? []
                drift.added.append(PolicyDriftEntry(kind: kind, name: p.name, namespace: p.namespace, enabled: p.enabled && p.valid,
                                                    details: lines.map { $0 + " added" }, detailsComplete: p.fingerprint?.isComplete ?? false))
                continue
            }
            let was = state(valid: o.valid, enabled: o.enabled), isNow = state(valid: p.valid, enabled: p.enabled)
            if was != isNow {
                drift.enforcement.append(PolicyEnforcementChange(kind: kind, name: p.name, namespace: p.namespace, from: was, to: isNow))
            }
            if let entry = changed(p, kind: kind, o) {
                drift.changed.append(entry)
            } else if was == isNow {
                drift.unchanged += 1
            }
        }
        for (key, o) in old where !curKeys.contains(key) {
            drift.removed.append(PolicyDriftEntry(kind: o.kind, name: o.name, namespace: o.namespace, enabled: o.enabled && o.valid,
                                                  details: (o.fingerprint?.lines ?? []).map { $0 + " removed" },
                                                  detailsComplete: o.fingerprint?.isComplete ?? false))
        }
        return drift
    }

    /// The content change of a policy present in both runs, or nil when its content is the same.
    static func changed(_ p: PolicyItem, kind: String, _ o: PreviousPolicySnapshot.Policy) -> PolicyDriftEntry? {
        let entry = { (details: [String], complete: Bool) in
            PolicyDriftEntry(kind: kind, name: p.name, namespace: p.namespace, enabled: p.enabled && p.valid, details: details, detailsComplete: complete)
        }
        guard let a = o.fingerprint, let b = p.fingerprint else {
            // A side without a rule summary: only the manifest text can be compared.
            guard o.manifestSHA256 != SHA256Digest.hex(Array(p.manifest.utf8)) else { return nil }
            return entry(["manifest changed (no rule summary on both sides to compare)"], false)
        }
        guard a.digest != b.digest else { return nil }
        let before = Set(a.lines), after = Set(b.lines)
        let details = b.lines.filter { !before.contains($0) }.map { $0 + " added" } + a.lines.filter { !after.contains($0) }.map { $0 + " removed" }
        let complete = a.isComplete && b.isComplete
        return entry(details.isEmpty ? ["rules changed beyond the lines kept in the report"] : details.sorted(by: detailOrder), complete)
    }

    /// Removals first (what was lost), then additions; each group in line order.
    static func detailOrder(_ x: String, _ y: String) -> Bool {
        let rx = x.hasSuffix(" removed"), ry = y.hasSuffix(" removed")
        return rx != ry ? rx : x < y
    }
}
