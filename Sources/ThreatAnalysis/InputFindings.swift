import Foundation
import ThreatModel

/// The data-quality findings of docs/data-quality.md: a configured source that read input and
/// could use none of it (`input.unreadable`, critical: the report is partial), one that skipped
/// or could not attribute more than `thresholds.max_skipped_share` of it (`input.partially_read`),
/// and a ratio without a denominator (`input.no_denominator`).
public enum InputFindings {
    public static func findings(for env: EnvironmentReport) -> [Finding] {
        var out: [Finding] = []
        let sections: [(String, String, SourceCoverage?)] = [
            ("waf", "WAF", env.waf.coverage), ("flows", "flow", env.flows.coverage), ("policies", "policy", env.policies.coverage),
        ]
        for (key, label, coverage) in sections {
            guard let c = coverage else { continue }
            for i in c.unreadableInputs {
                out.append(Finding(
                    id: "input.unreadable", severity: .critical, environment: env.name,
                    title: "The \(label) source could read none of its \(i.name): \(NumberFormat.grouped(i.read)) \(i.unit), 0 parsed",
                    guidance: "The \(i.name) was not empty, but no record in it was understood, so the \(label) figures of this "
                        + "report do not describe it and the report is partial. " + why(i) + advice(key, i),
                    subject: "\(key): \(i.name)"))
            }
            for i in c.partiallyRead(over: env.thresholds.maxSkippedShare) {
                let lost = i.skippedTotal + i.unattributed
                var parts: [String] = []
                if i.skippedTotal > 0 { parts.append("\(NumberFormat.grouped(i.skippedTotal)) skipped") }
                if i.unattributed > 0 { parts.append("\(NumberFormat.grouped(i.unattributed)) of no environment") }
                out.append(Finding(
                    id: "input.partially_read", severity: .warning, environment: env.name,
                    title: "The \(label) source used only part of its \(i.name): \(parts.joined(separator: ", ")) of \(NumberFormat.grouped(i.read)) \(i.unit)",
                    value: Double(lost) / Double(i.read), threshold: env.thresholds.maxSkippedShare,
                    guidance: "The figures leave these records out. " + why(i) + advice(key, i)
                        + " The share allowed before this warning is `thresholds.max_skipped_share` (per environment too).",
                    subject: "\(key): \(i.name)"))
            }
        }
        if let waf = env.waf.value, waf.totalRequests == 0, waf.anomalousRequests > 0 {
            let access = env.waf.coverage?.inputs.first { $0.name.hasPrefix("access") }
            let entries = "\(NumberFormat.grouped(waf.anomalousRequests)) audit entr\(waf.anomalousRequests == 1 ? "y" : "ies")"
            let title: String
            let guidance: String
            if let access, access.files == 0 {
                title = "\(entries) but no access-log lines: configure `access_log`"
                guidance = "The anomalous ratio is anomalous / total requests, and the total comes from the NGINX access log, "
                    + "which this environment's `waf: files:` does not name. The ratio is n/a until it does: add "
                    + "`access_log: /var/log/nginx/access.log` (a path or glob) beside `audit_log`."
            } else if let access, access.isUnreadable {
                title = "\(entries) but no readable access-log line: the anomalous ratio is n/a"
                guidance = "The access log has \(NumberFormat.grouped(access.read)) \(access.unit) and none could be read (see "
                    + "`input.unreadable`), so no request was counted and the anomalous ratio has no denominator. Once the access "
                    + "log is read, the ratio follows."
            } else if let access, access.read > 0 {
                title = "\(entries) but no access-log lines of this environment in the window"
                guidance = "The access log has \(NumberFormat.grouped(access.read)) \(access.unit), none counted for this "
                    + "environment in the window, so the anomalous ratio is n/a. Check that the access log covers the window and "
                    + "names this environment's upstream (`namespace`) or host (`hosts:`); the coverage line under the WAF heading "
                    + "shows what was read."
            } else {
                title = "\(entries) but no requests counted: the anomalous ratio is n/a"
                guidance = "The source counted no request in the window while the WAF logged attacks, so the ratio has no "
                    + "denominator. Check that the access logs of the ingress reach the source (Filebeat's ingress-nginx "
                    + "module, or `access_log` for `waf: files:`)."
            }
            out.append(Finding(id: "input.no_denominator", severity: .warning, environment: env.name, title: title,
                               guidance: guidance, subject: "waf: anomalous ratio"))
        }
        return out
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
