import Foundation
import ThreatRender
import ThreatSources

/// Why the output folder could not take the report (exit 2).
public struct OutputError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

/// Writes a report so that the output folder switches from the previous complete report to the
/// new complete one in one step, whatever happens to the process (SIGKILL, power loss, full disk):
///
/// 1. An exclusive lock on `<parent>/.<name>.lock` (0600, holding the PID) keeps concurrent runs
///    apart; the second waits, until the run's deadline at most.
/// 2. The new report is written into a fresh staging folder `<parent>/.<name>.staging-<pid>-<n>`
///    beside the output folder (same file system), which first takes the old folder's owner,
///    group, mode (setgid included) and POSIX ACLs; every file is flushed to disk. Entries of the
///    old folder that the new report does not write (the user's own files) are carried over as
///    hard links; report files of formats this run did not write are not.
/// 3. The staging folder and the output folder are exchanged atomically (`renameat2` with
///    `RENAME_EXCHANGE`), then the old generation is deleted.
///
/// Every step works relative to open folder descriptors and never follows a symbolic link: the
/// path given by the user may hold links up to the output folder's parent, but the output folder
/// itself, the lock file, staging folders, `charts` and the report files must not be links
/// (exit 2, naming the path). Links planted in place of staging folders are removed as links.
///
/// A reader, or a run killed at any point, sees either the whole previous report or the whole new
/// one. Leftover staging folders of killed runs are removed by the next run. Where the file system
/// cannot exchange folders (or the output folder is a mount point), the folder is replaced by two
/// renames, and failing that file by file, each file still atomic. A folder that is not only a
/// report (`/`, the working directory or above it, or one with subfolders the report does not
/// write), or whose owner or ACLs this process cannot give a new folder, is written file by file
/// from a staging folder inside it (docs/faults.md).
public struct OutputWriter {
    public var directory: String
    /// Bounds the wait for the lock (nil instant: wait as long as it takes).
    public var deadline: RunDeadline
    public init(directory: String, deadline: RunDeadline = .none) {
        self.directory = directory
        self.deadline = deadline
    }

    /// Every top-level name a report of some format writes: those this run does not write are
    /// removed (they would look current), the others are the user's and are kept.
    static let reportNames: Set<String> = [
        "report.html", "report.md", "report.json", "report.sarif", "report.junit.xml", "report.codequality.json",
        "report.pdf", OutputFile.checksumsName, chartsFolder, RenderStage.cutOffName, WAFTuningOutput.folder,
        SuggestedPoliciesOutput.folder,
    ]
    static let chartsFolder = "charts"

    /// Writes all files and returns their paths, in the order given.
    public func write(_ files: [OutputFile]) throws(OutputError) -> [String] {
        let target = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let cwd = FileManager.default.currentDirectoryPath
        let absolute = OutputWriter.lexicalPath(target.hasPrefix("/") ? target : cwd + "/" + target)
        var parent = (absolute as NSString).deletingLastPathComponent
        var name = (absolute as NSString).lastPathComponent
        if absolute == "/" { (parent, name) = ("/", ".") }
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw OutputError(path: directory, reason: "cannot create the folder \(parent) (\((error as NSError).localizedDescription))")
        }
        // The user's path up to the parent may hold links; from here on nothing is followed.
        let parentFD = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parentFD >= 0 else { throw OutputError(path: directory, reason: "cannot open the folder \(parent): \(OutputTree.errno_())") }
        defer { close(parentFD) }
        let realParent = realpath(parent, nil).map { p in defer { free(p) }; return String(cString: p) } ?? parent
        let real = name == "." ? realParent : (realParent == "/" ? "" : realParent) + "/" + name

        let kind = OutputTree.kind(parentFD, name)
        if kind == S_IFLNK { throw OutputTree.linkRefused(directory) }
        if let kind, kind != S_IFDIR { throw OutputError(path: directory, reason: "it exists and is not a folder") }
        let exists = kind != nil

        let lockName = name == "." ? ".threat-report.lock" : "." + name + ".lock"
        let lock = try OutputLock.acquire(in: parentFD, name: lockName, shown: (parent == "/" ? "" : parent) + "/" + lockName,
                                          for: directory, deadline: deadline)
        defer { lock.release() }

