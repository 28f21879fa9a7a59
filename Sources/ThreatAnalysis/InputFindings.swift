import Foundation
import ThreatModel

/// A configured source read input and could use none of it: critical, the report is partial.
public enum InputUnreadableCheck: Check {
    public static let description = CheckDescription(
        id: InputCheck.unreadable, name: "InputUnreadable",
        shortDescription: "A configured source read input and could use none of it",
        fullDescription: "A WAF, flow or policy source was given input that was not empty (lines, documents, series or objects) and understood no record of it, so its section does not describe that input. The report is partial (exit 3) whatever --fail-on says. See docs/data-quality.md.",
        help: "Read the first skipped places in the coverage line under the section's heading and in the evidence appendix, then fix the input or its format setting, e.g. look at the first lines with `head -n 3 /var/log/nginx/access.log` and compare them with the formats in docs/waf.md; run `threat-report report --verbose` to see every skip reason.",
        section: "input", defaultSeverity: .critical)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        return InputFindings.sections(env).flatMap { key, label, c in
            c.unreadableInputs.map { i in
                Finding(
                    id: id, severity: .critical, environment: env.name,
                    title: "The \(label) source could read none of its \(i.name): \(NumberFormat.grouped(i.read)) \(i.unit), 0 parsed",
                    guidance: "The \(i.name) was not empty, but no record in it was understood, so the \(label) figures of this "
                        + "report do not describe it and the report is partial. " + InputFindings.why(i) + InputFindings.advice(key, i),
                    subject: "\(key): \(i.name)")
            }
        }
    }
}

/// A source skipped or could not attribute more than `thresholds.max_skipped_share` of an input.
public enum InputPartiallyReadCheck: Check {
    public static let description = CheckDescription(
        id: InputCheck.partiallyRead, name: "InputPartiallyRead",
        shortDescription: "A source skipped or could not attribute part of its input",
        fullDescription: "More than thresholds.max_skipped_share (default 1%) of an input's records were skipped (unreadable lines, broken documents, non-finite samples) or belonged to no environment, so the figures leave them out. See docs/data-quality.md.",
        help: "Look at the skip reasons and first places in the coverage line under the section's heading (e.g. `sed -n 12p FILE` for FILE:12); fix the input, or raise `thresholds.max_skipped_share` if the loss is expected.",
        section: "input", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        return InputFindings.sections(env).flatMap { key, label, c in
            c.partiallyRead(over: env.thresholds.maxSkippedShare).map { i in
                let lost = i.skippedTotal + i.unattributed
                var parts: [String] = []
                if i.skippedTotal > 0 { parts.append("\(NumberFormat.grouped(i.skippedTotal)) skipped") }
                if i.unattributed > 0 { parts.append("\(NumberFormat.grouped(i.unattributed)) of no environment") }
                return Finding(
                    id: id, severity: .warning, environment: env.name,
                    title: "The \(label) source used only part of its \(i.name): \(parts.joined(separator: ", ")) of \(NumberFormat.grouped(i.read)) \(i.unit)",
                    value: Double(lost) / Double(i.read), threshold: env.thresholds.maxSkippedShare,
                    guidance: "The figures leave these records out. " + InputFindings.why(i) + InputFindings.advice(key, i)
                        + " The share allowed before this warning is `thresholds.max_skipped_share` (per environment too).",
                    subject: "\(key): \(i.name)")
            }
        }
    }
}

/// The WAF logged anomalous requests while no request was counted: the ratio has no denominator.
public enum NoDenominatorCheck: Check {
    public static let description = CheckDescription(
        id: InputCheck.noDenominator, name: "RatioWithoutDenominator",
        shortDescription: "A ratio has records above the line and none below it",
        fullDescription: "The WAF logged anomalous requests while no request was counted (no access log configured, or none of its lines in the window and of the environment), so the anomalous ratio is n/a rather than 0%.",
        help: "Configure the access log beside the audit log (`access_log:` under `waf: files:`), or check that the ingress access logs reach Elasticsearch.",
        section: "input", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let waf = env.waf.value, waf.totalRequests == 0, waf.anomalousRequests > 0 else { return [] }
        let access = env.waf.coverage?.inputs.first { $0.name.hasPrefix("access") }
        let entries = "\(NumberFormat.grouped(waf.anomalousRequests)) audit entr\(waf.anomalousRequests == 1 ? "y" : "ies")"
        let (title, guidance) = explanation(entries: entries, access: access)
        return [Finding(id: id, severity: .warning, environment: env.name, title: title, guidance: guidance, subject: "waf: anomalous ratio")]
    }

