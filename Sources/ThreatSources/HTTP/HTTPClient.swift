import CCurl
import Foundation
import ThreatModel

/// One HTTP request. Header values may carry secrets: they are sent, never logged or recorded.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// How many attempts it took (1 = no retry).
    public var attempts: Int
    /// The `Location` of a 3xx answer, as `scheme://host[:port]/path` (no credentials, no query).
    public var location: String? = nil

    /// A 3xx answer: redirects are never followed (they could send the credentials elsewhere).
    public var redirect: String? {
        guard (300..<400).contains(status) else { return nil }
        return "redirect not followed (Location: \(location ?? "none"))"
    }
}

/// Transport settings for one engine.
public struct HTTPClientOptions: Sendable {
    /// PEM CA bundle file, or PEM bytes (Kubernetes `certificate-authority-data`).
    public var caFile: String?
    public var caPEM: [UInt8]?
    public var clientCertFile: String?
    public var clientKeyFile: String?
    public var clientCertPEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    /// Skips TLS verification. Only when set explicitly in the config, and always with a warning.
    public var insecureSkipVerify = false
    /// Seconds for one attempt, connection included.
    public var timeout: Double = 30
    public var connectTimeout: Double = 10
    /// Further attempts after the first, on `retryStatuses` and connection errors; never on other 4xx.
    public var retries = 3
    public var retryStatuses: Set<Int> = [429, 502, 503, 504]
    /// Base of the exponential backoff (seconds): base, 2×base, 4×base.
    public var backoff: Double = 0.5
    /// Answers larger than this are cut off and fail: an engine that streams gigabytes must not
    /// take the job's memory.
    public var maxBodyBytes = InputLimits.answerBytes
    /// The run's secrets: every answer body is filtered through it as it arrives, before anything
    /// parses, quotes, cuts or records it (a server may echo the request's credentials).
    public var redactor = SecretRedactor()
    public init() {}
}

/// The one HTTP client every network source uses, on libcurl: TLS with the system CAs or a given
/// CA, client certificates, timeouts, retries with backoff, a body cap, and the `*_proxy`
/// environment variables (libcurl reads them itself).
public struct HTTPClient: Sendable {
    public var options: HTTPClientOptions
    /// The run's deadline: no attempt, retry or backoff sleep runs past it.
    public var deadline: RunDeadline = .none

    public init(options: HTTPClientOptions) {
        self.options = options
        HTTPClient.globalInit
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// `scheme://host[:port]/path` without credentials or query, for messages and evidence.
    public static func redacted(_ url: String) -> String {
        guard var c = URLComponents(string: url) else { return "(invalid URL)" }
        c.user = nil
        c.password = nil
        c.query = nil
        c.fragment = nil
        return c.string ?? "(invalid URL)"
    }

    /// Sends the request, retrying as configured. Throws `.transport` for network failures and
    /// `.engine` is left to the caller (any status is returned).
    public func send(_ request: HTTPRequest, sleep: (Double) -> Void = { Thread.sleep(forTimeInterval: $0) }) throws(SourceError) -> HTTPResponse {
        var attempt = 0
        // Backoff never sleeps past the run's deadline; once it passes, no new attempt starts.
        func pause(_ s: Double) { sleep(min(s, max(0, deadline.remaining() ?? s))) }
        while true {
            attempt += 1
            if deadline.passed {
                throw .transport(place: HTTPClient.redacted(request.url), message: deadline.cause)
            }
            let result = perform(request)
            switch result {
            case let .success(status, body, location):
                if options.retryStatuses.contains(status), attempt <= options.retries, !deadline.passed {
                    pause(options.backoff * pow(2, Double(attempt - 1)))
                    continue
                }
                return HTTPResponse(status: status, body: options.redactor.redact(bytes: body), attempts: attempt,
                                    location: location.map { options.redactor.redact(HTTPClient.redacted($0)) })
            case let .failure(code, message):
                if deadline.passed {
                    throw .transport(place: HTTPClient.redacted(request.url), message: deadline.cause)
                }
                if HTTPClient.isRetryable(code), attempt <= options.retries {
                    pause(options.backoff * pow(2, Double(attempt - 1)))
                    continue
                }
                let tries = attempt > 1 ? " (after \(attempt) attempts)" : ""
                throw .transport(place: HTTPClient.redacted(request.url),
                                 message: options.redactor.redact(HTTPClient.scrub(message, url: request.url)) + tries)
            }
        }
    }

    static func isRetryable(_ code: CURLcode) -> Bool {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING,
             CURLE_COULDNT_RESOLVE_HOST, CURLE_PARTIAL_FILE:
            return true
        default:
            return false
        }
    }

