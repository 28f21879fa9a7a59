import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

/// The evidence appendix promises each input file's SHA-256: every digest a file source reports
/// must equal `sha256sum` of the file as stored (compressed or not), whatever its lines hold.
@Suite("Evidence digests equal sha256sum for every file source")
struct EvidenceDigestTests {
    func sha256sum(_ path: String) throws -> String {
        String(try runTool("/usr/bin/sha256sum", [path]).prefix(64))
    }

    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "digest-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// Each evidence item names a file; its digest must be that file's own.
    func expectDigests(_ evidence: [EvidenceItem], count: Int) throws {
        #expect(evidence.count == count)
        for e in evidence {
            let want = try sha256sum(e.source)
            #expect(e.sha256 == want, "\(e.source)")
        }
    }

    @Test("Hubble files: plain captures, the gzipped sample, and a file with no valid line (its own digest, not the empty input's)")
    func hubble() throws {
        let dir = try tempDir()
        let garbage = dir + "/garbage.json"
        try "not a flow\n{\"flow\":{}}\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let files = HubbleRealWorldTests.files + [repoRoot + "/samples/hubble/flows.json.gz", garbage]
        let env = EnvironmentConfig(name: "b", namespace: "bookinfo", hosts: [], thresholds: .defaults)
        let out = try HubbleFlowSource(settings: HubbleSettings(flowLogs: files)).fetch(SourceContext(window: HubbleRealWorldTests.window, environment: env, redactor: SecretRedactor()))
        try expectDigests(out.evidence, count: files.count)
        let emptyInput = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        #expect(out.evidence.last?.sha256 != emptyInput)
        // The sample's 2 broken lines and the garbage file's 2.
        #expect(out.warnings.first?.hasPrefix("skipped 4 line(s)") == true)
        #expect(out.warnings.first?.contains(garbage + ":1") == true)
    }

    @Test("WAF audit and access files, plain and gzipped, and an audit file of garbage")
    func waf() throws {
        let dir = try tempDir()
        let garbage = dir + "/garbage-audit.log"
        try "garbage\nmore garbage\n".write(toFile: garbage, atomically: true, encoding: .utf8)
        let fx = repoRoot + "/Tests/ThreatSourcesTests/Fixtures/waf/"
        let audit = [fx + "modsec-v3-detection.log", fx + "modsec-v2.log", garbage]
        let access = [fx + "access-detection.log", fx + "access-detection.log.gz"]
        let env = EnvironmentConfig(name: "p", namespace: "shop", hosts: [], thresholds: .defaults)
        let w = TimeWindow(from: RFC3339.parse("2000-01-01T00:00:00Z")!, to: RFC3339.parse("2030-01-01T00:00:00Z")!, interval: .day)
        let out = try FilesWAFSource(settings: WAFFileSettings(auditLogs: audit, accessLogs: access))
            .fetch(SourceContext(window: w, environment: env, redactor: SecretRedactor()))
        try expectDigests(out.evidence, count: audit.count + access.count)
    }

    @Test("Policy files: each manifest of a folder, valid or not")
    func policies() throws {
        let folder = repoRoot + "/Tests/Fixtures/policies/folder"
        let out = try DirectoryPolicySource(path: folder).fetch(SourceContext(
            window: HubbleRealWorldTests.window, environment: EnvironmentConfig(name: "p", namespace: "default", hosts: [], thresholds: .defaults), redactor: SecretRedactor()))
        let files = try FileManager.default.subpathsOfDirectory(atPath: folder).filter { f in (f.hasSuffix(".yaml") || f.hasSuffix(".yml") || f.hasSuffix(".json")) && !f.split(separator: "/").contains { $0.hasPrefix(".") } }
        #expect(!files.isEmpty)
        try expectDigests(out.evidence, count: files.count)
    }
}
