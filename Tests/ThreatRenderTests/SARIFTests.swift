import Foundation
import Testing
import ThreatModel
@testable import ThreatRender

@Suite("SARIF 2.1.0 output")
struct SARIFTests {
    func sarif(_ context: RenderContext) throws -> [String: Any] {
        let text = try renderText(SARIFRenderer(), context)
        return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    func results(_ doc: [String: Any]) throws -> [[String: Any]] {
        let run = try #require((doc["runs"] as? [[String: Any]])?.first)
        return try #require(run["results"] as? [[String: Any]])
    }

    @Test("validates against the official SARIF 2.1.0 schema, also with hostile strings")
    func schemaValid() throws {
        for report in [ciReport(), hostileReport()] {
            let bytes = try SARIFRenderer().render(try ciContext(report))[0].bytes
            let path = try writeTemp("report.sarif", bytes)
            let errors = try sarifSchemaErrors(path)
            #expect(errors.isEmpty, "\(errors.joined(separator: "\n"))")
        }
    }

    @Test("$schema, version, driver and one rule per check with descriptions, help and a default level")
    func driverAndRules() throws {
        let doc = try sarif(try ciContext())
        #expect(doc["$schema"] as? String == SARIFRenderer.schemaURI)
        #expect(doc["version"] as? String == "2.1.0")
        let run = try #require((doc["runs"] as? [[String: Any]])?.first)
        let driver = try #require((run["tool"] as? [String: Any])?["driver"] as? [String: Any])
        #expect(driver["name"] as? String == "threat-report")
        #expect(driver["version"] as? String == "0.1.0")
        let rules = try #require(driver["rules"] as? [[String: Any]])
        #expect(rules.map { $0["id"] as? String } == catalogue.map(\.id))
        for (rule, check) in zip(rules, catalogue) {
            #expect(((rule["shortDescription"] as? [String: Any])?["text"] as? String)?.isEmpty == false)
            #expect(((rule["fullDescription"] as? [String: Any])?["text"] as? String)?.isEmpty == false)
            #expect(((rule["help"] as? [String: Any])?["text"] as? String)?.isEmpty == false)
            #expect((rule["defaultConfiguration"] as? [String: Any])?["level"] as? String == (check.defaultSeverity == .info ? "note" : check.defaultSeverity == .critical ? "error" : "warning"))
        }
        // ruleIndex points at the rule with the same id.
        for r in try results(doc) {
            let index = try #require(r["ruleIndex"] as? Int)
            #expect(rules[index]["id"] as? String == r["ruleId"] as? String)
        }
    }

    @Test("levels: critical → error, warning → warning, info → note")
    func levels() throws {
        #expect(SARIFRenderer.level(.critical) == "error")
        #expect(SARIFRenderer.level(.warning) == "warning")
        #expect(SARIFRenderer.level(.info) == "note")
        var report = ciReport()
        report.findings[0].severity = .critical
        report.findings[1].severity = .info
        let levels = try results(try sarif(try ciContext(report))).map { $0["level"] as? String }
        #expect(levels == ["error", "note", "warning", "warning"])
    }

    @Test("locations: environment/namespace as a logical location; the manifest line for policies, else the config entry")
    func locations() throws {
        let byRule = Dictionary(uniqueKeysWithValues: try results(try sarif(try ciContext())).map { ($0["ruleId"] as? String ?? "", $0) })
        func location(_ id: String) throws -> (uri: String?, base: String?, line: Int?, logical: [String: Any]?) {
            let loc = try #require((byRule[id]?["locations"] as? [[String: Any]])?.first)
            let physical = loc["physicalLocation"] as? [String: Any]
            let artifact = physical?["artifactLocation"] as? [String: Any]
            return (artifact?["uri"] as? String, artifact?["uriBaseId"] as? String,
                    (physical?["region"] as? [String: Any])?["startLine"] as? Int, (loc["logicalLocations"] as? [[String: Any]])?.first)
        }
        let invalid = try location("policies.invalid")
        #expect(invalid.uri == "samples/production/policies/worker.yaml" && invalid.line == 2 && invalid.base == "%SRCROOT%")
        #expect(try location("policies.disabled").uri == "samples/production/policies/predefined.yaml")
        let waf = try location("waf.anomalous_ratio")
        #expect(waf.uri == "samples/threat-report.yml" && waf.line == 16)
        #expect(waf.logical?["name"] as? String == "shop-production")
        #expect(waf.logical?["fullyQualifiedName"] as? String == "production/shop-production")
        #expect(waf.logical?["kind"] as? String == "namespace")
    }

    @Test("a policy read from the Kubernetes API points at the config file; absolute paths become file:// URIs")
    func apiOriginsAndAbsolutePaths() throws {
        let f = Finding(id: "policies.disabled", severity: .warning, environment: "staging", title: "t", guidance: "g", subject: "web-egress")
        let loc = try #require(FindingLocation.of(f, in: ciReport(), config: ciConfig))
        #expect(loc.path == "samples/threat-report.yml" && loc.line == 25)
        #expect(FindingLocation(path: "/etc/threat report/a.yml", line: nil).uri == "file:///etc/threat%20report/a.yml")
        #expect(FindingLocation(path: "./policies/a b.yaml", line: 1).uri == "policies/a%20b.yaml")
        #expect(FindingLocation.fileLocation("-:3") == nil)
        #expect(FindingLocation.fileLocation("https://k8s:6443/apis/x") == nil)
    }

    @Test("partialFingerprints: the same across runs and when values change; different per finding")
    func fingerprints() throws {
        func prints(_ r: Report) throws -> [String] {
            try results(try sarif(try ciContext(r))).compactMap { ($0["partialFingerprints"] as? [String: String])?[SARIFRenderer.fingerprintKey] }
        }
        let a = try prints(ciReport())
        let b = try prints(ciReport())
        let c = try prints(ciReport(scale: 1.7, generatedAt: ciWindow.to.addingTimeInterval(86400)))
        #expect(a.count == 4 && Set(a).count == 4)
        #expect(a == b)
        #expect(a == c, "values and times must not enter the fingerprint")
        #expect(a.allSatisfy { $0.count == 64 })
    }

    @Test("hostile strings survive as text: <script>, ]]>, quotes and control characters")
    func hostileStrings() throws {
        let payload = "<script>alert(\"x\")</script> ]]> ' \u{1b}[31m\u{7}end"
        var report = ciReport()
        report.findings[2].title = payload
        report.findings[2].guidance = payload
        let text = try renderText(SARIFRenderer(), try ciContext(report))
        #expect(!text.contains("<script>"), "JSON escapes < and >")
        #expect(!text.contains("\u{1b}"))
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let message = try #require(((try results(doc)[2])["message"] as? [String: Any])?["text"] as? String)
        #expect(message.hasPrefix("<script>alert(\"x\")</script> ]]> '  [31m end in production"), "\(message)")
        let errors = try sarifSchemaErrors(try writeTemp("hostile.sarif", Array(text.utf8)))
        #expect(errors.isEmpty, "\(errors)")
    }

    @Test("an unavailable source is a tool execution notification; the run still succeeded")
    func notifications() throws {
        let run = try #require((try sarif(try ciContext())["runs"] as? [[String: Any]])?.first)
        let invocation = try #require((run["invocations"] as? [[String: Any]])?.first)
        #expect(invocation["executionSuccessful"] as? Bool == true)
        let notes = try #require(invocation["toolExecutionNotifications"] as? [[String: Any]])
        #expect(notes.count == 1)
        #expect(((notes[0]["message"] as? [String: Any])?["text"] as? String)?.hasPrefix("bare/flows unavailable: cannot read") == true)
    }

    @Test("figures in messages: ratios as whole percents, rates and counts as plain numbers")
    func figures() {
        func f(_ id: String, _ v: Double?, _ t: Double?) -> Finding {
            Finding(id: id, severity: .warning, environment: "e", title: "t", value: v, threshold: t, guidance: "g")
        }
        #expect(FindingFigures.text(f("flows.dropped_ratio", 0.17, 0.05)) == "17% (threshold 5%)")
        var rate = f("flows.drop_burst", 249.32, 3.05)
        rate.unit = .perSecond
        #expect(FindingFigures.text(rate) == "249/s (threshold 3.0/s)")
        rate.value = 1; rate.threshold = 0.5
        #expect(FindingFigures.text(rate) == "1.0/s (threshold 0.500/s)", "a rate within 0...1 is still a rate, not a percent")
        #expect(FindingFigures.text(f("waf.other", 1500, nil)) == "1,500")
        #expect(FindingFigures.text(f("waf.other", nil, nil)) == nil)
        let text = try? renderText(SARIFRenderer(), ciContext())
        #expect(text?.contains("Dropped flows at 17% of traffic in production (namespace shop-production): 17% (threshold 5%).") == true)
    }

    @Test("the config scan finds each environment's name line, block and flow style")
    func configLines() {
        let text = """
        version: 1
        environments:
          - name: production
            namespace: shop-production
          - namespace: x
            name: "staging"
        other: [{name: bare, namespace: bare}]
        """
        let ref = ConfigReference(path: "c.yml", text: text, environments: ["production", "staging", "bare", "missing"])
        #expect(ref.environmentLines == ["production": 3, "staging": 6, "bare": 7])
    }
}
