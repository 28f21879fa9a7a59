import CCrypto
import Foundation

/// SHA-256 for the evidence appendix (digests of inputs), `SHA256SUMS` and the recordings: the
/// system's OpenSSL through its EVP digest API, which uses the CPU's SHA instructions where they
/// exist. Measured here on 256 MiB: a portable Swift implementation 83–92 MB/s, OpenSSL ~390 MB/s
/// and more (docs/benchmarks.md); log files run to gigabytes and are hashed as they are read.
///
/// A value type: a copy continues from the state it was copied at (copy on write of the OpenSSL
/// context).
public struct SHA256Digest: Sendable {
    private var context: DigestContext

    public init() { context = DigestContext() }

    /// Contiguous collections (`[UInt8]`, `Data`, `String.UTF8View` of a native string, …) are
    /// hashed in place; other sequences are copied first.
    public mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { update($0) }
        }
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        if !isKnownUniquelyReferenced(&context) { context = context.copy() }
        context.update(base, bytes.count)
    }

    /// The digest as 64 lowercase hex digits. The value starts over afterwards.
    public mutating func finalize() -> String {
        if !isKnownUniquelyReferenced(&context) { context = context.copy() }
        let digest = context.finish()
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in digest {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var d = SHA256Digest()
        d.update(bytes)
        return d.finalize()
    }
}

/// One OpenSSL `SHA256_CTX`. Only `SHA256Digest` holds it, and it copies the context before
/// changing one it shares, so no two values ever mutate the same context: that is why it can be
/// `Sendable` although it wraps C state. (The low-level functions, not the EVP API: the same
/// SHA-NI code without OpenSSL 3's provider and configuration loading, about 2 MB less RSS.)
final class DigestContext: @unchecked Sendable {
    private var ctx = SHA256_CTX()

    init() { SHA256_Init(&ctx) }

    private init(copying other: DigestContext) { ctx = other.ctx }

    func copy() -> DigestContext { DigestContext(copying: self) }

    func update(_ bytes: UnsafeRawPointer, _ count: Int) { SHA256_Update(&ctx, bytes, count) }

    /// The 32 digest bytes; the context is then set up again for a new digest.
    func finish() -> [UInt8] {
        var md = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        md.withUnsafeMutableBufferPointer { _ = SHA256_Final($0.baseAddress, &ctx) }
        SHA256_Init(&ctx)
        return md
    }
}
