import Foundation
import ThreatModel

/// SHA-256 of the log files for the evidence appendix, fed by the reader as it reads (see
/// `BlockReader`). Logs run to gigabytes, so the system's OpenSSL (`libcrypto.so.3`, which uses the
/// CPU's SHA instructions, ~1.4 GB/s here) is loaded at run time when present; otherwise a portable
/// implementation is used (several times slower).
enum FileDigest {
    /// A streaming SHA-256: OpenSSL's when it can be loaded, else the portable `SHA256Digest`.
    struct Hasher256 {
        private var openssl: OpenSSLSHA256?
        private var portable = SHA256Digest()

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
