import Foundation
import Testing
import ThreatAnalysis
import ThreatModel

/// Guidance names the knob of the stack the WAF runs in (seen from the engine of the matches and
/// the access-log format), never ingress-nginx's ConfigMap or annotation when the input is not
/// ingress-nginx.
@Suite("WAF guidance follows the stack")
struct WAFStackGuidanceTests {
    func findings(engine: String?, access: String?, errorLog: Bool = false, audit: String? = nil) -> [Finding] {
        var w = WAFStatistics(totalRequests: 1000, anomalousRequests: 100, topClients: [RankedCount(key: "203.0.113.45", count: 90)],
                              engineModes: [RankedCount(key: "DetectionOnly", count: 100)])
        w.categories = [RankedCount(key: "sqli", count: 100, label: "SQL injection")]
        w.criticalAttackRequests = 40
        w.wafEngine = engine
        w.accessLogFormat = access
        w.auditLogFormat = audit
        if errorLog { w.errorLogFormat = "error log (\(engine ?? "")), grouped by unique_id" }
        let env = EnvironmentReport(name: "gateway", namespace: "shop", thresholds: .defaults, waf: .ok(w),
                                    flows: .notConfigured, policies: .notConfigured)
        return FindingAnalyzer.findings(for: env, window: window)
    }

    func guidance(_ f: [Finding], _ id: String) throws -> String { try #require(f.first { $0.id == id }).guidance }

    @Test("Coraza in Envoy Gateway: directives of the EnvoyExtensionPolicy, a SecurityPolicy deny, grep on the error log")
    func envoyGateway() throws {
        let f = findings(engine: "Coraza", access: "envoy-json", errorLog: true)
        let blocking = try guidance(f, "waf.blocking_disabled")
        #expect(blocking.contains("EnvoyExtensionPolicy") && blocking.contains("SecRuleRemoveById") && blocking.hasPrefix("Coraza runs"))
        #expect(!blocking.contains("configmap") && !blocking.contains("modsecurity-snippet"))
        let burst = try guidance(f, "waf.attack_burst")
        #expect(burst.contains("SecurityPolicy") && burst.contains("203.0.113.45/32") && !burst.contains("denylist-source-range"))
        #expect(burst.contains("grep -F '203.0.113.45' error.log"))
    }

    @Test("Coraza in Istio: the WasmPlugin; an AuthorizationPolicy denies the client")
    func istio() throws {
        let f = findings(engine: "Coraza", access: "istio", errorLog: true)
        #expect(try guidance(f, "waf.blocking_disabled").contains("WasmPlugin"))
        #expect(try guidance(f, "waf.attack_burst").contains("AuthorizationPolicy"))
    }

    @Test("coraza-spoa behind HAProxy: its configuration; http-request deny")
    func haproxy() throws {
        let f = findings(engine: "Coraza", access: "haproxy", errorLog: true)
        #expect(try guidance(f, "waf.blocking_disabled").contains("coraza-spoa"))
        #expect(try guidance(f, "waf.attack_burst").contains("http-request deny if { src 203.0.113.45/32 }"))
    }

    @Test("ModSecurity v3 in plain NGINX (error log, or a main access log): modsecurity_rules and deny in the server block")
    func nginx() throws {
        for f in [findings(engine: "ModSecurity v3 (NGINX)", access: "haproxy", errorLog: true),
                  findings(engine: nil, access: "main", audit: "ModSecurity v3")] {
            let blocking = try guidance(f, "waf.blocking_disabled")
            #expect(blocking.contains("modsecurity_rules 'SecRuleEngine On';") && !blocking.contains("configmap"))
            #expect(try guidance(f, "waf.attack_burst").contains("deny 203.0.113.45/32;"))
        }
    }

    @Test("ingress-nginx (its access format, or a source that cannot tell) keeps the ConfigMap and the annotation")
    func ingress() throws {
        for f in [findings(engine: nil, access: "ingress-nginx", audit: "ModSecurity v3"), findings(engine: nil, access: nil)] {
            #expect(try guidance(f, "waf.blocking_disabled").contains("configmap ingress-nginx-controller"))
            #expect(try guidance(f, "waf.attack_burst").contains("denylist-source-range=203.0.113.45/32"))
        }
    }

    @Test("A private client address: each stack's real-client knob (Envoy Gateway clientIPDetection, Istio numTrustedProxies, HAProxy set-src, Traefik trustedIPs, NGINX realip, Apache mod_remoteip, ingress-nginx set_real_ip_from)")
    func privateClientKnobPerStack() throws {
        func burst(engine: String?, access: String?, errorLog: Bool = false, audit: String? = nil) throws -> String {
            var w = WAFStatistics(totalRequests: 1000, anomalousRequests: 100, topClients: [RankedCount(key: "10.0.3.7", count: 90)])
            w.wafEngine = engine
            w.accessLogFormat = access
            w.auditLogFormat = audit
            if errorLog { w.errorLogFormat = "error log (\(engine ?? "")), grouped by unique_id" }
            let env = EnvironmentReport(name: "gateway", namespace: "shop", thresholds: .defaults, waf: .ok(w),
                                        flows: .notConfigured, policies: .notConfigured)
            let f = try #require(FindingAnalyzer.findings(for: env, window: window).first { $0.id == "waf.attack_burst" })
            #expect(f.title.contains("a private or loopback address"))
            return f.guidance
        }
        let cases: [(String?, String?, Bool, String?, String)] = [
            ("Coraza", "envoy-json", true, nil, "ClientTrafficPolicy on the Gateway (`clientIPDetection: {xForwardedFor: {numTrustedHops: N}}`; Envoy's `xff_num_trusted_hops`)"),
            ("Coraza", "istio", true, nil, "`numTrustedProxies`"),
            ("Coraza", "haproxy", true, nil, "`option forwardfor`) and take it in this HAProxy with `http-request set-src hdr(x-forwarded-for)"),
            ("Coraza", "traefik-json", true, nil, "Traefik: `forwardedHeaders.trustedIPs`"),
            ("ModSecurity v3 (NGINX)", "main", true, nil, "realip module (`set_real_ip_from PROXY_CIDR;` and `real_ip_header X-Forwarded-For;`"),
            ("ModSecurity 2 (Apache)", nil, false, "ModSecurity native", "mod_remoteip (`RemoteIPHeader X-Forwarded-For`"),
            (nil, "ingress-nginx", false, "ModSecurity v3", "configure `set_real_ip_from` and `real_ip_header` so the WAF sees the real client"),
        ]
        let knobs = ["clientIPDetection", "numTrustedProxies", "set-src", "trustedIPs", "realip module", "mod_remoteip", "configure `set_real_ip_from`"]
        for (k, c) in cases.enumerated() {
            let g = try burst(engine: c.0, access: c.1, errorLog: c.2, audit: c.3)
            #expect(g.contains(c.4), "\(c.0 ?? "-") \(c.1 ?? "-"): \(g)")
            // No other stack's knob.
            for (j, other) in knobs.enumerated() where j != k { #expect(!g.contains(other), "\(c.1 ?? "-") names \(other): \(g)") }
        }
    }
}
