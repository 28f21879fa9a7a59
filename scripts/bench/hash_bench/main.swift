// `make bench` (bench.py, --only hash): the WAF log scan's hash before (unkeyed, invertible) and
// after (keyed per scan: `byteHash`, compiled in from Sources/ThreatSources/WAFFiles/ByteHash.swift),
// with Swift's Hasher (SipHash-1-3) for reference, on 400,000 keys shaped as the scan hashes them.
// `oldHash` is the unkeyed hash the scan used before, kept here only as the baseline.
import Foundation
@inline(__always)
func oldHash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 {
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
@inline(__always)
func newHash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var hasher = Hasher()
    hasher.combine(bytes: UnsafeRawBufferPointer(p))
    let h = UInt64(bitPattern: Int64(hasher.finalize()))
    return h == 0 ? 1 : h
}
// Keys as the scan hashes them: 32-hex request ids, and URIs of 10-120 bytes.
var keys: [[UInt8]] = []
for i in 0..<200_000 {
    keys.append(Array(String(format: "%016llx%016llx", UInt64(i) &* 0x9E3779B97F4A7C15, UInt64(i)).utf8))
    keys.append(Array(("/shop/item/\(i)?q=" + String(repeating: "x", count: i % 100)).utf8))
}
let bytes = keys.reduce(0) { $0 + $1.count }
func run(_ name: String, _ f: (UnsafeBufferPointer<UInt8>) -> UInt64) {
    var best = Double.infinity
    var sink: UInt64 = 0
    for _ in 0..<7 {
        let t = DispatchTime.now().uptimeNanoseconds
        for k in keys { k.withUnsafeBufferPointer { sink &+= f($0) } }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
    }
    print(String(format: "%@: %.1f ns per key, %.2f GB/s (best of 7, %d keys, %d bytes) %llu", name, best / Double(keys.count) * 1e9, Double(bytes) / best / 1e9, keys.count, bytes, sink & 1))
}
let key = HashKey.random()
@inline(__always)
func keyedHash(_ p: UnsafeBufferPointer<UInt8>) -> UInt64 { byteHash(p, key: key) }
run("old multiply-xorshift", oldHash)
run("keyed multiply-xorshift", keyedHash)
run("Hasher (SipHash-1-3)", newHash)
