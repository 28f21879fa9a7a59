import Foundation
import Testing
@testable import ThreatSources
import ThreatModel

@Test("dump") func policiesDump() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/policies")
    let files = FileManager.default.enumerator(atPath: dir.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".json") || $0.hasSuffix(".yml") }.sorted()
    var out = ""
    for f in files {
        let text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
        let r = PolicyDocumentLoader.loadDetailed(text: text, origin: f, namespace: "default")
        out += "=== \(f)\n"
        for n in r.notes { out += "NOTE \(n)\n" }
        for p in r.policies {
            let i = p.item
            out += "-- \(i.kindText) \(i.name) ns=\(i.namespace ?? "-") valid=\(i.valid) enabled=\(i.enabled) pre=\(i.predefined) origin=\(i.origin) rules=\(i.rules)\n"
            for pr in i.problems { out += "   PROBLEM \(pr)\n" }
            for d in i.description { out += "   > \(d)\n" }
            for u in i.ruleModeUnsupported ?? [] { out += "   RM \(u)\n" }
            if f.hasSuffix("json") || f.hasPrefix("list") { out += i.manifest.split(separator: "\n").map { "   | \($0)" }.joined(separator: "\n") + "\n" }
        }
    }
    try out.write(toFile: "/tmp/poldump/dump.txt", atomically: true, encoding: .utf8)
}
