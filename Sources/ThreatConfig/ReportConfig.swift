import Foundation
import ThreatModel
import Yams

public enum IntervalChoice: Sendable, Equatable {
    case auto
    case fixed(Interval)

    public static func parse(_ text: String) -> IntervalChoice? {
        if text == "auto" { return .auto }
        return Interval(rawValue: text).map { .fixed($0) }
    }

    public func resolve(windowSeconds: Int) -> Interval {
        switch self {
        case .auto: Interval.automatic(forWindowSeconds: windowSeconds)
        case let .fixed(i): i
        }
    }
}

/// A relative window length: the presets 30m, 3h, 8h, 1d, 3d, 7d, 30d (GitLab's) and any `<N>m|h|d`.
public struct WindowLength: Sendable, Equatable, CustomStringConvertible {
    public var seconds: Int
    public var text: String

    public static let presets = ["30m", "3h", "8h", "1d", "3d", "7d", "30d"]

    public static func parse(_ text: String) -> WindowLength? {
        DurationText.seconds(text, units: ["m": 60, "h": 3600, "d": 86400], atMost: 366 * 86400)
            .map { WindowLength(seconds: $0, text: text) }
    }

    public var description: String { text }
}

public struct EnvironmentConfig: Sendable, Equatable {
    public var name: String
    public var namespace: String
    public var hosts: [String]
    public var thresholds: Thresholds
    public var waf: WAFSourceConfig?
    public var flows: FlowSourceConfig?
    public var policies: PolicySourceConfig?

    public init(name: String, namespace: String, hosts: [String] = [], thresholds: Thresholds = .defaults,
                waf: WAFSourceConfig? = nil, flows: FlowSourceConfig? = nil, policies: PolicySourceConfig? = nil) {
        self.name = name
        self.namespace = namespace
        self.hosts = hosts
        self.thresholds = thresholds
        self.waf = waf
        self.flows = flows
        self.policies = policies
    }
}

/// The parsed, validated configuration file (version 1). Paths are already resolved against the
/// config file's folder.
public struct ReportConfig: Sendable, Equatable {
    public var file: String
    public var title: String
    public var window: WindowLength?
    public var from: Date?
    public var to: Date?
    public var interval: IntervalChoice
    public var timezone: String
    public var thresholds: Thresholds
    public var environments: [EnvironmentConfig]
    /// `deadline`: the run's overall budget for fetching (`--deadline` wins).
    public var deadline: RunDuration? = nil
}

/// A run duration such as 90s, 10m or 1h (`deadline`, `--deadline`).
public struct RunDuration: Sendable, Equatable, CustomStringConvertible {
    public var seconds: Int
    public var text: String

    public static let defaultDeadline = RunDuration(seconds: 600, text: "10m")

    public static func parse(_ text: String) -> RunDuration? {
        DurationText.seconds(text, units: ["s": 1, "m": 60, "h": 3600], atMost: 7 * 86400)
            .map { RunDuration(seconds: $0, text: text) }
    }

    public var description: String { text }
}

/// `<N><unit>` durations, as the config and the flags write them: a positive whole number and one
/// unit letter, no sign, no spaces, at most `atMost` seconds.
enum DurationText {
    static func seconds(_ text: String, units: [Character: Int], atMost: Int) -> Int? {
        guard let unit = text.last, let mult = units[unit], text.first?.isNumber == true,
              let n = Int(text.dropLast()), n > 0, n <= atMost / mult else { return nil }
        return n * mult
    }
}

/// Loads `threat-report.yml`. Strict: unknown keys, wrong types and missing required keys are
/// errors with file:line:column.
public enum ConfigLoader {
    public static func load(path: String) throws(LocatedError) -> ReportConfig {
        try parse(bytes: try read(path: path), path: path)
    }

