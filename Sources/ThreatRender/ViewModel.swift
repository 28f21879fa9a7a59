import Foundation
import Mustache
import ThreatModel

// The report as typed values for the Mustache templates. The stored property names are the
// template keys (`badge_class`, `has_findings`, …), read by swift-mustache through reflection; a
// value that is nil is absent, so the template looks the key up in the enclosing sections, as
// Mustache does for a missing key. Every untrusted string is sanitised and cut here; the
// template's content type (HTML or MARKDOWN) escapes it. Custom templates (`--templates`) read
// the same keys: they are part of the contract (docs/design.md).

/// The root of the view: the header, the summary, the findings, the environments and the evidence.
public struct ReportView: Sendable {
    let title: String
    let generated_at: String
    let from: String
    let to: String
    let from_utc: String
    let to_utc: String
    let interval: String
    let timezone: String
    let length: String
    let status: String
    let partial: Bool
    let complete: Bool
    let summary: [SummaryRow]
    let environments: [EnvironmentView]
    let findings: [FindingView]
    let has_findings: Bool
    let finding_counts: String
    let tool: String
    let version: String
    let config_digest: String
    let data_digest: String
}

/// One finding, worst first.
struct FindingView: Sendable {
    let id: String
    let id_md: String
    let severity: String
    let severity_label: String
    let environment: String
    let title: String
    let value: String
    let threshold: String
    let has_value: Bool
    /// Whether the check has a threshold (coverage and drift findings count, with none).
    let has_threshold: Bool
    let guidance: String
    let guidance_parts: [GuidancePart]

    init(_ f: Finding) {
        id = f.id
        id_md = MarkdownCode.span(f.id)
        severity = f.severity.rawValue
        severity_label = f.severity.rawValue.capitalized
        environment = Sanitize.text(f.environment, max: 80)
        title = Sanitize.text(f.title, max: 200)
        value = f.value.map { f.unit.format($0) } ?? ""
        threshold = f.threshold.map { f.unit.format($0) } ?? ""
        has_value = f.value != nil
        has_threshold = f.threshold != nil
        guidance = Sanitize.text(f.guidance, max: 1200)
        guidance_parts = GuidancePart.split(guidance)
    }
}

/// A piece of guidance text: commands (between backticks) are `code`, shown as `<code>` in HTML.
struct GuidancePart: Sendable {
    let text: String
    let code: Bool
    let code_md: String

    /// Splits text on backtick pairs; each part is still escaped by the template.
    static func split(_ text: String) -> [GuidancePart] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated().compactMap { i, part in
            part.isEmpty ? nil : GuidancePart(text: String(part), code: i % 2 == 1, code_md: MarkdownCode.span(String(part)))
        }
    }
}

/// A drawn chart: the inline SVG, the PNG file beside the report, and its title.
struct ChartView: Sendable {
    let svg: String
    let png: String
    let title: String

    init(_ c: ReportChart) {
        svg = c.rendered.svg
        png = c.fileBase + ".png"
        title = c.title
    }
}

/// A key and a count of a top list (clients, URIs, drop reasons, pairs).
struct RankedView: Sendable {
    let key: String
    let count: String

    init(_ r: RankedCount, max: Int) {
        key = Sanitize.text(r.key, max: max)
        count = NumberText.grouped(r.count)
    }
}

public enum ReportViewModel {
    /// `dataDigest`: the SHA-256 of this run's `report.json` (the evidence appendix shows it).
    public static func build(_ report: Report, charts: [ReportChart], dataDigest: String? = nil) -> ReportView {
        let tz = TimeZone(identifier: report.timezone) ?? TimeZone(identifier: "UTC")!
        func time(_ d: Date) -> String {
            let off = tz.secondsFromGMT(for: d)
            return RFC3339.format(d, offsetSeconds: off).replacingOccurrences(of: "T", with: " ")
        }
        let slugs = ReportCharts.slugs(report.environments.map(\.name))
        let environments = report.environments.enumerated().map { i, env in
            EnvironmentView(env, report: report, anchor: "env-\(slugs[i])", charts: charts.filter { $0.environmentIndex == i }, time: time)
        }
        let findings = report.findings.map(FindingView.init)
        let counts = Severity.allCases.reversed().map { s in "\(report.findings.filter { $0.severity == s }.count) \(s.rawValue)" }
        return ReportView(
            title: Sanitize.text(report.title, max: 120),
            generated_at: time(report.generatedAt),
            from: time(report.window.from), to: time(report.window.to),
            from_utc: RFC3339.format(report.window.from), to_utc: RFC3339.format(report.window.to),
            interval: report.window.interval.rawValue, timezone: Sanitize.text(report.timezone, max: 64),
            length: WindowText.human(report.window),
            status: report.status, partial: report.isPartial, complete: report.status == "complete",
            summary: environments.map(\.row), environments: environments, findings: findings, has_findings: !findings.isEmpty,
            finding_counts: counts.joined(separator: ", "),
            tool: ToolInfo.name, version: ToolInfo.version, config_digest: report.configDigest ?? "–",
            data_digest: dataDigest ?? "–")
    }
}

/// The value of a stored property of `object` named `key`, as swift-mustache's reflection reads it
/// (an Optional unwrapped, nil when it holds nothing): for the views made of two parts.
enum TemplateKeys {
    static func value(_ object: Any, _ key: String) -> Any? {
        guard let child = Mirror(reflecting: object).children.first(where: { $0.label == key })?.value else { return nil }
        let mirror = Mirror(reflecting: child)
        guard mirror.displayStyle == .optional else { return child }
        return mirror.children.first?.value
    }
}
