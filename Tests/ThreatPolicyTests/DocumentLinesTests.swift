import Foundation
import Testing
@testable import ThreatPolicy
import TestSupport

/// The document splitter's lines, cut by Unicode scalars, against Swift's own split on Characters.
struct DocumentLinesTests {
    @Test("Document lines: the same lines as splitting Characters at YAML breaks, for LF, CRLF, CR, NEL, LS, PS, marks after breaks and empty lines")
    func linesEqualCharacterSplit() {
        var rng = SplitMix(state: 5)
        func next() -> UInt64 { rng.next() }
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