    /// The config file's bytes (at most `InputLimits.documentBytes`), for a caller that also
    /// digests or records them.
    public static func read(path: String) throws(LocatedError) -> Data {
        switch InputFile.read(path, limit: InputLimits.documentBytes) {
        case let .success(bytes): return Data(bytes)
        case let .failure(e) where e.reason.hasPrefix("larger than"):
            throw LocatedError(file: path, message: "the config file is larger than \(InputLimits.describe(bytes: InputLimits.documentBytes)); not read")
        case let .failure(e):
            throw LocatedError(file: path, message: "cannot read the config file: \(e.reason.hasPrefix("is ") ? "it " + e.reason : e.reason)")
        }
    }

    /// Parses a config file's bytes as read from `path`: relative paths in it resolve against its
    /// folder. A relative `path` stays relative, so reports name inputs the same way on every machine.
    /// A leading UTF-8 byte order mark (editors on Windows write one) is skipped.
    public static func parse(bytes: Data, path: String) throws(LocatedError) -> ReportConfig {
        let text = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes
        return try parse(String(decoding: text, as: UTF8.self), file: path, baseDirectory: (path as NSString).deletingLastPathComponent)
    }

    public static func parse(_ text: String, file: String, baseDirectory: String) throws(LocatedError) -> ReportConfig {
        let r = YAMLReader(file: file)
        let root = try compose(text, r: r)
        let top = try r.mapping(root, path: "", allowed: ["version", "title", "window", "from", "to", "interval",
                                                          "timezone", "thresholds", "environments", "deadline"])
        guard let version = top["version"] else { throw r.error(root, "missing required key 'version' (use version: 1)") }
        let v = try r.int(version.value, path: "version")
        guard v == 1 else { throw r.error(version.value, "unsupported config version \(v); this tool reads version 1") }

        var cfg = ReportConfig(file: file, title: "Threat report", window: nil, from: nil, to: nil, interval: .auto,
                               timezone: "UTC", thresholds: .defaults, environments: [])
        if let t = top["title"] { cfg.title = try r.strictString(t.value, path: "title") }
        try parseWindow(top, r: r, into: &cfg)
        try parseRunSettings(top, r: r, into: &cfg)
        if let th = top["thresholds"] { cfg.thresholds = try parseThresholds(th.value, r: r, path: "thresholds", base: .defaults) }
        try parseEnvironments(top, root: root, r: r, base: baseDirectory, into: &cfg)
        return cfg
    }

    /// The document's root node, after the size, depth and alias limits; every YAML error located.
    static func compose(_ text: String, r: YAMLReader) throws(LocatedError) -> Node {
        do {
            try YAMLLimits.check(text, reader: r)
            guard let n = try Yams.compose(yaml: text) else { throw r.error(nil, "the config file is empty") }
            return n
        } catch let e as LocatedError {
            throw e
        } catch {
            throw r.error(from: error)
        }
    }

    typealias Entries = [String: (key: Node, value: Node)]

    /// `window`, or `from` with `to`.
    static func parseWindow(_ top: Entries, r: YAMLReader, into cfg: inout ReportConfig) throws(LocatedError) {
        if let w = top["window"] {
            let s = try r.strictString(w.value, path: "window")
            guard let len = WindowLength.parse(s) else {
                throw r.error(w.value, "window '\(s)' is not a length like 30m, 3h, 8h, 1d, 3d, 7d, 30d or <N>m|h|d")
            }
            cfg.window = len
        }
        for key in ["from", "to"] {
            guard let n = top[key] else { continue }
            let s = try r.strictStringOrTimestamp(n.value, path: key)
            guard let d = RFC3339.parse(s) else { throw r.error(n.value, "\(key) '\(s)' is not an RFC 3339 time such as 2026-11-20T00:00:00Z") }
            if key == "from" { cfg.from = d } else { cfg.to = d }
        }
        if cfg.from != nil, cfg.window != nil, let n = top["from"] {
            throw r.error(n.value, "give either 'from' (with 'to') or 'window', not both")
        }
        if let f = cfg.from, let t = cfg.to, f >= t, let n = top["from"] {
            throw r.error(n.value, "'from' must be before 'to'")
        }
        if cfg.from != nil, cfg.to == nil, let n = top["from"] { throw r.error(n.value, "'from' needs 'to'") }
    }

