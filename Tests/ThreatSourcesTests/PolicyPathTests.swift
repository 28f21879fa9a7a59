import Foundation
import Testing
import ThreatModel
import ThreatPolicy
@testable import ThreatSources

/// The policy fixtures (Tests/Fixtures/policies, relative to this file).
private enum PolicyFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/policies")

    static func path(_ name: String) -> String { root.appendingPathComponent(name).path }

    static func text(_ name: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
    }
}

// MARK: - Files and folders

@Suite("Policy files")
struct PoliciesPathTests {
    @Test("A folder: recursive, sorted, hidden files skipped, evidence per file, namespace mismatch warned")
    func folder() throws {
        let folder = PolicyFixtures.path("folder")
        let out = try PolicyDocumentLoader.loadPath(folder, namespace: "shop-production")
        let files = ["a-other-namespace.yaml", "b-same.yml", "sub/c.json"].map { folder + "/" + $0 }
        #expect(out.evidence.map(\.source) == files)
        #expect(out.evidence.allSatisfy { $0.section == "policies" })
        for (e, f) in zip(out.evidence, files) {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: f)))
            #expect(e.sha256 == SHA256Digest.hex(bytes))
        }
        // The staging policy is not this environment's: listed in a note, never counted as enforced here.
        #expect(out.value.items.map(\.name) == ["here", "from-json"])
        #expect(out.value.items[1].description[1] == "All outbound traffic from all pods in shop-production is denied.")
        #expect(out.value.notes == ["not in this environment (namespace shop-production): NetworkPolicy staging/elsewhere (\(files[0]):1)"])
        #expect(out.warnings == [
            "\(files[0]):1: policy 'elsewhere' is in namespace 'staging', not 'shop-production': left out",
            "\(files[1]):11: skipped kind ConfigMap (not a network policy)",
        ])
    }

    @Test("A single file; a missing path throws unreadable; an empty folder gives an empty set with a note")
    func fileAndErrors() throws {
        let out = try PolicyDocumentLoader.loadPath(PolicyFixtures.path("multi-broken.yaml"), namespace: "shop-production")
        #expect(out.value.items.count == 3)
        #expect(out.evidence.count == 1)
        #expect(out.warnings.isEmpty)

        #expect(throws: SourceError.self) { try PolicyDocumentLoader.loadPath(PolicyFixtures.path("missing.yaml"), namespace: "x") }
        do {
            _ = try PolicyDocumentLoader.loadPath(PolicyFixtures.path("missing"), namespace: "x")
            Issue.record("expected an error")
        } catch {
            guard case .unreadable = error else { Issue.record("expected .unreadable, got \(error)"); return }
        }

        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("policies-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        try "not yaml".write(to: empty.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let none = try PolicyDocumentLoader.loadPath(empty.path, namespace: "x")
        #expect(none.value.items.isEmpty)
        #expect(none.value.notes == ["no policy files (*.yaml, *.yml, *.json) in \(empty.path)"])
        #expect(none.evidence.isEmpty)
    }

    @Test("A ConfigMap mounted as a folder (symlinks into a hidden ..data folder); bad UTF-8 skipped with a warning")
    func configMapFolder() throws {
        let fm = FileManager.default
        let dir = fm.temporaryDirectory.appendingPathComponent("policies-cm-\(UUID().uuidString)")
        defer { try? fm.removeItem(at: dir) }
        let data = dir.appendingPathComponent("..2020_11_02_10_00_00.1")
        try fm.createDirectory(at: data, withIntermediateDirectories: true)
        try PolicyFixtures.text("disabled-cilium.yaml").write(to: data.appendingPathComponent("web.yaml"), atomically: true, encoding: .utf8)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("..data").path, withDestinationPath: data.lastPathComponent)
        try fm.createSymbolicLink(atPath: dir.appendingPathComponent("web.yaml").path, withDestinationPath: "..data/web.yaml")
        try Data([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xff, 0xfe]).write(to: dir.appendingPathComponent("broken.yaml"))

        let out = try PolicyDocumentLoader.loadPath(dir.path, namespace: "shop-production")
        #expect(out.value.items.map(\.name) == ["web-disabled"])
        #expect(out.value.items.first?.origin == dir.appendingPathComponent("web.yaml").path + ":1")
        #expect(out.evidence.map(\.source) == ["broken.yaml", "web.yaml"].map { dir.appendingPathComponent($0).path })
        #expect(out.warnings == [dir.appendingPathComponent("broken.yaml").path + ": skipped, not UTF-8 text"])

        #expect(throws: SourceError.malformed(place: dir.appendingPathComponent("broken.yaml").path, detail: "not UTF-8 text")) {
            try PolicyDocumentLoader.loadPath(dir.appendingPathComponent("broken.yaml").path, namespace: "x")
        }
    }
}
