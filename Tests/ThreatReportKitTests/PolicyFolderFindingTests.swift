import Foundation
import Testing
import ThreatAnalysis
import ThreatConfig
import ThreatModel
import ThreatRender
import ThreatSources

/// A public recipe folder through the loader and the policy checks: one YAML-only summary per
/// environment, duplicate names flagged, other namespaces never counted as enforced.
@Suite("Policy folder findings on public recipes")
struct PolicyFolderFindingTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/realworld/policies/ahmetb").path

    static func environment(_ namespace: String) throws -> EnvironmentReport {
        let out = try DirectoryPolicySource(path: dir).fetch(SourceContext(
            window: PolicyReportSectionTests.window,
            environment: EnvironmentConfig(name: "e", namespace: namespace, hosts: [], thresholds: .defaults), redactor: SecretRedactor()))
        return EnvironmentReport(name: "e", namespace: namespace, thresholds: .defaults, waf: .notConfigured,
                                 flows: PolicyReportSectionTests.flows(500), policies: .ok(out.value))
    }

    @Test("9 NetworkPolicies editable only as YAML: one info finding listing them, not nine")
    func yamlOnlySummary() throws {
        let env = try Self.environment("shop")
        let f = PolicyFindings.findings(for: env)
        let yamlOnly = f.filter { $0.id == "policies.unsupported_in_rule_mode" }
        let items = try #require(env.policies.value?.items)
        #expect(items.count == 9)
        #expect(yamlOnly.count == 1)
        #expect(yamlOnly.first?.title == "9 policies can be edited only as YAML in GitLab's policy editor")
        #expect(yamlOnly.first?.value == 9)
        for p in items { #expect(yamlOnly.first?.guidance.contains(p.name + " (") == true, "\(p.name)") }
        #expect(Checks.descriptions.contains { $0.id == "policies.unsupported_in_rule_mode" })
    }

    @Test("Two recipes named foo-deny-egress in one namespace: a duplicate-name warning naming both files")
    func duplicateNames() throws {
        let f = PolicyFindings.findings(for: try Self.environment("shop"))
        let dup = f.filter { $0.id == "policies.duplicate_name" }
        #expect(dup.count == 1)
        #expect(dup.first?.severity == .warning && dup.first?.subject == "foo-deny-egress")
        #expect(dup.first?.title == "2 manifests define NetworkPolicy foo-deny-egress in shop")
        #expect(dup.first?.guidance.contains("block2/foo-deny-egress.yaml:1") == true)
        #expect(dup.first?.guidance.contains("`threat-report policy explain FILE`") == true)
        let check = try #require(Checks.descriptions.first { $0.id == "policies.duplicate_name" })
        #expect(check.section == "policies" && check.defaultSeverity == .warning)
    }

    @Test("Only other-namespace policies in a folder: the environment has no enforced policy and policies.none fires")
    func otherNamespaceNeverEnforces() throws {
        let tmp = NSTemporaryDirectory() + "ns-folder-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.dir + "/03-deny-all-non-whitelisted-traffic-in-the-namespace/default-deny-all.yaml",
                                         toPath: tmp + "/default-deny-all.yaml")
        let out = try DirectoryPolicySource(path: tmp).fetch(SourceContext(
            window: PolicyReportSectionTests.window,
            environment: EnvironmentConfig(name: "e", namespace: "shop", hosts: [], thresholds: .defaults), redactor: SecretRedactor()))
        #expect(out.value.items.isEmpty)
        let env = EnvironmentReport(name: "e", namespace: "shop", thresholds: .defaults, waf: .notConfigured,
                                    flows: PolicyReportSectionTests.flows(500), policies: .ok(out.value))
        #expect(PolicyFindings.findings(for: env).map(\.id).contains("policies.none"))
    }
}
