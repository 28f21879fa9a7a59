import CPrefetch
import Foundation
import ThreatModel

/// Distinct byte strings numbered in order of first sight, kept in one arena and found by hash
/// (no `String` is made while scanning), up to a cap of entries and a cap of bytes: past either,
/// new strings share `overflow` (still counted, in "other", no longer ranked one by one), so an
/// attack that sends a million different URIs, or a few thousand 1 MB ones, cannot grow memory
/// without bound. A string is cut to `InputLimits.keyBytes` (at a UTF-8 character boundary)
/// before it is looked up or kept.
struct Interner {
    static let overflow = UInt32.max
    let cap: Int
    let byteCap: Int
    let key: HashKey
    private var arena: [UInt8] = []
    private var starts: [Int] = []
    private var hashes: [UInt64] = []
    private var table: [UInt32]
    private var mask: Int
    /// Lookups that found no room.
    private(set) var overflowed = 0

    init(cap: Int, byteCap: Int, key: HashKey) {
        self.cap = cap
        self.byteCap = byteCap
        self.key = key
        table = [UInt32](repeating: 0, count: 64)
        mask = 63
    }

    var count: Int { hashes.count }

    /// Room for `n` more strings of `bytes` bytes in all (within the caps), so that adding them
    /// does not grow the table step by step.
    mutating func reserve(_ n: Int, bytes: Int) {
        let n = min(n, cap - count), bytes = min(bytes, byteCap - arena.count)
        guard n > 0 else { return }
        arena.reserveCapacity(arena.count + max(0, bytes))
        starts.reserveCapacity(count + n)
        hashes.reserveCapacity(count + n)
        var size = table.count
        while size < 2 * (count + n) { size <<= 1 }
        if size > table.count { rehash(size) }
    }
    /// Bytes kept in the arena.
    var bytes: Int { arena.count }

    /// "100000 entries or 8 MiB".
    var capText: String { "\(cap) entries or \(InputLimits.describe(bytes: byteCap))" }

    mutating func id(_ whole: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let b = InputLimits.keyPrefix(whole)
        return id(b, hash: byteHash(b, key: key))
    }

    /// The id of `whole`, `hint` when that is its string (compared, not hashed): for values that
    /// mostly repeat the one last seen in the same place, such as a rule's message.
    mutating func id(_ whole: UnsafeBufferPointer<UInt8>, hint: UInt32) -> UInt32 {
        let b = InputLimits.keyPrefix(whole)
        if Int(hint) < hashes.count, equals(Int(hint), b) { return hint }
        return id(b, hash: byteHash(b, key: key))
    }

