// libFuzzer target: `threat-report.yml` through `ConfigLoader.parse`: a config is either loaded or
// rejected with an error that names the file. See docs/fuzzing.md.
import Foundation
import ThreatConfig
import ThreatModel

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: count), as: UTF8.self)
    do {
        let config = try ConfigLoader.parse(text, file: "fuzz.yml", baseDirectory: "/nonexistent")
        precondition(!config.environments.isEmpty, "a config without environments loaded")
    } catch {
        precondition(error.file == "fuzz.yml", "error without the file: \(error)")
        precondition(error.line.map { $0 >= 1 } ?? true, "error line \(String(describing: error.line)) below 1")
    }
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; it hands control to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

@_cdecl("FuzzConfig_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, vector = argv
    return runDriver(&count, &vector) { fuzz($0, $1) }
}
