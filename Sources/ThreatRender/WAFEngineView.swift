import Foundation
import ThreatModel

/// The WAF section's line about what was read: the engine and Core Rule Set version seen in the
/// matches, how error-log lines were grouped, and the access-log format. Nil when the source
/// says none of these (engines answer only counts).
enum WAFEngineView {
    static func line(_ w: WAFStatistics) -> String? {
        var parts: [String] = []
        if let e = w.wafEngine { parts.append("Engine: \(Sanitize.text(e, max: 80))") }
        if let v = w.crsVersion { parts.append("OWASP CRS \(Sanitize.text(v, max: 40))") }
        if let f = w.errorLogFormat { parts.append("matches from the \(Sanitize.text(f, max: 120))") }
        if let a = w.accessLogFormat, !parts.isEmpty || AccessFormatNames.gateway.contains(where: a.hasPrefix) {
            parts.append("access log: \(Sanitize.text(a, max: 80))")
        }
        return parts.isEmpty ? nil : parts.joined(separator: " · ")
    }
}

/// The access-log presets of proxies beside NGINX.
enum AccessFormatNames {
    static let gateway = ["envoy", "istio", "haproxy", "traefik"]
}
