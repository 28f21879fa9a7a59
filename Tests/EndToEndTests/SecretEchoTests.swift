import Foundation
import Testing

/// Servers that echo the request's credentials (as Elasticsearch `security_exception` reasons,
/// proxies and API gateways do), and kubeconfigs whose parse errors would quote a secret: every
/// byte the run writes is searched for every encoding of every canary.
@Suite("Secrets that come back: echoed credentials and parser errors never leave the process")
struct SecretEchoTests {
    // Canaries with "/", "+" and "=": their raw, base64, percent-encoded and JSON-escaped forms differ.
    static let esKey = "tr3chO/es+apikey=9f2c41d7"
    static let basicPassword = "tr3chO/basic+pw=5e7a90c3"
    static let basicPair = "reader:" + basicPassword
    static let promToken = "tr3chO/prom+bearer=0b6d24e8"
    static let kubeToken = "tr3chO/kube+token=c81f3a57"

    /// The forms a canary is searched in: raw, base64 (standard and URL-safe, with and without
    /// padding), percent-encoded (upper- and lower-case hex) and JSON-escaped (`\/` and `\u00XX`).
    static func encodings(_ s: String) -> [(name: String, text: String)] {
        let b64 = Data(s.utf8).base64EncodedString()
        let url = b64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        let pct = s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
        var lowerPct = ""
        var hex = 0
        for c in pct {
            if c == "%" { hex = 2; lowerPct.append(c) } else if hex > 0 { hex -= 1; lowerPct += c.lowercased() } else { lowerPct.append(c) }
        }
        func json(_ slash: String) -> String {
            s.unicodeScalars.map { u in
                if u.properties.isAlphabetic && u.isASCII || ("0"..."9").contains(Character(u)) { return String(u) }
                if u == "/" { return slash }
                if u == "\n" { return "\\n" }
                return String(format: "\\u%04x", u.value)
            }.joined()
        }
        return [("raw", s), ("base64", b64), ("base64 unpadded", b64.trimmingCharacters(in: ["="])),
                ("base64url", url), ("base64url unpadded", url.trimmingCharacters(in: ["="])),
                ("percent-encoded", pct), ("percent-encoded lowercase", lowerPct),
                ("JSON-escaped \\/", json("\\/")), ("JSON-escaped \\u002f", json("\\u002f"))]
    }

    /// Every (canary, encoding, needle); and each raw canary's halves (a secret cut in two when
    /// an answer is quoted up to a length).
    static func needles(pem: String) -> [(label: String, needle: String)] {
        let pemBody = pem.split(separator: "\n").filter { !$0.hasPrefix("-----") }.map(String.init)
        let canaries = [("ES API key", esKey), ("ES basic password", basicPassword), ("ES basic user:password", basicPair),
                        ("Prometheus bearer token", promToken), ("Kubernetes token", kubeToken),
                        ("client-key PEM", pem), ("client-key PEM body", pemBody.joined()), ("client-key PEM line 2", pemBody[1])]
        var out: [(String, String)] = []
        for (name, value) in canaries {
            for e in encodings(value) { out.append(("\(name) (\(e.name))", e.text)) }
        }
        for (name, value) in canaries.prefix(5) {
            out.append(("\(name) (first half)", String(value.prefix(value.count / 2))))
            out.append(("\(name) (second half)", String(value.suffix(value.count / 2))))
        }
        return out
    }

    /// stdout, stderr, every file under `dirs`, and the text pdftotext extracts from each PDF.
    static func outputs(_ r: Run, dirs: [String]) throws -> [(name: String, bytes: Data)] {
        var blobs: [(String, Data)] = [("stdout", Data(r.stdout.utf8)), ("stderr", Data(r.stderr.utf8))]
        for d in dirs {
            for rel in (FileManager.default.enumerator(atPath: d)?.allObjects as? [String] ?? []).sorted() {
                let path = d + "/" + rel
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else { continue }
                blobs.append((path, try Data(contentsOf: URL(fileURLWithPath: path))))
                if path.hasSuffix(".pdf") {
                    let text = try run("/usr/bin/env", ["pdftotext", path, "-"])
                    try #require(text.code == 0, "pdftotext \(path): \(text.stderr)")
                    blobs.append((path + " (pdftotext)", Data(text.stdout.utf8)))
                }
            }
        }
        return blobs
    }

    /// Records an issue for every needle found anywhere; returns how many (output, needle) pairs were searched.
    @discardableResult
    static func assertClean(_ blobs: [(name: String, bytes: Data)], _ needles: [(label: String, needle: String)], _ label: String) -> Int {
        for (name, data) in blobs {
            for n in needles where data.range(of: Data(n.needle.utf8)) != nil {
                Issue.record("\(label): \(name) holds the \(n.label)")
            }
        }
        return blobs.count * needles.count
    }

