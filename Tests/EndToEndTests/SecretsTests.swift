import Foundation
import Testing

/// Canary secrets from the environment, from files and from a kubeconfig go to every kind of
/// network source; not one byte of them may appear in anything the tool writes.
@Suite("Secrets never leave: canaries through every source, --record and --verbose")
struct SecretsTests {
    static let esKey = "tr-canary-es-apikey-3b9e1d"
    static let basicPassword = "tr-canary-basic-pw-77c2a0"
    static let bearerEnv = "tr-canary-bearer-env-5a1f4e"
    static let bearerFile = "tr-canary-bearer-file-c0ffee"
    static let kubeToken = "tr-canary-kube-token-9d8e7f"
    static let urlPassword = "tr-canary-url-pw-1e2d3c"

    /// Everything that identifies a secret, in the forms it could leak in.
    static func canaries(clientKey: String) throws -> [String] {
        let key = try String(contentsOfFile: clientKey, encoding: .utf8)
        let keyLines = key.split(separator: "\n").filter { !$0.hasPrefix("-----") }.map(String.init)
        return [esKey, basicPassword, bearerEnv, bearerFile, kubeToken, urlPassword,
                Data("reader:\(basicPassword)".utf8).base64EncodedString(),
                Data(key.utf8).base64EncodedString(), keyLines[1], keyLines[keyLines.count / 2]]
    }

