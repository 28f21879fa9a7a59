import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

/// Policy drift comparison and its findings, from previous report.json text (untrusted) and policy items.
@Suite("Policy drift comparison")
struct PolicyDriftAnalysisTests {
    /// Both drift checks, in catalogue order.
    static func driftFindings(_ e: EnvironmentReport) -> [Finding] {
        PolicyRemovedSinceLastRunCheck.findings(for: e) + PolicyDisabledSinceLastRunCheck.findings(for: e)
    }

    static func item(_ name: String, enabled: Bool = true, valid: Bool = true, lines: [String]?, manifest: String = "m") -> PolicyItem {
        var p = PolicyItem(kind: .ciliumNetworkPolicy, kindText: "CiliumNetworkPolicy", name: name, namespace: "shop",
                           enabled: enabled, valid: valid, manifest: manifest, origin: "x.yaml:1")
        if let lines {
            p.fingerprint = PolicyFingerprint(digest: SHA256Digest.hex(Array(lines.map { $0 + "\n" }.joined().utf8)), lines: lines, total: lines.count)
        }
        return p
    }

    static func env(_ items: [PolicyItem], status: SectionStatus = .ok) -> EnvironmentReport {
        EnvironmentReport(name: "production", namespace: "shop", thresholds: .defaults, waf: .notConfigured, flows: .notConfigured,
                          policies: Section(status: status, value: PolicySet(items: items), error: status == .partial ? "page 2 failed" : nil))
    }

