import Foundation
import ThreatModel

/// `waf.false_positive_candidates` (info): rules that fire on traffic that looks legitimate, with
/// the exclusion file drawn for them. Never above info, so it never fails a `--fail-on warning`
/// pipeline by itself.
public enum FalsePositiveCandidatesCheck: Check {
    public static let description = CheckDescription(
        id: "waf.false_positive_candidates", name: "WAFFalsePositiveCandidates",
        shortDescription: "CRS rules fire on traffic that looks legitimate: scoped exclusions were drawn",
        fullDescription: "Audit entries show (rule, path, target) triples that fire on many clients answered 2xx/3xx/404 with one or two rules and no attack campaign behind them. Each is scored; those whose exclusion lets no attack-looking request through are written to waf-tuning/<environment>.conf beside the report, the others are left in place with why.",
        help: "Review waf-tuning/<environment>.conf, load its runtime rules before the CRS and its SecRuleUpdateTargetById lines after it (NGINX: in the modsecurity_rules_file, then `nginx -t`), then switch to blocking. Without a report: `threat-report waf tune --audit-log FILE --output FILE`.",
        section: "waf", defaultSeverity: .info)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
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
            id: id, severity: .info, environment: env.name,
            title: "\(advice.candidates.count) false-positive candidate(s): \(excluded.count) scoped exclusion(s) written, \(kept.count) left in place",
            value: Double(advice.candidates.count), guidance: guidance, subject: rules.joined(separator: ","))]
    }
}
