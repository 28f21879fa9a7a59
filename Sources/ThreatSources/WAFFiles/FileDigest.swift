import Foundation
import ThreatModel

/// SHA-256 of the log files for the evidence appendix, fed by the reader as it reads (see
/// `BlockReader`). Logs run to gigabytes, so the system's OpenSSL (`libcrypto.so.3`, which uses the
/// CPU's SHA instructions, ~1.4 GB/s here) is loaded at run time when present; otherwise a portable
/// implementation is used (several times slower).
enum FileDigest {
    /// A streaming SHA-256: OpenSSL's when it can be loaded, else `PortableSHA256`.
    struct Hasher256 {
        private var openssl: OpenSSLSHA256?
        private var portable = PortableSHA256()

        init() { openssl = OpenSSLSHA256() }

        mutating func update(_ bytes: UnsafeRawBufferPointer) {
            if let o = openssl { o.update(bytes) } else { portable.update(bytes) }
        }

        mutating func finalize() -> String {
            if let o = openssl { return o.finalize() }
            return portable.finalize()
        }
    }
}

/// OpenSSL's one-shot-context SHA-256 API, bound with `dlopen` so the build needs no OpenSSL
/// headers and a machine without libcrypto still runs (with the portable digest).
final class OpenSSLSHA256 {
    private typealias InitFn = @convention(c) (UnsafeMutableRawPointer) -> Int32
    private typealias UpdateFn = @convention(c) (UnsafeMutableRawPointer, UnsafeRawPointer?, Int) -> Int32
    private typealias FinalFn = @convention(c) (UnsafeMutablePointer<UInt8>, UnsafeMutableRawPointer) -> Int32

    private struct Functions: @unchecked Sendable {
        let initialize: InitFn
        let update: UpdateFn
        let final: FinalFn
    }

    private static let functions: Functions? = {
        for name in ["libcrypto.so.3", "libcrypto.so"] {
            guard let h = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let i = dlsym(h, "SHA256_Init"), let u = dlsym(h, "SHA256_Update"), let f = dlsym(h, "SHA256_Final") else { continue }
            return Functions(initialize: unsafeBitCast(i, to: InitFn.self), update: unsafeBitCast(u, to: UpdateFn.self),
                             final: unsafeBitCast(f, to: FinalFn.self))
        }
        return nil
    }()

    private let fns: Functions
    /// `SHA256_CTX` is 112 bytes; room to spare.
    private let context = UnsafeMutableRawPointer.allocate(byteCount: 256, alignment: 16)

    init?() {
        guard let f = Self.functions else {
            context.deallocate()
            return nil
        }
        fns = f
        _ = fns.initialize(context)
    }

    deinit { context.deallocate() }

    func update(_ bytes: UnsafeRawBufferPointer) {
        _ = fns.update(context, bytes.baseAddress, bytes.count)
    }

    func finalize() -> String {
        var md = [UInt8](repeating: 0, count: 32)
        _ = md.withUnsafeMutableBufferPointer { fns.final($0.baseAddress!, context) }
        return md.map { String(format: "%02x", $0) }.joined()
    }
}

/// SHA-256 (FIPS 180-4) over whole 64-byte blocks read in place.
struct PortableSHA256 {
    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19)
    private var tail: [UInt8] = []
    private var length: UInt64 = 0

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        length += UInt64(bytes.count)
        var i = 0
        if !tail.isEmpty {
            let take = min(64 - tail.count, bytes.count)
            tail.append(contentsOf: UnsafeRawBufferPointer(start: base, count: take))
            i = take
            if tail.count == 64 {
                tail.withUnsafeBytes { compress($0.baseAddress!) }
                tail.removeAll(keepingCapacity: true)
            }
        }
        while i + 64 <= bytes.count {
            compress(base + i)
            i += 64
        }
        if i < bytes.count { tail.append(contentsOf: UnsafeRawBufferPointer(start: base + i, count: bytes.count - i)) }
    }

    mutating func finalize() -> String {
        var pad: [UInt8] = [0x80]
        let used = Int(length % 64)
        pad += [UInt8](repeating: 0, count: (used < 56 ? 55 - used : 119 - used))
        let bits = length &* 8
        for s in stride(from: 56, through: 0, by: -8) { pad.append(UInt8(truncatingIfNeeded: bits >> UInt64(s))) }
        let saved = length
        pad.withUnsafeBytes { update($0) }
        length = saved
        return [h.0, h.1, h.2, h.3, h.4, h.5, h.6, h.7].map { String(format: "%08x", $0) }.joined()
    }

    private mutating func compress(_ block: UnsafeRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for t in 0..<16 { w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self)) }
            @inline(__always) func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }
            for t in 16..<64 {
                let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = h
            Self.k.withUnsafeBufferPointer { k in
                for t in 0..<64 {
                    let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                    let ch = (e & f) ^ (~e & g)
                    let t1 = hh &+ s1 &+ ch &+ k[t] &+ w[t]
                    let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                    let t2 = s0 &+ ((a & b) ^ (a & c) ^ (b & c))
                    hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
                }
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e, h.5 &+ f, h.6 &+ g, h.7 &+ hh)
        }
    }
}
