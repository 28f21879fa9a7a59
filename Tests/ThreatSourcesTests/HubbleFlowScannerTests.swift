import Foundation
import Testing
import ThreatModel
@testable import ThreatSources

/// The scanner fast path (`HubbleLineDecoder`) against the tree parser it stands in for: every line
/// gives the same flow, connection or refusal, whether the scanner reads it or hands it back.
@Suite("Hubble line scanner")
struct HubbleFlowScannerTests {
    static let folder = repoRoot + "/Tests/Fixtures/realworld/hubble"

    /// The real captures, one line each.
    static func fixtureLines() throws -> [String] {
        var lines: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() where name.hasSuffix(".json") {
            let text = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            lines += text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        }
        return lines
    }

    enum Read: Equatable {
        case scanned, handedBack
    }

    /// Reads one line both ways and checks they agree; says which way the decoder took.
    @discardableResult
    func agree(_ line: String, _ decoder: inout HubbleLineDecoder, sourceLocation: SourceLocation = #_sourceLocation) -> Read {
        let bytes = Array(line.utf8)
        let json = try? JSONValue.parse(bytes: bytes, maxDepth: InputLimits.jsonDepth)
        let treeFlow = json.flatMap { HubbleFlowSource.parse(json: $0) }
        let treeConnection = json.map { HubbleConnectionReader.parseDetailed(json: $0) } ?? .notFlow
        return bytes.withUnsafeBufferPointer { b -> Read in
            guard decoder.scan(b) else { return .handedBack }
            let head = decoder.head()
            #expect((head == nil) == (treeFlow == nil), "flow or not: \(line.prefix(120))", sourceLocation: sourceLocation)
            if let head, let treeFlow {
                #expect(decoder.flow(verdict: head.verdict, time: head.time).0 == treeFlow, "flow: \(line.prefix(120))", sourceLocation: sourceLocation)
            }
            switch (decoder.observed(), treeConnection) {
            case let (.flow(a), .flow(b)): #expect(a == b, "connection: \(line.prefix(120))", sourceLocation: sourceLocation)
            case (.withoutL4, .withoutL4), (.notFlow, .notFlow): break
            case let (a, b): Issue.record("connection outcome \(a) against \(b): \(line.prefix(120))", sourceLocation: sourceLocation)
            }
            return .scanned
        }
    }

    @Test("Real captures: the scanner reads them, with the same flows and connections as the tree parser")
    func scannerReadsRealCapturesAsTheTreeParserDoes() throws {
        let lines = try Self.fixtureLines()
        #expect(lines.count >= 20)
        var decoder = HubbleLineDecoder()
        let scanned = lines.filter { agree($0, &decoder) == .scanned }.count
        // Every capture has the {"flow": …} shape with plain strings: none needs the tree parser.
        #expect(scanned == lines.count)
    }

    @Test("Side cache: the same sides read again (cache hits) give the same flows")
    func sideCacheGivesTheSameFlowsOnRepeatedSides() throws {
        let lines = try Self.fixtureLines()
        var decoder = HubbleLineDecoder()
        for _ in 0..<3 { for l in lines { agree(l, &decoder) } }
    }

    @Test("Unusual lines go to the tree parser, and usual ones with odd values agree either way")
    func unusualLinesAreHandedBackOrAgree() throws {
        let base = try Self.fixtureLines().first { $0.contains("\"namespace\"") && $0.contains("\"TCP\"") }!
        var decoder = HubbleLineDecoder()
        // Handed back: what the scanner does not decide itself.
        let handedBack = [
            base.replacingOccurrences(of: "\"k8s:app=", with: "\"k8s:app\\u003d"),             // escape in a kept string
            String(base.dropFirst("{\"flow\":".count).dropLast()),                              // a bare flow (older hubble)
            base.replacingOccurrences(of: "\"verdict\":", with: "\"verdict\":\"X\",\"verdict\":"), // a kept key twice
            base.replacingOccurrences(of: "\"destination_port\":", with: "\"destination_port\":1.0e1,\"x\":"),  // a fraction
            base.replacingOccurrences(of: "\"l4\":{", with: "\"l4\":{\"UDP\":null,"),           // a kept object that is null
            base.replacingOccurrences(of: "\"labels\":[", with: "\"labels\":[7,"),               // a label that is not a string
            base.replacingOccurrences(of: "\"flow\":{", with: "\"flow\":{\"source\":[],"),       // a side that is a list
            base.replacingOccurrences(of: "\"flow\":{", with: "\"flow\":{\"n\":-1,"),            // a negative number
            String(base.dropLast()),                                                             // not JSON
            "{\"flow\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}",  // deep
        ]
        for l in handedBack { #expect(agree(l, &decoder) == .handedBack, "\(l.prefix(100))") }
        // Scanned, and the same as the tree parser: odd but plain values.
        let scanned = [
            base.replacingOccurrences(of: "\"verdict\":\"", with: "\"verdict\":4,\"v\":\""),     // a numeric verdict
            base.replacingOccurrences(of: "\"time\":\"2", with: "\"time\":\"x2"),               // a bad time: not a flow
            base.replacingOccurrences(of: "\"destination_port\":", with: "\"destination_port\":\"99999\",\"x\":"),  // port as text, out of range
            base.replacingOccurrences(of: "\"flow\":{", with: "\"flow\":{\"is_reply\":\"true\",\"reply\":true,"),
            "  " + base + " \t",
            "{\"flow\":{}}",
            "{\"flow\":{\"verdict\":\"DROPPED\",\"time\":\"2026-11-19T00:00:00Z\"}}",
        ]
        for l in scanned { #expect(agree(l, &decoder) == .scanned, "\(l.prefix(100))") }
    }

    @Test("Namespaces compare as strings: bytes for ASCII, Swift string equality otherwise")
    func namespaceComparisonMatchesStringEquality() {
        var decoder = HubbleLineDecoder()
        let line = #"{"flow":{"time":"2026-11-19T00:00:00Z","verdict":"FORWARDED","source":{"namespace":"shop"},"destination":{"namespace":"caf\#u{E9}"}}}"#
        Array(line.utf8).withUnsafeBufferPointer { b in
            let scanned = decoder.scan(b)
            let shop = decoder.sideNamespace(0, is: "shop"), sho = decoder.sideNamespace(0, is: "sho")
            let cafe = decoder.sideNamespace(1, is: "cafe\u{301}")  // canonically equivalent, other bytes
            #expect(scanned && shop && !sho && cafe)
        }
    }
}
