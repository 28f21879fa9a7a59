import Foundation
import ThreatModel

/// `report.junit.xml`: the shape GitLab reads with `artifacts:reports:junit`. One test suite per
/// environment, one test case per check (`classname` = environment, `name` = check id):
///
/// - a check with findings at or above `--fail-on` fails, with one `<failure>` (type = the worst
///   severity) that lists every such finding;
/// - findings below `--fail-on` (all of them with `--fail-on none`) are listed in the test case's
///   `<system-out>`, and the case passes: the test report agrees with the exit code;
/// - a check whose source was unavailable is an `<error>`; one whose section is not configured is
///   `<skipped>`; one whose source answered but said the answer may be incomplete is checked as
///   usual, with the source's caveat in `<system-err>`.
///
/// GitLab shows one failure per test case, so several findings of one check share it.
public struct JUnitRenderer: ReportRenderer {
    public static let identifier = "junit"
    public static let summary = "report.junit.xml (JUnit XML) for GitLab's artifacts:reports:junit"
    public init() {}

    enum Outcome {
        case passed(notes: [Finding])
        case failed(failing: [Finding], notes: [Finding])
        case error(String)
        case skipped(String)
    }

    public func render(_ context: RenderContext) throws(RenderError) -> [OutputFile] {
        [OutputFile(path: "report.junit.xml", text: Self.document(context))]
    }

    static func outcome(_ check: CheckDescription, env: EnvironmentReport, report: Report, failOn: Severity?) -> Outcome {
        if let (status, error) = CheckCatalog.status(of: check, in: env) {
            switch status {
            case .unavailable: return .error("\(check.section) source unavailable: \(error ?? "unknown cause")")
            case .notConfigured: return .skipped("no \(check.section) source is configured for this environment")
            case .partial, .ok: break  // a possibly incomplete answer is still checked; noted in <system-err>
            }
        }
        let findings = report.findings(for: env.name).filter { $0.id == check.id }
        let failing = failOn.map { t in findings.filter { $0.severity >= t } } ?? []
        let notes = findings.filter { f in !failing.contains(f) }
        return failing.isEmpty ? .passed(notes: notes) : .failed(failing: failing, notes: notes)
    }

    static func document(_ context: RenderContext) -> String {
        let report = context.report
        let checks = CheckCatalog.checks(for: report, known: context.checks)
        let e = XMLEscaper.escape
        let timestamp = RFC3339.format(report.generatedAt).replacingOccurrences(of: "Z", with: "")
        var suites: [String] = []
        var totals = (tests: 0, failures: 0, errors: 0, skipped: 0)
        for env in report.environments {
            let name = Sanitize.text(env.name, max: 80)
            var cases: [String] = []
            var counts = (tests: 0, failures: 0, errors: 0, skipped: 0)
            for check in checks {
                let outcome = outcome(check, env: env, report: report, failOn: context.failOn)
                counts.tests += 1
                var body = ""
                switch outcome {
                case let .passed(notes):
                    if !notes.isEmpty { body = "      <system-out>\(e(notesText(notes, failOn: context.failOn)))</system-out>\n" }
                case let .failed(failing, notes):
                    counts.failures += 1
                    let worst = failing.map(\.severity).max() ?? .warning
                    let message = failing.count == 1
                        ? Sanitize.text(failing[0].title, max: 200)
                        : "\(failing.count) findings: " + failing.map { Sanitize.text($0.title, max: 120) }.joined(separator: "; ")
                    body = "      <failure message=\"\(e(message))\" type=\"\(worst.rawValue)\">\(e(failing.map(findingText).joined(separator: "\n\n")))</failure>\n"
                    if !notes.isEmpty { body += "      <system-out>\(e(notesText(notes, failOn: context.failOn)))</system-out>\n" }
                case let .error(cause):
                    counts.errors += 1
                    body = "      <error message=\"\(e(Sanitize.text(cause, max: 600)))\" type=\"unavailable\"/>\n"
                case let .skipped(why):
                    counts.skipped += 1
                    body = "      <skipped message=\"\(e(why))\"/>\n"
                }
                if let (status, error) = CheckCatalog.status(of: check, in: env), status == .partial {
                    body += "      <system-err>\(e("the \(check.section) source's answer may be incomplete: " + Sanitize.text(error ?? "", max: 600)))</system-err>\n"
                }
                let open = "    <testcase classname=\"\(e(name))\" name=\"\(e(check.id))\" time=\"0\""
                cases.append(body.isEmpty ? open + "/>\n" : open + ">\n" + body + "    </testcase>\n")
            }
            suites.append("  <testsuite name=\"\(e(name))\" tests=\"\(counts.tests)\" failures=\"\(counts.failures)\" errors=\"\(counts.errors)\" skipped=\"\(counts.skipped)\" time=\"0\" timestamp=\"\(timestamp)\">\n"
                          + cases.joined() + "  </testsuite>\n")
            totals.tests += counts.tests
            totals.failures += counts.failures
            totals.errors += counts.errors
            totals.skipped += counts.skipped
        }
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<testsuites name=\"\(e(Sanitize.text(report.title, max: 120)))\" tests=\"\(totals.tests)\" failures=\"\(totals.failures)\" errors=\"\(totals.errors)\" skipped=\"\(totals.skipped)\" time=\"0\">\n"
            + suites.joined() + "</testsuites>\n"
    }

    /// One finding as plain text: severity and title, the figures, the guidance.
    static func findingText(_ f: Finding) -> String {
        var lines = ["[\(f.severity.rawValue)] \(Sanitize.text(f.title, max: 200))"]
        if let s = f.subject { lines.append("subject: \(Sanitize.text(s, max: 200))") }
        if let figures = FindingFigures.text(f) { lines.append("value: \(figures)") }
        lines.append(Sanitize.text(f.guidance, max: 1200))
        return lines.joined(separator: "\n")
    }

    static func notesText(_ notes: [Finding], failOn: Severity?) -> String {
        let why = failOn.map { "below --fail-on \($0.rawValue)" } ?? "--fail-on none"
        return "Reported, not failing (\(why)):\n\n" + notes.map(findingText).joined(separator: "\n\n")
    }
}
