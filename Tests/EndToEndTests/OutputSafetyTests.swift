import Foundation
import Testing

/// Every file under `dir` (relative path → bytes).
func folderSnapshot(_ dir: String) -> [String: Data] {
    var out: [String: Data] = [:]
    guard let e = FileManager.default.enumerator(atPath: dir) else { return out }
    while let p = e.nextObject() as? String {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir + "/" + p, isDirectory: &isDir), !isDir.boolValue {
            out[p] = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/" + p))) ?? Data()
        }
    }
    return out
}

/// Mounts a tmpfs (root only); nil when this machine does not allow it.
func mountTmpfs(_ dir: String, options: String) -> Bool {
    guard getuid() == 0, let mount = which("mount") else { return false }
    return (try? run(mount, ["-t", "tmpfs", "-o", options, "tmpfs", dir]))?.code == 0
}

func unmount(_ dir: String) {
    if let umount = which("umount") { _ = try? run(umount, [dir]) }
}

/// The output folder switches atomically from one complete report to the next, whatever happens.
@Suite("Output safety: SIGKILL while writing, read-only folder, full disk, concurrent runs")
struct OutputSafetyTests {
    static let formats = "html,md,json,sarif,junit,codequality,pdf"
    static let epochs = ["1795132800", "1795219200"]

    func args(_ out: String) -> [String] {
        // The policy drift section depends on the report the folder held before: off, so each variant
        // is one fixed report whatever it replaces (the drift has its own tests).
        ["--config", repo + "/samples/threat-report.yml", "--output", out, "--format", Self.formats, "--policy-drift", "off"]
    }

    /// The complete report of each variant (they differ in generated_at, so in every format).
    func references() throws -> [[String: Data]] {
        try Self.epochs.map { epoch in
            let out = tempDir("ref") + "/out"
            let r = try report(args(out), env: ["SOURCE_DATE_EPOCH": epoch])
            try #require(r.code == 0 || r.code == 3, "\(r.stderr)")
            let snap = folderSnapshot(out)
            try #require(snap["report.json"] != nil && snap["report.pdf"] != nil && snap.keys.contains { $0.hasPrefix("charts/") })
            return snap
        }
    }

