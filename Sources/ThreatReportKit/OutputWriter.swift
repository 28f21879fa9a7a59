import Foundation
import ThreatRender

/// Why the output folder could not take the report (exit 2).
public struct OutputError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

/// Writes report files into the output folder so that a reader never sees a half-written file:
/// every file goes to a temporary name in the same folder, is flushed, then renamed over the old
/// one (rename is atomic on POSIX). An exclusive lock file keeps concurrent runs apart.
public struct OutputWriter {
    public var directory: String
    public init(directory: String) { self.directory = directory }

    static func errno_() -> String { String(cString: strerror(errno)) }

    /// Writes all files and returns their paths, in the order given.
    public func write(_ files: [OutputFile]) throws(OutputError) -> [String] {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw OutputError(path: directory, reason: "cannot create the folder (\((error as NSError).localizedDescription))")
        }
        let lockPath = directory + "/.threat-report.lock"
        let lockFD = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard lockFD >= 0 else { throw OutputError(path: lockPath, reason: OutputWriter.errno_()) }
        defer { close(lockFD) }
        guard flock(lockFD, LOCK_EX) == 0 else { throw OutputError(path: lockPath, reason: OutputWriter.errno_()) }
        defer { flock(lockFD, LOCK_UN) }

        // Stage every file first, then rename them all: the rename phase is short and each rename
        // is atomic, so a run killed while staging leaves the previous report untouched.
        var staged: [(tmp: String, final: String)] = []
        var ok = false
        defer {
            if !ok { for s in staged { unlink(s.tmp) } }
        }
        for f in files {
            let final = directory + "/" + f.path
            let dir = (final as NSString).deletingLastPathComponent
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw OutputError(path: dir, reason: "cannot create the folder")
            }
            let tmp = dir + "/.tmp-\(getpid())-" + (f.path as NSString).lastPathComponent
            let fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw OutputError(path: tmp, reason: OutputWriter.errno_()) }
            staged.append((tmp, final))
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
                throw OutputError(path: final, reason: reason)
            }
            close(fd)
        }
        for s in staged where rename(s.tmp, s.final) != 0 {
            throw OutputError(path: s.final, reason: OutputWriter.errno_())
        }
        ok = true
        return staged.map(\.final)
    }
}
