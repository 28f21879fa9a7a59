import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

/// The data-quality findings of docs/data-quality.md.
@Suite("Input findings")
struct InputFindingTests {
    func withCoverage(_ inputs: [InputCoverage], thresholds: Thresholds = .defaults, requests: Int = 1000, anomalous: Int = 10) -> EnvironmentReport {
        var e = env(requests: requests, anomalous: anomalous, thresholds: thresholds)
        e.waf.coverage = SourceCoverage(source: "files", inputs: inputs)
        return e
    }

    func lines(_ name: String, read: Int, parsed: Int, skipped: Int = 0, unattributed: Int = 0, files: Int = 1) -> InputCoverage {
        var i = InputCoverage(name: name, unit: "lines", files: files, read: read, parsed: parsed, inWindow: parsed, attributed: parsed - unattributed,
                              unattributed: unattributed)
        i.skip("not an ingress-nginx or combined access line", count: skipped, place: "/logs/access.log:1", value: "x")
        return i
    }

    @Test("input.unreadable: a non-empty input with nothing parsed is critical; the report is partial, never complete")
    func unreadable() {
        let e = withCoverage([lines("audit log", read: 292, parsed: 292), lines("access log", read: 455, parsed: 0, skipped: 455)])
        let f = FindingAnalyzer.findings(for: e, window: window).filter { $0.id == InputCheck.unreadable }
        #expect(f.count == 1)
        #expect(f.first?.severity == .critical && f.first?.subject == "waf: access log")
        #expect(f.first?.title == "The WAF source could read none of its access log: 455 lines, 0 parsed")
        #expect(f.first?.guidance.contains("First at /logs/access.log:1") == true)
        let report = Report(title: "t", toolVersion: "t", generatedAt: window.to, window: window, timezone: "UTC", environments: [e],
                            findings: FindingAnalyzer.analyze([e], window: window))
        #expect(report.isPartial && report.status == "partial" && report.isPartial(e))
        #expect(!e.isPartial, "the section itself answered: the finding is what makes the report partial")
    }

    @Test("input.unreadable: an empty input is not unreadable (nothing was given)")
    func emptyInputIsNotUnreadable() {
        let e = withCoverage([lines("access log", read: 0, parsed: 0)])
        #expect(FindingAnalyzer.findings(for: e, window: window).allSatisfy { !$0.id.hasPrefix("input.") })
    }

    @Test("input.partially_read: above the default 1% warns; exactly 1% does not", arguments: [(2, true), (1, false), (0, false)])
    func partiallyReadDefault(skipped: Int, fires: Bool) {
        let e = withCoverage([lines("access log", read: 100, parsed: 100 - skipped, skipped: skipped)])
        let f = FindingAnalyzer.findings(for: e, window: window).filter { $0.id == InputCheck.partiallyRead }
        #expect(f.isEmpty == !fires)
        if fires {
            #expect(f.first?.severity == .warning && f.first?.value == 0.02 && f.first?.threshold == 0.01)
            #expect(f.first?.title == "The WAF source used only part of its access log: 2 skipped of 100 lines")
        }
    }

    @Test("input.partially_read: lines of no environment count; the share is configurable per environment")
    func partiallyReadUnattributedAndConfigurable() {
        let e = withCoverage([lines("access log", read: 100, parsed: 100, unattributed: 3)])
        #expect(FindingAnalyzer.findings(for: e, window: window).contains { $0.id == InputCheck.partiallyRead && $0.title.contains("3 of no environment") })
        var t = Thresholds.defaults
        t.maxSkippedShare = 0.05
        let relaxed = withCoverage([lines("access log", read: 100, parsed: 100, unattributed: 3)], thresholds: t)
        #expect(!FindingAnalyzer.findings(for: relaxed, window: window).contains { $0.id == InputCheck.partiallyRead })
        let report = Report(title: "t", toolVersion: "t", generatedAt: window.to, window: window, timezone: "UTC", environments: [e],
                            findings: FindingAnalyzer.analyze([e], window: window))
        #expect(!report.isPartial && report.status == "incomplete")
    }

    @Test("input.no_denominator: audit entries without access-log lines say what to configure")
    func noDenominator() {
        let noAccess = withCoverage([lines("audit log", read: 292, parsed: 292), lines("access log", read: 0, parsed: 0, files: 0)],
                                    requests: 0, anomalous: 292)
        let f = FindingAnalyzer.findings(for: noAccess, window: window).filter { $0.id == InputCheck.noDenominator }
        #expect(f.first?.title == "292 audit entries but no access-log lines: configure `access_log`")
        #expect(f.first?.severity == .warning)
        let outside = withCoverage([lines("audit log", read: 292, parsed: 292), lines("access log", read: 40, parsed: 40)],
                                   requests: 0, anomalous: 292)
        #expect(FindingAnalyzer.findings(for: outside, window: window).first { $0.id == InputCheck.noDenominator }?.title
            == "292 audit entries but no access-log lines of this environment in the window")
        let unreadable = withCoverage([lines("audit log", read: 292, parsed: 292), lines("access log", read: 455, parsed: 0, skipped: 455)],
                                      requests: 0, anomalous: 292)
        #expect(FindingAnalyzer.findings(for: unreadable, window: window).first { $0.id == InputCheck.noDenominator }?.title
            == "292 audit entries but no readable access-log line: the anomalous ratio is n/a")
        // No anomalous-ratio finding claims 0%.
        #expect(!FindingAnalyzer.findings(for: noAccess, window: window).contains { $0.id == "waf.anomalous_ratio" })
        #expect(RatioText.anomalous(noAccess.waf.value!) == "n/a")
    }

    @Test("Report status 'complete' only when no input finding fired")
    func complete() {
        let e = withCoverage([lines("access log", read: 1000, parsed: 1000)])
        let report = Report(title: "t", toolVersion: "t", generatedAt: window.to, window: window, timezone: "UTC", environments: [e],
                            findings: FindingAnalyzer.analyze([e], window: window))
        #expect(report.status == "complete")
    }

    @Test("Volume guard text: 'Only 1 flow', never 'Only 1 flows'")
    func pluralVolume() {
        let f = FindingAnalyzer.findings(for: env(forwarded: 0, dropped: 1), window: window).first { $0.id == "flows.dropped_ratio" }
        #expect(f?.guidance.hasPrefix("Only 1 flow in the window") == true, "\(f?.guidance ?? "")")
    }
}
