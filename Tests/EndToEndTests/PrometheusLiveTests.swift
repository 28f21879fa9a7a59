import Foundation
import Testing

/// A real Prometheus with backfilled Hubble counters (scripts/lab/hubble_openmetrics.py), on a
/// free loopback port, queried by threat-report and, for reference, by the test itself.
final class LivePrometheus {
    let pid: pid_t
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    /// The backfilled TSDB, made once per test run.
    static let dataDir: Result<String, Error> = Result {
        let dir = tempDir("promdata")
        let om = dir + "/hubble.om"
        let gen = try run("/usr/bin/env", ["python3", repo + "/scripts/lab/hubble_openmetrics.py", "--output", om])
        guard gen.code == 0 else { throw Failure("generator failed: \(gen.stderr)") }
        let promtool = try #require(which("promtool"), "promtool is not installed: `make test` installs prometheus")
        let fill = try run(promtool, ["tsdb", "create-blocks-from", "openmetrics", om, dir + "/tsdb"])
        guard fill.code == 0 else { throw Failure("promtool failed: \(fill.stderr)") }
        return dir
    }

    struct Failure: Error, CustomStringConvertible { var description: String; init(_ d: String) { description = d } }

    convenience init() throws {
        try self.init(tsdb: try LivePrometheus.dataDir.get() + "/tsdb")
    }

