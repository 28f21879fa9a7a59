// libFuzzer target: ModSecurity v2/v3 and Coraza JSON audit lines, through the audit step's
// worker (`WAFLogScan.parseAudit`) on a block of lines, then the aggregation. See docs/fuzzing.md.
import Foundation
import FuzzSupport
import ThreatModel
@testable import ThreatSources

let buffer = BlockBuffer()
let utc = TimeZone(identifier: "UTC")!
let window = TimeWindow(from: Date(timeIntervalSince1970: 1_790_000_000), to: Date(timeIntervalSince1970: 1_800_000_000),
                        interval: .day)
let windows = [ScanWindow(window), ScanWindow(window.previous)]
let scan = WAFLogScan(auditFiles: [], accessFiles: [], windows: windows,
                      attribution: Attribution(namespace: "shop-production", hosts: ["shop.example.com"]), zone: utc)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let n = min(count, BlockBuffer.capacity)
    if n > 0, let start { memcpy(buffer.pointer, start, n) }
    var part = AuditPart(zone: utc, key: scan.hashKey)
    var tally = BlockTally(file: 0, index: 0)
    scan.parseAudit(LineBlock(file: 0, index: 0, buffer: buffer, count: n), &part, &tally)

    precondition(tally.entries >= 0 && tally.entries <= tally.lines, "entries \(tally.entries) > lines \(tally.lines)")
    precondition(tally.skipped.total <= tally.lines, "more skipped lines than lines")
    precondition(part.records.count <= tally.entries, "more records than entries")
    for r in part.records {
        precondition(Int(r.window) < windows.count && r.bucket >= 0 && Int(r.bucket) < windows[Int(r.window)].bucketCount,
                     "record outside its window")
        precondition(Int(r.rulesStart) + Int(r.rulesCount) <= part.ruleRefs.count, "rule refs out of range")
        precondition(r.client == Interner.overflow || part.clients.string(r.client) != nil, "client id unknown")
        precondition(r.uri == Interner.overflow || part.uris.string(r.uri) != nil, "uri id unknown")
    }
    for ref in part.ruleRefs {
        precondition(ref.rule == Interner.overflow || part.rules.string(ref.rule) != nil, "rule id unknown")
        precondition(ref.message == Interner.overflow || part.messages.string(ref.message) != nil, "message id unknown")
    }
    // Every record is the environment's (no access lines: host match), so the aggregation sees them.
    var records = part.records
    for k in records.indices { records[k].owner = 1 }
    let outcome = WAFLogScan.Outcome(records: records, ruleRefs: part.ruleRefs, rules: part.rules, messages: part.messages,
                                     clients: part.clients, uris: part.uris, audit: [], access: [],
                                     accessBuckets: windows.map { [Int](repeating: 0, count: $0.bucketCount) },
                                     skipped: tally.skipped.total, warnings: [],
                                     auditCoverage: InputCoverage(name: "audit log", unit: "lines", read: tally.lines, parsed: tally.entries),
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

@_cdecl("FuzzAuditLine_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, vector = argv
    return runDriver(&count, &vector) { fuzz($0, $1) }
}
