import Foundation
import Testing

/// Errors a person can act on: what sits at a path is named, a BOM is accepted, a NUL byte is
/// located, a URL with a query is refused without quoting it.
@Suite("Errors a person can act on: folders, FIFOs and devices as inputs, BOM, NUL, URL queries")
struct ActionableErrorTests {
    /// The report, stopped after 60 s: a FIFO read that blocks shows as exit 124, not a hung test.
    func bounded(_ args: [String], cwd: String = repo) throws -> Run {
        try run("/usr/bin/timeout", ["60", binary, "report"] + args, cwd: cwd)
    }

    func makeFIFO(_ path: String) throws {
        try #require(mkfifo(path, 0o600) == 0, "mkfifo \(path)")
    }

    @Test("A folder, a FIFO or a device as --config says what it is, without blocking on the FIFO",
          arguments: ["folder", "FIFO", "device"])
    func configNotAFile(kind: String) throws {
        let dir = tempDir("config-kind")
        var path = dir + "/c.yml"
        var expected = ""
        switch kind {
        case "folder":
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            expected = "\(path): cannot read the config file: it is a directory"
        case "FIFO":
            try makeFIFO(path)
            expected = "\(path): cannot read the config file: it is not a regular file (a FIFO)"
        default:
            path = "/dev/null"
            expected = "/dev/null: cannot read the config file: it is not a regular file (a character device)"
        }
        let r = try bounded(["--config", path, "--output", dir + "/out"])
        #expect(r.code == 2, "\(kind): \(r.stderr)")
        #expect(r.stderr.contains(expected), "\(kind): \(r.stderr)")
        #expect(!r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("permission"), "\(r.stderr)")
    }

    @Test("A FIFO, a folder or a device as a WAF log, a Hubble flow log or a policy path makes that section unavailable, named for what it is")
    func fileSourcesNotFiles() throws {
        let dir = tempDir("source-kind")
        try makeFIFO(dir + "/fifo")
        try FileManager.default.createDirectory(atPath: dir + "/folder", withIntermediateDirectories: true)
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        environments:
          - name: fifos
            namespace: shop
            waf: { files: { audit_log: fifo, access_log: fifo } }
            flows: { hubble: { flows: [fifo] } }
            policies: { directory: fifo }
          - name: others
            namespace: shop
            waf: { files: { audit_log: folder, access_log: folder } }
            flows: { hubble: { flows: [/dev/null] } }
            policies: { directory: /dev/null }
        """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try bounded(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json"])
        #expect(r.code == 3, "\(r.stderr)")
        let report = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let envs = try #require(report["environments"] as? [[String: Any]])
        func error(_ env: Int, _ section: String) -> String { ((envs[env][section] as? [String: Any])?["error"] as? String) ?? "" }
        let fifo = "is not a regular file (a FIFO)", device = "is not a regular file (a character device)"
        #expect(error(0, "waf").hasSuffix("fifo: " + fifo), "\(error(0, "waf"))")
        #expect(error(0, "flows").hasSuffix("fifo: " + fifo), "\(error(0, "flows"))")
        #expect(error(0, "policies").hasSuffix("fifo: " + fifo), "\(error(0, "policies"))")
        #expect(error(1, "waf").hasSuffix("folder: is a directory"), "\(error(1, "waf"))")
        #expect(error(1, "flows") == "cannot read /dev/null: " + device, "\(error(1, "flows"))")
        #expect(error(1, "policies") == "cannot read /dev/null: " + device, "\(error(1, "policies"))")
    }

    @Test("A config saved with a UTF-8 byte order mark is read")
    func configWithBOM() throws {
        let dir = tempDir("config-bom")
        let text = "version: 1\nto: 2026-11-20T00:00:00Z\nenvironments:\n  - name: a\n    namespace: shop-production\n    policies: { directory: \(repo)/samples/production/policies }\n"
        try (Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)).write(to: URL(fileURLWithPath: dir + "/c.yml"))
        let r = try bounded(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/out/report.json"))
    }

    @Test("A NUL byte in the config is reported at file:line:column, the line not quoted")
    func configWithNUL() throws {
        let dir = tempDir("config-nul")
        let text = "version: 1\nenvironments:\n  - name: a\u{0}secret-neighbour\n    namespace: shop\n"
        try text.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try bounded(["--config", dir + "/c.yml", "--output", dir + "/out"])
        #expect(r.code == 2, "\(r.stderr)")
        #expect(r.stderr.contains("\(dir)/c.yml:3:12: YAML syntax error: control characters are not allowed (character U+0000)"), "\(r.stderr)")
        #expect(!r.stderr.contains("secret-neighbour"), "\(r.stderr)")
    }

    @Test("A source URL with a query string is refused at config load (exit 2), naming the source and key, never the query; nothing is recorded",
          arguments: ["waf: { elasticsearch: { url: \"http://127.0.0.1:9/es?api_key=QUERY\" } }",
                      "flows: { prometheus: { url: \"http://127.0.0.1:9/?token=QUERY#f\" } }"])
    func urlWithQuery(section: String) throws {
        let canary = "tr-query-canary-5a7e19"
        let dir = tempDir("config-query")
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        environments:
          - name: a
            namespace: shop
            \(section.replacingOccurrences(of: "QUERY", with: canary))
        """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try bounded(["--config", dir + "/c.yml", "--output", dir + "/out", "--record", dir + "/rec", "--verbose"])
        #expect(r.code == 2, "\(r.stderr)")
        let key = section.hasPrefix("waf") ? "environments[0].waf.elasticsearch.url" : "environments[0].flows.prometheus.url"
        #expect(r.stderr.contains("\(dir)/c.yml:6:") && r.stderr.contains("\(key) must not carry a query string"), "\(r.stderr)")
        #expect(!(r.stderr + r.stdout).contains(canary) && !(r.stderr + r.stdout).contains("api_key=") && !(r.stderr + r.stdout).contains("token="))
        #expect(!FileManager.default.fileExists(atPath: dir + "/rec") && !FileManager.default.fileExists(atPath: dir + "/out"))
    }
}