    /// The id of bytes already cut to `InputLimits.keyPrefix`, whose `byteHash` with this
    /// interner's key is `h`.
    private mutating func id(_ b: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> UInt32 {
        var i = Int(truncatingIfNeeded: h) & mask
        while table[i] != 0 {
            let id = Int(table[i] - 1)
            if hashes[id] == h, equals(id, b) { return UInt32(id) }
            i = (i + 1) & mask
        }
        guard hashes.count < cap, arena.count + b.count <= byteCap else { overflowed += 1; return Self.overflow }
        let id = hashes.count
        starts.append(arena.count)
        arena.append(contentsOf: b)
        hashes.append(h)
        table[i] = UInt32(id + 1)
        if hashes.count * 2 > table.count { grow() }
        return UInt32(id)
    }

    mutating func id(_ s: String) -> UInt32 {
        var s = s
        return s.withUTF8 { id($0) }
    }

    private func equals(_ id: Int, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = starts[id], end = id + 1 < starts.count ? starts[id + 1] : arena.count
        guard end - start == b.count else { return false }
        guard b.count > 0 else { return true }
        return arena.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, b.baseAddress!, b.count) == 0 }
    }

    private mutating func grow() { rehash(table.count * 2) }

    private mutating func rehash(_ size: Int) {
        table = [UInt32](repeating: 0, count: size)
        mask = table.count - 1
        for (id, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = UInt32(id + 1)
        }
    }

    /// The hash kept for id `id` (nil for `overflow` or an id past the table).
    func storedHash(_ id: UInt32) -> UInt64? { Int(id) < hashes.count ? hashes[Int(id)] : nil }

    /// Asks the CPU for the first slot of a string whose hash with this interner's key is `h`,
    /// ahead of its lookup (a hint only).
    @inline(__always)
    func prefetch(hash h: UInt64) {
        table.withUnsafeBufferPointer { threat_prefetch($0.baseAddress! + (Int(truncatingIfNeeded: h) & mask)) }
    }

    /// Where an id's bytes lie in the arena, nil for `overflow`.
    private func range(_ id: UInt32) -> Range<Int>? {
        guard id != Self.overflow else { return nil }
        let k = Int(id)
        return starts[k]..<(k + 1 < starts.count ? starts[k + 1] : arena.count)
    }

    /// The string of an id (invalid UTF-8 replaced), nil for `overflow`.
    func string(_ id: UInt32) -> String? {
        range(id).map { String(decoding: arena[$0], as: UTF8.self) }
    }

    /// Calls `body` with the bytes of an id (nil for `overflow`), without making a String.
    func withBytes<R>(_ id: UInt32, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        guard let r = range(id) else { return nil }
        return arena.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[r])) }
    }

    /// This interner's id of `other`'s string `oid` (nil for `overflow`). With the same key, the
    /// hash `other` kept is used again (its bytes are cut to the prefix already).
    mutating func id(of oid: UInt32, in other: Interner) -> UInt32? {
        guard let r = other.range(oid) else { return nil }
        let h = other.key == key ? other.hashes[Int(oid)] : nil
        return other.arena.withUnsafeBufferPointer { a in
            let b = UnsafeBufferPointer(rebasing: a[r])
            return h.map { id(b, hash: $0) } ?? id(b)
        }
    }

    /// Numbers another interner's strings in this one: `map[old] = new`.
    mutating func absorb(_ other: Interner) -> [UInt32] {
        overflowed += other.overflowed
        var map: [UInt32] = []
        map.reserveCapacity(other.count)
        for k in 0..<UInt32(other.count) { map.append(id(of: k, in: other)!) }
        return map
    }
}

/// An open-addressing table from id hash (never 0) to the newest record with that id.
struct IDTable {
    private var keys: [UInt64]
    private var values: [Int32]
    private let mask: Int
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = [UInt64](repeating: 0, count: size)
        values = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    var isEmpty: Bool { count == 0 }

    /// Stores `value` under `key`; returns the value it replaces (the previous record with the
    /// same id, to chain them).
    mutating func insert(_ key: UInt64, _ value: Int32) -> Int32? {
        var i = Int(truncatingIfNeeded: key) & mask
        while keys[i] != 0 {
            if keys[i] == key {
                let old = values[i]
                values[i] = value
                return old
            }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = value
        count += 1
        return nil
    }

    @inline(__always)
    func find(_ key: UInt64) -> Int32? {
        var i = Int(truncatingIfNeeded: key) & mask
        while keys[i] != 0 {
            if keys[i] == key { return values[i] }
            i = (i + 1) & mask
        }
        return nil
    }
}

/// Why a line was not counted.
enum SkipReason: Int, CaseIterable, Sendable {
    case notJSON, notAuditEntry, badTime, tooLong, notAccessLine, incompleteEntry, headlessEntry

    var text: String {
        switch self {
        case .notJSON: "neither JSON nor a native audit entry"
        case .notAuditEntry: "JSON but not a ModSecurity or Coraza audit entry"
        case .badTime: "time not understood"
        case .tooLong: "longer than \(InputLimits.describe(bytes: LogBlocks.maxLineLength))"
        case .notAccessLine: "not an access line of the expected format"
        case .incompleteEntry: "native audit entry without its closing Z boundary"
        case .headlessEntry: "native audit entry without its A header (no time: Coraza's native formatter writes none, use SecAuditLogFormat JSON)"
        }
    }
}

/// Skipped lines: counts by reason and the first few places (line numbers within a block until
/// `WAFLogScan.summaries` makes them file lines), each with the start of the offending value,
/// escaped so it can be shown.
struct SkippedLines {
    static let keep = 5
    /// Bytes of the offending value kept for the message.
    static let sampleBytes = 60
    var counts = [Int](repeating: 0, count: SkipReason.allCases.count)
    /// The first places, each with the start of the offending line as read (raw bytes, at most
    /// `keptBytes`): the warning shows it as `sample` (`\xHH`), the coverage example as
    /// `SkipExample.cut` (`\u{…}`).
    var first: [(line: Int, reason: SkipReason, value: [UInt8])] = []
    static let keptBytes = SkipExample.valueLength * 4 + 1

