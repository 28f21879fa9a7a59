import Foundation
import ThreatModel

/// The time formats WAF logs use, parsed from bytes to Unix seconds without Foundation's date
/// formatters (which cost microseconds a line):
///
/// - NGINX `$time_local` and ModSecurity v2 / Coraza `transaction.time(stamp)`:
///   `21/Nov/2026:20:11:55 +0100`, optionally with a fraction (`:55.123456`);
/// - ModSecurity v3 `time_stamp`, C `ctime` without a zone: `Sat Nov 21 20:11:55 2026`, the day
///   space-padded (`Sun Nov  1 …`). Its zone comes from the configuration (`audit_log_timezone`).
enum LogTime {
    /// Days from 1970-01-01 to the civil date (proleptic Gregorian).
    @inline(__always)
    static func days(year: Int, month: Int, day: Int) -> Int { CivilTime.daysFromCivil(year: year, month: month, day: day) }

    /// `Jan`…`Dec` (case-insensitive) to 1…12, or nil.
    @inline(__always)
    static func month(_ a: UInt8, _ b: UInt8, _ c: UInt8) -> Int? {
        switch (a | 0x20, b | 0x20, c | 0x20) {
        case (0x6A, 0x61, 0x6E): 1   // jan
        case (0x66, 0x65, 0x62): 2   // feb
        case (0x6D, 0x61, 0x72): 3   // mar
        case (0x61, 0x70, 0x72): 4   // apr
        case (0x6D, 0x61, 0x79): 5   // may
        case (0x6A, 0x75, 0x6E): 6   // jun
        case (0x6A, 0x75, 0x6C): 7   // jul
        case (0x61, 0x75, 0x67): 8   // aug
        case (0x73, 0x65, 0x70): 9   // sep
        case (0x6F, 0x63, 0x74): 10  // oct
        case (0x6E, 0x6F, 0x76): 11  // nov
        case (0x64, 0x65, 0x63): 12  // dec
        default: nil
        }
    }

    @inline(__always)
    static func digits(_ p: UnsafeBufferPointer<UInt8>, _ at: Int, _ count: Int) -> Int? {
        guard at >= 0, at + count <= p.count else { return nil }
        var v = 0
        for k in at..<(at + count) {
            let c = p[k] &- 0x30
            guard c < 10 else { return nil }
            v = v * 10 + Int(c)
        }
        return v
    }

