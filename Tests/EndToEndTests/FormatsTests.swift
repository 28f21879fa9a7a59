import Foundation
import Testing
import ThreatAnalysis
import ThreatRender

/// The CLI built next to these tests (whatever `--scratch-path` built them), else Support's `binary`.
var formatsBinary: String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent("threat-report").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    return binary
}

func formatsReport(_ args: [String], cwd: String = repo, env: [String: String] = [:]) throws -> Run {
    try run(formatsBinary, ["report"] + args, cwd: cwd, env: env)
}

/// Runs a short Python program on the given arguments; its stdout is JSON.
func python(_ script: String, _ args: [String]) throws -> (code: Int32, json: Any?, stderr: String) {
    let r = try run("/usr/bin/env", [pythonWithModules, "-c", script] + args)
    return (r.code, try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)), r.stderr)
}

/// The first Python that has `jsonschema` and `yaml`: the one on PATH (pyenv, venv), else
/// Debian's, where `scripts/install-deps.sh test` installs python3-jsonschema and python3-yaml.
let pythonWithModules: String = {
    for candidate in ["python3", "/usr/bin/python3"]
    where (try? run("/usr/bin/env", [candidate, "-c", "import jsonschema, yaml"]))?.code == 0 {
        return candidate
    }
    return "python3"
}()

/// JUnit totals and failing cases, read by Python's ElementTree (an independent parser).
func junitSummary(_ path: String) throws -> [String: Any] {
    let script = """
    import json, sys, xml.etree.ElementTree as ET
    root = ET.parse(sys.argv[1]).getroot()
    cases = root.findall("./testsuite/testcase")
    print(json.dumps({"tests": int(root.get("tests")), "failures": int(root.get("failures")),
                      "cases": len(cases),
                      "failing": sorted(c.get("classname") + "/" + c.get("name") for c in cases if c.find("failure") is not None)}))
    """
    let r = try python(script, [path])
    return try #require(r.json as? [String: Any], "ElementTree could not read \(path): \(r.stderr)")
}

@Suite("SARIF, JUnit, Code Quality and PDF from the sample config, end to end", .serialized)
struct FormatsTests {
    static let formats = "sarif,junit,codequality,pdf"

