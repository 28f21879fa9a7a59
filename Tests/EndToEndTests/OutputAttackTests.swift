import Foundation
import Testing

/// The output tree as an attacker who can write beside or inside the output folder sees it: a
/// root run must never create or write a file through a planted link, must not wait forever for
/// a lock someone else holds, must keep the folder's owner, mode and ACLs, and must not leave
/// report files of other formats looking current.
@Suite("Output tree attacks: planted links, a held lock, folder attributes, stale formats")
struct OutputAttackTests {
    func args(_ out: String, formats: String = "json") -> [String] {
        ["--config", repo + "/samples/threat-report.yml", "--output", out, "--format", formats]
    }

    /// A folder outside the output tree standing for `/etc`: what a link points at.
    func victim() throws -> (dir: String, file: String) {
        let dir = tempDir("victim")
        try "original\n".write(toFile: dir + "/passwd", atomically: true, encoding: .utf8)
        return (dir, dir + "/passwd")
    }

    @Test("Symlinked lock file pointing at an existing file or at a new one: exit 2 naming the lock; the target is untouched or not created")
    func symlinkedLockFile() throws {
        let v = try victim()
        let parent = tempDir("locklink")
        try FileManager.default.createSymbolicLink(atPath: parent + "/.out.lock", withDestinationPath: v.file)
        let r = try report(args(parent + "/out"))
        #expect(r.code == 2, "\(r.stderr)")
        #expect(r.stderr.contains("cannot write \(parent)/.out.lock: it is a symbolic link"), "\(r.stderr)")
        #expect(try String(contentsOfFile: v.file, encoding: .utf8) == "original\n")
        #expect(!FileManager.default.fileExists(atPath: parent + "/out"), "nothing was written")
        // A dangling link: O_CREAT must not create the file it names.
        try FileManager.default.removeItem(atPath: parent + "/.out.lock")
        try FileManager.default.createSymbolicLink(atPath: parent + "/.out.lock", withDestinationPath: v.dir + "/created-by-root")
        let dangling = try report(args(parent + "/out"))
        #expect(dangling.code == 2, "\(dangling.stderr)")
        #expect(!FileManager.default.fileExists(atPath: v.dir + "/created-by-root"))
    }

    @Test("The lock file is created 0600, holds no stale PID after the run, and a FIFO in its place is refused")
    func lockFileMode() throws {
        let parent = tempDir("lockmode")
        let r = try report(args(parent + "/out"))
        #expect(r.code == 0 || r.code == 3, "\(r.stderr)")
        var st = stat()
        try #require(lstat(parent + "/.out.lock", &st) == 0)
        #expect(st.st_mode & 0o7777 == 0o600)
        #expect(st.st_size == 0, "the PID is cleared when the lock is released")
        try FileManager.default.removeItem(atPath: parent + "/.out.lock")
        try #require(mkfifo(parent + "/.out.lock", 0o600) == 0)
        let fifo = try report(args(parent + "/out"))
        #expect(fifo.code == 2, "\(fifo.stderr)")
        #expect(fifo.stderr.contains("\(parent)/.out.lock: the lock file is not a regular file"), "\(fifo.stderr)")
    }

    @Test("Output folder itself a symlink: refused with exit 2 naming it; the link target is untouched")
    func symlinkedOutputFolder() throws {
        let v = try victim()
        let parent = tempDir("outlink")
        try FileManager.default.createSymbolicLink(atPath: parent + "/out", withDestinationPath: v.dir)
        let r = try report(args(parent + "/out"))
        #expect(r.code == 2, "\(r.stderr)")
        #expect(r.stderr.contains("cannot write \(parent)/out: it is a symbolic link"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: v.dir) == ["passwd"])
    }

    @Test("Planted charts symlink in file-by-file mode: exit 2 naming charts; no chart lands outside; the folder is unchanged")
    func plantedChartsLink() throws {
        let v = try victim()
        let out = tempDir("chartslink") + "/repo"
        try FileManager.default.createDirectory(atPath: out + "/.git", withIntermediateDirectories: true)  // file-by-file mode
        try FileManager.default.createSymbolicLink(atPath: out + "/charts", withDestinationPath: v.dir)
        let r = try report(args(out, formats: "html,json"))
        #expect(r.code == 2, "\(r.stderr)")
        #expect(r.stderr.contains("cannot write \(out)/charts: it is a symbolic link"), "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: v.dir) == ["passwd"], "no chart was written through the link")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == [".git", "charts"], "no report file was moved in")
    }

