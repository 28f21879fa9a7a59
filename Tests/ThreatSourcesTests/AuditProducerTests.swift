import Foundation
import Testing
@testable import ThreatSources

/// The engine and CRS version from the audit entries' producer, on the lab's real libmodsecurity 3
/// captures and the v2 / Coraza lines of Fixtures/waf.
@Suite("Audit producer: engine and CRS version")
struct AuditProducerTests {
    /// Every entry of a fixture through the reader, its producer counted as the scan counts it.
    func summary(_ name: String) throws -> (engine: String?, crs: String?, entries: Int) {
        var reader = AuditEntryReader(zone: TimeZone(identifier: "UTC")!)
        var names = ProducerTally(), components = ProducerTally(), entries = 0
        for line in try WAFFixtures.lines(name) {
            line.withUnsafeBufferPointer { b in
                guard reader.read(b) == nil else { return }
                entries += 1
                if !reader.producerName.isEmpty { names.add(reader.bytes(reader.producerName)) }
                if !reader.producerComponent.isEmpty { components.add(reader.bytes(reader.producerComponent)) }
            }
        }
        let s = ProducerTally.summary(names: names, components: components)
        return (s.engine, s.crs, entries)
    }

    @Test("ModSecurity v3 JSON: producer.modsecurity names the engine; components' OWASP_CRS/3.3.4 with libmodsecurity's stray quote gives 3.3.4")
    func modsecurityV3() throws {
        // Both files: "modsecurity":"ModSecurity v3.0.9 (Linux)", "components":["OWASP_CRS/3.3.4\""].
        for f in ["modsec-v3-detection.log", "modsec-v3-blocking.log"] {
            let s = try summary(f)
            #expect(s.entries > 0)
            #expect(s.engine == "ModSecurity v3" && s.crs == "3.3.4", "\(f): \(s)")
        }
    }

    @Test("ModSecurity 2 JSON: audit_data.producer's list gives the Apache engine from its first element and CRS 3.3.4 from its second")
    func modsecurityV2() throws {
        let s = try summary("modsec-v2.log")
        #expect(s.engine == "ModSecurity 2 (Apache)" && s.crs == "3.3.4", "\(s)")
    }

    @Test("Coraza JSON: producer.connector coraza-caddy names Coraza; rulesets OWASP_CRS/4.0.0 gives 4.0.0")
    func coraza() throws {
        let s = try summary("coraza.log")
        #expect(s.engine == "Coraza" && s.crs == "4.0.0", "\(s)")
    }

    @Test("Producer texts: the native Producer: line's trailing dot, a non-CRS component, the most frequent wins, at most 16 texts kept")
    func producerTexts() {
        #expect(ProducerTally.crsVersion("ModSecurity for Apache/2.9.3 (http://www.modsecurity.org/); OWASP_CRS/3.3.0.") == "3.3.0")
        #expect(ProducerTally.crsVersion("comodo_waf/1.2") == nil)
        #expect(ProducerTally.crsVersion("OWASP_CRS/") == nil)
        #expect(ProducerTally.engine("libmodsecurity3") == "ModSecurity v3" && ProducerTally.engine("Microsoft-IIS") == nil)
        var names = ProducerTally()
        let old = Array("ModSecurity v3.0.4 (Linux)".utf8), new = Array("coraza-proxy-wasm".utf8)
        old.withUnsafeBufferPointer { names.add($0, count: 2) }
        new.withUnsafeBufferPointer { names.add($0, count: 3) }
        var components = ProducerTally()
        Array("OWASP_CRS/4.7.0".utf8).withUnsafeBufferPointer { components.add($0, count: 3) }
        Array("OWASP_CRS/3.3.4".utf8).withUnsafeBufferPointer { components.add($0, count: 2) }
        let s = ProducerTally.summary(names: names, components: components)
        #expect(s.engine == "Coraza" && s.crs == "4.7.0")
        var many = ProducerTally()
        for k in 0..<40 { Array("p\(k)".utf8).withUnsafeBufferPointer { many.add($0) } }
        #expect(many.seen.count == ProducerTally.cap)
    }
}
