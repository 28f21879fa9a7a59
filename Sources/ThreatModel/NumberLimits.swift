import Foundation

/// The ranges every number from outside must fall in (docs/limits.md, "Numbers"). Engines,
/// recordings, log lines and the environment are checked against them where they are decoded, so
/// nothing past the decoder can overflow: a count is at most 2^53, and a sum of counts is checked
/// against the same bound before it is kept. Past a bound the value is refused with an error that
/// names its place, never a trap.
public enum NumberLimits {
    /// The largest count accepted (2^53: the integers a Double holds exactly). Any sum of up to
    /// 1024 such counts fits in an Int, and every kept sum is checked against this bound too.
    public static let maxCount = 1 << 53
    /// 0001-01-01T00:00:00Z, the first second an RFC 3339 time can write.
    public static let earliestSeconds = -62_135_596_800
    /// 9999-12-31T23:59:59Z, the last.
    public static let latestSeconds = 253_402_300_799

    /// Whether `seconds` since 1970 falls in the years 0001–9999.
    public static func isSupportedTime(_ seconds: Double) -> Bool {
        seconds.isFinite && seconds >= Double(earliestSeconds) && seconds < Double(latestSeconds) + 1
    }

    public static func isSupportedTime(_ date: Date) -> Bool { isSupportedTime(date.timeIntervalSince1970) }

    /// Whether `n` is a count this program accepts: 0…2^53.
    public static func isCount(_ n: Int) -> Bool { n >= 0 && n <= maxCount }

    /// The sum of `values`, or nil when a value is not a count or the sum passes 2^53
    /// (overflow-checked: it never traps, whatever the values).
    public static func checkedSum<S: Sequence>(_ values: S) -> Int? where S.Element == Int {
        var total = 0
        for v in values {
            guard isCount(v) else { return nil }
            let (s, overflow) = total.addingReportingOverflow(v)
            guard !overflow, s <= maxCount else { return nil }
            total = s
        }
        return total
    }

    /// `a + b` for counts, clamped to 2^53 instead of trapping (for figures derived from checked
    /// counts, where a clamp cannot change what is shown).
    public static func clampedAdd(_ a: Int, _ b: Int) -> Int {
        let (s, overflow) = a.addingReportingOverflow(b)
        return overflow ? (a < 0 ? Int.min : maxCount) : Swift.min(s, maxCount)
    }
}

/// A number from outside the accepted range (a count past 2^53 or below 0, a sum of counts past
/// 2^53, a time outside the years 0001–9999): what it is and its value, as text for the report.
public struct NumberRangeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var what: String
    public var value: String
    public init(what: String, value: String) {
        self.what = what
        self.value = value
    }
    public var description: String { "value out of range: \(what) is \(value)" }

    /// "counts are 0…9007199254740992" or "times are within the years 0001–9999".
    public static func count(_ what: String, _ value: CustomStringConvertible) -> NumberRangeError {
        NumberRangeError(what: what, value: "\(value) (counts must be 0…\(NumberLimits.maxCount))")
    }

    public static func time(_ what: String, _ seconds: Double) -> NumberRangeError {
        NumberRangeError(what: what, value: "\(seconds) seconds since 1970 (times must be within the years 0001–9999)")
    }

    public static func sum(_ what: String) -> NumberRangeError {
        NumberRangeError(what: "the sum of \(what)", value: "past \(NumberLimits.maxCount), the largest count accepted")
    }
}

extension WAFStatistics {
    /// The first number out of range, or nil: every count 0…2^53, every list's sum (and each
    /// history's sum) at most 2^53, every history time within the years 0001–9999. Every source's
    /// answer passes this check before the report uses it.
    public func rangeProblem() -> NumberRangeError? {
        let counts: [(String, Int?)] = [("total requests", totalRequests), ("anomalous requests", anomalousRequests),
                                        ("blocked requests", blockedRequests), ("detection-only requests", detectionOnlyRequests),
                                        ("critical attack requests", criticalAttackRequests), ("skipped lines", skippedLines)]
        for case let (what, n?) in counts where !NumberLimits.isCount(n) { return .count(what, n) }
        let lists: [(String, [RankedCount])] = [("top rules", topRules), ("top clients", topClients), ("top URIs", topURIs),
                                                ("engine modes", engineModes), ("categories", categories),
                                                ("anomaly scores", anomalyScores)]
        for (what, list) in lists {
            if let bad = list.first(where: { !NumberLimits.isCount($0.count) }) { return .count("\(what) count", bad.count) }
            if NumberLimits.checkedSum(list.map(\.count)) == nil { return .sum(what) }
        }
        for (what, series) in [("request history", totalHistory), ("anomalous history", anomalousHistory)] {
            if let bad = series.first(where: { !NumberLimits.isCount($0.value) }) { return .count("\(what) count", bad.value) }
            if let bad = series.first(where: { !NumberLimits.isSupportedTime($0.time) }) {
                return .time("\(what) time", bad.time.timeIntervalSince1970)
            }
            if NumberLimits.checkedSum(series.map(\.value)) == nil { return .sum(what) }
        }
        return nil
    }
}

extension FlowStatistics {
    /// The first number out of range, or nil (as `WAFStatistics.rangeProblem`); rates are doubles
    /// and may be NaN (a gap), but their times must be within the years 0001–9999.
    public func rangeProblem() -> NumberRangeError? {
        for (what, c) in [("flows", counts), ("inbound flows", inbound), ("outbound flows", outbound)] {
            let verdicts = [("forwarded", c.forwarded), ("dropped", c.dropped), ("redirected", c.redirected), ("audit", c.audit),
                            ("traced", c.traced), ("error", c.error), ("other", c.other)]
            for (verdict, n) in verdicts where !NumberLimits.isCount(n) { return .count("\(what) \(verdict)", n) }
            if NumberLimits.checkedSum(verdicts.map(\.1)) == nil { return .sum("\(what) over every verdict") }
        }
        for (what, list) in [("drop reasons", topDropReasons), ("dropped pairs", topDroppedPairs)] {
            if let bad = list.first(where: { !NumberLimits.isCount($0.count) }) { return .count("\(what) count", bad.count) }
            if NumberLimits.checkedSum(list.map(\.count)) == nil { return .sum(what) }
        }
        for (what, series) in [("forwarded rate", forwardedRate), ("dropped rate", droppedRate)] {
            if let bad = series.first(where: { !NumberLimits.isSupportedTime($0.time) }) {
                return .time("\(what) time", bad.time.timeIntervalSince1970)
            }
            if let bad = series.first(where: { $0.value.isInfinite || $0.value > Double(NumberLimits.maxCount) }) {
                return NumberRangeError(what: "\(what) value", value: "\(bad.value) (rates must be at most \(NumberLimits.maxCount))")
            }
        }
        return nil
    }
}
