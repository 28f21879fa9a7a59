import Foundation
import Testing

/// `suggested-policies/<environment>/<workload>.yaml` beside the report: written with the report,
/// listed in SHA256SUMS, and gone when a later run no longer suggests them (both when the folder
/// is switched whole and when it is written file by file).
@Suite("Suggested policies beside the report")
struct SuggestedPoliciesOutputTests {
    static let captures = repo + "/Tests/Fixtures/realworld/hubble"

    static func config(_ dir: String, flows: Bool) throws -> String {
        let path = dir + "/threat-report-\(flows).yml"
        try """
        version: 1
        from: 2020-01-01T00:00:00Z
        to: 2027-01-01T00:00:00Z
        interval: day
        environments:
          - name: Book Info
            namespace: bookinfo
        \(flows ? "    flows: { hubble: { flows: [\(captures)/gke-istio-bookinfo-10-flows.json, \(captures)/kind-bookinfo-l7-redirected-head.json] } }" : "")

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func names(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    @Test("Written with the report and in SHA256SUMS; a later run without them removes them, whole-folder switch and file by file")
    func writtenAndRemoved() throws {
        let dir = tempDir("suggested-output")
        for inPlace in [false, true] {
            let out = dir + "/out-\(inPlace)"
            if inPlace {
                // A subfolder the report does not write: the folder is then written file by file.
                try FileManager.default.createDirectory(atPath: out + "/notes", withIntermediateDirectories: true)
            }
            let first = try report(["--config", try Self.config(dir, flows: true), "--output", out, "--format", "json,html", "--compare", "none"])
            #expect(first.code == 0, "\(first.stderr)")
            let folder = out + "/suggested-policies/book-info"
            #expect(Self.names(folder) == ["details-v1.yaml", "productpage-v1.yaml", "ratings-v1.yaml", "reviews-v1.yaml"], "in place: \(inPlace)")
            let sums = try String(contentsOfFile: out + "/SHA256SUMS", encoding: .utf8)
            for name in Self.names(folder) {
                let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
                let line = try #require(sums.split(separator: "\n").first { $0.hasSuffix("  suggested-policies/book-info/\(name)") })
                let sha = try run("/usr/bin/sha256sum", [folder + "/" + name]).stdout.prefix(64)
                #expect(line.hasPrefix(sha) && !bytes.isEmpty)
            }
            let yaml = try String(contentsOfFile: folder + "/productpage-v1.yaml", encoding: .utf8)
            #expect(yaml.contains("network-policy.gitlab.com/disabled_by: gitlab") && yaml.contains("name: suggested-productpage-v1"))

            let second = try report(["--config", try Self.config(dir, flows: false), "--output", out, "--format", "json", "--compare", "none"])
            #expect(second.code == 0, "\(second.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out + "/suggested-policies"), "in place: \(inPlace)")
            #expect(!(try String(contentsOfFile: out + "/SHA256SUMS", encoding: .utf8)).contains("suggested-policies"))
            if inPlace { #expect(FileManager.default.fileExists(atPath: out + "/notes")) }
        }
    }
}
