import Foundation
import ThreatModel

/// GitLab's rule for the WAF: the share of anomalous requests against the environment's
/// thresholds.
public enum AnomalousRatioCheck: Check {
    public static let description = CheckDescription(
        id: "waf.anomalous_ratio", name: "AnomalousRequestRatio",
        shortDescription: "Anomalous WAF requests over the threshold",
        fullDescription: "The share of requests that ModSecurity with the OWASP Core Rule Set scored as anomalous is at or above the warning (or critical) threshold for the environment. Below the volume guard (min_requests) the finding is capped at info.",
        help: "Examine the WAF logs: find the rules and clients behind the spike in the report's WAF section, then read the ModSecurity audit entries (the audit log, or on ingress-nginx `kubectl -n NAMESPACE logs -l app=nginx-ingress -c modsecurity-log`). If the matches are attacks, block the sources or switch the engine to blocking (SecRuleEngine On); if they are false positives, add a rule exclusion.",
        section: "waf", defaultSeverity: .warning, severities: [.info, .warning, .critical])

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let waf = env.waf.value else { return [] }
        let cmd = WAFCommands(waf)
        return FindingAnalyzer.ratioFinding(
            id: id, env: env.name, ratio: waf.anomalousRatio, threshold: env.thresholds.anomalousRatio,
            volume: waf.totalRequests, minVolume: env.thresholds.minRequests, noun: "requests",
            title: "Anomalous requests at \(Percent.whole(waf.anomalousRatio)) of traffic",
            guidance: """
            Examine the WAF logs: find the rules and clients behind the spike in the WAF section, then read the \
            ModSecurity audit entries, e.g. `\(cmd.ruleIDs)`\
            \(cmd.kubectlLogs(since: context.since).map { " (the log: \($0))" } ?? ""). If the matches are attacks, block the sources or switch the engine to blocking (SecRuleEngine On); if they \
            are false positives, add a rule exclusion.
            """).map { [$0] } ?? []
    }
}

/// What kind of attack was seen: the high-severity CRS families.
public enum HighSeverityCategoriesCheck: Check {
    public static let description = CheckDescription(
        id: "waf.high_severity_categories", name: "HighSeverityAttacks",
        shortDescription: "Remote code execution, SQL injection or file-access attacks reached the WAF",
        fullDescription: "Requests matched OWASP CRS rules of the high-severity families: RCE (932), SQL injection (942), local and remote file inclusion (930, 931), PHP (933) and Java (944) attacks. A warning when the largest family reaches the anomalous-ratio warning share on enough volume, otherwise info (the background of probes every public site gets).",
        help: "Check what the application answered to those requests (status codes in the audit log); a 200 to an injection attempt needs a closer look at the application. The report's top rules and URIs show where to start, e.g. `jq -c 'select(.transaction.request.uri | startswith(\"/login\")) | .transaction.response.http_code' modsec_audit.log | sort | uniq -c`.",
        section: "waf", defaultSeverity: .info, severities: [.info, .warning])

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let waf = env.waf.value else { return [] }
        let severe = WAFFindings.severeCategories(waf)
        guard !severe.isEmpty else { return [] }
        let cmd = WAFCommands(waf)
        let names = severe.map { "\($0.0.title) (\($0.1))" }.joined(separator: ", ")
        // Probes of this kind reach every public site; they are a warning when they make up as
        // much of the traffic as the anomalous-ratio warning level, on enough volume.
        let largest = severe.map(\.1).max() ?? 0
        let share = safeRatio(Double(largest), Double(waf.totalRequests))
        let campaign = waf.totalRequests >= env.thresholds.minRequests && share >= env.thresholds.anomalousRatio.warning
        return [Finding(
            id: id, severity: campaign ? .warning : .info, environment: env.name,
            title: campaign ? "High-severity attacks: \(names)" : "High-severity attack probes at background level: \(names)",
            guidance: """
            These rule families (CRS 930–933, 942, 944) match attempts to run code, read files or reach the database. \
            Check what the application answered to them: `\(cmd.highSeverityAnswers)`\
            \(cmd.kubectlLogs(since: context.since).map { " (or pipe \($0) into the same command)" } ?? ""). \
            A 2xx answer to one of them needs a closer look at the application.
            """,
            subject: severe.map { $0.0.rawValue }.joined(separator: ","))]
    }
}

/// Whether the WAF only watched the attacks it saw.
public enum BlockingDisabledCheck: Check {
    public static let description = CheckDescription(
        id: "waf.blocking_disabled", name: "WAFBlockingDisabled",
        shortDescription: "The WAF only detects: critical attacks were let through",
        fullDescription: "ModSecurity ran with SecRuleEngine DetectionOnly while requests with critical-severity matches were seen, so they reached the application.",
        help: "Once the rules that fire on legitimate traffic have exclusions, set `SecRuleEngine On` (ingress-nginx: the modsecurity-snippet in the controller's ConfigMap) and watch the blocked count in the next report.",
        section: "waf", defaultSeverity: .info)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let waf = env.waf.value else { return [] }
        let detectionOnly = waf.engineModes.first { $0.key == "DetectionOnly" }?.count ?? 0
        let critical = waf.criticalAttackRequests ?? WAFFindings.severeCategories(waf).reduce(0) { $0 + $1.1 }
        guard detectionOnly > 0, critical > 0 else { return [] }
        return [Finding(
            id: id, severity: .info, environment: env.name,
            title: "The WAF only detects: \(critical) critical attack request(s) were let through",
            guidance: WAFStack(waf).detectionOnlyAdvice)]
    }
}