    enum Outcome {
        case success(Int, [UInt8], String?)
        case failure(CURLcode, String)
    }

    /// Receives the body; stops (returns 0, which makes libcurl fail) past the cap.
    final class Sink {
        var body: [UInt8] = []
        let cap: Int
        var overflow = false
        init(cap: Int) { self.cap = cap }
    }

    func perform(_ request: HTTPRequest) -> Outcome {
        guard let h = curl_easy_init() else { return .failure(CURLE_FAILED_INIT, "cannot start libcurl") }
        defer { curl_easy_cleanup(h) }
        let sink = Sink(cap: options.maxBodyBytes)
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        let code: CURLcode = errorBuffer.withUnsafeMutableBufferPointer { errBuf in
            request.url.withCString { url in
                _ = tr_curl_setopt_ptr(h, CURLOPT_URL, url)
                _ = tr_curl_setopt_ptr(h, CURLOPT_ERRORBUFFER, errBuf.baseAddress)
                _ = tr_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
                _ = tr_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
                // One attempt never outlives the run's deadline (at least 1 ms: 0 means "no timeout").
                let budget = max(0.001, min(options.timeout, deadline.remaining() ?? options.timeout))
                _ = tr_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(budget * 1000))
                _ = tr_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(min(options.connectTimeout, budget) * 1000))
                _ = tr_curl_setopt_long(h, CURLOPT_NOPROGRESS, 1)
                // A declared Content-Length above the cap fails before any byte is read.
                _ = tr_curl_setopt_off(h, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(options.maxBodyBytes))
                _ = "http,https".withCString { tr_curl_setopt_ptr(h, CURLOPT_PROTOCOLS_STR, $0) }
                _ = "gzip".withCString { tr_curl_setopt_ptr(h, CURLOPT_ACCEPT_ENCODING, $0) }
                _ = "threat-report/\(ToolInfo.version)".withCString { tr_curl_setopt_ptr(h, CURLOPT_USERAGENT, $0) }
                if options.insecureSkipVerify {
                    _ = tr_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 0)
                    _ = tr_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 0)
                }
                for (name, value) in request.headers {
                    headerList = curl_slist_append(headerList, "\(name): \(value)")
                }
                if request.body != nil { headerList = curl_slist_append(headerList, "Expect:") }
                _ = tr_curl_setopt_ptr(h, CURLOPT_HTTPHEADER, headerList)
                _ = request.method.withCString { tr_curl_setopt_ptr(h, CURLOPT_CUSTOMREQUEST, $0) }
                if let body = request.body {
                    _ = tr_curl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                    _ = body.withUnsafeBytes { tr_curl_setopt_ptr(h, CURLOPT_COPYPOSTFIELDS, $0.baseAddress) }
                } else if request.method == "GET" {
                    _ = tr_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
                }
                let ctx = Unmanaged.passUnretained(sink).toOpaque()
                _ = tr_curl_setopt_ptr(h, CURLOPT_WRITEDATA, ctx)
                _ = tr_curl_setopt_write(h, CURLOPT_WRITEFUNCTION) { ptr, size, n, user in
                    let sink = Unmanaged<Sink>.fromOpaque(user!).takeUnretainedValue()
                    let count = size * n
                    if sink.body.count + count > sink.cap {
                        sink.overflow = true
                        return 0
                    }
                    if let ptr { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: ptr, count: count)) }
                    return count
                }
                return withTLS(h) { curl_easy_perform(h) }
            }
        }
        if sink.overflow || code == CURLE_FILESIZE_EXCEEDED {
            return .failure(CURLE_WRITE_ERROR, "the answer is larger than \(options.maxBodyBytes >> 20) MiB; stopped reading")
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            return .failure(code, HTTPClient.plain(code, text))
        }
        var status = 0
        _ = tr_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        var location: String?
        if (300..<400).contains(status) {
            var p: UnsafeMutablePointer<CChar>?
            if tr_curl_getinfo_ptr(h, CURLINFO_REDIRECT_URL, &p) == CURLE_OK, let p { location = String(cString: p) }
        }
        return .success(status, sink.body, location)
    }

    /// TLS material stays alive for the whole transfer: files by path, PEM data as blobs.
    func withTLS(_ h: UnsafeMutableRawPointer, _ body: () -> CURLcode) -> CURLcode {
        var keep: [[UInt8]] = []
        var blobs: [UnsafeMutablePointer<curl_blob>] = []
        defer { blobs.forEach { $0.deallocate() } }
        func blob(_ option: CURLoption, _ bytes: [UInt8]) {
            keep.append(bytes)
            let p = UnsafeMutablePointer<curl_blob>.allocate(capacity: 1)
            keep[keep.count - 1].withUnsafeMutableBytes { raw in
                p.pointee = curl_blob(data: raw.baseAddress, len: raw.count, flags: UInt32(CURL_BLOB_COPY))
            }
            blobs.append(p)
            _ = tr_curl_setopt_ptr(h, option, p)
        }
        if let f = options.caFile { _ = f.withCString { tr_curl_setopt_ptr(h, CURLOPT_CAINFO, $0) } }
        if let pem = options.caPEM { blob(CURLOPT_CAINFO_BLOB, pem) }
        if let f = options.clientCertFile { _ = f.withCString { tr_curl_setopt_ptr(h, CURLOPT_SSLCERT, $0) } }
        if let f = options.clientKeyFile { _ = f.withCString { tr_curl_setopt_ptr(h, CURLOPT_SSLKEY, $0) } }
        if let pem = options.clientCertPEM { blob(CURLOPT_SSLCERT_BLOB, pem) }
        if let pem = options.clientKeyPEM { blob(CURLOPT_SSLKEY_BLOB, pem) }
        return body()
    }

    /// Removes credentials from a message: the userinfo of every URL in it (`scheme://user:pw@`
    /// → `scheme://`) and the userinfo of `url` wherever it appears, percent-encoded or not.
    public static func scrub(_ message: String, url: String? = nil) -> String {
        var out = message
        if let url, let c = URLComponents(string: url) {
            for secret in [c.percentEncodedPassword, c.password, c.percentEncodedUser, c.user].compactMap({ $0 }) where secret.count >= 3 {
                out = out.replacingOccurrences(of: secret, with: "***")
            }
        }
        if let re = try? NSRegularExpression(pattern: "([A-Za-z][A-Za-z0-9+.-]*://)[^/@\\s]*@") {
            out = re.stringByReplacingMatches(in: out, range: NSRange(out.startIndex..., in: out), withTemplate: "$1")
        }
        return out
    }

    /// libcurl's messages in the words a user acts on.
    static func plain(_ code: CURLcode, _ detail: String) -> String {
        switch code {
        case CURLE_COULDNT_CONNECT: "connection refused or unreachable (\(detail))"
        case CURLE_OPERATION_TIMEDOUT: "no answer within the timeout (\(detail))"
        case CURLE_COULDNT_RESOLVE_HOST: "cannot resolve the host name (\(detail))"
        case CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CACERT_BADFILE:
            "the server's TLS certificate is not trusted (\(detail)); set ca_file to its CA"
        case CURLE_SSL_CONNECT_ERROR: "TLS handshake failed (\(detail))"
        case CURLE_GOT_NOTHING: "the server closed the connection without answering"
        case CURLE_PARTIAL_FILE, CURLE_RECV_ERROR: "the answer was cut off before its end (\(detail))"
        default: detail
        }
    }
}
