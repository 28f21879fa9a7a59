import Foundation

/// Bucket width of the report's time series. GitLab's UI used minute buckets for 30m, hour for
/// 3h–3d and day for 7d and 30d; `auto` in the config reproduces that mapping.
public enum Interval: String, Codable, Sendable, CaseIterable {
    case minute, hour, day

    public var seconds: Int {
        switch self {
        case .minute: 60
        case .hour: 3600
        case .day: 86400
        }
    }

    /// The interval GitLab's Threat Monitoring page used for a window of this length:
    /// minute up to 1h, hour up to 3d, day beyond.
    public static func automatic(forWindowSeconds seconds: Int) -> Interval {
        if seconds <= 3600 { return .minute }
        if seconds <= 3 * 86400 { return .hour }
        return .day
    }

    /// The PromQL range used for `rate()` at this interval (GitLab: 5m, 1h, 1d).
    public var promRateRange: String {
        switch self {
        case .minute: "5m"
        case .hour: "1h"
        case .day: "1d"
        }
    }
}

/// The closed time window [from, to] a report covers. All data is handled in UTC.
public struct TimeWindow: Codable, Sendable, Equatable {
    public var from: Date
    public var to: Date
    public var interval: Interval

    public init(from: Date, to: Date, interval: Interval) {
        self.from = from
        self.to = to
        self.interval = interval
    }

    public var seconds: Int { Int((to.timeIntervalSince1970 - from.timeIntervalSince1970).rounded()) }

    /// The window of equal length that ends where this one starts.
    public var previous: TimeWindow {
        TimeWindow(from: from.addingTimeInterval(-Double(seconds)), to: from, interval: interval)
    }

    /// Bucket starts aligned to the interval in UTC (as Elasticsearch's date_histogram aligns them),
    /// covering [from, to).
    public var bucketStarts: [Date] {
        let step = interval.seconds
        let start = Int(from.timeIntervalSince1970)
        var t = start - ((start % step) + step) % step
        let end = Int(to.timeIntervalSince1970)
        var out: [Date] = []
        while t < end {
            out.append(Date(timeIntervalSince1970: Double(t)))
            t += step
        }
        return out
    }

    /// GitLab's `query_range` step: `max(60, ceil((to - from) / 600))` seconds.
    public var promStep: Int { max(60, (seconds + 599) / 600) }
}
