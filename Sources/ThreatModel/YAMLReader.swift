import Foundation
import Yams

/// A configuration or manifest problem with its place: `file:line:column: message`.
public struct LocatedError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var column: Int?
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public var location: String {
        guard let line else { return file }
        return "\(file):\(line):\(column ?? 1)"
    }
    public var description: String { "\(location): \(message)" }
}

/// Strict, located access to a YAML node tree: every wrong type, unknown key or missing key becomes
/// a `LocatedError` naming file:line:column and the dotted key path.
public struct YAMLReader: Sendable {
    public let file: String
    /// Added to every line number (a document cut out of a larger file).
    public let lineOffset: Int

    public init(file: String, lineOffset: Int = 0) {
        self.file = file
        self.lineOffset = lineOffset
    }

    public func error(_ node: Node?, _ message: String) -> LocatedError {
        if let mark = node?.mark {
            return LocatedError(file: file, line: mark.line + lineOffset, column: mark.column, message: message)
        }
        return LocatedError(file: file, message: message)
    }

    /// Converts a Yams parse error into a located one: file:line:column and the problem, never the
    /// text of the line (a kubeconfig's line holds its token; Yams' own description quotes it).
    public func error(from yamlError: Error) -> LocatedError {
        if let e = yamlError as? LocatedError { return e }
        if let e = yamlError as? YamlError {
            switch e {
            case let .reader(problem, offset, value, yaml):
                let (line, column) = offset.map { Self.lineAndColumn(yaml, characterOffset: $0) } ?? (nil, nil)
                let what = value >= 0 ? String(format: " (character U+%04X)", Int(value)) : ""
                return LocatedError(file: file, line: line.map { $0 + lineOffset }, column: column,
                                    message: "YAML syntax error: \(problem)\(what)")
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
                 let .composer(context, problem, mark, _):
                let ctx = context.map { "\($0.text) " } ?? ""
                return LocatedError(file: file, line: mark.line + lineOffset, column: mark.column,
                                    message: "YAML syntax error: \(ctx)\(problem)")
            case let .duplicatedKeysInMapping(duplicates, context):
                let keys = duplicates.sorted().map { "'\($0)'" }.joined(separator: ", ")
                return LocatedError(file: file, line: context.mark.line + lineOffset, column: context.mark.column,
                                    message: "duplicate key \(keys) in one mapping")
            case .no, .memory, .writer, .emitter, .representer, .dataCouldNotBeDecoded:
                return LocatedError(file: file, message: "YAML error: \(e)")
            @unknown default:
                return LocatedError(file: file, message: "YAML error")
            }
        }
        return LocatedError(file: file, message: "YAML error: \(yamlError)")
    }

    /// Line and column (from 1; the column counts characters) of a character offset in `text`.
    static func lineAndColumn(_ text: String, characterOffset: Int) -> (Int, Int) {
        var line = 1, column = 1
        for c in text.prefix(characterOffset) {
            if c.isNewline { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    /// The entries of a mapping, after checking every key is allowed and none repeats.
    public func mapping(_ node: Node, path: String, allowed: [String]) throws(LocatedError) -> [String: (key: Node, value: Node)] {
        guard let map = node.mapping else { throw error(node, "\(path.isEmpty ? "the document" : path) must be a mapping") }
        var out: [String: (key: Node, value: Node)] = [:]
        for (k, v) in map {
            guard let key = k.scalar?.string else { throw error(k, "keys of \(path) must be plain strings") }
            let full = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                throw error(k, "unknown key '\(full)' (allowed: \(allowed.joined(separator: ", ")))")
            }
            if out[key] != nil { throw error(k, "duplicate key '\(full)'") }
            out[key] = (k, v)
        }
        return out
    }

    /// A scalar that YAML resolves as a string (not a number or a bool written bare).
    public func strictString(_ node: Node, path: String) throws(LocatedError) -> String {
        guard let s = node.scalar else { throw error(node, "\(path) must be a string") }
        if s.style == .plain, !PlainScalar.readsAsText(node) {
            throw error(node, "\(path) must be a string (quote it)")
        }
        return s.string
    }

    public func int(_ node: Node, path: String) throws(LocatedError) -> Int {
        guard node.scalar != nil, let i = node.int else { throw error(node, "\(path) must be a whole number") }
        return i
    }

    public func double(_ node: Node, path: String) throws(LocatedError) -> Double {
        guard node.scalar != nil else { throw error(node, "\(path) must be a number") }
        if let i = node.int { return Double(i) }
        guard let d = node.float, d.isFinite else { throw error(node, "\(path) must be a number") }
        return d
    }

    public func bool(_ node: Node, path: String) throws(LocatedError) -> Bool {
        guard node.scalar != nil, let b = node.bool else { throw error(node, "\(path) must be true or false") }
        return b
    }

    public func stringList(_ node: Node, path: String) throws(LocatedError) -> [String] {
        guard let seq = node.sequence else { throw error(node, "\(path) must be a list of strings") }
        var out: [String] = []
        for (i, item) in seq.enumerated() { out.append(try strictString(item, path: "\(path)[\(i)]")) }
        return out
    }
}
