import Foundation
import Testing
import ThreatModel
import ThreatPolicy
@testable import ThreatSources
import TestSupport

/// Suggested policies, evaluated by the engine as if enabled, must allow every allowed flow they
/// were built from and deny probes that were never observed.
@Suite("policy suggest: least privilege, checked by the evaluation engine")
struct PolicySuggestPropertyTests {
    static func parse(_ line: String) -> ObservedFlow? {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { HubbleConnectionReader.parse(UnsafeBufferPointer($0)) }
    }

    /// `hubble observe -o json` lines of a generated namespace `shop`: workloads with pod-hash
    /// labels, peers in `ops`, the world (some with DNS lookups), the host, kube-dns; random
    /// verdicts and replies.
    static func generated(seed: UInt64, count: Int) -> [String] {
        var rng = SplitMix(state: seed)
        func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
        func side(_ ns: String?, _ labels: [String], _ pod: String?, identity: Int = 30000) -> String {
            var parts = ["\"identity\":\(identity)", "\"labels\":[" + labels.map { "\"\($0)\"" }.joined(separator: ",") + "]"]
            if let ns { parts.append("\"namespace\":\"\(ns)\"") }
            if let pod { parts.append("\"pod_name\":\"\(pod)\"") }
            return "{" + parts.joined(separator: ",") + "}"
        }
        func pod(_ ns: String, _ app: String, _ i: Int) -> (String, String) {
            let hash = String(rng.next() % 1_000_000_000, radix: 36)
            return (side(ns, ["k8s:app=\(app)", "k8s:pod-template-hash=\(hash)", "k8s:io.kubernetes.pod.namespace=\(ns)"], "\(app)-7d9f8b6c5d-x2k9\(i)"),
                    "10.\(ns == "shop" ? 1 : 2).0.\(i + 10)")
        }
        let apps = ["web", "api", "cart", "search"], peers = ["prometheus", "ingress-gw"]
        let worldIPs = ["192.0.2.10", "192.0.2.11", "198.51.100.7"], names = ["api.payments.example", "cdn.example.net"]
        var lines: [String] = []
        for i in 0..<count {
            let t = "2026-03-01T10:\(String(format: "%02d", (i / 60) % 60)):\(String(format: "%02d", i % 60))Z"
            let verdict = pick(["FORWARDED", "FORWARDED", "REDIRECTED", "AUDIT", "DROPPED"])
            let reply = pick([false, false, false, true])
            let (me, myIP) = pod("shop", pick(apps), Int(rng.next() % 3))
            var src = me, dst = "", srcIP = myIP, dstIP = ""
            var port = pick([80, 443, 8080, 9090]), proto = pick(["TCP", "TCP", "UDP"])
            var extra = ""
            switch rng.next() % 7 {
            case 0: (dst, dstIP) = pod("shop", pick(apps), Int(rng.next() % 3))
            case 1: (src, srcIP) = pod("ops", pick(peers), Int(rng.next() % 2)); (dst, dstIP) = (me, myIP)
            case 2: (src, srcIP) = (side(nil, ["reserved:world"], nil, identity: 2), pick(worldIPs)); (dst, dstIP) = (me, myIP)
            case 3: (src, srcIP) = (side(nil, ["reserved:host"], nil, identity: 1), "172.18.0.2"); (dst, dstIP) = (me, myIP)
            case 4:
                let ip = pick(worldIPs)
                (dst, dstIP) = (side(nil, ["reserved:world"], nil, identity: 2), ip)
                port = 443
                proto = "TCP"
            case 5:
                // A DNS lookup through kube-dns, naming one of the world addresses.
                (dst, dstIP) = (side("kube-system", ["k8s:k8s-app=kube-dns", "k8s:pod-template-hash=abc12"], "coredns-5d78c9869d-abcde"), "10.3.0.10")
                port = 53
                proto = "UDP"
                extra = ",\"l7\":{\"type\":\"RESPONSE\",\"dns\":{\"query\":\"\(pick(names)).\",\"ips\":[\"\(pick(worldIPs))\"]}}"
            default: (dst, dstIP) = pod("ops", pick(peers), Int(rng.next() % 2))
            }
            lines.append("{\"flow\":{\"time\":\"\(t)\",\"verdict\":\"\(verdict)\",\"IP\":{\"source\":\"\(srcIP)\",\"destination\":\"\(dstIP)\"},"
                + "\"l4\":{\"\(proto)\":{\"source_port\":40000,\"destination_port\":\(port)}},\"source\":\(src),\"destination\":\(dst),"
                + "\"is_reply\":\(reply)" + (verdict == "DROPPED" ? ",\"drop_reason_desc\":\"POLICY_DENIED\"" : "") + extra + "}}")
        }
        return lines
    }

