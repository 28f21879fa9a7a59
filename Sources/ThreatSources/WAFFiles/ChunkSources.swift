import CZlib
import Foundation
import ThreatModel

/// Something that fills a buffer with the next bytes of a log: a region of a plain file, or the
/// inflated bytes of a gzip file. `read` returns 0 at the end.
protocol ChunkSource {
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int
    /// A note when the input ended early (a truncated or corrupt `.gz`), read after the last `read`.
    var endNote: String? { get }
}

/// An open log file, closed when the last reference goes away.
/// Immutable after opening; `pread` makes it safe to share between threads.
final class LogFileHandle: Sendable {
    let path: String
    let fd: Int32
    let size: Int
    /// The run's deadline: every read of the file checks it and stops there.
    let deadline: RunDeadline

    /// `O_NONBLOCK`: a FIFO in a log's place does not block the open (it is then refused).
    init(path: String, deadline: RunDeadline = .none) throws(SourceError) {
        self.path = path
        self.deadline = deadline
        // Never blocks on a FIFO; a folder, FIFO or device is named for what it is.
        switch InputFile.open(path) {
        case let .failure(e): throw .unreadable(path: path, reason: e.reason)
        case let .success((fd, size)):
            self.fd = fd
            self.size = size
        }
    }

    deinit { close(fd) }

    /// Throws the deadline as the cause once it has passed.
    func checkDeadline() throws(SourceError) {
        if deadline.passed { throw .unreadable(path: path, reason: deadline.cause(while: "reading it")) }
    }

    /// gzip files are recognised by their magic bytes (1f 8b), whatever their name.
    var isGzip: Bool {
        var magic: (UInt8, UInt8) = (0, 0)
        let n = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) }
        return n == 2 && magic.0 == 0x1F && magic.1 == 0x8B
    }
}

/// The bytes of a plain file from `start` to the end of the file (`pread`, so several sources can
/// share one descriptor).
struct FileRegionSource: ChunkSource {
    let file: LogFileHandle
    var offset: Int
    /// Sees every byte read, in order (the evidence digest).
    var onRead: ((UnsafeRawBufferPointer) -> Void)?

    init(file: LogFileHandle, start: Int) {
        self.file = file
        offset = start
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int {
        try file.checkDeadline()
        while true {
            let n = pread(file.fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 {
                offset += n
                onRead?(UnsafeRawBufferPointer(start: buffer.baseAddress, count: n))
                return n
            }
            if errno == EINTR { continue }
            throw .unreadable(path: file.path, reason: String(cString: strerror(errno)))
        }
    }

    var endNote: String? { nil }
}

/// The inflated bytes of a gzip file (one or more members, as `cat a.gz b.gz` or logrotate
/// produce), streamed through zlib with a fixed input buffer.
final class GzipSource: ChunkSource {
    private let file: LogFileHandle
    private var stream = z_stream()
    private var input: UnsafeMutablePointer<UInt8>
    private static let inputSize = 256 << 10
    private var fileOffset = 0
    private var fileEOF = false
    private var finished = false
    private(set) var endNote: String?
    /// Sees every compressed byte read from the file, in order (the evidence digest).
    var onInput: ((UnsafeRawBufferPointer) -> Void)?

    init(file: LogFileHandle) throws(SourceError) {
        self.file = file
        input = .allocate(capacity: Self.inputSize)
        guard tr_inflate_init_auto(&stream) == Z_OK else {
            input.deallocate()
            throw .unreadable(path: file.path, reason: "zlib could not start")
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    private func refill() throws(SourceError) {
        guard stream.avail_in == 0, !fileEOF else { return }
        try file.checkDeadline()
        var n: Int
        repeat {
            n = pread(file.fd, input, Self.inputSize, off_t(fileOffset))
        } while n < 0 && errno == EINTR
        if n < 0 { throw .unreadable(path: file.path, reason: String(cString: strerror(errno))) }
        if n == 0 { fileEOF = true }
        if n > 0 { onInput?(UnsafeRawBufferPointer(start: input, count: n)) }
        fileOffset += n
        stream.next_in = input
        stream.avail_in = UInt32(n)
    }

    /// Feeds the file's bytes after what inflating used (padding, trailing garbage, or the rest
    /// after corrupt data) to `onInput`, so a digest covers the whole file as stored.
    func readRemainder() throws(SourceError) {
        guard let onInput else { return }
        while true {
            var n: Int
            repeat { n = pread(file.fd, input, Self.inputSize, off_t(fileOffset)) } while n < 0 && errno == EINTR
            if n < 0 { throw .unreadable(path: file.path, reason: String(cString: strerror(errno))) }
            if n == 0 { return }
            onInput(UnsafeRawBufferPointer(start: input, count: n))
            fileOffset += n
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(SourceError) -> Int {
        guard !finished, let base = buffer.baseAddress else { return 0 }
        let out = base.assumingMemoryBound(to: UInt8.self)
        stream.next_out = out
        stream.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
        while stream.avail_out > 0 {
            try refill()
            if stream.avail_in == 0, fileEOF {
                // Input ended inside a member: a file still being written, or cut short.
                if stream.total_in > 0 { endNote = "ends inside a gzip member (truncated file); read what was complete" }
                finished = true
                break
            }
            let rc = inflate(&stream, Z_NO_FLUSH)
            if rc == Z_STREAM_END {
                // Another member may follow (concatenated gzip); trailing zero padding is ignored.
                try refill()
                if stream.avail_in == 0 && fileEOF { finished = true; break }
                if stream.next_in.pointee == 0 { finished = true; break }
                inflateReset(&stream)
                continue
            }
            if rc == Z_BUF_ERROR { continue }  // needs more input; refill() gives it or ends
            if rc != Z_OK {
                endNote = "corrupt gzip data at byte \(fileOffset - Int(stream.avail_in)) (\(rc == Z_DATA_ERROR ? "data error" : "zlib error \(rc)")); read what came before it"
                finished = true
                break
            }
        }
        return buffer.count - Int(stream.avail_out)
    }
}
