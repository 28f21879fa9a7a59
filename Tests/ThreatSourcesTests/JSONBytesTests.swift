import Foundation
import Testing
@testable import ThreatSources

/// The byte-level JSON pieces the audit scanner, the Hubble scanner and the error-log JSON reader
/// share.
@Suite("JSONBytes: string scanning and escape decoding shared by the scanners")
struct JSONBytesTests {
    func unescaped(_ text: String) -> String {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { String(decoding: JSONBytes.unescaped($0), as: UTF8.self) }
    }

    func scan(_ text: String) -> (escaped: Bool?, end: Int) {
        let bytes = Array(text.utf8)
        var i = 0
        let r = bytes.withUnsafeBufferPointer { JSONBytes.string($0.baseAddress!, $0.count, &i) }
        return (r, i)
    }

    @Test("Escapes: short forms, \\u with a surrogate pair joined, a lone surrogate as U+FFFD, a \\u without four hex digits as ?")
    func unescape() {
        #expect(unescaped(#"a\"b\\c\/d\n\t\r\b\f"#) == "a\"b\\c/d\n\t\r\u{8}\u{C}")
        #expect(unescaped(#"\u00e9\ud83d\ude00!"#) == "é😀!")
        #expect(unescaped(#"\ud83dx"#) == "\u{FFFD}x")
        #expect(unescaped(#"\u12"#) == "?12")
        #expect(unescaped(#"\uzzzz"#) == "?zzzz")
    }

    @Test("Strings: the end after the closing quote, whether escapes were seen, nil for control bytes, bad escapes and no closing quote, across the eight-byte steps")
    func strings() {
        // The end is the string's length up to the tail that follows it.
        let plain = #""plain text well past eight bytes" tail"#, escaped = #""with \" a quote and \u00e9" x"#
        #expect(scan(plain) == (false, plain.utf8.count - " tail".utf8.count))
        #expect(scan(escaped) == (true, escaped.utf8.count - " x".utf8.count))
        #expect(scan("\"tab\tinside\"").escaped == nil)
        #expect(scan(#""bad \x escape""#).escaped == nil)
        #expect(scan(#""bad \u00g1""#).escaped == nil)
        #expect(scan(#""never closed, more than eight bytes"#).escaped == nil)
    }
}
