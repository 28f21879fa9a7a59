import Foundation
import ThreatModel

/// Axis tick values and their labels. Everything here is deterministic: no `Locale.current`, no
/// `DateFormatter`; month names are English (en_US_POSIX style).
public enum AxisLabels {
    private static let units = ["", "k", "M", "G", "T", "P"]

    /// Short label for an axis or bar value: 0, 5, 12.5, 950, 1k, 1.5k, 12k, 1M, 2.5M, 1G.
    /// Up to three significant figures, never a trailing ".0"; 999.6 becomes "1k".
    public static func compact(_ v: Double) -> String {
        guard v.isFinite else { return v.isNaN ? "NaN" : (v > 0 ? "∞" : "-∞") }
        let sign = v < 0 ? "-" : ""
        var s = abs(v)
        var unit = 0
        while s >= 1000, unit < units.count - 1 { s /= 1000; unit += 1 }
        while true {
            let decimals: Int
            if s >= 100 { decimals = 0 } else if s >= 10 { decimals = 1 } else if s >= 1 { decimals = 2 } else {
                decimals = s == 0 ? 0 : min(6, max(2, Int(-log10(s).rounded(.down)) + 2))
            }
            let scale = pow(10, Double(decimals))
            let scaled = (s * scale).rounded()
            if scaled / scale >= 1000, unit < units.count - 1 {
                s /= 1000
                unit += 1
                continue
            }
            if scaled == 0 { return "0" }
            return sign + fixed(scaled, decimals: decimals) + units[unit]
        }
    }

    /// `scaled / 10^decimals` written out with trailing zeros (and a bare ".") removed.
    private static func fixed(_ scaled: Double, decimals: Int) -> String {
        guard scaled < 9e15 else { return String(format: "%.3g", scaled) }
        let n = Int64(scaled)
        var m: Int64 = 1
        for _ in 0..<decimals { m *= 10 }
        var frac = String(n % m)
        frac = String(repeating: "0", count: max(0, decimals - frac.count)) + frac
        while frac.last == "0" { frac.removeLast() }
        return decimals == 0 || frac.isEmpty ? String(n / m) : "\(n / m).\(frac)"
    }

    /// Tick values 0, step, 2·step, … up to the first multiple of step at or above `max`, with
    /// step a 1, 2, 2.5 or 5 × 10ⁿ chosen so there are at most about `count` intervals.
    /// A non-positive or non-finite `max` is treated as 1; a `max` below 1e-6 (a subnormal such as
    /// 5e-324, whose fifth is 0 and whose log10 is -∞) as 1e-6, the finest step a label shows; one
    /// above 1e300 as 1e300, so no tick overflows to ∞.
    public static func niceTicks(max: Double, count: Int = 5) -> [Double] {
        let top = max.isFinite && max > 0 ? Swift.min(Swift.max(max, 1e-6), 1e300) : 1
        let raw = top / Double(Swift.max(1, count))
        let exponent = Int(log10(raw).rounded(.down))
        let magnitude = pow(10, Double(exponent))
        let mantissa = [1, 2, 2.5, 5, 10].first { $0 * magnitude >= raw * (1 - 1e-12) } ?? 10
        let step = mantissa * magnitude
        let intervals = Swift.max(1, Int((top / step * (1 - 1e-12)).rounded(.up)))
        // i · mantissa / 10^-n instead of i · step keeps 0.6 from coming out as 0.6000000000000001.
        return (0...intervals).map { i in
            exponent < 0 ? Double(i) * mantissa / pow(10, Double(-exponent)) : Double(i) * step
        }
    }

    /// Time-axis ticks for `window`, at most `maxTicks` of them, on whole minutes, hours, days or
    /// months of the wall clock in `timeZone`. Labels are "HH:mm" when ticks are less than a day
    /// apart and "MMM d" (e.g. "Nov 19") otherwise. When the window crosses midnight in
    /// `timeZone`, the first tick and every midnight carry the date as well: "Nov 19 00:00".
    /// When the window crosses a year boundary or is long (over 180 days), the first dated tick and
    /// every tick in a new year carry the year too ("Dec 28 2026", "Jan 4 2027"); month ticks read
    /// "Nov 2026", "Jan 2027", "Mar".
    public static func timeTicks(window: TimeWindow, timeZone: TimeZone, maxTicks: Int) -> [(Date, String)] {
        ticks(window: window, timeZone: timeZone, maxTicks: maxTicks).map { ($0.date, $0.label) }
    }

    /// A tick with its label split in the time of day and the date, as the chart draws them.
    struct TimeTick: Equatable {
        var date: Date
        var time: String?
        var day: String?
        var label: String { [day, time].compactMap { $0 }.joined(separator: " ") }
    }