    @Test("Planted report-file symlink in file-by-file mode: refused before any file moves")
    func plantedReportFileLink() throws {
        let v = try victim()
        let out = tempDir("filelink") + "/repo"
        try FileManager.default.createDirectory(atPath: out + "/.git", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: out + "/report.json", withDestinationPath: v.file)
        let r = try report(args(out, formats: "md,json"))
        #expect(r.code == 2, "\(r.stderr)")
        #expect(r.stderr.contains("cannot write \(out)/report.json: it is a symbolic link"), "\(r.stderr)")
        #expect(try String(contentsOfFile: v.file, encoding: .utf8) == "original\n")
        #expect(!FileManager.default.fileExists(atPath: out + "/report.md"), "nothing moved in before the check")
    }

    @Test("Symlinked staging names (beside the folder and inside a file-by-file folder) are removed as links, their targets kept")
    func symlinkedStagingNames() throws {
        let v = try victim()
        let parent = tempDir("staginglink")
        _ = try report(args(parent + "/out"))
        try FileManager.default.createSymbolicLink(atPath: parent + "/.out.staging-1-1", withDestinationPath: v.dir)
        let r = try report(args(parent + "/out"))
        #expect(r.code == 0 || r.code == 3, "\(r.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: v.dir) == ["passwd"], "the link's target kept its content")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).sorted() == [".out.lock", "out"])

        let repoDir = tempDir("staginglink2") + "/repo"
        try FileManager.default.createDirectory(atPath: repoDir + "/.git", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: repoDir + "/.threat-report.staging-1-1", withDestinationPath: v.dir)
        let inPlace = try report(args(repoDir))
        #expect(inPlace.code == 0 || inPlace.code == 3, "\(inPlace.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: v.dir) == ["passwd"])
        // The sample's production reads flow files: its suggested policies are written with the report.
        #expect(try FileManager.default.contentsOfDirectory(atPath: repoDir).sorted() == [".git", "SHA256SUMS", "report.json", "suggested-policies"])
    }

