import Foundation
import ThreatModel

/// Reads a whole file as bytes, with a size cap, mapping errors to `SourceError`.
///
/// The file is opened with `O_NONBLOCK`, so a FIFO with no writer does not block the open, and
/// its type is read from the open descriptor. Only a regular file is read (the deadline is checked
/// between 1 MiB blocks); a folder, a FIFO, a socket or a device is refused and named for what it
/// is ("is not a regular file (a FIFO)"), unless `allowStreams` (a secret may come from a pipe,
/// `<(vault read …)`): then a FIFO or a character device is read with `poll`, so one that stays
/// open without sending does not hold the run past `deadline`.
public func readFileBytes(_ path: String, limit: Int = InputLimits.answerBytes, deadline: RunDeadline = .none,
                          allowStreams: Bool = false) throws(SourceError) -> [UInt8] {
    switch InputFile.open(path, allowStreams: allowStreams) {
    case let .failure(e): throw .unreadable(path: path, reason: e.reason)
    case let .success((fd, _)):
        defer { close(fd) }
        var st = stat()
        let regular = fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
        return try readDescriptor(fd, name: path, limit: limit, deadline: deadline, regular: regular)
    }
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
