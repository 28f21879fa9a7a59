import Foundation
import ThreatConfig
import ThreatModel
import Yams

/// How to reach a Kubernetes API server: from a kubeconfig (server, CA data or file, client
/// certificate and key data or file, bearer token) or from the in-cluster service account.
public struct KubeConnection: Sendable {
    public var server: String
    public var options: HTTPClientOptions
    var token: String?
    public var warnings: [String] = []

    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// Every credential read (tokens, token files, client keys) is registered with `redactor`, which
    /// also filters every answer of the connection's client.
    public static func resolve(_ s: KubernetesSettings, redactor: SecretRedactor,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(SourceError) -> KubeConnection {
        var o = HTTPClientOptions()
        o.redactor = redactor
        o.timeout = s.timeout
        o.retryStatuses = [429, 500, 502, 503, 504]
        if let v = environment["THREAT_REPORT_RETRY_BACKOFF"], let d = Double(v), d >= 0 { o.backoff = d }
        if s.inCluster {
            let dir = environment["THREAT_REPORT_SERVICEACCOUNT_DIR"] ?? serviceAccountDirectory
            guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
                throw .unsupported("in_cluster: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set: not running in a pod?")
            }
            let token = try SecretReader.read(env: nil, file: dir + "/token", what: "service-account token", redactor: redactor)
            o.caFile = dir + "/ca.crt"
            let h = host.contains(":") ? "[\(host)]" : host
            return KubeConnection(server: "https://\(h):\(port)", options: o, token: token)
        }
        let path = s.kubeconfig ?? environment["KUBECONFIG"]?.split(separator: ":").first.map(String.init)
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.kube/config")
        return try fromKubeconfig(path: path, context: s.context, options: o, environment: environment)
    }

    static func fromKubeconfig(path: String, context wanted: String?, options: HTTPClientOptions,
                               environment: [String: String]) throws(SourceError) -> KubeConnection {
        let bytes = try readFileBytes(path, limit: InputLimits.documentBytes)
        let base = (path as NSString).deletingLastPathComponent
        let redactor = options.redactor
        let root: Node
        do {
            // A kubeconfig holds secrets: its errors name file:line:column and the problem, never
            // the line's text (YAMLReader), and every value in it is filtered when quoted.
            let text = String(decoding: bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...], as: UTF8.self)
            try YAMLLimits.check(text, reader: YAMLReader(file: path))
            guard let n = try Yams.compose(yaml: text) else {
                throw SourceError.malformed(place: path, detail: "the kubeconfig is empty")
            }
            root = n
        } catch let e as SourceError {
            throw e
        } catch {
            let located = YAMLReader(file: path).error(from: error)
            throw .malformed(place: located.location, detail: located.message)
        }
        func named(_ list: String, _ name: String) -> Node? {
            root[list]?.sequence?.first { $0["name"]?.string == name }
        }
        guard let ctxName = wanted ?? root["current-context"]?.string, !ctxName.isEmpty else {
            throw .unsupported("\(path): no context given and no current-context set; add context: NAME under policies.kubernetes")
        }
        guard let ctx = named("contexts", ctxName)?["context"] else {
            throw .unsupported("\(path): no context named '\(ctxName)'")
        }
        guard let clusterName = ctx["cluster"]?.string, let cluster = named("clusters", clusterName)?["cluster"],
              let server = cluster["server"]?.string else {
            throw .malformed(place: path, detail: "context '\(ctxName)' names no cluster with a server")
        }
        var o = options
        func resolvePath(_ p: String) -> String { p.hasPrefix("/") ? p : base + "/" + p }
        func decode(_ b64: String, _ what: String) throws(SourceError) -> [UInt8] {
            guard let d = Data(base64Encoded: b64.filter { !$0.isWhitespace }) else {
                throw .malformed(place: path, detail: "\(what) is not base64")
            }
            return [UInt8](d)
        }
        if let d = cluster["certificate-authority-data"]?.string { o.caPEM = try decode(d, "certificate-authority-data") }
        if let f = cluster["certificate-authority"]?.string { o.caFile = resolvePath(f) }
        var warnings: [String] = []
        if cluster["insecure-skip-tls-verify"]?.bool == true {
            o.insecureSkipVerify = true
            warnings.append("TLS certificate verification is off for \(HTTPClient.redacted(server)) (insecure-skip-tls-verify in the kubeconfig)")
        }
        var token: String?
        if let userName = ctx["user"]?.string, let user = named("users", userName)?["user"] {
            if user["exec"] != nil || user["auth-provider"] != nil {
                throw .unsupported("""
                \(path): user '\(userName)' authenticates with an exec or auth-provider plugin (e.g. OIDC, cloud CLIs), \
                which threat-report does not run. List the policies with kubectl and pipe them in instead: \
                `kubectl get ciliumnetworkpolicies,ciliumclusterwidenetworkpolicies,networkpolicies -A -o yaml | threat-report report --config FILE --policies -`
                """)
            }
            if let d = user["client-certificate-data"]?.string { o.clientCertPEM = try decode(d, "client-certificate-data") }
            if let d = user["client-key-data"]?.string {
                redactor.register(d)
                let pem = try decode(d, "client-key-data")
                redactor.register(pem: String(decoding: pem, as: UTF8.self))
                o.clientKeyPEM = pem
            }
            if let f = user["client-certificate"]?.string { o.clientCertFile = resolvePath(f) }
            if let f = user["client-key"]?.string {
                o.clientKeyFile = resolvePath(f)
                if let pem = try? readFileBytes(resolvePath(f), limit: 1 << 20) { redactor.register(pem: String(decoding: pem, as: UTF8.self)) }
            }
            if let p = user["password"]?.string { redactor.register(p) }
            if let t = user["token"]?.string {
                redactor.register(t)
                token = t
            }
            if let f = user["tokenFile"]?.string { token = try SecretReader.read(env: nil, file: resolvePath(f), what: "token", redactor: redactor) }
        }
        var c = KubeConnection(server: server.hasSuffix("/") ? String(server.dropLast()) : server, options: o, token: token)
        c.warnings = warnings
        return c
    }

    /// GET `path` with `params`; returns status and body.
    public func get(_ path: String, params: [[String]], client: HTTPClient) throws(SourceError) -> (RecordedRequest, HTTPResponse) {
        let r = RecordedRequest(method: "GET", path: path, params: params)
        return (r, try send(r, contentType: nil, client: client))
    }

    /// Sends `request` (method, path, query, body) with the connection's bearer token, when any.
    /// The token goes into the header only: it is never part of the request returned or recorded.
    public func send(_ request: RecordedRequest, contentType: String?, client: HTTPClient) throws(SourceError) -> HTTPResponse {
        var url = server + request.path
        let q = request.params.filter { $0.count == 2 }
            .map { "\(EngineClient.encode($0[0]))=\(EngineClient.encode($0[1]))" }.joined(separator: "&")
        if !q.isEmpty { url += "?" + q }
        var headers = [("Accept", "application/json")]
        if let contentType { headers.append(("Content-Type", contentType)) }
        if let token { headers.append(("Authorization", "Bearer " + token)) }
        let response = try client.send(HTTPRequest(method: request.method, url: url, headers: headers, body: request.body.map { Array($0.utf8) }))
        if let redirect = response.redirect { throw .engine(place: HTTPClient.redacted(server + request.path), status: response.status, message: redirect) }
        return response
    }
}