    var total: Int { counts.reduce(0, +) }

    mutating func add(_ reason: SkipReason, line: Int, value: UnsafeBufferPointer<UInt8>? = nil) {
        counts[reason.rawValue] += 1
        if first.count < Self.keep { first.append((line, reason, value.map { Array($0.prefix(Self.keptBytes)) } ?? [])) }
    }

    mutating func add(_ reason: SkipReason, line: Int, value: [UInt8]) {
        value.withUnsafeBufferPointer { add(reason, line: line, value: $0) }
    }

    /// The first `sampleBytes` bytes, printable ASCII kept, anything else as `\xHH`.
    static func sample(_ bytes: [UInt8]) -> String { bytes.withUnsafeBufferPointer { sample($0) } }

    static func sample(_ b: UnsafeBufferPointer<UInt8>) -> String {
        var out = ""
        for c in b.prefix(sampleBytes) {
            if c >= 0x20, c < 0x7F, c != 0x5C { out.unicodeScalars.append(UnicodeScalar(c)) } else { out += String(format: "\\x%02X", c) }
        }
        if b.count > sampleBytes { out += "…" }
        return out
    }
}

extension WAFLogScan {
    /// The section's warnings for keys past a table cap: how many audit entries (or rule matches)
    /// were counted as "other" because their client, URI, rule or message found no room. Those
    /// entries are in every total; they are not ranked, and a ranked key seen both before and after
    /// its table filled may count low by up to that number.
    static func otherWarnings(records: [AuditRecord], refs: [RuleRef], merged: AuditPart) -> [String] {
        var clients = 0, uris = 0, rules = 0, messages = 0
        for r in records {
            if r.client == Interner.overflow { clients += 1 }
            if r.uri == Interner.overflow { uris += 1 }
        }
        for r in refs {
            if r.rule == Interner.overflow { rules += 1 }
            if r.message == Interner.overflow { messages += 1 }
        }
        var out: [String] = []
        for (n, what, unit, table) in [(clients, "client addresses", "audit entries", merged.clients), (uris, "URIs", "audit entries", merged.uris),
                                       (rules, "rule ids", "rule matches", merged.rules), (messages, "rule messages", "rule matches", merged.messages)]
        where n > 0 {
            out.append("\(n) \(unit) with \(what) beyond the table cap of \(table.capText) were counted as other "
                       + "(in the totals, not ranked; a ranked count may be low by up to \(n))")
        }
        return out
    }
}

/// Work started on a thread of its own, whose result `wait` gives back (the scan's analyses that
/// read the same records and share nothing else run side by side on the machine's cores).
final class ParallelTask<T: Sendable>: @unchecked Sendable {
    /// Guards `result`.
    private let condition = NSCondition()
    private var result: T?

    init(_ body: @escaping @Sendable () -> T) {
        let thread = Thread { [self] in
            let value = body()
            condition.lock()
            result = value
            condition.broadcast()
            condition.unlock()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    func wait() -> T {
        condition.lock()
        defer { condition.unlock() }
        while result == nil { condition.wait() }
        return result!
    }
}

/// Runs `a` on a thread of its own and `b` on this one; both results.
func inParallel<A: Sendable, B: Sendable>(_ a: @escaping @Sendable () -> A, _ b: () -> B) -> (A, B) {
    let task = ParallelTask(a)
    let second = b()
    return (task.wait(), second)
}

/// The first `count` of `items` in the order `less` gives (a total order), as `sorted(by:)`
/// followed by `prefix(count)` would give them, without sorting all of them: a top-10 of 100,000
/// URIs costs one pass.
func firstSorted<T>(_ items: some Sequence<T>, count: Int, by less: (T, T) -> Bool) -> [T] {
    guard count > 0 else { return [] }
    var kept: [T] = []
    kept.reserveCapacity(count + 1)
    for item in items {
        if kept.count == count, let last = kept.last, !less(item, last) { continue }
        var i = kept.count
        while i > 0, less(item, kept[i - 1]) { i -= 1 }
        kept.insert(item, at: i)
        if kept.count > count { kept.removeLast() }
    }
    return kept
}
