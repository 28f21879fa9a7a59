import Foundation
import Testing
import ThreatModel
import Yams
import TestSupport

/// `PlainScalar.surelyText` may only say "text" where Yams' own conversions all give nil.
struct PlainScalarTests {
    /// Yams' answer: none of int, float, bool, null (and timestamp) for the plain scalar.
    static func yamsText(_ s: String, timestamp: Bool) -> Bool {
        let node = Node(s)
        return node.int == nil && node.float == nil && node.bool == nil && node.null == nil && (!timestamp || node.timestamp == nil)
    }

    @Test("PlainScalar: never says text where Yams reads an int, float, bool, null or timestamp, on 60,000 generated strings")
    func shortcutAgreesWithYams() {
        var rng = SplitMix(state: 3)
        // Pieces of every form Yams converts, and of the strings policies hold.
        let pieces = ["0", "1", "7", "9", "12", "0x", "0X", "0o", "0b", "1f", "e5", "E", "p3", ".", "+", "-", "_", ":", "~",
                      "inf", "Inf", "INFINITY", "nan", "NaN", "snan", "(12)", "true", "Yes", "ON", "off", "no", "False", "null",
                      "NULL", "Null", "2026-11-19", "T", "t", "12:00:00", "Z", " ", "k8s", "app", "=", "/", "client", "é",
                      "\u{212A}", "İ", "١", "y", "n", "a", "s", "t", "o", "f", "x", "i", "I", "N", "F", "_", "_"]
        var sure = 0
        for _ in 0..<60_000 {
            var s = ""
            for _ in 0..<Int(rng.next() % 5) { s += pieces[Int(rng.next() % UInt64(pieces.count))] }
            for timestamp in [false, true] where PlainScalar.surelyText(s, timestamp: timestamp) {
                sure += 1
                #expect(Self.yamsText(s, timestamp: timestamp), "\(s.debugDescription) is not text for Yams")
            }
        }
        // Not vacuous: most generated strings with a letter are settled without Yams.
        #expect(sure > 40_000)
    }

    @Test("PlainScalar: labels, names and namespaces are settled as text; numbers, words and dates go to Yams")
    func typicalStrings() {
        for s in ["k8s:app=client", "client-7d9f8c6b5-x2x7k", "team-0001", "default", "shop", "reserved:world", "kube-dns"] {
            #expect(PlainScalar.surelyText(s, timestamp: true), "\(s)")
            #expect(PlainScalar.readsAsText(Node(s), timestamp: true) && PlainScalar.readsAsText(s, timestamp: true))
        }
        for s in ["8080", "0x1F", "1e5", "-.inf", ".NaN", "Infinity", "i_nf", "-I_n_F", "n_aN", "inf:nan", "true", "Off", "~", "", "null",
                  "1:30", "cafe", "2026-11-19"] {
            #expect(!PlainScalar.surelyText(s, timestamp: true), "\(s)")
            #expect(PlainScalar.readsAsText(Node(s), timestamp: true) == Self.yamsText(s, timestamp: true), "\(s)")
            #expect(PlainScalar.readsAsText(s, timestamp: true) == Self.yamsText(s, timestamp: true), "\(s)")
        }
        // A date is text to the int/float/bool/null check but not once timestamps count.
        #expect(!PlainScalar.readsAsText(Node("2026-11-19"), timestamp: true))
    }
}
