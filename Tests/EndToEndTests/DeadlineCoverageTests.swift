import Foundation
import Testing

/// `--deadline` bounds the whole run, local reads included: a stdin that never closes ends at the
/// deadline (exit 3, the deadline as the section's cause), and a FIFO given as a policy file or
/// left as a recorded answer is refused at once and named, never waited on. Either way the report
/// is still written from what was read.
@Suite("Deadline covers local reads: FIFO policy file, FIFO recorded answer, endless stdin")
struct DeadlineCoverageTests {
    /// Runs the CLI with `stdin` as its standard input; waits for it to end by itself, up to a
    /// generous safety bound (then it is killed and nil is returned: the run hung).
    func runEnding(_ args: [String], cwd: String = repo, stdin: String) throws -> Run? {
        let io = tempDir("dlio")
        let pid = try spawn(binary, ["report"] + args, cwd: cwd, env: [:], stdin: stdin, stdout: io + "/stdout", stderr: io + "/stderr")
        var status: Int32 = 0
        for _ in 0..<1200 {  // 120 s: far past every deadline used here
            if waitpid(pid, &status, WNOHANG) == pid {
                let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
                return Run(code: code, stdout: (try? String(contentsOfFile: io + "/stdout", encoding: .utf8)) ?? "",
                           stderr: (try? String(contentsOfFile: io + "/stderr", encoding: .utf8)) ?? "")
            }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        waitFor(pid)
        return nil
    }

    func emptyStdin() -> String {
        let p = tempDir("dlstdin") + "/stdin"
        FileManager.default.createFile(atPath: p, contents: Data())
        return p
    }

    /// A FIFO with the test holding its write end open (writing nothing), as a hostile user would.
    func heldFIFO(_ path: String) throws -> Int32 {
        try #require(mkfifo(path, 0o644) == 0)
        let fd = open(path, O_RDWR | O_NONBLOCK)
        try #require(fd >= 0)
        return fd
    }

    func sections(_ jsonPath: String) throws -> [String: [String: (status: String, error: String)]] {
        let json = try #require(try foundationJSON(jsonPath) as? [String: Any])
        var out: [String: [String: (String, String)]] = [:]
        for env in json["environments"] as? [[String: Any]] ?? [] {
            var s: [String: (String, String)] = [:]
            for name in ["waf", "flows", "policies"] {
                let sec = env[name] as? [String: Any] ?? [:]
                s[name] = (sec["status"] as? String ?? "", sec["error"] as? String ?? "")
            }
            out[env["name"] as? String ?? ""] = s
        }
        return out
    }

    @Test("FIFO as the policy file, held open, with --deadline 30s: refused at once (not by the deadline) and named (exit 3, policies unavailable), the other sections fine, the report written")
    func fifoPolicyFile() throws {
        let dir = tempDir("dlfifo")
        let writer = try heldFIFO(dir + "/policies.yaml")
        defer { close(writer) }
        let r = try #require(try runEnding(["--config", repo + "/samples/threat-report.yml", "--output", dir + "/out",
                                            "--format", "html,json", "--deadline", "30s", "--policies", dir + "/policies.yaml"],
                                           stdin: emptyStdin()), "the run ended by itself")
        #expect(r.code == 3, "\(r.stderr)")
        let s = try sections(dir + "/out/report.json")
        for env in ["production", "staging"] {
            let p = try #require(s[env]?["policies"])
            #expect(p.status == "unavailable")
            #expect(p.error.contains("\(dir)/policies.yaml: is not a regular file (a FIFO)"), "\(p.error)")
            #expect(s[env]?["waf"]?.status == "ok" && s[env]?["flows"]?.status == "ok", "\(env): \(String(describing: s[env]))")
        }
        #expect(FileManager.default.fileExists(atPath: dir + "/out/report.html"))
        #expect(r.stderr.contains("exit 3: partial report, unavailable: production/policies, staging/policies"), "\(r.stderr)")
    }

    @Test("FIFO as a recorded answer in a replay folder: that section is unavailable, the FIFO named; the run ends and writes the report")
    func fifoRecordedAnswer() throws {
        let dir = tempDir("dlreplay")
        let copy = try run("/bin/cp", ["-R", repo + "/samples", dir + "/samples"])
        try #require(copy.code == 0, "\(copy.stderr)")
        // Staging's flows are a Prometheus recording (production's come from a Hubble export).
        let answer = dir + "/samples/staging/flows/totals.json"
        try FileManager.default.removeItem(atPath: answer)
        let writer = try heldFIFO(answer)
        defer { close(writer) }
        let r = try #require(try runEnding(["--config", dir + "/samples/threat-report.yml", "--output", dir + "/out", "--format", "json",
                                            "--deadline", "30s"], stdin: emptyStdin()), "the run ended by itself")
        #expect(r.code == 3, "\(r.stderr)")
        let s = try sections(dir + "/out/report.json")
        let flows = try #require(s["staging"]?["flows"])
        #expect(flows.status == "unavailable")
        #expect(flows.error.contains(answer + ": is not a regular file (a FIFO)"), "\(flows.error)")
        #expect(s["production"]?.values.allSatisfy { $0.status == "ok" } == true, "the other environment was read whole: \(String(describing: s["production"]))")
        #expect(s["staging"]?["waf"]?.status == "ok", "the section read before the FIFO")
        // The FIFO costs no time: the section after it is read whole.
        #expect(s["staging"]?["policies"]?.status == "ok", "\(String(describing: s["staging"]))")
    }

    @Test("--policies - with a stdin that never closes: the read ends at --deadline 2s; exit 3 with the stdin deadline cause; the report is written")
    func endlessStdin() throws {
        let dir = tempDir("dlstdin-endless")
        let writer = try heldFIFO(dir + "/stdin")
        defer { close(writer) }
        let r = try #require(try runEnding(["--config", repo + "/samples/threat-report.yml", "--output", dir + "/out", "--format", "json",
                                            "--deadline", "2s", "--policies", "-"], stdin: dir + "/stdin"), "the run ended by itself")
        #expect(r.code == 3, "\(r.stderr)")
        let s = try sections(dir + "/out/report.json")
        let p = try #require(s["production"]?["policies"])
        #expect(p.status == "unavailable")
        #expect(p.error.contains("stdin") && p.error.contains("deadline of 2s passed (--deadline)"), "\(p.error)")
    }

    @Test("--policies - whose stdin closes in time is read as before (the control)")
    func stdinInTime() throws {
        let dir = tempDir("dlstdin-ok")
        let manifests = try String(contentsOfFile: repo + "/samples/production/policies/web.yaml", encoding: .utf8)
        let r = try report(["--config", repo + "/samples/threat-report.yml", "--output", dir + "/out", "--format", "json",
                            "--deadline", "30s", "--policies", "-"], stdin: Data(manifests.utf8))
        #expect(r.code == 0 || r.code == 1, "\(r.stderr)")
        let s = try sections(dir + "/out/report.json")
        #expect(s["production"]?["policies"]?.status == "ok")
    }
}
