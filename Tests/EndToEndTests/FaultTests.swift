import Foundation
import Testing
import ThreatModel

/// The engines a loopback fault server stands in for, with the config section that points at it
/// and the answers a healthy engine gives.
enum FaultEngine: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case elasticsearch, prometheus, kubernetes

    var testDescription: String { rawValue }
    /// The report section this engine feeds.
    var section: String {
        switch self {
        case .elasticsearch: "waf"
        case .prometheus: "flows"
        case .kubernetes: "policies"
        }
    }

    static let promAnswer = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"verdict":"FORWARDED"},"value":[1795132800,"100"]}]}}"#

    static func k8sList(_ kind: String, _ names: [String]) -> String {
        let apiVersion = kind == "NetworkPolicyList" ? "networking.k8s.io/v1" : "cilium.io/v2"
        let items = names.map { n in
            kind == "NetworkPolicyList"
                ? #"{"metadata":{"name":"\#(n)","namespace":"shop"},"spec":{"podSelector":{},"policyTypes":["Ingress"]}}"#
                : #"{"apiVersion":"cilium.io/v2","kind":"CiliumNetworkPolicy","metadata":{"name":"\#(n)","namespace":"shop"},"spec":{"endpointSelector":{"matchLabels":{"app":"\#(n)"}},"ingress":[{"fromEntities":["world"]}]}}"#
        }
        return #"{"kind":"\#(kind)","apiVersion":"\#(apiVersion)","metadata":{"resourceVersion":"9"},"items":[\#(items.joined(separator: ","))]}"#
    }

    /// The healthy engine's routes, each answer possibly replaced by `answer` (to truncate it).
    func routes(_ answer: (String) -> ReplayServer.Response = { ReplayServer.Response(body: $0) }) throws -> [ReplayServer.Route] {
        switch self {
        case .elasticsearch:
            let body = try String(contentsOfFile: repo + "/samples/production/waf/msearch.json", encoding: .utf8)
            let caps = try String(contentsOfFile: repo + "/samples/production/waf/field_caps.json", encoding: .utf8)
            let mapping = try String(contentsOfFile: repo + "/samples/production/waf/uri_mapping.json", encoding: .utf8)
            return [.fieldCaps(responses: [answer(caps)]), .uriMapping(responses: [answer(mapping)]), .init(method: "POST", path: "/es/_msearch", responses: [answer(body)])]
        case .prometheus:
            return [.init(path: "/api/v1/query", responses: [answer(Self.promAnswer)]),
                    .init(path: "/api/v1/query_range", responses: [answer(Self.promAnswer)])]
        case .kubernetes:
            return [.init(path: "/apis/cilium.io/v2/namespaces/shop/ciliumnetworkpolicies", responses: [answer(Self.k8sList("CiliumNetworkPolicyList", ["web", "api"]))]),
                    .init(path: "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", responses: [answer(Self.k8sList("CiliumClusterwideNetworkPolicyList", []))]),
                    .init(path: "/apis/networking.k8s.io/v1/namespaces/shop/networkpolicies", responses: [answer(Self.k8sList("NetworkPolicyList", ["default-deny"]))])]
        }
    }

    /// A config with this engine's section at `url` and the two other sections from the samples.
    /// Small timeouts: 1 s per attempt, 2 retries (Kubernetes: its fixed 3).
    func config(url: String, ca: String, dir: String, token: String = "tr-canary-fault-token", deadline: String? = nil) throws -> String {
        let waf = "{ replay: \(repo)/samples/production/waf }"
        let flows = "{ replay: \(repo)/samples/production/flows }"
        let policies = "{ directory: \(repo)/samples/production/policies }"
        var sections = (waf: waf, flows: flows, policies: policies)
        switch self {
        case .elasticsearch:
            sections.waf = "{ elasticsearch: { url: \"\(url)/es\", index: \"filebeat-*\", api_key_env: TR_FAULT_TOKEN, ca_file: \"\(ca)\", timeout: 1, retries: 2 } }"
        case .prometheus:
            sections.flows = "{ prometheus: { url: \"\(url)\", bearer_token_env: TR_FAULT_TOKEN, ca_file: \"\(ca)\", timeout: 1, retries: 2 } }"
        case .kubernetes:
            try writeKubeconfig(dir + "/kubeconfig", server: url, caFile: ca, user: "    token: \(token)")
            sections.policies = "{ kubernetes: { kubeconfig: kubeconfig, timeout: 1 } }"
        }
        let path = dir + "/c.yml"
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        \(deadline.map { "deadline: \($0)\n" } ?? "")environments:
          - name: production
            namespace: shop
            hosts: [shop.example.com]
            waf: \(sections.waf)
            flows: \(sections.flows)
            policies: \(sections.policies)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}

