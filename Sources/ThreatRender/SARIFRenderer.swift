import Foundation
import ThreatModel

/// `report.sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers. One rule per
/// check, one result per finding with a logical location (environment/namespace) and a physical
/// one (the policy manifest, else the config file), and a `partialFingerprints` entry that stays
/// the same across runs while the finding's numbers change.
public struct SARIFRenderer: ReportRenderer {
    public static let identifier = "sarif"
    public static let summary = "report.sarif (SARIF 2.1.0) for GitHub code scanning"
    public init() {}

    public static let schemaURI = "https://json.schemastore.org/sarif-2.1.0.json"
    /// The `partialFingerprints` key; bump the version if the hashed fields ever change.
    public static let fingerprintKey = "threatReportFinding/v1"

    public func render(_ context: RenderContext) throws(RenderError) -> [OutputFile] {
        [OutputFile(path: "report.sarif", text: Self.document(context).serialized(pretty: true) + "\n")]
    }

    /// SARIF levels: critical → error, warning → warning, info → note.
    public static func level(_ s: Severity) -> String {
        switch s {
        case .critical: "error"
        case .warning: "warning"
        case .info: "note"
        }
    }

    static func document(_ context: RenderContext) -> JSONValue {
        let report = context.report
        let checks = CheckCatalog.checks(for: report, known: context.checks)
        let rules = checks.map(rule)
        let results = report.findings.map { f in result(f, ruleIndex: checks.firstIndex { $0.id == f.id } ?? 0, context: context) }
        var notifications: [JSONValue] = []
        for env in report.environments {
            for (name, status, error) in [("waf", env.waf.status, env.waf.error), ("flows", env.flows.status, env.flows.error),
                                          ("policies", env.policies.status, env.policies.error)]
            where status == .unavailable || status == .partial {
                let what = status == .partial ? "answer may be incomplete" : "unavailable"
                notifications.append(.object([
                    ("level", .string(status == .partial ? "warning" : "error")),
                    ("message", .object([("text", .string("\(Sanitize.text(env.name, max: 80))/\(name) \(what): \(Sanitize.text(error ?? "", max: 600))"))])),
                ]))
            }
        }
        var invocation: [(String, JSONValue)] = [("executionSuccessful", .bool(true))]
        if !notifications.isEmpty { invocation.append(("toolExecutionNotifications", .array(notifications))) }
        let run: JSONValue = .object([
            ("tool", .object([("driver", .object([
                ("name", .string(ToolInfo.name)),
                ("version", .string(report.toolVersion)),
                ("semanticVersion", .string(ToolInfo.version)),
                ("rules", .array(rules)),
            ]))])),
            ("invocations", .array([.object(invocation)])),
            ("results", .array(results)),
            ("properties", .object([
                ("title", .string(Sanitize.text(report.title, max: 120))),
                ("window", .object([("from", .string(RFC3339.format(report.window.from))), ("to", .string(RFC3339.format(report.window.to)))])),
                ("status", .string(report.isPartial ? "partial" : "complete")),
            ])),
        ])
        return .object([("$schema", .string(schemaURI)), ("version", .string("2.1.0")), ("runs", .array([run]))])
    }

    static func rule(_ c: CheckDescription) -> JSONValue {
        .object([
            ("id", .string(c.id)),
            ("name", .string(c.name)),
            ("shortDescription", .object([("text", .string(c.shortDescription))])),
            ("fullDescription", .object([("text", .string(c.fullDescription))])),
            ("help", .object([("text", .string(c.help))])),
            ("defaultConfiguration", .object([("level", .string(level(c.defaultSeverity)))])),
            ("properties", .object([("tags", .array(["security", "kubernetes", c.section].map { .string($0) }))])),
        ])
    }

    static func result(_ f: Finding, ruleIndex: Int, context: RenderContext) -> JSONValue {
        let report = context.report
        let env = report.environments.first { $0.name == f.environment }
        let envName = Sanitize.text(f.environment, max: 80)
        let namespace = Sanitize.text(env?.namespace ?? f.environment, max: 80)
        var text = Sanitize.text(f.title, max: 200) + " in \(envName) (namespace \(namespace))"
        if let figures = FindingFigures.text(f) { text += ": \(figures)" }
        text += ". " + Sanitize.text(f.guidance, max: 1200)

        var location: [(String, JSONValue)] = []
        if let loc = FindingLocation.of(f, in: report, config: context.config) {
            var physical: [(String, JSONValue)] = [("artifactLocation", .object(
                loc.path.hasPrefix("/") ? [("uri", .string(loc.uri))] : [("uri", .string(loc.uri)), ("uriBaseId", .string("%SRCROOT%"))]))]
            physical.append(("region", .object([("startLine", .number(Double(loc.line ?? 1)))])))
            location.append(("physicalLocation", .object(physical)))
        }
        location.append(("logicalLocations", .array([.object([
            ("name", .string(namespace)),
            ("fullyQualifiedName", .string("\(envName)/\(namespace)")),
            ("kind", .string("namespace")),
        ])])))

        var properties: [(String, JSONValue)] = [("severity", .string(f.severity.rawValue)), ("environment", .string(envName))]
        if let s = f.subject { properties.append(("subject", .string(Sanitize.text(s, max: 200)))) }
        if let v = f.value { properties.append(("value", .number(v))) }
        if let t = f.threshold { properties.append(("threshold", .number(t))) }
        return .object([
            ("ruleId", .string(f.id)),
            ("ruleIndex", .number(Double(ruleIndex))),
            ("level", .string(level(f.severity))),
            ("message", .object([("text", .string(text))])),
            ("locations", .array([.object(location)])),
            ("partialFingerprints", .object([(fingerprintKey, .string(FindingFingerprint.of(f)))])),
            ("properties", .object(properties)),
        ])
    }
}
