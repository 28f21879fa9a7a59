import Foundation
import Testing
import ThreatModel
@testable import ThreatRender

@Suite("Check catalog")
struct CheckCatalogTests {
    /// Every `id: "section.name"` the analysis can emit, read from its sources.
    static func emittedIDs() throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("Sources/ThreatAnalysis")
        var ids = Set<String>()
        let regex = try NSRegularExpression(pattern: #"id: "((?:waf|flows|policies|input)\.[a-z_]+)""#)
        for name in try FileManager.default.contentsOfDirectory(atPath: dir.path) where name.hasSuffix(".swift") {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            for m in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                ids.insert(String(text[Range(m.range(at: 1), in: text)!]))
            }
        }
        return ids
    }

    @Test("every finding id the analysis emits is described: name, descriptions, help, section and default level")
    func everyEmittedCheckIsKnown() throws {
        let emitted = try Self.emittedIDs()
        #expect(emitted.count >= 17, "the scan of Sources/ThreatAnalysis found \(emitted.sorted())")
        let known = Dictionary(uniqueKeysWithValues: CheckCatalog.known.map { ($0.id, $0) })
        #expect(known.count == CheckCatalog.known.count, "ids are unique")
        for id in emitted.sorted() {
            let check = try #require(known[id], "\(id) is not in CheckCatalog.known")
            #expect(check.section == String(id.split(separator: ".")[0]))
            #expect(check.name.first?.isUppercase == true && !check.name.contains(" "))
            #expect(!check.shortDescription.isEmpty && !check.fullDescription.isEmpty)
            #expect(check.help.contains("`"), "\(id): the help names a command")
        }
        #expect(Set(known.keys).subtracting(emitted).isEmpty, "catalog entries nothing emits: \(Set(known.keys).subtracting(emitted).sorted())")
        #expect(Set(CheckCatalog.known.map(\.name)).count == CheckCatalog.known.count, "rule names are unique")
    }
}