    /// What the echoing server puts in a body: the credential in every form it may come back in.
    static let echoed = "credentials [{auth}] json={auth_json} url={auth_url} b64={auth_b64} b64url={auth_b64url} "
        + "decoded={decoded} decoded_json={decoded_json} decoded_url={decoded_url} decoded_b64={decoded_b64} cred_b64url={cred_b64url}"
    static let echoHeaders = ["Content-Type": "application/json", "X-Echo": "{auth}", "WWW-Authenticate": "{cred} {decoded}"]

    /// The echoing answer for `status` (every path), or nil for 200 (the echo is inside healthy answers).
    static func fault(_ status: Int) -> ReplayServer.Fault? {
        switch status {
        case 200:
            return nil
        case 401:
            let reason = "unable to authenticate with provided " + echoed
            return .init(response: .init(status: 401, body: #"{"error":{"root_cause":[{"type":"security_exception","reason":"\#(reason)"}],"type":"security_exception","reason":"\#(reason)"},"status":401,"kind":"Status","message":"\#(reason)"}"#,
                                         echo: true, headers: echoHeaders))
        case 500:
            // The credential starts 288 bytes in: an error quoting the first 300 bytes cuts it in two.
            let body = "upstream proxy error " + String(repeating: ".", count: 259) + " {auth} " + echoed
            return .init(response: .init(status: 500, body: body, echo: true, headers: echoHeaders.merging(["Content-Type": "text/plain"]) { $1 }))
        default:
            var headers = echoHeaders
            headers["Location"] = "https://reader:{cred_url}@login.example/sso?token={cred_url}&next={auth_url}"
            return .init(response: .init(status: status, body: "moved: {auth}", echo: true, headers: headers))
        }
    }