    /// Every file below `dir`, recursively.
    func files(_ dir: String) -> [String] {
        (FileManager.default.enumerator(atPath: dir)?.allObjects as? [String] ?? []).map { dir + "/" + $0 }.filter {
            var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &d) && !d.boolValue
        }
    }

    func assertClean(_ r: Run, dirs: [String], canaries: [String], label: String) {
        var blobs: [(String, Data)] = [("stdout", Data(r.stdout.utf8)), ("stderr", Data(r.stderr.utf8))]
        for d in dirs { blobs += files(d).map { ($0, (try? Data(contentsOf: URL(fileURLWithPath: $0))) ?? Data()) } }
        #expect(blobs.count > 4, "\(label): there is output to search")
        for (name, data) in blobs {
            for c in canaries where data.range(of: Data(c.utf8)) != nil {
                Issue.record("\(label): \(name) contains the secret \(c.prefix(12))…")
            }
        }
    }

    func setUp(_ dir: String, pki: TestPKI, es: String, prom: String, kube: String) throws -> (config: String, env: [String: String]) {
        try "\(Self.basicPassword)\n".write(toFile: dir + "/es-password", atomically: true, encoding: .utf8)
        try "\(Self.bearerFile)\n".write(toFile: dir + "/prom-token", atomically: true, encoding: .utf8)
        try writeKubeconfig(dir + "/kubeconfig", server: kube, caFile: pki.ca, user: try kubeUser(pki, token: Self.kubeToken))
        let config = dir + "/c.yml"
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        environments:
          - name: key-and-env-token
            namespace: shop
            waf: { elasticsearch: { url: "\(es)/es", api_key_env: TR_CANARY_ES_KEY, ca_file: "\(pki.ca)", timeout: 2, retries: 1 } }
            flows: { prometheus: { url: "\(prom)", bearer_token_env: TR_CANARY_BEARER, ca_file: "\(pki.ca)", timeout: 2, retries: 1 } }
            policies: { kubernetes: { kubeconfig: kubeconfig, timeout: 2 } }
          - name: password-and-file-token
            namespace: shop
            waf: { elasticsearch: { url: "\(es)/es", username: reader, password_file: es-password, ca_file: "\(pki.ca)", timeout: 2, retries: 1 } }
            flows: { prometheus: { url: "\(prom)", bearer_token_file: prom-token, ca_file: "\(pki.ca)", timeout: 2, retries: 1 } }
        """.write(toFile: config, atomically: true, encoding: .utf8)
        return (config, ["TR_CANARY_ES_KEY": Self.esKey, "TR_CANARY_BEARER": Self.bearerEnv, "THREAT_REPORT_RETRY_BACKOFF": "0.05"])
    }

    @Test("Answering, failing (401, 500, hang, cut off, refused) and wrong-CA engines; --record and --verbose; every byte searched")
    func canariesNeverWritten() throws {
        let pki = try TestPKI(name: "secrets"), other = try TestPKI(name: "secrets-other")
        let canaries = try Self.canaries(clientKey: pki.clientKey)
        func engineRoutes() throws -> [ReplayServer.Route] {
            try FaultEngine.elasticsearch.routes() + FaultEngine.prometheus.routes()
        }
        let faults: [(String, ReplayServer.Fault?)] = [
            ("answering", nil),
            ("401", .init(response: .init(status: 401, body: #"{"error":"bad credentials"}"#))),
            ("500", .init(response: .init(status: 500, body: "oops"))),
            ("hang", .init(response: .init(mode: "hang"))),
            ("cut off", .init(response: .init(body: String(repeating: "{\"a\":1}", count: 100), mode: "truncate"))),
        ]
        for (label, fault) in faults {
            let engines = try ReplayServer(routes: try engineRoutes(), cert: pki.serverCert, key: pki.serverKey, fault: fault)
            let kube = try ReplayServer(routes: try FaultEngine.kubernetes.routes(), cert: pki.serverCert, key: pki.serverKey, clientCA: pki.ca, fault: fault)
            let dir = tempDir("secrets")
            let (config, env) = try setUp(dir, pki: pki, es: engines.url, prom: engines.url, kube: kube.url)
            let r = try report(["--config", config, "--output", dir + "/out", "--format", "html,md,json,sarif,junit,codequality,pdf",
                                "--record", dir + "/rec", "--verbose"], env: env)
            #expect(label == "answering" ? r.code == 0 : r.code == 3, "\(label): \(r.stderr)")
            assertClean(r, dirs: [dir + "/out", dir + "/rec"], canaries: canaries, label: label)
            // The canaries did reach the engines: the search above is meaningful.
            let auth = try (engines.requests() + kube.requests()).compactMap { ($0["headers"] as? [String: String])?["Authorization"] }
            #expect(auth.contains("ApiKey \(Self.esKey)") && auth.contains("Bearer \(Self.bearerEnv)")
                && auth.contains("Bearer \(Self.bearerFile)") && auth.contains("Bearer \(Self.kubeToken)")
                && auth.contains("Basic " + Data("reader:\(Self.basicPassword)".utf8).base64EncodedString()), "\(label)")
            if label == "answering" {
                // --record saved the requests, without the Authorization header.
                let recorded = files(dir + "/rec").filter { $0.hasSuffix(".request.json") }
                #expect(!recorded.isEmpty)
                for f in recorded {
                    let text = try String(contentsOfFile: f, encoding: .utf8)
                    #expect(!text.lowercased().contains("authorization") && !text.contains("ApiKey") && !text.contains("Bearer"), "\(f)")
                }
            }
        }
        // A server with a certificate from another CA, and a refused connection.
        for label in ["wrong CA", "refused"] {
            let wrong = label == "wrong CA" ? try ReplayServer(routes: [], cert: other.serverCert, key: other.serverKey) : nil
            let url = try wrong?.url ?? "https://127.0.0.1:\(closedPort())"
            let dir = tempDir("secrets")
            let (config, env) = try setUp(dir, pki: pki, es: url, prom: url, kube: url)
            let r = try report(["--config", config, "--output", dir + "/out", "--format", "json,html,md", "--record", dir + "/rec", "--verbose"], env: env)
            #expect(r.code == 3, "\(label): \(r.stderr)")
            assertClean(r, dirs: [dir + "/out", dir + "/rec"], canaries: canaries, label: label)
        }
    }

    @Test("Credentials in a URL are refused by the config check without echoing them; the HTTP layer strips userinfo")
    func urlCredentials() throws {
        let dir = tempDir("secrets-url")
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        environments:
          - name: a
            namespace: shop
            flows: { prometheus: { url: "https://reader:\(Self.urlPassword)@127.0.0.1:9" } }
        """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out", "--verbose"])
        #expect(r.code == 2)
        #expect(r.stderr.contains("must not carry credentials"), "\(r.stderr)")
        #expect(!r.stderr.contains(Self.urlPassword) && !r.stdout.contains(Self.urlPassword), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"))
    }
}
