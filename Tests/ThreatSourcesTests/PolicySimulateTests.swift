import Foundation
import Testing
import ThreatModel
import ThreatPolicy
@testable import ThreatSources

@Suite("policy simulate: observed flows against a policy set")
struct PolicySimulateTests {
    static let hubble = repoRoot + "/Tests/Fixtures/realworld/hubble/"
    static let semantics = repoRoot + "/Tests/Fixtures/realworld/policy-semantics/"

    static func policies(_ yaml: String) -> [NetworkPolicyModel] {
        PolicyDocumentLoader.loadDetailed(text: yaml, origin: "test.yaml").policies.compactMap(\.model)
    }

    static func simulate(_ models: [NetworkPolicyModel], _ files: [String], namespace: String?) throws -> (PolicySimulation, FlowReadCoverage) {
        var sim = PolicySimulation(evaluator: PolicyEvaluator(policies: models, defaultNamespace: namespace), namespace: namespace)
        let cover = try HubbleConnectionReader.read(files) { sim.add($0) }
        return (sim, cover)
    }

    @Test("Real verdict: the captured DROPPED flow is denied again by the policy Hubble named, and newly allowed without it")
    func realDroppedVerdictAgrees() throws {
        let models = try PolicyModelFiles.load(Self.semantics + "real-verdicts/deny-tg-to-echo.yaml").models
        #expect(models.count == 1)
        let (with, cover) = try Self.simulate(models, [Self.hubble + "cilium-1.18-denied-by.json"], namespace: "net-lab")
        #expect(cover.flows == 1 && cover.skipped == 0)
        #expect(with.observed == 1 && with.newlyAllowed == 0 && with.newlyDropped == 0)
        let pair = try #require(with.byPair.first)
        #expect(pair.observedVerdict == "DROPPED" && !pair.wouldAllow)
        #expect(pair.decidedBy == "egress: denied by CiliumNetworkPolicy net-lab/deny-tg-to-echo spec.egressDeny[0]")
        #expect(with.byPolicy.map(\.policy) == ["net-lab/deny-tg-to-echo"] && with.byPolicy[0].denied == 1)
        let (without, _) = try Self.simulate([], [Self.hubble + "cilium-1.18-denied-by.json"], namespace: "net-lab")
        #expect(without.newlyAllowed == 1 && without.byPair.first?.change == "newly_allowed")
    }

    @Test("Newly dropped: a default-deny-ingress NetworkPolicy over the real bookinfo captures; replies and other namespaces skipped")
    func newlyDroppedOnRealCaptures() throws {
        let deny = Self.policies("""
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata: {name: deny-ingress, namespace: bookinfo}
        spec: {podSelector: {}}
        """)
        let files = [Self.hubble + "gke-istio-bookinfo-10-flows.json", Self.hubble + "kind-bookinfo-l7-redirected-head.json"]
        let (sim, cover) = try Self.simulate(deny, files, namespace: "bookinfo")
        // Counted from the 16 lines: 5 replies; of the 11 others, 8 have an end in bookinfo
        // (productpage → coredns ×2, productpage → details, productpage → reviews-v2, ratings →
        // productpage, ratings → coredns, host → reviews-v1, istio-system/prometheus → reviews-v1);
        // the 5 whose destination is in bookinfo are cut by the default deny.
        #expect(cover.flows == 16 && sim.replies == 5)
        #expect(sim.observed == 8 && sim.outOfScope == 3)
        #expect(sim.newlyDropped == 5 && sim.newlyAllowed == 0)
        let dropped = sim.byPair.filter { $0.change == "newly_dropped" }
        #expect(Set(dropped.map(\.destination)) == ["bookinfo/details-v1", "bookinfo/reviews-v2", "bookinfo/productpage-v1", "bookinfo/reviews-v1"])
        #expect(dropped.allSatisfy { $0.decidedBy.hasPrefix("ingress: denied by default (selected by NetworkPolicy bookinfo/deny-ingress") })
        #expect(sim.byPolicy.first?.policy == "bookinfo/deny-ingress" && sim.byPolicy.first?.newlyDropped == 5)
        // Egress to kube-dns is not restricted: those pairs are unchanged.
        #expect(sim.byPair.contains { $0.destination == "kube-system/coredns" && $0.change == "unchanged" && $0.wouldAllow })
    }

    @Test("Bad flow lines are counted and named file:line; the good ones are still simulated")
    func badLinesCountedWithPlaces() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try String(contentsOfFile: Self.hubble + "cilium-1.18-denied-by.json", encoding: .utf8)
            .trimmingCharacters(in: .newlines)
        let lines = [good, "not json at all", "{\"flow\": {\"verdict\": \"FORWARDED\"", "", "{\"flow\": {\"verdict\": \"FORWARDED\", \"time\": \"2026-01-01T00:00:00Z\"}}",
                     String(repeating: "[", count: 5000), good]
        let path = dir.appendingPathComponent("flows.json").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let (sim, cover) = try Self.simulate([], [path], namespace: nil)
        // Line 5 is a flow without an L4 layer: left out and counted apart, not called "not a flow".
        #expect(cover.flows == 2 && cover.skipped == 3 && cover.withoutL4 == 1 && cover.lines == 6)
        #expect(cover.skipPlaces == ["\(path):2", "\(path):3", "\(path):6"])
        #expect(cover.warnings.first?.contains("skipped 3 line(s)") == true)
        #expect(cover.warnings.contains("left out 1 flow(s) without a TCP, UDP, SCTP or ICMP layer (not connections)"))
        #expect(sim.observed == 2 && sim.newlyAllowed == 2)
    }

    @Test("Pairs are capped: past the cap, flows are counted as other pairs, not kept")
    func pairTableCapped() throws {
        var sim = PolicySimulation(evaluator: PolicyEvaluator(policies: []), namespace: "shop")
        let a = PolicyEndpoint.pod("shop", ["app": "a"])
        for port in 1...(PolicySimulation.pairCap + 25) {
            let f = ObservedFlow(time: Date(), verdict: "FORWARDED", isReply: false,
                                 connection: PolicyConnection(source: a, destination: .world(ip: "192.0.2.1"), port: port, protocolName: "TCP"))
            sim.add(f)
        }
        #expect(sim.byPair.count == PolicySimulation.pairCap && sim.otherPairs == 25 && sim.observed == PolicySimulation.pairCap + 25)
    }

    @Test("The transcribed reachability expectations recount the same in Python (recount.py) as the engine test asserts")
    func expectationsRecount() throws {
        let out = try runTool("/usr/bin/python3", [Self.semantics + "recount.py"])
        // PolicySemanticsTableTests asserts 25 blocks, 288 pairs, 49 denied, and 22 Cilium connections.
        #expect(out == "kubernetes-e2e cases=25 pairs=288 denied=49\ncilium-docs files=6 allow=12 deny=10\n")
    }
}
