import Foundation
import ThreatSources

/// The file-system operations of the output writer, each relative to an open folder descriptor
/// and never following a symbolic link: a link planted where the report is written (the lock file,
/// a staging folder, `charts`, a report file) is refused or removed as a link, never written
/// through. `shown` is the path named in errors.
enum OutputTree {
    static func errno_() -> String { String(cString: strerror(errno)) }

    /// The type bits of `name` in `dir` (the link itself for a symlink), nil when absent.
    static func kind(_ dir: Int32, _ name: String) -> mode_t? {
        var st = stat()
        return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? st.st_mode & S_IFMT : nil
    }

    static func linkRefused(_ shown: String) -> OutputError {
        OutputError(path: shown, reason: "it is a symbolic link; the report is never written through a link (remove it, or give the real folder)")
    }

    /// Opens the folder `name` in `dir` without following a link.
    static func openFolder(_ dir: Int32, _ name: String, shown: String) throws(OutputError) -> Int32 {
        let fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd >= 0 { return fd }
        let reason = errno_()
        if kind(dir, name) == S_IFLNK { throw linkRefused(shown) }
        throw OutputError(path: shown, reason: kind(dir, name) == nil ? reason : "it is not a folder")
    }

    /// Creates (when absent) and opens the folder `name` in `dir`.
    static func makeFolder(_ dir: Int32, _ name: String, mode: mode_t = 0o755, shown: String) throws(OutputError) -> Int32 {
        if mkdirat(dir, name, mode) != 0, errno != EEXIST {
            throw OutputError(path: shown, reason: "cannot create the folder: \(errno_())")
        }
        return try openFolder(dir, name, shown: shown)
    }

