import Foundation
import Testing

/// The traffic map from the command line on generated flows of 40 and 60 namespaces: the same
/// bytes on every run and in any line order, every edge equal to the Python recount, coverage
/// from the policy folder.
@Suite("Traffic map end to end")
struct TrafficMapCLITests {
    /// Writes the flows (make_map_flows.py), an egress-only policy for `shop` and the config.
    static func setUp(peers: Int) throws -> (dir: String, config: String, flows: String) {
        let dir = tempDir("map")
        let flows = dir + "/flows.json"
        let gen = try run("/usr/bin/python3", [repo + "/Tests/Support/make_map_flows.py", String(peers), "200", flows])
        #expect(gen.code == 0, "\(gen.stderr)")
        try FileManager.default.createDirectory(atPath: dir + "/policies", withIntermediateDirectories: true)
        try """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata:
          name: egress-dns-only
          namespace: shop
        spec:
          endpointSelector: {}
          egress:
          - toEndpoints:
            - matchLabels:
                k8s:io.kubernetes.pod.namespace: kube-system
                k8s:k8s-app: kube-dns
        """.write(toFile: dir + "/policies/egress.yaml", atomically: true, encoding: .utf8)
        try """
        version: 1
        from: 2026-11-19T00:00:00Z
        to: 2026-11-20T00:00:00Z
        interval: hour
        environments:
          - name: shop
            namespace: shop
            flows: { hubble: { flows: [\(flows)] } }
            policies: { directory: \(dir)/policies }
        """.write(toFile: dir + "/config.yml", atomically: true, encoding: .utf8)
        return (dir, dir + "/config.yml", flows)
    }

    @Test("60 namespaces from the command line: every edge as the Python recount counts it, coverage from the policy folder, the chart in HTML and Markdown")
    func sixtyNamespaces() throws {
        let s = try Self.setUp(peers: 60)
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let r = try report(["--config", s.config, "--output", s.dir + "/out", "--format", "html,md,json,pdf"])
        #expect(r.code == 0, "\(r.stderr)")
        let root = try #require(try foundationJSON(s.dir + "/out/report.json") as? [String: Any])
        let env = try #require((root["environments"] as? [[String: Any]])?.first)
        let map = try #require((env["flows"] as? [String: Any])?["map"] as? [String: Any])
        let edges = try #require(map["edges"] as? [[String: Any]])
        let recount = try run("/usr/bin/python3", [repo + "/Tests/Fixtures/realworld/hubble/recount_map.py", "shop",
                                                   "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z", s.flows])
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(recount.stdout.utf8)) as? [String: Any])
        let counts = try #require(expected["edges"] as? [String: [String: Int]])
        #expect(edges.count == counts.count && edges.count > 60)
        for e in edges {
            let key = "\(e["source"] as? String ?? "") -> \(e["destination"] as? String ?? "")"
            let want = try #require(counts[key], "\(key)")
            for field in ["forwarded", "dropped", "audit", "other", "replies"] {
                #expect(e[field] as? Int == want[field], "\(key) \(field)")
            }
            // The policy folder restricts egress only: shop's workloads are not covered; other destinations unknown.
            let dst = e["destination"] as? String ?? ""
            if dst.hasPrefix("workload:shop/") { #expect(e["covered"] as? Bool == false, "\(key)") } else { #expect(e["covered"] is NSNull, "\(key)") }
        }
        #expect(map["flows"] as? Int == expected["flows"] as? Int && map["reply_flows"] as? Int == expected["reply_flows"] as? Int)
        // No pod names or pod-template-hash values among the nodes.
        let ids = (map["nodes"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(ids.count == 60 + 4 + 4 && !ids.contains { $0.contains("7d9f8c6b5") })

        let png = try Data(contentsOf: URL(fileURLWithPath: s.dir + "/out/charts/shop-map.png"))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let svg = try String(contentsOfFile: s.dir + "/out/charts/shop-map.svg", encoding: .utf8)
        let html = try String(contentsOfFile: s.dir + "/out/report.html", encoding: .utf8)
        // The file starts with the XML declaration; the page inlines the same <svg> once.
        let inline = String(try #require(svg.range(of: "<svg").map { svg[$0.lowerBound...] }).prefix(2000))
        #expect(html.components(separatedBy: inline).count == 2)
        let md = try String(contentsOfFile: s.dir + "/out/report.md", encoding: .utf8)
        #expect(md.contains("](charts/shop-map.png)"))
    }

    @Test("The same flows twice, and the same flows in reverse order, give byte-identical map PNG and SVG")
    func deterministic() throws {
        let s = try Self.setUp(peers: 40)
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        var outputs: [(Data, Data)] = []
        for pass in 0..<3 {
            if pass == 2 {
                let lines = try String(contentsOfFile: s.flows, encoding: .utf8).split(separator: "\n")
                try (lines.reversed().joined(separator: "\n") + "\n").write(toFile: s.flows, atomically: true, encoding: .utf8)
            }
            let out = s.dir + "/out\(pass)"
            let r = try report(["--config", s.config, "--output", out, "--format", "html"])
            #expect(r.code == 0, "\(r.stderr)")
            outputs.append((try Data(contentsOf: URL(fileURLWithPath: out + "/charts/shop-map.png")),
                            try Data(contentsOf: URL(fileURLWithPath: out + "/charts/shop-map.svg"))))
        }
        #expect(outputs[0].0 == outputs[1].0 && outputs[0].1 == outputs[1].1)
        #expect(outputs[0].0 == outputs[2].0 && outputs[0].1 == outputs[2].1)
    }
}
