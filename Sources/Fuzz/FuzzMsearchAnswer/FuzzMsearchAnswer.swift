// libFuzzer target: Elasticsearch `_msearch` answers through `MsearchAnswer.decode`, as the WAF
// source decodes every answer. Checks what the report relies on: counts are not negative and the
// anomalous share is a ratio; then the findings and the charts. See docs/fuzzing.md.
import Foundation
import FuzzSupport
import ThreatModel
import ThreatSources

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = [UInt8](UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: count))
    do {
        let (stats, _) = try MsearchAnswer.decode(bytes, place: "fuzz")
        precondition(stats.totalRequests >= 0 && stats.anomalousRequests >= 0, "negative request count")
        precondition((stats.blockedRequests ?? 0) >= 0 && (stats.detectionOnlyRequests ?? 0) >= 0, "negative blocked count")
        for list in [stats.topRules, stats.topClients, stats.topURIs, stats.engineModes, stats.anomalyScores] {
            precondition(list.allSatisfy { $0.count >= 0 }, "negative bucket count")
        }
        precondition((stats.totalHistory + stats.anomalousHistory).allSatisfy { $0.value >= 0 }, "negative history count")
        let ratio = stats.anomalousRatio
        precondition(ratio.isNaN || (ratio >= 0 && ratio <= 1) || stats.anomalousRequests > stats.totalRequests,
                     "anomalous ratio \(ratio) outside [0, 1]")
        precondition(stats.rangeProblem() == nil, "a decoded answer past the range check: \(stats.rangeProblem()!)")
        // On through the findings and the charts, as the report goes on.
        FuzzReport.analyzeAndDraw(waf: stats, flows: nil)
    } catch {
        precondition(!error.description.isEmpty, "empty error")
    }
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; it hands control to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

@_cdecl("FuzzMsearchAnswer_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, vector = argv
    return runDriver(&count, &vector) { fuzz($0, $1) }
}
