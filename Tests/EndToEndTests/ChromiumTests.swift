import Foundation
import Testing

/// The HTML report as a real browser sees it.
@Suite("HTML in headless Chromium")
struct ChromiumTests {
    static func chromium() throws -> String {
        try #require(which("chromium") ?? which("chromium-browser"), "chromium is not installed: `make test` installs it")
    }

    static func dumpDOM(_ html: String) throws -> String {
        let r = try run(try chromium(), ["--headless", "--no-sandbox", "--disable-gpu", "--log-level=3", "--dump-dom", "file://" + html])
        try #require(r.code == 0, "chromium failed: \(r.stderr)")
        return r.stdout
    }

    @Test("The sample report: no script, no on* attributes, no javascript: URLs, CSP first in <head>, every section present")
    func sampleReport() throws {
        let out = tempDir("chromium")
        let r = try report(["--config", "samples/threat-report.yml", "--output", out, "--format", "html"])
        try #require(r.code == 0, "\(r.stderr)")
        let dom = try Self.dumpDOM(out + "/report.html")
        #expect(!dom.lowercased().contains("<script"))
        #expect(dom.range(of: #"<[a-zA-Z][^>]*\son[a-zA-Z]+\s*="#, options: .regularExpression) == nil)
        #expect(dom.range(of: #"<[a-zA-Z][^>]*\s(href|src|action|formaction|xlink:href)\s*=\s*"?\s*javascript:"#, options: [.regularExpression, .caseInsensitive]) == nil)
        let head = try #require(dom.components(separatedBy: "<head>").dropFirst().first)
        #expect(head.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(#"<meta http-equiv="Content-Security-Policy""#))
        for id in ["summary", "findings", "env-production", "env-staging", "evidence"] {
            #expect(dom.contains(#"id="\#(id)""#), "section \(id)")
        }
        // Every chart written to charts/ is inlined once (requests, flows and the bar charts).
        let svgFiles = try FileManager.default.contentsOfDirectory(atPath: out + "/charts").filter { $0.hasSuffix(".svg") }
        #expect(svgFiles.count >= 4)
        #expect(dom.components(separatedBy: "<svg").count - 1 == svgFiles.count)
        // Inline SVG ids stay unique across charts.
        let ids = dom.components(separatedBy: #" id=""#).dropFirst().map { String($0.prefix { $0 != "\"" }) }
        #expect(Set(ids).count == ids.count, "duplicate ids in the page")
    }

    @Test("Hostile strings from logs, manifests and config arrive in the DOM as text")
    func hostileStrings() throws {
        let dir = tempDir("hostile")
        let payload = #"<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>"#
        try FileManager.default.createDirectory(atPath: dir + "/policies", withIntermediateDirectories: true)
        try """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: '\(payload.replacingOccurrences(of: "'", with: "''"))'
          namespace: shop
        spec:
          podSelector:
            matchLabels:
              '\(payload.replacingOccurrences(of: "'", with: "''"))': 'x'
          ingress: [{}]
        """.write(toFile: dir + "/policies/p.yaml", atomically: true, encoding: .utf8)
        try """
        version: 1
        title: '\(payload.replacingOccurrences(of: "'", with: "''"))'
        to: 2026-11-20T00:00:00Z
        environments:
          - name: '\(payload.replacingOccurrences(of: "'", with: "''"))'
            namespace: shop
            policies: { directory: policies }
        """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "html"])
        try #require(r.code == 0, "\(r.stderr)")
        let dom = try Self.dumpDOM(dir + "/out/report.html")
        #expect(!dom.lowercased().contains("<script"))
        #expect(dom.range(of: #"<img[\s>]"#, options: .regularExpression) == nil)
        #expect(dom.range(of: #"<[a-zA-Z][^>]*\son[a-zA-Z]+\s*="#, options: .regularExpression) == nil)
        #expect(dom.range(of: #"<[a-zA-Z][^>]*\s(href|src|action|formaction|xlink:href)\s*=\s*"?\s*javascript:"#, options: [.regularExpression, .caseInsensitive]) == nil)
        #expect(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    }
}
