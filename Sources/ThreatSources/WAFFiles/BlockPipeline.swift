import Foundation
import ThreatModel

/// How a log is read: one reader per step, on the calling thread, reads each file once from start
/// to end (plain, or inflating `.gz`) and cuts the stream into blocks of whole lines; parse workers
/// take the blocks in any order, and a hasher thread feeds the same bytes, in file order, to the
/// evidence SHA-256. Each byte is read from the page cache once and parsed and hashed while it is
/// still in cache, and memory stays at a few blocks whatever the size of the file.
enum LogBlocks {
    /// Bytes read per `read` call (small enough that a block stays in cache between the reader,
    /// the hasher and the parser).
    static let chunkSize = 256 << 10
    /// Longest line kept (1 MiB); a longer line is read through and skipped.
    static let maxLineLength = InputLimits.lineBytes
}

/// A buffer a block lives in: a chunk plus room for the partial line carried over.
final class BlockBuffer: @unchecked Sendable {
    static let capacity = LogBlocks.chunkSize + LogBlocks.maxLineLength
    let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: BlockBuffer.capacity)
    /// Who still reads it (the parse worker, the hasher); changed under the queue's lock.
    fileprivate var users = 0
    deinit { pointer.deallocate() }
}

/// A run of whole lines of one file (or the mark of one line over the length cap).
struct LineBlock: Sendable {
    var file: Int
    /// The block's number within its file: blocks are numbered in file order.
    var index: Int
    var buffer: BlockBuffer?
    var count: Int
    /// True for the stand-in of a line longer than `LogBlocks.maxLineLength`.
    var oversizedLine = false
}

/// What a worker learned from one block that is needed per file (evidence, line numbers).
struct BlockTally {
    var file: Int
    var index: Int
    var lines = 0
    var skipped = SkippedLines()
    var entries = 0
    var outsideWindow = 0
    var flavors = [Int](repeating: 0, count: AuditFlavor.allCases.count)
    /// Audit entries' producer texts and rule-set components (AuditProducer.swift).
    var producerNames = ProducerTally()
    var producerComponents = ProducerTally()
    var own = 0
    /// Access lines per `AccessLogLine.Format`.
    var formats = [Int](repeating: 0, count: AccessLogLine.Format.allCases.count)
    var noUpstream = 0
    /// Audit entries read behind a proxy's log prefix, and that log's other lines passed over.
    var prefixed = 0
    var passedOver = 0
    /// The earliest and latest record time parsed (seconds), for coverage.
    var minTime = Int.max
    var maxTime = Int.min

    @inline(__always)
    mutating func saw(_ t: Int) {
        if t < minTime { minTime = t }
        if t > maxTime { maxTime = t }
    }

    init(file: Int, index: Int) {
        self.file = file
        self.index = index
    }
}

/// A worker's block tallies folded per file as they come: the totals, each block's line count
/// (8 bytes a block, for line numbers) and the first skipped places, so memory stays flat however
/// many blocks a file has.
struct TallyFold {
    struct FileFold {
        var totals = BlockTally(file: 0, index: 0)
        var blockLines: [(index: Int32, lines: Int32)] = []
        /// The first skipped places, as (block, line within the block, reason).
        var places: [(index: Int, line: Int, reason: SkipReason, value: [UInt8])] = []
    }

    var files: [Int: FileFold] = [:]

