import Foundation
import Testing
import ThreatModel
@testable import ThreatRender

@Suite("Check catalogue")
struct CheckCatalogTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the catalogue is the check list in order, then a derived entry for a finding id the list lacks")
    func catalogueFromList() throws {
        var report = ciReport()
        #expect(CheckCatalog.checks(for: report, known: catalogue) == catalogue)
        report.findings.append(Finding(id: "waf.false_positive_candidates", severity: .info, environment: "production",
                                       title: "t", guidance: "Exclude rule 942100 with `SecRuleRemoveById 942100`."))
        let checks = CheckCatalog.checks(for: report, known: catalogue)
        #expect(checks.dropLast() == catalogue[...])
        let derived = try #require(checks.last)
        #expect(derived.id == "waf.false_positive_candidates" && derived.name == "WafFalsePositiveCandidates")
        #expect(derived.section == "waf" && derived.defaultSeverity == .info && derived.help.contains("SecRuleRemoveById"))
        #expect(derived.shortDescription == "WAF: false positive candidates")
    }

    @Test("docs/checks.md is the catalogue as generated from the check list (threat-report checks > docs/checks.md)")
    func checksPageIsGenerated() throws {
        let page = try String(contentsOf: Self.root.appendingPathComponent("docs/checks.md"), encoding: .utf8)
        let expected = CheckCatalog.markdown(catalogue)
        #expect(page == expected, "docs/checks.md is out of date: run `threat-report checks > docs/checks.md`")
        for c in catalogue {
            #expect(page.contains("| [`\(c.id)`](#"), "\(c.id) has no row")
            #expect(page.contains("\n## \(c.id)\n"), "\(c.id) has no section")
        }
    }

    @Test("every check id in a docs table is a check of the list")
    func docsTablesNameListedChecks() throws {
        let docs = Self.root.appendingPathComponent("docs")
        let known = Set(catalogue.map(\.id))
        let regex = try NSRegularExpression(pattern: #"^\| \[?`((?:waf|flows|policies|input)\.[a-z_]+)`"#, options: .anchorsMatchLines)
        var seen = Set<String>()
        for name in try FileManager.default.contentsOfDirectory(atPath: docs.path) where name.hasSuffix(".md") {
            let text = try String(contentsOf: docs.appendingPathComponent(name), encoding: .utf8)
            for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let id = String(text[Range(m.range(at: 1), in: text)!])
                seen.insert(id)
                #expect(known.contains(id), "docs/\(name) lists \(id), which no check has")
            }
        }
        #expect(seen == known, "checks no docs table lists: \(known.subtracting(seen).sorted())")
    }
}
