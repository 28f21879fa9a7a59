import Foundation

/// What a source read, and how much of it it could use: the data-quality contract of
/// docs/data-quality.md. Every section carries one (report window and previous window), filled by
/// its source, whatever the backend: files give files, bytes and lines; engines give documents,
/// series and samples; policy sources give files, documents and objects.
///
/// A source fills one `InputCoverage` per input it reads (an audit log and an access log; the two
/// searches of an `_msearch`; the series of the Prometheus answers). The figures narrow from
/// `read` to `attributed`; `skipped` says why records were not parsed, with the first places.
public struct SourceCoverage: Sendable, Equatable, Codable {
    /// The backend: `files`, `elasticsearch`, `prometheus`, `hubble`, `directory`, `kubernetes`,
    /// `replay`.
    public var source: String
    public var inputs: [InputCoverage]
    /// What the source said besides the figures (a recording's origin, an engine's caveat).
    public var notes: [String]

    public init(source: String, inputs: [InputCoverage] = [], notes: [String] = []) {
        self.source = source
        self.inputs = inputs
        self.notes = notes
    }

    public var read: Int { inputs.reduce(0) { $0 + $1.read } }
    public var skipped: Int { inputs.reduce(0) { $0 + $1.skippedTotal } }
    public var unattributed: Int { inputs.reduce(0) { $0 + $1.unattributed } }

    /// The inputs that had records but gave none the report could use.
    public var unreadableInputs: [InputCoverage] { inputs.filter(\.isUnreadable) }

    /// The inputs whose skipped and unattributed records exceed `share` of what they read.
    public func partiallyRead(over share: Double) -> [InputCoverage] {
        inputs.filter { i in
            guard i.read > 0, !i.isUnreadable else { return false }
            return i.lossShare > share
        }
    }

    /// The earliest record time of the inputs (nil when the source keeps no times).
    public var firstTime: Date? { inputs.compactMap(\.firstTime).min() }

    /// The named input, when the source has it.
    public func input(_ name: String) -> InputCoverage? { inputs.first { $0.name == name } }
}

/// One input of a source: a set of files of one kind, or one engine query.
public struct InputCoverage: Sendable, Equatable, Codable {
    /// `audit log`, `access log`, `flow log`, `access-log documents`, `audit-log documents`,
    /// `series`, `policy manifests`, `policy lists`.
    public var name: String
    /// What one record is: `lines`, `documents`, `series`, `objects`.
    public var unit: String
    /// Files read (file sources).
    public var files: Int?
    /// Bytes read (file sources, engine answers).
    public var bytes: Int?
    /// Records offered: non-blank lines, documents, series, objects.
    public var read: Int
    /// Records understood.
    public var parsed: Int
    /// Of the parsed records, those in the report window (nil: the engine already selected them).
    public var inWindow: Int?
    /// Of the records in the window, those of this environment (nil: not applicable).
    public var attributed: Int?
    /// Records in the window that belong to another environment (another namespace, upstream or
    /// host): informational, not a loss.
    public var otherEnvironment: Int
    /// Records in the window that belong to no environment at all: a loss, like a skip.
    public var unattributed: Int
    /// Records parsed but not valid (policies against their schema): reported, not lost.
    public var invalid: Int = 0
    /// Documents the records came in (policy manifests and list answers).
    public var documents: Int?
    /// Engine detail: time-series samples, histogram buckets (nil when none).
    public var samples: Int?
    public var buckets: Int?
    /// Why records were skipped, most first.
    public var skipped: [SkipCount]
    /// The first skipped records: place (`file:line`), reason and the offending value (cut,
    /// control characters removed; each format escapes it).
    public var examples: [SkipExample]
    /// The earliest and latest record time seen (file sources): whether the input covers a window.
    public var firstTime: Date?
    public var lastTime: Date?

    public init(name: String, unit: String, files: Int? = nil, bytes: Int? = nil, read: Int, parsed: Int,
                inWindow: Int? = nil, attributed: Int? = nil, otherEnvironment: Int = 0, unattributed: Int = 0,
                samples: Int? = nil, buckets: Int? = nil, skipped: [SkipCount] = [], examples: [SkipExample] = [],
                firstTime: Date? = nil, lastTime: Date? = nil) {
        self.name = name
        self.unit = unit
        self.files = files
        self.bytes = bytes
        self.read = read
        self.parsed = parsed
        self.inWindow = inWindow
        self.attributed = attributed
        self.otherEnvironment = otherEnvironment
        self.unattributed = unattributed
        self.samples = samples
        self.buckets = buckets
        self.skipped = skipped
        self.examples = examples
        self.firstTime = firstTime
        self.lastTime = lastTime
    }

    public var skippedTotal: Int { skipped.reduce(0) { $0 + $1.count } }

    /// Records offered but none understood: the input was not empty and gave nothing.
    public var isUnreadable: Bool { read > 0 && parsed == 0 }

    /// (skipped + unattributed) / read; 0 for an empty input.
    public var lossShare: Double { read > 0 ? Double(skippedTotal + unattributed) / Double(read) : 0 }

    /// Whether the records seen reach back to `date` (nil when the input has no times).
    public func covers(from date: Date) -> Bool? {
        guard let firstTime else { return nil }
        return firstTime <= date
    }

