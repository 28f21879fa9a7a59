import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

@Suite("Hubble flow logs")
struct HubbleTests {
    let window = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)

    func parse(_ s: String) -> HubbleFlowSource.Flow? {
        Array(s.utf8).withUnsafeBufferPointer { HubbleFlowSource.parse($0) }
    }

    @Test("Both line shapes: {\"flow\": …} and the bare flow of older hubble; numeric verdicts")
    func lineShapes() {
        let new = parse(#"{"flow":{"time":"2026-11-19T14:00:01.5Z","verdict":"DROPPED","drop_reason_desc":"POLICY_DENIED","l4":{"TCP":{"destination_port":22}},"source":{"labels":["reserved:world"]},"destination":{"namespace":"shop","pod_name":"web-1"}},"node_name":"n1","time":"2026-11-19T14:00:01.5Z"}"#)
        #expect(new?.verdict == "DROPPED")
        #expect(new?.sourceNamespace == nil && new?.destinationNamespace == "shop")
        #expect(new?.destinationPort == 22 && new?.proto == "TCP")
        #expect(new?.dropReason == "POLICY_DENIED")
        let old = parse(#"{"time":"2026-11-19T14:00:01Z","verdict":1,"source":{"namespace":"shop"},"destination":{"namespace":"kube-system"},"l4":{"UDP":{"destination_port":53}}}"#)
        #expect(old?.verdict == "FORWARDED" && old?.proto == "UDP")
        for bad in ["", "{", "not json", #"{"flow":{"verdict":"DROPPED"}}"#, #"{"flow":{"time":"yesterday","verdict":"DROPPED"}}"#, "[1,2]"] {
            #expect(parse(bad) == nil, "\(bad)")
        }
    }

    @Test("The gzipped sample: counts, directions, rate buckets and drop detail match an independent count; garbage lines are skipped")
    func sampleCounts() throws {
        let path = repoRoot + "/samples/hubble/flows.json.gz"
        let env = EnvironmentConfig(name: "p", namespace: "shop-production", hosts: [], thresholds: .defaults)
        let out = try HubbleFlowSource(settings: HubbleSettings(flowLogs: [path])).fetch(SourceContext(window: window, environment: env, redactor: SecretRedactor()))
        // Independent count: gzip -dc and Foundation's JSON parser.
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-dc", path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        var fwd = 0, drop = 0, inbound = 0, garbage = 0, policyDenied = 0
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let f = obj["flow"] as? [String: Any] else {
                garbage += 1
                continue
            }
            let src = (f["source"] as? [String: Any])?["namespace"] as? String, dst = (f["destination"] as? [String: Any])?["namespace"] as? String
            guard src == "shop-production" || dst == "shop-production" else { continue }
            if f["verdict"] as? String == "DROPPED" {
                drop += 1
                if f["drop_reason_desc"] as? String == "POLICY_DENIED" { policyDenied += 1 }
            } else { fwd += 1 }
            if dst == "shop-production" { inbound += 1 }
        }
        let s = out.value
        #expect(s.counts.forwarded == fwd && s.counts.dropped == drop)
        #expect(s.inbound.total == inbound)
        #expect(s.counts.total > 9000)
        #expect(s.forwardedRate.count == 24)
        let droppedFromRate: Double = s.droppedRate.reduce(0.0) { $0 + $1.value } * 3600
        #expect(abs(droppedFromRate - Double(drop)) < 1e-6)
        #expect(s.topDropReasons.first == RankedCount(key: "POLICY_DENIED", count: policyDenied))
        #expect(s.topDroppedPairs.first?.key.hasPrefix("world → shop-production/web-7d9f8c6b5-00001:") == true)
        // The burst is in the 14:00 bucket.
        #expect(s.droppedRate.max { $0.value < $1.value }.map { RFC3339.format($0.time) } == "2026-11-19T14:00:00Z")
        #expect(garbage == 2)
        #expect(out.warnings.first?.hasPrefix("skipped 2 line(s)") == true)
        #expect(out.evidence.first?.sha256?.count == 64)
    }

    @Test("A missing file or a glob that matches nothing is an error naming it")
    func missing() {
        let env = EnvironmentConfig(name: "p", namespace: "ns", hosts: [], thresholds: .defaults)
        #expect(throws: SourceError.unreadable(path: "/nonexistent/*.json", reason: "no file matches this pattern")) {
            try HubbleFlowSource(settings: HubbleSettings(flowLogs: ["/nonexistent/*.json"])).fetch(SourceContext(window: window, environment: env, redactor: SecretRedactor()))
        }
    }
}

@Suite("Line reader")
struct LineReaderTests {
    func lines(_ content: [UInt8], gz: Bool = false, max: Int = 1 << 20) throws -> [String] {
        let dir = NSTemporaryDirectory() + "lr-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var path = dir + "/f.log"
        try Data(content).write(to: URL(fileURLWithPath: path))
        if gz {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/gzip")
            p.arguments = ["-n", path]
            try p.run()
            p.waitUntilExit()
            path += ".gz"
        }
        var out: [String] = []
        try LineReader(path: path, maxLineBytes: max).forEachLine { n, line in
            switch line {
            case let .bytes(b): out.append("\(n):" + String(decoding: b, as: UTF8.self))
            case let .tooLong(len): out.append("\(n):tooLong(\(len))")
            }
        }
        return out
    }

    @Test("Lines, CRLF, a last line without newline, and the same through gzip")
    func basics() throws {
        let content = Array("a\r\nbb\n\nccc".utf8)
        #expect(try lines(content) == ["1:a", "2:bb", "3:", "4:ccc"])
        #expect(try lines(content, gz: true) == ["1:a", "2:bb", "3:", "4:ccc"])
    }

    @Test("A line longer than the cap is reported, not kept, and reading goes on; also across 1 MiB blocks")
    func longLines() throws {
        let big = [UInt8](repeating: 0x41, count: 3 << 20)
        let out = try lines(Array("x\n".utf8) + big + Array("\ny\n".utf8), max: 1 << 20)
        #expect(out.count == 3)
        #expect(out[0] == "1:x" && out[2] == "3:y")
        #expect(out[1].hasPrefix("2:tooLong"))
        let gz = try lines(Array("x\n".utf8) + big + Array("\ny\n".utf8), gz: true, max: 1 << 20)
        #expect(gz == out)
    }

    @Test("A truncated gzip file is a clear error")
    func truncatedGzip() throws {
        let dir = NSTemporaryDirectory() + "lrgz-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let full = repoRoot + "/samples/hubble/flows.json.gz"
        let data = try Data(contentsOf: URL(fileURLWithPath: full))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.json.gz"))
        #expect(throws: SourceError.malformed(place: dir + "/cut.json.gz", detail: "the gzip stream ends early (truncated file)")) {
            try LineReader(path: dir + "/cut.json.gz").forEachLine { _, _ in }
        }
    }
}
