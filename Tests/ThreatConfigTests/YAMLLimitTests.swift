import Foundation
import Testing
import ThreatConfig
import ThreatModel

/// A "billion laughs" document: 10 levels of 10 aliases each stand for 10^10 nodes in 1 KB.
func billionLaughs(under key: String = "title") -> String {
    var s = "a0: &a0 [\"lol\"]\n"
    for i in 1...10 {
        s += "a\(i): &a\(i) [" + (0..<10).map { _ in "*a\(i - 1)" }.joined(separator: ", ") + "]\n"
    }
    return s + "\(key): *a10\n"
}

@Suite("YAML limits")
struct YAMLLimitTests {
    @Test("A billion-laughs alias bomb in the config is rejected cleanly, with its place, before the tree is walked")
    func aliasBomb() throws {
        let e = try #require(configError("version: 1\n" + billionLaughs()))
        #expect(e.message.contains("more than \(InputLimits.yamlNodes) nodes once its aliases are expanded"), "\(e)")
        #expect(e.file == "cfg.yml" && e.line != nil)
        // An alias bomb used as a mapping key (Yams hashes keys whole) is stopped too.
        let key = try #require(configError("version: 1\n" + billionLaughs() + "? *a10\n: 1\n"))
        #expect(key.message.contains("aliases are expanded"), "\(key)")
    }

    @Test("A few aliases (a shared threshold block) still load")
    func ordinaryAliases() throws {
        let cfg = try loadConfig("""
        version: 1
        thresholds: &t { min_requests: 50 }
        environments:
          - name: production
            namespace: shop-production
            thresholds: *t
        """)
        #expect(cfg.environments.first?.thresholds.minRequests == 50)
    }

    @Test("Very deep YAML (flow and block) is rejected with the depth limit and a place, without a stack overflow",
          arguments: [10_000, 200])
    func deep(levels: Int) throws {
        let flow = "version: 1\ntitle: " + String(repeating: "[", count: levels) + String(repeating: "]", count: levels) + "\n"
        let e = try #require(configError(flow))
        #expect(e.message.contains("nested deeper than \(InputLimits.yamlDepth) levels"), "\(e)")
        #expect(e.line == 2)
        var block = "version: 1\ntitle:\n"
        for i in 0..<min(levels, 2_000) { block += String(repeating: " ", count: i + 1) + "k:\n" }
        let b = try #require(configError(block))
        #expect(b.message.contains("nested deeper than") || b.message.contains("Maximum nesting"), "\(b)")
    }

    @Test("A config file larger than the document cap is refused without being parsed")
    func hugeConfig() throws {
        let path = NSTemporaryDirectory() + "big-config-\(getpid()).yml"
        defer { try? FileManager.default.removeItem(atPath: path) }
        var text = "version: 1\n# " + String(repeating: "x", count: InputLimits.documentBytes) + "\n"
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        text = ""
        do {
            _ = try ConfigLoader.load(path: path)
            Issue.record("a \(InputLimits.documentBytes)-byte config loaded")
        } catch {
            #expect(error.message.contains("larger than 16 MiB"), "\(error)")
            #expect(error.file == path)
        }
    }
}
