import Foundation
import ThreatModel
import Yams

/// A place `policy edit` cannot change in place (flow-style lists, JSON, odd layouts).
struct RuleEditRefusal: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// The text edits of `policy edit` on one document: whole lines of block-list entries deleted,
/// rule lines inserted after a section's last entry (or a new section after the spec's last line).
struct RuleEditDocument {
    let pos: TextPositions
    /// Added to a Yams line (1-based within the document) to get the line in the text.
    let shift: Int
    let origin: String
    var edits: [TextEdit] = []
    /// Insertions in the order made; several at one offset are joined in that order.
    var inserts: [(offset: Int, text: String)] = []

    static let peerKeys: Set<String> = ["fromEndpoints", "fromEntities", "fromCIDR", "toEndpoints", "toEntities", "toCIDR", "toFQDNs"]

    init(pos: TextPositions, shift: Int, origin: String) {
        self.pos = pos
        self.shift = shift
        self.origin = origin
    }

    func line(_ node: Node) throws(RuleEditRefusal) -> Int {
        guard let m = node.mark else { throw RuleEditRefusal("a node has no position") }
        return m.line + shift
    }

    func offset(_ node: Node) throws(RuleEditRefusal) -> Int {
        guard let m = node.mark else { throw RuleEditRefusal("a node has no position") }
        return pos.offset(line: m.line + shift, column: m.column)
    }

    /// The line and dash column of a block-list entry that starts on its dash's line.
    func entry(_ node: Node, _ what: String) throws(RuleEditRefusal) -> (line: Int, dash: Int) {
        let l = try line(node)
        let dash = pos.indent(l)
        guard pos.char(pos.lineStarts[l - 1] + dash) == "-", try offset(node) > pos.lineStarts[l - 1] + dash else {
            throw RuleEditRefusal("\(what) is not written as a block list entry (`- …` on its own line)")
        }
        return (l, dash)
    }

    /// The last line of the entry whose dash is at `dash` on line `first`.
    func entryEnd(_ first: Int, dash: Int) -> Int {
        var last = first
        var l = first + 1
        while l <= pos.lineCount {
            if pos.isContent(l) {
                if pos.indent(l) <= dash { break }
                last = l
            }
            l += 1
        }
        return last
    }

    func wholeLines(_ first: Int, _ last: Int) -> TextEdit {
        TextEdit(start: pos.lineStarts[first - 1], end: pos.nextLineStart(last), text: "")
    }

    /// An entry's lines with the comment lines right above it at its dash's column (they speak of it).
    func entryWithComments(_ first: Int, dash: Int) -> TextEdit {
        var top = first
        while top > 1, isComment(top - 1), pos.indent(top - 1) == dash { top -= 1 }
        return wholeLines(top, entryEnd(first, dash: dash))
    }

    func isComment(_ line: Int) -> Bool {
        let start = pos.lineStarts[line - 1] + pos.indent(line)
        return start < pos.lineEnds[line - 1] && pos.char(start) == "#"
    }

    func isFlow(_ node: Node) throws(RuleEditRefusal) -> Bool {
        let c = pos.char(try offset(node))
        return c == "[" || c == "{"
    }

    /// Lines shifted right (or left) by `by` spaces.
    static func shifted(_ lines: [String], by: Int) -> [String] {
        lines.map { by >= 0 ? String(repeating: " ", count: by) + $0 : String($0.dropFirst(min(-by, $0.prefix { $0 == " " }.count))) }
    }

    mutating func insertLines(_ lines: [String], after line: Int) {
        let br = pos.lineBreak(line)
        let body = lines.joined(separator: br)
        if pos.hasBreak(line) {
            inserts.append((pos.nextLineStart(line), body + br))
        } else {
            inserts.append((pos.scalars.count, br + body))
        }
    }

    /// Every edit, insertions at one offset joined in the order made.
    var allEdits: [TextEdit] {
        var joined: [Int: String] = [:]
        var order: [Int] = []
        for i in inserts {
            if joined[i.offset] == nil { order.append(i.offset) }
            joined[i.offset, default: ""] += i.text
        }
        return edits + order.map { TextEdit(start: $0, end: $0, text: joined[$0]!) }
    }

    static func flag(_ key: String) -> String {
        [
            "fromEndpoints": "--remove-from-labels", "fromEntities": "--remove-from-entities", "fromCIDR": "--remove-from-cidr",
            "toEndpoints": "--remove-to-labels", "toEntities": "--remove-to-entities", "toCIDR": "--remove-to-cidr", "toFQDNs": "--remove-to-fqdn",
        ][key] ?? key
    }