    static func realFlows() throws -> [ObservedFlow] {
        var out: [ObservedFlow] = []
        let dir = repoRoot + "/Tests/Fixtures/realworld/hubble/"
        _ = try HubbleConnectionReader.read([dir + "gke-istio-bookinfo-10-flows.json", dir + "kind-bookinfo-l7-redirected-head.json",
                                             dir + "cilium-1.18-denied-by.json", dir + "kind-flux-audit.json"]) { out.append($0) }
        return out
    }

    /// Suggests, loads the enabled and the disabled manifests, and checks both read back valid.
    static func suggest(_ flows: [ObservedFlow], namespace: String, kind: SuggestionKind) -> (PolicyEvaluator, [SuggestedPolicy]) {
        var s = PolicySuggester(namespace: namespace, kind: kind)
        for f in flows { s.add(f) }
        let policies = s.policies(files: 1)
        var models: [NetworkPolicyModel] = []
        for p in policies {
            for disabled in [true, false] {
                let loaded = PolicyDocumentLoader.loadDetailed(text: p.yaml(kind: kind, disabled: disabled), origin: p.name)
                #expect(loaded.items.count == 1 && loaded.items.allSatisfy(\.valid), "\(p.name): \(loaded.items.first?.problems ?? [])")
                #expect(loaded.items.first?.enabled == !disabled)
                if !disabled { models += loaded.policies.compactMap(\.model) }
            }
        }
        return (PolicyEvaluator(policies: models), policies)
    }

    /// What Cilium's DNS proxy learns: the names each address was looked up as, per source.
    static func withLearnedNames(_ flows: [ObservedFlow]) -> [ObservedFlow] {
        var learned: [String: Set<String>] = [:]
        for f in flows { if let q = f.dnsQuery { for ip in f.dnsIPs { learned[ip, default: []].insert(FQDNMatch.normalize(q)) } } }
        return flows.map { f in
            var f = f
            if let ip = f.connection.destination.ip, let n = learned[ip] { f.connection.destination.dnsNames += n.sorted() }
            return f
        }
    }

    static func checkAllowsObserved(_ flows: [ObservedFlow], _ e: PolicyEvaluator, namespace: String) -> Int {
        var checked = 0
        for f in withLearnedNames(flows) where f.wasAllowed && f.isReply != true && !f.connection.protocolName.hasPrefix("ICMP") {
            let c = f.connection
            guard (c.source.isPod && c.source.namespace == namespace) || (c.destination.isPod && c.destination.namespace == namespace) else { continue }
            let d = e.evaluate(c)
            #expect(d.allowed, "observed \(f.verdict) \(c) is denied: egress \(d.egress.summary); ingress \(d.ingress.summary)")
            checked += 1
        }
        return checked
    }

