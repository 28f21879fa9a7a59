import Foundation
import ThreatModel

/// `report.json`, schema_version 1: the machine contract of docs/design.md. Keys are written in a fixed
/// order, ratios unrounded, counts as exact integers, times in RFC 3339 UTC.
public struct JSONRenderer: ReportRenderer {
    public static let identifier = "json"
    public static let summary = "report.json (schema_version 1), the machine-readable contract"
    public init() {}

    public func render(_ context: RenderContext) throws(RenderError) -> [OutputFile] {
        [OutputFile(path: "report.json", text: ReportJSON.encode(context.report).serialized(pretty: true) + "\n")]
    }
}

public enum ReportJSON {
    static func t(_ d: Date) -> JSONValue { .string(RFC3339.format(d)) }
    static func n(_ i: Int) -> JSONValue { .number(Double(i)) }
    static func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }

    public static func encode(_ r: Report) -> JSONValue {
        .object([
            ("schema_version", n(Report.schemaVersion)),
            ("tool", .object([("name", .string(ToolInfo.name)), ("version", .string(ToolInfo.version))])),
            ("generated_at", t(r.generatedAt)),
            ("title", .string(r.title)),
            ("window", .object([("from", t(r.window.from)), ("to", t(r.window.to)), ("interval", .string(r.window.interval.rawValue))])),
            ("timezone", .string(r.timezone)),
            ("status", .string(r.status)),
            ("environments", .array(r.environments.map(environment))),
            ("findings", .array(r.findings.map(finding))),
            ("config_sha256", opt(r.configDigest)),
        ])
    }

    static func section<V>(_ s: Section<V>, _ body: (V) -> [(String, JSONValue)]) -> JSONValue {
        var pairs: [(String, JSONValue)] = [("status", .string(s.status.rawValue)), ("error", opt(s.error))]
        if let v = s.value { pairs += body(v) }
        pairs.append(("warnings", .array(s.warnings.map { .string($0) })))
        pairs.append(("coverage", s.coverage.map(coverage) ?? .null))
        return .object(pairs)
    }

    /// What a source read (docs/data-quality.md); absent figures are null.
    static func coverage(_ c: SourceCoverage) -> JSONValue {
        func on(_ v: Int?) -> JSONValue { v.map(n) ?? .null }
        return .object([
            ("source", .string(c.source)),
            ("read", n(c.read)), ("skipped", n(c.skipped)), ("unattributed", n(c.unattributed)),
            ("inputs", .array(c.inputs.map { i in .object([
                ("name", .string(i.name)), ("unit", .string(i.unit)),
                ("files", on(i.files)), ("bytes", on(i.bytes)), ("documents", on(i.documents)),
                ("read", n(i.read)), ("parsed", n(i.parsed)), ("invalid", n(i.invalid)),
                ("in_window", on(i.inWindow)), ("attributed", on(i.attributed)),
                ("other_environment", n(i.otherEnvironment)), ("unattributed", n(i.unattributed)),
                ("samples", on(i.samples)), ("buckets", on(i.buckets)),
                ("skipped", .array(i.skipped.map { .object([("reason", .string($0.reason)), ("count", n($0.count))]) })),
                ("examples", .array(i.examples.map { .object([("place", .string($0.place)), ("reason", .string($0.reason)), ("value", opt($0.value))]) })),
                ("first_time", i.firstTime.map(t) ?? .null), ("last_time", i.lastTime.map(t) ?? .null),
            ]) })),
            ("notes", .array(c.notes.map { .string($0) })),
        ])
    }

    static func ranked(_ items: [RankedCount], key: String) -> JSONValue {
        .array(items.map { .object([(key, .string($0.key)), ("count", n($0.count))]) })
    }

    /// Flow counts by Hubble verdict: every verdict, `other` for TRANSLATED and unknown ones.
    static func verdicts(_ c: FlowCounts) -> JSONValue {
        .object([("forwarded", n(c.forwarded)), ("dropped", n(c.dropped)), ("redirected", n(c.redirected)),
                 ("audit", n(c.audit)), ("traced", n(c.traced)), ("error", n(c.error)), ("other", n(c.other))])
    }

    static func environment(_ e: EnvironmentReport) -> JSONValue {
        .object([
            ("name", .string(e.name)), ("namespace", .string(e.namespace)), ("hosts", .array(e.hosts.map { .string($0) })),
            ("waf", section(e.waf, waf)),
            ("flows", section(e.flows) { flows($0) + [("map", TrafficMapView.json(e)), ("suggestions", SuggestionsView.json(e))] }),
            ("policies", appending(section(e.policies) { policies($0, namespace: e.namespace) },
                                  [("drift", drift(e.policyDrift)), ("workload_coverage", workloadCoverage(e)),
                                   ("pod_list", podList(e))])),
            ("thresholds", thresholds(e.thresholds)),
            ("evidence", .array(e.evidence.map { ev in .object([
                ("section", .string(ev.section)), ("source", .string(ev.source)), ("query", opt(ev.query)), ("sha256", opt(ev.sha256)),
            ]) })),
            ("previous", e.previous.map(previous) ?? .null),
            ("deltas", e.deltas.map(deltas) ?? .null),
        ])
    }

    /// `environments[].waf` when the source answered.
    static func waf(_ w: WAFStatistics) -> [(String, JSONValue)] {
        [
        ("total_requests", n(w.totalRequests)), ("anomalous_requests", n(w.anomalousRequests)),
        ("anomalous_ratio", .number(w.anomalousRatio)),
        ("history", .object([
            ("total", .array(w.totalHistory.map { .array([t($0.time), n($0.value)]) })),
            ("anomalous", .array(w.anomalousHistory.map { .array([t($0.time), n($0.value)]) })),
        ])),
        ("top_rules", .array(w.topRules.map { .object([
            ("id", .string($0.key)), ("category", .string(CRSCategory(ruleID: $0.key).rawValue)),
            ("message", opt($0.label)), ("count", n($0.count)),
        ]) })),
        ("top_clients", ranked(w.topClients, key: "ip")), ("top_uris", ranked(w.topURIs, key: "uri")),
        ("blocked_requests", w.blockedRequests.map(n) ?? .null),
        ("detection_only", w.detectionOnlyRequests.map(n) ?? .null),
        ("engine_modes", ranked(w.engineModes, key: "mode")),
        ("categories", .array(w.categories.map { .object([
            ("category", .string($0.key)), ("title", opt($0.label)), ("count", n($0.count)),
        ]) })),
        ("anomaly_scores", .array(w.anomalyScores.map { .object([
            ("score", Int($0.key).map(n) ?? .string($0.key)), ("count", n($0.count)),
        ]) })),
        ("critical_attacks", w.criticalAttackRequests.map(n) ?? .null),
        ("skipped_lines", n(w.skippedLines)),
        ("crs_unconfigured", w.crsUnconfiguredRequests.map(n) ?? .null),
        ("unattributed_entries", n(w.unattributedEntries)),
        ("access_log_format", opt(w.accessLogFormat)), ("audit_log_format", opt(w.auditLogFormat)),
        ("waf_engine", opt(w.wafEngine)), ("crs_version", opt(w.crsVersion)), ("error_log_format", opt(w.errorLogFormat)),
        ] + TuningView.jsonPairs(w)
    }

    /// `environments[].flows` when the source answered.
    static func flows(_ f: FlowStatistics) -> [(String, JSONValue)] {
        [
        ("total", n(f.counts.total)), ("forwarded", n(f.counts.forwarded)), ("dropped", n(f.counts.dropped)),
        ("dropped_ratio", .number(f.counts.droppedRatio)), ("verdicts", verdicts(f.counts)),
        ("inbound", .object([("total", n(f.inbound.total)), ("forwarded", n(f.inbound.forwarded)), ("dropped", n(f.inbound.dropped)),
                             ("verdicts", verdicts(f.inbound))])),
        ("outbound", .object([("total", n(f.outbound.total)), ("forwarded", n(f.outbound.forwarded)), ("dropped", n(f.outbound.dropped)),
                              ("verdicts", verdicts(f.outbound))])),
        ("rate", .object([
            ("forwarded", .array(f.forwardedRate.map { .array([t($0.time), .number($0.value)]) })),
            ("dropped", .array(f.droppedRate.map { .array([t($0.time), .number($0.value)]) })),
        ])),
        ("top_drop_reasons", ranked(f.topDropReasons, key: "reason")),
        ("top_dropped_pairs", ranked(f.topDroppedPairs, key: "pair")),
        ("top_denying_policies", .array(f.topDenyingPolicies.map { .object([
            ("policy", .string($0.key)), ("kind", opt($0.label)), ("count", n($0.count)),
        ]) })),
        ("unattributed_drops", n(f.unattributedDrops)),
        ("top_audit_pairs", ranked(f.topAuditPairs, key: "pair")),
        ("top_audit_policies", .array(f.topAuditPolicies.map { .object([
            ("policy", .string($0.key)), ("kind", opt($0.label)), ("count", n($0.count)),
        ]) })),
        ]
    }

    /// `environments[].policies` when the source answered.
    static func policies(_ p: PolicySet, namespace: String) -> [(String, JSONValue)] {
        [
        ("items", .array(p.items.map(policy))), ("notes", .array(p.notes.map { .string($0) })),
        // GitLab listed its predefined policies "disabled by default unless a deployed policy has the same name".
        ("predefined_not_deployed", .array(p.predefinedNotDeployed.map { d in .object([
            ("kind", .string(d.kind.rawValue)), ("name", .string(d.name)), ("enabled", .bool(false)),
            ("status", .string("predefined, not deployed")),
            ("rules", .object([("ingress", n(d.rules.ingress)), ("egress", n(d.rules.egress)),
                               ("ingress_deny", n(0)), ("egress_deny", n(0))])),
            ("description", .array(d.description(namespace: namespace).map { .string($0) })),
        ]) })),
        ]
    }

    static func thresholds(_ t: Thresholds) -> JSONValue {
        .object([
            ("anomalous_ratio", .object([("warning", .number(t.anomalousRatio.warning)), ("critical", .number(t.anomalousRatio.critical))])),
            ("dropped_ratio", .object([("warning", .number(t.droppedRatio.warning)), ("critical", .number(t.droppedRatio.critical))])),
            ("min_requests", n(t.minRequests)), ("min_flows", n(t.minFlows)),
            ("attack_burst_share", .number(t.attackBurstShare)),
            ("attack_burst_min_requests", n(t.attackBurstMinRequests)),
        ])
    }

    /// The previous window's totals and ratios (`--compare previous`); a section that could not be
    /// compared is `{"status": "unavailable", "error": "…"}`.
    static func previous(_ p: PreviousWindow) -> JSONValue {
        func part(_ value: [(String, JSONValue)]?, _ error: String?) -> JSONValue {
            if let value { return .object([("status", .string("ok"))] + value) }
            if let error { return .object([("status", .string("unavailable")), ("error", .string(error))]) }
            return .null
        }
        return .object([
            ("window", .object([("from", t(p.window.from)), ("to", t(p.window.to)), ("interval", .string(p.window.interval.rawValue))])),
            ("waf", part(p.waf.map { w in [
                ("total_requests", n(w.totalRequests)), ("anomalous_requests", n(w.anomalousRequests)),
                ("anomalous_ratio", .number(w.anomalousRatio)),
                ("top_rules", .array(w.topRules.map { .object([("id", .string($0.key)), ("count", n($0.count))]) })),
                ("top_clients", ranked(w.topClients, key: "ip")),
            ] }, p.wafUnavailable)),
            ("waf_coverage", p.wafCoverage.map(coverage) ?? .null),
            ("flows", part(p.flows.map { f in [
                ("total", n(f.counts.total)), ("forwarded", n(f.counts.forwarded)), ("dropped", n(f.counts.dropped)),
                ("dropped_ratio", .number(f.counts.droppedRatio)),
            ] }, p.flowsUnavailable)),
            ("flows_coverage", p.flowsCoverage.map(coverage) ?? .null),
            ("not_covered", .bool(p.notCovered)),
        ])
    }

    /// Current minus previous; `new_top_*` are keys in the current top list absent from the previous one.
    static func deltas(_ d: TrendDeltas) -> JSONValue {
        .object([
            ("waf", d.waf.map { w in .object([
                ("requests", n(w.requestsChange)), ("anomalous_ratio", .number(w.anomalousRatioChange)),
                ("new_top_rules", .array(w.newTopRules.map { .string($0) })),
                ("new_top_clients", .array(w.newTopClients.map { .string($0) })),
            ]) } ?? .null),
            ("flows", d.flows.map { f in .object([
                ("flows", n(f.flowsChange)), ("dropped_ratio", .number(f.droppedRatioChange)),
            ]) } ?? .null),
        ])
    }

    static func policy(_ p: PolicyItem) -> JSONValue {
        .object([
            ("kind", .string(p.kind?.rawValue ?? p.kindText)), ("name", .string(p.name)), ("namespace", opt(p.namespace)),
            ("enabled", .bool(p.enabled)), ("predefined", .bool(p.predefined)), ("valid", .bool(p.valid)),
            ("problems", .array(p.problems.map { .string($0.description) })),
            ("description", .array(p.description.map { .string($0) })),
            ("rules", .object([("ingress", n(p.rules.ingress)), ("egress", n(p.rules.egress)),
                               ("ingress_deny", n(p.rules.ingressDeny)), ("egress_deny", n(p.rules.egressDeny))])),
            ("origin", .string(p.origin)),
            ("traits", policyTraits(p)),
            ("fingerprint", fingerprint(p.fingerprint)),
            ("manifest", .string(p.manifest)),
        ])
    }

    /// What the findings read from a policy: nil (null) where the loader did not check it.
    static func policyTraits(_ p: PolicyItem) -> JSONValue {
        func b(_ v: Bool?) -> JSONValue { v.map { .bool($0) } ?? .null }
        return .object([
            ("world_ingress", p.worldIngress.map { rules in .array(rules.map { r in .object([
                ("path", .string(r.path)), ("peer", .string(r.peer)), ("any_port", .bool(r.anyPort)), ("ports", .string(r.ports)),
            ]) }) } ?? .null),
            ("restricts_ingress", b(p.restrictsIngress)),
            ("restricts_egress", b(p.restrictsEgress)),
            ("egress_open", p.restrictsEgress.map { .bool(!$0) } ?? .null),
            ("selects_all_pods", b(p.selectsAllPods)),
            ("selects_nodes", b(p.selectsNodes)),
            ("outside_rule_mode", p.ruleModeUnsupported.map { .array($0.map { .string($0) }) } ?? .null),
        ])
    }

    static func finding(_ f: Finding) -> JSONValue {
        .object([
            ("id", .string(f.id)), ("severity", .string(f.severity.rawValue)), ("environment", .string(f.environment)),
            ("title", .string(f.title)), ("value", f.value.map { .number($0) } ?? .null),
            ("threshold", f.threshold.map { .number($0) } ?? .null), ("guidance", .string(f.guidance)),
            ("subject", opt(f.subject)), ("unit", .string(f.unit.rawValue)),
        ])
    }
}
