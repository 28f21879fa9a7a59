import Foundation
import ThreatModel

/// WAF findings beyond GitLab's anomalous ratio: what kind of attack was seen, whether the WAF
/// only watched it, and whether one client is behind most of it.
public enum WAFFindings {
    /// `waf.attack_burst` fires when one client sent at least `thresholds.attackBurstShare` of the
    /// anomalous requests, and at least `thresholds.attackBurstMinRequests` of them (so 3 of 5 entries
    /// is not a burst).
    public static func findings(for env: EnvironmentReport, window: TimeWindow) -> [Finding] {
        guard let waf = env.waf.value else { return [] }
        var out: [Finding] = []
        let since = WindowText.since(window)
        let cmd = WAFCommands(waf)
        let severe = waf.categories.compactMap { r in
            CRSCategory(rawValue: r.key).flatMap { CRSCategory.highSeverity.contains($0) && r.count > 0 ? ($0, r.count) : nil }
        }
        if !severe.isEmpty {
            let names = severe.map { "\($0.0.title) (\($0.1))" }.joined(separator: ", ")
            // Probes of this kind reach every public site; they are a warning when they make up as
            // much of the traffic as the anomalous-ratio warning level, on enough volume.
            let largest = severe.map(\.1).max() ?? 0
            let share = safeRatio(Double(largest), Double(waf.totalRequests))
            let campaign = waf.totalRequests >= env.thresholds.minRequests && share >= env.thresholds.anomalousRatio.warning
            out.append(Finding(
                id: "waf.high_severity_categories", severity: campaign ? .warning : .info, environment: env.name,
                title: campaign ? "High-severity attacks: \(names)" : "High-severity attack probes at background level: \(names)",
                guidance: """
                These rule families (CRS 930–933, 942, 944) match attempts to run code, read files or reach the database. \
                Check what the application answered to them: `\(cmd.highSeverityAnswers)`\
                \(cmd.kubectlLogs(since: since).map { " (or pipe \($0) into the same command)" } ?? ""). \
                A 2xx answer to one of them needs a closer look at the application.
                """,
                subject: severe.map { $0.0.rawValue }.joined(separator: ",")))
        }

        let detectionOnly = waf.engineModes.first { $0.key == "DetectionOnly" }?.count ?? 0
        let critical = waf.criticalAttackRequests ?? severe.reduce(0) { $0 + $1.1 }
        if detectionOnly > 0, critical > 0 {
            out.append(Finding(
                id: "waf.blocking_disabled", severity: .info, environment: env.name,
                title: "The WAF only detects: \(critical) critical attack request(s) were let through",
                guidance: """
                \(WAFStack(waf).detectionOnlyAdvice)
                """))
        }

        if let unconfigured = waf.crsUnconfiguredRequests, unconfigured > 0 {
            out.append(Finding(
                id: "waf.crs_unconfigured", severity: .critical, environment: env.name,
                title: "The OWASP CRS runs without its configuration: rule 901001 denied \(unconfigured) request(s)",
                value: Double(unconfigured),
                guidance: """
                Rule 901001 fires when crs-setup.conf was not loaded, and denies every request (status 500): these are \
                not attacks but a broken deployment. Copy crs-setup.conf.example to crs-setup.conf, include it before \
                the rules (`Include /etc/modsecurity/crs/crs-setup.conf` — NGINX: in the file `modsecurity_rules_file` \
                names), reload, and check that `\(cmd.ruleIDs)` no longer lists 901001.
                """,
                subject: "901001"))
        }

        if let top = waf.topClients.first, waf.anomalousRequests > 0, top.count >= env.thresholds.attackBurstMinRequests {
            let share = Double(top.count) / Double(waf.anomalousRequests)
            if share >= env.thresholds.attackBurstShare {
                // The address comes from a log: only an address-shaped value goes into a command.
                let ip = top.key.allSatisfy { $0.isHexDigit || $0 == "." || $0 == ":" } ? top.key : "CLIENT_IP"
                let cidr = ip.contains(":") ? "\(ip)/128" : "\(ip)/32"
                let local = AddressScope.isPrivateOrLoopback(top.key)
                let scope = local ? " — a private or loopback address, often one's own tests or a proxy whose real-IP setting is missing" : ""
                let deny = local
                    ? "If it is a test, run it against another environment; if it is a proxy, configure `set_real_ip_from` and `real_ip_header` so the WAF sees the real client."
                    : "If it is an attacker (or a scanner nobody ordered), \(WAFStack(waf).denyClient(cidr, namespace: env.namespace))."
                out.append(Finding(
                    id: "waf.attack_burst", severity: .warning, environment: env.name,
                    title: "One client sent \(Percent.whole(share)) of the anomalous requests (\(top.count) of \(waf.anomalousRequests))\(scope)",
                    value: share, threshold: env.thresholds.attackBurstShare,
                    guidance: "See what it tried: `\(cmd.byClient(ip))`. " + deny,
                    subject: top.key))
            }
        }
        return out
    }
}