    /// Probes never observed: another port, another peer, the same labels in another namespace,
    /// an unseen address; each must be denied at the suggested workload's end.
    static func checkDeniesProbes(_ flows: [ObservedFlow], _ e: PolicyEvaluator, _ policies: [SuggestedPolicy], namespace: String) -> Int {
        var probes = 0
        for p in policies {
            let subject = PolicyEndpoint.pod(namespace, Dictionary(uniqueKeysWithValues: p.selector.map { ($0.key, $0.value) }), ip: "10.99.0.1")
            let stranger = PolicyEndpoint.pod("probe-elsewhere", ["app": "never-seen"], ip: "10.98.0.1")
            for (peer, ports) in p.ingress {
                let port = ports.first!
                #expect(!e.verdict(for: PolicyConnection(source: stranger, destination: subject, port: port.port, protocolName: port.proto), direction: .ingress).allowed)
                if case let .pods(_, labels) = peer {
                    let sameLabelsElsewhere = PolicyEndpoint.pod("probe-elsewhere", Dictionary(uniqueKeysWithValues: labels.map { ($0.key, $0.value) }))
                    #expect(!e.verdict(for: PolicyConnection(source: sameLabelsElsewhere, destination: subject, port: port.port, protocolName: port.proto),
                                       direction: .ingress).allowed, "\(p.name): \(peer) from another namespace")
                    let seenPeer = PolicyEndpoint.pod(peerNamespace(peer), Dictionary(uniqueKeysWithValues: labels.map { ($0.key, $0.value) }))
                    #expect(!e.verdict(for: PolicyConnection(source: seenPeer, destination: subject, port: 64999, protocolName: port.proto), direction: .ingress).allowed,
                            "\(p.name): \(peer) on a port never seen")
                    probes += 2
                }
                probes += 1
            }
            for (_, ports) in p.egress {
                let port = ports.first!
                #expect(!e.verdict(for: PolicyConnection(source: subject, destination: stranger, port: port.port, protocolName: port.proto), direction: .egress).allowed)
                #expect(!e.verdict(for: PolicyConnection(source: subject, destination: .world(ip: "203.0.113.250"), port: port.port, protocolName: port.proto),
                                   direction: .egress).allowed)
                probes += 2
            }
            if p.ingress.isEmpty {
                #expect(!e.verdict(for: PolicyConnection(source: stranger, destination: subject, port: 80, protocolName: "TCP"), direction: .ingress).allowed)
                probes += 1
            }
        }
        return probes
    }

    static func peerNamespace(_ p: SuggestedPeer) -> String {
        if case let .pods(ns, _) = p { return ns }
        return ""
    }

    @Test("Real captures (bookinfo): both kinds allow every observed allowed flow and deny the probes",
          arguments: [SuggestionKind.cilium, .kubernetes])
    func realCapturesLeastPrivilege(kind: SuggestionKind) throws {
        let flows = try Self.realFlows()
        let (e, policies) = Self.suggest(flows, namespace: "bookinfo", kind: kind)
        #expect(policies.map(\.name) == ["suggested-details-v1", "suggested-productpage-v1", "suggested-ratings-v1", "suggested-reviews-v1"])
        #expect(Self.checkAllowsObserved(flows, e, namespace: "bookinfo") == 8)
        #expect(Self.checkDeniesProbes(flows, e, policies, namespace: "bookinfo") >= 15)
        // No pod-hash label anywhere in a selector.
        for p in policies {
            let text = p.yaml(kind: kind, disabled: true)
            #expect(!text.contains("pod-template-hash") && !text.contains("io.cilium.k8s.policy") && !text.contains("security.istio.io"))
        }
    }

    @Test("Generated flows (4 seeds × 600 lines): allowed flows stay allowed, probes are denied, DNS names become toFQDNs",
          arguments: [SuggestionKind.cilium, .kubernetes])
    func generatedLeastPrivilege(kind: SuggestionKind) throws {
        for seed: UInt64 in [1, 7, 42, 2026] {
            let flows = Self.generated(seed: seed, count: 600).compactMap(Self.parse)
            #expect(flows.count == 600)
            let (e, policies) = Self.suggest(flows, namespace: "shop", kind: kind)
            #expect(policies.count == 4)
            #expect(Self.checkAllowsObserved(flows, e, namespace: "shop") > 250)
            #expect(Self.checkDeniesProbes(flows, e, policies, namespace: "shop") > 40)
            let text = policies.map { $0.yaml(kind: kind, disabled: true) }.joined()
            #expect(!text.contains("pod-template-hash"))
            if kind == .cilium {
                #expect(text.contains("toFQDNs") && text.contains("matchPattern: \"*\"") && text.contains("fromEntities:\n    - host"))
            } else {
                #expect(!text.contains("toFQDNs") && text.contains("cidr: 172.18.0.2/32"))
            }
        }
    }

    @Test("Window: flows outside --from/--to make no rule; the comment names the window and the first and last seen")
    func windowLimitsSuggestions() throws {
        let flows = try Self.realFlows()
        // The kind capture is from 2021-11-10, the GKE one from 2021-06-16: keep only November.
        let from = try #require(RFC3339.parse("2021-11-01T00:00:00Z")), to = try #require(RFC3339.parse("2021-12-01T00:00:00Z"))
        var s = PolicySuggester(namespace: "bookinfo", kind: .cilium, from: from, to: to)
        for f in flows { s.add(f) }
        let policies = s.policies(files: 4)
        #expect(s.outsideWindow > 0)
        // reviews-v1 was only reached in June (from the host and prometheus): it keeps only the
        // November peer (productpage → reviews-v2, same app label).
        let reviews = try #require(policies.first { $0.selector == [LabelPair("app", "reviews")] })
        #expect(reviews.ingress.keys.sorted() == [.pods(namespace: "bookinfo", labels: [LabelPair("app", "productpage")])])
        #expect(reviews.comment.contains("Window: 2021-11-01T00:00:00Z to 2021-12-01T00:00:00Z"))
        #expect(reviews.comment.contains { $0.hasPrefix("First seen: 2021-11-10T") })
        #expect(reviews.comment.contains { $0.hasPrefix("Observed: 1 inbound and 0 outbound allowed flow(s)") })
    }
}
