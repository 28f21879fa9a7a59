import Foundation
import ThreatModel

/// Distinct byte strings numbered in order of first sight, kept in one arena and found by hash
/// (no `String` is made while scanning), up to a cap: past it, new strings share `overflow`
/// (still counted, no longer ranked one by one), so an attack that sends a million different
/// URIs cannot grow memory without bound.
struct Interner {
    static let overflow = UInt32.max
    let cap: Int
    private var arena: [UInt8] = []
    private var starts: [Int] = []
    private var hashes: [UInt64] = []
    private var table: [UInt32]
    private var mask: Int
    /// Lookups that found no room.
    private(set) var overflowed = 0

    init(cap: Int) {
        self.cap = cap
        table = [UInt32](repeating: 0, count: 64)
        mask = 63
    }

    var count: Int { hashes.count }

    mutating func id(_ b: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let h = byteHash(b)
        var i = Int(truncatingIfNeeded: h) & mask
        while table[i] != 0 {
            let id = Int(table[i] - 1)
            if hashes[id] == h, equals(id, b) { return UInt32(id) }
            i = (i + 1) & mask
        }
        guard hashes.count < cap else { overflowed += 1; return Self.overflow }
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

    private mutating func grow() {
        table = [UInt32](repeating: 0, count: table.count * 2)
        mask = table.count - 1
        for (id, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while table[i] != 0 { i = (i + 1) & mask }
            table[i] = UInt32(id + 1)
        }
    }

    /// The string of an id (invalid UTF-8 replaced), nil for `overflow`.
    func string(_ id: UInt32) -> String? {
        guard id != Self.overflow else { return nil }
        let k = Int(id)
        let start = starts[k], end = k + 1 < starts.count ? starts[k + 1] : arena.count
        return String(decoding: arena[start..<end], as: UTF8.self)
    }

    /// Numbers another interner's strings in this one: `map[old] = new`.
    mutating func absorb(_ other: Interner) -> [UInt32] {
        overflowed += other.overflowed
        var map: [UInt32] = []
        map.reserveCapacity(other.count)
        other.arena.withUnsafeBufferPointer { a in
            for k in 0..<other.count {
                let start = other.starts[k], end = k + 1 < other.count ? other.starts[k + 1] : a.count
                map.append(id(UnsafeBufferPointer(rebasing: a[start..<end])))
            }
        }
        return map
    }
}

/// A 64-bit hash of a byte string, eight bytes at a time (multiply–xorshift, finished with
/// MurmurHash3's mixer): the key that joins audit `unique_id`s to access-log `$req_id`s, and the
/// interners' hash. Only the hash of each id is kept; two ids collide with odds of about 2⁻⁶⁴.
@inline(__always)
func byteHash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: p.count)
    guard let base = p.baseAddress else { return h == 0 ? 1 : h }
    let raw = UnsafeRawPointer(base)
    var i = 0
    while i + 8 <= p.count {
        h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        i += 8
    }
    if i < p.count {
        var w: UInt64 = 0
        for k in i..<p.count { w = w << 8 | UInt64(p[k]) }
        h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
    }
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    return h == 0 ? 1 : h
}

func byteHash(_ s: String) -> UInt64 {
    var s = s
    return s.withUTF8 { byteHash($0) }
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
    case notJSON, notAuditEntry, badTime, tooLong, notAccessLine

    var text: String {
        switch self {
        case .notJSON: "not JSON"
        case .notAuditEntry: "JSON but not a ModSecurity or Coraza audit entry"
        case .badTime: "time not understood"
        case .tooLong: "longer than \(InputLimits.describe(bytes: LogBlocks.maxLineLength))"
        case .notAccessLine: "not an ingress-nginx or combined access line"
        }
    }
}

/// Skipped lines: counts by reason and the first few places (line numbers within a block until
/// `WAFLogScan.summaries` makes them file lines).
struct SkippedLines {
    static let keep = 5
    var counts = [Int](repeating: 0, count: SkipReason.allCases.count)
    /// The first places, with the offending value (cut, control characters made visible).
    var first: [(line: Int, reason: SkipReason, value: String?)] = []

    var total: Int { counts.reduce(0, +) }

    mutating func add(_ reason: SkipReason, line: Int, value: UnsafeBufferPointer<UInt8>? = nil) {
        counts[reason.rawValue] += 1
        if first.count < Self.keep { first.append((line, reason, value.map { SkipExample.cut(bytes: $0) })) }
    }
}
