import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import ThreatModel
@testable import ThreatRender

/// The JUnit file as an independent XML parser (Foundation's, libxml2 underneath) sees it.
final class JUnitDocument: NSObject, XMLParserDelegate {
    struct Case {
        var classname = "", name = ""
        var failure: [String: String]?
        var failureText = ""
        var error: [String: String]?
        var skipped: [String: String]?
        var systemOut = ""
        var systemErr = ""
    }
    var suitesAttributes: [String: String] = [:]
    var suites: [[String: String]] = []
    var cases: [Case] = []
    private var element = ""
    var parseError: String?

    init(_ text: String) {
        super.init()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = self
        if !parser.parse() { parseError = parser.parserError.map { "\($0)" } ?? "parse failed" }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        element = name
        switch name {
        case "testsuites": suitesAttributes = attributes
        case "testsuite": suites.append(attributes)
        case "testcase": cases.append(Case(classname: attributes["classname"] ?? "", name: attributes["name"] ?? ""))
        case "failure": cases[cases.count - 1].failure = attributes
        case "error": cases[cases.count - 1].error = attributes
        case "skipped": cases[cases.count - 1].skipped = attributes
        default: break
        }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard !cases.isEmpty else { return }
        switch element {
        case "failure": cases[cases.count - 1].failureText += string
        case "system-out": cases[cases.count - 1].systemOut += string
        case "system-err": cases[cases.count - 1].systemErr += string
        default: break
        }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) { element = "" }

    func testcase(_ env: String, _ check: String) -> Case? { cases.first { $0.classname == env && $0.name == check } }
}

@Suite("JUnit XML output (GitLab artifacts:reports:junit)")
struct JUnitTests {
    func junit(_ failOn: Severity?, _ report: Report = ciReport()) throws -> JUnitDocument {
        let doc = JUnitDocument(try renderText(JUnitRenderer(), try ciContext(report, failOn: failOn)))
        #expect(doc.parseError == nil, "\(doc.parseError ?? "")")
        return doc
    }

    @Test("one test case per check per environment, classname = environment, name = check id")
    func shape() throws {
        let doc = try junit(.warning)
        #expect(doc.suites.map { $0["name"] } == ["production", "staging", "bare"])
        let checks = catalogue.map(\.id)
        #expect(checks.count >= 17 && Set(checks).count == checks.count)
        #expect(doc.cases.count == 3 * checks.count)
        for env in ["production", "staging", "bare"] {
            #expect(doc.cases.filter { $0.classname == env }.map(\.name) == checks)
        }
    }

    @Test("counts per --fail-on: none and critical fail nothing, info and warning fail the four production checks")
    func countsPerFailOn() throws {
        for (failOn, failures) in [(nil, 0), (Severity.info, 4), (.warning, 4), (.critical, 0)] as [(Severity?, Int)] {
            let doc = try junit(failOn)
            let n = catalogue.count
            #expect(doc.suitesAttributes["tests"] == "\(3 * n)")
            #expect(doc.suitesAttributes["failures"] == "\(failures)", "--fail-on \(failOn?.rawValue ?? "none")")
            #expect(doc.cases.filter { $0.failure != nil }.count == failures)
            let bare = catalogue.filter { $0.section == "flows" }.count
            #expect(doc.suitesAttributes["errors"] == "\(bare)" && doc.suitesAttributes["skipped"] == "\(n - bare)",
                    "bare: the flows checks error (unavailable); the waf and policies checks are skipped (not configured)")
            let production = try #require(doc.suites.first)
            #expect(production["tests"] == "\(n)" && production["failures"] == "\(failures)")
        }
    }

    @Test("a failure carries the title as message and the severity as type; its text has the figures and the guidance")
    func failureContent() throws {
        let flows = try #require(try junit(.warning).testcase("production", "flows.dropped_ratio"))
        #expect(flows.failure?["message"] == "Dropped flows at 17% of traffic")
        #expect(flows.failure?["type"] == "warning")
        #expect(flows.failureText.contains("value: 17% (threshold 5%)"))
        #expect(flows.failureText.contains("hubble observe --namespace shop-production"))
    }

    @Test("findings below --fail-on pass and are listed in <system-out>; sources: unavailable is an error, not configured is skipped")
    func belowThresholdAndSections() throws {
        let none = try junit(nil)
        let waf = try #require(none.testcase("production", "waf.anomalous_ratio"))
        #expect(waf.failure == nil)
        #expect(waf.systemOut.contains("Reported, not failing (--fail-on none)"))
        #expect(waf.systemOut.contains("[warning] Anomalous requests at"))
        let critical = try #require(try junit(.critical).testcase("production", "policies.invalid"))
        #expect(critical.failure == nil && critical.systemOut.contains("below --fail-on critical"))
        #expect(none.testcase("staging", "waf.anomalous_ratio")?.systemOut == "")
        #expect(none.testcase("bare", "flows.dropped_ratio")?.error?["message"]?.contains("cannot read recordings/missing/totals.json") == true)
        #expect(none.testcase("bare", "waf.anomalous_ratio")?.skipped != nil)
    }

    @Test("several findings of one check share one failure that lists them all")
    func severalFindingsOneFailure() throws {
        var report = ciReport()
        report.findings.append(Finding(id: "policies.invalid", severity: .critical, environment: "production",
                                       title: "Policy other is not valid", guidance: "Fix it.", subject: "other"))
        let c = try #require(try junit(.warning, report).testcase("production", "policies.invalid"))
        #expect(c.failure?["type"] == "critical")
        #expect(c.failure?["message"] == "2 findings: Policy worker-deny-ingress is not valid; Policy other is not valid")
        #expect(c.failureText.contains("[critical] Policy other is not valid") && c.failureText.contains("[warning] Policy worker-deny-ingress"))
    }

    @Test("a finding id the catalog does not know gets its own test case")
    func unknownCheck() throws {
        var report = ciReport()
        report.findings.append(Finding(id: "waf.blocked_ratio", severity: .info, environment: "staging", title: "t", guidance: "g"))
        let doc = try junit(.info, report)
        #expect(doc.cases.count == 3 * catalogue.count + 3)
        #expect(doc.testcase("staging", "waf.blocked_ratio")?.failure?["type"] == "info")
    }

    @Test("hostile strings survive as text in attributes and bodies: <script>, ]]>, quotes, control characters")
    func hostileStrings() throws {
        let payload = "<script>alert(\"x\")</script> ]]> 'q' & \u{1b}[31m\u{0}end"
        var report = ciReport()
        report.environments[0].name = payload
        for i in report.findings.indices {
            report.findings[i].environment = payload
            report.findings[i].title = payload
            report.findings[i].guidance = payload
        }
        report.title = payload
        let text = try renderText(JUnitRenderer(), try ciContext(report, failOn: .warning))
        #expect(!text.contains("<script>") && !text.contains("]]>") && !text.contains("\u{1b}") && !text.contains("\u{0}"))
        let doc = try junit(.warning, report)
        let expected = "<script>alert(\"x\")</script> ]]> 'q' &  [31m end"
        #expect(doc.suites.first?["name"] == expected)
        let c = try #require(doc.cases.first { $0.name == "flows.dropped_ratio" && $0.classname == expected })
        #expect(c.failure?["message"] == expected)
        #expect(c.failureText.hasPrefix("[warning] " + expected))
        #expect(hostileReport().findings.count == 1)
        let other = JUnitDocument(try renderText(JUnitRenderer(), try ciContext(hostileReport(), failOn: .info)))
        #expect(other.parseError == nil && other.cases.contains { $0.failure != nil })
    }
}
