import Foundation
import Testing

/// Tests/Support/replay_server.py on a free loopback port: recorded answers out, exact requests logged.
final class ReplayServer {
    let pid: pid_t
    let port: Int
    let logPath: String
    let tls: Bool
    var url: String { "\(tls ? "https" : "http")://127.0.0.1:\(port)" }

    struct Route: Encodable {
        var method = "GET"
        var path: String
        var query: String?
        var responses: [Response]
    }

    struct Response: Encodable {
        var status = 200
        var body: String?
        var body_file: String?
        var delay: Double?
        var mode: String?
        var huge_bytes: Int?
        /// Echo the request's credentials into `body` and `headers` (replay_server.py: {auth}, {cred_json}, …).
        var echo: Bool?
        var headers: [String: String]?
        init(status: Int = 200, body: String? = nil, bodyFile: String? = nil, delay: Double? = nil, mode: String? = nil, hugeBytes: Int? = nil,
             echo: Bool? = nil, headers: [String: String]? = nil) {
            self.echo = echo
            self.headers = headers
            self.status = status
            self.body = body
            body_file = bodyFile
            self.delay = delay
            self.mode = mode
            huge_bytes = hugeBytes
        }
    }

    struct Fault: Encodable {
        var response: Response
        var count: Int?
    }

    /// `fault`: the first `fault.count` requests (all without a count), whatever their path, get
    /// `fault.response`; later ones go to `routes`.
    init(routes: [Route], cert: String? = nil, key: String? = nil, clientCA: String? = nil, fault: Fault? = nil) throws {
        let dir = tempDir("replay")
        let routesPath = dir + "/routes.json"
        try JSONEncoder().encode(routes).write(to: URL(fileURLWithPath: routesPath))
        logPath = dir + "/requests.jsonl"
        FileManager.default.createFile(atPath: logPath, contents: Data())
        FileManager.default.createFile(atPath: dir + "/stdin", contents: Data())
        tls = cert != nil
        var args = [repo + "/Tests/Support/replay_server.py", "--routes", routesPath, "--log", logPath]
        if let cert, let key { args += ["--cert", cert, "--key", key] }
        if let clientCA { args += ["--client-ca", clientCA] }
        if let fault {
            try JSONEncoder().encode(fault).write(to: URL(fileURLWithPath: dir + "/fault.json"))
            args += ["--fault", dir + "/fault.json"]
        }
        let python = try #require(which("python3"), "python3 is needed for the replay server")
        pid = try spawn(python, args, cwd: dir, env: [:], stdin: dir + "/stdin", stdout: dir + "/port", stderr: dir + "/stderr")
        var found: Int?
        for _ in 0..<500 {
            if let text = try? String(contentsOfFile: dir + "/port", encoding: .utf8), text.hasSuffix("\n") {
                found = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
                break
            }
            usleep(10_000)
        }
        guard let found else {
            kill(pid, SIGKILL)
            waitFor(pid)
            throw SpawnError(message: "replay server did not start: \((try? String(contentsOfFile: dir + "/stderr", encoding: .utf8)) ?? "")")
        }
        port = found
    }

    deinit {
        kill(pid, SIGKILL)
        waitFor(pid)
    }

    /// The requests the server saw, in order.
    func requests() throws -> [[String: Any]] {
        try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }
}

extension ReplayServer.Route {
    /// `GET <prefix>/<index>/_field_caps`, answered with the samples' Filebeat 7.17 mapping
    /// (samples/*/waf/field_caps.json): what the live Elasticsearch source asks before its `_msearch`.
    static func fieldCaps(index: String = "filebeat-*", prefix: String = "/es", responses: [ReplayServer.Response]? = nil) -> ReplayServer.Route {
        .init(method: "GET", path: "\(prefix)/\(index)/_field_caps",
              responses: responses ?? [.init(bodyFile: repo + "/samples/production/waf/field_caps.json")])
    }
}

extension ReplayServer.Route {
    /// `GET <prefix>/<index>/_mapping/field/transaction.request.uri`, answered with the samples'
    /// mapping (keyword, ignore_above 1024): asked after `_field_caps`.
    static func uriMapping(index: String = "filebeat-*", prefix: String = "/es", responses: [ReplayServer.Response]? = nil) -> ReplayServer.Route {
        .init(method: "GET", path: "\(prefix)/\(index)/_mapping/field/transaction.request.uri",
              responses: responses ?? [.init(bodyFile: repo + "/samples/production/waf/uri_mapping.json")])
    }
}
