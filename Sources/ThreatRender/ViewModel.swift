import Foundation
import ThreatModel

/// The report as a tree of plain values for the Mustache templates. Every untrusted string is
/// sanitised and cut here; the template's content type (HTML or MARKDOWN) escapes it.
public enum ReportViewModel {
    public typealias Node = [String: Any]

    /// `dataDigest`: the SHA-256 of this run's `report.json` (the evidence appendix shows it).
    public static func build(_ report: Report, charts: [ReportChart], dataDigest: String? = nil) -> Node {
        let tz = TimeZone(identifier: report.timezone) ?? TimeZone(identifier: "UTC")!
        func time(_ d: Date) -> String {
            let off = tz.secondsFromGMT(for: d)
            return RFC3339.format(d, offsetSeconds: off).replacingOccurrences(of: "T", with: " ")
        }
        let slugs = ReportCharts.slugs(report.environments.map(\.name))
        var envs: [Node] = []
        var summary: [Node] = []
        for (i, env) in report.environments.enumerated() {
            let worst = report.worstSeverity(for: env.name)
            let badge = report.isPartial(env) ? ("partial", "Partial data") : worst.map { ($0.rawValue, $0.rawValue.capitalized) } ?? ("ok", "OK")
            let myCharts = charts.filter { $0.environmentIndex == i }
            func chart(_ kind: String) -> Node? {
                guard let c = myCharts.first(where: { $0.kind == kind }) else { return nil }
                return ["svg": c.rendered.svg, "png": c.fileBase + ".png", "title": c.title]
            }
            var row: Node = ["name": Sanitize.text(env.name, max: 80), "anchor": "env-\(slugs[i])", "badge_class": badge.0,
                             "badge_text": badge.1, "findings": report.findings(for: env.name).count]
            row["requests"] = env.waf.value.map { NumberText.grouped($0.totalRequests) } ?? "–"
            row["anomalous"] = env.waf.value.map(RatioText.anomalous) ?? "–"
            row["flows"] = env.flows.value.map { NumberText.grouped($0.counts.total) } ?? "–"
            row["dropped"] = env.flows.value.map { RatioText.dropped($0.counts) } ?? "–"
            row.merge(trendRow(env)) { _, new in new }
            row["policies"] = env.policies.value.map { "\($0.items.filter { $0.valid && $0.enabled }.count) of \($0.items.count) enforced" } ?? "–"
            summary.append(row)

            var e: Node = row
            e["namespace"] = Sanitize.text(env.namespace, max: 80)
            // A label with no value is left out ("· hosts" alone says nothing).
            if !env.hosts.isEmpty { e["hosts"] = env.hosts.map { Sanitize.text($0, max: 120) }.joined(separator: ", ") }
            e["waf"] = section(env.waf, empty: "Web application firewall not detected: no WAF source is configured for this environment.") { w in
                var n: Node = [
                    "total": NumberText.grouped(w.totalRequests), "anomalous": NumberText.grouped(w.anomalousRequests),
                    "ratio": RatioText.anomalous(w), "chart": chart("waf") as Any,
                    "top_rules": w.topRules.map { r in
                        ["id": Sanitize.text(r.key, max: 20), "category": CRSCategory(ruleID: r.key).title,
                         "message": Sanitize.text(r.label ?? "", max: 160), "count": NumberText.grouped(r.count)]
                    },
                    "top_clients": w.topClients.map { ["key": Sanitize.text($0.key, max: 64), "count": NumberText.grouped($0.count)] },
                    "top_uris": w.topURIs.map { ["key": Sanitize.text($0.key, max: 160), "count": NumberText.grouped($0.count)] },
                ]
                if !w.engineModes.isEmpty {
                    n["engine_modes"] = w.engineModes.map { "\(Sanitize.text($0.key, max: 32)) (\(NumberText.grouped($0.count)))" }.joined(separator: ", ")
                }
                n["has_rules"] = !w.topRules.isEmpty
                n["has_clients"] = !w.topClients.isEmpty
                n["has_uris"] = !w.topURIs.isEmpty
                if let b = w.blockedRequests { n["blocked"] = NumberText.grouped(b) }  // absent, not "nil", when unknown
                if let d = w.detectionOnlyRequests { n["detection_only"] = NumberText.grouped(d) }
                n["categories"] = w.categories.map { c -> Node in
                    ["title": Sanitize.text(c.label ?? c.key, max: 60), "key": Sanitize.text(c.key, max: 20),
                     "count": NumberText.grouped(c.count), "share": Percent.whole(safeRatio(Double(c.count), Double(w.anomalousRequests)))]
                }
                n["has_categories"] = !w.categories.isEmpty
                if let c = chart("waf-categories") { n["categories_chart"] = c }
                n["anomaly_scores"] = w.anomalyScores.map { ["score": Sanitize.text($0.key, max: 12), "count": NumberText.grouped($0.count)] }
                n["has_scores"] = !w.anomalyScores.isEmpty
                if w.skippedLines > 0 { n["skipped"] = NumberText.grouped(w.skippedLines) }
                return n
            }
            e["flows"] = section(env.flows, empty: "No flow source is configured for this environment.") { f in
                var n: Node = [
                    "total": NumberText.grouped(f.counts.total), "forwarded": NumberText.grouped(f.counts.forwarded),
                    "dropped": NumberText.grouped(f.counts.dropped), "ratio": RatioText.dropped(f.counts),
                    "in_total": NumberText.grouped(f.inbound.total), "in_dropped": NumberText.grouped(f.inbound.dropped),
                    "in_ratio": RatioText.dropped(f.inbound),
                    "out_total": NumberText.grouped(f.outbound.total), "out_dropped": NumberText.grouped(f.outbound.dropped),
                    "out_ratio": RatioText.dropped(f.outbound), "chart": chart("flows") as Any,
                    "drops_chart": chart("drops") as Any,
                    "top_drop_reasons": f.topDropReasons.map { ["key": Sanitize.text($0.key, max: 64), "count": NumberText.grouped($0.count)] },
                    "top_dropped_pairs": f.topDroppedPairs.map { ["key": Sanitize.text($0.key, max: 160), "count": NumberText.grouped($0.count)] },
                ]
                n["verdicts"] = zip(zip(f.counts.byVerdict, f.inbound.byVerdict), f.outbound.byVerdict).map { pair, out -> Node in
                    ["verdict": pair.0.verdict, "total": NumberText.grouped(pair.0.count),
                     "in": NumberText.grouped(pair.1.count), "out": NumberText.grouped(out.count)]
                }
                n["top_denying_policies"] = f.topDenyingPolicies.map {
                    ["key": Sanitize.text($0.key, max: 160), "kind": Sanitize.text($0.label ?? "", max: 64), "count": NumberText.grouped($0.count)]
                }
                n["has_denying_policies"] = !f.topDenyingPolicies.isEmpty
                n["unattributed_drops"] = NumberText.grouped(f.unattributedDrops)
                n["no_metrics"] = f.counts.total == 0 && f.forwardedRate.isEmpty && f.droppedRate.isEmpty
                n["has_drop_reasons"] = !f.topDropReasons.isEmpty
                n["has_dropped_pairs"] = !f.topDroppedPairs.isEmpty
                return n
            }
            e["policies"] = section(env.policies, empty: "No policy source is configured for this environment.") { p in
                [
                    "count": p.items.count, "empty": p.items.isEmpty,
                    "notes": p.notes.map { Sanitize.text($0, max: 300) },
                    "items": p.items.map { item -> Node in
                        [
                            "kind": Sanitize.text(item.kind?.rawValue ?? item.kindText, max: 64),
                            "name": Sanitize.text(item.name, max: 120),
                            "namespace": Sanitize.text(item.namespace ?? "", max: 80),
                            "status": !item.valid ? "Invalid" : item.enabled ? "Enforced" : "Disabled",
                            "enabled": !item.valid ? "–" : item.enabled ? "yes" : "no",
                            "traits": policyTraits(item).joined(separator: "; "),
                            "has_traits": !policyTraits(item).isEmpty,
                            "status_class": !item.valid ? "critical" : item.enabled ? "ok" : "warning",
                            "rules": "\(item.rules.ingress) in / \(item.rules.egress) out"
                                + (item.rules.ingressDeny + item.rules.egressDeny > 0 ? " / \(item.rules.ingressDeny + item.rules.egressDeny) deny" : ""),
                            "predefined": item.predefined,
                            "description": item.description.map { Sanitize.text($0, max: 600) },
                            "problems": item.problems.map { Sanitize.text($0.description, max: 400) },
                            "manifest": Sanitize.text(item.manifest, max: 20000, keepNewlines: true),
                            "origin": Sanitize.text(item.origin, max: 300),
                        ]
                    },
                    // GitLab listed its predefined policies "disabled by default unless a deployed policy has the same name".
                    "predefined_missing": p.predefinedNotDeployed.map { d -> Node in
                        ["kind": d.kind.rawValue, "name": d.name, "rules": "\(d.rules.ingress) in / \(d.rules.egress) out",
                         "description": d.description(namespace: Sanitize.text(env.namespace, max: 80)),
                         "manifest": d.ciliumManifest]
                    },
                    "has_predefined_missing": !p.predefinedNotDeployed.isEmpty,
                    "predefined_command": "threat-report policy predefined NAME --namespace \(Sanitize.text(env.namespace, max: 80))",
                    // A code span only for a namespace the config accepts (a DNS label): other text stays escaped data.
                    "predefined_command_md": KubernetesName.isLabel(env.namespace)
                        ? MarkdownCode.span("threat-report policy predefined NAME --namespace \(env.namespace)")
                        : MarkdownEscaper.escape("threat-report policy predefined NAME --namespace \(Sanitize.text(env.namespace, max: 80))"),
                ]
            }
            if let d = PolicyDriftView.node(env, time: time) { e["policy_drift"] = d }
            if let c = PolicyCoverageView.node(env) { e["workload_coverage"] = c }
            e["thresholds"] = thresholdsText(env.thresholds)
            e["coverage"] = CoverageView.rows(env)
            e["has_coverage"] = !(e["coverage"] as! [Node]).isEmpty
            e["evidence"] = env.evidence.map { ev -> Node in
                ["section": ev.section, "source": Sanitize.text(ev.source, max: 400),
                 "query": Sanitize.text(ev.query ?? "", max: 6000, keepNewlines: true), "has_query": ev.query != nil,
                 "sha256": ev.sha256 ?? "–"]
            }
            envs.append(e)
        }
        let findings = report.findings.map { f -> Node in
            [
                "id": f.id, "id_md": MarkdownCode.span(f.id), "severity": f.severity.rawValue, "severity_label": f.severity.rawValue.capitalized,
                "environment": Sanitize.text(f.environment, max: 80), "title": Sanitize.text(f.title, max: 200),
                "value": f.value.map { f.unit.format($0) } ?? "", "threshold": f.threshold.map { f.unit.format($0) } ?? "",
                "has_value": f.value != nil, "guidance": Sanitize.text(f.guidance, max: 1200),
                "guidance_parts": codeSpans(Sanitize.text(f.guidance, max: 1200)),
            ]
        }
        let counts = Severity.allCases.reversed().map { s in "\(report.findings.filter { $0.severity == s }.count) \(s.rawValue)" }
        return [
            "title": Sanitize.text(report.title, max: 120),
            "generated_at": time(report.generatedAt),
            "from": time(report.window.from), "to": time(report.window.to),
            "from_utc": RFC3339.format(report.window.from), "to_utc": RFC3339.format(report.window.to),
            "interval": report.window.interval.rawValue, "timezone": Sanitize.text(report.timezone, max: 64),
            "length": WindowText.human(report.window),
            "status": report.status, "partial": report.isPartial, "complete": report.status == "complete",
            "summary": summary, "environments": envs, "findings": findings, "has_findings": !findings.isEmpty,
            "finding_counts": counts.joined(separator: ", "),
            "tool": ToolInfo.name, "version": ToolInfo.version, "config_digest": report.configDigest ?? "–",
            "data_digest": dataDigest ?? "–",
        ]
    }

