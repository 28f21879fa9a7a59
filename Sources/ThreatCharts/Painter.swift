import CCairo

/// Horizontal anchor of a drawn string.
public enum TextAlign: Sendable { case left, center, right }

/// Thin drawing helpers over a `cairo_t`. All text uses DejaVu Sans through cairo's toy font API
/// with hinting switched off, so PNG and SVG lay out identically. The charts draw with it, and so
/// does the PDF document writer (ThreatRender) on its pages.
public struct Painter {
    public let cr: OpaquePointer

    public init(cr: OpaquePointer) { self.cr = cr }

    public func setUp() {
        cairo_set_antialias(cr, CAIRO_ANTIALIAS_DEFAULT)
        if let options = cairo_font_options_create() {
            cairo_font_options_set_hint_metrics(options, CAIRO_HINT_METRICS_OFF)
            cairo_font_options_set_hint_style(options, CAIRO_HINT_STYLE_NONE)
            cairo_font_options_set_antialias(options, CAIRO_ANTIALIAS_GRAY)
            cairo_set_font_options(cr, options)
            cairo_font_options_destroy(options)
        }
        font(size: 11)
    }

    public func color(_ c: RGB, alpha: Double = 1) {
        if alpha >= 1 {
            cairo_set_source_rgb(cr, c.r, c.g, c.b)
        } else {
            cairo_set_source_rgba(cr, c.r, c.g, c.b, alpha)
        }
    }

    public func font(size: Double, bold: Bool = false) {
        cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                               bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, size)
    }

    /// Horizontal advance of `text` in the current font.
    public func width(_ text: String) -> Double {
        var e = cairo_text_extents_t()
        cairo_text_extents(cr, text, &e)
        return e.x_advance
    }

    /// Draws `text` with its baseline at `y`, anchored at `x`.
    public func text(_ text: String, x: Double, y: Double, align: TextAlign = .left) {
        guard !text.isEmpty else { return }
        let w = align == .left ? 0 : width(text)
        let x0 = align == .left ? x : (align == .center ? x - w / 2 : x - w)
        cairo_move_to(cr, x0, y)
        cairo_show_text(cr, text)
        cairo_new_path(cr)
    }

    /// `text` shortened with "…" until it is at most `maxWidth` wide in the current font.
    public func fit(_ text: String, maxWidth: Double) -> String {
        if width(text) <= maxWidth { return text }
        let chars = Array(text)
        var lo = 0, hi = chars.count  // the longest prefix that fits is in lo..<hi
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if width(String(chars[..<mid]) + "…") <= maxWidth { lo = mid } else { hi = mid - 1 }
        }
        return lo == 0 ? "…" : String(chars[..<lo]).trimmingTrailingSpaces() + "…"
    }

    public func fillRect(x: Double, y: Double, width: Double, height: Double, _ c: RGB, alpha: Double = 1) {
        color(c, alpha: alpha)
        cairo_rectangle(cr, x, y, width, height)
        cairo_fill(cr)
    }

    /// A 1 px line snapped to the pixel grid (crisp in the PNG).
    public func hairline(x0: Double, y0: Double, x1: Double, y1: Double, _ c: RGB) {
        color(c)
        cairo_set_line_width(cr, 1)
        cairo_set_dash(cr, nil, 0, 0)
        let sx = x0 == x1 ? x0.rounded(.down) + 0.5 : x0
        let sy = y0 == y1 ? y0.rounded(.down) + 0.5 : y0
        cairo_move_to(cr, sx, sy)
        cairo_line_to(cr, x0 == x1 ? sx : x1, y0 == y1 ? sy : y1)
        cairo_stroke(cr)
    }

    public func save() { cairo_save(cr) }
    public func restore() { cairo_restore(cr) }

    public func clip(x: Double, y: Double, width: Double, height: Double) {
        cairo_rectangle(cr, x, y, width, height)
        cairo_clip(cr)
    }
}

/// Cleans text that may come from attackers (URIs, client names, rule messages) before drawing.
public enum ChartText {
    /// Replaces control and invisible formatting characters (including bidi overrides) with
    /// U+FFFD, tabs and line breaks with spaces, caps combining marks per character (no "Zalgo"
    /// towers), and cuts the result to `maxCharacters` with a trailing "…".
    public static func sanitize(_ s: String, maxCharacters: Int = 48) -> String {
        var out = ""
        var count = 0
        for ch in s {
            if count == maxCharacters {
                return String(out.dropLast()).trimmingTrailingSpaces() + "…"
            }
            var scalars = String.UnicodeScalarView()
            for (k, u) in ch.unicodeScalars.enumerated() {
                if k >= 3 { break }  // base + at most 2 combining marks
                switch u.properties.generalCategory {
                case .control:
                    scalars.append(u == "\t" || u == "\n" || u == "\r" ? " " : "\u{FFFD}")
                case .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                    scalars.append("\u{FFFD}")
                default:
                    scalars.append(u)
                }
            }
            out.unicodeScalars.append(contentsOf: scalars)
            count += 1
        }
        return out
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
