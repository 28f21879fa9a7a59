import Foundation
import Testing
import ThreatConfig
import ThreatModel
import ThreatPolicy
@testable import ThreatSources

/// Counting once per distinct connection (`DistinctFlows`) must give what counting flow by flow
/// gives, capped tables included: a generated worst case fills every cap (map edges, coverage
/// workloads, suggested workloads and peers, simulated pairs) and the distinct table itself (more
/// distinct connections than it holds, more side classes than it keeps: a table of 4,096 here),
/// so any change in the order keys reach a capped table, or in a sum, shows.
@Suite("Distinct connections: the same results as flow by flow", .serialized)
struct DistinctFlowsTests {
    static let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!,
                                   interval: .hour)

    static func side(_ ns: String, _ app: String, pod: String) -> String {
        #"{"identity":\#(30000 + app.count),"namespace":"\#(ns)","labels":["k8s:app=\#(app)","k8s:io.kubernetes.pod.namespace=\#(ns)"],"pod_name":"\#(pod)"}"#
    }

    static let capacity = 4096

    /// 20,000 flows: allowed egress of 5,999 workloads to 14,000 distinct world addresses (one
    /// workload to 2,000 of them), their replies, policy drops and audits from the world and 300
    /// peer namespaces, DNS answers to kube-dns; some times outside the window. Each pod name
    /// differs from flow to flow (one Deployment's pods), so a workload is a class of sides.
    static func lines(wrapped: Bool) -> [String] {
        var out: [String] = []
        out.reserveCapacity(20_000)
        for i in 0..<20_000 {
            let n = i % 5999
            let app = i % 10 == 0 ? "hot" : "w\(n)"
            let pod = "\(app)-7d9f8c6b5-\(String(format: "%05d", i % 97_000))"
            let shop = side("shop", app, pod: pod)
            let world = #"{"identity":2,"labels":["reserved:world"]}"#
            let ip = "198.\(i >> 16).\((i >> 8) & 255).\(i & 255)"
            let day = i % 50 == 0 ? "18" : "19"
            let time = "2026-11-\(day)T\(String(format: "%02d:%02d:%02d", i % 24, (i / 24) % 60, (i / 1440) % 60)).5Z"
            var verdict = "FORWARDED", src = shop, dst = world, l4 = #"{"TCP":{"destination_port":443}}"#, reply = "false", extra = ""
            var ips = #""source":"10.0.0.\#(i % 250)","destination":"\#(ip)""#
            switch i % 10 {
            case 7:
                reply = "true"
                (src, dst) = (world, shop)
                ips = #""source":"\#(ip)","destination":"10.0.0.\#(i % 250)""#
            case 8:
                let peer = side("team-\(i % 300)", "client", pod: "client-6c7d8e9f0-\(String(format: "%05d", i % 90_000))")
                verdict = i % 20 == 8 ? "DROPPED" : "AUDIT"
                (src, dst) = (i % 40 == 8 ? world : peer, shop)
                l4 = #"{"TCP":{"destination_port":\#(8080 + i % 3)}}"#
                extra = #","drop_reason_desc":"POLICY_DENIED","ingress_denied_by":[{"name":"deny-\#(i % 7)","namespace":"shop","kind":"CiliumNetworkPolicy"}]"#
            case 9:
                dst = side("kube-system", "coredns", pod: "coredns-5d78c9869d-8vw2n").replacingOccurrences(of: "k8s:app=coredns", with: "k8s:k8s-app=kube-dns")
                l4 = #"{"UDP":{"destination_port":53}}"#
                extra = #","l7":{"dns":{"query":"svc\#(i % 50).example.com.","ips":["198.51.100.\#(i % 200)"]}}"#
            default:
                break
            }
            let flow = #"{"time":"\#(time)","verdict":"\#(verdict)","IP":{\#(ips)},"l4":\#(l4),"source":\#(src),"destination":\#(dst),"is_reply":\#(reply)\#(extra)}"#
            out.append(wrapped ? #"{"flow":\#(flow),"node_name":"n1","time":"\#(time)"}"# : flow)
        }
        return out
    }

    static let files: (wrapped: String, bare: String) = {
        let dir = NSTemporaryDirectory() + "distinct-flows-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let wrapped = dir + "/wrapped.json", bare = dir + "/bare.json"
        try? (lines(wrapped: true).joined(separator: "\n") + "\n").write(toFile: wrapped, atomically: true, encoding: .utf8)
        try? (lines(wrapped: false).joined(separator: "\n") + "\n").write(toFile: bare, atomically: true, encoding: .utf8)
        return (wrapped, bare)
    }()

    @Test("Report: counts, rates, drop pairs, policies, map, coverage and suggestions from distinct connections equal the flow-by-flow path, every cap reached")
    func reportEqualsFlowByFlow() throws {
        let env = EnvironmentConfig(name: "shop", namespace: "shop", hosts: [], thresholds: .defaults)
        let context = SourceContext(window: Self.window, environment: env, redactor: SecretRedactor())
        // The scanner takes `{"flow": …}` lines (counted per distinct connection); a bare flow
        // object goes to the tree parser, flow by flow.
        var source = HubbleFlowSource(settings: HubbleSettings(flowLogs: [Self.files.wrapped]))
        source.distinctCapacity = Self.capacity
        let distinct = try source.fetch(context)
        let each = try HubbleFlowSource(settings: HubbleSettings(flowLogs: [Self.files.bare])).fetch(context)
        #expect(distinct.value.counts.total == 19_600)
        #expect(distinct.value == each.value)
        #expect(distinct.warnings == each.warnings)
        // The caps were reached: map edges, coverage workloads, suggested workloads and peers.
        #expect((distinct.value.map?.unmappedFlows ?? 0) > 0)
        #expect(distinct.warnings.contains { $0.hasPrefix("policy coverage: more than 5000 workloads") })
        let notes = distinct.value.suggestions?.notes.joined(separator: " ") ?? ""
        #expect(notes.contains("workloads past the 1000-workload limit"))
        #expect(distinct.value.suggestions?.items.contains { $0.manifest.contains("past the 500-peer limit") } == true)
        #expect(distinct.value.topDroppedPairs.count == 10 && distinct.value.topAuditPairs.count == 10)
    }

    @Test("policy suggest: distinct connections (with a window) give the policies, comments and counts of flow by flow")
    func suggestEqualsFlowByFlow() throws {
        let windows: [(Date?, Date?, SuggestionKind)] = [(nil, nil, .cilium),
                                                         (RFC3339.parse("2026-11-19T06:00:00Z"), RFC3339.parse("2026-11-19T18:00:00Z"), .kubernetes)]
        for (from, to, kind) in windows {
            do {
                var each = PolicySuggester(namespace: "shop", kind: kind, from: from, to: to)
                var distinct = each
                let a = try HubbleConnectionReader.read([Self.files.wrapped]) { each.add($0) }
                let window = distinct
                let b = try HubbleConnectionReader.readDistinct([Self.files.wrapped], deadline: .none, for: .suggest, outside: window.isOutside,
                                                              capacity: Self.capacity) { distinct.add($0, $1) }
                #expect(a == b)
                #expect(distinct.policies(files: 1) == each.policies(files: 1))
                #expect(distinct.skippedPhrases == each.skippedPhrases && distinct.used == each.used)
                #expect(distinct.workloadsDropped > 0 && distinct.replies > 0 && distinct.notAllowed > 0)
                #expect((from == nil) == (distinct.outsideWindow == 0))
            }
        }
    }

    @Test("policy simulate: distinct connections give the pairs, policies and counts of flow by flow, with and without address rules")
    func simulateEqualsFlowByFlow() throws {
        let cidr = """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: hot-egress, namespace: shop}
        spec:
          endpointSelector: {matchLabels: {app: hot}}
          egress:
            - toCIDRSet: [{cidr: 198.0.0.0/16, except: [198.0.1.0/24]}]
        """
        let entity = """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: shop-in, namespace: shop}
        spec:
          endpointSelector: {}
          ingress:
            - fromEndpoints:
                - matchLabels:
                    app: client
                    k8s:io.kubernetes.pod.namespace: team-1
          egress:
            - toEntities: [world]
        """
        for (yaml, namespace) in [(cidr, nil), (entity, "shop")] {
            let models = PolicyDocumentLoader.loadDetailed(text: yaml, origin: "test.yaml").policies.compactMap(\.model)
            #expect(models.count == 1)
            do {
                var each = PolicySimulation(evaluator: PolicyEvaluator(policies: models, defaultNamespace: namespace), namespace: namespace)
                var distinct = each
                let a = try HubbleConnectionReader.read([Self.files.wrapped]) { each.add($0) }
                let b = try HubbleConnectionReader.readDistinct([Self.files.wrapped], deadline: .none, for: .simulate(allAddresses: distinct.readsAddresses),
                                                              outside: nil, capacity: Self.capacity) {
                    distinct.add($0, count: $1.flows)
                }
                #expect(a == b)
                #expect(distinct.readsAddresses == (yaml == cidr))
                #expect(distinct.byPair == each.byPair && distinct.byPolicy == each.byPolicy)
                #expect(distinct.observed == each.observed && distinct.newlyDropped == each.newlyDropped)
                #expect(distinct.newlyAllowed == each.newlyAllowed && distinct.replies == each.replies)
                #expect(distinct.outOfScope == each.outOfScope && distinct.notCompared == each.notCompared)
                #expect(distinct.otherPairs == each.otherPairs && distinct.unresolved == each.unresolved)
                #expect(distinct.otherPairs > 0 && distinct.newlyDropped > 0)
            }
        }
    }
}