    /// The "Change vs previous window" cells: `change` (one line, e.g. "requests +9%; anomalous 9% (was <1%);
    /// dropped 17% (was <1%); new top clients: 203.0.113.7"), `has_previous`, and `previous_note` when a
    /// comparison could not be made ("not available (…)").
    static func trendRow(_ env: EnvironmentReport) -> Node {
        guard let previous = env.previous else { return ["has_previous": false, "change": "–"] }
        var parts: [String] = []
        if let d = env.deltas {
            if let w = d.waf {
                let pct = w.previousRequests > 0 ? Double(w.requestsChange) / Double(w.previousRequests) : 0
                parts.append("requests \(signed(pct)) (was \(NumberText.grouped(w.previousRequests)))")
                parts.append("anomalous \(Percent.whole(w.anomalousRatio)) (was \(Percent.whole(w.previousAnomalousRatio)))")
                if !w.newTopRules.isEmpty { parts.append("new top rules: " + w.newTopRules.prefix(5).map { Sanitize.text($0, max: 20) }.joined(separator: ", ")) }
                if !w.newTopClients.isEmpty { parts.append("new top clients: " + w.newTopClients.prefix(5).map { Sanitize.text($0, max: 64) }.joined(separator: ", ")) }
            }
            if let f = d.flows {
                parts.append("dropped \(Percent.whole(f.droppedRatio)) (was \(Percent.whole(f.previousDroppedRatio)))")
            }
        }
        var n: Node = ["has_previous": true, "change": parts.isEmpty ? "–" : parts.joined(separator: "; "),
                       "previous_length": WindowText.human(previous.window)]
        if let why = previous.unavailableReason {
            n["previous_note"] = previous.notCovered ? "previous window: not compared (\(Sanitize.text(why, max: 300)))"
                : "previous window: not available (\(Sanitize.text(why, max: 300)))"
            // Files that do not reach back that far are an expected state, not a failure.
            n["previous_calm"] = previous.notCovered
        }
        return n
    }

