import Foundation
import ThreatModel
import Yams

// The in-place edits of `policy enable` / `policy disable` for one document: where the label goes
// for each shape a selector and its matchLabels can take in the text (block or flow mapping, empty
// or explicit null), and what to delete when it goes away.

/// Thrown when a place cannot be edited in place; the document is then written anew.
struct NotInPlace: Error {}

/// The in-place edits of one document.
struct DocumentEdit {
    let pos: TextPositions
    let chunk: DocumentChunk
    let origin: String
    let action: PolicyEnforcementAction
    var edits: [TextEdit] = []

    init(pos: TextPositions, chunk: DocumentChunk, origin: String, action: PolicyEnforcementAction) {
        self.pos = pos
        self.chunk = chunk
        self.origin = origin
        self.action = action
    }

    /// Added to a Yams line (1-based within the chunk) to get the line in the text.
    var shift: Int { chunk.firstLine - 1 }

    /// JSON (API answers, `kubectl get -o json`): new keys and values are written quoted.
    var isJSON: Bool {
        guard let first = chunk.lines.first(where: DocumentSplitter.isContent) else { return false }
        let t = first.trimmingCharacters(in: .whitespaces)
        return t.hasPrefix("{") || t.hasPrefix("[")
    }

    /// The document's lines in the text.
    var span: Range<Int> {
        pos.lineStarts[chunk.firstLine - 1]..<pos.nextLineStart(chunk.firstLine - 1 + chunk.lines.count)
    }

    /// From the first content to the end of the last content line (what the fallback replaces).
    var contentRange: Range<Int> {
        let first = chunk.contentLine ?? chunk.firstLine
        var last = chunk.firstLine + chunk.lines.count - 1
        while last > first, !pos.isContent(last) || (pos.isDocumentMarker(last) && pos.text(pos.lineStarts[last - 1]..<pos.lineEnds[last - 1]).hasPrefix("...")) {
            last -= 1
        }
        var start = pos.lineStarts[first - 1]
        if pos.isDocumentMarker(first) { start += 4 }
        return start..<max(start, pos.lineEnds[last - 1])
    }

    func offset(_ node: Node) throws(NotInPlace) -> Int {
        guard let m = node.mark else { throw NotInPlace() }
        return pos.offset(line: m.line + shift, column: m.column)
    }

    func line(_ node: Node) throws(NotInPlace) -> Int {
        guard let m = node.mark else { throw NotInPlace() }
        return m.line + shift
    }

    // MARK: Texts written

    var labelText: String {
        isJSON ? "\"\(gitlabDisabledByLabel)\": \"\(PolicyNodeEdits.labelValue)\"" : "\(gitlabDisabledByLabel): \(PolicyNodeEdits.labelValue)"
    }

    var matchLabelsKey: String { isJSON ? "\"matchLabels\"" : "matchLabels" }

    func spaces(_ n: Int) -> String { String(repeating: " ", count: n) }

    mutating func insert(_ text: String, at offset: Int) {
        edits.append(TextEdit(start: offset, end: offset, text: text))
    }

    mutating func delete(_ range: Range<Int>) {
        edits.append(TextEdit(start: range.lowerBound, end: range.upperBound, text: ""))
    }

    /// Inserts whole lines after `line` (each given without its break).
    mutating func insertLines(_ lines: [String], after line: Int) {
        let br = pos.lineBreak(line)
        let body = lines.joined(separator: br)
        if pos.hasBreak(line) {
            insert(body + br, at: pos.nextLineStart(line))
        } else {
            insert(br + body, at: pos.scalars.count)
        }
    }

    // MARK: Shapes of a node in the text

    enum Shape {
        case flowMapping(open: Int)
        case blockMapping(firstLine: Int, indent: Int)
        case emptyNull
        case explicitNull(Range<Int>)
    }

    func shape(_ node: Node, after key: Node) throws(NotInPlace) -> Shape {
        let o = try offset(node)
        guard o > (try offset(key)) else { throw NotInPlace() }  // an alias to an earlier anchor
        switch node {
        case let .mapping(m):
            if pos.char(o) == "{" { return .flowMapping(open: o) }
            guard let first = m.first?.key, first.mark?.line == node.mark?.line, first.mark?.column == node.mark?.column,
                  pos.onlySpacesBefore(o) else { throw NotInPlace() }
            return .blockMapping(firstLine: try line(first), indent: o - pos.lineStarts[try line(first) - 1])
        case let .scalar(s) where s.style == .plain && node.null != nil:
            if s.string.isEmpty { return .emptyNull }
            let end = o + s.string.unicodeScalars.count
            guard pos.text(o..<min(end, pos.scalars.count)) == s.string else { throw NotInPlace() }
            return .explicitNull(o..<end)
        default:
            throw NotInPlace()
        }
    }