    /// A previous report.json with one environment and these policies (fingerprint JSON or none).
    static func previous(_ policies: [(name: String, enabled: Bool, rules: [String]?, manifest: String)], env: String = "production",
                         status: String = "ok") throws -> PreviousPolicySnapshot.State {
        let items = policies.map { p -> String in
            let fp = p.rules.map { r in
                let digest = SHA256Digest.hex(Array(r.map { $0 + "\n" }.joined().utf8))
                return "{\"digest\": \"\(digest)\", \"rules\": [\(r.map { "\"\($0)\"" }.joined(separator: ", "))], \"total\": \(r.count)}"
            } ?? "null"
            return """
                {"kind": "CiliumNetworkPolicy", "name": "\(p.name)", "namespace": "shop", "enabled": \(p.enabled), "valid": true,
                 "manifest": "\(p.manifest)", "fingerprint": \(fp)}
                """
        }
        let text = """
            {"schema_version": 1, "generated_at": "2026-11-19T00:00:00Z", "environments": [
              {"name": "\(env)", "namespace": "shop", "policies": {"status": "\(status)", "items": [\(items.joined(separator: ","))]}}]}
            """
        return .read(try PreviousPolicySnapshot.parse(Array(text.utf8), file: "out/report.json"))
    }

    @Test("added, removed, changed with line diff, enforcement and unchanged are told apart")
    func comparesSets() throws {
        let prev = try Self.previous([
            ("web", true, ["ingress from app=frontend port 8080/TCP", "selects app=web"], "a"),
            ("gone", true, ["selects all pods"], "b"),
            ("same", true, ["selects app=db"], "c"),
            ("switch", true, ["selects app=x"], "d"),
        ])
        let now = Self.env([
            Self.item("web", lines: ["ingress from app=frontend port 8443/TCP", "selects app=web"]),
            Self.item("same", lines: ["selects app=db"], manifest: "c, with a new comment"),
            Self.item("switch", enabled: false, lines: ["selects app=x"]),
            Self.item("new", lines: ["egress to entity world any port", "selects app=new"]),
        ])
        let d = try #require(PolicyDriftAnalysis.drift(now, previous: prev))
        #expect(d.status == .compared)
        #expect(d.note == nil)
        #expect(d.previousGeneratedAt == RFC3339.parse("2026-11-19T00:00:00Z"))
        #expect(d.removed.map(\.name) == ["gone"])
        #expect(d.added.map(\.name) == ["new"])
        #expect(d.added[0].details == ["egress to entity world any port added", "selects app=new added"])
        #expect(d.changed.map(\.name) == ["web"])
        #expect(d.changed[0].details == ["ingress from app=frontend port 8080/TCP removed", "ingress from app=frontend port 8443/TCP added"])
        #expect(d.enforcement == [PolicyEnforcementChange(kind: "CiliumNetworkPolicy", name: "switch", namespace: "shop", from: .enforced, to: .disabled)])
        #expect(d.unchanged == 1)  // "same": a comment is not a change

        var e = now
        e.policyDrift = d
        let f = Self.driftFindings(e)
        #expect(f.map(\.id) == [PolicyRemovedSinceLastRunCheck.id, PolicyDisabledSinceLastRunCheck.id])
        #expect(f.map(\.severity) == [.warning, .warning])
        #expect(f[0].title == "Policy gone was removed since the last run")
        #expect(f[0].guidance.contains("It had: selects all pods."))
    }

    @Test("a policy removed while it was disabled is an info finding")
    func removedDisabledIsInfo() throws {
        let prev = try Self.previous([("off", false, ["selects app=a"], "a")])
        var e = Self.env([])
        e.policyDrift = PolicyDriftAnalysis.drift(e, previous: prev)
        let f = Self.driftFindings(e)
        #expect(f.count == 1 && f[0].severity == .info && f[0].title.hasSuffix("(it was not enforced)"))
    }

    @Test("without a rule summary on one side the manifest text is compared")
    func manifestFallback() throws {
        let prev = try Self.previous([("old", true, nil, "text one"), ("kept", true, nil, "text two")])
        let d = try #require(PolicyDriftAnalysis.drift(Self.env([
            Self.item("old", lines: ["selects app=a"], manifest: "text one, edited"),
            Self.item("kept", lines: ["selects app=b"], manifest: "text two"),
        ]), previous: prev))
        #expect(d.changed.map(\.name) == ["old"])
        #expect(d.changed[0].detailsComplete == false)
        #expect(d.unchanged == 1)
        #expect(d.note?.contains("not every changed line is listed") == true)
    }

    @Test("states that cannot be compared say why, never no change")
    func notCompared() throws {
        let now = Self.env([Self.item("a", lines: ["selects app=a"])])
        #expect(PolicyDriftAnalysis.drift(now, previous: .absent)?.status == .noPreviousReport)
        let unreadable = try #require(PolicyDriftAnalysis.drift(now, previous: .unreadable("out/report.json: not valid JSON")))
        #expect(unreadable.status == .notCompared && unreadable.note?.contains("not valid JSON") == true)
        let otherEnv = try #require(PolicyDriftAnalysis.drift(now, previous: try Self.previous([], env: "staging")))
        #expect(otherEnv.status == .notCompared && otherEnv.note?.contains("no environment production") == true)
        let prevDown = try #require(PolicyDriftAnalysis.drift(now, previous: try Self.previous([], status: "unavailable")))
        #expect(prevDown.status == .notCompared && prevDown.note?.contains("was unavailable") == true)
        var down = now
        down.policies = .unavailable("API server refused")
        let nowDown = try #require(PolicyDriftAnalysis.drift(down, previous: try Self.previous([])))
        #expect(nowDown.status == .notCompared && nowDown.note?.contains("API server refused") == true)
        var none = now
        none.policies = .notConfigured
        #expect(PolicyDriftAnalysis.drift(none, previous: .absent) == nil)
        // A partial list: compared, with the caveat that "removed" may mean "unread".
        let partial = try #require(PolicyDriftAnalysis.drift(Self.env([], status: .partial), previous: try Self.previous([("a", true, ["selects app=a"], "a")])))
        #expect(partial.status == .compared && partial.removed.count == 1 && partial.note?.contains("may only be unread") == true)
        var e = now
        e.policyDrift = unreadable
        #expect(Self.driftFindings(e).isEmpty)
    }

    @Test("hostile previous reports are errors naming the place")
    func hostileSnapshots() {
        func error(_ text: String) -> String? {
            do {
                _ = try PreviousPolicySnapshot.parse(Array(text.utf8), file: "r.json")
                return nil
            } catch {
                return error.description
            }
        }
        #expect(error("[1, 2]") == "r.json: top level: expected an object (a threat-report report.json)")
        #expect(error("{\"schema_version\": 1}") == "r.json: environments: missing or not a list")
        #expect(error(String(repeating: "[", count: 5000))?.hasPrefix("r.json:1:") == true)
        #expect(error("{\"schema_version\": 1, \"environments\": [{\"name\": \"a\", \"policies\": {\"status\": \"ok\"}}, {\"name\": \"a\", \"policies\": {\"status\": \"ok\"}}]}")
            == "r.json: environments[1].name: environment a appears twice")
        let badDigest = """
            {"schema_version": 1, "environments": [{"name": "a", "policies": {"status": "ok", "items": [
             {"kind": "K", "name": "n", "enabled": true, "valid": true, "manifest": "", "fingerprint": {"digest": "zz", "rules": [], "total": 0}}]}}]}
            """
        #expect(error(badDigest) == "r.json: environments[0].policies.items[0].fingerprint.digest: missing or not a SHA-256 in hex")
        let shortTotal = badDigest.replacingOccurrences(of: "\"zz\"", with: "\"\(String(repeating: "a", count: 64))\"")
            .replacingOccurrences(of: "\"rules\": []", with: "\"rules\": [\"x\", \"y\"]").replacingOccurrences(of: "\"total\": 0", with: "\"total\": 1")
        #expect(error(shortTotal)?.contains("fingerprint.total") == true)
    }
}