    /// `interval`, `timezone` and `deadline`.
    static func parseRunSettings(_ top: Entries, r: YAMLReader, into cfg: inout ReportConfig) throws(LocatedError) {
        if let i = top["interval"] {
            let s = try r.strictString(i.value, path: "interval")
            guard let c = IntervalChoice.parse(s) else { throw r.error(i.value, "interval must be auto, minute, hour or day") }
            cfg.interval = c
        }
        if let tz = top["timezone"] {
            let s = try r.strictString(tz.value, path: "timezone")
            guard TimeZone(identifier: s) != nil else { throw r.error(tz.value, "unknown time zone '\(s)' (use an IANA name such as Europe/Berlin)") }
            cfg.timezone = s
        }
        if let d = top["deadline"] {
            let s = try r.strictString(d.value, path: "deadline")
            guard let len = RunDuration.parse(s) else {
                throw r.error(d.value, "deadline '\(s)' is not a duration like 90s, 10m or 1h")
            }
            cfg.deadline = len
        }
    }

    /// The non-empty list of uniquely named environments; then each raw-log source learns the
    /// other environments' hosts.
    static func parseEnvironments(_ top: Entries, root: Node, r: YAMLReader, base: String,
                                  into cfg: inout ReportConfig) throws(LocatedError) {
        guard let envs = top["environments"] else { throw r.error(root, "missing required key 'environments'") }
        guard let seq = envs.value.sequence, !seq.isEmpty else { throw r.error(envs.value, "environments must be a non-empty list") }
        var names = Set<String>()
        for (i, node) in seq.enumerated() {
            let env = try parseEnvironment(node, r: r, path: "environments[\(i)]", defaults: cfg.thresholds, base: base)
            guard names.insert(env.name).inserted else { throw r.error(node, "duplicate environment name '\(env.name)'") }
            cfg.environments.append(env)
        }
        // A raw-log source tells another environment's entries from entries nobody claims by the
        // other environments' hosts.
        for k in cfg.environments.indices {
            guard case var .files(s)? = cfg.environments[k].waf else { continue }
            s.otherEnvironmentHosts = cfg.environments.indices.filter { $0 != k }.flatMap { cfg.environments[$0].hosts }
            cfg.environments[k].waf = .files(s)
        }
    }

    static func parseThresholds(_ node: Node, r: YAMLReader, path: String, base: Thresholds) throws(LocatedError) -> Thresholds {
        let m = try r.mapping(node, path: path, allowed: ["anomalous_ratio", "dropped_ratio", "min_requests", "min_flows",
                                                               "attack_burst_share", "attack_burst_min_requests", "max_skipped_share"])
        var t = base
        if let n = m["anomalous_ratio"] { t.anomalousRatio = try parseRatio(n.value, r: r, path: "\(path).anomalous_ratio", base: base.anomalousRatio) }
        if let n = m["dropped_ratio"] { t.droppedRatio = try parseRatio(n.value, r: r, path: "\(path).dropped_ratio", base: base.droppedRatio) }
        if let n = m["min_requests"] {
            t.minRequests = try r.int(n.value, path: "\(path).min_requests")
            guard t.minRequests >= 0 else { throw r.error(n.value, "\(path).min_requests must not be negative") }
        }
        if let n = m["min_flows"] {
            t.minFlows = try r.int(n.value, path: "\(path).min_flows")
            guard t.minFlows >= 0 else { throw r.error(n.value, "\(path).min_flows must not be negative") }
        }
        if let n = m["attack_burst_share"] {
            t.attackBurstShare = try r.double(n.value, path: "\(path).attack_burst_share")
            guard t.attackBurstShare > 0, t.attackBurstShare <= 1 else {
                throw r.error(n.value, "\(path).attack_burst_share must be a share above 0 and at most 1 (0.5 is half)")
            }
        }
        if let n = m["attack_burst_min_requests"] {
            t.attackBurstMinRequests = try r.int(n.value, path: "\(path).attack_burst_min_requests")
            guard t.attackBurstMinRequests >= 1 else { throw r.error(n.value, "\(path).attack_burst_min_requests must be at least 1") }
        }
        if let n = m["max_skipped_share"] {
            t.maxSkippedShare = try r.double(n.value, path: "\(path).max_skipped_share")
            guard t.maxSkippedShare >= 0, t.maxSkippedShare < 1 else {
                throw r.error(n.value, "\(path).max_skipped_share must be a share from 0 up to (not including) 1 (0.01 is 1%)")
            }
        }
        return t
    }