    /// The offset just past a mapping key's colon.
    func afterColon(_ key: Node) throws(NotInPlace) -> Int {
        var i = try offset(key)
        guard let s = key.scalar else { throw NotInPlace() }
        switch s.style {
        case .plain:
            i += s.string.unicodeScalars.count
        case .singleQuoted, .doubleQuoted:
            guard let e = pos.quotedEnd(i) else { throw NotInPlace() }
            i = e
        default:
            throw NotInPlace()
        }
        while pos.char(i) == " " || pos.char(i) == "\t" { i += 1 }
        guard pos.char(i) == ":" else { throw NotInPlace() }
        return i + 1
    }

    /// The offset just past a scalar value written on one line.
    func scalarEnd(_ node: Node) throws(NotInPlace) -> Int {
        let o = try offset(node)
        guard let s = node.scalar else { throw NotInPlace() }
        switch s.style {
        case .plain:
            let end = o + s.string.unicodeScalars.count
            guard pos.text(o..<min(end, pos.scalars.count)) == s.string else { throw NotInPlace() }
            return end
        case .singleQuoted, .doubleQuoted:
            guard let e = pos.quotedEnd(o) else { throw NotInPlace() }
            return e
        default:
            throw NotInPlace()
        }
    }

    /// The text of one `key: value` pair inside a flow mapping, with the comma that joins it to
    /// its neighbours (the following one, else the preceding one).
    func flowPairRange(key: Node, value: Node) throws(NotInPlace) -> Range<Int> {
        let start = try offset(key)
        var end: Int
        if case .mapping = value, pos.char(try offset(value)) == "{" {
            guard let e = pos.flowEnd(try offset(value)) else { throw NotInPlace() }
            end = e
        } else if value.scalar != nil {
            end = try scalarEnd(value)
        } else {
            throw NotInPlace()
        }
        var after = end
        while pos.char(after) == " " || pos.char(after) == "\t" { after += 1 }
        if pos.char(after) == "," {
            after += 1
            while pos.char(after) == " " || pos.char(after) == "\t" { after += 1 }
            return wholeLineIfAlone(start..<after)
        }
        var before = start - 1
        while before >= 0, pos.char(before) == " " || pos.char(before) == "\t" || pos.char(before) == "\n" || pos.char(before) == "\r" {
            before -= 1
        }
        if pos.char(before) == "," { return before..<end }
        return start..<end
    }

    /// A range alone on its line (a JSON object written one pair per line) grows to the whole line.
    func wholeLineIfAlone(_ r: Range<Int>) -> Range<Int> {
        let l = pos.line(of: r.lowerBound)
        guard pos.line(of: r.upperBound) == l || r.upperBound == pos.lineEnds[l - 1] else { return r }
        let before = pos.scalars[pos.lineStarts[l - 1]..<r.lowerBound]
        let after = pos.scalars[r.upperBound..<pos.lineEnds[l - 1]]
        guard before.allSatisfy({ $0 == " " || $0 == "\t" }), after.allSatisfy({ $0 == " " || $0 == "\t" }), pos.hasBreak(l) else { return r }
        return pos.lineStarts[l - 1]..<pos.nextLineStart(l)
    }

    /// Whole lines of one block-mapping entry.
    func blockEntryLines(_ key: Node) throws(NotInPlace) -> Range<Int> {
        let o = try offset(key)
        guard pos.onlySpacesBefore(o) else { throw NotInPlace() }
        let l = try line(key)
        let last = pos.entryEnd(from: l, indent: o - pos.lineStarts[l - 1])
        return pos.lineStarts[l - 1]..<pos.nextLineStart(last)
    }

    // MARK: The edit of one selector

    mutating func edit(selectorKey key: Node, value: Node) throws(NotInPlace) {
        switch action {
        case .disable: try disable(key: key, selector: value)
        case .enable: try enable(key: key, selector: value)
        }
    }

