import Foundation
import ThreatModel

/// Reads a whole file as bytes, with a size cap, mapping errors to `SourceError`.
///
/// The file is opened with `O_NONBLOCK`, so a FIFO with no writer does not block the open. A
/// regular file is read straight through (the deadline is checked between 1 MiB blocks); a FIFO,
/// socket or device is read with `poll`, so one that stays open without sending does not hold the
/// run past `deadline`: the read stops there with the deadline as its cause.
public func readFileBytes(_ path: String, limit: Int = InputLimits.answerBytes, deadline: RunDeadline = .none) throws(SourceError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
    guard fd >= 0 else {
        switch errno {
        case ENOENT, ENOTDIR: throw .unreadable(path: path, reason: "no such file")
        case EACCES, EPERM: throw .unreadable(path: path, reason: "permission denied")
        default: throw .unreadable(path: path, reason: String(cString: strerror(errno)))
        }
    }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    if st.st_mode & S_IFMT == S_IFDIR { throw .unreadable(path: path, reason: "is a folder, not a file") }
    return try readDescriptor(fd, name: path, limit: limit, deadline: deadline, regular: st.st_mode & S_IFMT == S_IFREG)
}

/// Reads `fd` to its end (at most `limit` bytes, more is an error) before `deadline`. `regular`:
/// a regular file, whose reads never wait; anything else is polled so that the wait for data
/// ends at the deadline. `name` names the input in errors ("stdin", a path).
public func readDescriptor(_ fd: Int32, name: String, limit: Int, deadline: RunDeadline, regular: Bool) throws(SourceError) -> [UInt8] {
    var out: [UInt8] = []
    var block = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        if deadline.passed { throw .unreadable(path: name, reason: deadline.cause(while: "reading it (\(out.count) bytes read)")) }
        if !regular {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, deadline.pollMilliseconds())
            if ready < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: name, reason: String(cString: strerror(errno)))
            }
            // Nothing yet (a FIFO with no writer, or one holding it open without writing): wait on.
            if ready == 0 { continue }
            if p.revents & Int16(POLLIN | POLLHUP | POLLERR) == 0 { continue }
        }
        let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, limit + 1 - out.count)) }
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { continue }
            throw .unreadable(path: name, reason: String(cString: strerror(errno)))
        }
        if n == 0 { return out }
        out += block[0..<n]
        if out.count > limit { throw .unreadable(path: name, reason: "larger than \(InputLimits.describe(bytes: limit))") }
    }
}