    /// The names in a folder (without `.` and `..`).
    static func entries(_ dir: Int32) -> [String] {
        let copy = dup(dir)
        guard copy >= 0, let d = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return []
        }
        defer { closedir(d) }
        rewinddir(d)
        var out: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != ".", name != ".." { out.append(name) }
        }
        return out
    }

    /// Removes `name` from `dir`: a link as a link, a folder with its content (never following a link).
    static func removeTree(_ dir: Int32, _ name: String) {
        guard let k = kind(dir, name) else { return }
        if k == S_IFDIR {
            let fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 {
                for e in entries(fd) { removeTree(fd, e) }
                close(fd)
            }
            unlinkat(dir, name, AT_REMOVEDIR)
        } else {
            unlinkat(dir, name, 0)
        }
    }

    /// Opens (creating them) the folders of `relative`'s parent below `dir`; returns the innermost
    /// folder's descriptor (owned by the caller) and the file name.
    static func parentFolder(_ dir: Int32, _ relative: String, create: Bool, shown: (String) -> String) throws(OutputError) -> (Int32, String) {
        let parts = relative.split(separator: "/").map(String.init)
        var fd = dup(dir)
        guard fd >= 0 else { throw OutputError(path: shown(""), reason: errno_()) }
        var prefix = ""
        for part in parts.dropLast() {
            prefix += (prefix.isEmpty ? "" : "/") + part
            let next: Int32
            do {
                next = create ? try makeFolder(fd, part, shown: shown(prefix)) : try openFolder(fd, part, shown: shown(prefix))
            } catch {
                close(fd)
                throw error
            }
            close(fd)
            fd = next
        }
        return (fd, parts.last ?? relative)
    }

    /// Writes a new file `relative` below `dir` (folders created), flushed to disk.
    static func writeFile(_ dir: Int32, _ relative: String, bytes: [UInt8], shown: (String) -> String) throws(OutputError) {
        let (folder, name) = try parentFolder(dir, relative, create: true, shown: shown)
        defer { close(folder) }
        let fd = openat(folder, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OutputError(path: shown(relative), reason: errno_()) }
        var written = 0
        let result: Int = bytes.withUnsafeBytes { buf in
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
            let reason = errno_()
            close(fd)
            throw OutputError(path: shown(relative), reason: reason)
        }
        guard close(fd) == 0 else { throw OutputError(path: shown(relative), reason: errno_()) }
    }

    /// Carries `name` from the old folder into the staging folder: hard links for files (no copy),
    /// folders recreated, symlinks copied as links (never followed).
    static func carry(_ from: Int32, _ to: Int32, _ name: String, shown: String) throws(OutputError) {
        var st = stat()
        guard fstatat(from, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        switch st.st_mode & S_IFMT {
        case S_IFDIR:
            guard mkdirat(to, name, st.st_mode & 0o7777) == 0 else { throw OutputError(path: shown, reason: errno_()) }
            let a = try openFolder(from, name, shown: shown)
            defer { close(a) }
            let b = try openFolder(to, name, shown: shown)
            defer { close(b) }
            for e in entries(a) { try carry(a, b, e, shown: shown + "/" + e) }
        case S_IFLNK:
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlinkat(from, name, &buf, buf.count - 1)
            guard n >= 0 else { return }
            buf[n] = 0
            guard symlinkat(buf, to, name) == 0 else { throw OutputError(path: shown, reason: errno_()) }
        default:
            if linkat(from, name, to, name, 0) != 0 { try copyFile(from, to, name, shown: shown) }
        }
    }

    /// A copy of a regular file (where a hard link is refused).
    static func copyFile(_ from: Int32, _ to: Int32, _ name: String, shown: String) throws(OutputError) {
        let src = openat(from, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard src >= 0 else { throw OutputError(path: shown, reason: "cannot keep it in the new report folder (\(errno_()))") }
        defer { close(src) }
        var st = stat()
        guard fstat(src, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw OutputError(path: shown, reason: "cannot keep it in the new report folder (not a regular file)")
        }
        let dst = openat(to, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 0o777)
        guard dst >= 0 else { throw OutputError(path: shown, reason: "cannot keep it in the new report folder (\(errno_()))") }
        defer { close(dst) }
        var block = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = block.withUnsafeMutableBytes { read(src, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            let w = block.withUnsafeBytes { Foundation.write(dst, $0.baseAddress, n) }
            guard w == n else { throw OutputError(path: shown, reason: "cannot keep it in the new report folder (\(errno_()))") }
        }
    }

    static let aclNames = ["system.posix_acl_access", "system.posix_acl_default"]

    /// glibc's `f*xattr` calls (not in Swift's Glibc module), looked up when needed.
    struct XAttr {
        typealias Get = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeMutableRawPointer?, Int) -> Int
        typealias Set = @convention(c) (Int32, UnsafePointer<CChar>, UnsafeRawPointer?, Int, Int32) -> Int32
        typealias Remove = @convention(c) (Int32, UnsafePointer<CChar>) -> Int32
        let get: Get
        let set: Set
        let remove: Remove

        init?() {
            let h = UnsafeMutableRawPointer(bitPattern: 0)
            guard let g = dlsym(h, "fgetxattr"), let s = dlsym(h, "fsetxattr"), let r = dlsym(h, "fremovexattr") else { return nil }
            get = unsafeBitCast(g, to: Get.self)
            set = unsafeBitCast(s, to: Set.self)
            remove = unsafeBitCast(r, to: Remove.self)
        }
    }

    /// Gives `staging` the owner, group, mode (setgid included) and POSIX ACLs (access and
    /// default) of the folder it replaces; nil when done, else why not (then the folder is not
    /// switched but written file by file, which keeps it as it is).
    static func copyFolderAttributes(from old: Int32, to staging: Int32) -> String? {
        var st = stat()
        guard fstat(old, &st) == 0 else { return errno_() }
        if fchown(staging, st.st_uid, st.st_gid) != 0 { return "cannot give the new folder owner \(st.st_uid):\(st.st_gid) (\(errno_()))" }
        guard let x = XAttr() else { return "no extended attribute calls in this C library" }
        for name in aclNames {
            let size = x.get(old, name, nil, 0)
            if size < 0 {
                if errno == ENODATA || errno == ENOTSUP || errno == EOPNOTSUPP {
                    // None on the old folder: none on the new one (not even one inherited from the parent).
                    if x.remove(staging, name) != 0, errno != ENODATA, errno != ENOTSUP, errno != EOPNOTSUPP { return errno_() }
                    continue
                }
                return "cannot read \(name) (\(errno_()))"
            }
            var value = [UInt8](repeating: 0, count: size)
            let n = x.get(old, name, &value, size)
            guard n >= 0, x.set(staging, name, value, n, 0) == 0 else { return "cannot copy \(name) (\(errno_()))" }
        }
        if fchmod(staging, st.st_mode & 0o7777) != 0 { return "cannot set mode \(String(st.st_mode & 0o7777, radix: 8)) (\(errno_()))" }
        return nil
    }
}

/// The exclusive lock beside the output folder (`.<name>.lock`, 0600, never a link), holding the
/// PID of the run that has it. Waiting for it ends at the run's deadline.
struct OutputLock {
    let fd: Int32

    static func acquire(in parent: Int32, name: String, shown: String, for output: String, deadline: RunDeadline) throws(OutputError) -> OutputLock {
        let fd = openat(parent, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0o600)
        guard fd >= 0 else {
            let reason = OutputTree.errno_()  // before fstatat sets errno again
            if OutputTree.kind(parent, name) == S_IFLNK { throw OutputTree.linkRefused(shown) }
            throw OutputError(path: output, reason: "cannot create the lock file \(shown): \(reason)")
        }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG, st.st_nlink == 1 else {
            close(fd)
            throw OutputError(path: shown, reason: "the lock file is not a regular file of its own (a device, FIFO or hard link was put in its place); remove it")
        }
        if st.st_uid == geteuid(), st.st_mode & 0o777 != 0o600 { fchmod(fd, 0o600) }
        if deadline.instant == nil {
            while flock(fd, LOCK_EX) != 0 {
                if errno == EINTR { continue }
                close(fd)
                throw OutputError(path: shown, reason: OutputTree.errno_())
            }
        } else {
            while flock(fd, LOCK_EX | LOCK_NB) != 0 {
                guard errno == EWOULDBLOCK || errno == EINTR else {
                    close(fd)
                    throw OutputError(path: shown, reason: OutputTree.errno_())
                }
                if deadline.passed {
                    let holder = holderPID(fd).map { "PID \($0)" } ?? "another process"
                    close(fd)
                    throw OutputError(path: output, reason: "output locked by \(holder) (lock file \(shown)); "
                        + deadline.cause(while: "waiting for it") + "; the report was not written")
                }
                usleep(UInt32(min(50_000, max(1_000, (deadline.remaining() ?? 0.05) * 1_000_000))))
            }
        }
        ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pwrite(fd, pid, pid.count, 0)
        return OutputLock(fd: fd)
    }

    /// The PID written in the lock file by the process holding it, when it wrote one and lives.
    static func holderPID(_ fd: Int32) -> Int32? {
        var buf = [UInt8](repeating: 0, count: 24)
        let n = pread(fd, &buf, buf.count, 0)
        guard n > 0 else { return nil }
        let text = String(decoding: buf[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        // A PID left by a run that died (killed while holding it) names no one: only a live one is named.
        guard let pid = Int32(text), pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return nil }
        return pid
    }

    func release() {
        ftruncate(fd, 0)
        flock(fd, LOCK_UN)
        close(fd)
    }
}