    mutating func add(_ t: BlockTally) {
        var f = files[t.file] ?? FileFold()
        f.blockLines.append((Int32(truncatingIfNeeded: t.index), Int32(truncatingIfNeeded: t.lines)))
        for (line, reason, value) in t.skipped.first where f.places.count < SkippedLines.keep {
            f.places.append((t.index, line, reason, value))
        }
        if t.minTime <= t.maxTime {
            f.totals.saw(t.minTime)
            f.totals.saw(t.maxTime)
        }
        for r in SkipReason.allCases { f.totals.skipped.counts[r.rawValue] += t.skipped.counts[r.rawValue] }
        f.totals.lines += t.lines
        f.totals.entries += t.entries
        f.totals.outsideWindow += t.outsideWindow
        for k in t.flavors.indices { f.totals.flavors[k] += t.flavors[k] }
        f.totals.producerNames.merge(t.producerNames)
        f.totals.producerComponents.merge(t.producerComponents)
        f.totals.own += t.own
        for k in t.formats.indices { f.totals.formats[k] += t.formats[k] }
        f.totals.noUpstream += t.noUpstream
        f.totals.prefixed += t.prefixed
        f.totals.passedOver += t.passedOver
        files[t.file] = f
    }

    /// One file's totals, with its first skipped places as file line numbers.
    static func file(_ folds: [FileFold]) -> BlockTally {
        var total = BlockTally(file: 0, index: 0)
        var start: [Int32: Int] = [:]
        var line = 0
        for (index, lines) in folds.flatMap(\.blockLines).sorted(by: { $0.index < $1.index }) {
            start[index] = line
            line += Int(lines)
        }
        let places = folds.flatMap(\.places).map { p in
            (line: (start[Int32(truncatingIfNeeded: p.index)] ?? 0) + p.line, reason: p.reason, value: p.value)
        }
        total.skipped.first = Array(places.sorted { $0.line < $1.line }.prefix(SkippedLines.keep))
        for f in folds {
            if f.totals.minTime <= f.totals.maxTime {
                total.saw(f.totals.minTime)
                total.saw(f.totals.maxTime)
            }
            for r in SkipReason.allCases { total.skipped.counts[r.rawValue] += f.totals.skipped.counts[r.rawValue] }
            total.lines += f.totals.lines
            total.entries += f.totals.entries
            total.outsideWindow += f.totals.outsideWindow
            for k in total.flavors.indices { total.flavors[k] += f.totals.flavors[k] }
            total.producerNames.merge(f.totals.producerNames)
            total.producerComponents.merge(f.totals.producerComponents)
            total.own += f.totals.own
            for k in total.formats.indices { total.formats[k] += f.totals.formats[k] }
            total.noUpstream += f.totals.noUpstream
            total.prefixed += f.totals.prefixed
            total.passedOver += f.totals.passedOver
        }
        return total
    }
}

/// The blocks between the reader and the workers, and the free buffers: a bounded hand-off, so the
/// reader waits when the workers are behind.
final class BlockQueue: @unchecked Sendable {
    /// Guards `free` and the buffers' `users`.
    private let condition = NSCondition()
    private let pending = ClosableFIFO<LineBlock>()
    private var free: [BlockBuffer]

    init(buffers: Int) { free = (0..<buffers).map { _ in BlockBuffer() } }

    func takeBuffer() -> BlockBuffer {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty { condition.wait() }
        return free.removeLast()
    }

    /// A reader of the buffer is done with it; it is free again once the last one is.
    func giveBack(_ b: BlockBuffer) {
        condition.lock()
        b.users -= 1
        if b.users <= 0 {
            b.users = 0
            free.append(b)
            condition.broadcast()
        }
        condition.unlock()
    }

    /// Hands a block to the workers; `users` is how many will give its buffer back.
    func push(_ block: LineBlock, users: Int = 1) {
        condition.lock()
        block.buffer?.users = users
        condition.unlock()
        pending.push(block)
    }

    /// The next block, or nil once the reader closed the queue and it is empty.
    func pop() -> LineBlock? { pending.pop() }

    func close() { pending.close() }
}