enum InjectedFault: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case refused, hang, slow, retry500, retry502, retry503, unauthorized, forbidden, cutOff, truncatedJSON, huge, endless, wrongCA
    var testDescription: String { rawValue }
}

/// A run of the CLI with its peak memory and wall time (wait4's rusage).
struct MeasuredRun {
    var run: Run
    var maxRSSBytes: Int
    var seconds: Double
}

/// Forks (a real fork of this small process, not the test runner's vfork-style spawn) and execs
/// the command, then writes its exit code and its own peak RSS (wait4's `ru_maxrss`, KiB) to the
/// file named first. Linux keeps a process's peak RSS across exec, and a child spawned straight
/// from the test runner shares the runner's memory until it execs: its `ru_maxrss` would be the
/// runner's peak (larger while other tests run in parallel), not the CLI's.
let peakRSSWrapper = """
import ctypes, os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    ctypes.CDLL(None).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL: ends with this wrapper
    os.execv(argv[0], argv)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as f:
    f.write("%d %d" % (os.waitstatus_to_exitcode(status), usage.ru_maxrss))
"""

func measuredReport(_ args: [String], env: [String: String]) throws -> MeasuredRun {
    let dir = tempDir("measured")
    FileManager.default.createFile(atPath: dir + "/stdin", contents: Data())
    let python = try #require(which("python3"))
    let start = Date()
    let pid = try spawn(python, ["-c", peakRSSWrapper, dir + "/usage", binary, "report"] + args, cwd: repo, env: env,
                        stdin: dir + "/stdin", stdout: dir + "/stdout", stderr: dir + "/stderr")
    // A liveness guard, not a timing check: a run still going after 5 minutes is killed, so a
    // hang fails the test (exit 137) instead of stalling the suite.
    let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
    DispatchQueue.global().asyncAfter(deadline: .now() + 300, execute: watchdog)
    defer { watchdog.cancel() }
    let wrapperCode = waitFor(pid)
    let seconds = Date().timeIntervalSince(start)
    let usage = ((try? String(contentsOfFile: dir + "/usage", encoding: .utf8)) ?? "").split(separator: " ").compactMap { Int($0) }
    // The CLI's exit code (128 + signal when killed, as waitFor gives it), and its own peak RSS.
    let code = usage.count == 2 ? (usage[0] < 0 ? Int32(128 - usage[0]) : Int32(usage[0])) : (wrapperCode == 0 ? -1 : wrapperCode)
    let out = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: dir + "/stdout"))) ?? Data(), as: UTF8.self)
    let err = String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: dir + "/stderr"))) ?? Data(), as: UTF8.self)
    return MeasuredRun(run: Run(code: code, stdout: out, stderr: err), maxRSSBytes: (usage.count == 2 ? usage[1] : Int.max >> 10) * 1024,
                       seconds: seconds)
}

/// A loopback port with nothing listening on it (bound, then closed).
func closedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    try withUnsafeMutablePointer(to: &addr) { p in
        try p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
            try #require(bind(fd, sa, len) == 0)
            try #require(getsockname(fd, sa, &len) == 0)
        }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}

