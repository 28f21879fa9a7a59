import Foundation
import ThreatRender

/// Why the output folder could not take the report (exit 2).
public struct OutputError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

/// Writes a report so that the output folder switches from the previous complete report to the
/// new complete one in one step, whatever happens to the process (SIGKILL, power loss, full disk):
///
/// 1. An exclusive lock on `<parent>/.<name>.lock` keeps concurrent runs apart (the second waits).
/// 2. The new report is written into a fresh staging folder `<parent>/.<name>.staging-<pid>-<n>`
///    beside the output folder (same file system); every file is flushed to disk. Entries of the
///    old folder that the new report does not write (other formats, the user's own files) are
///    carried over as hard links.
/// 3. The staging folder and the output folder are exchanged atomically (`renameat2` with
///    `RENAME_EXCHANGE`), then the old generation is deleted.
///
/// A reader, or a run killed at any point, sees either the whole previous report or the whole new
/// one. Leftover staging folders of killed runs are removed by the next run. Where the file system
/// cannot exchange folders (or the output folder is a mount point), the folder is replaced by two
/// renames, and failing that file by file, each file still atomic. A folder that is not only a
/// report (`/`, the working directory or above it, or one with subfolders the report does not
/// write) is written file by file from a staging folder inside it (docs/faults.md).
public struct OutputWriter {
    public var directory: String
    public init(directory: String) { self.directory = directory }

    static func errno_() -> String { String(cString: strerror(errno)) }

