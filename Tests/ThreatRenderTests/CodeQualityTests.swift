import Foundation
import Testing
import ThreatModel
@testable import ThreatRender

@Suite("GitLab Code Quality output")
struct CodeQualityTests {
    func issues(_ report: Report = ciReport()) throws -> [[String: Any]] {
        let text = try renderText(CodeQualityRenderer(), try ciContext(report))
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    @Test("one issue per finding with description, check_name, fingerprint, severity and location")
    func fields() throws {
        let list = try issues()
        #expect(list.count == 4)
        for i in list {
            #expect((i["description"] as? String)?.hasPrefix("production: ") == true)
            #expect((i["fingerprint"] as? String)?.count == 64)
            let location = try #require(i["location"] as? [String: Any])
            #expect((location["path"] as? String)?.isEmpty == false)
            #expect(((location["lines"] as? [String: Any])?["begin"] as? Int ?? 0) >= 1)
        }
        let invalid = try #require(list.first { $0["check_name"] as? String == "policies.invalid" })
        #expect((invalid["location"] as? [String: Any])?["path"] as? String == "samples/production/policies/worker.yaml")
        #expect(((invalid["location"] as? [String: Any])?["lines"] as? [String: Any])?["begin"] as? Int == 2)
        let waf = try #require(list.first { $0["check_name"] as? String == "waf.anomalous_ratio" })
        #expect((waf["location"] as? [String: Any])?["path"] as? String == "samples/threat-report.yml")
        #expect(Set(list.compactMap { $0["fingerprint"] as? String }).count == 4)
    }

    @Test("severities: info → info, warning → major, critical → critical")
    func severities() throws {
        var report = ciReport()
        report.findings[0].severity = .critical
        report.findings[3].severity = .info
        #expect(try issues(report).map { $0["severity"] as? String } == ["critical", "major", "major", "info"])
    }

    @Test("fingerprints are the SARIF ones: stable when values change")
    func fingerprints() throws {
        let a = try issues().compactMap { $0["fingerprint"] as? String }
        let b = try issues(ciReport(scale: 2)).compactMap { $0["fingerprint"] as? String }
        #expect(a == b)
        #expect(a[0] == FindingFingerprint.of(ciReport().findings[0]))
    }

    @Test("hostile strings survive as text")
    func hostile() throws {
        let list = try issues(hostileReport())
        let description = try #require(list.first?["description"] as? String)
        #expect(description.contains("<script>alert(1)</script>"))
        #expect(!description.contains("\u{1b}"))
    }
}