        let written = Set(files.map { String($0.path.split(separator: "/").first ?? "") })
        var folderFD: Int32 = -1
        if exists { folderFD = try OutputTree.openFolder(parentFD, name, shown: directory) }
        defer { if folderFD >= 0 { close(folderFD) } }
        if exists, !OutputWriter.switchable(folderFD, real, written: written, cwd: cwd) {
            return try writeInPlace(files, folder: folderFD, written: written)
        }
        // Under the lock no other run is writing: staging folders left by killed runs can go
        // (links planted under such names are removed as links).
        let stagingPrefix = "." + name + ".staging-"
        for e in OutputTree.entries(parentFD) where e.hasPrefix(stagingPrefix) { OutputTree.removeTree(parentFD, e) }
        let staging = stagingPrefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let stagingShown = parent + "/" + staging
        guard mkdirat(parentFD, staging, exists ? 0o700 : 0o755) == 0 else {
            throw OutputError(path: directory, reason: "cannot create the staging folder \(stagingShown): \(OutputTree.errno_())")
        }
        var done = false
        defer { if !done { OutputTree.removeTree(parentFD, staging) } }
        let stagingFD = try OutputTree.openFolder(parentFD, staging, shown: stagingShown)
        defer { close(stagingFD) }
        // The new folder is the old one's twin before any file is made in it (so the files inherit
        // its default ACL and setgid group); where that is not possible, the old one stays.
        if exists, OutputTree.copyFolderAttributes(from: folderFD, to: stagingFD) != nil {
            return try writeInPlace(files, folder: folderFD, written: written)
        }
        for f in files { try OutputTree.writeFile(stagingFD, f.path, bytes: f.bytes, shown: shown) }
        if exists {
            for e in OutputTree.entries(folderFD) where !written.contains(e) && !OutputWriter.reportNames.contains(e) {
                try OutputTree.carry(folderFD, stagingFD, e, shown: directory + "/" + e)
            }
        }
        fsync(stagingFD)
        try publish(parentFD, staging: staging, name: name, folder: exists ? folderFD : nil, staged: stagingFD, files: files, written: written)
        done = true
        fsync(parentFD)
        return files.map { directory + "/" + $0.path }
    }

    /// `path` without `.`, `..` and repeated slashes, worked out on the text alone (no link is
    /// resolved: the output folder must be judged as the name it is, a link included).
    static func lexicalPath(_ path: String) -> String {
        var parts: [Substring] = []
        for p in path.split(separator: "/") where p != "." {
            if p == ".." { _ = parts.popLast() } else { parts.append(p) }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The path shown for `relative` below the output folder.
    func shown(_ relative: String) -> String { relative.isEmpty ? directory : directory + "/" + relative }

    /// Whether the whole folder may be switched: not `/`, not the working directory or one above
    /// it, and no subfolder the report does not write (a repository, a home folder): such a folder
    /// is written file by file instead.
    static func switchable(_ folder: Int32, _ path: String, written: Set<String>, cwd: String) -> Bool {
        if path == "/" || cwd == path || cwd.hasPrefix(path + "/") { return false }
        return !OutputTree.entries(folder).contains { e in
            !written.contains(e) && e != WAFTuningOutput.folder && e != SuggestedPoliciesOutput.folder
                && OutputTree.kind(folder, e) == S_IFDIR
        }
    }

    /// File by file: every file staged in `.threat-report.staging-*` inside the folder, flushed,
    /// then renamed over the old one (each file complete; the set switches within milliseconds).
    /// Report files of formats this run did not write are removed afterwards.
    func writeInPlace(_ files: [OutputFile], folder: Int32, written: Set<String>) throws(OutputError) -> [String] {
        let prefix = ".threat-report.staging-"
        for e in OutputTree.entries(folder) where e.hasPrefix(prefix) { OutputTree.removeTree(folder, e) }
        let staging = prefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard mkdirat(folder, staging, 0o700) == 0 else {
            throw OutputError(path: directory, reason: "cannot create the staging folder \(shown(staging)): \(OutputTree.errno_())")
        }
        defer { OutputTree.removeTree(folder, staging) }
        let stagingFD = try OutputTree.openFolder(folder, staging, shown: shown(staging))
        defer { close(stagingFD) }
        for f in files { try OutputTree.writeFile(stagingFD, f.path, bytes: f.bytes, shown: { self.shown(staging + "/" + $0) }) }
        try renameEach(files, from: stagingFD, to: folder)
        removeStale(folder, files: files, written: written)
        return files.map { directory + "/" + $0.path }
    }

    /// Moves every staged file to its place in `target`. Each place is checked first: a folder on
    /// the way (`charts`) or a file that is a symbolic link is refused before anything moves.
    func renameEach(_ files: [OutputFile], from staging: Int32, to target: Int32) throws(OutputError) {
        var moves: [(from: Int32, to: Int32, name: String, path: String)] = []
        defer { for m in moves { close(m.from); close(m.to) } }
        for f in files {
            let (src, name) = try OutputTree.parentFolder(staging, f.path, create: false, shown: shown)
            let dst: Int32
            do {
                (dst, _) = try OutputTree.parentFolder(target, f.path, create: true, shown: shown)
            } catch {
                close(src)
                throw error
            }
            moves.append((src, dst, name, f.path))
            if OutputTree.kind(dst, name) == S_IFLNK { throw OutputTree.linkRefused(shown(f.path)) }
        }
        for m in moves {
            guard renameat(m.from, m.name, m.to, m.name) == 0 else { throw OutputError(path: shown(m.path), reason: OutputTree.errno_()) }
        }
    }

    /// Removes, in a folder written file by file, the report files of formats this run did not
    /// write, and chart files (PNG, SVG) and exclusion files (`waf-tuning/*.conf`) it did not write.
    func removeStale(_ folder: Int32, files: [OutputFile], written: Set<String>) {
        removeStaleSuggestions(folder, files: files)
        for name in OutputWriter.reportNames where !written.contains(name) && name != OutputWriter.chartsFolder {
            if let k = OutputTree.kind(folder, name), k == S_IFREG || k == S_IFLNK { unlinkat(folder, name, 0) }
        }
        removeStale(folder, sub: OutputWriter.chartsFolder, suffixes: [".png", ".svg"], files: files)
        removeStale(folder, sub: WAFTuningOutput.folder, suffixes: [".conf"], files: files)
    }

    /// In a report subfolder (`charts`, `waf-tuning`), the report's files (by suffix) this run did
    /// not write; the folder too when nothing else is left in it.
    func removeStale(_ folder: Int32, sub: String, suffixes: [String], files: [OutputFile]) {
        guard OutputTree.kind(folder, sub) == S_IFDIR else { return }
        let fd = openat(folder, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        let fresh = Set(files.map(\.path).filter { $0.hasPrefix(sub + "/") }.map { String($0.dropFirst(sub.count + 1)) })
        for e in OutputTree.entries(fd) where !fresh.contains(e) && suffixes.contains(where: { e.hasSuffix($0) }) {
            if let k = OutputTree.kind(fd, e), k == S_IFREG || k == S_IFLNK { unlinkat(fd, e, 0) }
        }
        close(fd)
        if fresh.isEmpty { unlinkat(folder, sub, AT_REMOVEDIR) }  // only when empty
    }

    /// Removes suggested policies (`suggested-policies/<env>/<workload>.yaml`) this run did not write,
    /// and the folders left empty, so no manifest of an earlier run looks current.
    func removeStaleSuggestions(_ folder: Int32, files: [OutputFile]) {
        let top = SuggestedPoliciesOutput.folder
        guard OutputTree.kind(folder, top) == S_IFDIR else { return }
        let fresh = Set(files.map(\.path).filter { $0.hasPrefix(top + "/") })
        let root = openat(folder, top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { return }
        for env in OutputTree.entries(root) where OutputTree.kind(root, env) == S_IFDIR {
            let dir = openat(root, env, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard dir >= 0 else { continue }
            for e in OutputTree.entries(dir) where e.hasSuffix(".yaml") && !fresh.contains("\(top)/\(env)/\(e)") {
                if let k = OutputTree.kind(dir, e), k == S_IFREG || k == S_IFLNK { unlinkat(dir, e, 0) }
            }
            close(dir)
            unlinkat(root, env, AT_REMOVEDIR)  // only when empty
        }
        close(root)
        unlinkat(folder, top, AT_REMOVEDIR)  // only when empty
    }

    /// Makes the staging folder the output folder.
    func publish(_ parent: Int32, staging: String, name: String, folder: Int32?, staged: Int32, files: [OutputFile],
                 written: Set<String>) throws(OutputError) {
        guard let folder else {
            // Nothing there before: a folder that appeared meanwhile is not replaced.
            if OutputWriter.rename2(parent, staging, parent, name, flags: 1 /* RENAME_NOREPLACE */) == 0 { return }
            if errno != ENOSYS, errno != EINVAL { throw OutputError(path: directory, reason: OutputTree.errno_()) }
            guard OutputTree.kind(parent, name) == nil else { throw OutputError(path: directory, reason: "it appeared while the report was written") }
            guard renameat(parent, staging, parent, name) == 0 else { throw OutputError(path: directory, reason: OutputTree.errno_()) }
            return
        }
        if OutputWriter.rename2(parent, staging, parent, name, flags: 2 /* RENAME_EXCHANGE */) == 0 {
            OutputTree.removeTree(parent, staging)  // now the previous generation
            return
        }
        // No atomic exchange here: move the old folder aside and the new one in (a reader may
        // briefly find no folder, never a mixed one) ...
        let old = staging + "-previous"
        if renameat(parent, name, parent, old) == 0 {
            guard renameat(parent, staging, parent, name) == 0 else {
                let reason = OutputTree.errno_()
                _ = renameat(parent, old, parent, name)
                throw OutputError(path: directory, reason: reason)
            }
            OutputTree.removeTree(parent, old)
            return
        }
        // ... or, for a mount point, file by file (each file atomic, the set not).
        try renameEach(files, from: staged, to: folder)
        removeStale(folder, files: files, written: written)
        OutputTree.removeTree(parent, staging)
    }

    private typealias RenameAt2 = @Sendable @convention(c) (Int32, UnsafePointer<CChar>?, Int32, UnsafePointer<CChar>?, UInt32) -> Int32
    /// glibc's renameat2 (not exported to Swift), found at run time; nil on a libc without it.
    private static let renameat2: RenameAt2? = {
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return nil }
        return unsafeBitCast(sym, to: RenameAt2.self)
    }()

    /// `renameat2` with `flags` (`RENAME_EXCHANGE`, `RENAME_NOREPLACE`); -1 with errno when not possible.
    static func rename2(_ fromDir: Int32, _ from: String, _ toDir: Int32, _ to: String, flags: UInt32) -> Int32 {
        guard let f = renameat2 else {
            errno = ENOSYS
            return -1
        }
        return f(fromDir, from, toDir, to, flags)
    }
}