/// Shared throwaway CAs: the engines' server certificates, and an unrelated CA for the wrong-CA case.
enum FaultPKI {
    /// Made by the first test that asks; the others (running in parallel) wait for it.
    static let cached = Locked<(TestPKI, TestPKI)?>(nil)
    static func get() throws -> (trusted: TestPKI, other: TestPKI) {
        try cached.withLock { cached in
            if let cached { return cached }
            let pair = (try TestPKI(name: "faultpki"), try TestPKI(name: "faultpki-other"))
            cached = pair
            return pair
        }
    }
}

/// Every fault against every engine: the loopback fault server stands in for Elasticsearch,
/// Prometheus and the Kubernetes API in turn. The report is always written, the failing section
/// says why in plain words, the other two sections are intact, and the exit code is 3 (0 when a
/// retry succeeded).
@Suite("Faults: Elasticsearch, Prometheus and Kubernetes behind a loopback fault server")
struct FaultTests {
    static let token = "tr-canary-fault-token"

    @Test("Fault × engine", arguments: FaultEngine.allCases, InjectedFault.allCases)
    func fault(engine: FaultEngine, fault: InjectedFault) throws {
        let (pki, other) = try FaultPKI.get()
        let dir = tempDir("fault-\(engine.rawValue)-\(fault.rawValue)")
        var server: ReplayServer?
        var url: String
        func serve(_ routes: [ReplayServer.Route], fault f: ReplayServer.Fault? = nil, pki p: TestPKI = pki) throws {
            let s = try ReplayServer(routes: routes, cert: p.serverCert, key: p.serverKey, fault: f)
            server = s
        }
        let always = { (r: ReplayServer.Response) in ReplayServer.Fault(response: r, count: nil) }
        switch fault {
        case .refused: break
        case .hang: try serve([], fault: always(.init(mode: "hang")))
        case .slow: try serve(try engine.routes { .init(body: $0, delay: 2.5) })
        case .retry500: try serve(try engine.routes(), fault: .init(response: .init(status: 500, body: "Internal Server Error"), count: 2))
        case .retry502: try serve(try engine.routes(), fault: .init(response: .init(status: 502, body: "Bad Gateway"), count: 2))
        case .retry503: try serve(try engine.routes(), fault: .init(response: .init(status: 503, body: "Service Unavailable"), count: 2))
        case .unauthorized: try serve([], fault: always(.init(status: 401, body: #"{"error":"unauthorized"}"#)))
        case .forbidden: try serve([], fault: always(.init(status: 403, body: #"{"error":"forbidden"}"#)))
        case .cutOff: try serve(try engine.routes { .init(body: $0, mode: "truncate") })
        case .truncatedJSON: try serve(try engine.routes { .init(body: String($0.prefix($0.count / 2))) })
        case .huge: try serve([], fault: always(.init(mode: "huge")))
        case .endless: try serve([], fault: always(.init(mode: "endless")))
        case .wrongCA: try serve(try engine.routes(), pki: other)
        }
        url = try server?.url ?? "https://127.0.0.1:\(closedPort())"
        let cfg = try engine.config(url: url, ca: pki.ca, dir: dir)
        if fault == .endless {  // time enough to reach the size cap
            try String(contentsOfFile: cfg, encoding: .utf8).replacingOccurrences(of: "timeout: 1", with: "timeout: 30")
                .write(toFile: cfg, atomically: true, encoding: .utf8)
        }
        let m = try measuredReport(["--config", cfg, "--output", dir + "/out", "--format", "json,html", "--compare", "none"],
                                   env: ["TR_FAULT_TOKEN": Self.token, "THREAT_REPORT_RETRY_BACKOFF": "0.05"])
        let r = m.run
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any], "the report is written: \(r.stderr)")
        let env = try #require((json["environments"] as? [[String: Any]])?.first)
        for other in ["waf", "flows", "policies"] where other != engine.section {
            #expect((env[other] as? [String: Any])?["status"] as? String == "ok", "\(other) is still reported")
        }
        let section = try #require(env[engine.section] as? [String: Any])
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        #expect(!r.stderr.contains(Self.token) && !html.contains(Self.token))

        if [.retry500, .retry502, .retry503].contains(fault) {
            #expect(r.code == 0, "a retry succeeded: \(r.stderr)")
            #expect(section["status"] as? String == "ok")
            let reqs = try #require(try server?.requests())
            // The first request was retried twice (the fault answers), then every request once.
            let keys = reqs.map { "\($0["method"]!) \($0["path"]!)?\($0["query"]!) \($0["body"]!)" }
            #expect(keys.count == Set(keys).count + 2, "\(keys.count) requests")
            #expect(keys[0] == keys[1] && keys[1] == keys[2], "the retries repeat the same request")
            switch engine {
            case .elasticsearch: #expect(section["total_requests"] as? Int == 889_348)
            case .prometheus: #expect(section["forwarded"] as? Int == 100)
            case .kubernetes: #expect((section["items"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["web", "api", "default-deny"])
            }
            return
        }
        #expect(r.code == 3, "\(r.stderr)")
        #expect(section["status"] as? String == "unavailable")
        let error = try #require(section["error"] as? String)
        let expected: [String] = switch fault {
        case .refused: ["connection refused"]
        case .hang, .slow: ["no answer within the timeout"]
        case .unauthorized: ["HTTP 401", "credentials were refused"]
        case .forbidden: ["HTTP 403", "lack permission"]
        case .cutOff: ["cut off before its end"]
        case .truncatedJSON: ["not valid JSON at "]
        case .huge, .endless: ["larger than 256 MiB; stopped reading"]
        case .wrongCA: ["TLS certificate is not trusted"]
        default: []
        }
        #expect(expected.contains { error.contains($0) }, "\(error)")
        #expect(html.contains("unavailable") || html.contains("Unavailable"))
        #expect(r.stderr.contains("\(engine.section) unavailable"), "\(r.stderr)")
        switch fault {
        case .hang, .slow:
            // Each request timed out and was tried again exactly as configured: 2 retries, so 3
            // attempts (the Kubernetes client's fixed 3 retries: 4), and then the section failed.
            let attempts = engine == .kubernetes ? 4 : 3
            let keys = try #require(try server?.requests()).map { "\($0["method"]!) \($0["path"]!)?\($0["query"]!) \($0["body"]!)" }
            let tries = Dictionary(grouping: keys, by: { $0 }).mapValues(\.count)
            #expect(!tries.isEmpty && tries.values.allSatisfy { $0 == attempts }, "\(engine): attempts per request \(tries.values.sorted())")
        case .huge:
            // A declared 2 GB answer is refused before its body is read: memory stays small.
            #expect(m.maxRSSBytes < 150 << 20, "peak RSS \(m.maxRSSBytes >> 20) MiB")
            print("2 GB body with Content-Length, \(engine): \(String(format: "%.1f", m.seconds)) s, peak RSS \(m.maxRSSBytes >> 20) MiB")
        case .endless:
            // 2 GB without a length: read up to the 256 MiB cap, then stopped; memory stays bounded.
            #expect(m.maxRSSBytes < 600 << 20, "peak RSS \(m.maxRSSBytes >> 20) MiB")
            print("2 GB body without a length, \(engine): \(String(format: "%.1f", m.seconds)) s, peak RSS \(m.maxRSSBytes >> 20) MiB")
        case .unauthorized, .forbidden:
            #expect(try server?.requests().count ?? 0 <= 3, "4xx are not retried")
        default: break
        }
    }

    @Test("--deadline: a hanging engine is cut off at the deadline; the report is written, exit 3")
    func deadline() throws {
        let (pki, _) = try FaultPKI.get()
        for engine in FaultEngine.allCases {
            let server = try ReplayServer(routes: [], cert: pki.serverCert, key: pki.serverKey, fault: .init(response: .init(mode: "hang"), count: nil))
            let dir = tempDir("deadline-\(engine.rawValue)")
            // Each attempt would wait 60 s; the deadline of 3 s ends the run long before.
            let cfg = try engine.config(url: server.url, ca: pki.ca, dir: dir)
            try String(contentsOfFile: cfg, encoding: .utf8).replacingOccurrences(of: "timeout: 1", with: "timeout: 60")
                .write(toFile: cfg, atomically: true, encoding: .utf8)
            let m = try measuredReport(["--config", cfg, "--output", dir + "/out", "--format", "json,html", "--deadline", "3s"],
                                       env: ["TR_FAULT_TOKEN": Self.token])
            #expect(m.run.code == 3, "\(m.run.stderr)")
            print("--deadline 3s with a hanging \(engine): the run took \(String(format: "%.1f", m.seconds)) s")
            let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
            let env = try #require((json["environments"] as? [[String: Any]])?.first)
            let section = try #require(env[engine.section] as? [String: Any])
            #expect(section["status"] as? String == "unavailable")
            #expect((section["error"] as? String)?.contains("deadline of 3s passed") == true, "\(section)")
            for other in ["waf", "flows", "policies"] where other != engine.section {
                #expect((env[other] as? [String: Any])?["status"] as? String == "ok")
            }
        }
    }

    @Test("The config's deadline applies; --deadline overrides it; bad values are usage errors")
    func deadlineConfig() throws {
        let (pki, _) = try FaultPKI.get()
        let server = try ReplayServer(routes: [], cert: pki.serverCert, key: pki.serverKey, fault: .init(response: .init(mode: "hang"), count: nil))
        let dir = tempDir("deadline-config")
        let cfg = try FaultEngine.prometheus.config(url: server.url, ca: pki.ca, dir: dir, deadline: "2s")
        try String(contentsOfFile: cfg, encoding: .utf8).replacingOccurrences(of: "timeout: 1", with: "timeout: 60")
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        let m = try measuredReport(["--config", cfg, "--output", dir + "/out", "--format", "json"], env: ["TR_FAULT_TOKEN": Self.token])
        #expect(m.run.code == 3)
        #expect(m.run.stderr.contains("deadline of 2s passed"))
        let bad = try report(["--config", cfg, "--output", dir + "/out2", "--deadline", "soon"])
        #expect(bad.code == 2)
        #expect(bad.stderr.contains("--deadline"))
        try String(contentsOfFile: cfg, encoding: .utf8).replacingOccurrences(of: "deadline: 2s", with: "deadline: 2 weeks")
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        let badConfig = try report(["--config", cfg, "--output", dir + "/out3"])
        #expect(badConfig.code == 2)
        #expect(badConfig.stderr.contains("c.yml:3:11") && badConfig.stderr.contains("deadline '2 weeks'"), "\(badConfig.stderr)")
    }
}

@Suite("--deadline with a source that cannot be interrupted")
struct DeadlineBackstopTests {
    @Test("A WAF log that never delivers (a FIFO without writer): refused at once and named; the run goes on")
    func stuckLocalSource() throws {
        let dir = tempDir("deadline-fifo")
        try #require(mkfifo(dir + "/audit.log", 0o644) == 0)
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        environments:
          - name: production
            namespace: shop
            hosts: [shop.example.com]
            waf: { files: { audit_log: audit.log } }
            flows: { replay: \(repo)/samples/production/flows }
            policies: { directory: \(repo)/samples/production/policies }
        """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let m = try measuredReport(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json,md", "--deadline", "2s"], env: [:])
        #expect(m.run.code == 3, "\(m.run.stderr)")
        print("--deadline 2s with a stuck local source: the run took \(String(format: "%.1f", m.seconds)) s")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let env = try #require((json["environments"] as? [[String: Any]])?.first)
        // The log is opened without blocking (O_NONBLOCK) and a FIFO is not a log file: the
        // section fails at once with that cause instead of waiting for the deadline.
        #expect((env["waf"] as? [String: Any])?["status"] as? String == "unavailable")
        #expect(((env["waf"] as? [String: Any])?["error"] as? String)?.hasSuffix("audit.log: is not a regular file (a FIFO)") == true)
        // The other sections are local and read in full.
        #expect((env["flows"] as? [String: Any])?["status"] as? String == "ok")
        #expect((env["policies"] as? [String: Any])?["status"] as? String == "ok")
        #expect(try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8).contains(#"audit.log: is not a regular file \(a FIFO\)"#))
    }
}
