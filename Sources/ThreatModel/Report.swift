import Foundation

/// The state of one report section for one environment.
public enum SectionStatus: String, Sendable, Codable {
    case ok
    case notConfigured = "not_configured"
    case unavailable
    /// The source answered, but said its answer may be incomplete (e.g. Prometheus `warnings`).
    case partial
}

/// A report section: its value when the source answered, or why it did not.
public struct Section<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    public var status: SectionStatus
    public var value: Value?
    /// A plain-language cause when `status` is `unavailable`.
    public var error: String?
    /// Lines the source skipped, with the first few locations (file sources).
    public var warnings: [String]
    /// What the source read and how much of it it used (docs/data-quality.md); nil when the
    /// source did not run or does not say.
    public var coverage: SourceCoverage?

    public init(status: SectionStatus, value: Value? = nil, error: String? = nil, warnings: [String] = [],
                coverage: SourceCoverage? = nil) {
        self.status = status
        self.value = value
        self.error = error
        self.warnings = warnings
        self.coverage = coverage
    }

    public static var notConfigured: Section { Section(status: .notConfigured) }
    public static func ok(_ v: Value, warnings: [String] = [], coverage: SourceCoverage? = nil) -> Section {
        Section(status: .ok, value: v, warnings: warnings, coverage: coverage)
    }
    public static func unavailable(_ cause: String) -> Section { Section(status: .unavailable, error: cause) }
}

/// Severity of a finding, ordered.
public enum Severity: String, Sendable, Codable, CaseIterable, Comparable {
    case info, warning, critical

    public var rank: Int {
        switch self {
        case .info: 0
        case .warning: 1
        case .critical: 2
        }
    }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

/// Something the reader should act on.
public struct Finding: Sendable, Equatable, Codable {
    public var id: String
    public var severity: Severity
    public var environment: String
    public var title: String
    public var value: Double?
    public var threshold: Double?
    /// What to look at next, and the command that shows it.
    public var guidance: String
    /// The object the finding is about (policy name, rule id, …), when any.
    public var subject: String?
    /// What `value` and `threshold` measure: a ratio (shown as a percent) or a rate per second.
    public var unit: FindingUnit = .ratio

    public init(id: String, severity: Severity, environment: String, title: String, value: Double? = nil,
                threshold: Double? = nil, guidance: String, subject: String? = nil, unit: FindingUnit = .ratio) {
        self.id = id
        self.severity = severity
        self.environment = environment
        self.title = title
        self.value = value
        self.threshold = threshold
        self.guidance = guidance
        self.subject = subject
        self.unit = unit
    }
}

/// The unit of a finding's value and threshold.
public enum FindingUnit: String, Sendable, Codable {
    case ratio
    case perSecond = "per_second"
    /// A number of things (flows, policies).
    case count

    /// A ratio as whole percents (as GitLab showed them), a rate as "249.3/s", a count grouped.
    public func format(_ v: Double) -> String {
        switch self {
        case .ratio: return Percent.whole(v)
        case .perSecond:
            guard v.isFinite else { return "–" }
            return (v >= 100 ? String(format: "%.0f", v) : v >= 1 ? String(format: "%.1f", v) : String(format: "%.3f", v)) + "/s"
        case .count:
            guard v.isFinite, abs(v) < 1e15 else { return "–" }
            return String(Int(v))
        }
    }
}

/// Warning and critical levels for one ratio.
public struct RatioThreshold: Sendable, Equatable, Codable {
    public var warning: Double
    public var critical: Double
    public init(warning: Double, critical: Double) {
        self.warning = warning
        self.critical = critical
    }
}

/// The thresholds in force for one environment.
public struct Thresholds: Sendable, Equatable, Codable {
    public var anomalousRatio: RatioThreshold
    public var droppedRatio: RatioThreshold
    /// Below this many requests a ratio finding is at most `info`.
    public var minRequests: Int
    /// Below this many flows a ratio finding is at most `info`.
    public var minFlows: Int
    /// `waf.attack_burst`: one client sent at least this share of the anomalous requests…
    public var attackBurstShare: Double
    /// …and at least this many of them, so 3 of 5 entries is not a burst.
    public var attackBurstMinRequests: Int
    /// `input.partially_read`: a source skipped (or could attribute to no environment) more than
    /// this share of what it read.
    public var maxSkippedShare: Double = 0.01

    public init(anomalousRatio: RatioThreshold = RatioThreshold(warning: 0.05, critical: 0.20),
                droppedRatio: RatioThreshold = RatioThreshold(warning: 0.05, critical: 0.20),
                minRequests: Int = 100, minFlows: Int = 100,
                attackBurstShare: Double = 0.5, attackBurstMinRequests: Int = 20, maxSkippedShare: Double = 0.01) {
        self.maxSkippedShare = maxSkippedShare
        self.anomalousRatio = anomalousRatio
        self.droppedRatio = droppedRatio
        self.minRequests = minRequests
        self.minFlows = minFlows
        self.attackBurstShare = attackBurstShare
        self.attackBurstMinRequests = attackBurstMinRequests
    }

