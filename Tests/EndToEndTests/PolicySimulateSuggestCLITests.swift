import Foundation
import Testing
import ThreatModel
import ThreatPolicy

@Suite("policy simulate and policy suggest (CLI)")
struct PolicySimulateSuggestCLITests {
    static let hubble = repo + "/Tests/Fixtures/realworld/hubble/"

    @Test("simulate --output json: the documented keys and counts on the real captures; bad lines named file:line on stderr")
    func simulateJSON() throws {
        let dir = tempDir("simulate")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let policies = dir + "/deny.yaml"
        try """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny-ingress, namespace: bookinfo}
        spec: {podSelector: {}}

        """.write(toFile: policies, atomically: true, encoding: .utf8)
        let bad = dir + "/bad.json"
        try "garbage\n{\"flow\":{\"verdict\":\"FORWARDED\"}}\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try policy(["simulate", "--policies", policies, "--namespace", "bookinfo", "--output", "json",
                            "--flows", Self.hubble + "gke-istio-bookinfo-10-flows.json", Self.hubble + "kind-bookinfo-l7-redirected-head.json", bad])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(json["observed"] as? Int == 8 && json["newly_dropped"] as? Int == 5 && json["newly_allowed"] as? Int == 0)
        #expect((json["by_pair"] as? [[String: Any]])?.count == 7)
        let byPolicy = try #require(json["by_policy"] as? [[String: Any]])
        #expect(byPolicy.first?["policy"] as? String == "bookinfo/deny-ingress" && byPolicy.first?["newly_dropped"] as? Int == 5)
        #expect(r.stderr.contains("skipped 2 line(s) that are not hubble flow JSON, first at \(bad):1, \(bad):2"))
        let text = try policy(["simulate", "--policies", policies, "--namespace", "bookinfo", "--flows", Self.hubble + "*.json"])
        #expect(text.code == 0 && text.stdout.contains("Newly dropped: 5") && text.stdout.contains("newly dropped  bookinfo/productpage-v1"))
    }

    @Test("simulate: an unreadable policy path and a missing flow file exit 2 with the flag named")
    func simulateBadInput() throws {
        let r = try policy(["simulate", "--policies", "/nonexistent/p.yaml", "--flows", Self.hubble + "kind-flux-audit.json"])
        #expect(r.code == 2 && r.stderr.contains("--policies:"))
        let f = try policy(["simulate", "--policies", repo + "/Tests/Fixtures/realworld/policy-semantics/cilium-docs/l3.yaml", "--flows", "/nonexistent/flows.json"])
        #expect(f.code == 2 && f.stderr.contains("--flows:"))
        // A namespaced policy without metadata.namespace and no --namespace: said, not silently idle.
        #expect(f.stderr.contains("CiliumNetworkPolicy l3-rule has no metadata.namespace and selects no pod; pass --namespace NS"))
    }

    @Test("suggest: one file per workload, disabled, valid for explain; a planted symlink is replaced, never written through")
    func suggestWritesSafely() throws {
        let dir = tempDir("suggest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let victim = dir + "/victim"
        try "keep".write(toFile: victim, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: out + "/ratings-v1.yaml", withDestinationPath: victim)
        let r = try policy(["suggest", "--namespace", "bookinfo", "--flows", Self.hubble + "gke-istio-bookinfo-10-flows.json",
                            Self.hubble + "kind-bookinfo-l7-redirected-head.json", "--output", out])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep")
        let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
        #expect(files == ["details-v1.yaml", "productpage-v1.yaml", "ratings-v1.yaml", "reviews-v1.yaml"])
        let attrs = try FileManager.default.attributesOfItem(atPath: out + "/ratings-v1.yaml")
        #expect(attrs[.type] as? FileAttributeType == .typeRegular)
        for f in files {
            let text = try String(contentsOfFile: out + "/" + f, encoding: .utf8)
            #expect(text.hasPrefix("# Suggested by `threat-report policy suggest`") && text.contains("# First seen: "))
            let explain = try policy(["explain", out + "/" + f])
            #expect(explain.code == 0 && explain.stdout.contains("not enforced (GitLab's disabled_by label)"), "\(f): \(explain.stdout)")
        }
        // The output folder itself may not be a link.
        try FileManager.default.createSymbolicLink(atPath: dir + "/link", withDestinationPath: out)
        let link = try policy(["suggest", "--namespace", "bookinfo", "--flows", Self.hubble + "kind-flux-audit.json", "--output", dir + "/link"])
        #expect(link.code == 2 && link.stderr.contains("symbolic link"))
    }

    @Test("suggest: bad flags say which one")
    func suggestFlags() throws {
        let r = try policy(["suggest", "--namespace", "Bad_NS", "--flows", "x", "--output", "/tmp/x"])
        #expect(r.code != 0 && r.stderr.contains("--namespace"))
        let k = try policy(["suggest", "--namespace", "shop", "--flows", "x", "--output", "/tmp/x", "--kind", "calico"])
        #expect(k.code != 0 && k.stderr.contains("--kind"))
        let w = try policy(["suggest", "--namespace", "shop", "--flows", "x", "--output", "/tmp/x", "--from", "yesterday"])
        #expect(w.code != 0 && w.stderr.contains("--from"))
    }
}
