import CCairo
import ThreatCharts

/// A piece of text with one style, for paragraphs that mix prose and `code`.
public struct TextRun: Sendable, Equatable {
    public var text: String
    public var code: Bool
    public init(_ text: String, code: Bool = false) {
        self.text = text
        self.code = code
    }

    /// Splits on backtick pairs: the odd parts are code (the guidance writes commands that way).
    public static func parse(backticked text: String) -> [TextRun] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated().compactMap { i, part in
            part.isEmpty ? nil : TextRun(String(part), code: i % 2 == 1)
        }
    }
}

/// The font of a piece of text.
public struct TextStyle: Sendable, Equatable {
    public var size: Double
    public var bold: Bool
    public var mono: Bool
    public var color: RGB
    public init(size: Double, bold: Bool = false, mono: Bool = false, color: RGB = RGB(hex: 0x303030)) {
        self.size = size
        self.bold = bold
        self.mono = mono
        self.color = color
    }
}

extension PDFDocument {
    public func setStyle(_ s: TextStyle) {
        cairo_select_font_face(cr, s.mono ? "DejaVu Sans Mono" : "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               s.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, s.size)
        painter.color(s.color)
    }

    /// Horizontal advance of `text` in `style`.
    public func width(_ text: String, _ style: TextStyle) -> Double {
        setStyle(style)
        return painter.width(clean(text))
    }

    /// Draws one line with its baseline at `y`. Untrusted text is cleaned (control and bidi
    /// characters) and cut to `maxWidth` with "…" when given.
    public func text(_ text: String, x: Double, y: Double, _ style: TextStyle, align: TextAlignment = .left,
                     maxWidth: Double? = nil) {
        setStyle(style)
        var t = clean(text)
        if let maxWidth { t = painter.fit(t, maxWidth: maxWidth) }
        let a: TextAlign = switch align {
        case .left: .left
        case .center: .center
        case .right: .right
        }
        painter.text(t, x: x, y: y, align: a)
    }

    /// Greedy word wrap of `runs` into lines at most `maxWidth` wide; a word wider than a line is
    /// broken between characters. Newlines in the text start new lines.
    public func wrap(_ runs: [TextRun], maxWidth: Double, _ style: TextStyle) -> [[TextRun]] {
        var lines: [[TextRun]] = [[]]
        var lineWidth = 0.0
        func styled(_ code: Bool) -> TextStyle {
            var s = style
            s.mono = code || style.mono
            return s
        }
        func append(_ piece: String, code: Bool, width w: Double) {
            if var last = lines[lines.count - 1].last, last.code == code {
                last.text += piece
                lines[lines.count - 1][lines[lines.count - 1].count - 1] = last
            } else {
                lines[lines.count - 1].append(TextRun(piece, code: code))
            }
            lineWidth += w
        }
        func newLine() {
            if var last = lines[lines.count - 1].last {  // no trailing space at a break
                while last.text.hasSuffix(" ") { last.text.removeLast() }
                lines[lines.count - 1][lines[lines.count - 1].count - 1] = last
            }
            lines.append([])
            lineWidth = 0
        }
        for run in runs {
            let st = styled(run.code)
            for (k, paragraph) in clean(run.text, keepNewlines: true).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if k > 0 { newLine() }
                // Words keep their trailing space so that runs join without losing spaces.
                var words: [String] = []
                var current = ""
                for ch in paragraph {
                    current.append(ch)
                    if ch == " " {
                        words.append(current)
                        current = ""
                    }
                }
                if !current.isEmpty { words.append(current) }
                for word in words {
                    let trimmed = word.hasSuffix(" ") ? String(word.dropLast()) : word
                    let w = width(word, st)
                    if lineWidth + width(trimmed, st) <= maxWidth || lines[lines.count - 1].isEmpty && trimmed.isEmpty {
                        append(word, code: run.code, width: w)
                        continue
                    }
                    if lineWidth > 0 { newLine() }
                    if width(trimmed, st) <= maxWidth {
                        append(word, code: run.code, width: w)
                        continue
                    }
                    // Longer than a line: cut between characters.
                    var chunk = ""
                    for ch in word {
                        if width(chunk + String(ch), st) > maxWidth, !chunk.isEmpty {
                            append(chunk, code: run.code, width: width(chunk, st))
                            newLine()
                            chunk = ""
                        }
                        chunk.append(ch)
                    }
                    append(chunk, code: run.code, width: width(chunk, st))
                }
            }
        }
        if lines.count > 1, lines[lines.count - 1].isEmpty { lines.removeLast() }
        return lines
    }

    /// Draws a line made by `wrap`, code runs in the monospace face on a light tint.
    public func draw(_ line: [TextRun], x: Double, y: Double, _ style: TextStyle) {
        var cx = x
        for run in line {
            var st = style
            st.mono = run.code || style.mono
            let w = width(run.text, st)
            if run.code {
                fillRect(x: cx - 1, y: y - style.size * 0.85, width: w + 2, height: style.size * 1.12, RGB(hex: 0xF0F0F3))
            }
            setStyle(st)
            painter.text(clean(run.text), x: cx, y: y)
            cx += w
        }
    }

    /// Text made safe to draw: control characters and invisible formatting (bidi overrides)
    /// replaced; newlines kept only when asked.
    func clean(_ s: String, keepNewlines: Bool = false) -> String {
        guard keepNewlines else { return ChartText.sanitize(s, maxCharacters: Int.max) }
        return s.split(separator: "\n", omittingEmptySubsequences: false)
            .map { ChartText.sanitize(String($0), maxCharacters: Int.max) }.joined(separator: "\n")
    }
}

/// Horizontal anchor of a line of text.
public enum TextAlignment: Sendable {
    case left, center, right
}