    public static let defaults = Thresholds()
}

/// A record of what a source read or asked, for the evidence appendix.
public struct EvidenceItem: Sendable, Equatable, Codable {
    /// `waf`, `flows` or `policies`.
    public var section: String
    /// A URL without credentials, or a file path.
    public var source: String
    /// The query sent (ES body, PromQL, API path), when any.
    public var query: String?
    /// SHA-256 of the input bytes read, when any.
    public var sha256: String?

    public init(section: String, source: String, query: String? = nil, sha256: String? = nil) {
        self.section = section
        self.source = source
        self.query = query
        self.sha256 = sha256
    }
}

/// Everything known about one environment after the sources ran.
public struct EnvironmentReport: Sendable, Equatable, Codable {
    public var name: String
    public var namespace: String
    public var hosts: [String]
    public var thresholds: Thresholds
    public var waf: Section<WAFStatistics>
    public var flows: Section<FlowStatistics>
    public var policies: Section<PolicySet>
    public var evidence: [EvidenceItem]
    /// The same statistics for the window just before (`--compare previous`); nil with `--compare none`.
    public var previous: PreviousWindow?
    /// The policy set compared with the previous report in the output folder; nil when the policy
    /// section is not configured.
    public var policyDrift: PolicyDrift? = nil

    public init(name: String, namespace: String, hosts: [String] = [], thresholds: Thresholds,
                waf: Section<WAFStatistics>, flows: Section<FlowStatistics>, policies: Section<PolicySet>,
                evidence: [EvidenceItem] = [], previous: PreviousWindow? = nil) {
        self.name = name
        self.namespace = namespace
        self.hosts = hosts
        self.thresholds = thresholds
        self.waf = waf
        self.flows = flows
        self.policies = policies
        self.evidence = evidence
        self.previous = previous
    }

    /// True when a configured source failed (the previous-window comparison never counts).
    public var isPartial: Bool {
        [waf.status, flows.status, policies.status].contains { $0 == .unavailable || $0 == .partial }
    }
}

/// The analysed report that renderers see.
public struct Report: Sendable, Equatable, Codable {
    public static let schemaVersion = 1
    public var title: String
    public var toolVersion: String
    public var generatedAt: Date
    public var window: TimeWindow
    /// IANA name of the display time zone.
    public var timezone: String
    public var environments: [EnvironmentReport]
    /// Worst first.
    public var findings: [Finding]
    /// SHA-256 of the configuration file.
    public var configDigest: String?

    public init(title: String, toolVersion: String, generatedAt: Date, window: TimeWindow, timezone: String,
                environments: [EnvironmentReport], findings: [Finding], configDigest: String? = nil) {
        self.title = title
        self.toolVersion = toolVersion
        self.generatedAt = generatedAt
        self.window = window
        self.timezone = timezone
        self.environments = environments
        self.findings = findings
        self.configDigest = configDigest
    }

    /// A source failed, or a configured source read input and could use none of it
    /// (`input.unreadable`, docs/data-quality.md).
    public var isPartial: Bool {
        environments.contains { $0.isPartial } || findings.contains { $0.id == InputCheck.unreadable }
    }

    /// An environment whose source failed or read nothing usable of its input.
    public func isPartial(_ env: EnvironmentReport) -> Bool {
        env.isPartial || findings.contains { $0.environment == env.name && $0.id == InputCheck.unreadable }
    }

    /// "complete" only when every source answered and read what it was given.
    public var status: String {
        isPartial ? "partial" : findings.contains(where: { $0.id == InputCheck.partiallyRead }) ? "incomplete" : "complete"
    }

    public func findings(for environment: String) -> [Finding] { findings.filter { $0.environment == environment } }

    /// The worst severity among an environment's findings, or nil when it has none.
    public func worstSeverity(for environment: String) -> Severity? {
        findings(for: environment).map(\.severity).max()
    }
}

/// The ids of the data-quality findings (docs/data-quality.md).
public enum InputCheck {
    /// A configured source produced no usable record while its input was not empty (critical).
    public static let unreadable = "input.unreadable"
    /// More than `thresholds.max_skipped_share` of an input was skipped or unattributed (warning).
    public static let partiallyRead = "input.partially_read"
    /// A ratio has no denominator while its numerator has records (warning).
    public static let noDenominator = "input.no_denominator"
}

public enum ToolInfo {
    public static let name = "threat-report"
    public static let version = "0.1.0"
}
