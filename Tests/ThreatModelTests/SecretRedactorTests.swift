import Foundation
import Testing
@testable import ThreatModel

@Suite("Secret redactor: every registered secret, in every encoding, becomes [REDACTED]")
struct SecretRedactorTests {
    static let secret = "tr/unit+canary=7Ab3 ü😀"

    func redactor(_ secrets: String...) -> SecretRedactor {
        let r = SecretRedactor()
        for s in secrets { r.register(s) }
        return r
    }

    @Test("Raw, base64 (standard, URL-safe, padded or not) and the secret at each alignment inside a longer base64 text")
    func rawAndBase64() {
        let r = redactor(Self.secret)
        let b64 = Data(Self.secret.utf8).base64EncodedString()
        let url = b64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        for form in [Self.secret, b64, b64.trimmingCharacters(in: ["="]), url, url.trimmingCharacters(in: ["="])] {
            #expect(r.redact("a \(form) b") == "a [REDACTED] b", "\(form)")
        }
        for prefix in ["", "x", "xy", "xyz"] {
            let embedded = Data((prefix + Self.secret + "tail").utf8).base64EncodedString()
            let out = r.redact(embedded)
            #expect(out.contains("[REDACTED]"), "alignment \(prefix.count): \(out)")
            #expect(out.count < embedded.count - 20, "alignment \(prefix.count): most of it replaced: \(out)")
        }
    }

    @Test("Percent-encoded (either hex case, + for a space) and JSON-escaped (\\/, \\u00XX, surrogate pairs), mixed")
    func percentAndJSON() throws {
        let r = redactor(Self.secret)
        let pct = try #require(Self.secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics))
        let form = pct.replacingOccurrences(of: "%20", with: "+")
        let json = String(decoding: try JSONSerialization.data(withJSONObject: [Self.secret]), as: UTF8.self)
        let ascii = Self.secret.unicodeScalars.map { u -> String in
            if u.value < 0x80 { return u == "/" ? "\\/" : String(format: "\\u%04x", u.value) }
            if u.value < 0x10000 { return String(format: "\\u%04X", u.value) }
            let v = u.value - 0x10000
            return String(format: "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
        }.joined()
        let mixed = "tr\\/unit%2bcanary\\u003d7Ab3%20ü😀"
        var lower = ""
        var hex = 0
        for c in pct {
            if c == "%" { hex = 2; lower.append(c) } else if hex > 0 { hex -= 1; lower += c.lowercased() } else { lower.append(c) }
        }
        for encoded in [pct, lower, form, json, ascii, mixed] {
            #expect(r.redact("<\(encoded)>").contains("[REDACTED]"), "\(encoded)")
            #expect(!r.redact("<\(encoded)>").contains("canary"), "\(encoded)")
        }
        #expect(r.redact(bytes: Array("x\(pct)y".utf8)) == Array("x[REDACTED]y".utf8))
    }

    @Test("Length rule: under 4 bytes not registered; 4 to 7 bytes only as a whole token; 8 and more anywhere")
    func lengthRule() {
        let r = redactor("abc", "pw42", "longer-secret")
        #expect(r.redact("abc abcdef") == "abc abcdef")
        #expect(r.redact("pw42 x-pw42-y pw42z apw42") == "[REDACTED] x-[REDACTED]-y pw42z apw42")
        #expect(r.redact("xxlonger-secretyy") == "xx[REDACTED]yy")
        #expect(redactor("ab").isEmpty)
    }

    @Test("A PEM block: the whole text, its body in one piece, and each line")
    func pem() {
        let r = SecretRedactor()
        let lines = ["MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "BKcwggSjAgEAAoIBAQDFakeKeyBody12"]
        let pem = "-----BEGIN PRIVATE KEY-----\n\(lines.joined(separator: "\n"))\n-----END PRIVATE KEY-----\n"
        r.register(pem: pem)
        #expect(r.redact(pem) == "[REDACTED]")
        #expect(r.redact("k=\(lines.joined())") == "k=[REDACTED]")
        #expect(r.redact("line: \(lines[1])") == "line: [REDACTED]")
    }

    @Test("Every string of a report is redacted; keys, numbers and dates stay exact; nothing registered leaves it as it is")
    func reportStrings() throws {
        let window = TimeWindow(from: Date(timeIntervalSince1970: 1_795_046_400.123), to: Date(timeIntervalSince1970: 1_795_132_800), interval: .hour)
        var waf = WAFStatistics(totalRequests: Int(1 << 60), anomalousRequests: 3, totalHistory: [], anomalousHistory: [],
                                topRules: [], topClients: [], topURIs: [RankedCount(key: "/x?t=tr-report-canary-1", count: 9)], engineModes: [])
        waf.blockedRequests = 2
        let env = EnvironmentReport(name: "prod", namespace: "shop", thresholds: .defaults, waf: .ok(waf),
                                    flows: .unavailable("401: Bearer tr-report-canary-1"), policies: .notConfigured)
        let report = Report(title: "t", toolVersion: "1", generatedAt: window.to, window: window, timezone: "UTC",
                            environments: [env], findings: [Finding(id: "a", severity: .info, environment: "prod", title: "x",
                                                                    value: .infinity, threshold: 0.1, guidance: "g")])
        #expect(try SecretRedactor().redactStrings(report) == report)
        let out = try redactor("tr-report-canary-1").redactStrings(report)
        #expect(out.environments[0].flows.error == "401: Bearer [REDACTED]")
        #expect(out.environments[0].waf.value?.topURIs[0].key == "/x?t=[REDACTED]")
        var expected = report
        expected.environments[0].flows.error = "401: Bearer [REDACTED]"
        expected.environments[0].waf.value?.topURIs[0].key = "/x?t=[REDACTED]"
        #expect(out == expected)
    }
}
