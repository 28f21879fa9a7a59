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
    h ^= key.k1
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    h = h &* 0xC4CE_B9FE_1A85_EC53
    h ^= h >> 33
    return h == 0 ? 1 : h
}

func byteHash(_ s: String, key: HashKey) -> UInt64 {
    var s = s
    return s.withUTF8 { byteHash($0, key: key) }
}