    private static let subDaySteps = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200]
    private static let daySteps = [1, 2, 7, 14]
    private static let monthSteps = [1, 2, 3, 6, 12]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func ticks(window: TimeWindow, timeZone: TimeZone, maxTicks: Int) -> [TimeTick] {
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = timeZone
        let from = window.from, to = max(window.from, window.to)
        let span = to.timeIntervalSince(from)
        let limit = max(1, maxTicks)
        let crossesMidnight = cal.startOfDay(for: from) != cal.startOfDay(for: to)
        let showYear = cal.component(.year, from: from) != cal.component(.year, from: to) || span > 180 * 86400
        func year(_ d: Date) -> Int { cal.component(.year, from: d) }
        /// The year for the first dated tick and for a tick in another year than the dated tick before it.
        var lastYear: Int?
        func withYear(_ label: String, _ d: Date) -> String {
            guard showYear else { return label }
            let y = year(d)
            defer { lastYear = y }
            return lastYear == y ? label : "\(label) \(y)"
        }

        func hhmm(_ d: Date) -> String {
            let c = cal.dateComponents([.hour, .minute], from: d)
            return two(c.hour ?? 0) + ":" + two(c.minute ?? 0)
        }
        func day(_ d: Date) -> String {
            let c = cal.dateComponents([.month, .day], from: d)
            return "\(months[((c.month ?? 1) - 1) % 12]) \(c.day ?? 1)"
        }

        if let step = subDaySteps.first(where: { Int(span) / $0 + 1 <= limit }) {
            var dates = subDayDates(step: step, from: from, to: to, calendar: cal)
            if dates.isEmpty { dates = [from] }  // less than a minute wide
            return dates.enumerated().map { i, d in
                let time = hhmm(d)
                let dated = crossesMidnight && (i == 0 || time == "00:00")
                return TimeTick(date: d, time: time, day: dated ? withYear(day(d), d) : nil)
            }
        }

        var dates: [Date]
        var monthly = false
        let days = span / 86400
        if let n = daySteps.first(where: { Int(days) / $0 + 1 <= limit }) {
            dates = dayDates(every: n, from: from, to: to, calendar: cal)
        } else {
            monthly = true
            let n = monthSteps.first(where: { Int(days / 30.44) / $0 + 1 <= limit }) ?? 12 * Int((days / 365.25 / Double(limit)).rounded(.up))
            dates = monthDates(every: n, from: from, to: to, calendar: cal)
        }
        if dates.isEmpty { dates = [from] }
        if monthly {
            return dates.map { d in
                let name = months[(cal.component(.month, from: d) - 1) % 12]
                let y = year(d)
                defer { lastYear = y }
                return TimeTick(date: d, time: nil, day: lastYear == y ? name : "\(name) \(y)")
            }
        }
        return dates.map { TimeTick(date: $0, time: nil, day: withYear(day($0), $0)) }
    }

    /// Wall-clock times every `step` seconds from each midnight in [`from`, `to`], in the
    /// calendar's time zone (a tick stays on the wall clock when the UTC offset changes that day).
    private static func subDayDates(step: Int, from: Date, to: Date, calendar cal: Calendar) -> [Date] {
        var dates: [Date] = []
        var midnight = cal.startOfDay(for: from)
        while midnight <= to {
            let offset = cal.timeZone.secondsFromGMT(for: midnight)
            for k in 0..<(86400 / step) {
                // Wall-clock k·step after midnight, corrected when the UTC offset changed since.
                let naive = midnight.addingTimeInterval(Double(k * step))
                let t = naive.addingTimeInterval(Double(offset - cal.timeZone.secondsFromGMT(for: naive)))
                if t >= from, t <= to, dates.last.map({ t > $0 }) ?? true { dates.append(t) }
            }
            guard let next = cal.date(byAdding: .day, value: 1, to: midnight) else { break }
            midnight = next
        }
        return dates
    }

    /// Every `n`th midnight in [`from`, `to`], from the first one at or after `from`.
    private static func dayDates(every n: Int, from: Date, to: Date, calendar cal: Calendar) -> [Date] {
        var dates: [Date] = []
        var d = cal.startOfDay(for: from)
        if d < from, let next = cal.date(byAdding: .day, value: 1, to: d) { d = next }
        while d <= to {
            dates.append(d)
            guard let next = cal.date(byAdding: .day, value: n, to: d) else { break }
            d = next
        }
        return dates
    }

    /// The first day of every month in [`from`, `to`] whose number is a multiple of `n` after
    /// January (at most 10,000 months are looked at).
    private static func monthDates(every n: Int, from: Date, to: Date, calendar cal: Calendar) -> [Date] {
        var dates: [Date] = []
        var c = cal.dateComponents([.year, .month], from: from)
        c.day = 1
        var d = cal.date(from: c) ?? from
        var guardCount = 0
        while d <= to, guardCount < 10_000 {
            guardCount += 1
            let month = cal.component(.month, from: d)
            if d >= from, (month - 1) % min(n, 12) == 0 { dates.append(d) }
            guard let next = cal.date(byAdding: .month, value: 1, to: d) else { break }
            d = next
        }
        return dates
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// "UTC" or the zone's UTC offset in the window ("UTC+01:00"; "UTC+02:00/+01:00" when
    /// daylight saving time starts or ends inside the window).
    static func zoneLabel(window: TimeWindow, timeZone: TimeZone) -> String {
        func offset(_ seconds: Int) -> String {
            let m = abs(seconds) / 60
            return (seconds < 0 ? "-" : "+") + two(m / 60) + ":" + two(m % 60)
        }
        let a = timeZone.secondsFromGMT(for: window.from)
        let b = timeZone.secondsFromGMT(for: max(window.from, window.to))
        if a == b { return a == 0 ? "UTC" : "UTC" + offset(a) }
        return "UTC" + offset(a) + "/" + offset(b)
    }
}
