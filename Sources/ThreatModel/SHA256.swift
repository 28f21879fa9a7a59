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

/// One OpenSSL `EVP_MD_CTX` set up for SHA-256. Only `SHA256Digest` holds it, and it copies the
/// context before changing one it shares, so no two values ever mutate the same context: that is
/// why it can be `Sendable` although it wraps a C pointer.
final class DigestContext: @unchecked Sendable {
    private let ctx: OpaquePointer

    init() {
        guard let c = EVP_MD_CTX_new() else { fatalError("OpenSSL could not allocate a digest context (out of memory)") }
        ctx = c
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
    }

    private init(copying other: DigestContext) {
        guard let c = EVP_MD_CTX_new() else { fatalError("OpenSSL could not allocate a digest context (out of memory)") }
        ctx = c
        EVP_MD_CTX_copy_ex(ctx, other.ctx)
    }

    deinit { EVP_MD_CTX_free(ctx) }

    func copy() -> DigestContext { DigestContext(copying: self) }

    func update(_ bytes: UnsafeRawPointer, _ count: Int) { EVP_DigestUpdate(ctx, bytes, count) }

    /// The 32 digest bytes; the context is then set up again for a new digest.
    func finish() -> [UInt8] {
        var md = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var n: UInt32 = 0
        md.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(ctx, $0.baseAddress, &n) }
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        return Array(md.prefix(Int(n)))
    }
}