    /// "+9%", "−3%", "±0%".
    static func signed(_ ratio: Double) -> String {
        let p = Int((ratio * 100).rounded())
        return p > 0 ? "+\(p)%" : p < 0 ? "−\(-p)%" : "±0%"
    }

    static func section<V>(_ s: Section<V>, empty: String, _ body: (V) -> Node) -> Node {
        var n: Node = ["ok": s.status == .ok, "not_configured": s.status == .notConfigured,
                       "unavailable": s.status == .unavailable, "partial": s.status == .partial, "empty_text": empty,
                       "error": Sanitize.text(s.error ?? "", max: 600),
                       "warnings": s.warnings.map { Sanitize.text($0, max: 400) }, "has_warnings": !s.warnings.isEmpty]
        if let c = s.coverage { n["coverage"] = Sanitize.text(CoverageText.line(c), max: 1000) }
        if let v = s.value { n.merge(body(v)) { _, new in new } }
        n["ok"] = s.value != nil
        return n
    }

    /// Splits text on backtick pairs so the HTML can show commands as `<code>`; each part is still
    /// escaped by the template.
    static func codeSpans(_ text: String) -> [Node] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated().compactMap { i, part in
            part.isEmpty ? nil : ["text": String(part), "code": i % 2 == 1, "code_md": MarkdownCode.span(String(part))]
        }
    }

    /// The traits behind the policy findings, as short phrases for the policy table.
    static func policyTraits(_ p: PolicyItem) -> [String] {
        guard p.valid else { return [] }
        var out: [String] = []
        if let rules = p.worldIngress, !rules.isEmpty {
            out.append(rules.contains(where: \.anyPort) ? "world ingress on every port" : "world ingress on some ports")
        }
        if p.restrictsEgress == false { out.append("egress open") }
        if let gaps = p.ruleModeUnsupported, !gaps.isEmpty { out.append("outside rule mode") }
        return out
    }

    static func thresholdsText(_ t: Thresholds) -> String {
        "anomalous ratio warning \(Percent.whole(t.anomalousRatio.warning)), critical \(Percent.whole(t.anomalousRatio.critical)); "
            + "dropped ratio warning \(Percent.whole(t.droppedRatio.warning)), critical \(Percent.whole(t.droppedRatio.critical)); "
            + "volume guard \(NumberText.grouped(t.minRequests)) requests, \(NumberText.grouped(t.minFlows)) flows; "
            + "attack burst: one client with \(Percent.whole(t.attackBurstShare)) of at least \(NumberText.grouped(t.attackBurstMinRequests)) anomalous requests"
    }
}
