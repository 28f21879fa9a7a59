import Foundation

/// Opening an input file (config, log, flow log, manifest, kubeconfig, recording) without being
/// fooled by what sits at its path: a folder, a FIFO or a device is named for what it is, and a
/// FIFO is never waited on (the open does not block; its type is read from the open descriptor).
public enum InputFile {
    /// What is at a path that is not a regular file, in words: "is a directory",
    /// "is not a regular file (a FIFO)".
    public static func describe(mode: mode_t) -> String? {
        switch mode & S_IFMT {
        case S_IFREG: nil
        case S_IFDIR: "is a directory"
        case S_IFIFO: "is not a regular file (a FIFO)"
        case S_IFCHR: "is not a regular file (a character device)"
        case S_IFBLK: "is not a regular file (a block device)"
        case S_IFSOCK: "is not a regular file (a socket)"
        default: "is not a regular file"
        }
    }

    /// Why `path` cannot be opened, from `errno`, in words.
    public static func describe(errno err: Int32, path: String) -> String {
        switch err {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "permission denied"
        case ENXIO:
            var st = stat()
            if stat(path, &st) == 0, let kind = describe(mode: st.st_mode) { return kind }
            return String(cString: strerror(err))
        default: return String(cString: strerror(err))
        }
    }

    /// Opens `path` for reading; a descriptor and its size, or why not (`describe`). Only a regular
    /// file is accepted, unless `allowStreams` (a secret may come from a pipe, `<(vault read …)`):
    /// then a FIFO or a character device is opened too (blocking reads), never a directory.
    public static func open(_ path: String, allowStreams: Bool = false) -> Result<(fd: Int32, size: Int), InputFileError> {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { return .failure(InputFileError(path: path, reason: describe(errno: errno, path: path))) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            return .failure(InputFileError(path: path, reason: reason))
        }
        if let kind = describe(mode: st.st_mode) {
            let type = st.st_mode & S_IFMT
            guard allowStreams, type == S_IFIFO || type == S_IFCHR else {
                close(fd)
                return .failure(InputFileError(path: path, reason: kind))
            }
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return .success((fd, Int(st.st_size)))
    }

    /// The whole file, at most `limit` bytes (a larger one fails, naming the limit).
    public static func read(_ path: String, limit: Int, allowStreams: Bool = false) -> Result<[UInt8], InputFileError> {
        switch open(path, allowStreams: allowStreams) {
        case let .failure(e): return .failure(e)
        case let .success((fd, _)):
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            do {
                let data = try handle.read(upToCount: limit + 1) ?? Data()
                guard data.count <= limit else {
                    return .failure(InputFileError(path: path, reason: "larger than \(InputLimits.describe(bytes: limit))"))
                }
                return .success([UInt8](data))
            } catch {
                let ns = error as NSError
                let reason = ns.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(ns.code))) : ns.localizedDescription
                return .failure(InputFileError(path: path, reason: reason))
            }
        }
    }
}

/// An input file that could not be opened or read: its path and why, in words.
public struct InputFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
}
