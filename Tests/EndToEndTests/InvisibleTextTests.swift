import Foundation
import Testing
import ThreatModel

/// A lone carriage return and zero-width or invisible characters cannot hide text on a terminal:
/// `policy enable`/`disable` refuse them with file:line:column, `policy list` escapes them.
@Suite("Lone CR and invisible characters on the terminal")
struct InvisibleTextTests {
    static let head = "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  endpointSelector: {}\n"

    func write(_ text: String, _ dir: String) throws -> String {
        let path = dir + "/policy.yaml"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("Lone CR: a world-ingress rule hidden behind a comment by a CR is refused by enable and disable with file:line:column")
    func loneCarriageReturn() throws {
        let dir = tempDir("lone-cr")
        // On a terminal the CR returns to the start of line 9, and the comment overwrites the rule.
        let path = try write(Self.head + "  ingress:\n  - fromEntities: [world]\r# only from the frontend   \n", dir)
        for action in ["enable", "disable"] {
            let r = try run(binary, ["policy", action, path])
            #expect(r.code == 2, "\(action): \(r.stderr)")
            #expect(r.stdout.isEmpty)
            #expect(r.stderr.contains("\(path):9:26: U+000D (a carriage return not followed by a line feed)"), "\(r.stderr)")
        }
        // CR LF line ends are ordinary text and still print.
        let crlf = try write((Self.head + "  ingress:\n  - fromEntities: [cluster]\n").replacingOccurrences(of: "\n", with: "\r\n"), dir)
        let ok = try run(binary, ["policy", "disable", crlf])
        #expect(ok.code == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("fromEntities: [cluster]"))
    }

    @Test("Invisible characters (U+200B–U+200F, U+061C, U+2060, U+FEFF) in a manifest are refused by enable and disable, naming the character and place")
    func invisibleRefused() throws {
        let dir = tempDir("zw")
        for (scalar, column) in [("\u{200B}", 5), ("\u{200F}", 5), ("\u{061C}", 5), ("\u{2060}", 5), ("\u{FEFF}", 5)] {
            let path = try write(Self.head.replacingOccurrences(of: "name: web", with: "name: we\(scalar)b"), dir)
            let r = try run(binary, ["policy", "disable", path])
            #expect(r.code == 2, "\(r.stderr)")
            let code = String(format: "U+%04X", scalar.unicodeScalars.first!.value)
            #expect(r.stderr.contains("\(path):4:\(column + 6): \(code)"), "\(r.stderr)")
            #expect(!r.stderr.unicodeScalars.contains { InvisibleText.isInvisible($0.value) })
        }
    }

    @Test("policy list -o yaml and -o json escape invisible characters as the bidi ones; the table strips them")
    func policyListEscapes() throws {
        let dir = tempDir("zw-list")
        try FileManager.default.createDirectory(atPath: dir + "/policies", withIntermediateDirectories: true)
        try Data(Self.head.replacingOccurrences(of: "name: web", with: "name: \"ad\u{200B}min\u{FEFF}\"").replacingOccurrences(of: "namespace: shop", with: "namespace: shop-production").utf8)
            .write(to: URL(fileURLWithPath: dir + "/policies/p.yaml"))
        let cfg = try writeProductionConfig(dir + "/cfg.yml", ["policies: { directory: \(dir)/policies }"])
        for format in ["yaml", "json", "table"] {
            let r = try run(binary, ["policy", "list", "--config", cfg, "--output", format])
            #expect(r.code == 0, "\(format): \(r.stderr)")
            #expect(!r.stdout.unicodeScalars.contains { InvisibleText.isInvisible($0.value) }, "\(format): \(r.stdout.debugDescription)")
            switch format {
            case "yaml": #expect(r.stdout.contains(#"ad\u200Bmin\uFEFF"#), "\(r.stdout)")
            case "json": #expect(r.stdout.contains(#"ad\u200bmin\ufeff"#), "\(r.stdout)")
            default: #expect(r.stdout.contains("admin"), "\(r.stdout)")
            }
        }
    }
}