/// A FIFO between threads: `pop` waits for an item, and gives nil once the FIFO is closed and
/// drained.
final class ClosableFIFO<T>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [T] = []
    private var head = 0
    private var closed = false

    func push(_ item: T) {
        condition.lock()
        items.append(item)
        condition.broadcast()
        condition.unlock()
    }

    func pop() -> T? {
        condition.lock()
        defer { condition.unlock() }
        while head == items.count && !closed { condition.wait() }
        guard head < items.count else { return nil }
        let item = items[head]
        head += 1
        if head > 64, head * 2 > items.count {
            items.removeFirst(head)
            head = 0
        }
        return item
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Hashes the bytes of plain files in file order on a thread of its own, so that the reader only
/// reads: reading, hashing and parsing then run side by side.
final class BlockHasher: @unchecked Sendable {
    enum Job {
        /// Bytes of a block's buffer, handed back to the queue once hashed.
        case buffer(BlockBuffer, Range<Int>)
        /// Bytes copied out (the rare oversized line, whose buffer is reused at once).
        case copy([UInt8])
        case endOfFile(Int)
    }

    private let jobs = ClosableFIFO<Job>()
    /// Guards `finished` and `digests`.
    private let condition = NSCondition()
    private var finished = false
    private var digests: [Int: String] = [:]

    init(queue: BlockQueue) {
        let thread = Thread { [self] in
            var hasher = FileDigest.Hasher256()
            while let job = jobs.pop() {
                switch job {
                case let .buffer(b, range):
                    hasher.update(UnsafeRawBufferPointer(start: b.pointer + range.lowerBound, count: range.count))
                    queue.giveBack(b)
                case let .copy(bytes):
                    bytes.withUnsafeBytes { hasher.update($0) }
                case let .endOfFile(file):
                    let digest = hasher.finalize()
                    hasher = FileDigest.Hasher256()
                    condition.lock()
                    digests[file] = digest
                    condition.unlock()
                }
            }
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        thread.start()
    }

    func submit(_ job: Job) { jobs.push(job) }

    /// Waits until every job is hashed; the digests by file index.
    func finish() -> [Int: String] {
        jobs.close()
        condition.lock()
        while !finished { condition.wait() }
        defer { condition.unlock() }
        return digests
    }
}

/// Reads one file into blocks, and its SHA-256 (of the file's bytes as stored, compressed or not):
/// a `.gz` is hashed here as it is inflated (inflating dominates), a plain file by `hasher`.
enum BlockReader {
    static func read(_ file: LogFileHandle, fileIndex: Int, into queue: BlockQueue,
                     hasher: BlockHasher) throws(SourceError) -> (sha256: String?, endNote: String?) {
        if file.isGzip {
            var digest = FileDigest.Hasher256()
            let source = try GzipSource(file: file)
            source.onInput = { digest.update($0) }
            var s = source
            try cut(&s, fileIndex: fileIndex, into: queue, hasher: nil)
            try source.readRemainder()
            source.onInput = nil
            return (digest.finalize(), source.endNote)
        }
        var source = FileRegionSource(file: file, start: 0)
        try cut(&source, fileIndex: fileIndex, into: queue, hasher: hasher)
        hasher.submit(.endOfFile(fileIndex))
        return (nil, nil)
    }

    /// Fills buffers chunk by chunk and hands over everything up to the last newline; the partial
    /// line after it starts the next buffer. A partial line that outgrows the cap is read through
    /// to its newline and handed over as one oversized-line mark. With a `hasher`, every byte read
    /// goes to it once, in order: a buffer's bytes from `hashedUpTo` on go with its block.
    static func cut<S: ChunkSource>(_ source: inout S, fileIndex: Int, into queue: BlockQueue, hasher: BlockHasher?) throws(SourceError) {
        var index = 0
        var buffer = queue.takeBuffer()
        var filled = 0
        var scanned = 0     // bytes of `buffer` known to hold no newline
        var hashedUpTo = 0  // bytes of `buffer` already hashed (the carried-over partial line)
        func emit(_ count: Int) {
            queue.push(LineBlock(file: fileIndex, index: index, buffer: buffer, count: count), users: hasher == nil ? 1 : 2)
            hasher?.submit(.buffer(buffer, hashedUpTo..<filled))
            index += 1
        }
        func emitOversized() {
            queue.push(LineBlock(file: fileIndex, index: index, buffer: nil, count: 0, oversizedLine: true))
            index += 1
        }
        func skipOversized() throws(SourceError) {
            if let hasher, filled > hashedUpTo {
                hasher.submit(.copy(Array(UnsafeBufferPointer(start: buffer.pointer + hashedUpTo, count: filled - hashedUpTo))))
            }
            filled = try skipLine(&source, buffer: buffer, hasher: hasher)
            emitOversized()
            scanned = 0
            hashedUpTo = filled
        }
        while true {
            let room = min(LogBlocks.chunkSize, BlockBuffer.capacity - filled)
            let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer.pointer + filled, count: room))
            if n == 0 {
                if filled > 0 { emit(filled) } else { queue.giveBack(buffer) }
                return
            }
            filled += n
            guard let last = lastNewline(buffer.pointer, from: scanned, to: filled) else {
                scanned = filled
                if filled > LogBlocks.maxLineLength { try skipOversized() }
                continue
            }
            let end = last + 1
            let carry = filled - end
            let next = queue.takeBuffer()
            if carry > 0 { next.pointer.update(from: buffer.pointer + end, count: carry) }
            emit(end)
            buffer = next
            filled = carry
            scanned = carry
            hashedUpTo = carry
            if carry > LogBlocks.maxLineLength { try skipOversized() }
        }
    }

    /// The last newline in `p[from..<to]` (lines are short, so the walk back is short).
    @inline(__always)
    static func lastNewline(_ p: UnsafeMutablePointer<UInt8>, from: Int, to: Int) -> Int? {
        var i = to
        while i > from {
            i -= 1
            if p[i] == 0x0A { return i }
        }
        return nil
    }

    /// Reads until the end of the current line; leaves what follows its newline at the start of
    /// `buffer` and returns its length (0 at the end of the input). What it reads goes to `hasher`.
    static func skipLine<S: ChunkSource>(_ source: inout S, buffer: BlockBuffer, hasher: BlockHasher?) throws(SourceError) -> Int {
        while true {
            let n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer.pointer, count: LogBlocks.chunkSize))
            if n == 0 { return 0 }
            hasher?.submit(.copy(Array(UnsafeBufferPointer(start: buffer.pointer, count: n))))
            if let nl = memchr(buffer.pointer, 0x0A, n) {
                let start = buffer.pointer.distance(to: nl.assumingMemoryBound(to: UInt8.self)) + 1
                let rest = n - start
                if rest > 0 { buffer.pointer.update(from: buffer.pointer + start, count: rest) }
                return rest
            }
        }
    }

    /// Calls `body(line, number)` for each line of a block (without `\n` or a `\r` before it;
    /// numbers from 1); lines over the cap are counted in `tally` instead.
    @inline(__always)
    static func lines(of block: LineBlock, tally: inout BlockTally,
                      _ body: (UnsafeBufferPointer<UInt8>, Int, inout BlockTally) -> Void) {
        if block.oversizedLine {
            tally.lines += 1
            tally.skipped.add(.tooLong, line: tally.lines)
            return
        }
        guard let p = block.buffer?.pointer else { return }
        var start = 0
        while start < block.count {
            var end = block.count
            if let nl = memchr(p + start, 0x0A, block.count - start) {
                end = p.distance(to: nl.assumingMemoryBound(to: UInt8.self))
            }
            tally.lines += 1
            var e = end
            if e > start && p[e - 1] == 0x0D { e -= 1 }
            if e - start > LogBlocks.maxLineLength {
                tally.skipped.add(.tooLong, line: tally.lines, value: UnsafeBufferPointer(start: p + start, count: SkipExample.valueLength))
            } else {
                body(UnsafeBufferPointer(start: p + start, count: e - start), tally.lines, &tally)
            }
            start = end + 1
        }
    }
}