    /// Removes the `remove` peers from the rules of one direction, then adds the `add` rule lines.
    mutating func edit(_ d: PolicyDirection, spec: Node, specKey: Node, add: [String], remove: [RuleEditTarget]) throws -> [String] {
        guard !add.isEmpty || !remove.isEmpty else { return [] }
        let name = d == .ingress ? "ingress" : "egress"
        let key = spec.mapping?.first { $0.key.string == name }?.key
        var items: [Node] = []
        if key != nil, let section = spec[name] {
            guard let seq = section.sequence, !seq.isEmpty, !(try isFlow(section)) else {
                throw RuleEditRefusal("spec.\(name) is " + (section.sequence == nil ? "not a list" : "written as a flow list ([…]) or empty"))
            }
            items = Array(seq)
        }
        var notes: [String] = []
        var deletions: [TextEdit] = []
        var found = Set<Int>()
        var whole = 0
        for (i, item) in items.enumerated() {
            let place = "spec.\(name)[\(i)]"
            let (l, dash) = try entry(item, place)
            guard let m = item.mapping else { continue }
            for (k, v) in m {
                guard let peerKey = k.string, Self.peerKeys.contains(peerKey), let peers = v.sequence else { continue }
                let hits = remove.indices.filter { remove[$0].key == peerKey }
                let matched = peers.indices.filter { j in hits.contains { remove[$0].matches(peers[j]) } }
                guard !matched.isEmpty else { continue }
                for j in matched { for h in hits where remove[h].matches(peers[j]) { found.insert(h) } }
                let shown = matched.compactMap { j in hits.first { remove[$0].matches(peers[j]) }.map { remove[$0].shown } }
                if matched.count == peers.count {
                    guard m.keys.filter({ Self.peerKeys.contains($0.string ?? "") }).count == 1 else {
                        throw RuleEditRefusal("\(place) has several peer types")
                    }
                    deletions.append(entryWithComments(l, dash: dash))
                    whole += 1
                    notes.append("\(place): removed the rule (\(peerKey) \(shown.joined(separator: ", ")))")
                } else {
                    guard !(try isFlow(v)) else { throw RuleEditRefusal("\(place).\(peerKey) is written as a flow list ([…])") }
                    for j in matched {
                        let (pl, pd) = try entry(peers[j], "\(place).\(peerKey)[\(j)]")
                        deletions.append(entryWithComments(pl, dash: pd))
                    }
                    notes.append("\(place).\(peerKey): removed \(shown.joined(separator: ", "))")
                }
            }
        }
        for (h, t) in remove.enumerated() where !found.contains(h) {
            throw PolicyRuleEditError("\(Self.flag(t.key)) \(t.shown): no rule of spec.\(name) in \(origin) allows it (nothing was changed)")
        }
        if let key, !items.isEmpty, whole == items.count, add.isEmpty {
            // No rule left: the section goes, and with it the policy's hold on that direction.
            let kl = try line(key)
            edits.append(wholeLines(kl, pos.entryEnd(from: kl, indent: pos.indent(kl))))
            notes.append("spec.\(name): no rule left, so the section was removed: this policy no longer restricts \(d == .ingress ? "inbound" : "outbound") traffic")
        } else {
            edits += deletions
        }
        guard !add.isEmpty else { return notes }
        let rules = add.filter { $0.hasPrefix("  - ") }.count
        if let key, let first = items.first {
            let (_, dash) = try entry(first, "spec.\(name)[0]")
            let kl = try line(key)
            insertLines(Self.shifted(add, by: dash - 2), after: pos.entryEnd(from: kl, indent: pos.indent(kl)))
        } else {
            guard let firstKey = spec.mapping?.first?.key else { throw RuleEditRefusal("spec is empty") }
            let specIndent = pos.indent(try line(firstKey))
            guard try offset(firstKey) == pos.lineStarts[try line(firstKey) - 1] + specIndent else { throw RuleEditRefusal("spec is not a block mapping") }
            let sl = try line(specKey)
            let last = pos.entryEnd(from: sl, indent: pos.indent(sl))
            insertLines([String(repeating: " ", count: specIndent) + name + ":"] + Self.shifted(add, by: specIndent - 2), after: last)
        }
        notes.append("spec.\(name): added \(rules) rule\(rules == 1 ? "" : "s")")
        return notes
    }
}
