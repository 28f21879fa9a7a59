/// Makes cairo's SVG output safe to inline several times in one page.
///
/// cairo names its definitions `glyph0-1`, `clip1`, `surface5`, … Two inlined charts would share
/// those ids, and the browser would draw one chart's glyphs in the other (garbled text). Some of
/// the numbers also come from process-wide counters (`surface<N>`), so the same chart drawn twice
/// would differ. `rewrite` therefore renames every id to `<prefix><kind><n>`, numbered per kind in
/// order of definition, and rewrites every reference (`href="#…"`, `xlink:href="#…"`, `url(#…)`).
enum SVGIDs {
    /// Drops a leading `<?xml …?>` declaration and the line break after it.
    static func stripXMLDeclaration(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.starts(with: Array("<?xml".utf8)) else { return bytes }
        var i = 0
        while i + 1 < bytes.count, !(bytes[i] == UInt8(ascii: "?") && bytes[i + 1] == UInt8(ascii: ">")) { i += 1 }
        i = min(i + 2, bytes.count)
        while i < bytes.count, bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 }
        return Array(bytes[i...])
    }

    private static let idAttr = Array("id=\"".utf8)
    private static let hrefAttr = Array("href=\"#".utf8)
    private static let urlRef = Array("url(#".utf8)

    static func rewrite(_ bytes: [UInt8], prefix: String) -> String {
        // Pass 1: definitions, in document order.
        var names: [[UInt8]: [UInt8]] = [:]
        var perKind: [[UInt8]: Int] = [:]
        var i = 0
        while i < bytes.count {
            if isIDAttribute(bytes, i) {
                let start = i + idAttr.count
                let end = scan(bytes, from: start, until: UInt8(ascii: "\""))
                let name = Array(bytes[start..<end])
                if names[name] == nil {
                    var kind = Array(name.prefix { isASCIILetter($0) })
                    if kind.isEmpty { kind = Array("id".utf8) }
                    let n = (perKind[kind] ?? 0) + 1
                    perKind[kind] = n
                    names[name] = Array(prefix.utf8) + kind + Array(String(n).utf8)
                }
                i = end
            } else {
                i += 1
            }
        }
        // Pass 2: rename definitions and references.
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + names.count * (prefix.utf8.count + 4))
        func renamed(_ name: ArraySlice<UInt8>) -> [UInt8] {
            names[Array(name)] ?? Array(prefix.utf8) + Array(name)
        }
        i = 0
        while i < bytes.count {
            let head: [UInt8]?, terminator: UInt8
            if isIDAttribute(bytes, i) {
                (head, terminator) = (idAttr, UInt8(ascii: "\""))
            } else if matches(bytes, i, hrefAttr) {
                (head, terminator) = (hrefAttr, UInt8(ascii: "\""))
            } else if matches(bytes, i, urlRef) {
                (head, terminator) = (urlRef, UInt8(ascii: ")"))
            } else {
                (head, terminator) = (nil, 0)
            }
            guard let head else {
                out.append(bytes[i])
                i += 1
                continue
            }
            let start = i + head.count
            let end = scan(bytes, from: start, until: terminator)
            out += head
            out += renamed(bytes[start..<end])
            i = end
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `id="` as a whole attribute name (preceded by white space, so not `grid="` or `xml:id`).
    private static func isIDAttribute(_ b: [UInt8], _ i: Int) -> Bool {
        i > 0 && (b[i - 1] == 0x20 || b[i - 1] == 0x0A || b[i - 1] == 0x09 || b[i - 1] == 0x0D) && matches(b, i, idAttr)
    }

    private static func matches(_ b: [UInt8], _ i: Int, _ pattern: [UInt8]) -> Bool {
        guard i + pattern.count <= b.count else { return false }
        for k in 0..<pattern.count where b[i + k] != pattern[k] { return false }
        return true
    }

    private static func scan(_ b: [UInt8], from start: Int, until terminator: UInt8) -> Int {
        var j = start
        while j < b.count, b[j] != terminator, b[j] != UInt8(ascii: "<"), b[j] != UInt8(ascii: ">") { j += 1 }
        return j
    }

    private static func isASCIILetter(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
    }
}
