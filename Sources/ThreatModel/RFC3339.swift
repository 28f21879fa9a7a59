import Foundation

/// RFC 3339 formatting and parsing without locale or formatter state, so output is identical on
/// every machine and parsing is cheap.
public enum RFC3339 {
    /// `2026-11-20T00:00:00Z` for UTC, or with a `+hh:mm` offset when `offsetSeconds` is non-zero.
    public static func format(_ date: Date, offsetSeconds: Int = 0) -> String {
        // Input times are checked to lie in the years 0001–9999; a date past them (derived by
        // arithmetic) is clamped to the nearest end rather than trapping or writing a 5-digit year.
        let t = date.timeIntervalSince1970
        let clamped = t.isNaN ? 0 : Swift.min(Swift.max(t, Double(NumberLimits.earliestSeconds)), Double(NumberLimits.latestSeconds))
        let secs = Swift.min(Swift.max(Int(floor(clamped)) + offsetSeconds, NumberLimits.earliestSeconds), NumberLimits.latestSeconds)
        let c = CivilTime(epochSeconds: secs)
        var s = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year, c.month, c.day, c.hour, c.minute, c.second)
        if offsetSeconds == 0 {
            s += "Z"
        } else {
            let sign = offsetSeconds < 0 ? "-" : "+"
            let a = abs(offsetSeconds)
            s += String(format: "%@%02d:%02d", sign, a / 3600, (a % 3600) / 60)
        }
        return s
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)`. Returns nil on anything else, and on a time
    /// outside the years 0001–9999 (`NumberLimits`).
    public static func parse(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// The same, on the bytes of the text (a flow line's time, without a String in between).
    public static func parse(bytes b: UnsafeBufferPointer<UInt8>) -> Date? {
        func num(_ i: Int, _ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in i..<(i + n) {
                let d = Int(b[k]) - 48
                guard d >= 0 && d <= 9 else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard b.count >= 20,
              let y = num(0, 4), b[4] == UInt8(ascii: "-"), let mo = num(5, 2), b[7] == UInt8(ascii: "-"),
              let d = num(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t") || b[10] == UInt8(ascii: " "),
              let h = num(11, 2), b[13] == UInt8(ascii: ":"), let mi = num(14, 2), b[16] == UInt8(ascii: ":"),
              let s = num(17, 2)
        else { return nil }
        guard (1...12).contains(mo), (1...CivilTime.daysIn(month: mo, year: y)).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var frac = 0.0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                frac += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard let oh = num(i + 1, 2), b.count > i + 3, b[i + 3] == UInt8(ascii: ":"), let om = num(i + 4, 2),
                  oh < 24, om < 60 else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = CivilTime.daysFromCivil(year: y, month: mo, day: d)
        let epoch = days * 86400 + h * 3600 + mi * 60 + s - offset
        // Years 0001–9999 only (an offset can move 0001-01-01T00:00 or 9999-12-31T23:59 past them).
        guard (NumberLimits.earliestSeconds...NumberLimits.latestSeconds).contains(epoch) else { return nil }
        return Date(timeIntervalSince1970: Double(epoch) + frac)
    }
}

/// Calendar arithmetic on the proleptic Gregorian calendar (Howard Hinnant's algorithms).
public struct CivilTime: Sendable, Equatable {
    public var year, month, day, hour, minute, second: Int

    public init(epochSeconds: Int) {
        let days = Int(floor(Double(epochSeconds) / 86400))
        let rem = epochSeconds - days * 86400
        let (y, m, d) = CivilTime.civilFromDays(days)
        year = y; month = m; day = d
        hour = rem / 3600; minute = (rem % 3600) / 60; second = rem % 60
    }

    /// Days from 1970-01-01 to the civil date (proleptic Gregorian), Howard Hinnant's algorithm.
    /// Inlinable: the log parsers call it for every line.
    @inlinable
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    public static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
