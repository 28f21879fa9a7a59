import Foundation
import Testing

@Suite("Exit codes and errors from the command line")
struct ExitCodeTests {
    @Test("0: report written and nothing at or above --fail-on (default none)")
    func zero() throws {
        let r = try report(["--config", "samples/threat-report.yml", "--output", tempDir("x0")])
        #expect(r.code == 0, "\(r.stderr)")
        let s = try report(["--config", "samples/threat-report.yml", "--output", tempDir("x0s"), "--environment", "staging", "--fail-on", "warning"])
        #expect(s.code == 0, "staging alone has no warning: \(s.stderr)")
    }

    @Test("1: findings at or above --fail-on, with the reason on stderr")
    func one() throws {
        let r = try report(["--config", "samples/threat-report.yml", "--output", tempDir("x1"), "--fail-on", "warning"])
        #expect(r.code == 1)
        #expect(r.stderr.contains("exit 1: findings at or above --fail-on warning"))
        #expect(r.stdout.contains("report.html"))
    }

    @Test("2: usage and config errors name the flag or file:line:column and write nothing")
    func two() throws {
        let out = tempDir("x2")
        let missing = try report(["--config", "/nonexistent/threat-report.yml", "--output", out])
        #expect(missing.code == 2)
        #expect(missing.stderr.contains("--config") && missing.stderr.contains("samples/threat-report.yml"))
        let bad = tempDir("x2cfg") + "/bad.yml"
        try "version: 1\nenvironments:\n  - name: a\n    namespace: b\n    colour: red\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let cfg = try report(["--config", bad, "--output", out])
        #expect(cfg.code == 2)
        #expect(cfg.stderr.contains("\(bad):5:5: unknown key 'environments[0].colour'"), "\(cfg.stderr)")
        let flag = try report(["--config", "samples/threat-report.yml", "--output", out, "--window", "1w"])
        #expect(flag.code == 2)
        #expect(flag.stderr.contains("--window"))
        let parse = try report(["--config", "samples/threat-report.yml", "--fail-on", "sometimes"])
        #expect(parse.code == 2)
        let format = try report(["--config", "samples/threat-report.yml", "--output", out, "--format", "html,pdfx"])
        #expect(format.code == 2 && format.stderr.contains("--format"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).filter { !$0.hasPrefix(".") }.isEmpty)
        #expect(missing.stdout.isEmpty && cfg.stdout.isEmpty)
    }

    @Test("3: a failing source gives a partial report that says which and why; 3 wins over 1")
    func three() throws {
        let dir = tempDir("x3")
        let cfg = try writeProductionConfig(dir + "/partial.yml", [
            "waf: { replay: \(repo)/samples/production/waf }",
            "flows: { replay: recordings/missing }",
            "policies: { directory: \(repo)/samples/production/policies }",
        ])
        let r = try report(["--config", cfg, "--output", dir + "/out", "--fail-on", "info"])
        #expect(r.code == 3, "\(r.stderr)")
        #expect(r.stderr.contains("production/flows"))
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        #expect(json["status"] as? String == "partial")
        let flows = try #require(((json["environments"] as? [[String: Any]])?.first)?["flows"] as? [String: Any])
        #expect(flows["status"] as? String == "unavailable")
        #expect((flows["error"] as? String)?.contains("\(dir)/recordings/missing/totals.json: no such file") == true)
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        #expect(html.contains("Unavailable: cannot read \(dir)/recordings/missing/totals.json: no such file"))
    }

    @Test("Not configured sections show GitLab's empty states and are not failures")
    func notConfigured() throws {
        let dir = tempDir("nc")
        try "version: 1\nto: 2026-11-20T00:00:00Z\nenvironments: [{name: bare, namespace: bare}]\n".write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out"])
        #expect(r.code == 0, "\(r.stderr)")
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        #expect(html.contains("Web application firewall not detected"))
    }

    @Test("The installed binary finds its templates from any working directory; --templates overrides them")
    func templatesFromElsewhere() throws {
        let cwd = tempDir("cwd")
        let copy = cwd + "/bin/threat-report"
        try FileManager.default.createDirectory(atPath: cwd + "/bin", withIntermediateDirectories: true)
        // Written through a close-on-exec descriptor: a process another test starts meanwhile
        // must not inherit it, or running the copy fails with "Text file busy".
        let bytes = try Data(contentsOf: URL(fileURLWithPath: binary))
        let fd = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o755)
        #expect(fd >= 0)
        var written = 0
        bytes.withUnsafeBytes { b in
            while written < b.count {
                let n = write(fd, b.baseAddress! + written, b.count - written)
                if n <= 0 { break }
                written += n
            }
        }
        close(fd)
        #expect(written == bytes.count)
        let r = try run(copy, ["report", "--config", repo + "/samples/threat-report.yml", "--output", "out", "--format", "html,md"], cwd: cwd)
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: cwd + "/out/report.html", encoding: .utf8).contains("<h2>Findings</h2>"))
        let custom = cwd + "/tpl"
        try FileManager.default.createDirectory(atPath: custom, withIntermediateDirectories: true)
        try "{{% CONTENT_TYPE: MARKDOWN}}\nCustom: {{title}} {{#environments}}[{{name}}]{{/environments}}\n".write(toFile: custom + "/report.md.mustache", atomically: true, encoding: .utf8)
        let c = try run(copy, ["report", "--config", repo + "/samples/threat-report.yml", "--output", "out2", "--format", "md", "--templates", custom], cwd: cwd)
        #expect(c.code == 0, "\(c.stderr)")
        #expect(try String(contentsOfFile: cwd + "/out2/report.md", encoding: .utf8) == "Custom: Shop threat report [production][staging][gateway]\n")
        let missing = try run(copy, ["report", "--config", repo + "/samples/threat-report.yml", "--templates", cwd + "/nope"], cwd: cwd)
        #expect(missing.code == 2 && missing.stderr.contains("--templates"))
    }

    @Test("SOURCE_DATE_EPOCH fixes generated_at, and two runs in different folders give identical files")
    func reproducible() throws {
        var outputs: [[String: Data]] = []
        for name in ["a", "b"] {
            let cwd = tempDir("repro-\(name)")
            let r = try report(["--config", repo + "/samples/threat-report.yml", "--output", cwd + "/out"], cwd: cwd,
                               env: ["SOURCE_DATE_EPOCH": "1795132800"])
            #expect(r.code == 0)
            var files: [String: Data] = [:]
            var isDir: ObjCBool = false
            for f in try FileManager.default.subpathsOfDirectory(atPath: cwd + "/out") where !f.hasPrefix(".")
                && FileManager.default.fileExists(atPath: cwd + "/out/" + f, isDirectory: &isDir) && !isDir.boolValue {
                files[f] = try Data(contentsOf: URL(fileURLWithPath: cwd + "/out/" + f))
            }
            outputs.append(files)
        }
        #expect(outputs[0].keys.sorted() == outputs[1].keys.sorted())
        for (k, v) in outputs[0] { #expect(outputs[1][k] == v, "\(k) differs") }
        let json = String(decoding: outputs[0]["report.json"] ?? Data(), as: UTF8.self)
        #expect(json.contains(#""generated_at": "2026-11-20T00:00:00Z""#))
    }
}
