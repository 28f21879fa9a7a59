// libFuzzer target: Prometheus HTTP API answers through `PrometheusAnswer.decode`, as the flow
// source decodes every answer, then `FlowStatisticsBuilder.build` with the answer in every query's
// place, as the report does. Counts must not be negative. See docs/fuzzing.md.
import Foundation
import FuzzSupport
import ThreatModel
import ThreatSources

let queries = FlowQueries()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = [UInt8](UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: count))
    for status in [nil, 200, 503] as [Int?] {
        do {
            let answer = try PrometheusAnswer.decode(bytes, place: "fuzz", httpStatus: status)
            precondition((status ?? 200) < 400, "an error status decoded as success")
            for series in answer.matrix {
                precondition(series.values.allSatisfy { $0.0.isFinite }, "non-finite sample time")
            }
            var answers: [FlowQueries.Name: PrometheusAnswer] = [:]
            for name in FlowQueries.Name.allCases { answers[name] = answer }
            let (stats, _) = FlowStatisticsBuilder.build(answers: answers, queries: queries, namespace: "shop-production")
            for c in [stats.counts, stats.inbound, stats.outbound] {
                precondition(c.forwarded >= 0 && c.dropped >= 0, "negative flow count")
            }
            precondition((stats.topDropReasons + stats.topDroppedPairs).allSatisfy { $0.count > 0 }, "non-positive rank")
            let ratio = stats.counts.droppedRatio
            precondition(ratio.isNaN || (ratio >= 0 && ratio <= 1), "dropped ratio \(ratio) outside [0, 1]")
            for series in answer.matrix {
                precondition(series.values.allSatisfy { NumberLimits.isSupportedTime($0.0) }, "sample time outside the years 0001–9999")
            }
            // On through the findings and the charts (the answer as the rate series too).
            FuzzReport.analyzeAndDraw(waf: nil, flows: stats)
        } catch {
            precondition(!error.description.isEmpty, "empty error")
        }
    }
    return 0
}
// SwiftPM links an executable's entry point as `<module>_main`; it hands control to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

@_cdecl("FuzzPrometheusAnswer_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, vector = argv
    return runDriver(&count, &vector) { fuzz($0, $1) }
}
