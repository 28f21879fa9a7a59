import CPrefetch
import Foundation

/// The secret key of one scan's hashes, drawn at random for each scan (`WAFLogScan.hashKey`) and
/// passed to every table of that scan.
struct HashKey: Sendable, Equatable {
    var k0: UInt64
    var k1: UInt64
    static func random() -> HashKey {
        var g = SystemRandomNumberGenerator()
        return HashKey(k0: g.next(), k1: g.next())
    }
}

/// A 64-bit keyed hash of a byte string, eight bytes at a time (multiply–xorshift with the key in
/// the starting state and the finish, then MurmurHash3's mixer): the key that joins audit
/// `unique_id`s to access-log `$req_id`s, and the interners' hash. The key is secret and new for
/// every scan, so request ids and URIs an attacker chooses cannot be made to collide or pile onto
/// one slot (the unkeyed hash was invertible). Only the hash of each id is kept; two ids collide
/// with odds of about 2⁻⁶⁴. As fast as the unkeyed one (Swift's `Hasher`, SipHash, was 30× slower).
@inline(__always)
func byteHash(_ p: UnsafeBufferPointer<UInt8>, key: HashKey) -> UInt64 {
    var h: UInt64 = (0x9E37_79B9_7F4A_7C15 ^ key.k0) &+ UInt64(truncatingIfNeeded: p.count)
    h = (h ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
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
    h = murmurFinish(h ^ key.k1)
    return h == 0 ? 1 : h
}

/// MurmurHash3's 64-bit finalizer: every input bit reaches every output bit, and it is a
/// bijection (distinct inputs stay distinct).
@inline(__always)
func murmurFinish(_ x: UInt64) -> UInt64 {
    var h = x
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    h = h &* 0xC4CE_B9FE_1A85_EC53
    h ^= h >> 33
    return h
}

func byteHash(_ s: String, key: HashKey) -> UInt64 {
    var s = s
    return s.withUTF8 { byteHash($0, key: key) }
}

/// Positions by a key that is a `byteHash` already (keyed with the scan's secret key, never 0):
/// open addressing on the key's own bits, so a lookup hashes nothing again (a `[UInt64: Int]`
/// ran SipHash over each key on every lookup and insert). A slot holds its key and value side by
/// side: one cache line per probe.
struct KeyedIndex {
    private var slots: [(key: UInt64, value: Int)] = []
    private var mask = -1
    private(set) var count = 0

    init(capacity: Int = 0) {
        if capacity > 0 { resize(to: Self.size(for: capacity)) }
    }

    private static func size(for n: Int) -> Int {
        var size = 16
        while size < 2 * n { size <<= 1 }
        return size
    }

    /// The first slot to try: the key's high bits folded in (a keyed hash's bits are all alike).
    @inline(__always)
    private func start(_ k: UInt64) -> Int { Int(truncatingIfNeeded: k ^ (k >> 32)) & mask }

    /// The slot holding `key`, or the empty slot where it would go (the table is never full).
    @inline(__always)
    private func slot(_ key: UInt64) -> Int {
        var i = start(key)
        while slots[i].key != 0, slots[i].key != key { i = (i + 1) & mask }
        return i
    }

    subscript(key: UInt64) -> Int? {
        guard count > 0 else { return nil }
        let i = slot(key)
        return slots[i].key == key ? slots[i].value : nil
    }

    /// Sets the position of `key` (0 is not a key: `byteHash` never returns it).
    mutating func set(_ key: UInt64, _ value: Int) {
        if valueOrInsert(key, value) != nil { slots[slot(key)].value = value }
    }

    /// The value of `key`, or nil after setting it to `value`: one probe where a lookup and a
    /// `set` would make two.
    mutating func valueOrInsert(_ key: UInt64, _ value: Int) -> Int? {
        precondition(key != 0)
        if 2 * (count + 1) > slots.count { resize(to: Self.size(for: count + 1)) }
        let i = slot(key)
        if slots[i].key == key { return slots[i].value }
        slots[i] = (key, value)
        count += 1
        return nil
    }

    /// Asks the CPU for `key`'s first slot ahead of a lookup (a hint only).
    @inline(__always)
    func prefetch(_ key: UInt64) {
        guard !slots.isEmpty else { return }
        slots.withUnsafeBufferPointer { threat_prefetch($0.baseAddress! + start(key)) }
    }

    /// Empties the index, keeping its room.
    mutating func removeAll() {
        guard count > 0 else { return }
        slots.withUnsafeMutableBufferPointer { $0.update(repeating: (0, 0)) }
        count = 0
    }

    private mutating func resize(to size: Int) {
        let old = slots
        slots = Array(repeating: (0, 0), count: size)
        mask = size - 1
        count = 0
        for s in old where s.key != 0 { set(s.key, s.value) }
    }
}
