import Foundation
import Testing
import ThreatModel
@testable import ThreatCharts

@Suite struct AxisTests {
    @Test(arguments: [
        (0.0, "0"), (5, "5"), (12.5, "12.5"), (950, "950"), (999, "999"), (1000, "1k"), (1500, "1.5k"),
        (12_000, "12k"), (12_500, "12.5k"), (999_999, "1M"), (1_000_000, "1M"), (2_500_000, "2.5M"),
        (1e9, "1G"), (0.2, "0.2"), (0.6000000000000001, "0.6"), (0.001, "0.001"), (-1500, "-1.5k"),
        (999.6, "1k"), (1.25, "1.25"),
    ])
    func compactLabels(value: Double, label: String) {
        #expect(AxisLabels.compact(value) == label)
    }

    @Test func compactHasNoTrailingZeroFraction() {
        for v in stride(from: 0.0, through: 5_000_000, by: 12_500) {
            let number = AxisLabels.compact(v).trimmingCharacters(in: .letters)
            if number.contains(".") { #expect(!number.hasSuffix("0") && !number.hasSuffix("."), "\(v) → \(number)") }
        }
    }

    @Test("Axis extremes: a subnormal (5e-324), zero, one value and huge maxima give finite, rising ticks and labels; no trap")
    func niceTicksExtremes() {
        // 5e-324 / 5 is 0 and log10(0) is -∞: the axis used to trap (Int(-∞)).
        #expect(AxisLabels.niceTicks(max: 5e-324) == AxisLabels.niceTicks(max: 1e-6))
        #expect(AxisLabels.niceTicks(max: .leastNormalMagnitude) == AxisLabels.niceTicks(max: 1e-6))
        for m in [5e-324, 1e-300, 1e-7, 0, 1, 9_007_199_254_740_992, 1e300, 1.7976931348623157e308, .infinity] {
            let t = AxisLabels.niceTicks(max: m)
            #expect(t.count >= 2 && t.allSatisfy(\.isFinite), "\(m): \(t)")
            #expect(zip(t, t.dropFirst()).allSatisfy { $0 < $1 }, "\(m): \(t)")
            #expect(t.map(AxisLabels.compact).allSatisfy { !$0.isEmpty && $0.count < 12 }, "\(m): \(t.map(AxisLabels.compact))")
        }
        #expect(AxisLabels.compact(5e-324) == "0")
        #expect(AxisLabels.compact(1e300) == "1e+285P")
    }

    @Test func niceTicks() {
        #expect(AxisLabels.niceTicks(max: 950) == [0, 200, 400, 600, 800, 1000])
        #expect(AxisLabels.niceTicks(max: 4800) == [0, 1000, 2000, 3000, 4000, 5000])
        #expect(AxisLabels.niceTicks(max: 10) == [0, 2, 4, 6, 8, 10])
        #expect(AxisLabels.niceTicks(max: 3) == [0, 1, 2, 3])
        #expect(AxisLabels.niceTicks(max: 1) == [0, 0.2, 0.4, 0.6, 0.8, 1])
        #expect(AxisLabels.niceTicks(max: 12, count: 5) == [0, 2.5, 5, 7.5, 10, 12.5])
        #expect(AxisLabels.niceTicks(max: 0) == AxisLabels.niceTicks(max: 1))
        #expect(AxisLabels.niceTicks(max: .nan) == AxisLabels.niceTicks(max: 1))
        for m in [0.37, 7.0, 42.0, 999.0, 123_456.0, 9.9e9] {
            let t = AxisLabels.niceTicks(max: m, count: 4)
            #expect(t.first == 0)
            #expect(t.last! >= m)
            #expect(t.count <= 6, "\(m): \(t)")
            let step = t[1] - t[0]
            let mantissa = step / pow(10, (log10(step)).rounded(.down))
            #expect([1, 2, 2.5, 5].contains { abs($0 - mantissa) < 1e-9 }, "\(m): step \(step)")
        }
    }

    @Test func hourTicksInUTCForADay() {
        let ticks = AxisLabels.timeTicks(window: dayWindow, timeZone: utc, maxTicks: 25)
        #expect(ticks.count == 25)
        #expect(ticks.first?.0 == nov19)
        #expect(ticks.last?.0 == dayWindow.to)
        #expect(zip(ticks, ticks.dropFirst()).allSatisfy { $1.0.timeIntervalSince($0.0) == 3600 })
        #expect(ticks[0].1 == "Nov 19 00:00")
        #expect(ticks[1].1 == "01:00")
        #expect(ticks[14].1 == "14:00")
        #expect(ticks[24].1 == "Nov 20 00:00")
    }

    @Test func fewerTicksGiveWiderWholeHourSteps() {
        let ticks = AxisLabels.timeTicks(window: dayWindow, timeZone: utc, maxTicks: 9)
        #expect(ticks.map(\.1) == ["Nov 19 00:00", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00",
                                   "Nov 20 00:00"])
    }

    @Test func ticksAreAlignedInTheTimeZone() {
        let hourly = AxisLabels.timeTicks(window: dayWindow, timeZone: berlin, maxTicks: 25)
        #expect(hourly.count == 25)
        #expect(hourly.first?.0 == nov19)  // 00:00Z is 01:00 in Berlin (CET, UTC+1)
        #expect(hourly[0].1 == "Nov 19 01:00")
        #expect(hourly[1].1 == "02:00")
        #expect(hourly[23].1 == "Nov 20 00:00")
        #expect(hourly[23].0 == nov19.addingTimeInterval(23 * 3600))
        #expect(hourly[24].1 == "01:00")

        let threeHourly = AxisLabels.timeTicks(window: dayWindow, timeZone: berlin, maxTicks: 9)
        #expect(threeHourly.first?.0 == nov19.addingTimeInterval(2 * 3600))  // 03:00 local
        #expect(threeHourly.map(\.1).prefix(3) == ["Nov 19 03:00", "06:00", "09:00"])
        #expect(AxisLabels.zoneLabel(window: dayWindow, timeZone: berlin) == "UTC+01:00")
        #expect(AxisLabels.zoneLabel(window: dayWindow, timeZone: utc) == "UTC")
        let india = TimeZone(identifier: "Asia/Kolkata")!
        #expect(AxisLabels.zoneLabel(window: dayWindow, timeZone: india) == "UTC+05:30")
        #expect(AxisLabels.timeTicks(window: dayWindow, timeZone: india, maxTicks: 25).first?.1 == "Nov 19 06:00")
    }

    @Test func daylightSavingChangeKeepsWallClockLabels() {
        // Berlin leaves summer time on 2026-10-25 at 03:00 CEST → 02:00 CET.
        let from = Date(timeIntervalSince1970: 1_792_879_200)  // 2026-10-24T22:00Z = Oct 25 00:00 CEST
        let window = TimeWindow(from: from, to: from.addingTimeInterval(25 * 3600), interval: .hour)
        let ticks = AxisLabels.timeTicks(window: window, timeZone: berlin, maxTicks: 9)
        #expect(ticks.first?.1 == "Oct 25 00:00")
        #expect(ticks.dropFirst().allSatisfy { ["03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00", "Oct 26 00:00"].contains($0.1) })
        #expect(AxisLabels.zoneLabel(window: window, timeZone: berlin) == "UTC+02:00/+01:00")
    }

    @Test func shortAndLongWindows() {
        let hour = TimeWindow(from: nov19.addingTimeInterval(36000), to: nov19.addingTimeInterval(39600), interval: .minute)
        let minutes = AxisLabels.timeTicks(window: hour, timeZone: utc, maxTicks: 8)
        #expect(minutes.map(\.1) == ["10:00", "10:10", "10:20", "10:30", "10:40", "10:50", "11:00"])

        let week = TimeWindow(from: nov19, to: nov19.addingTimeInterval(7 * 86400), interval: .day)
        #expect(AxisLabels.timeTicks(window: week, timeZone: utc, maxTicks: 10).map(\.1)
            == ["Nov 19", "Nov 20", "Nov 21", "Nov 22", "Nov 23", "Nov 24", "Nov 25", "Nov 26"])
        let month = TimeWindow(from: nov19, to: nov19.addingTimeInterval(30 * 86400), interval: .day)
        let monthTicks = AxisLabels.timeTicks(window: month, timeZone: utc, maxTicks: 9)
        #expect(monthTicks.count <= 9 && monthTicks.first?.1 == "Nov 19" && monthTicks.last?.1 == "Dec 17")
        let year = TimeWindow(from: nov19, to: nov19.addingTimeInterval(365 * 86400), interval: .day)
        let yearTicks = AxisLabels.timeTicks(window: year, timeZone: utc, maxTicks: 8)
        // A year-long axis names the year: the first month tick and the first of each new year.
        #expect(yearTicks.count <= 8 && yearTicks.first?.1 == "Jan 2027")
        #expect(yearTicks.dropFirst().allSatisfy { !$0.1.contains("20") })

        let zero = TimeWindow(from: nov19, to: nov19, interval: .hour)
        #expect(AxisLabels.timeTicks(window: zero, timeZone: utc, maxTicks: 5).map(\.1) == ["00:00"])
    }

    @Test("Multi-year axis: a window across a year boundary names the year on the first tick and at the new year")
    func multiYearAxis() {
        let dec = RFC3339.parse("2026-12-20T00:00:00Z")!
        let twoWeeks = TimeWindow(from: dec, to: dec.addingTimeInterval(21 * 86400), interval: .day)
        let days = AxisLabels.timeTicks(window: twoWeeks, timeZone: utc, maxTicks: 12).map(\.1)
        #expect(days.first == "Dec 20 2026")
        #expect(days.contains { $0.hasPrefix("Jan") && $0.hasSuffix(" 2027") })
        #expect(days.filter { $0.contains(" 20") }.count == 2, "the year only where it changes: \(days)")
        let newYearsEve = RFC3339.parse("2026-12-31T12:00:00Z")!
        let night = TimeWindow(from: newYearsEve, to: newYearsEve.addingTimeInterval(86400), interval: .hour)
        let hours = AxisLabels.timeTicks(window: night, timeZone: utc, maxTicks: 9).map(\.1)
        #expect(hours.first == "Dec 31 2026 12:00" && hours.contains("Jan 1 2027 00:00"))
        let twoYears = TimeWindow(from: dec, to: dec.addingTimeInterval(730 * 86400), interval: .day)
        let months = AxisLabels.timeTicks(window: twoYears, timeZone: utc, maxTicks: 8).map(\.1)
        #expect(months.contains("Jan 2027") || months.first?.hasSuffix("2027") == true)
        #expect(months.contains { $0.hasSuffix("2028") })
    }
}
