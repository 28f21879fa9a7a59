import Foundation
import ThreatModel

/// Command-line values that override the config file.
public struct RequestOverrides: Sendable, Equatable {
    public var window: String?
    public var from: String?
    public var to: String?
    public var interval: String?
    public var timezone: String?
    public var environments: [String] = []
    public init() {}
}

/// A usage error that names the flag at fault.
public struct UsageError: Error, Sendable, Equatable, CustomStringConvertible {
    public var flag: String
    public var message: String
    public init(flag: String, message: String) {
        self.flag = flag
        self.message = message
    }
    public var description: String { "\(flag): \(message)" }
}

/// What one run will report on: the window, its interval and the environments.
public struct ReportRequest: Sendable, Equatable {
    public var title: String
    public var window: TimeWindow
    public var timezone: String
    public var environments: [EnvironmentConfig]

    /// Combines config and flags. Flags win; `--window` is relative to `--to` (default now); the
    /// default window is 24h.
    public static func resolve(config: ReportConfig, overrides: RequestOverrides, now: Date) throws(UsageError) -> ReportRequest {
        var to = config.to ?? now
        var from: Date? = config.from
        var length = config.window
        if let t = overrides.to {
            guard let d = RFC3339.parse(t) else { throw UsageError(flag: "--to", message: "'\(t)' is not an RFC 3339 time such as 2026-11-20T00:00:00Z") }
            to = d
            if overrides.from == nil, config.from != nil { from = nil }
        }
        if let w = overrides.window {
            guard let len = WindowLength.parse(w) else {
                throw UsageError(flag: "--window", message: "'\(w)' is not a length like 30m, 3h, 8h, 1d, 3d, 7d, 30d or <N>m|h|d")
            }
            length = len
            from = nil
        }
        if let f = overrides.from {
            guard overrides.window == nil else { throw UsageError(flag: "--from", message: "give either --from/--to or --window, not both") }
            guard let d = RFC3339.parse(f) else { throw UsageError(flag: "--from", message: "'\(f)' is not an RFC 3339 time") }
            guard overrides.to != nil || config.to != nil else { throw UsageError(flag: "--from", message: "--from needs --to") }
            from = d
        }
        let start = from ?? to.addingTimeInterval(-Double((length ?? WindowLength.parse("24h")!).seconds))
        guard start < to else { throw UsageError(flag: overrides.from != nil ? "--from" : "--to", message: "the window is empty: from must be before to") }
        var intervalChoice = config.interval
        if let i = overrides.interval {
            guard let c = IntervalChoice.parse(i) else { throw UsageError(flag: "--interval", message: "must be auto, minute, hour or day") }
            intervalChoice = c
        }
        let seconds = Int(to.timeIntervalSince(start).rounded())
        let interval = intervalChoice.resolve(windowSeconds: seconds)
        // A minute histogram over 30 days is 43,200 buckets: allow it (charts reduce), but not more.
        guard seconds / interval.seconds <= 200_000 else {
            throw UsageError(flag: "--interval", message: "\(interval.rawValue) buckets over this window give more than 200000 points; choose a coarser interval")
        }
        var tz = config.timezone
        if let z = overrides.timezone {
            guard TimeZone(identifier: z) != nil else { throw UsageError(flag: "--timezone", message: "unknown time zone '\(z)'") }
            tz = z
        }
        var envs = config.environments
        if !overrides.environments.isEmpty {
            for name in overrides.environments where !envs.contains(where: { $0.name == name }) {
                let known = envs.map(\.name).joined(separator: ", ")
                throw UsageError(flag: "--environment", message: "no environment named '\(name)' in \(config.file) (known: \(known))")
            }
            envs = envs.filter { overrides.environments.contains($0.name) }
        }
        return ReportRequest(title: config.title, window: TimeWindow(from: start, to: to, interval: interval), timezone: tz,
                             environments: envs)
    }
}