    /// A server over a copy of the TSDB at `tsdb` (made by `promtool tsdb create-blocks-from`).
    init(tsdb: String) throws {
        let prom = try #require(which("prometheus"), "prometheus is not installed: `make test` installs it")
        // Each instance gets its own copy so two servers never share a TSDB lock.
        let copy = tempDir("promcopy") + "/tsdb"
        try FileManager.default.copyItem(atPath: tsdb, toPath: copy)
        let cfg = tempDir("promcfg") + "/prometheus.yml"
        try "global: {}\nscrape_configs: []\n".write(toFile: cfg, atomically: true, encoding: .utf8)
        port = freePort()
        let logs = tempDir("promlog")
        FileManager.default.createFile(atPath: logs + "/stdin", contents: Data())
        pid = try spawn(prom, ["--config.file=\(cfg)", "--storage.tsdb.path=\(copy)", "--storage.tsdb.retention.time=3650d",
                               "--web.listen-address=127.0.0.1:\(port)", "--log.level=error"],
                        cwd: logs, env: [:], stdin: logs + "/stdin", stdout: logs + "/stdout", stderr: logs + "/stderr")
        for _ in 0..<200 {
            if let r = try? run("/usr/bin/curl", ["-fsS", "\(url)/-/ready"]), r.code == 0 { return }
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        waitFor(pid)
        throw Failure("prometheus did not become ready on port \(port)")
    }

    private var stopped = false

    /// Stops the server now (a replay must not need it).
    func stop() {
        guard !stopped else { return }
        stopped = true
        kill(pid, SIGKILL)
        waitFor(pid)
    }

    deinit { stop() }

    /// The reference answer: the test's own query, sent with curl.
    func instant(_ query: String, time: Int) throws -> [String: Double] {
        let r = try run("/usr/bin/curl", ["-fsS", "-G", "\(url)/api/v1/query", "--data-urlencode", "query=\(query)", "--data-urlencode", "time=\(time)"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let result = ((json["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        var out: [String: Double] = [:]
        for s in result {
            let key = (s["metric"] as? [String: String])?.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") ?? ""
            out[key] = Double((s["value"] as? [Any])?[1] as? String ?? "") ?? .nan
        }
        return out
    }
}

func freePort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
    _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
    return Int(UInt16(bigEndian: addr.sin_port))
}

@Suite("Flows from a real Prometheus", .serialized)
struct PrometheusLiveTests {
    func config(_ prom: LivePrometheus, dir: String, namespaces: [String] = ["shop-production", "shop-staging", "shop-empty"]) throws -> String {
        let envs = namespaces.map { "  - { name: \($0), namespace: \($0), flows: { prometheus: { url: \"\(prom.url)\", timeout: 5, retries: 0 } } }" }
        let cfg = dir + "/live.yml"
        try (["version: 1", "to: 2026-11-20T00:00:00Z", "window: 24h", "environments:"] + envs).joined(separator: "\n")
            .write(toFile: cfg, atomically: true, encoding: .utf8)
        return cfg
    }

    @Test("Totals, inbound/outbound and ratios equal Prometheus's own answer to GitLab's PromQL, to 1e-9")
    func totalsMatchReference() throws {
        let prom = try LivePrometheus()
        let dir = tempDir("promlive")
        let r = try report(["--config", try config(prom, dir: dir), "--output", dir + "/out", "--format", "json", "--record", dir + "/rec"])
        try #require(r.code == 0, "\(r.stderr)")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let envs = try #require(json["environments"] as? [[String: Any]])
        let to = 1_795_132_800
        for ns in ["shop-production", "shop-staging"] {
            let flows = try #require(envs.first { $0["namespace"] as? String == ns }?["flows"] as? [String: Any])
            let sel = "hubble_flows_processed_total"
            let total = try prom.instant("sum by(verdict) (increase(\(sel){destination=\"\(ns)\"}[86400s]) or on(source,destination,verdict) increase(\(sel){source=\"\(ns)\"}[86400s]))", time: to)
            let fwd = try #require(total["verdict=FORWARDED"]), drop = try #require(total["verdict=DROPPED"])
            #expect(flows["forwarded"] as? Int == Int(fwd.rounded()))
            #expect(flows["dropped"] as? Int == Int(drop.rounded()))
            let ratio = try #require(flows["dropped_ratio"] as? Double)
            let expected = drop.rounded() / (fwd.rounded() + drop.rounded())
            #expect(abs(ratio - expected) <= 1e-9 * expected)
            let inbound = try prom.instant("sum by(verdict) (increase(\(sel){destination=\"\(ns)\"}[86400s]))", time: to)
            let outbound = try prom.instant("sum by(verdict) (increase(\(sel){source=\"\(ns)\"}[86400s]))", time: to)
            #expect((flows["inbound"] as? [String: Any])?["forwarded"] as? Int == Int(inbound["verdict=FORWARDED"]!.rounded()))
            #expect((flows["outbound"] as? [String: Any])?["dropped"] as? Int == Int(outbound["verdict=DROPPED"]!.rounded()))
            // Intra-namespace traffic is in both directions but not twice in the total.
            let intra = try prom.instant("sum(increase(\(sel){source=\"\(ns)\",destination=\"\(ns)\",verdict=~\"FORWARDED|DROPPED\"}[86400s]))", time: to)
            let both = inbound.values.reduce(0, +) + outbound.values.reduce(0, +)
            #expect(abs((fwd + drop) - (both - intra.values.reduce(0, +))) < 1e-6 * (fwd + drop))
        }
        // Production's drop burst sits in the 14:00–15:30 UTC window of the rate series.
        let prod = try #require(envs.first { $0["namespace"] as? String == "shop-production" }?["flows"] as? [String: Any])
        let dropped = try #require((prod["rate"] as? [String: Any])?["dropped"] as? [[Any]])
        let peak = try #require(dropped.max { ($0[1] as? Double ?? 0) < ($1[1] as? Double ?? 0) })
        let peakTime = try #require(peak[0] as? String)
        #expect(peakTime >= "2026-11-19T14:00:00Z" && peakTime <= "2026-11-19T16:30:00Z", "\(peakTime)")
        // A namespace without traffic is an empty state, not an error.
        let empty = try #require(envs.first { $0["namespace"] as? String == "shop-empty" }?["flows"] as? [String: Any])
        #expect(empty["status"] as? String == "ok")
        #expect(empty["total"] as? Int == 0)
        // The recording replays to the same numbers.
        for name in ["totals", "inbound", "outbound", "rate", "drop_reasons", "drop_pairs"] {
            #expect(FileManager.default.fileExists(atPath: "\(dir)/rec/shop-production/flows/\(name).json"), "\(name)")
        }
        let replay = dir + "/replay.yml"
        try "version: 1\nto: 2026-11-20T00:00:00Z\nenvironments:\n  - { name: shop-production, namespace: shop-production, flows: { replay: rec/shop-production/flows } }\n"
            .write(toFile: replay, atomically: true, encoding: .utf8)
        let rr = try report(["--config", replay, "--output", dir + "/out2", "--format", "json"])
        #expect(rr.code == 0, "\(rr.stderr)")
        let again = try #require(try foundationJSON(dir + "/out2/report.json") as? [String: Any])
        let replayed = try #require(((again["environments"] as? [[String: Any]])?.first)?["flows"] as? [String: Any])
        #expect(replayed["total"] as? Int == prod["total"] as? Int)
        #expect(!rr.stderr.contains("recorded for another query"))
    }

    @Test("The number of Prometheus requests per environment does not grow with the window (1h vs 30d)")
    func roundTripsDoNotGrowWithWindow() throws {
        let prom = try LivePrometheus()
        var counts: [Int] = []
        for window in ["1h", "30d"] {
            let dir = tempDir("promrt")
            let r = try report(["--config", try config(prom, dir: dir, namespaces: ["shop-production"]), "--output", dir + "/out",
                                "--format", "json", "--window", window, "--record", dir + "/rec"])
            #expect(r.code == 0, "\(r.stderr)")
            counts.append(try FileManager.default.contentsOfDirectory(atPath: dir + "/rec/shop-production/flows").filter { $0.hasSuffix(".request.json") }.count)
        }
        // Six statistics queries, then the workload query and, as these metrics name no workload,
        // the workload-context one: eight, whatever the window.
        #expect(counts == [8, 8])
    }

    @Test("A Prometheus that is not there gives a partial report naming the URL, exit 3")
    func refused() throws {
        let dir = tempDir("promdown")
        let port = freePort()
        try "version: 1\nto: 2026-11-20T00:00:00Z\nenvironments:\n  - { name: p, namespace: p, flows: { prometheus: { url: \"http://127.0.0.1:\(port)/prefix\", retries: 1, timeout: 2 } } }\n"
            .write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try report(["--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json"], env: ["THREAT_REPORT_RETRY_BACKOFF": "0.05"])
        #expect(r.code == 3)
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let flows = try #require(((json["environments"] as? [[String: Any]])?.first)?["flows"] as? [String: Any])
        let error = try #require(flows["error"] as? String)
        #expect(error.hasPrefix("http://127.0.0.1:\(port)/prefix/api/v1/query: connection refused"), "\(error)")
        #expect(error.contains("after 2 attempts"))
    }
}
