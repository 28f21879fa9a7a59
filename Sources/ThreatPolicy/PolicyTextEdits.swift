import Foundation
import Yams

// Text positions and in-place edits for `policy enable`/`disable`: they change a manifest at the
// places Yams marks (line and column, in Unicode scalars, as libyaml counts them), so comments,
// quoting, key order and layout stay as the author wrote them.

/// A replacement of the scalars in `start..<end` by `text`.
struct TextEdit: Equatable {
    var start: Int
    var end: Int
    var text: String
}

/// The scalars of a text with the start of every line (line breaks as YAML counts them: LF, CRLF,
/// CR, NEL, LS, PS).
struct TextPositions {
    let scalars: [Unicode.Scalar]
    /// Scalar offset of each line's first scalar (index 0 = line 1; after a byte-order mark).
    private(set) var lineStarts: [Int] = []
    /// Scalar offset of each line's break (or the end of the text).
    private(set) var lineEnds: [Int] = []

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        var start = scalars.first == "\u{FEFF}" ? 1 : 0
        var i = start
        while i < scalars.count {
            let c = scalars[i]
            if c == "\n" || c == "\r" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}" {
                lineStarts.append(start)
                lineEnds.append(i)
                i += (c == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n") ? 2 : 1
                start = i
            } else {
                i += 1
            }
        }
        lineStarts.append(start)
        lineEnds.append(scalars.count)
    }

    var lineCount: Int { lineStarts.count }

    /// The offset of a 1-based line and column.
    func offset(line: Int, column: Int) -> Int {
        guard line >= 1, line <= lineCount else { return scalars.count }
        return min(lineStarts[line - 1] + column - 1, scalars.count)
    }

    /// The 1-based line holding an offset.
    func line(of offset: Int) -> Int {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        return lo + 1
    }

    func char(_ offset: Int) -> Unicode.Scalar? { offset >= 0 && offset < scalars.count ? scalars[offset] : nil }

    func text(_ range: Range<Int>) -> String {
        var s = String.UnicodeScalarView()
        s.append(contentsOf: scalars[range])
        return String(s)
    }

    /// The start of the next line, or the end of the text.
    func nextLineStart(_ line: Int) -> Int { line < lineCount ? lineStarts[line] : scalars.count }

    /// Whether the line ends with a break (false for a last line without one).
    func hasBreak(_ line: Int) -> Bool { line < lineCount }

    /// The line's break as written (LF when it has none).
    func lineBreak(_ line: Int) -> String {
        guard line >= 1, line < lineCount else { return "\n" }
        return text(lineEnds[line - 1]..<lineStarts[line])
    }

    /// Leading spaces of a line.
    func indent(_ line: Int) -> Int {
        var n = 0
        var i = lineStarts[line - 1]
        while i < lineEnds[line - 1], scalars[i] == " " {
            n += 1
            i += 1
        }
        return n
    }

    /// A line with something other than blanks and a comment.
    func isContent(_ line: Int) -> Bool {
        var i = lineStarts[line - 1]
        while i < lineEnds[line - 1], scalars[i] == " " || scalars[i] == "\t" { i += 1 }
        return i < lineEnds[line - 1] && scalars[i] != "#"
    }

    /// True when only spaces precede the offset on its line.
    func onlySpacesBefore(_ offset: Int) -> Bool {
        let l = line(of: offset)
        return scalars[lineStarts[l - 1]..<offset].allSatisfy { $0 == " " }
    }

    /// The last line of a block mapping whose keys sit `indent` spaces in, starting at `first`:
    /// the mapping runs while content lines are indented at least that far.
    func blockEnd(from first: Int, indent: Int) -> Int {
        var last = first
        var l = first + 1
        while l <= lineCount {
            if isContent(l) {
                if self.indent(l) < indent || isDocumentMarker(l) { break }
                last = l
            }
            l += 1
        }
        return last
    }

    /// The last line of one block-mapping entry whose key sits `indent` spaces in: its value runs on
    /// deeper lines (or a `- ` sequence at the key's own indentation).
    func entryEnd(from first: Int, indent: Int) -> Int {
        var last = first
        var l = first + 1
        while l <= lineCount {
            if isContent(l) {
                let n = self.indent(l)
                let dash = char(lineStarts[l - 1] + n) == "-" && !isDocumentMarker(l)
                if n < indent || (n == indent && !dash) { break }
                last = l
            }
            l += 1
        }
        return last
    }

    func isDocumentMarker(_ line: Int) -> Bool {
        let s = lineStarts[line - 1]
        guard lineEnds[line - 1] - s >= 3 else { return false }
        let head = text(s..<(s + 3))
        guard head == "---" || head == "..." else { return false }
        return s + 3 == lineEnds[line - 1] || scalars[s + 3] == " " || scalars[s + 3] == "\t"
    }

    /// The offset just past a quoted scalar that starts at `offset` (with `"` or `'`).
    func quotedEnd(_ offset: Int) -> Int? {
        guard let q = char(offset), q == "\"" || q == "'" else { return nil }
        var i = offset + 1
        while i < scalars.count {
            let c = scalars[i]
            if q == "\"" && c == "\\" {
                i += 2
                continue
            }
            if c == q {
                if q == "'" && char(i + 1) == "'" {
                    i += 2
                    continue
                }
                return i + 1
            }
            i += 1
        }
        return nil
    }

    /// The offset just past a flow collection that opens at `offset` (`{` or `[`), quotes skipped.
    func flowEnd(_ offset: Int) -> Int? {
        var depth = 0
        var i = offset
        while i < scalars.count {
            let c = scalars[i]
            if c == "\"" || c == "'" {
                guard let e = quotedEnd(i) else { return nil }
                i = e
                continue
            }
            if c == "#" && i > 0 && (scalars[i - 1] == " " || scalars[i - 1] == "\t") {
                i = lineEnds[line(of: i) - 1]
                continue
            }
            if c == "{" || c == "[" { depth += 1 }
            if c == "}" || c == "]" {
                depth -= 1
                if depth == 0 { return i + 1 }
            }
            i += 1
        }
        return nil
    }

    /// Applies non-overlapping edits.
    func applying(_ edits: [TextEdit]) -> String? {
        var out = String.UnicodeScalarView()
        var at = 0
        for e in edits.sorted(by: { ($0.start, $0.end) < ($1.start, $1.end) }) {
            guard e.start >= at, e.end >= e.start, e.end <= scalars.count else { return nil }
            out.append(contentsOf: scalars[at..<e.start])
            out.append(contentsOf: e.text.unicodeScalars)
            at = e.end
        }
        out.append(contentsOf: scalars[at...])
        return String(out)
    }
}
