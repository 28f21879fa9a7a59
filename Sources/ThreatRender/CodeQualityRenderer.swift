import Foundation
import ThreatModel

/// `report.codequality.json`: GitLab Code Quality (`artifacts:reports:codequality`), a subset of
/// the Code Climate issue format. One issue per finding; the fingerprint is the same stable hash
/// as SARIF's, so GitLab can tell new findings from resolved ones between branches.
public struct CodeQualityRenderer: ReportRenderer {
    public static let identifier = "codequality"
    public static let summary = "report.codequality.json for GitLab's artifacts:reports:codequality"
    public init() {}

    /// GitLab's scale is info, minor, major, critical, blocker: info → info, warning → major,
    /// critical → critical. (`info` findings are the volume-capped ratios: noise until traffic grows.)
    public static func severity(_ s: Severity) -> String {
        switch s {
        case .info: "info"
        case .warning: "major"
        case .critical: "critical"
        }
    }

    public func render(_ context: RenderContext) throws(RenderError) -> [OutputFile] {
        let report = context.report
        let issues: [JSONValue] = report.findings.map { f in
            let loc = FindingLocation.of(f, in: report, config: context.config)
            let env = Sanitize.text(f.environment, max: 80)
            var description = "\(env): \(Sanitize.text(f.title, max: 200))"
            if let figures = FindingFigures.text(f) { description += ": \(figures)" }
            return .object([
                ("type", .string("issue")),
                ("description", .string(description)),
                ("check_name", .string(f.id)),
                ("fingerprint", .string(FindingFingerprint.of(f))),
                ("severity", .string(Self.severity(f.severity))),
                ("categories", .array([.string("Security")])),
                ("content", .object([("body", .string(Sanitize.text(f.guidance, max: 1200)))])),
                ("location", .object([
                    ("path", .string(loc?.relativePath ?? "")),
                    ("lines", .object([("begin", .number(Double(loc?.line ?? 1)))])),
                ])),
            ])
        }
        return [OutputFile(path: "report.codequality.json", text: JSONValue.array(issues).serialized(pretty: true) + "\n")]
    }
}
