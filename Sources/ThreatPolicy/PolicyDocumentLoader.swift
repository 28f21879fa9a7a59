import Foundation
import ThreatModel
import Yams

/// One policy read from a document, with its typed model when the document could be read.
public struct LoadedPolicy: Sendable, Equatable {
    public var item: PolicyItem
    /// nil when the document did not parse or did not fit the schema.
    public var model: NetworkPolicyModel?
    public init(item: PolicyItem, model: NetworkPolicyModel?) {
        self.item = item
        self.model = model
    }
}

/// What a YAML/JSON stream held: the policies, and notes about what was skipped
/// (`origin:line: skipped kind Deployment (not a network policy)`).
public struct PolicyLoadResult: Sendable, Equatable {
    public var policies: [LoadedPolicy]
    public var notes: [String]
    /// The deadline passed before every document was read: `policies` holds those read before.
    public var cutOff = false
    /// YAML documents (or JSON answers) in the stream.
    public var documents = 0
    public init(policies: [LoadedPolicy] = [], notes: [String] = []) {
        self.policies = policies
        self.notes = notes
    }
    public var items: [PolicyItem] { policies.map(\.item) }
}

/// Reads network policies from YAML streams, JSON API answers, files and folders.
public enum PolicyDocumentLoader {
    /// The description of a document that does not parse.
    public static let unparsedSentence = "Not described: the document is not valid YAML."

    /// Every policy in a YAML stream or JSON answer. Never throws: a broken document becomes an
    /// invalid item with a located problem, and the other documents are still read.
    public static func load(text: String, origin: String, lineOffset: Int = 0) -> [PolicyItem] {
        loadDetailed(text: text, origin: origin, lineOffset: lineOffset).items
    }

    /// Like `load`, with the typed models and the notes about skipped documents. `namespace` is the
    /// environment's namespace, used in the sentences of policies that do not name one.
    /// Documents are read until `stop` says so (the run's deadline passed; then `cutOff` is set).
    public static func loadDetailed(text: String, origin: String, lineOffset: Int = 0,
                                    namespace: String? = nil, stop: () -> Bool = { false }) -> PolicyLoadResult {
        var result = PolicyLoadResult()
        guard text.utf8.count <= InputLimits.documentBytes else {
            result.notes.append("\(origin): skipped, larger than \(InputLimits.describe(bytes: InputLimits.documentBytes)) (\(text.utf8.count) bytes)")
            return result
        }
        for chunk in DocumentSplitter.split(text) {
            if stop() {
                result.cutOff = true
                break
            }
            result.documents += 1
            var loader = DocumentLoader(origin: origin, chunk: chunk, lineOffset: lineOffset, namespace: namespace)
            loader.run()
            result.policies += loader.policies
            result.notes += loader.notes
        }
        return result
    }
}

// MARK: - Splitting a stream into documents

/// One document of a stream, cut out at `---` / `...` lines.
struct DocumentChunk {
    /// The lines given to Yams (the `---` line included, so columns and line numbers match).
    var lines: [Substring]
    /// 1-based line of `lines[0]` in the text.
    var firstLine: Int

    var text: String { lines.joined(separator: "\n") + "\n" }

    /// The 1-based text line of the first content line (not blank, comment, directive or marker).
    var contentLine: Int? {
        lines.firstIndex { DocumentSplitter.isContent($0) }.map { firstLine + $0 }
    }

    /// The document as written, trimmed: comments kept, directives and marker lines without content
    /// (`%YAML 1.1`, `---`, `...`) left out.
    var manifest: String {
        let start = lines.firstIndex(where: DocumentSplitter.isContent) ?? lines.count
        var body = lines[..<start].filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("#") } + lines[start...]
        while let last = body.last, DocumentSplitter.isMarker(last, "...") && !DocumentSplitter.isContent(last) {
            body.removeLast()
        }
        return body.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

enum DocumentSplitter {
    /// YAML line breaks: LF, CRLF, CR, NEL, LS, PS (what libyaml counts as a new line).
    static func isBreak(_ c: Character) -> Bool {
        c == "\n" || c == "\r\n" || c == "\r" || c == "\u{85}" || c == "\u{2028}" || c == "\u{2029}"
    }

    /// The text's lines, cut at every break `isBreak` names (CRLF as one): the lines of
    /// `split(omittingEmptySubsequences: false, whereSeparator: isBreak)` on its Characters, without
    /// segmenting graphemes (a break is always a Character of its own, CRLF one Character).
    static func lines(_ body: Substring) -> [Substring] {
        var out: [Substring] = []
        let scalars = body.unicodeScalars
        var start = scalars.startIndex, i = start
        while i < scalars.endIndex {
            switch scalars[i].value {
            case 0x0A, 0x85, 0x2028, 0x2029:
                out.append(body[start..<i])
                i = scalars.index(after: i)
                start = i
            case 0x0D:
                out.append(body[start..<i])
                i = scalars.index(after: i)
                if i < scalars.endIndex, scalars[i].value == 0x0A { i = scalars.index(after: i) }
                start = i
            default:
                i = scalars.index(after: i)
            }
        }
        out.append(body[start...])
        return out
    }

    static func isMarker(_ line: Substring, _ marker: String) -> Bool {
        guard line.hasPrefix(marker) else { return false }
        let rest = line.dropFirst(marker.count)
        return rest.isEmpty || rest.first == " " || rest.first == "\t"
    }

    static func isContent(_ line: Substring) -> Bool {
        let t = line.trimmingCharacters(in: .whitespaces)
        if t.isEmpty || t.hasPrefix("#") || line.hasPrefix("%") { return false }
        if isMarker(line, "---") || isMarker(line, "...") {
            let rest = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
            return !rest.isEmpty && !rest.hasPrefix("#")
        }
        return true
    }

    static func split(_ text: String) -> [DocumentChunk] {
        var body = Substring(text)
        if body.first == "\u{FEFF}" { body = body.dropFirst() }
        let lines = Self.lines(body)
        var chunks: [DocumentChunk] = []
        var current = DocumentChunk(lines: [], firstLine: 1)
        // A directive-only chunk (`%YAML 1.2`) waits for the `---` that follows it.
        var carry: DocumentChunk?
        func finish() {
            if current.lines.contains(where: isContent) {
                chunks.append(current)
            } else if current.lines.contains(where: { $0.hasPrefix("%") }) {
                carry = current
            }
        }
        for (i, line) in lines.enumerated() {
            let n = i + 1
            if isMarker(line, "---") {
                finish()
                if let c = carry, c.firstLine + c.lines.count == n {
                    current = c
                } else {
                    current = DocumentChunk(lines: [], firstLine: n)
                }
                carry = nil
                current.lines.append(line)
            } else if isMarker(line, "...") {
                current.lines.append(line)
                finish()
                current = DocumentChunk(lines: [], firstLine: n + 1)
            } else {
                current.lines.append(line)
            }
        }
        finish()
        return chunks
    }
}
