import Foundation
import Testing
import ThreatModel

/// Everything the CLI prints (stdout and stderr of every command that shows data, and the errors
/// that quote input) reaches the terminal without escape sequences, other control characters or
/// bidi overrides, whatever the logs, manifests, configuration and arguments hold.
@Suite("Terminal output carries no control characters from data")
struct TerminalOutputTests {
    struct RawRun {
        var code: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    static func runRaw(_ args: [String], stdin: [UInt8] = []) throws -> RawRun {
        let dir = tempDir("term")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(stdin).write(to: URL(fileURLWithPath: dir + "/stdin"))
        let pid = try spawn(binary, args, cwd: repo, env: [:], stdin: dir + "/stdin", stdout: dir + "/stdout", stderr: dir + "/stderr")
        let code = waitFor(pid)
        return RawRun(code: code, stdout: [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/stdout"))),
                      stderr: [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/stderr"))))
    }

    /// What must never reach a terminal: bytes that are not UTF-8 (a lone 0x9B is an 8-bit CSI to
    /// some terminals), C0 controls but newline, DEL, C1 controls, bidi embeddings, overrides,
    /// isolates and marks, and zero-width characters (`InvisibleText`).
    static func unsafe(_ bytes: [UInt8]) -> [String] {
        let text = String(decoding: bytes, as: UTF8.self)
        var found: [String] = []
        if Array(text.utf8) != bytes { found.append("invalid UTF-8") }
        for u in text.unicodeScalars {
            let v = u.value
            if (v < 0x20 && v != 0x0A) || (0x7F...0x9F).contains(v) || InvisibleText.isInvisible(v) {
                found.append(String(format: "U+%04X", v))
            }
        }
        return Array(Set(found)).sorted()
    }

    static func expectClean(_ r: RawRun, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(unsafe(r.stdout) == [], "\(what): stdout", sourceLocation: sourceLocation)
        #expect(unsafe(r.stderr) == [], "\(what): stderr: \(String(decoding: r.stderr, as: UTF8.self).prefix(300))", sourceLocation: sourceLocation)
    }

    static let evil = "x\u{1B}[31mred\u{1B}]8;;https://evil.example/\u{1B}\\link\u{7}\r\u{9B}c1\u{202E}gnp.exe\u{2066}"

    /// A small fixture: the hostile corpus, two environments' worth.
    static func fixture() throws -> HostileFixture {
        let all = try PayloadCorpus.load()
        let picked = all.filter { ["terminal", "xml-sarif"].contains($0.family) }
        return try HostileFixture(payloads: Array(picked.prefix(20)) + all.filter { $0.family == "invisible" })
    }

    @Test("report: the log lines and the summary on stderr (--verbose), the paths on stdout")
    func reportCommand() throws {
        let f = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let r = try Self.runRaw(["report", "--config", f.dir + "/threat-report.yml", "--output", f.dir + "/out",
                                 "--format", "html,json", "--compare", "none", "--verbose"])
        #expect(r.code == 0, "\(String(decoding: r.stderr, as: UTF8.self).suffix(500))")
        // The log names environments and quotes policy names in warnings: the hostile ones are there, cleaned.
        let err = String(decoding: r.stderr, as: UTF8.self)
        #expect(err.contains("is in namespace"))
        #expect(err.contains("[31mred"))
        Self.expectClean(r, "report")
    }

    @Test("policy list (table, json, yaml) and policy explain (text, json) over hostile manifests")
    func policyCommands() throws {
        let f = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        for format in ["table", "json", "yaml"] {
            let r = try Self.runRaw(["policy", "list", "--config", f.dir + "/threat-report.yml", "--output", format])
            #expect(r.code == 0, "\(format): \(String(decoding: r.stderr, as: UTF8.self).suffix(500))")
            #expect(String(decoding: r.stdout, as: UTF8.self).contains("cleared screen"), "\(format)")
            Self.expectClean(r, "policy list -o \(format)")
        }
        let manifest = f.dir + "/e0/policies/policies.yaml"
        for format in ["text", "json"] {
            let r = try Self.runRaw(["policy", "explain", manifest, "--output", format])
            #expect(String(decoding: r.stdout, as: UTF8.self).contains("cleared screen"), "\(format)")
            Self.expectClean(r, "policy explain -o \(format)")
        }
        // From stdin, with raw bidi overrides and C1 controls in the YAML (both allowed raw by YAML).
        let raw = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: \"a\u{202E}b\u{85}c\u{9B}31m\"\n  namespace: shop\n"
            + "spec:\n  podSelector:\n    matchLabels: { \"k\u{2066}\": \"v\u{202E}\" }\n  ingress: [{}]\n"
        for format in ["text", "json"] {
            let r = try Self.runRaw(["policy", "explain", "-", "--output", format], stdin: Array(raw.utf8))
            #expect(r.code == 0 || r.code == 1, "\(String(decoding: r.stderr, as: UTF8.self))")
            #expect(String(decoding: r.stdout, as: UTF8.self).contains("NetworkPolicy"))
            Self.expectClean(r, "policy explain - -o \(format)")
        }
        // enable and disable print the manifest unchanged, so they refuse such text, naming the place.
        for action in ["enable", "disable"] {
            let r = try Self.runRaw(["policy", action, "-"], stdin: Array(raw.utf8))
            #expect(r.code == 2)
            #expect(r.stdout.isEmpty)
            #expect(String(decoding: r.stderr, as: UTF8.self).contains("stdin:4:11: U+202E (a bidi control)"), "\(String(decoding: r.stderr, as: UTF8.self))")
            Self.expectClean(r, "policy \(action) -")
        }
        // The ordinary case still prints the whole stream.
        let ok = try Self.runRaw(["policy", "enable", f.dir + "/e0/policies/policies.yaml"])
        #expect(ok.code == 0, "\(String(decoding: ok.stderr, as: UTF8.self))")
        #expect(String(decoding: ok.stdout, as: UTF8.self).contains("kind: CiliumNetworkPolicy"))
        Self.expectClean(ok, "policy enable")
    }

    @Test("Errors that quote input: arguments, file names, config values and keys, manifests")
    func errors() throws {
        let f = try Self.fixture()
        defer { try? FileManager.default.removeItem(atPath: f.dir) }
        let dir = f.dir
        // A config whose bad value and unknown key carry escape sequences (YAML escapes).
        try "version: 1\nwindow: \"\\e[31m24h\\u202E\"\nenvironments:\n  - name: a\n    namespace: a\n    \"\\e]8;;x\\a\": 1\n"
            .write(toFile: dir + "/bad.yml", atomically: true, encoding: .utf8)
        try "version: 1\nenvironments:\n  - name: a\n    namespace: \"\\e[2Jns\\u2066\"\n"
            .write(toFile: dir + "/bad-ns.yml", atomically: true, encoding: .utf8)
        // A manifest that is no policy, and one that is not YAML, with escapes in the text.
        try "apiVersion: v1\nkind: \"Pod\\e[31m\"\nmetadata: { name: \"\\e[2J\" }\n".write(toFile: dir + "/pod.yaml", atomically: true, encoding: .utf8)
        try Data([0x6B, 0x3A, 0x20, 0x1B, 0x5B, 0x33, 0x31, 0x6D, 0x0A, 0x9B, 0x0A]).write(to: URL(fileURLWithPath: dir + "/binary.yaml"))
        let cases: [(String, [String])] = [
            ("unknown option", ["report", "--\(Self.evil)"]),
            ("bad option value", ["report", "--window", Self.evil, "--config", dir + "/threat-report.yml"]),
            ("bad --format", ["report", "--format", Self.evil, "--config", dir + "/threat-report.yml", "--output", dir + "/o2"]),
            ("bad --fail-on", ["report", "--fail-on", Self.evil]),
            ("missing config", ["report", "--config", dir + "/" + Self.evil]),
            ("bad config value and key", ["report", "--config", dir + "/bad.yml", "--output", dir + "/o3"]),
            ("bad namespace", ["report", "--config", dir + "/bad-ns.yml", "--output", dir + "/o4"]),
            ("unknown environment", ["report", "--config", dir + "/threat-report.yml", "--environment", Self.evil, "--output", dir + "/o5"]),
            ("bad --to", ["report", "--config", dir + "/threat-report.yml", "--to", Self.evil]),
            ("bad --timezone", ["report", "--config", dir + "/threat-report.yml", "--timezone", Self.evil]),
            ("unknown subcommand", ["policy", Self.evil]),
            ("policy list, bad config", ["policy", "list", "--config", dir + "/bad.yml"]),
            ("policy list, unknown environment", ["policy", "list", "--config", dir + "/threat-report.yml", "--environment", Self.evil]),
            ("policy explain, missing file", ["policy", "explain", dir + "/" + Self.evil]),
            ("policy explain, no policy", ["policy", "explain", dir + "/pod.yaml"]),
            ("policy explain, not UTF-8", ["policy", "explain", dir + "/binary.yaml"]),
            ("policy enable, no such name", ["policy", "enable", dir + "/e0/policies/policies.yaml", "--name", Self.evil]),
            ("policy disable, missing file", ["policy", "disable", dir + "/" + Self.evil]),
            ("policy predefined, unknown name", ["policy", "predefined", Self.evil]),
            ("policy predefined, bad namespace", ["policy", "predefined", "--namespace", Self.evil]),
            ("policy new, bad name", ["policy", "new", "--name", Self.evil]),
            ("policy new, bad labels", ["policy", "new", "--name", "x", "--selector", Self.evil]),
            ("policy new, bad cidr", ["policy", "new", "--name", "x", "--allow-from-cidr", Self.evil]),
            ("policy new, bad ports", ["policy", "new", "--name", "x", "--ports", Self.evil]),
        ]
        for (what, args) in cases {
            let r = try Self.runRaw(args)
            #expect(r.code != 0, "\(what): exit 0")
            #expect(!r.stderr.isEmpty, "\(what): no message")
            Self.expectClean(r, what)
        }
    }
}