    static func parseRatio(_ node: Node, r: YAMLReader, path: String, base: RatioThreshold) throws(LocatedError) -> RatioThreshold {
        let m = try r.mapping(node, path: path, allowed: ["warning", "critical"])
        var t = base
        if let w = m["warning"] { t.warning = try r.double(w.value, path: "\(path).warning") }
        if let c = m["critical"] { t.critical = try r.double(c.value, path: "\(path).critical") }
        for (v, key) in [(t.warning, "warning"), (t.critical, "critical")] where !(0...1).contains(v) {
            throw r.error(m[key]?.value ?? node, "\(path).\(key) must be a ratio between 0 and 1 (0.05 is 5 %)")
        }
        guard t.warning <= t.critical else { throw r.error(node, "\(path).warning must not be above \(path).critical") }
        return t
    }

    static func parseEnvironment(_ node: Node, r: YAMLReader, path: String, defaults: Thresholds, base: String) throws(LocatedError) -> EnvironmentConfig {
        let m = try r.mapping(node, path: path, allowed: ["name", "namespace", "hosts", "thresholds", "waf", "flows", "policies"])
        guard let nameNode = m["name"] else { throw r.error(node, "missing required key '\(path).name'") }
        let name = try r.strictString(nameNode.value, path: "\(path).name")
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw r.error(nameNode.value, "\(path).name must not be empty") }
        guard let nsNode = m["namespace"] else { throw r.error(node, "missing required key '\(path).namespace'") }
        let ns = try r.strictString(nsNode.value, path: "\(path).namespace")
        guard isDNSLabel(ns) else {
            throw r.error(nsNode.value, "\(path).namespace '\(ns)' is not a Kubernetes namespace name (lowercase letters, digits and '-', at most 63)")
        }
        var env = EnvironmentConfig(name: name, namespace: ns, hosts: [], thresholds: defaults)
        if let h = m["hosts"] { env.hosts = try r.stringList(h.value, path: "\(path).hosts") }
        if let t = m["thresholds"] { env.thresholds = try parseThresholds(t.value, r: r, path: "\(path).thresholds", base: defaults) }
        if let w = m["waf"] { env.waf = try parseWAF(w.value, r: r, path: "\(path).waf", base: base) }
        if let f = m["flows"] { env.flows = try parseFlows(f.value, r: r, path: "\(path).flows", base: base) }
        if let p = m["policies"] { env.policies = try parsePolicies(p.value, r: r, path: "\(path).policies", base: base) }
        return env
    }

    /// Resolves a config path against the config file's folder; `~/` is the home folder.
    public static func resolve(_ path: String, _ base: String) -> String {
        if path.hasPrefix("/") || path == "-" { return path }
        if path.hasPrefix("~/") {
            let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
            return home + String(path.dropFirst(1))
        }
        if base.isEmpty || base == "." { return path }
        return base.hasSuffix("/") ? base + path : base + "/" + path
    }

    public static func isDNSLabel(_ s: String) -> Bool {
        guard (1...63).contains(s.utf8.count), s.first != "-", s.last != "-" else { return false }
        return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }

    static func isPromIdentifier(_ s: String) -> Bool {
        guard let f = s.utf8.first, !(f >= 48 && f <= 57) else { return false }
        return s.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 58 }
    }
}

extension YAMLReader {
    /// YAML resolves an unquoted RFC 3339 time as a timestamp; take its text either way.
    func strictStringOrTimestamp(_ node: Node, path: String) throws(LocatedError) -> String {
        guard let s = node.scalar else { throw error(node, "\(path) must be an RFC 3339 time") }
        return s.string
    }
}
