import Foundation
import Testing
@testable import ThreatPolicy

/// The document splitter's lines, cut by Unicode scalars, against Swift's own split on Characters.
struct DocumentLinesTests {
    @Test("Document lines: the same lines as splitting Characters at YAML breaks, for LF, CRLF, CR, NEL, LS, PS, marks after breaks and empty lines")
    func linesEqualCharacterSplit() {
        var state: UInt64 = 5
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let pieces = ["\n", "\r\n", "\r", "\u{85}", "\u{2028}", "\u{2029}", "\r\r", "\n\r", "\u{301}", "\u{200D}", "e\u{301}",
                      "---", "...", " ", "key: value", "#", "%YAML 1.2", "é", "🇫🇷", "\u{FEFF}", "\t", "a"]
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<Int(next() % 12) { text += pieces[Int(next() % UInt64(pieces.count))] }
            let body = Substring(text)
            let expected = body.split(omittingEmptySubsequences: false, whereSeparator: DocumentSplitter.isBreak)
            let got = DocumentSplitter.lines(body)
            #expect(got.map(String.init) == expected.map(String.init), "\(text.debugDescription)")
        }
    }
}
