// libFuzzer target: `hubble observe -o json` lines through `HubbleFlowSource.parse`, the parser
// the flow-log source calls for every line. See docs/fuzzing.md.
import Foundation
import ThreatSources

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let bytes = UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: count)
    if let flow = HubbleFlowSource.parse(bytes) {
        precondition(!flow.verdict.isEmpty || bytes.count > 0, "empty verdict from empty input")
        precondition(flow.time.timeIntervalSince1970.isFinite, "time not finite")
        _ = flow.time.description
    }
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; it hands control to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

@_cdecl("FuzzHubbleLine_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, vector = argv
    return runDriver(&count, &vector) { fuzz($0, $1) }
}