    /// The title and guidance for what the access log gave: not configured, unreadable, read but
    /// none of this environment in the window, or nothing at all.
    static func explanation(entries: String, access: InputCoverage?) -> (String, String) {
        if let access, access.files == 0 {
            return ("\(entries) but no access-log lines: configure `access_log`",
                    "The anomalous ratio is anomalous / total requests, and the total comes from the NGINX access log, "
                        + "which this environment's `waf: files:` does not name. The ratio is n/a until it does: add "
                        + "`access_log: /var/log/nginx/access.log` (a path or glob) beside `audit_log`.")
        } else if let access, access.isUnreadable {
            return ("\(entries) but no readable access-log line: the anomalous ratio is n/a",
                    "The access log has \(NumberFormat.grouped(access.read)) \(access.unit) and none could be read (see "
                        + "`input.unreadable`), so no request was counted and the anomalous ratio has no denominator. Once the access "
                        + "log is read, the ratio follows.")
        } else if let access, access.read > 0 {
            return ("\(entries) but no access-log lines of this environment in the window",
                    "The access log has \(NumberFormat.grouped(access.read)) \(access.unit), none counted for this "
                        + "environment in the window, so the anomalous ratio is n/a. Check that the access log covers the window and "
                        + "names this environment's upstream (`namespace`) or host (`hosts:`); the coverage line under the WAF heading "
                        + "shows what was read.")
        }
        return ("\(entries) but no requests counted: the anomalous ratio is n/a",
                "The source counted no request in the window while the WAF logged attacks, so the ratio has no "
                    + "denominator. Check that the access logs of the ingress reach the source (Filebeat's ingress-nginx "
                    + "module, or `access_log` for `waf: files:`).")
    }
}

/// The data-quality checks of docs/data-quality.md: a configured source that read input and
/// could use none of it (`input.unreadable`, critical: the report is partial), one that skipped
/// or could not attribute more than `thresholds.max_skipped_share` of it (`input.partially_read`),
/// and a ratio without a denominator (`input.no_denominator`).
public enum InputFindings {
    public static let checks: [any Check.Type] = [InputUnreadableCheck.self, InputPartiallyReadCheck.self, NoDenominatorCheck.self]

    public static func findings(for env: EnvironmentReport) -> [Finding] {
        Checks.run(checks, env, window: Checks.windowless)
    }

    /// The sections whose coverage the input checks read: key, label, coverage.
    static func sections(_ env: EnvironmentReport) -> [(String, String, SourceCoverage)] {
        [("waf", "WAF", env.waf.coverage), ("flows", "flow", env.flows.coverage), ("policies", "policy", env.policies.coverage)]
            .compactMap { key, label, c in c.map { (key, label, $0) } }
    }

    /// "Skipped: 455 not an ingress-nginx or combined access line. First at a.log:1 (…)."
    static func why(_ i: InputCoverage) -> String {
        var s = ""
        if !i.skipped.isEmpty {
            s += "Skipped: " + i.skipped.map { "\(NumberFormat.grouped($0.count)) \($0.reason)" }.joined(separator: ", ") + ". "
        }
        if let e = i.examples.first {
            // The place only: the value is data, shown escaped in the coverage line and the evidence.
            s += "First at \(e.place.replacingOccurrences(of: "`", with: "'")) (\(e.reason)). "
        }
        if i.unattributed > 0 {
            s += "\(NumberFormat.grouped(i.unattributed)) record(s) in the window belong to no environment. "
        }
        return s
    }

    static func advice(_ section: String, _ i: InputCoverage) -> String {
        switch (section, i.name) {
        case ("waf", "access log"):
            return "Check the line format against docs/waf.md (ingress-nginx or `combined`) and look at the first lines with `head -n 3 FILE`."
        case ("waf", "audit log"):
            return "The audit log must be ModSecurity or Coraza JSON (`SecAuditLogFormat JSON`); look at the first entry with `head -c 600 FILE`."
        case ("flows", _):
            return "The flow log must be `hubble observe -o json` output, one flow a line; check with `head -n 1 FILE | jq .flow.verdict`."
        case ("policies", _):
            return "Check each manifest with `kubectl apply --dry-run=client -f FILE`."
        default:
            return "Check what the engine answered in the evidence appendix."
        }
    }
}
