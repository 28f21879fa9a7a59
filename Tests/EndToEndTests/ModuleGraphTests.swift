import Foundation
import Testing

/// The module graph of docs/architecture.md ("What each module may import") against the code: the
/// imports of every file under Sources/<module>/ and the dependencies declared in Package.swift.
enum ModuleGraph {
    /// Modules of the toolchain and the C library: any module may import them.
    static let system: Set<String> = ["Foundation", "FoundationEssentials", "Dispatch", "Glibc", "Darwin", "Musl",
                                      "Synchronization"]
    /// Modules that come with a product (Yams' bundled libyaml).
    static let bundled: [String: Set<String>] = ["Yams": ["CYaml"]]

    /// The module names of the `import` lines of a Swift file (attributes and import kinds allowed;
    /// comments and indented text are not imports).
    static func imports(in text: String) -> [String] {
        let pattern = #"^(?:@[A-Za-z_]+(?:\([^)]*\))?\s+)*import\s+(?:(?:typealias|struct|class|enum|protocol|let|var|func)\s+)?([A-Za-z_][A-Za-z0-9_]*)"#
        let re = try! NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
        let ns = text as NSString
        return re.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { ns.substring(with: $0.range(at: 1)) }
    }

    /// The rows of the table under "## What each module may import".
    static func documented(_ markdown: String) -> [String: [String]] {
        guard let start = markdown.range(of: "## What each module may import") else { return [:] }
        var rows: [String: [String]] = [:]
        for line in markdown[start.upperBound...].split(separator: "\n").drop(while: { !$0.hasPrefix("|") }) {
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 2, cells[0] != "module", !cells[0].hasPrefix("-") else { continue }
            rows[cells[0]] = cells[1].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return rows
    }

    /// The dependencies Package.swift declares for `target` (targets by name, products by their name).
    static func declared(_ manifest: String, target: String) -> [String]? {
        guard let open = manifest.range(of: #"(target|executableTarget)\(name: "\#(target)", dependencies: \["#,
                                        options: .regularExpression) else { return nil }
        var depth = 1
        var end = open.upperBound
        while depth > 0, end < manifest.endIndex {
            if manifest[end] == "[" { depth += 1 } else if manifest[end] == "]" { depth -= 1 }
            end = manifest.index(after: end)
        }
        var deps = String(manifest[open.upperBound..<end])
        var names: [String] = []
        while let product = deps.range(of: #"\.product\(name: "[^"]+", package: "[^"]+"\)"#, options: .regularExpression) {
            let text = deps[product]
            names.append(String(text.split(separator: "\"")[1]))
            deps.removeSubrange(product)
        }
        let quoted = deps.split(separator: "\"", omittingEmptySubsequences: false)
        names += stride(from: 1, to: quoted.count, by: 2).map { String(quoted[$0]) }
        return names
    }

    /// Swift source files under `folder`, recursively, sorted.
    static func swiftFiles(_ folder: String) -> [String] {
        let all = FileManager.default.enumerator(atPath: folder)?.allObjects as? [String] ?? []
        return all.filter { $0.hasSuffix(".swift") }.sorted().map { folder + "/" + $0 }
    }
}

@Suite("Module graph (docs/architecture.md against Sources/ and Package.swift)")
struct ModuleGraphTests {
    static let table = ModuleGraph.documented((try? String(contentsOfFile: repo + "/docs/architecture.md", encoding: .utf8)) ?? "")

    @Test("The import scanner reads attributes and import kinds, and skips comments and indented text")
    func scanner() {
        let text = "import Foundation\n@testable import ThreatRender\n@preconcurrency import Dispatch\nimport struct Yams.Node\n// import ThreatNope\n    import Indented\nlet s = \"import Quoted\"\n"
        #expect(ModuleGraph.imports(in: text) == ["Foundation", "ThreatRender", "Dispatch", "Yams"])
    }

    @Test("The table names every Swift module under Sources/ (C shims and fuzz targets aside), and nothing else")
    func tableNamesEveryModule() throws {
        let fm = FileManager.default
        let modules = try fm.contentsOfDirectory(atPath: repo + "/Sources").filter { name in
            name != "Fuzz" && !fm.fileExists(atPath: repo + "/Sources/\(name)/module.modulemap")
        }
        #expect(Set(Self.table.keys) == Set(modules))
        #expect(Self.table.count >= 9)
    }

    @Test("Every import of every module is on its row of the table")
    func importsAreDocumented() throws {
        var violations: [String] = []
        var scanned = 0
        for (module, allowed) in Self.table {
            let ok = Set(allowed).union(allowed.flatMap { ModuleGraph.bundled[$0] ?? [] }).union(ModuleGraph.system)
            for file in ModuleGraph.swiftFiles(repo + "/Sources/" + module) {
                for name in ModuleGraph.imports(in: try String(contentsOfFile: file, encoding: .utf8)) {
                    scanned += 1
                    if name == module || !ok.contains(name) {
                        violations.append("\(file.dropFirst(repo.count + 1)) imports \(name), which docs/architecture.md does not allow \(module)")
                    }
                }
            }
        }
        #expect(violations == [])
        #expect(scanned > 100)  // the scanner saw the code
    }

    @Test("Each row equals the module's declared dependencies in Package.swift")
    func tableMatchesPackage() throws {
        let manifest = try String(contentsOfFile: repo + "/Package.swift", encoding: .utf8)
        for (module, allowed) in Self.table {
            let declared = try #require(ModuleGraph.declared(manifest, target: module), "no target \(module) in Package.swift")
            #expect(Set(declared) == Set(allowed), "\(module): Package.swift declares \(declared.sorted()), the table says \(allowed.sorted())")
        }
    }

    @Test("The rules of the picture: the model imports nothing of ours, policy semantics only the model, sources never a chart or render module")
    func rules() {
        #expect(Self.table["ThreatModel"]?.contains { $0.hasPrefix("Threat") } == false)
        #expect(Self.table["ThreatPolicy"].map(Set.init) == ["ThreatModel", "Yams"])
        for module in ["ThreatConfig", "ThreatPolicy", "ThreatSources"] {
            let row = Self.table[module] ?? ["missing"]
            #expect(!row.contains { ["ThreatAnalysis", "ThreatCharts", "ThreatRender", "ThreatReportKit"].contains($0) }, "\(module): \(row)")
        }
        #expect(Self.table["ThreatRender"]?.contains { ["ThreatSources", "ThreatConfig", "ThreatPolicy"].contains($0) } == false)
        #expect(Self.table["ThreatAnalysis"] == ["ThreatModel"])
    }
}