    static func valid(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Bool {
        (1970...9999).contains(year) && (1...31).contains(day) && hour < 24 && minute < 60 && second <= 60
            && day <= daysIn(month: month, year: year)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// `dd/Mon/yyyy:HH:mm:ss[.frac] ±hhmm` → Unix seconds (the fraction is dropped, as buckets are
    /// at least a minute wide).
    static func parseCommonLog(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        guard p.count >= 26, p[2] == 0x2F, p[6] == 0x2F, p[11] == 0x3A, p[14] == 0x3A, p[17] == 0x3A,
              let d = digits(p, 0, 2), let mon = month(p[3], p[4], p[5]), let y = digits(p, 7, 4),
              let h = digits(p, 12, 2), let mi = digits(p, 15, 2), let s = digits(p, 18, 2) else { return nil }
        var i = 20
        if p[i] == 0x2E {  // fraction
            i += 1
            while i < p.count, p[i] &- 0x30 < 10 { i += 1 }
        }
        guard i + 6 <= p.count, p[i] == 0x20, p[i + 1] == 0x2B || p[i + 1] == 0x2D else { return nil }
        // ModSecurity 2.9 prints a negative offset with two signs (`--0400`): read it as `-0400`.
        if p[i + 1] == 0x2D, i + 7 <= p.count, p[i + 2] == 0x2D { i += 1 }
        guard let zh = digits(p, i + 2, 2), let zm = digits(p, i + 4, 2), zm < 60,
              valid(year: y, month: mon, day: d, hour: h, minute: mi, second: s) else { return nil }
        let offset = (zh * 3600 + zm * 60) * (p[i + 1] == 0x2D ? -1 : 1)
        return days(year: y, month: mon, day: d) * 86400 + h * 3600 + mi * 60 + s - offset
    }

    /// NGINX `$time_iso8601`: `2026-11-21T20:11:55+01:00` (also `Z`, and a fraction) → Unix seconds.
    static func parseISO8601(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        guard p.count >= 20, p[4] == 0x2D, p[7] == 0x2D, p[10] == 0x54 || p[10] == 0x20, p[13] == 0x3A, p[16] == 0x3A,
              let y = digits(p, 0, 4), let mon = digits(p, 5, 2), (1...12).contains(mon), let d = digits(p, 8, 2),
              let h = digits(p, 11, 2), let mi = digits(p, 14, 2), let s = digits(p, 17, 2),
              valid(year: y, month: mon, day: d, hour: h, minute: mi, second: s) else { return nil }
        var i = 19
        if i < p.count, p[i] == 0x2E {
            i += 1
            while i < p.count, p[i] &- 0x30 < 10 { i += 1 }
        }
        var offset = 0
        if i + 1 == p.count, p[i] == 0x5A || p[i] == 0x7A {
            offset = 0
        } else {
            guard i + 6 == p.count || i + 5 == p.count, p[i] == 0x2B || p[i] == 0x2D, let zh = digits(p, i + 1, 2) else { return nil }
            let mAt = p[i + 3] == 0x3A ? i + 4 : i + 3
            guard mAt + 2 == p.count, let zm = digits(p, mAt, 2), zm < 60 else { return nil }
            offset = (zh * 3600 + zm * 60) * (p[i] == 0x2D ? -1 : 1)
        }
        return days(year: y, month: mon, day: d) * 86400 + h * 3600 + mi * 60 + s - offset
    }

    /// NGINX `$msec`: `1700000000.123` (seconds with milliseconds) → Unix seconds.
    static func parseEpoch(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        var i = 0, v = 0
        while i < p.count, p[i] &- 0x30 < 10, i < 12 {
            v = v * 10 + Int(p[i] &- 0x30)
            i += 1
        }
        guard i > 0, v >= 0 else { return nil }
        if i < p.count {
            guard p[i] == 0x2E else { return nil }
            i += 1
            while i < p.count, p[i] &- 0x30 < 10 { i += 1 }
            guard i == p.count else { return nil }
        }
        return v
    }

    /// `Www Mmm dd HH:mm:ss yyyy` (ctime; `dd` may be space-padded) → seconds as if the wall time
    /// were UTC. `LocalTimeZone.utc(fromWall:)` then applies the configured zone.
    static func parseCtimeWall(_ p: UnsafeBufferPointer<UInt8>) -> Int? {
        // "Sat Nov 21 20:11:55 2026" and "Sun Nov  1 03:04:05 2026" are 24 bytes; be lenient on
        // runs of spaces between fields.
        var fields: [(Int, Int)] = []
        fields.reserveCapacity(5)
        var i = 0
        while i < p.count, fields.count < 6 {
            while i < p.count, p[i] == 0x20 { i += 1 }
            let s = i
            while i < p.count, p[i] != 0x20 { i += 1 }
            if i > s { fields.append((s, i)) }
        }
        guard fields.count == 5, fields[1].1 - fields[1].0 == 3, fields[3].1 - fields[3].0 == 8,
              let mon = month(p[fields[1].0], p[fields[1].0 + 1], p[fields[1].0 + 2]) else { return nil }
        let dayLen = fields[2].1 - fields[2].0
        let t = fields[3].0
        guard (1...2).contains(dayLen), let d = digits(p, fields[2].0, dayLen),
              p[t + 2] == 0x3A, p[t + 5] == 0x3A,
              let h = digits(p, t, 2), let mi = digits(p, t + 3, 2), let s = digits(p, t + 6, 2),
              fields[4].1 - fields[4].0 == 4, let y = digits(p, fields[4].0, 4),
              valid(year: y, month: mon, day: d, hour: h, minute: mi, second: s) else { return nil }
        return days(year: y, month: mon, day: d) * 86400 + h * 3600 + mi * 60 + s
    }
}

/// A zone's wall-clock to UTC conversion, cached per wall-clock hour (offsets change on the hour
/// or half hour at most, and never within one of the hours a log spans).
struct LocalTimeZone {
    let zone: TimeZone
    private var cacheHour = Int.min
    private var cacheOffset = 0
    private let isUTC: Bool

    init(_ zone: TimeZone) {
        self.zone = zone
        isUTC = zone.secondsFromGMT() == 0 && zone.nextDaylightSavingTimeTransition == nil
    }

    /// UTC seconds for a wall-clock time in this zone. In the repeated hour of a DST change the
    /// earlier (daylight) reading is taken; in the skipped hour, the offset before the change.
    mutating func utc(fromWall wall: Int) -> Int {
        if isUTC { return wall }
        let hour = wall >= 0 ? wall / 1800 : (wall - 1799) / 1800
        if hour != cacheHour {
            func offset(at t: Int) -> Int { zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(t))) }
            let before = offset(at: wall - 86400)
            let candidates = Set([before, offset(at: wall), offset(at: wall + 86400)]).sorted(by: >)
            cacheOffset = candidates.first { offset(at: wall - $0) == $0 } ?? before
            cacheHour = hour
        }
        return wall - cacheOffset
    }
}