    @Test("SIGKILL at random points in 50 runs: the folder always holds the previous or the new complete report")
    func killLoop() throws {
        let refs = try references()
        try #require(refs[0] != refs[1])
        // generated_at differs, so these files tell the two reports apart (SARIF and Code Quality
        // carry no time and are the same in both).
        for path in ["report.json", "report.html", "report.md", "report.pdf"] {
            #expect(refs[0][path] != nil && refs[0][path] != refs[1][path], "\(path) differs between the variants")
        }
        let parent = tempDir("kill")
        let out = parent + "/out"
        /// Whether run `pid` is writing: its own staging folder exists (killed runs leave theirs behind).
        func staging(_ pid: pid_t) -> Bool {
            ((try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []).contains { $0.hasPrefix(".out.staging-\(pid)-") }
        }
        func start(_ variant: Int) throws -> pid_t {
            let io = tempDir("killio")
            FileManager.default.createFile(atPath: io + "/stdin", contents: Data())
            return try spawn(binary, ["report"] + args(out), cwd: repo, env: ["SOURCE_DATE_EPOCH": Self.epochs[variant]],
                             stdin: io + "/stdin", stdout: io + "/stdout", stderr: io + "/stderr")
        }
        _ = try report(args(out), env: ["SOURCE_DATE_EPOCH": Self.epochs[0]])
        var current = 0
        try #require(folderSnapshot(out) == refs[current])
        // Time one run, and its writing phase (from the staging folder's creation to the exit).
        let t0 = Date()
        var tStaging: Date?
        let timing = try start(0)
        var status: Int32 = 0
        while waitpid(timing, &status, WNOHANG) == 0 {
            if tStaging == nil, staging(timing) { tStaging = Date() }
            usleep(500)
        }
        let runSeconds = Date().timeIntervalSince(t0)
        let writeSeconds = max(0.005, Date().timeIntervalSince(tStaging ?? t0))
        var kept = 0, switched = 0, finished = 0, duringWrite = 0
        // Each kind of kill adapts its delay: longer after a kill that kept the previous report,
        // shorter after one that found the new report, so the kills close in on the switch
        // whatever the machine's speed.
        var scale = [1.0, 1.0]
        for i in 0..<50 {
            let next = 1 - current
            let pid = try start(next)
            let kind = i % 2
            let jitter = Double.random(in: 0.6...1.2)
            if kind == 0 {
                // Anywhere in the run.
                usleep(UInt32(min(10, scale[0] * jitter * runSeconds) * 1_000_000))
            } else {
                // Aimed at the writing phase: once the staging folder exists, within its span.
                let limit = Date().addingTimeInterval(5 * runSeconds + 5)
                while !staging(pid), Date() < limit, waitpid(pid, &status, WNOHANG) == 0 { usleep(200) }
                usleep(UInt32(min(10, scale[1] * jitter * writeSeconds) * 1_000_000))
            }
            if staging(pid) { duringWrite += 1 }
            kill(pid, SIGKILL)
            let code = waitFor(pid)
            if code != 128 + SIGKILL { finished += 1 }
            let snap = folderSnapshot(out)
            if snap == refs[current] {
                kept += 1
                scale[kind] *= 1.3
            } else if snap == refs[next] {
                switched += 1
                current = next
                scale[kind] /= 1.3
            } else {
                let paths = Set(snap.keys).union(refs[current].keys).union(refs[next].keys).sorted()
                let fromPrevious = paths.filter { snap[$0] != nil && snap[$0] == refs[current][$0] && snap[$0] != refs[next][$0] }
                let fromNew = paths.filter { snap[$0] != nil && snap[$0] == refs[next][$0] && snap[$0] != refs[current][$0] }
                let other = paths.filter { snap[$0] != refs[current][$0] && snap[$0] != refs[next][$0] }
                Issue.record("""
                    run \(i): the folder is neither the previous nor the new report: previous \(fromPrevious.prefix(4)), \
                    new \(fromNew.prefix(4)), truncated/missing/foreign \(other.prefix(4))
                    """)
                return
            }
        }
        print("kill loop: one run \(String(format: "%.2f", runSeconds)) s, writing \(String(format: "%.3f", writeSeconds)) s; 50 kills (\(duringWrite) while the staging folder existed): previous report kept \(kept)×, new report \(switched)× (\(finished) runs had finished)")
        #expect(duringWrite >= 5, "kills landed while the report was being written")
        #expect(kept > 0 && switched > 0, "the kills landed both before and after the switch")
        // The next complete run removes what killed runs left beside the folder.
        let r = try report(args(out), env: ["SOURCE_DATE_EPOCH": Self.epochs[0]])
        #expect(r.code == 0 || r.code == 3)
        #expect(folderSnapshot(out) == refs[0])
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).sorted() == [".out.lock", "out"])
    }

    @Test("A read-only output folder: exit 2, the error names the path and the cause")
    func readOnly() throws {
        let mnt = tempDir("ro")
        guard mountTmpfs(mnt, options: "ro,size=1m") else {
            // Without mount rights: a path below a regular file cannot be created either.
            FileManager.default.createFile(atPath: mnt + "/file", contents: Data())
            let r = try report(args(mnt + "/file/out"))
            #expect(r.code == 2)
            #expect(r.stderr.contains(mnt + "/file/out"))
            return
        }
        defer { unmount(mnt) }
        let r = try report(args(mnt + "/out"))
        #expect(r.code == 2, "\(r.stderr)")
        #expect(r.stderr.contains("--output: cannot write \(mnt)/out"), "\(r.stderr)")
        #expect(r.stderr.contains("Read-only file system"), "\(r.stderr)")
        #expect(r.stdout.isEmpty)
    }

    @Test("A full disk: exit 2 naming the file, and the previous report stays complete")
    func fullDisk() throws {
        let refs = try references()
        let small = try #require(refs[0]["report.json"]).count
        let all = refs[1].values.reduce(0) { $0 + $1.count }
        let size = (small * 2 / 4096 + 16) * 4096
        try #require(all > size, "the full report (\(all) B) must not fit in \(size) B")
        let mnt = tempDir("full")
        guard mountTmpfs(mnt, options: "size=\(size)") else {
            // /dev/full is a folder-less full disk: an output folder below it cannot be made.
            let r = try report(args("/dev/full/out"))
            #expect(r.code == 2)
            #expect(r.stderr.contains("/dev/full/out"))
            return
        }
        defer { unmount(mnt) }
        let out = mnt + "/out"
        let first = try report(["--config", repo + "/samples/threat-report.yml", "--output", out, "--format", "json", "--policy-drift", "off"],
                               env: ["SOURCE_DATE_EPOCH": Self.epochs[0]])
        try #require(first.code == 0 || first.code == 3, "\(first.stderr)")
        let before = folderSnapshot(out)
        #expect(before["report.json"] == refs[0]["report.json"])
        let r = try report(args(out), env: ["SOURCE_DATE_EPOCH": Self.epochs[1]])
        #expect(r.code == 2, "\(r.stderr)")
        #expect(r.stderr.contains("--output: cannot write \(out)/"), "\(r.stderr)")
        #expect(r.stderr.contains("No space left on device"), "\(r.stderr)")
        #expect(folderSnapshot(out) == before, "the previous report is untouched")
        #expect(try FileManager.default.contentsOfDirectory(atPath: mnt).sorted() == [".out.lock", "out"], "no staging folder is left")
    }

    @Test("Concurrent runs into one folder: the second waits for the lock; the result is one complete report")
    func concurrent() throws {
        let refs = try references()
        let parent = tempDir("concurrent")
        let out = parent + "/out"
        _ = try report(args(out), env: ["SOURCE_DATE_EPOCH": Self.epochs[0]])
        // Hold the lock: a run must wait and leave the folder alone until it is released.
        let lock = open(parent + "/.out.lock", O_RDWR)
        try #require(lock >= 0 && flock(lock, LOCK_EX) == 0)
        let io = tempDir("concio")
        FileManager.default.createFile(atPath: io + "/stdin", contents: Data())
        let waiting = try spawn(binary, ["report"] + args(out), cwd: repo, env: ["SOURCE_DATE_EPOCH": Self.epochs[1]],
                                stdin: io + "/stdin", stdout: io + "/stdout", stderr: io + "/stderr")
        var status: Int32 = 0
        var stillRunning = true
        for _ in 0..<100 {  // up to 10 s: far longer than one run
            usleep(100_000)
            if waitpid(waiting, &status, WNOHANG) == waiting { stillRunning = false; break }
        }
        #expect(stillRunning, "the run waits for the lock")
        #expect(folderSnapshot(out) == refs[0])
        flock(lock, LOCK_UN)
        close(lock)
        if stillRunning { _ = waitFor(waiting) }
        #expect(folderSnapshot(out) == refs[1])

        // Two runs at once, several times: each result is one complete report.
        for round in 0..<3 {
            let pids = try (0..<2).map { v in
                try spawn(binary, ["report"] + args(out), cwd: repo, env: ["SOURCE_DATE_EPOCH": Self.epochs[v]],
                          stdin: io + "/stdin", stdout: io + "/stdout\(v)", stderr: io + "/stderr\(v)")
            }
            let codes = pids.map { waitFor($0) }
            #expect(codes.allSatisfy { $0 == 0 || $0 == 3 }, "round \(round): \(codes)")
            let snap = folderSnapshot(out)
            #expect(snap == refs[0] || snap == refs[1], "round \(round)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).sorted() == [".out.lock", "out"])
    }
}