    /// Writes all files and returns their paths, in the order given.
    public func write(_ files: [OutputFile]) throws(OutputError) -> [String] {
        var target = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        if let real = realpath(target, nil) {  // a symlinked output folder: replace its target
            target = String(cString: real)
            free(real)
        }
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = ((target.hasPrefix("/") ? target : cwd + "/" + target) as NSString).standardizingPath
        let parent = (absolute as NSString).deletingLastPathComponent
        let name = (absolute as NSString).lastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw OutputError(path: directory, reason: "cannot create the folder \(parent) (\((error as NSError).localizedDescription))")
        }
        var isDir: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: absolute, isDirectory: &isDir)
        if exists, !isDir.boolValue { throw OutputError(path: directory, reason: "it exists and is not a folder") }

        let lockPath = absolute == "/" ? "/.threat-report.lock" : parent + "/." + name + ".lock"
        let lockFD = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else { throw OutputError(path: directory, reason: "cannot create the lock file \(lockPath): \(OutputWriter.errno_())") }
        defer { close(lockFD) }
        guard flock(lockFD, LOCK_EX) == 0 else { throw OutputError(path: lockPath, reason: OutputWriter.errno_()) }
        defer { flock(lockFD, LOCK_UN) }

        let written = Set(files.map { String($0.path.split(separator: "/").first ?? "") })
        if exists, !OutputWriter.switchable(absolute, written: written, cwd: cwd) {
            return try writeInPlace(files, folder: absolute)
        }
        // Under the lock no other run is writing: staging folders left by killed runs can go.
        let stagingPrefix = "." + name + ".staging-"
        for e in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] where e.hasPrefix(stagingPrefix) {
            try? FileManager.default.removeItem(atPath: parent + "/" + e)
        }
        let staging = parent + "/" + stagingPrefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(staging, 0o755) == 0 else {
            throw OutputError(path: directory, reason: "cannot create the staging folder \(staging): \(OutputWriter.errno_())")
        }
        var done = false
        defer { if !done { try? FileManager.default.removeItem(atPath: staging) } }

        for f in files { try stage(f, into: staging, reportedAs: directory + "/" + f.path) }
        if exists {
            for e in (try? FileManager.default.contentsOfDirectory(atPath: absolute)) ?? [] where !written.contains(e) {
                try carry(absolute + "/" + e, to: staging + "/" + e)
            }
        }
        syncFolder(staging)
        try publish(staging: staging, target: absolute, exists: exists, files: files)
        done = true
        syncFolder(parent)
        return files.map { directory + "/" + $0.path }
    }

    /// Whether the whole folder may be switched: not `/`, not the working directory or one above
    /// it, and no subfolder the report does not write (a repository, a home folder): such a folder
    /// is written file by file instead.
    static func switchable(_ folder: String, written: Set<String>, cwd: String) -> Bool {
        if folder == "/" || cwd == folder || cwd.hasPrefix(folder + "/") { return false }
        for e in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where !written.contains(e) {
            var st = stat()
            if lstat(folder + "/" + e, &st) == 0, st.st_mode & S_IFMT == S_IFDIR { return false }
        }
        return true
    }

    /// File by file: every file staged in `.threat-report.staging-*` inside the folder, flushed,
    /// then renamed over the old one (each file complete; the set switches within milliseconds).
    func writeInPlace(_ files: [OutputFile], folder: String) throws(OutputError) -> [String] {
        let prefix = ".threat-report.staging-"
        for e in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where e.hasPrefix(prefix) {
            try? FileManager.default.removeItem(atPath: folder + "/" + e)
        }
        let staging = folder + "/" + prefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdir(staging, 0o755) == 0 else {
            throw OutputError(path: directory, reason: "cannot create the staging folder \(staging): \(OutputWriter.errno_())")
        }
        defer { try? FileManager.default.removeItem(atPath: staging) }
        for f in files { try stage(f, into: staging, reportedAs: directory + "/" + f.path) }
        try renameEach(files, from: staging, to: folder)
        return files.map { directory + "/" + $0.path }
    }

    func renameEach(_ files: [OutputFile], from staging: String, to target: String) throws(OutputError) {
        for f in files {
            let to = target + "/" + f.path
            try? FileManager.default.createDirectory(atPath: (to as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard rename(staging + "/" + f.path, to) == 0 else { throw OutputError(path: directory + "/" + f.path, reason: OutputWriter.errno_()) }
        }
    }

    /// Writes one file into the staging folder and flushes it.
    func stage(_ f: OutputFile, into staging: String, reportedAs shown: String) throws(OutputError) {
        let path = staging + "/" + f.path
        let dir = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw OutputError(path: (shown as NSString).deletingLastPathComponent, reason: "cannot create the folder")
        }
        let fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OutputError(path: shown, reason: OutputWriter.errno_()) }
        var written = 0
        let result: Int = f.bytes.withUnsafeBytes { buf in
            while written < buf.count {
                let n = Foundation.write(fd, buf.baseAddress! + written, buf.count - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return -1
                }
                written += n
            }
            return 0
        }
        if result != 0 || fsync(fd) != 0 {
            let reason = OutputWriter.errno_()
            close(fd)
            throw OutputError(path: shown, reason: reason)
        }
        guard close(fd) == 0 else { throw OutputError(path: shown, reason: OutputWriter.errno_()) }
    }

    /// Carries an entry the new report does not write over into the staging folder: hard links
    /// for files (no copy, no extra space), folders recreated, symlinks copied.
    func carry(_ from: String, to: String) throws(OutputError) {
        var st = stat()
        guard lstat(from, &st) == 0 else { return }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            guard mkdir(to, st.st_mode & 0o7777) == 0 else { throw OutputError(path: to, reason: OutputWriter.errno_()) }
            for e in (try? FileManager.default.contentsOfDirectory(atPath: from)) ?? [] {
                try carry(from + "/" + e, to: to + "/" + e)
            }
        case S_IFLNK:
            if let dest = try? FileManager.default.destinationOfSymbolicLink(atPath: from) {
                guard symlink(dest, to) == 0 else { throw OutputError(path: to, reason: OutputWriter.errno_()) }
            }
        default:
            if link(from, to) != 0 {
                do {
                    try FileManager.default.copyItem(atPath: from, toPath: to)
                } catch {
                    throw OutputError(path: from, reason: "cannot keep it in the new report folder (\((error as NSError).localizedDescription))")
                }
            }
        }
    }

    /// Makes the staging folder the output folder.
    func publish(staging: String, target: String, exists: Bool, files: [OutputFile]) throws(OutputError) {
        guard exists else {
            guard rename(staging, target) == 0 else { throw OutputError(path: directory, reason: OutputWriter.errno_()) }
            return
        }
        if OutputWriter.exchange(staging, target) == 0 {
            try? FileManager.default.removeItem(atPath: staging)  // now the previous generation
            return
        }
        // No atomic exchange here: move the old folder aside and the new one in (a reader may
        // briefly find no folder, never a mixed one) ...
        let old = staging + "-previous"
        if rename(target, old) == 0 {
            guard rename(staging, target) == 0 else {
                let reason = OutputWriter.errno_()
                _ = rename(old, target)
                throw OutputError(path: directory, reason: reason)
            }
            try? FileManager.default.removeItem(atPath: old)
            return
        }
        // ... or, for a mount point, file by file (each file atomic, the set not).
        try renameEach(files, from: staging, to: target)
        try? FileManager.default.removeItem(atPath: staging)
    }

    func syncFolder(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32
    /// glibc's renameat2 (not exported to Swift), found at run time; nil on a libc without it.
    nonisolated(unsafe) private static let renameat2: RenameAt2? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(sym, to: RenameAt2.self)
    }()

    /// Atomically swaps two paths (`RENAME_EXCHANGE`); -1 with errno when not possible.
    static func exchange(_ a: String, _ b: String) -> Int32 {
        guard let f = renameat2 else {
            errno = ENOSYS
            return -1
        }
        return f(AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */)
    }
}
