import Foundation
import Testing
import ThreatAnalysis
import ThreatModel
import ThreatPolicy
import ThreatRender
import ThreatSources

/// Issue 5 part 5: the policy section of report.json, HTML and Markdown, and the six policy
/// findings with their catalog entries, from real manifests through the loader.
@Suite("Policy report section and findings")
struct PolicyReportSectionTests {
    static let manifests = """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata:
          name: web-public
          namespace: shop
        spec:
          endpointSelector:
            matchLabels: {app: web}
          ingress:
          - fromEntities: [world]
        ---
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: default-deny-ingress
          namespace: shop
        spec:
          podSelector: {}
          ingress: []
        ---
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata:
          name: drop-outbound
          namespace: shop
        spec:
          endpointSelector:
            matchLabels:
              network-policy.gitlab.com/disabled_by: gitlab
          egress:
          - {}
        ---
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata:
          name: broken
          namespace: shop
        spec:
          endpointSelector: {}
          ingress:
          - fromCIDR: [300.1.2.3/8]

        """

    static let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)

    static func flows(_ total: Int) -> Section<FlowStatistics> {
        .ok(FlowStatistics(counts: FlowCounts(forwarded: total - 10, dropped: 10), inbound: FlowCounts(forwarded: 0, dropped: 0),
                           outbound: FlowCounts(forwarded: 0, dropped: 0)))
    }

    static func report() -> Report {
        let set = PolicySet(items: PolicyDocumentLoader.loadDetailed(text: manifests, origin: "shop/policies.yaml", namespace: "shop").items)
        let shop = EnvironmentReport(name: "production", namespace: "shop", thresholds: .defaults, waf: .notConfigured,
                                     flows: flows(500), policies: .ok(set))
        let bare = EnvironmentReport(name: "staging", namespace: "shop-staging", thresholds: .defaults, waf: .notConfigured,
                                     flows: flows(300), policies: .ok(PolicySet(items: [])))
        let findings = PolicyFindings.findings(for: shop) + PolicyFindings.findings(for: bare)
        return Report(title: "t", toolVersion: "t", generatedAt: window.to, window: window, timezone: "UTC",
                      environments: [shop, bare], findings: findings)
    }

    static func render(_ r: any ReportRenderer) throws -> String {
        let report = report()
        let files = try r.render(RenderContext(report: report, charts: try ReportCharts.build(report), templates: .defaults, checks: Checks.descriptions))
        return String(decoding: files[0].bytes, as: UTF8.self)
    }

    @Test("Every policy finding fires from real manifests, is in the check catalog, and its guidance names a command")
    func findingsAndCatalog() throws {
        let report = Self.report()
        let production = report.findings.filter { $0.environment == "production" }
        #expect(Set(production.map(\.id)) == ["policies.invalid", "policies.disabled", "policies.world_ingress",
                                              "policies.egress_open", "policies.unsupported_in_rule_mode"])
        #expect(report.findings.filter { $0.environment == "staging" }.map(\.id) == ["policies.none"])
        #expect(production.first { $0.id == "policies.invalid" }?.guidance.contains("shop/policies.yaml:") == true)
        #expect(production.first { $0.id == "policies.world_ingress" }?.subject == "web-public")
        #expect(production.first { $0.id == "policies.disabled" }?.subject == "drop-outbound")
        let catalog = Dictionary(uniqueKeysWithValues: Checks.descriptions.map { ($0.id, $0) })
        for f in report.findings {
            let check = try #require(catalog[f.id], "\(f.id) is not in the check catalog")
            #expect(check.section == "policies")
            #expect(check.help.contains("`threat-report policy") || check.help.contains("`kubectl"), "\(f.id): \(check.help)")
            #expect(f.guidance.contains("`threat-report policy"), "\(f.id): \(f.guidance)")
        }
        #expect(catalog["policies.unsupported_in_rule_mode"]?.defaultSeverity == .info)
    }

    @Test("report.json: per policy enabled, rule counts, the traits behind the findings and the YAML; predefined policies not deployed")
    func json() throws {
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(try Self.render(JSONRenderer()).utf8)) as? [String: Any])
        let envs = try #require(doc["environments"] as? [[String: Any]])
        let policies = try #require(envs[0]["policies"] as? [String: Any])
        let items = try #require(policies["items"] as? [[String: Any]])
        #expect(items.compactMap { $0["name"] as? String } == ["web-public", "default-deny-ingress", "drop-outbound", "broken"])
        func traits(_ i: Int) -> [String: Any] { items[i]["traits"] as? [String: Any] ?? [:] }
        let world = try #require(traits(0)["world_ingress"] as? [[String: Any]])
        #expect(world.count == 1 && world[0]["peer"] as? String == "entity world" && world[0]["any_port"] as? Bool == true)
        #expect(traits(0)["egress_open"] as? Bool == true && traits(0)["outside_rule_mode"] as? [String] == [])
        #expect((traits(1)["world_ingress"] as? [Any])?.isEmpty == true && traits(1)["restricts_ingress"] as? Bool == true)
        #expect((traits(1)["outside_rule_mode"] as? [String])?.isEmpty == false, "NetworkPolicy is YAML-only in GitLab's editor")
        #expect(items[2]["enabled"] as? Bool == false && traits(2)["restricts_egress"] as? Bool == true)
        #expect(items[3]["valid"] as? Bool == false && traits(3)["world_ingress"] is NSNull)
        #expect((items[0]["rules"] as? [String: Any])?["ingress"] as? Int == 1)
        #expect((items[0]["manifest"] as? String)?.contains("fromEntities: [world]") == true)
        // drop-outbound is deployed (disabled), so only allow-inbound-http is listed as not deployed.
        let missing = try #require(policies["predefined_not_deployed"] as? [[String: Any]])
        #expect(missing.compactMap { $0["name"] as? String } == ["allow-inbound-http"])
        #expect(missing[0]["status"] as? String == "predefined, not deployed" && missing[0]["enabled"] as? Bool == false)
        let staging = try #require((envs[1]["policies"] as? [String: Any])?["predefined_not_deployed"] as? [[String: Any]])
        #expect(staging.compactMap { $0["name"] as? String } == ["drop-outbound", "allow-inbound-http"])
    }

    @Test("HTML: the table with enabled and traits, a predefined-not-deployed row, the explanation and YAML in <details>")
    func html() throws {
        let html = try Self.render(HTMLRenderer())
        #expect(html.contains("<th>Kind</th><th>Name</th><th>Status</th><th>Enabled</th><th>Rules</th><th>Traits</th>"))
        #expect(html.contains("<td><code>web-public</code></td><td><span class=\"badge ok\">Enforced</span></td><td>yes</td><td>1 in / 0 out</td><td>world ingress on every port; egress open</td>"))
        #expect(html.contains("<code>allow-inbound-http</code> <span class=\"meta\">(predefined)</span></td><td><span class=\"badge info\">Predefined, not deployed</span></td><td>no</td>"))
        // Each policy's explanation and manifest sit inside its own <details> block, open so that the
        // explanation shows (and prints); the manifest in a closed <details> inside it.
        #expect(html.components(separatedBy: "<details class=\"policy\" open>").count - 1 == 4)
        let blocks = html.components(separatedBy: "<details class=\"policy\"").dropFirst().map { $0.components(separatedBy: "</details>\n</details>")[0] }
        let web = try #require(blocks.first { $0.contains("<code>web-public</code>") })
        #expect(web.contains("<p>Pods with app=web in shop accept inbound traffic on any port from the entity world (anything outside the cluster); all other inbound traffic to them is denied.</p><p>Outbound traffic is not restricted by this policy.</p>"))
        #expect(web.contains("<p class=\"meta\">Traits: world ingress on every port; egress open</p>"))
        #expect(web.contains("<details class=\"manifest\"><summary>Manifest (shop/policies.yaml:1)</summary><pre>apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: web-public"))
        let predefined = try #require(blocks.first { $0.contains("<code>allow-inbound-http</code>") })
        #expect(predefined.contains("accept inbound TCP/80 and TCP/443 from anywhere") && predefined.contains("port: &quot;443&quot;"))
        let broken = try #require(blocks.first { $0.contains("<code>broken</code>") })
        #expect(broken.contains("class=\"unavailable\">shop/policies.yaml:"))
    }

    @Test("Markdown: enabled and traits columns, and the predefined policies not deployed")
    func markdown() throws {
        let md = try Self.render(MarkdownRenderer())
        #expect(md.contains("| Kind | Name | Status | Enabled | Rules | Traits | What it does |"))
        #expect(md.contains("| CiliumNetworkPolicy | drop-outbound | Disabled | no | 0 in / 1 out |"))
        #expect(md.contains("| CiliumNetworkPolicy | allow-inbound-http | Predefined, not deployed | no | 1 in / 0 out |"))
        #expect(md.contains("| CiliumNetworkPolicy | web-public | Enforced | yes | 1 in / 0 out | world ingress on every port; egress open |"))
    }
}
