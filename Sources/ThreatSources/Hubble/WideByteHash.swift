/// `byteHash` for the longer strings of flow lines (a side object is some 400 bytes, hashed on
/// every line to find its decoded form): four independent lanes of eight bytes each, so the
/// multiplications overlap, then the lanes folded and finished as `byteHash` finishes. Keyed
/// like it (the key is secret and new for each read). Only a table's speed depends on it: every
/// hit is confirmed by comparing the bytes.
@inline(__always)
func wideByteHash(_ p: UnsafeBufferPointer<UInt8>, key: HashKey) -> UInt64 {
    let n = p.count
    guard n >= 32, let base = p.baseAddress else { return byteHash(p, key: key) }
    let raw = UnsafeRawPointer(base)
    let m: UInt64 = 0xBF58_476D_1CE4_E5B9
    var a = key.k0 ^ 0x9E37_79B9_7F4A_7C15, b = key.k1 ^ 0x94D0_49BB_1331_11EB
    var c = key.k0 &+ UInt64(truncatingIfNeeded: n), d = key.k1 ^ 0xD6E8_FEB8_6659_FD93
    @inline(__always) func step(_ h: inout UInt64, _ at: Int) {
        h = (h ^ raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) &* m
        h ^= h >> 31
    }
    var i = 0
    while i + 32 <= n {
        step(&a, i)
        step(&b, i + 8)
        step(&c, i + 16)
        step(&d, i + 24)
        i += 32
    }
    if i < n {
        // The last 32 bytes (some hashed twice), so every byte counts.
        let t = n - 32
        step(&a, t)
        step(&b, t + 8)
        step(&c, t + 16)
        step(&d, t + 24)
    }
    var h = a ^ ((b << 21) | (b >> 43)) ^ ((c << 42) | (c >> 22)) ^ ((d << 11) | (d >> 53))
    h = (h ^ (h >> 29)) &* m
    h ^= key.k1
    h ^= h >> 33
    h = h &* 0xFF51_AFD7_ED55_8CCD
    h ^= h >> 33
    return h
}