    /// Starts a Python child that takes the lock with flock and (when `writePID`) writes its PID;
    /// returns once it holds the lock.
    func holdLock(_ path: String, writePID: Bool) throws -> pid_t {
        let io = tempDir("holder")
        let ready = io + "/ready"
        let script = """
        import fcntl, os, time
        fd = os.open(\(String(reflecting: path)), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        if \(writePID ? "True" : "False"):
            os.ftruncate(fd, 0); os.write(fd, b"%d\\n" % os.getpid())
        open(\(String(reflecting: ready)), "w").close()
        time.sleep(120)
        """
        FileManager.default.createFile(atPath: io + "/stdin", contents: Data())
        let pid = try spawn("/usr/bin/python3", ["-c", script], cwd: io, env: [:], stdin: io + "/stdin", stdout: io + "/out", stderr: io + "/err")
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: ready) { usleep(50_000) }
        try #require(FileManager.default.fileExists(atPath: ready), "the lock holder started")
        return pid
    }

    @Test("A lock held by another process: the wait ends at --deadline 3s with exit 2, naming the PID (or 'another process'); the folder is untouched")
    func heldLock() throws {
        let parent = tempDir("held")
        let first = try report(args(parent + "/out"))
        try #require(first.code == 0 || first.code == 3)
        let before = folderSnapshot(parent + "/out")
        for writePID in [true, false] {
            let holder = try holdLock(parent + "/.out.lock", writePID: writePID)
            defer {
                kill(holder, SIGKILL)
                waitFor(holder)
            }
            let r = try report(args(parent + "/out", formats: "json,md") + ["--deadline", "3s"])
            #expect(r.code == 2, "\(r.stderr)")
            let who = writePID ? "PID \(holder)" : "another process"
            #expect(r.stderr.contains("cannot write \(parent)/out: output locked by \(who)"), "\(r.stderr)")
            #expect(r.stderr.contains("deadline of 3s passed (--deadline) while waiting for it"), "\(r.stderr)")
            #expect(folderSnapshot(parent + "/out") == before)
        }
    }

    @Test("The atomic switch keeps a 0700 root:daemon folder, a 2750 setgid folder and its access and default ACLs")
    func folderAttributesKept() throws {
        guard getuid() == 0, let setfacl = which("setfacl"), let getfacl = which("getfacl") else {
            Issue.record("needs root and the acl package (scripts/install-deps.sh test)")
            return
        }
        let daemon = try #require(getgrnam("daemon")).pointee.gr_gid
        for mode: mode_t in [0o700, 0o2750] {
            let out = tempDir("attrs") + "/out"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            try #require(chown(out, 0, daemon) == 0 && chmod(out, mode) == 0)
            try #require(try run(setfacl, ["-m", "u:nobody:rx", "-d", "-m", "u:nobody:rx,g::rx,o::-", out]).code == 0)
            let acl = try run(getfacl, ["-p", out]).stdout
            var before = stat()
            stat(out, &before)
            let r = try report(args(out, formats: "html,json"))
            #expect(r.code == 0 || r.code == 3, "\(r.stderr)")
            var after = stat()
            stat(out, &after)
            #expect(after.st_ino != before.st_ino, "the folder was switched as a whole")
            #expect(after.st_mode & 0o7777 == before.st_mode & 0o7777, "mode \(String(after.st_mode & 0o7777, radix: 8))")
            #expect(after.st_uid == 0 && after.st_gid == daemon)
            #expect(try run(getfacl, ["-p", out]).stdout == acl, "access and default ACL kept")
            // The files made in the new folder inherit its default ACL (and, setgid, its group).
            let fileACL = try run(getfacl, ["-p", out + "/report.json"]).stdout
            #expect(fileACL.contains("user:nobody:r-x"), "\(fileACL)")
            var file = stat()
            stat(out + "/report.json", &file)
            #expect(file.st_mode & 0o007 == 0, "not world-readable")
            if mode & 0o2000 != 0 { #expect(file.st_gid == daemon) }
        }
    }

    @Test("Report files of formats this run did not write are removed (switched folder and file by file); SHA256SUMS lists exactly what is there")
    func staleFormatsRemoved() throws {
        let all = "html,md,json,sarif,junit,codequality,pdf"
        let switched = tempDir("stale") + "/out"
        let inPlace = tempDir("stale-inplace") + "/repo"
        try FileManager.default.createDirectory(atPath: inPlace + "/.git", withIntermediateDirectories: true)
        for out in [switched, inPlace] {
            let first = try report(args(out, formats: all))
            try #require(first.code == 0 || first.code == 3, "\(first.stderr)")
            try "mine".write(toFile: out + "/notes.txt", atomically: true, encoding: .utf8)
            try #require(FileManager.default.fileExists(atPath: out + "/report.pdf"))
            let second = try report(args(out, formats: "html,json"))
            #expect(second.code == 0 || second.code == 3, "\(second.stderr)")
            let left = Set(folderSnapshot(out).keys)
            for gone in ["report.pdf", "report.md", "report.sarif", "report.junit.xml", "report.codequality.json"] {
                #expect(!left.contains(gone), "\(out): \(gone) stayed behind")
            }
            #expect(left.contains("notes.txt"), "the user's own file stays")
            let sums = try String(contentsOfFile: out + "/SHA256SUMS", encoding: .utf8)
            let listed = Set(sums.split(separator: "\n").map { String($0.split(separator: " ", maxSplits: 1)[1].drop { $0 == " " }) })
            let reportFiles = left.filter { $0 != "notes.txt" && !$0.hasPrefix(".git") && $0 != "SHA256SUMS" }
            #expect(listed == reportFiles, "\(out): SHA256SUMS lists \(listed.sorted()), the folder holds \(reportFiles.sorted())")
            // A run without charts removes the chart files too.
            let third = try report(args(out, formats: "json"))
            #expect(third.code == 0 || third.code == 3)
            #expect(!folderSnapshot(out).keys.contains { $0.hasPrefix("charts/") }, "\(out): old charts stayed")
        }
    }
}
