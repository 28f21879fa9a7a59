import Foundation
import ThreatModel

/// A request as a recording stores it beside its answer (`NAME.request.json`).
public struct RecordedRequest: Sendable, Equatable {
    public var method: String
    public var path: String
    /// Ordered query parameters as [name, value] pairs.
    public var params: [[String]]
    /// Request body (Elasticsearch `_msearch` NDJSON), when any.
    public var body: String?

    public init(method: String, path: String, params: [[String]] = [], body: String? = nil) {
        self.method = method
        self.path = path
        self.params = params
        self.body = body
    }

    public var json: JSONValue {
        var pairs: [(String, JSONValue)] = [("method", .string(method)), ("path", .string(path)),
                                            ("params", .array(params.map { .array($0.map { .string($0) }) }))]
        if let body { pairs.append(("body", .string(body))) }
        return .object(pairs)
    }

    public static func decode(_ v: JSONValue) -> RecordedRequest? {
        guard let m = v["method"]?.stringValue, let p = v["path"]?.stringValue else { return nil }
        let params = (v["params"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.stringValue) }
        return RecordedRequest(method: m, path: p, params: params, body: v["body"]?.stringValue)
    }

    /// One-line summary for the evidence appendix.
    public var summary: String {
        var s = "\(method) \(path)"
        let q = params.filter { $0.count == 2 }.map { "\($0[0])=\($0[1])" }.joined(separator: "&")
        if !q.isEmpty { s += "?" + q }
        if let body { s += "\n" + body }
        return s
    }
}

/// A folder of recorded engine answers: `NAME.json` is the answer body as the engine sent it,
/// `NAME.request.json` the request that produced it (see docs/recordings.md).
public struct RecordingFolder: Sendable {
    public var path: String
    public init(path: String) { self.path = path }

    /// `DIR/<section>[/<subfolder>]`: where one environment's recording (`DIR`) keeps a section's
    /// answers, and those of the previous window (`subfolder` "previous").
    public static func path(_ directory: String, section: String, subfolder: String? = nil) -> String {
        directory + "/" + section + (subfolder.map { "/" + $0 } ?? "")
    }

    public func answerPath(_ name: String) -> String { path + "/" + name + ".json" }
    public func requestPath(_ name: String) -> String { path + "/" + name + ".request.json" }

    /// Reads an answer and its digest; an absent file is `.unreadable` naming the path.
    /// A FIFO or device in its place is read only until `deadline`.
    public func answer(_ name: String, deadline: RunDeadline = .none) throws(SourceError) -> (bytes: [UInt8], sha256: String) {
        let bytes = try readFileBytes(answerPath(name), deadline: deadline)
        return (bytes, SHA256Digest.hex(bytes))
    }

    /// The recorded request, when the recording has one.
    public func request(_ name: String, deadline: RunDeadline = .none) -> RecordedRequest? {
        guard let bytes = try? readFileBytes(requestPath(name), deadline: deadline), let v = try? JSONValue.parse(bytes: bytes) else { return nil }
        return RecordedRequest.decode(v)
    }

    /// Writes an answer and its request (used by `--record`).
    public func write(_ name: String, answer: [UInt8], request: RecordedRequest) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Data(answer).write(to: URL(fileURLWithPath: answerPath(name)), options: .atomic)
        try Data((request.json.serialized(pretty: true) + "\n").utf8).write(to: URL(fileURLWithPath: requestPath(name)), options: .atomic)
    }
}
