import Foundation
import ThreatConfig
import ThreatModel

/// An HTTP client bound to one engine's base URL and credentials, shared by the live sources.
public struct EngineClient: Sendable {
    public var baseURL: String
    public var client: HTTPClient
    var authorization: String?
    /// Warnings to surface in the report (e.g. TLS verification switched off).
    public var warnings: [String]

    /// Reads the credentials and registers them with `redactor`, which also filters every answer.
    public init(transport t: HTTPTransportSettings, retryStatuses: Set<Int>, redactor: SecretRedactor,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws(SourceError) {
        var o = HTTPClientOptions()
        o.redactor = redactor
        o.caFile = t.caFile
        o.clientCertFile = t.clientCertFile
        o.clientKeyFile = t.clientKeyFile
        o.insecureSkipVerify = t.insecureSkipVerify
        o.timeout = t.timeout
        o.retries = t.retries
        o.retryStatuses = retryStatuses
        if let v = environment["THREAT_REPORT_RETRY_BACKOFF"], let d = Double(v), d >= 0 { o.backoff = d }
        client = HTTPClient(options: o)
        baseURL = t.url.hasSuffix("/") ? String(t.url.dropLast()) : t.url
        authorization = try SecretReader.authorization(t.auth, redactor: redactor, environment: environment)
        if let f = t.clientKeyFile, let pem = try? readFileBytes(f, limit: 1 << 20) { redactor.register(pem: String(decoding: pem, as: UTF8.self)) }
        warnings = t.insecureSkipVerify
            ? ["TLS certificate verification is off for \(HTTPClient.redacted(t.url)) (insecure_skip_verify: true)"] : []
    }

    /// RFC 3986 unreserved characters stay; everything else is percent-encoded.
    static func encode(_ s: String) -> String {
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    public func url(for r: RecordedRequest) -> String {
        var u = baseURL + r.path
        let q = r.params.filter { $0.count == 2 }.map { "\(EngineClient.encode($0[0]))=\(EngineClient.encode($0[1]))" }
        if !q.isEmpty { u += "?" + q.joined(separator: "&") }
        return u
    }

    /// Sends a recorded-shape request; returns status and body. Saves both to `record` when given
    /// (the request without any credential).
    public func send(_ r: RecordedRequest, contentType: String? = nil, record: (RecordingFolder, String)? = nil) throws(SourceError) -> HTTPResponse {
        var headers: [(String, String)] = [("Accept", "application/json")]
        if let authorization { headers.append(("Authorization", authorization)) }
        if let contentType { headers.append(("Content-Type", contentType)) }
        let response = try client.send(HTTPRequest(method: r.method, url: url(for: r), headers: headers, body: r.body.map { Array($0.utf8) }))
        if let (folder, name) = record {
            do {
                try folder.write(name, answer: response.body, request: r)
            } catch {
                throw .unreadable(path: folder.path, reason: "--record: cannot write (\(error))")
            }
        }
        if let redirect = response.redirect { throw .engine(place: place(r), status: response.status, message: redirect) }
        return response
    }

    public func place(_ r: RecordedRequest) -> String { HTTPClient.redacted(baseURL + r.path) }

    /// Who is asked, and with which credentials (their digest, never the value): a run's cache
    /// shares an answer only between requests of the same engine and credentials.
    var identity: String { baseURL + " " + (authorization.map { SHA256Digest.hex(Array($0.utf8)) } ?? "-") }
}
