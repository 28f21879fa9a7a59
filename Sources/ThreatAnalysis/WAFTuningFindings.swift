import Foundation
import ThreatModel

/// `waf.false_positive_candidates` (info): rules that fire on traffic that looks legitimate, with
/// the exclusion file drawn for them. Never above info, so it never fails a `--fail-on warning`
/// pipeline by itself.
public enum WAFTuningFindings {
    public static let id = "waf.false_positive_candidates"

    public static func findings(for env: EnvironmentReport) -> [Finding] {
        guard let advice = env.waf.value?.tuningAdvice, !advice.candidates.isEmpty else { return [] }
        let excluded = advice.exclusions
        let kept = advice.candidates.filter { $0.decision == .keep }
        let rules = Array(Set(advice.candidates.map(\.row.ruleID))).sorted()
        var guidance = "Review `\(advice.fileName)` beside the report, then load it as its header says "
            + "(runtime rules before the CRS, configure-time rules after; NGINX: `modsecurity_rules_file`, then `nginx -t`). "
        if !kept.isEmpty {
            guidance += "\(kept.count) candidate(s) share their target with attacks and are left in place; the file says why. "
        }
        guidance += "Once the false positives are gone, switch the WAF to blocking (`SecRuleEngine On`). "
            + "Without a whole report: `threat-report waf tune --audit-log FILE --output FILE`."
        return [Finding(
            id: "waf.false_positive_candidates", severity: .info, environment: env.name,
            title: "\(advice.candidates.count) false-positive candidate(s): \(excluded.count) scoped exclusion(s) written, \(kept.count) left in place",
            value: Double(advice.candidates.count), guidance: guidance, subject: rules.joined(separator: ","))]
    }
}
