import CZlib
import Foundation
import ThreatModel

/// Streams the lines of a plain or gzip file in constant memory: reads 1 MiB blocks, splits on
/// newline with `memchr`, and hands each line to the caller as raw bytes (no String unless the
/// caller makes one). Lines longer than `maxLineBytes` are skipped and reported as such.
public struct LineReader {
    public enum Line {
        case bytes(UnsafeBufferPointer<UInt8>)
        /// A line past the cap (the cap it exceeded).
        case tooLong(Int)
    }

    public let path: String
    public var maxLineBytes: Int
    /// Every block read checks it; a FIFO in the file's place is read with `poll` until then.
    public var deadline: RunDeadline
    public static let blockSize = 1 << 20

    public init(path: String, maxLineBytes: Int = InputLimits.lineBytes, deadline: RunDeadline = .none) {
        self.path = path
        self.maxLineBytes = maxLineBytes
        self.deadline = deadline
    }

    /// The next block of the file (empty at its end), read before the deadline.
    func nextBlock(_ fd: Int32, regular: Bool, into block: inout [UInt8]) throws(SourceError) -> Data {
        while true {
            if deadline.passed { throw .unreadable(path: path, reason: deadline.cause(while: "reading it")) }
            if !regular {
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ready = poll(&p, 1, deadline.pollMilliseconds())
                if ready == 0 || (ready < 0 && errno == EINTR) { continue }
                if ready < 0 { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            }
            let n = block.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw .unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            return Data(block[0..<n])
        }
    }

    /// Calls `body(lineNumber, line)` for every line; the buffer is only valid during the call.
    public func forEachLine(_ body: (Int, Line) throws -> Void) throws(SourceError) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        var st = stat()
        guard fd >= 0, fstat(fd, &st) == 0, st.st_mode & S_IFMT != S_IFDIR else {
            if fd >= 0 { close(fd) }
            var isDir: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDir)
            throw .unreadable(path: path, reason: !exists ? "no such file" : isDir.boolValue ? "is a folder, not a file" : "permission denied")
        }
        defer { close(fd) }
        let regular = st.st_mode & S_IFMT == S_IFREG
        var buffer = [UInt8](repeating: 0, count: LineReader.blockSize)
        let gzip = path.hasSuffix(".gz")
        let inflater: Inflater? = gzip ? try Inflater(path: path) : nil
        var pending: [UInt8] = []
        var skipping = false
        var lineNo = 0
        do {
            while true {
                let raw = try nextBlock(fd, regular: regular, into: &buffer)
                let block: [UInt8]
                if let inflater {
                    block = try inflater.inflate(raw, final: raw.isEmpty)
                } else {
                    block = [UInt8](raw)
                }
                if raw.isEmpty && block.isEmpty { break }
                try block.withUnsafeBufferPointer { buf in
                    guard let base = buf.baseAddress else { return }
                    var start = 0
                    while start < buf.count {
                        let rest = buf.count - start
                        guard let hit = memchr(base + start, 0x0A, rest) else {
                            if !skipping { pending.append(contentsOf: UnsafeBufferPointer(start: base + start, count: rest)) }
                            if pending.count > maxLineBytes {
                                skipping = true
                                pending.removeAll(keepingCapacity: false)
                            }
                            return
                        }
                        let end = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                        lineNo += 1
                        if skipping {
                            skipping = false
                            try body(lineNo, .tooLong(maxLineBytes))
                        } else if pending.isEmpty {
                            var len = end - start
                            if len > 0, base[start + len - 1] == 0x0D { len -= 1 }
                            if len > maxLineBytes {
                                try body(lineNo, .tooLong(maxLineBytes))
                            } else {
                                try body(lineNo, .bytes(UnsafeBufferPointer(start: base + start, count: len)))
                            }
                        } else {
                            pending.append(contentsOf: UnsafeBufferPointer(start: base + start, count: end - start))
                            if pending.last == 0x0D { pending.removeLast() }
                            if pending.count > maxLineBytes {
                                try body(lineNo, .tooLong(maxLineBytes))
                            } else {
                                try pending.withUnsafeBufferPointer { try body(lineNo, .bytes($0)) }
                            }
                            pending.removeAll(keepingCapacity: true)
                        }
                        start = end + 1
                    }
                }
                if raw.isEmpty { break }
            }
        } catch let e as SourceError {
            throw e
        } catch {
            throw .unreadable(path: path, reason: "\(error)")
        }
        lineNo += 1
        if skipping {
            do { try body(lineNo, .tooLong(maxLineBytes)) } catch { throw .unreadable(path: path, reason: "\(error)") }
        } else if !pending.isEmpty {
            do { try pending.withUnsafeBufferPointer { try body(lineNo, .bytes($0)) } } catch { throw .unreadable(path: path, reason: "\(error)") }
        }
    }

    /// Streaming gzip inflate (concatenated members are read one after another, as gzip does).
    /// A class around a heap-allocated `z_stream`: zlib keeps a pointer back to the stream, so it
    /// must never move.
    final class Inflater {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        let path: String
        var finished = false

        init(path: String) throws(SourceError) {
            self.path = path
            stream.initialize(to: z_stream())
            guard tr_inflate_init_gzip(stream) == Z_OK else {
                stream.deallocate()
                throw .unreadable(path: path, reason: "zlib could not start")
            }
        }

        deinit {
            inflateEnd(stream)
            stream.deallocate()
        }

        func inflate(_ input: Data, final: Bool) throws(SourceError) -> [UInt8] {
            if input.isEmpty {
                if final, !finished, stream.pointee.total_in > 0 {
                    throw .malformed(place: path, detail: "the gzip stream ends early (truncated file)")
                }
                return []
            }
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 1 << 18)
            var inBytes = [UInt8](input)
            var failure: SourceError?
            inBytes.withUnsafeMutableBufferPointer { inBuf in
                stream.pointee.next_in = inBuf.baseAddress
                stream.pointee.avail_in = uInt(inBuf.count)
                while stream.pointee.avail_in > 0 && failure == nil {
                    let produced: Int = chunk.withUnsafeMutableBufferPointer { outBuf in
                        stream.pointee.next_out = outBuf.baseAddress
                        stream.pointee.avail_out = uInt(outBuf.count)
                        let rc = CZlib.inflate(stream, Z_NO_FLUSH)
                        if rc == Z_STREAM_END {
                            finished = true
                            if stream.pointee.avail_in > 0 {
                                // Another gzip member follows: go on with the rest.
                                let next = stream.pointee.next_in, avail = stream.pointee.avail_in
                                inflateReset(stream)
                                stream.pointee.next_in = next
                                stream.pointee.avail_in = avail
                                finished = false
                            }
                        } else if rc == Z_OK || rc == Z_BUF_ERROR {
                            finished = false
                        } else {
                            failure = .malformed(place: path, detail: "not a valid gzip file (zlib error \(rc))")
                        }
                        return outBuf.count - Int(stream.pointee.avail_out)
                    }
                    out.append(contentsOf: chunk[0..<produced])
                }
            }
            if let failure { throw failure }
            return out
        }
    }
}