/// Rule 901001: the CRS runs without crs-setup.conf and denies every request.
public enum CRSUnconfiguredCheck: Check {
    public static let description = CheckDescription(
        id: "waf.crs_unconfigured", name: "CRSWithoutConfiguration",
        shortDescription: "The OWASP CRS runs without its configuration and denies every request",
        fullDescription: "Audit entries matched CRS rule 901001, which fires when crs-setup.conf was not loaded and denies the request with status 500. These entries are a broken deployment, not attacks.",
        help: "Copy crs-setup.conf.example to crs-setup.conf, include it before the CRS rules (`Include /etc/modsecurity/crs/crs-setup.conf`), reload the server, and check that `grep -c 901001 modsec_audit.log` stops growing.",
        section: "waf", defaultSeverity: .critical)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let waf = env.waf.value, let unconfigured = waf.crsUnconfiguredRequests, unconfigured > 0 else { return [] }
        return [Finding(
            id: id, severity: .critical, environment: env.name,
            title: "The OWASP CRS runs without its configuration: rule 901001 denied \(unconfigured) request(s)",
            value: Double(unconfigured),
            guidance: """
            Rule 901001 fires when crs-setup.conf was not loaded, and denies every request (status 500): these are \
            not attacks but a broken deployment. Copy crs-setup.conf.example to crs-setup.conf, include it before \
            the rules (`Include /etc/modsecurity/crs/crs-setup.conf` — NGINX: in the file `modsecurity_rules_file` \
            names), reload, and check that `\(WAFCommands(waf).ruleIDs)` no longer lists 901001.
            """,
            subject: "901001")]
    }
}

/// Whether one client is behind most of the anomalous requests: at least
/// `thresholds.attackBurstShare` of them, and at least `thresholds.attackBurstMinRequests` (so 3 of
/// 5 entries is not a burst).
public enum AttackBurstCheck: Check {
    public static let description = CheckDescription(
        id: "waf.attack_burst", name: "WAFAttackBurst",
        shortDescription: "One client sent most of the anomalous requests",
        fullDescription: "A single client address sent at least thresholds.attack_burst_share (default 50 %) of the anomalous requests, and at least thresholds.attack_burst_min_requests (default 20) of them.",
        help: "See what it tried in the audit log, and if it is an attacker or an unwanted scanner, deny it at the ingress with the `nginx.ingress.kubernetes.io/denylist-source-range` annotation. A private or loopback address is usually one's own test or a proxy whose real-IP setting is missing (the finding says so).",
        section: "waf", defaultSeverity: .warning)

    public static func findings(in context: CheckContext) -> [Finding] {
        let env = context.environment
        guard let waf = env.waf.value, let top = waf.topClients.first, waf.anomalousRequests > 0,
              top.count >= env.thresholds.attackBurstMinRequests else { return [] }
        let share = Double(top.count) / Double(waf.anomalousRequests)
        guard share >= env.thresholds.attackBurstShare else { return [] }
        // The address comes from a log: only an address-shaped value goes into a command.
        let ip = top.key.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } ? top.key : "CLIENT_IP"
        let cidr = ip.contains(":") ? "\(ip)/128" : "\(ip)/32"
        let local = AddressScope.isPrivateOrLoopback(top.key)
        let scope = local ? " — a private or loopback address, often one's own tests or a proxy whose real-IP setting is missing" : ""
        let deny = local
            ? "If it is a test, run it against another environment; if it is a proxy, \(WAFStack(waf).realClientKnob) so the WAF sees the real client."
            : "If it is an attacker (or a scanner nobody ordered), \(WAFStack(waf).denyClient(cidr, namespace: env.namespace))."
        return [Finding(
            id: id, severity: .warning, environment: env.name,
            title: "One client sent \(Percent.whole(share)) of the anomalous requests (\(top.count) of \(waf.anomalousRequests))\(scope)",
            value: share, threshold: env.thresholds.attackBurstShare,
            guidance: "See what it tried: `\(WAFCommands(waf).byClient(ip))`. " + deny,
            subject: top.key)]
    }
}

/// The WAF checks beyond GitLab's anomalous ratio: what kind of attack was seen, whether the WAF
/// only watched it, whether the CRS is configured, and whether one client is behind most of it.
public enum WAFFindings {
    public static let checks: [any Check.Type] = [
        HighSeverityCategoriesCheck.self, BlockingDisabledCheck.self, CRSUnconfiguredCheck.self, AttackBurstCheck.self,
    ]

    public static func findings(for env: EnvironmentReport, window: TimeWindow) -> [Finding] {
        Checks.run(checks, env, window: window)
    }

    /// The high-severity CRS families that matched, with their counts, in the order read.
    static func severeCategories(_ waf: WAFStatistics) -> [(CRSCategory, Int)] {
        waf.categories.compactMap { r in
            CRSCategory(rawValue: r.key).flatMap { CRSCategory.highSeverity.contains($0) && r.count > 0 ? ($0, r.count) : nil }
        }
    }
}
