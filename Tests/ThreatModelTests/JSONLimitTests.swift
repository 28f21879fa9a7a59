import Foundation
import Testing
import ThreatModel

@Suite("JSON nesting limit")
struct JSONLimitTests {
    @Test("JSON nested 10,000 deep (arrays, objects, mixed) is rejected with the limit named, without a stack overflow")
    func deepNesting() {
        let n = 10_000
        let arrays = String(repeating: "[", count: n) + String(repeating: "]", count: n)
        let objects = String(repeating: #"{"a":"#, count: n) + "1" + String(repeating: "}", count: n)
        let mixed = String(repeating: #"[{"k":"#, count: n / 2) + "null" + String(repeating: "}]", count: n / 2)
        for text in [arrays, objects, mixed] {
            #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
            do {
                _ = try JSONValue.parse(text)
            } catch {
                #expect(error.description.contains("nesting deeper than \(InputLimits.jsonDepth) levels"), "\(error)")
            }
        }
        // Unclosed: the depth cap is hit before the end of input is.
        #expect(throws: JSONParseError.self) { try JSONValue.parse(String(repeating: "[", count: 1_000_000)) }
    }

    @Test("Nesting up to the limit still parses; one level more does not")
    func atTheLimit() throws {
        let d = InputLimits.jsonDepth
        let ok = String(repeating: "[", count: d) + String(repeating: "]", count: d)
        #expect(try JSONValue.parse(ok).arrayValue != nil)
        let over = String(repeating: "[", count: d + 1) + String(repeating: "]", count: d + 1)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(over) }
    }
}
