import Foundation

/// Splits a byte stream into lines in constant memory: reads large chunks, finds newlines with
/// `memchr`, and hands each line to the caller as a borrowed byte buffer (no `String`). A line
/// longer than `maxLineLength` is not kept: it is read through to its newline and reported as
/// oversized, so a 10 MB line costs no more memory than a short one.
struct LineScanner {
    /// Bytes read per `read` call.
    static let chunkSize = 1 << 20
    /// Longest line kept (1 MiB); longer lines are skipped and counted.
    static let maxLineLength = 1 << 20

    /// What one scan saw.
    struct Counts {
        /// Lines handed to the caller (blank lines included) plus oversized lines.
        var lines = 0
        /// 1-based numbers (within this scan) of the lines longer than `maxLineLength`.
        var oversized: [Int] = []
        var oversizedCount = 0
    }

    /// Scans lines whose first byte lies before `stopOffset` (absolute, in the source's bytes;
    /// `Int.max` for the whole stream), starting at `startOffset`, which must be a line start.
    /// `body(line, number)` gets each line without its `\n` (and without a `\r` before it).
    static func scan<S: ChunkSource>(_ source: inout S, startOffset: Int = 0, stopOffset: Int = .max,
                                     keepLocations: Int = 8, buffer lineBuffer: LineBuffer? = nil,
                                     _ body: (UnsafeBufferPointer<UInt8>, Int) -> Void) throws(SourceError) -> Counts {
        var counts = Counts()
        let capacity = chunkSize + maxLineLength
        let owned = lineBuffer ?? LineBuffer()
        let buffer = owned.pointer
        let bytes = buffer.assumingMemoryBound(to: UInt8.self)
        var filled = 0          // valid bytes in the buffer
        var lineStart = 0       // start of the current (incomplete) line in the buffer
        var base = startOffset  // absolute offset of buffer[0]
        var discarding = false  // inside an oversized line, looking for its end
        var eof = false

        func oversized() {
            counts.lines += 1
            counts.oversizedCount += 1
            if counts.oversized.count < keepLocations { counts.oversized.append(counts.lines) }
        }

        func emit(_ start: Int, _ end: Int) {
            counts.lines += 1
            var e = end
            if e > start && bytes[e - 1] == 0x0D { e -= 1 }
            if e - start > maxLineLength {
                counts.oversizedCount += 1
                if counts.oversized.count < keepLocations { counts.oversized.append(counts.lines) }
                return
            }
            body(UnsafeBufferPointer(start: bytes + start, count: e - start), counts.lines)
        }

        while !eof {
            // Keep the incomplete line at the front, then fill the rest.
            if lineStart > 0 {
                let keep = filled - lineStart
                if keep > 0 { memmove(buffer, buffer + lineStart, keep) }
                base += lineStart
                filled = keep
                lineStart = 0
            }
            if !discarding && base >= stopOffset { return counts }
            let scanFrom = filled
            let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer + filled, count: capacity - filled))
            if n == 0 { eof = true }
            filled += n
            var pos = scanFrom
            if discarding {
                // Read through to the end of the oversized line.
                guard let nl = memchr(buffer + scanFrom, 0x0A, filled - scanFrom) else {
                    if eof { oversized() }
                    lineStart = filled
                    continue
                }
                discarding = false
                oversized()
                lineStart = buffer.distance(to: nl) + 1
                pos = lineStart
            }
            while true {
                if base + lineStart >= stopOffset { return counts }
                guard pos < filled, let nl = memchr(buffer + pos, 0x0A, filled - pos) else { break }
                let end = buffer.distance(to: nl)
                emit(lineStart, end)
                lineStart = end + 1
                pos = lineStart
            }
            let pending = filled - lineStart
            if eof {
                if pending > maxLineLength { oversized() } else if pending > 0 { emit(lineStart, filled) }
                break
            }
            if pending > maxLineLength {
                discarding = true
                lineStart = filled
            }
        }
        return counts
    }

    /// The first line start at or after `offset` in a plain file: `offset` itself when the byte
    /// before it is a newline, else the byte after the next newline (or the file size).
    static func lineStart(in file: LogFileHandle, atOrAfter offset: Int) -> Int {
        guard offset > 0 else { return 0 }
        var pos = offset - 1
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while pos < file.size {
            let n = chunk.withUnsafeMutableBytes { pread(file.fd, $0.baseAddress, $0.count, off_t(pos)) }
            if n <= 0 { return file.size }
            if let i = chunk[0..<n].firstIndex(of: 0x0A) { return pos + i + 1 }
            pos += n
        }
        return file.size
    }
}

/// The read buffer of `LineScanner.scan` (chunk plus longest line), allocated once per worker
/// and reused for every file and range it reads.
final class LineBuffer: @unchecked Sendable {
    let pointer = UnsafeMutableRawPointer.allocate(byteCount: LineScanner.chunkSize + LineScanner.maxLineLength, alignment: 16)
    deinit { pointer.deallocate() }
}