    /// Adds a skip of `reason`, keeping the first `SkipExample.keep` examples.
    /// `count` 0 records only the example (for sources that count and sample separately).
    public mutating func skip(_ reason: String, count: Int = 1, place: String? = nil, value: String? = nil) {
        if count > 0 {
            if let k = skipped.firstIndex(where: { $0.reason == reason }) {
                skipped[k].count += count
            } else {
                skipped.append(SkipCount(reason: reason, count: count))
            }
            skipped.sort { $0.count != $1.count ? $0.count > $1.count : $0.reason < $1.reason }
        }
        if let place, examples.count < SkipExample.keep {
            examples.append(SkipExample(place: place, reason: reason, value: value.map(SkipExample.cut)))
        }
    }
}

public struct SkipCount: Sendable, Equatable, Codable {
    public var reason: String
    public var count: Int
    public init(reason: String, count: Int) {
        self.reason = reason
        self.count = count
    }
}

public struct SkipExample: Sendable, Equatable, Codable {
    /// How many examples an input keeps.
    public static let keep = 5
    /// How many characters of the offending value are kept.
    public static let valueLength = 120
    /// `file:line`, `url responses[1]`, `file:line` of a document.
    public var place: String
    public var reason: String
    /// The offending value, cut to `valueLength` characters, control characters shown as `\u{…}`.
    public var value: String?

    public init(place: String, reason: String, value: String? = nil) {
        self.place = place
        self.reason = reason
        self.value = value
    }

    /// Cuts a value to `valueLength` characters and makes control and bidi characters visible
    /// (`\u{1B}`), so the example shows what was there without acting on a terminal or a page.
    public static func cut(_ s: String) -> String {
        var out = ""
        var n = 0
        for u in s.unicodeScalars {
            if n >= valueLength {
                out += "…"
                break
            }
            let v = u.value
            if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || v == 0x2028 || v == 0x2029
                || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) {
                out += "\\u{" + String(v, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
            n += 1
        }
        return out
    }

    /// A value from raw bytes (invalid UTF-8 replaced).
    public static func cut(bytes: UnsafeBufferPointer<UInt8>) -> String {
        cut(String(decoding: bytes.prefix(valueLength * 4), as: UTF8.self))
    }
}

/// The one-line text of a coverage, for every format: "files: audit log 2 files, 1.2 MiB, 292
/// lines, 290 parsed, 280 in the window, 280 of this environment, 2 skipped (2 not JSON)".
public enum CoverageText {
    public static func line(_ c: SourceCoverage) -> String {
        let parts = c.inputs.map(input)
        return parts.isEmpty ? "\(c.source): nothing read" : "\(c.source): " + parts.joined(separator: "; ")
    }

    public static func input(_ i: InputCoverage) -> String {
        var out: [String] = []
        if let f = i.files { out.append(plural(f, "file")) }
        if let b = i.bytes { out.append(bytes(b)) }
        if let d = i.documents { out.append(plural(d, "document")) }
        out.append("\(NumberFormat.grouped(i.read)) \(i.unit)")
        if let s = i.samples { out.append(plural(s, "sample")) }
        if let b = i.buckets { out.append(plural(b, "bucket")) }
        out.append("\(NumberFormat.grouped(i.parsed)) parsed")
        if i.invalid > 0 { out.append("\(NumberFormat.grouped(i.invalid)) invalid") }
        if let w = i.inWindow { out.append("\(NumberFormat.grouped(w)) in the window") }
        if let a = i.attributed { out.append("\(NumberFormat.grouped(a)) of this environment") }
        if i.otherEnvironment > 0 { out.append("\(NumberFormat.grouped(i.otherEnvironment)) of other environments") }
        if i.unattributed > 0 { out.append("\(NumberFormat.grouped(i.unattributed)) of no environment") }
        let skipped = i.skippedTotal
        if skipped > 0 {
            out.append("\(NumberFormat.grouped(skipped)) skipped (" + i.skipped.map { "\(NumberFormat.grouped($0.count)) \($0.reason)" }.joined(separator: ", ") + ")")
        } else {
            out.append("0 skipped")
        }
        return "\(i.name) " + out.joined(separator: ", ")
    }

    /// "first skipped: a.log:3 (not JSON: `GET / HTTP/1.1`)" pieces, one per example.
    public static func example(_ e: SkipExample) -> String {
        e.value.map { "\(e.place) (\(e.reason)): \($0)" } ?? "\(e.place) (\(e.reason))"
    }

    /// "1 file", "2 files".
    public static func plural(_ n: Int, _ noun: String, _ pluralForm: String? = nil) -> String {
        "\(NumberFormat.grouped(n)) " + (n == 1 ? noun : pluralForm ?? noun + "s")
    }

    /// "812 B", "1.2 KiB", "3.4 MiB", "1.0 GiB".
    public static func bytes(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var v = Double(n) / 1024
        var k = 0
        while v >= 1024, k < units.count - 1 {
            v /= 1024
            k += 1
        }
        return String(format: "%.1f", v) + " " + units[k]
    }
}

/// Thousands separators without a locale (ThreatModel has no renderer's `NumberText`).
public enum NumberFormat {
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out += "," }
            out.append(c)
        }
        return n < 0 ? "-" + out : out
    }
}

/// Ratios as people read them: whole percents, and "n/a" when the denominator is 0 (never a
/// misleading 0%).
public enum RatioText {
    public static let notApplicable = "n/a"

    public static func anomalous(_ w: WAFStatistics) -> String {
        w.totalRequests == 0 ? notApplicable : Percent.whole(w.anomalousRatio)
    }

    public static func dropped(_ c: FlowCounts) -> String {
        c.total == 0 ? notApplicable : Percent.whole(c.droppedRatio)
    }
}
