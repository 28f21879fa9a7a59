import Foundation
import Testing
import ThreatModel

@Suite("SHA-256 digest")
struct SHA256Tests {
    @Test("One million 'a' (FIPS 180-2 long message)")
    func millionA() {
        #expect(SHA256Digest.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
            == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test("Lengths at the padding edges (55, 56, 63, 64 bytes)")
    func paddingEdges() {
        // Known answers for "a" repeated n times, n at the padding boundaries.
        let known: [Int: String] = [
            55: "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318",
            56: "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a",
            63: "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34",
            64: "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb",
        ]
        for (n, hex) in known {
            #expect(SHA256Digest.hex([UInt8](repeating: UInt8(ascii: "a"), count: n)) == hex, "\(n) bytes")
        }
    }

    @Test("Split updates, byte sequences and Data give the one-shot digest")
    func splitUpdates() {
        var state: UInt32 = 12345
        let bytes = (0..<1000).map { _ -> UInt8 in
            state = state &* 1_103_515_245 &+ 12345
            return UInt8(truncatingIfNeeded: state >> 16)
        }
        let whole = SHA256Digest.hex(bytes)
        for cut in [0, 1, 55, 56, 63, 64, 65, 127, 128, 500, 999, 1000] {
            var d = SHA256Digest()
            d.update(bytes[..<cut])
            d.update(bytes[cut...])
            #expect(d.finalize() == whole, "cut at \(cut)")
        }
        var small = SHA256Digest()
        for b in bytes { small.update([b]) }
        #expect(small.finalize() == whole)
        #expect(SHA256Digest.hex(Data(bytes)) == whole)
        // A sequence without contiguous storage takes the copying path.
        #expect(SHA256Digest.hex(bytes.lazy.map { $0 }) == whole)
        #expect(SHA256Digest.hex(AnySequence(bytes)) == whole)
    }

    @Test("A copy continues from the state it was copied at; the original is untouched; finalize starts over")
    func valueSemantics() {
        var a = SHA256Digest()
        a.update(Array("abc".utf8))
        var b = a
        b.update(Array("def".utf8))
        #expect(a.finalize() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(b.finalize() == SHA256Digest.hex(Array("abcdef".utf8)))
        // After finalize, the value is a fresh digest: the empty input's.
        #expect(a.finalize() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