    @Test("--format sarif,junit,codequality,pdf writes the four files and prints their paths")
    func writesAll() throws {
        let out = tempDir("fmt-all")
        let r = try formatsReport(["--config", "samples/threat-report.yml", "--output", out, "--format", Self.formats])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").map(String.init)
                == ["report.sarif", "report.junit.xml", "report.codequality.json", "report.pdf"].map { out + "/" + $0 })
        #expect(!FileManager.default.fileExists(atPath: out + "/charts"), "chart files belong to html/md only")
    }

    /// The sample's findings as report.json gives them (the analysis grows; the tests follow it).
    static func findings(_ dir: String) throws -> [[String: Any]] {
        try #require((try foundationJSON(dir + "/report.json") as? [String: Any])?["findings"] as? [[String: Any]])
    }

    static let rank = ["info": 0, "warning": 1, "critical": 2]

    @Test("SARIF validates against the official schema; fingerprints are the same across two runs; locations are real files")
    func sarif() throws {
        var prints: [[String]] = []
        for name in ["a", "b"] {
            let out = tempDir("fmt-sarif-\(name)")
            let r = try formatsReport(["--config", "samples/threat-report.yml", "--output", out, "--format", "json,sarif"])
            #expect(r.code == 0, "\(r.stderr)")
            let schema = repo + "/Tests/Fixtures/sarif/sarif-schema-2.1.0.json"
            let v = try python("""
            import json, sys, jsonschema
            errs = list(jsonschema.Draft4Validator(json.load(open(sys.argv[1]))).iter_errors(json.load(open(sys.argv[2]))))
            print(json.dumps([e.message for e in errs]))
            """, [schema, out + "/report.sarif"])
            #expect(v.code == 0 && (v.json as? [String])?.isEmpty == true, "schema: \(v.json ?? v.stderr)")
            let findings = try Self.findings(out)
            let doc = try #require(try foundationJSON(out + "/report.sarif") as? [String: Any])
            let results = try #require(((doc["runs"] as? [[String: Any]])?.first)?["results"] as? [[String: Any]])
            #expect(results.count == findings.count && findings.count >= 4)
            let levels = ["critical": "error", "warning": "warning", "info": "note"]
            #expect(results.map { $0["level"] as? String } == findings.map { levels[$0["severity"] as? String ?? ""] })
            #expect(results.map { $0["ruleId"] as? String } == findings.map { $0["id"] as? String })
            for result in results {
                let physical = try #require(((result["locations"] as? [[String: Any]])?.first)?["physicalLocation"] as? [String: Any])
                let uri = try #require((physical["artifactLocation"] as? [String: Any])?["uri"] as? String)
                let line = try #require((physical["region"] as? [String: Any])?["startLine"] as? Int)
                let text = try String(contentsOfFile: repo + "/" + uri, encoding: .utf8)
                #expect(line <= text.split(separator: "\n", omittingEmptySubsequences: false).count, "\(uri):\(line)")
            }
            let policy = try #require(results.first { $0["ruleId"] as? String == "policies.invalid" })
            #expect(((((policy["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["artifactLocation"])
                     as? [String: Any])?["uri"] as? String == "samples/production/policies/worker.yaml")
            prints.append(results.compactMap { ($0["partialFingerprints"] as? [String: String])?.values.first })
        }
        #expect(prints[0].count == Set(prints[0]).count, "one fingerprint per finding")
        #expect(prints[0] == prints[1])
    }

    @Test("--fail-on none|info|warning|critical: the exit code and the summary line follow the findings; JUnit failures agree")
    func failOn() throws {
        var codes: [String: Int32] = [:]
        for failOn in ["none", "info", "warning", "critical"] {
            let out = tempDir("fmt-failon-\(failOn)")
            let r = try formatsReport(["--config", "samples/threat-report.yml", "--output", out, "--format", "json,junit", "--fail-on", failOn])
            let findings = try Self.findings(out)
            let count = { (s: String) in findings.filter { $0["severity"] as? String == s }.count }
            let at = failOn == "none" ? [] : findings.filter { Self.rank[$0["severity"] as? String ?? ""]! >= Self.rank[failOn]! }
            let code: Int32 = at.isEmpty ? 0 : 1
            codes[failOn] = r.code
            #expect(r.code == code, "--fail-on \(failOn): \(r.stderr)")
            let reason = code == 1 ? "exit 1: findings at or above --fail-on \(failOn)" : "exit 0"
            #expect(r.stderr.contains("findings: \(count("critical")) critical, \(count("warning")) warning, \(count("info")) info; \(reason)"),
                    "\(r.stderr)")
            let junit = try junitSummary(out + "/report.junit.xml")
            let checks = Set(Checks.descriptions.map(\.id) + findings.compactMap { $0["id"] as? String })
            // One case per check per environment: production, staging and gateway.
            #expect(junit["tests"] as? Int == 3 * checks.count && junit["cases"] as? Int == 3 * checks.count)
            let failing = Set(at.map { "\($0["environment"] as? String ?? "")/\($0["id"] as? String ?? "")" })
            #expect(junit["failures"] as? Int == failing.count, "--fail-on \(failOn)")
            #expect(junit["failing"] as? [String] == failing.sorted(), "--fail-on \(failOn)")
        }
        // The sample has warnings: --fail-on warning gates, none never does.
        #expect(codes["warning"] == 1 && codes["info"] == 1 && codes["none"] == 0)
        let r = try formatsReport(["--config", "samples/threat-report.yml", "--output", tempDir("fmt-default"), "--format", "junit"])
        #expect(r.code == 0 && r.stderr.contains("; exit 0"), "the default is --fail-on none")
    }

    @Test("Code Quality: one issue per finding with GitLab's severities, paths relative to the repository")
    func codeQuality() throws {
        let out = tempDir("fmt-cq")
        let r = try formatsReport(["--config", "samples/threat-report.yml", "--output", out, "--format", "json,codequality"])
        #expect(r.code == 0)
        let findings = try Self.findings(out)
        let issues = try #require(try foundationJSON(out + "/report.codequality.json") as? [[String: Any]])
        let severities = ["info": "info", "warning": "major", "critical": "critical"]
        #expect(issues.map { $0["severity"] as? String } == findings.map { severities[$0["severity"] as? String ?? ""] })
        #expect(issues.map { $0["check_name"] as? String } == findings.map { $0["id"] as? String })
        for i in issues {
            let path = try #require((i["location"] as? [String: Any])?["path"] as? String)
            #expect(FileManager.default.fileExists(atPath: repo + "/" + path), "\(path)")
        }
    }

    @Test("PDF: summary, findings pages, then a page and a policy audit page per environment; byte-identical under SOURCE_DATE_EPOCH")
    func pdf() throws {
        var files: [Data] = []
        for name in ["a", "b"] {
            let out = tempDir("fmt-pdf-\(name)")
            let r = try formatsReport(["--config", repo + "/samples/threat-report.yml", "--output", out, "--format", "pdf"],
                                      cwd: tempDir("fmt-pdf-cwd-\(name)"), env: ["SOURCE_DATE_EPOCH": "1795132800"])
            #expect(r.code == 0, "\(r.stderr)")
            files.append(try Data(contentsOf: URL(fileURLWithPath: out + "/report.pdf")))
            let info = try run("/usr/bin/env", ["pdfinfo", out + "/report.pdf"])
            #expect(info.code == 0, "pdfinfo (poppler-utils): \(info.stderr)")
            let match = try #require(info.stdout.firstMatch(of: /Pages:\s+(\d+)/))
            let pages = try #require(Int(match.1))
            func text(_ page: Int) throws -> String {
                try run("/usr/bin/env", ["pdftotext", "-f", "\(page)", "-l", "\(page)", out + "/report.pdf", "-"]).stdout
            }
            #expect(pages >= 9)
            #expect(try text(1).contains("Environments") && text(1).contains("Page 1 of \(pages)"))
            #expect(try text(2).hasPrefix("Findings, worst first"))
            // Production (flow files): its page, its traffic map, its suggested policies and its policy
            // audit page (policy drift); staging: its page and its policy audit page.
            for p in 2...(pages - 7) { #expect(try text(p).contains("What to do next"), "page \(p) holds findings") }
            #expect(try text(pages - 6).contains("Environment: production"))
            #expect(try text(pages - 5).contains("Traffic map: production"))
            #expect(try text(pages - 4).contains("Suggested policies: production") && text(pages - 4).contains("suggested-policies/production/web.yaml"))
            #expect(try text(pages - 3).contains("Policy audit: production") && text(pages - 3).contains("No previous report"))
            #expect(try text(pages - 2).contains("Environment: staging"))
            #expect(try text(pages - 1).contains("Policy audit: staging"))
            #expect(try text(pages).contains("Environment: gateway") && text(pages).contains("Page \(pages) of \(pages)"))
            let raster = try run("/usr/bin/env", ["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", out + "/report.pdf", out + "/page"])
            #expect(raster.code == 0, "pdftoppm: \(raster.stderr)")
        }
        #expect(files[0] == files[1])
    }
}