    mutating func disable(key: Node, selector: Node) throws(NotInPlace) {
        if PolicyNodeEdits.carriesLabel(selector) { return }
        let keyLine = try line(key)
        let keyIndent = try offset(key) - pos.lineStarts[keyLine - 1]
        switch try shape(selector, after: key) {
        case let .flowMapping(open):
            if let ml = selector.mapping?.first(where: { $0.key.scalar?.string == "matchLabels" }) {
                try addLabel(matchLabelsKey: ml.key, matchLabels: ml.value)
            } else {
                try insertFlowEntry("\(matchLabelsKey): {\(labelText)}", into: selector, open: open)
            }
        case let .blockMapping(firstLine, indent):
            if let ml = selector.mapping?.first(where: { $0.key.scalar?.string == "matchLabels" }) {
                try addLabel(matchLabelsKey: ml.key, matchLabels: ml.value)
            } else {
                insertLines([spaces(indent) + "\(matchLabelsKey):", spaces(indent + 2) + labelText],
                            after: pos.blockEnd(from: firstLine, indent: indent))
            }
        case .emptyNull:
            if isFlowContext(key) {
                insert(" {\(matchLabelsKey): {\(labelText)}}", at: try afterColon(key))
            } else {
                insertLines([spaces(keyIndent + 2) + "\(matchLabelsKey):", spaces(keyIndent + 4) + labelText], after: keyLine)
            }
        case let .explicitNull(range):
            edits.append(TextEdit(start: range.lowerBound, end: range.upperBound, text: "{\(matchLabelsKey): {\(labelText)}}"))
        }
    }

    mutating func addLabel(matchLabelsKey key: Node, matchLabels: Node) throws(NotInPlace) {
        let keyLine = try line(key)
        let keyIndent = try offset(key) - pos.lineStarts[keyLine - 1]
        switch try shape(matchLabels, after: key) {
        case let .flowMapping(open):
            try insertFlowEntry(labelText, into: matchLabels, open: open)
        case let .blockMapping(firstLine, indent):
            insertLines([spaces(indent) + labelText], after: pos.blockEnd(from: firstLine, indent: indent))
        case .emptyNull:
            if isFlowContext(key) {
                insert(" {\(labelText)}", at: try afterColon(key))
            } else {
                insertLines([spaces(keyIndent + 2) + labelText], after: keyLine)
            }
        case let .explicitNull(range):
            edits.append(TextEdit(start: range.lowerBound, end: range.upperBound, text: "{\(labelText)}"))
        }
    }

    /// Inserts `entry` as the first pair of a flow mapping: right after `{`, or on a line of its own
    /// when the pairs are written one per line (JSON from `kubectl get -o json`).
    mutating func insertFlowEntry(_ entry: String, into mapping: Node, open: Int) throws(NotInPlace) {
        guard let first = mapping.mapping?.first?.key else { return insert(entry, at: open + 1) }
        let o = try offset(first)
        if pos.line(of: o) > pos.line(of: open), pos.onlySpacesBefore(o) {
            let l = pos.line(of: o)
            insert(entry + "," + pos.lineBreak(l - 1) + spaces(o - pos.lineStarts[l - 1]), at: o)
        } else {
            insert(entry + ", ", at: open + 1)
        }
    }

    /// A key inside a flow mapping (`{podSelector: , …}`) rather than on a block line of its own.
    func isFlowContext(_ key: Node) -> Bool {
        guard let o = try? offset(key) else { return true }
        return !pos.onlySpacesBefore(o) && !(pos.text(pos.lineStarts[pos.line(of: o) - 1]..<o).trimmingCharacters(in: .whitespaces) == "-")
    }

    mutating func enable(key: Node, selector: Node) throws(NotInPlace) {
        guard PolicyNodeEdits.carriesLabel(selector), let sel = selector.mapping,
              let ml = sel.first(where: { $0.key.scalar?.string == "matchLabels" }), let labels = ml.value.mapping else { return }
        let selShape = try shape(selector, after: key)
        let labelPairs = labels.filter { PolicyNodeEdits.isLabelKey($0.key) }
        if labelPairs.count < labels.count {
            let mlShape = try shape(ml.value, after: ml.key)
            for pair in labelPairs {
                if case .flowMapping = mlShape {
                    delete(try flowPairRange(key: pair.key, value: pair.value))
                } else {
                    delete(try blockEntryLines(pair.key))
                }
            }
            return
        }
        // The label was all matchLabels held: remove matchLabels too.
        switch selShape {
        case .flowMapping:
            delete(try flowPairRange(key: ml.key, value: ml.value))
        case .blockMapping:
            if sel.count > 1 {
                delete(try blockEntryLines(ml.key))
            } else {
                // Nothing left in the selector: `podSelector: {}`.
                let lines = try blockEntryLines(ml.key)
                delete(lines)
                insert(" {}", at: try afterColon(key))
            }
        default:
            throw NotInPlace()
        }
    }
}
