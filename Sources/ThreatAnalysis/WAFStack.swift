import Foundation
import ThreatModel

/// The stack the WAF runs in, as the source saw it (the engine of the rule matches, the
/// access-log format), so guidance names the knob of that stack and never ingress-nginx's
/// ConfigMap when the input is not ingress-nginx.
enum WAFStack: Equatable {
    /// ingress-nginx (its access format, an ingress namespace, or a source that cannot tell:
    /// engine answers, recordings).
    case ingressNginx
    /// coraza-proxy-wasm in Envoy Gateway (an EnvoyExtensionPolicy).
    case corazaEnvoyGateway
    /// coraza-proxy-wasm in Istio (a WasmPlugin).
    case corazaIstio
    /// coraza-spoa behind HAProxy.
    case corazaHAProxy
    /// The Coraza plugin of Traefik or Caddy, or Coraza seen without its proxy.
    case corazaOther
    /// libmodsecurity 3 in plain NGINX (ModSecurity-nginx).
    case nginx
    /// ModSecurity 2 in Apache.
    case apache

    init(_ waf: WAFStatistics) {
        let engine = waf.wafEngine ?? waf.auditLogFormat ?? ""
        let access = waf.accessLogFormat ?? ""
        if engine.hasPrefix("Coraza") {
            if access.hasPrefix("istio") {
                self = .corazaIstio
            } else if access.hasPrefix("envoy") {
                self = .corazaEnvoyGateway
            } else if access.hasPrefix("haproxy") {
                self = .corazaHAProxy
            } else {
                self = .corazaOther
            }
        } else if engine.hasPrefix("ModSecurity 2") || engine.hasPrefix("ModSecurity v2") {
            self = .apache
        } else if access.hasPrefix("ingress-nginx") || waf.ingressNamespace != nil || (access.isEmpty && (waf.wafEngine == nil || waf.wafEngine == "ModSecurity v3")) {
            self = .ingressNginx
        } else {
            self = .nginx
        }
    }

    /// Where `SecRuleEngine On` goes.
    var blockingKnob: String {
        switch self {
        case .ingressNginx:
            "set `SecRuleEngine On` (ingress-nginx: `kubectl -n ingress-nginx edit configmap ingress-nginx-controller`, key modsecurity-snippet)"
        case .corazaEnvoyGateway:
            "put `SecRuleEngine On` in the Coraza `directives` of the EnvoyExtensionPolicy's Wasm config (the coraza-proxy-wasm `directives_map`), and `kubectl apply` it"
        case .corazaIstio:
            "put `SecRuleEngine On` in the WasmPlugin's `pluginConfig.directives_map` (coraza-proxy-wasm), and `kubectl apply` it"
        case .corazaHAProxy:
            "set `SecRuleEngine On` in the coraza-spoa configuration (the application's `directives`), and restart coraza-spoa"
        case .corazaOther:
            "set `SecRuleEngine On` in the Coraza `directives` of the plugin's configuration (Traefik middleware or Caddy `coraza_waf` block), and reload"
        case .nginx:
            "add `modsecurity_rules 'SecRuleEngine On';` to the server block (or set it in the file `modsecurity_rules_file` names), then `nginx -s reload`"
        case .apache:
            "set `SecRuleEngine On` in the ModSecurity configuration (e.g. /etc/modsecurity/modsecurity.conf), then reload Apache"
        }
    }

    /// The `waf.blocking_disabled` guidance: exclusions first, then blocking, in this stack's terms.
    var detectionOnlyAdvice: String {
        let engine = [.corazaEnvoyGateway, .corazaIstio, .corazaHAProxy, .corazaOther].contains(self) ? "Coraza" : "ModSecurity"
        let exclusions = self == .ingressNginx ? "" : " (\(exclusionKnob))"
        return "\(engine) runs with SecRuleEngine DetectionOnly, so it logs attacks and blocks none. Once the rules "
            + "that fire on legitimate traffic have exclusions\(exclusions), switch to blocking: \(blockingKnob), then check "
            + "that blocked requests appear with `threat-report report --window 1d`."
    }

    /// How to exclude a rule that fires on legitimate traffic, for this stack.
    var exclusionKnob: String {
        switch self {
        case .ingressNginx: "`SecRuleRemoveById` in the modsecurity-snippet"
        case .corazaEnvoyGateway, .corazaIstio, .corazaOther: "`SecRuleRemoveById` in the Coraza `directives`"
        case .corazaHAProxy: "`SecRuleRemoveById` in the coraza-spoa `directives`"
        case .nginx: "`modsecurity_rules 'SecRuleRemoveById ID';` in the server block"
        case .apache: "`SecRuleRemoveById` after the CRS include"
        }
    }

    /// How this stack takes the client from the proxy in front (X-Forwarded-For) when the address
    /// the WAF logs is the proxy's own private one.
    var realClientKnob: String {
        switch self {
        case .ingressNginx:
            "configure `set_real_ip_from` and `real_ip_header`"
        case .corazaEnvoyGateway:
            "trust the proxy's X-Forwarded-For in a ClientTrafficPolicy on the Gateway (`clientIPDetection: {xForwardedFor: {numTrustedHops: N}}`; Envoy's `xff_num_trusted_hops`)"
        case .corazaIstio:
            "set `numTrustedProxies` in the mesh config's `gatewayTopology` (or the ingress gateway's `proxy.istio.io/config` annotation)"
        case .corazaHAProxy:
            "have the proxy in front add the client (`option forwardfor`) and take it in this HAProxy with `http-request set-src hdr(x-forwarded-for) if { src PROXY_CIDR }`"
        case .corazaOther:
            "trust the proxy's X-Forwarded-For (Traefik: `forwardedHeaders.trustedIPs` on the entry point; Caddy: `trusted_proxies` in the `servers` options)"
        case .nginx:
            "configure NGINX's realip module (`set_real_ip_from PROXY_CIDR;` and `real_ip_header X-Forwarded-For;` in the server block)"
        case .apache:
            "configure mod_remoteip (`RemoteIPHeader X-Forwarded-For` and `RemoteIPTrustedProxy PROXY_CIDR`)"
        }
    }

    /// How to deny one client address at this stack's edge.
    func denyClient(_ cidr: String, namespace: String) -> String {
        switch self {
        case .ingressNginx:
            "deny it at the ingress: `kubectl -n \(namespace) annotate ingress INGRESS nginx.ingress.kubernetes.io/denylist-source-range=\(cidr) --overwrite`"
        case .corazaEnvoyGateway:
            "deny it at the Gateway: a SecurityPolicy with `authorization: {defaultAction: Allow, rules: [{action: Deny, principal: {clientCIDRs: [\(cidr)]}}]}` targeting the HTTPRoute"
        case .corazaIstio:
            "deny it at the ingress gateway: an AuthorizationPolicy with `action: DENY` and `from: [{source: {remoteIpBlocks: [\(cidr)]}}]`"
        case .corazaHAProxy:
            "deny it in HAProxy: `http-request deny if { src \(cidr) }` in the frontend"
        case .corazaOther:
            "deny it at the proxy in front (Traefik: an `ipAllowList` middleware that leaves it out; Caddy: a `remote_ip \(cidr)` matcher that responds 403)"
        case .nginx:
            "deny it in NGINX: `deny \(cidr);` in the server block, then `nginx -s reload`"
        case .apache:
            "deny it in Apache: `Require not ip \(cidr)` in a `<RequireAll>` block"
        }
    }
}
