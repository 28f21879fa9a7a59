// libFuzzer target: policy manifests (YAML streams or JSON lists) through
// `PolicyDocumentLoader.loadDetailed`, which never throws: every document becomes a policy, an
// invalid item with a located problem, or a note. See docs/fuzzing.md.
import Foundation
import ThreatPolicy

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: start.assumingMemoryBound(to: UInt8.self), count: count), as: UTF8.self)
    let result = PolicyDocumentLoader.loadDetailed(text: text, origin: "fuzz.yaml", namespace: "shop-production")
    for p in result.policies {
        precondition(p.item.origin.hasPrefix("fuzz.yaml"), "origin lost: \(p.item.origin)")
    }
    return 0
}

// SwiftPM links an executable's entry point as `<module>_main`; it hands control to libFuzzer.
@_silgen_name("LLVMFuzzerRunDriver")
func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
               _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

@_cdecl("FuzzPolicyYAML_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc, vector = argv
    return runDriver(&count, &vector) { fuzz($0, $1) }
}
