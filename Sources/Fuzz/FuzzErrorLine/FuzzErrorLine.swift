// libFuzzer target: ModSecurity/Coraza error-log lines (Envoy, Istio, Envoy Gateway/Caddy JSON,
// NGINX, Apache), through the error-log worker (`WAFLogScan.parseErrorLog`) on a block of lines,
// the grouping into transactions, then the aggregation. See docs/fuzzing.md.
import Foundation
import FuzzSupport
import ThreatModel
@testable import ThreatSources

let buffer = BlockBuffer()
let utc = TimeZone(identifier: "UTC")!
let window = TimeWindow(from: Date(timeIntervalSince1970: 1_700_000_000), to: Date(timeIntervalSince1970: 1_800_000_000),
                        interval: .day)
let windows = [ScanWindow(window), ScanWindow(window.previous)]
let scan = WAFLogScan(auditFiles: [], accessFiles: [], windows: windows,
                      attribution: Attribution(namespace: "shop-production", hosts: ["shop.example.com"]), zone: utc)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let n = min(count, BlockBuffer.capacity)
    if n > 0, let start { memcpy(buffer.pointer, start, n) }

    // The parser alone: every event's ranges lie inside the text they point into.
    let text = UnsafeBufferPointer<UInt8>(start: UnsafePointer(buffer.pointer), count: n)
    for line in text.split(separator: 0x0A, omittingEmptySubsequences: true) {
        var zone = LocalTimeZone(utc), scratch: [UInt8] = []
        _ = ErrorLogParser.parse(UnsafeBufferPointer(rebasing: line), zone: &zone, scratch: &scratch) { t, e in
            for r in [e.id, e.message, e.severity, e.version, e.client, e.uri, e.host, e.uniqueID] {
                precondition(r.lowerBound >= 0 && r.upperBound <= t.count, "event range \(r) outside its text of \(t.count) bytes")
            }
        }
    }

    // The worker and the aggregation.
    var part = ErrorLogPart(zone: utc, key: scan.hashKey)
    var tally = BlockTally(file: 0, index: 0)
    scan.parseErrorLog(LineBlock(file: 0, index: 0, buffer: buffer, count: n), &part, &tally)
    precondition(tally.entries >= 0 && tally.entries <= tally.lines, "entries \(tally.entries) > lines \(tally.lines)")
    precondition(tally.skipped.total <= tally.lines, "more skipped lines than lines")
    precondition(part.otherLines + tally.entries + tally.skipped.total <= tally.lines, "lines counted twice")
    part = ErrorLogPart.merged([part], zone: utc, key: scan.hashKey)
    let transactions = part.transactions.count
    var inWindow = 0
    let audit = part.finish(windows: windows, attribution: scan.attribution, fileBase: 0, tally: &inWindow)
    precondition(audit.records.count <= transactions && inWindow <= audit.records.count, "more records than transactions")
    for r in audit.records {
        precondition(Int(r.window) < windows.count && r.bucket >= 0 && Int(r.bucket) < windows[Int(r.window)].bucketCount,
                     "record outside its window")
        precondition(Int(r.rulesStart) + Int(r.rulesCount) <= audit.ruleRefs.count, "rule refs out of range")
    }
    var records = audit.records
    for k in records.indices { records[k].owner = 1 }
    let outcome = WAFLogScan.Outcome(records: records, ruleRefs: audit.ruleRefs, rules: audit.rules, messages: audit.messages,
                                     clients: audit.clients, uris: audit.uris, audit: [], access: [],
                                     accessBuckets: windows.map { [Int](repeating: 0, count: $0.bucketCount) },
                                     skipped: tally.skipped.total, warnings: [],
                                     auditCoverage: InputCoverage(name: "error log", unit: "lines", read: tally.lines, parsed: tally.entries),
                                     accessCoverage: InputCoverage(name: "access log", unit: "lines", read: 0, parsed: 0))
    let stats = WAFAggregation.statistics(outcome, window: windows[0])
    precondition(stats.anomalousRequests >= 0 && stats.anomalousRequests <= records.count, "anomalous count out of range")
    precondition(stats.topRules.allSatisfy { $0.count > 0 } && stats.topClients.allSatisfy { $0.count > 0 }, "non-positive rank")
    if let b = stats.blockedRequests { precondition(b >= 0 && b <= stats.anomalousRequests, "blocked out of range") }
    FuzzReport.analyzeAndDraw(waf: stats, flows: nil)
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; it hands control to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

@_cdecl("FuzzErrorLine_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, vector = argv
    return runDriver(&count, &vector) { fuzz($0, $1) }
}