    /// Healthy answers of the three engines, each carrying the echo in a field that reaches the report.
    static func answeringRoutes() throws -> [ReplayServer.Route] {
        let es = try String(contentsOfFile: repo + "/samples/production/waf/msearch.json", encoding: .utf8)
            .replacingOccurrences(of: #""/.env""#, with: "\"/.env?" + echoed + "\"")
        let prom = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"verdict":"FORWARDED"},"value":[1795132800,"100"]},{"metric":{"verdict":"DROPPED","reason":"\#(echoed)"},"value":[1795132800,"7"]}]}}"#
        let cnp = #"{"kind":"CiliumNetworkPolicyList","apiVersion":"cilium.io/v2","metadata":{"resourceVersion":"9"},"items":[{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"web","namespace":"shop","annotations":{"note":"\#(echoed)"}},"spec":{"endpointSelector":{"matchLabels":{"app":"web"}},"ingress":[{"fromEntities":["world"]}]}}]}"#
        func r(_ body: String) -> [ReplayServer.Response] { [.init(body: body, echo: true, headers: echoHeaders)] }
        let caps = try String(contentsOfFile: repo + "/samples/production/waf/field_caps.json", encoding: .utf8)
        let mapping = try String(contentsOfFile: repo + "/samples/production/waf/uri_mapping.json", encoding: .utf8)
        return [.fieldCaps(responses: r(caps)), .uriMapping(responses: r(mapping)),
                .init(method: "POST", path: "/es/_msearch", responses: r(es)),
                .init(path: "/api/v1/query", responses: r(prom)), .init(path: "/api/v1/query_range", responses: r(prom)),
                .init(path: "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies", responses: r(cnp)),
                .init(path: "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", responses: r(FaultEngine.k8sList("CiliumClusterwideNetworkPolicyList", []))),
                .init(path: "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies", responses: r(FaultEngine.k8sList("NetworkPolicyList", ["default-deny"])))]
    }

    static func config(_ dir: String, pki: TestPKI, url: String) throws -> (config: String, env: [String: String]) {
        try "\(basicPassword)\n".write(toFile: dir + "/es-password", atomically: true, encoding: .utf8)
        try writeKubeconfig(dir + "/kubeconfig", server: url, caFile: pki.ca, user: try kubeUser(pki, token: kubeToken))
        let config = dir + "/c.yml"
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        environments:
          - name: api-key-and-bearer
            namespace: shop
            waf: { elasticsearch: { url: "\(url)/es", api_key_env: TR_ECHO_ES_KEY, ca_file: "\(pki.ca)", timeout: 5, retries: 1 } }
            flows: { prometheus: { url: "\(url)", bearer_token_env: TR_ECHO_BEARER, ca_file: "\(pki.ca)", timeout: 5, retries: 1 } }
            policies: { kubernetes: { kubeconfig: kubeconfig, timeout: 5 } }
          - name: basic-auth
            namespace: shop
            waf: { elasticsearch: { url: "\(url)/es", username: reader, password_file: es-password, ca_file: "\(pki.ca)", timeout: 5, retries: 1 } }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return (config, ["TR_ECHO_ES_KEY": esKey, "TR_ECHO_BEARER": promToken, "THREAT_REPORT_RETRY_BACKOFF": "0.05"])
    }

    @Test("Echoed in a 401, a 500, a 200 and a 302 answer and in headers, by Elasticsearch (API key, basic auth), Prometheus (bearer) and Kubernetes (token, client key): all 7 formats, the PDF's text, stderr with --verbose and --record hold none of it",
          arguments: [401, 500, 200, 302])
    func echoedCredentialsAreRedacted(status: Int) throws {
        let pki = try TestPKI(name: "echo")
        let needles = Self.needles(pem: try String(contentsOfFile: pki.clientKey, encoding: .utf8))
        let server = try ReplayServer(routes: try Self.answeringRoutes(), cert: pki.serverCert, key: pki.serverKey, fault: Self.fault(status))
        let dir = tempDir("echo")
        let (config, env) = try Self.config(dir, pki: pki, url: server.url)
        let r = try report(["--config", config, "--output", dir + "/out", "--format", "html,md,json,sarif,junit,codequality,pdf",
                            "--record", dir + "/rec", "--verbose"], env: env)
        #expect(r.code == (status == 200 ? 0 : 3), "\(status): \(r.stderr)")
        // The canaries reached the server and came back: the search below is meaningful.
        let auth = try server.requests().compactMap { ($0["headers"] as? [String: String])?["Authorization"] }
        #expect(Set(auth) == ["ApiKey \(Self.esKey)", "Bearer \(Self.promToken)", "Bearer \(Self.kubeToken)",
                              "Basic " + Data(Self.basicPair.utf8).base64EncodedString()], "\(status)")
        let reportJSON = try String(contentsOfFile: dir + "/out/report.json", encoding: .utf8)
        #expect(status == 302 || reportJSON.contains("[REDACTED]"), "\(status): the echo reached the report, redacted")
        let formats = ["report.html", "report.md", "report.json", "report.sarif", "report.junit.xml", "report.codequality.json", "report.pdf"]
        for f in formats { #expect(FileManager.default.fileExists(atPath: dir + "/out/" + f), "\(status): \(f) written") }
        #expect(FileManager.default.fileExists(atPath: dir + "/rec/recording.json"))
        if status == 302 {
            #expect(reportJSON.contains("answered HTTP 302: redirect not followed (Location: https://login.example/sso)"), "\(reportJSON)")
            #expect(!reportJSON.contains("not valid JSON"))
        }
        let blobs = try Self.outputs(r, dirs: [dir + "/out", dir + "/rec"])
        // The Elasticsearch source asks _field_caps first: a failing engine stops there, a healthy one
        // goes on to the _msearch. Either way its answers are recorded and searched.
        #expect(blobs.contains { $0.name.hasSuffix("/field_caps.json") } && blobs.contains { $0.name.hasSuffix("/source.json") })
        if status == 200 { #expect(blobs.contains { $0.name.hasSuffix("/msearch.json") }) }
        let searched = Self.assertClean(blobs, needles, "HTTP \(status)")
        print("HTTP \(status): searched \(blobs.count) outputs (\(blobs.map(\.bytes.count).reduce(0, +)) bytes) for \(needles.count) needles: \(searched) pairs")
        #expect(blobs.count >= 20 && needles.count == 82, "\(blobs.count) outputs × \(needles.count) needles")
    }

    @Test("A kubeconfig with a control byte right after the token, or after the client key, is named by file:line:column without quoting the line")
    func kubeconfigParseErrorNeverQuotesTheLine() throws {
        let pki = try TestPKI(name: "echo-kubeconfig")
        let pem = try String(contentsOfFile: pki.clientKey, encoding: .utf8)
        let dir = tempDir("echo-kubeconfig")
        try writeKubeconfig(dir + "/token-kubeconfig", server: "https://127.0.0.1:9", caFile: pki.ca,
                            user: "    token: \(Self.kubeToken)\u{1}tail")
        try writeKubeconfig(dir + "/key-kubeconfig", server: "https://127.0.0.1:9", caFile: pki.ca,
                            user: "    client-key-data: \(try pki.base64(pki.clientKey))\u{7}\n    token: \(Self.kubeToken)")
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        environments:
          - name: token
            namespace: shop
            policies: { kubernetes: { kubeconfig: token-kubeconfig, timeout: 1 } }
          - name: key
            namespace: shop
            policies: { kubernetes: { kubeconfig: key-kubeconfig, timeout: 1 } }
        """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "html,md,json,sarif,junit,codequality,pdf",
                            "--record", dir + "/rec", "--verbose"])
        #expect(r.code == 3, "\(r.stderr)")
        let json = try String(contentsOfFile: dir + "/out/report.json", encoding: .utf8)
        #expect(json.contains("token-kubeconfig:15:38: YAML syntax error: control characters are not allowed (character U+0001)"), "\(json)")
        #expect(json.contains("key-kubeconfig:15:"), "\(json)")
        let blobs = try Self.outputs(r, dirs: [dir + "/out", dir + "/rec"])
        let searched = Self.assertClean(blobs, Self.needles(pem: pem), "kubeconfig")
        print("kubeconfig: searched \(blobs.count) outputs for \(Self.needles(pem: pem).count) needles: \(searched) pairs")
    }
}
