import Foundation
import Testing

/// The CLI built beside this test bundle (any `--scratch-path`), else the one `Support.swift` finds.
var wafBinary: String {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
    for candidate in [here + "/threat-report", here + "/../threat-report"]
    where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    return binary
}

/// A real NGINX + ModSecurity v3 + OWASP CRS on a free loopback port, configured by
/// scripts/lab/waf-nginx.sh (docs/lab.md §1): two server names stand for two environments, the
/// default server for everything else. Stopped by its PID.
final class WAFLab {
    let dir: String
    let port: UInt16
    let pid: pid_t
    private var stopped = false

    static let production = "shop.example.com"
    static let staging = "staging.shop.example.com"

    /// `engine`: `DetectionOnly` or `On`. The server runs with TZ=Europe/Berlin, so both logs carry
    /// local times (the audit log without a zone).
    /// `auditFormat`: `JSON` (default) or `Native` (`SecAuditLogFormat`).
    /// `extraEnv`: more `NAME=value` for the script (e.g. `WAF_LAB_BEFORE_CRS=FILE`).
    init(engine: String, auditFormat: String = "JSON", extraEnv: [String] = []) throws {
        for path in ["/usr/sbin/nginx", "/usr/lib/nginx/modules/ngx_http_modsecurity_module.so", "/usr/share/modsecurity-crs/rules"] {
            try #require(FileManager.default.fileExists(atPath: path),
                         "\(path) is missing: `make test` installs nginx libnginx-mod-http-modsecurity modsecurity-crs")
        }
        dir = tempDir("waf-lab")
        let (code, out) = try Self.spawn(["/bin/bash", repo + "/scripts/lab/waf-nginx.sh", "start", dir, engine],
                                         env: ["TZ=Europe/Berlin", "WAF_LAB_AUDIT_FORMAT=\(auditFormat)"] + extraEnv, output: dir + ".start")
        let parts = out.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard code == 0, parts.count == 2, let port = UInt16(parts[0]), let pid = pid_t(parts[1]) else {
            throw WAFLabError.start("waf-nginx.sh start failed (\(code)): \(out)")
        }
        self.port = port
        self.pid = pid
    }

    /// Runs a command with stdout and stderr in a file, and waits for it with `waitpid`. (The
    /// script leaves a daemon behind; Foundation's `Process` on Linux can miss such a child's exit.)
    static func spawn(_ argv: [String], env extra: [String], output: String) throws -> (Int32, String) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" } + extra
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup($0) } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, cEnv)
        guard rc == 0 else { throw WAFLabError.start("posix_spawn \(argv[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        return ((status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F), text)
    }

    /// Stops the master by PID (graceful QUIT, then KILL after 5 s); the logs are complete after.
    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(pid, SIGQUIT)
        for _ in 0..<500 {
            if kill(pid, 0) != 0 { return }
            usleep(10_000)
        }
        kill(pid, SIGKILL)
    }

    deinit { stop() }

    var accessLog: String { dir + "/access.log" }
    var auditLog: String { dir + "/modsec_audit.log" }

    /// One HTTP/1.1 request over a fresh TCP connection; returns the status code (0: no answer).
    /// Raw bytes, so the path goes out exactly as given and any Host can be sent.
    func send(host: String, path: String, method: String = "GET", client: String, userAgent: String = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
              body: String? = nil) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { return 0 }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: \(userAgent)\r\nX-Forwarded-For: \(client)\r\nAccept: */*\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n" }
        head += "\r\n" + (body ?? "")
        let bytes = Array(head.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return 0 }
            sent += n
        }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            answer += chunk[0..<n]
        }
        let statusLine = String(decoding: answer.prefix { $0 != 0x0D && $0 != 0x0A }, as: UTF8.self)
        let fields = statusLine.split(separator: " ")
        return fields.count >= 2 ? Int(fields[1]) ?? 0 : 0
    }
}

enum WAFLabError: Error { case start(String) }

/// One request the test sent, and what came back.
struct WAFLedgerEntry {
    var host: String
    var path: String
    var client: String
    var attack: Bool
    var status: Int
}

/// Attack payloads from a third party: the first lines of wfuzz's SQL, XSS and traversal lists,
/// URL-encoded into a query parameter.
func wfuzzPayloads(sql: Int, xss: Int, traversal: Int) throws -> [String] {
    let dir = "/usr/share/wfuzz/wordlist/Injections/"
    var out: [String] = []
    for (file, n) in [("SQL.txt", sql), ("XSS.txt", xss), ("Traversal.txt", traversal)] {
        let data = try #require(FileManager.default.contents(atPath: dir + file), "\(dir + file) is missing: `make test` installs wfuzz")
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\r")) }.filter { !$0.isEmpty }
        out += lines.prefix(n)
    }
    return out.map { "/search?q=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "x") }
}

/// The logs counted independently of the tool: access lines by their `[$proxy_upstream_name]`,
/// audit entries (read with Foundation's JSON parser after lossy UTF-8 decoding) joined to them by
/// `unique_id` = `$req_id`.
struct WAFLogCount {
    struct Env {
        var total = 0
        var anomalous = 0
        var blocked = 0
        var ruleCounts: [String: Int] = [:]
        var categories: [String: Int] = [:]
        var clients: [String: Int] = [:]
        var engines: Set<String> = []
        var ratio: Double { total == 0 ? 0 : Double(anomalous) / Double(total) }
        /// Top 10 by count, then id (the report's order).
        var topRules: [(String, Int)] {
            Array(ruleCounts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10))
        }
    }

    var envs: [String: Env] = [:]
    var auditLines = 0
    var accessLines = 0

    init(access: String, audit: String, upstreams: [String: String]) throws {
        let accessText = try String(decoding: Data(contentsOf: URL(fileURLWithPath: access)), as: UTF8.self)
        var owner: [String: String] = [:]
        for line in accessText.split(separator: "\n") {
            accessLines += 1
            let id = String(line.split(separator: " ").last ?? "")
            for (env, upstream) in upstreams where line.contains("[\(upstream)]") {
                envs[env, default: Env()].total += 1
                owner[id] = env
            }
        }
        let auditData = try Data(contentsOf: URL(fileURLWithPath: audit))
        for raw in auditData.split(separator: 0x0A) where !raw.isEmpty {
            auditLines += 1
            let text = String(decoding: raw, as: UTF8.self)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            let t = try #require(json["transaction"] as? [String: Any])
            guard let id = t["unique_id"] as? String, let env = owner[id] else { continue }
            var e = envs[env, default: Env()]
            e.anomalous += 1
            let code = (t["response"] as? [String: Any])?["http_code"] as? Int
            let engine = (t["producer"] as? [String: Any])?["secrules_engine"] as? String ?? ""
            e.engines.insert(engine)
            let ids = Set(((t["messages"] as? [[String: Any]]) ?? []).compactMap { ($0["details"] as? [String: Any])?["ruleId"] as? String })
            for r in ids { e.ruleCounts[r, default: 0] += 1 }
            var cats = Set<String>()
            for r in ids {
                guard let n = Int(r), r.count == 6 else { continue }
                let c: String? = switch n / 1000 {
                case 913: "scanner"
                case 920, 921: "protocol"
                case 930: "lfi"
                case 931: "rfi"
                case 932: "rce"
                case 933: "php"
                case 934: "generic"
                case 941: "xss"
                case 942: "sqli"
                case 943: "session"
                case 944: "java"
                case 949, 959, 980: nil
                default: "other"
                }
                if let c { cats.insert(c) }
            }
            for c in cats { e.categories[c, default: 0] += 1 }
            e.clients[t["client_ip"] as? String ?? "", default: 0] += 1
            if engine == "Enabled", code == 403, !ids.isDisjoint(with: ["949110", "949111", "959100"]) { e.blocked += 1 }
            envs[env] = e
        }
    }
}
