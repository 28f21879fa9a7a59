import Foundation
import ThreatModel

/// Untrusted text (log fields, API answers, manifests) made safe before any format sees it.
public enum Sanitize {
    /// Removes control characters (C0 but tab and newline, DEL, C1 — ESC sequences would otherwise
    /// reach a terminal), bidi controls and zero-width characters (`InvisibleText`), and cuts to
    /// `max` characters with an ellipsis.
    public static func text(_ s: String, max: Int = 300, keepNewlines: Bool = false) -> String {
        var out = ""
        var n = 0
        for u in s.unicodeScalars {
            let v = u.value
            if v < 0x20 {
                if keepNewlines, v == 0x0A || v == 0x09 { out.unicodeScalars.append(u) } else { out += " " }
            } else if v == 0x7F || (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029 || InvisibleText.isInvisible(v) {
                // DEL, C1 controls, line separators, bidi controls and zero-width characters (which can disguise text)
                out += v == 0x2028 || v == 0x2029 ? " " : ""
                continue
            } else {
                out.unicodeScalars.append(u)
            }
            n += 1
            if n >= max {
                out += "…"
                break
            }
        }
        return out
    }
}

/// What a terminal must not receive raw from data.
public enum TerminalText {
    /// C0 controls but tab, newline and carriage return, DEL, C1 controls, line/paragraph
    /// separators, bidi controls and zero-width characters (`InvisibleText`). A carriage return
    /// is safe only before a line feed: see `firstUnsafe`.
    public static func isUnsafe(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        return (v < 0x20 && v != 0x09 && v != 0x0A && v != 0x0D) || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0x2029
            || InvisibleText.isInvisible(v)
    }

    /// The first unsafe character of `text`, with its 1-based line and column and a name for people.
    /// A lone carriage return (not followed by a line feed) is unsafe: a terminal returns to the
    /// start of the line and the rest overwrites what came before (a rule hidden behind a comment).
    public static func firstUnsafe(in text: String) -> (line: Int, column: Int, name: String)? {
        var line = 1, column = 1
        var it = text.unicodeScalars.makeIterator()
        var next = it.next()
        while let u = next {
            next = it.next()
            if u == "\r", next != "\n" {
                return (line, column, "U+000D (a carriage return not followed by a line feed)")
            }
            if isUnsafe(u) {
                let kind = InvisibleText.isBidi(u.value) ? "a bidi control" : InvisibleText.isInvisible(u.value) ? "an invisible character" : "a control character"
                return (line, column, String(format: "U+%04X", u.value) + " (\(kind))")
            }
            if u == "\n" { line += 1; column = 1 } else { column += 1 }
        }
        return nil
    }

    public static func containsUnsafe(_ text: String) -> Bool { firstUnsafe(in: text) != nil }
}

/// Escaping for GitLab/GitHub-flavoured Markdown: every ASCII punctuation character that can start
/// markup is backslash-escaped (CommonMark allows a backslash before any ASCII punctuation), so
/// data renders as literal text: no HTML, links, emphasis, code spans or table breaks.
public enum MarkdownEscaper {
    /// Markup starters, plus GitLab's reference sigils (`@user`, `#123`, `!12`, `~label`, `%milestone`,
    /// `&epic`, `$` math) so that data cannot ping people or link issues. `-` and `.` are left alone:
    /// data never starts a line in our templates, so they cannot open a list.
    static let special: Set<Character> = ["\\", "`", "*", "_", "{", "}", "[", "]", "<", ">", "(", ")", "#", "+", "!",
                                          "|", "~", "&", "$", "%", "@"]

    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count + 8)
        for c in s {
            if c == "\n" || c == "\r" {
                out += " "
            } else if special.contains(c) {
                out += "\\"
                out.append(c)
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// A code fence longer than any backtick run in `s`.
    public static func fence(for s: String) -> String {
        var longest = 0, run = 0
        for c in s {
            if c == "`" {
                run += 1
                longest = max(longest, run)
            } else {
                run = 0
            }
        }
        return String(repeating: "`", count: max(3, longest + 1))
    }
}

/// A CommonMark code span for the tool's own commands and check ids: the fence is one backtick
/// longer than the longest backtick run inside, padded with a space on both sides when the
/// content starts or ends with a backtick (or a space, which CommonMark would strip), so the
/// content renders verbatim: no backslash escape shows, and nothing inside is markup. Line
/// breaks become spaces (a span cannot hold one in a list item or a table).
public enum MarkdownCode {
    public static func span(_ s: String) -> String {
        var content = ""
        for c in s { content.append(c == "\n" || c == "\r" ? " " : c) }
        var longest = 0, run = 0
        for c in content {
            if c == "`" {
                run += 1
                longest = max(longest, run)
            } else {
                run = 0
            }
        }
        let fence = String(repeating: "`", count: longest + 1)
        let pad = content.first == "`" || content.last == "`" || (content.first == " " && content.last == " " && content.contains { $0 != " " })
        return pad ? "\(fence) \(content) \(fence)" : "\(fence)\(content)\(fence)"
    }
}

/// Kubernetes names as the API accepts them.
public enum KubernetesName {
    /// An RFC 1123 DNS label (a namespace): 1–63 of `a-z`, `0-9`, `-`, starting and ending alphanumeric.
    public static func isLabel(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard (1...63).contains(u.count) else { return false }
        func alnum(_ c: UInt8) -> Bool { (0x61...0x7A).contains(c) || (0x30...0x39).contains(c) }
        return alnum(u.first!) && alnum(u.last!) && u.allSatisfy { alnum($0) || $0 == 0x2D }
    }
}

/// Escaping for XML text and attribute values (SARIF is JSON; JUnit is XML).
public enum XMLEscaper {
    public static func escape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters even as references, and U+FFFE/U+FFFF.
                if (u.value < 0x20 && u.value != 0x09 && u.value != 0x0A && u.value != 0x0D) || u.value == 0xFFFE || u.value == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out
    }
}

/// Deterministic number text for people: thousands separators, fixed decimals.
public enum NumberText {
    public static func grouped(_ n: Int) -> String {
        let digits = String(abs(n))
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }

    public static func fixed(_ d: Double, _ places: Int) -> String {
        guard d.isFinite else { return "–" }
        return String(format: "%.\(places)f", d)
    }
}
