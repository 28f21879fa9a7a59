// libFuzzer target: NGINX access lines (ingress-nginx upstream format and `combined`), each line
// through `AccessLogLine.parse`, and the block through the access step's worker
// (`WAFLogScan.parseAccess`) with a join table of request ids. See docs/fuzzing.md.
import Foundation
import ThreatModel
@testable import ThreatSources

let buffer = BlockBuffer()
let window = TimeWindow(from: Date(timeIntervalSince1970: 1_790_000_000), to: Date(timeIntervalSince1970: 1_800_000_000),
                        interval: .day)
let windows = [ScanWindow(window), ScanWindow(window.previous)]
let scan = WAFLogScan(auditFiles: [], accessFiles: [], windows: windows,
                      attribution: Attribution(namespace: "shop-production", hosts: ["shop.example.com"]),
                      zone: TimeZone(identifier: "UTC")!)
// Request ids the sample audit log has, so that joins happen; two records share an id.
let ids = ["898be137d2fcec4819d28479380b8261", "807742f264d3e1dc1cae244b248e29b0", "898be137d2fcec4819d28479380b8261", "-", "a"]
let (table, chain): (IDTable, [Int32]) = {
    var t = IDTable(capacity: ids.count)
    var chain = [Int32](repeating: -1, count: ids.count)
    for (k, id) in ids.enumerated() {
        if let previous = t.insert(byteHash(id, key: scan.hashKey), Int32(k)) { chain[k] = previous }
    }
    return (t, chain)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let n = min(count, BlockBuffer.capacity)
    if n > 0, let start { memcpy(buffer.pointer, start, n) }
    // Each line alone: every range the parser hands back lies inside the line.
    var cache = TimeCache()
    var lineStart = 0
    while lineStart <= n {
        var end = lineStart
        while end < n && buffer.pointer[end] != 0x0A { end += 1 }
        let p = UnsafeBufferPointer(start: buffer.pointer + lineStart, count: end - lineStart)
        if let line = AccessLogLine.parse(p, timeCache: &cache) {
            for r in [line.upstream, line.requestID, line.remoteAddr, line.request, line.userAgent] {
                precondition(r.lowerBound >= 0 && r.upperBound <= p.count, "field range \(r) outside a \(p.count)-byte line")
            }
            precondition(line.status >= 0, "negative status")
            _ = AccessLogLine.text(p, line.request)
            _ = AccessLogLine.text(p, line.userAgent)
            _ = AccessLogLine.text(p, line.requestID)
        }
        lineStart = end + 1
    }
    // The block through the worker.
    var part = AccessPart(windows: windows)
    var tally = BlockTally(file: 0, index: 0)
    scan.parseAccess(LineBlock(file: 0, index: 0, buffer: buffer, count: n), &part, &tally, table: table, chain: chain)
    precondition(tally.skipped.total <= tally.lines, "more skipped lines than lines")
    precondition(tally.formats.reduce(0, +) + tally.skipped.total <= tally.lines, "more parsed lines than lines")
    precondition(part.buckets[0].reduce(0, +) == tally.own, "bucketed lines differ from own lines")
    precondition(part.buckets.allSatisfy { $0.allSatisfy { $0 >= 0 } }, "negative bucket")
    for (rec, owner) in part.hits { precondition(rec >= 0 && Int(rec) < ids.count && (owner == 1 || owner == 2), "bad join hit") }
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; it hands control to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

@_cdecl("FuzzAccessLine_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, vector = argv
    return runDriver(&count, &vector) { fuzz($0, $1) }
}
