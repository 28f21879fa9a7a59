import CYaml  // Yams' bundled libyaml: the event stream, read without building a tree
import Foundation

/// Checks a YAML document against `InputLimits` before Yams builds its tree: size, nesting depth
/// and the number of nodes it stands for once aliases are expanded. Yams composes recursively and
/// hashes mapping keys (an alias to a large node is hashed whole), so a deep document or an alias
/// bomb must be stopped on libyaml's flat event stream first. Syntax errors are left to Yams,
/// which reports them with their place.
public enum YAMLLimits {
    public static func check(_ text: String, reader r: YAMLReader,
                             maxBytes: Int = InputLimits.documentBytes, maxDepth: Int = InputLimits.yamlDepth,
                             maxNodes: Int = InputLimits.yamlNodes) throws(LocatedError) {
        let size = text.utf8.count
        guard size <= maxBytes else {
            throw LocatedError(file: r.file, message: "the document is larger than \(InputLimits.describe(bytes: maxBytes)) (\(size) bytes); not read")
        }
        if let (line, column, message) = scan(text, maxDepth: maxDepth, maxNodes: maxNodes) {
            throw LocatedError(file: r.file, line: line + r.lineOffset, column: column, message: message)
        }
    }

    /// (line, column, problem) of the first place past a limit, or nil. Lines and columns from 1.
    static func scan(_ text: String, maxDepth: Int, maxNodes: Int) -> (Int, Int, String)? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return nil }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        if bytes.isEmpty { return nil }
        return bytes.withUnsafeMutableBufferPointer { buf -> (Int, Int, String)? in
            yaml_parser_set_input_string(&parser, buf.baseAddress, buf.count)
            // Expanded node counts: per anchor, and per open collection (saturating at maxNodes + 1).
            var anchors: [String: Int] = [:]
            var open: [(anchor: String?, nodes: Int)] = []
            var documentNodes = 0
            func anchorName(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
                p.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
            }
            func add(_ n: Int, anchor: String?) -> Bool {
                if let anchor { anchors[anchor] = n }
                if open.isEmpty {
                    documentNodes = min(documentNodes + n, maxNodes + 1)
                    return documentNodes <= maxNodes
                }
                open[open.count - 1].nodes = min(open[open.count - 1].nodes + n, maxNodes + 1)
                return open[open.count - 1].nodes <= maxNodes
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else {
                    // libyaml's own cap (1000 levels) stops its scanner before the events reach ours.
                    if let problem = parser.problem, String(cString: problem).contains("nesting level") {
                        return (Int(parser.problem_mark.line) + 1, Int(parser.problem_mark.column) + 1,
                                "nested deeper than \(maxDepth) levels; not read")
                    }
                    return nil
                }
                defer { yaml_event_delete(&event) }
                let place = (Int(event.start_mark.line) + 1, Int(event.start_mark.column) + 1)
                var within = true
                switch event.type {
                case YAML_STREAM_END_EVENT:
                    return nil
                case YAML_DOCUMENT_START_EVENT:
                    anchors = [:]
                    documentNodes = 0
                case YAML_SCALAR_EVENT:
                    within = add(1, anchor: anchorName(event.data.scalar.anchor))
                case YAML_ALIAS_EVENT:
                    within = add(anchorName(event.data.alias.anchor).flatMap { anchors[$0] } ?? 1, anchor: nil)
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    guard open.count < maxDepth else {
                        return (place.0, place.1, "nested deeper than \(maxDepth) levels; not read")
                    }
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT
                        ? anchorName(event.data.sequence_start.anchor) : anchorName(event.data.mapping_start.anchor)
                    open.append((anchor, 1))
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    if let done = open.popLast() { within = add(done.nodes, anchor: done.anchor) }
                default:
                    break
                }
                if !within {
                    return (place.0, place.1, "the document stands for more than \(maxNodes) nodes once its aliases are expanded (an alias bomb?); not read")
                }
            }
        }
    }
}
