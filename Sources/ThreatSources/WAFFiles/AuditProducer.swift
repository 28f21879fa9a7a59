import Foundation

/// The producer the audit entries name: ModSecurity's native `H` section `Producer:` line
/// (`ModSecurity for Apache/2.9.3 (http://www.modsecurity.org/); OWASP_CRS/3.3.0.`), v3 JSON
/// `transaction.producer.modsecurity` (`ModSecurity v3.0.4 (Linux)`) and `components`
/// (`OWASP_CRS/3.3.4"`), Coraza JSON `transaction.producer.rulesets`, v2 JSON
/// `audit_data.producer`. Counted per distinct text (at most `cap` texts, 200 bytes each), so the
/// scan never builds a string per entry; the engine and CRS version are read from the counts.
struct ProducerTally {
    static let cap = 16
    private(set) var seen: [(text: [UInt8], count: Int)] = []

    mutating func add(_ bytes: UnsafeBufferPointer<UInt8>, count: Int = 1) {
        guard !bytes.isEmpty else { return }
        let b = UnsafeBufferPointer(rebasing: bytes.prefix(200))
        for k in seen.indices where seen[k].text.elementsEqual(b) {
            seen[k].count += count
            return
        }
        if seen.count < Self.cap { seen.append((Array(b), count)) }
    }

    mutating func merge(_ other: ProducerTally) {
        for (text, n) in other.seen { text.withUnsafeBufferPointer { add($0, count: n) } }
    }

    /// The engine (the names the error-line reader uses) and the CRS version, each the most
    /// frequent over the entries, ties by name.
    static func summary(names: ProducerTally, components: ProducerTally) -> (engine: String?, crs: String?) {
        var engines: [String: Int] = [:], versions: [String: Int] = [:]
        for (text, n) in names.seen {
            let s = String(decoding: text, as: UTF8.self)
            if let e = engine(s) { engines[e, default: 0] += n }
            if let v = crsVersion(s) { versions[v, default: 0] += n }
        }
        for (text, n) in components.seen {
            if let v = crsVersion(String(decoding: text, as: UTF8.self)) { versions[v, default: 0] += n }
        }
        func best(_ d: [String: Int]) -> String? { d.max { a, b in a.value != b.value ? a.value < b.value : a.key > b.key }?.key }
        return (best(engines), best(versions))
    }

    static func engine(_ producer: String) -> String? {
        if producer.range(of: "coraza", options: .caseInsensitive) != nil { return "Coraza" }
        if producer.contains("ModSecurity for Apache") || producer.hasPrefix("ModSecurity/2") || producer.hasPrefix("ModSecurity v2") {
            return "ModSecurity 2 (Apache)"
        }
        if producer.hasPrefix("ModSecurity v3") || producer.hasPrefix("libmodsecurity") { return "ModSecurity v3" }
        return nil
    }

    /// `…OWASP_CRS/3.3.0.` → `3.3.0`; `OWASP_CRS/3.3.4"` (libmodsecurity's own quote) → `3.3.4`.
    static func crsVersion(_ producer: String) -> String? {
        guard let r = producer.range(of: "OWASP_CRS/") else { return nil }
        var v = String(producer[r.upperBound...].prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "." || $0 == "-") })
        while v.hasSuffix(".") || v.hasSuffix("-") { v.removeLast() }
        guard let first = v.first, first.isNumber else { return nil }
        return v
    }
}
