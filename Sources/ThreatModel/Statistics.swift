import Foundation

/// One point of a time series: bucket start (UTC) and value.
public struct SeriesPoint<Value: Sendable & Equatable & Codable>: Sendable, Equatable, Codable {
    public var time: Date
    public var value: Value
    public init(_ time: Date, _ value: Value) {
        self.time = time
        self.value = value
    }
}

/// A ratio as GitLab defined it everywhere: numerator / denominator, and 0 when the denominator
/// is 0. Stored unrounded; reports show whole percents.
public func safeRatio(_ numerator: Double, _ denominator: Double) -> Double {
    guard denominator > 0, numerator.isFinite, denominator.isFinite else { return 0 }
    return numerator / denominator
}

/// A ranked entry of a "top N" table (rule id, client IP, URI, drop reason, …).
public struct RankedCount: Sendable, Equatable, Codable {
    public var key: String
    public var count: Int
    /// A human label for the key: the rule's message, for example.
    public var label: String?
    /// The CRS category of a rule id, for rules.
    public var category: String?

    public init(key: String, count: Int, label: String? = nil, category: String? = nil) {
        self.key = key
        self.count = count
        self.label = label
        self.category = category
    }
}

/// WAF statistics for one environment and window, with GitLab's definitions:
/// total = ingress access-log lines, anomalous = ModSecurity audit entries.
public struct WAFStatistics: Sendable, Equatable, Codable {
    public var totalRequests: Int
    public var anomalousRequests: Int
    public var totalHistory: [SeriesPoint<Int>]
    public var anomalousHistory: [SeriesPoint<Int>]
    public var topRules: [RankedCount]
    public var topClients: [RankedCount]
    public var topURIs: [RankedCount]
    /// Audit entries whose request was blocked, when the source can tell (nil: unknown).
    public var blockedRequests: Int?
    /// ModSecurity engine modes seen (`DetectionOnly`, `Enabled`, …) with their entry counts.
    public var engineModes: [RankedCount]
    /// Audit entries per CRS category (`CRSCategory` raw value as key, its title as label), most
    /// first; an entry counts once in each category it matched. The anomaly-evaluation rules are
    /// not a category of attack and are left out. Sources that only see the top rules derive it
    /// from them (see docs/waf.md).
    public var categories: [RankedCount] = []
    /// Audit entries the WAF let through (anomalous − blocked), when `blockedRequests` is known.
    public var detectionOnlyRequests: Int?
    /// The distribution of the inbound anomaly score from rule 949110's "Total Score: N", by
    /// score ascending (key: the score).
    public var anomalyScores: [RankedCount] = []
    /// Audit entries with a match of CRITICAL severity or worse in an attack category, when the
    /// source can tell (nil: unknown).
    public var criticalAttackRequests: Int?
    /// Log lines the source could not read (file sources); their first locations are warnings.
    public var skippedLines: Int = 0
    /// Audit entries of the CRS deployed without its configuration (rule 901001, which denies
    /// every request with 500), when the source can tell.
    public var crsUnconfiguredRequests: Int?
    /// Audit entries in the window that matched no environment (file sources; also a warning).
    public var unattributedEntries: Int = 0
    /// The access-log format(s) that read the lines, e.g. `main` (file sources).
    public var accessLogFormat: String?
    /// The audit-log format(s) read, e.g. `ModSecurity v3` (JSON), `ModSecurity native`.
    public var auditLogFormat: String?
    /// The WAF engine that wrote the matches, when the source can tell (`Coraza`,
    /// `ModSecurity v3 (NGINX)`, `ModSecurity 2 (Apache)`), and the Core Rule Set version from the
    /// matches' `ver` (`4.7.0`).
    public var wafEngine: String?
    public var crsVersion: String?
    /// How the rule matches were read when they came from error-log lines (`error log (Coraza),
    /// grouped by unique_id`); nil for audit logs and engines.
    public var errorLogFormat: String?
    /// The Kubernetes namespace of the ingress controller, when the source is configured with one
    /// (guidance names it in `kubectl` commands only then).
    public var ingressNamespace: String?
    /// Per-target tuning input (file sources; nil where the source cannot tell), and the advice
    /// the analysis drew from it (docs/waf.md "Tuning candidates").
    public var tuning: WAFTuningInput?
    public var tuningAdvice: WAFTuningAdvice?

    public init(totalRequests: Int, anomalousRequests: Int, totalHistory: [SeriesPoint<Int>] = [],
                anomalousHistory: [SeriesPoint<Int>] = [], topRules: [RankedCount] = [],
                topClients: [RankedCount] = [], topURIs: [RankedCount] = [], blockedRequests: Int? = nil,
                engineModes: [RankedCount] = []) {
        self.totalRequests = totalRequests
        self.anomalousRequests = anomalousRequests
        self.totalHistory = totalHistory
        self.anomalousHistory = anomalousHistory
        self.topRules = topRules
        self.topClients = topClients
        self.topURIs = topURIs
        self.blockedRequests = blockedRequests
        self.engineModes = engineModes
    }

    /// GitLab: anomalous / total, 0 when there were no requests.
    public var anomalousRatio: Double { safeRatio(Double(anomalousRequests), Double(totalRequests)) }

    /// Category counts derived from top-rule counts, for sources that aggregate rules only: a
    /// rule's entries add to its category, so an entry matching two rules of one category counts
    /// twice, and rules outside the top N are missing.
    public static func categories(fromTopRules rules: [RankedCount]) -> [RankedCount] {
        var counts: [CRSCategory: Int] = [:]
        for r in rules {
            let c = CRSCategory(ruleID: r.key)
            guard c != .anomaly else { continue }
            counts[c] = NumberLimits.clampedAdd(counts[c] ?? 0, r.count)
        }
        return CRSCategory.ranked(counts)
    }
}

/// Flow counts for one direction, by Hubble verdict (`flow.Verdict` in cilium's flow.proto).
public struct FlowCounts: Sendable, Equatable, Codable {
    public var forwarded: Int
    public var dropped: Int
    /// Sent to an L7 proxy (Envoy, an Istio sidecar's redirect, DNS proxy).
    public var redirected: Int
    /// Policy audit mode: a flow policy would have dropped, let through.
    public var audit: Int
    /// Seen at a trace point before a verdict was reached.
    public var traced: Int
    /// An error while processing the flow.
    public var error: Int
    /// TRANSLATED, VERDICT_UNKNOWN and verdicts this version does not know.
    public var other: Int

    public init(forwarded: Int, dropped: Int, redirected: Int = 0, audit: Int = 0, traced: Int = 0, error: Int = 0,
                other: Int = 0) {
        self.forwarded = forwarded
        self.dropped = dropped
        self.redirected = redirected
        self.audit = audit
        self.traced = traced
        self.error = error
        self.other = other
    }

    /// Every verdict, as GitLab's PromQL summed `hubble_flows_processed_total` over all of them.
    public var total: Int { forwarded &+ dropped &+ redirected &+ audit &+ traced &+ error &+ other }
    public var droppedRatio: Double { safeRatio(Double(dropped), Double(total)) }

    /// The verdict names Hubble writes, in the order reports list them.
    public static let verdicts = ["FORWARDED", "DROPPED", "REDIRECTED", "AUDIT", "TRACED", "ERROR"]

    /// Adds `n` flows of a verdict (its Hubble name); unknown names count as `other`.
    public mutating func add(verdict: String, _ n: Int = 1) {
        switch verdict {
        case "FORWARDED": forwarded &+= n
        case "DROPPED": dropped &+= n
        case "REDIRECTED": redirected &+= n
        case "AUDIT": audit &+= n
        case "TRACED": traced &+= n
        case "ERROR": error &+= n
        default: other &+= n
        }
    }

    /// Count per verdict name, in `verdicts` order, then `OTHER` when non-zero.
    public var byVerdict: [(verdict: String, count: Int)] {
        var out: [(String, Int)] = [("FORWARDED", forwarded), ("DROPPED", dropped), ("REDIRECTED", redirected),
                                    ("AUDIT", audit), ("TRACED", traced), ("ERROR", error)]
        if other > 0 { out.append(("OTHER", other)) }
        return out
    }
}

/// Container-network flow statistics from `hubble_flows_processed_total`.
public struct FlowStatistics: Sendable, Equatable, Codable {
    /// Both directions joined without counting intra-namespace flows twice.
    public var counts: FlowCounts
    public var inbound: FlowCounts
    public var outbound: FlowCounts
    /// Flows per second by verdict over the window.
    public var forwardedRate: [SeriesPoint<Double>]
    public var droppedRate: [SeriesPoint<Double>]
    public var topDropReasons: [RankedCount]
    public var topDroppedPairs: [RankedCount]
    /// Drops (and audit-mode would-be drops) by the policy the flow names in `ingress_denied_by` /
    /// `egress_denied_by` (Cilium ≥ 1.17), key `namespace/name` (`name` for clusterwide), label the kind.
    public var topDenyingPolicies: [RankedCount] = []
    /// Dropped flows whose denying policy is not named (default deny, older Cilium, or Prometheus).
    public var unattributedDrops: Int = 0
    /// AUDIT flows by `source → destination:port/proto`, most first: what audit mode let through.
    public var topAuditPairs: [RankedCount] = []
    /// AUDIT flows by the policy that would have denied them (`*_denied_by` of AUDIT flows), keyed
    /// and labelled as `topDenyingPolicies`.
    public var topAuditPolicies: [RankedCount] = []
    /// Who talked to whom (flow-file sources; nil where the source cannot see endpoints).
    public var map: TrafficMap? = nil
    /// The workloads of the namespace seen in flow files, with their labels and traffic (coverage);
    /// nil when the source does not give them (Prometheus).
    public var workloads: [WorkloadTraffic]? = nil
    /// Least-privilege policies suggested from the flows (flow-file sources; nil elsewhere).
    public var suggestions: PolicySuggestions? = nil

    public init(counts: FlowCounts, inbound: FlowCounts, outbound: FlowCounts,
                forwardedRate: [SeriesPoint<Double>] = [], droppedRate: [SeriesPoint<Double>] = [],
                topDropReasons: [RankedCount] = [], topDroppedPairs: [RankedCount] = []) {
        self.counts = counts
        self.inbound = inbound
        self.outbound = outbound
        self.forwardedRate = forwardedRate
        self.droppedRate = droppedRate
        self.topDropReasons = topDropReasons
        self.topDroppedPairs = topDroppedPairs
    }
}

/// The CRS rule family of a rule id, by the id ranges the OWASP Core Rule Set uses.
public enum CRSCategory: String, Sendable, CaseIterable, Codable {
    case scanner, protocol_ = "protocol", multipart, lfi, rfi, rce, php, generic, xss, sqli, session, java, leakage, webshell,
         anomaly, other

    public init(ruleID: String) {
        guard ruleID.utf8.count == 6, let n = Int(ruleID) else { self = .other; return }
        self.init(ruleNumber: n)
    }

    /// The family of a six-digit rule number (100000…999999).
    public init(ruleNumber n: Int) {
        guard (100_000...999_999).contains(n) else { self = .other; return }
        switch n / 1000 {
        case 913: self = .scanner
        case 911, 920, 921: self = .protocol_
        case 922: self = .multipart
        case 930: self = .lfi
        case 931: self = .rfi
        case 932: self = .rce
        case 933: self = .php
        case 934: self = .generic
        case 941: self = .xss
        case 942: self = .sqli
        case 943: self = .session
        case 944: self = .java
        case 950, 951, 952, 953, 954: self = .leakage
        case 955: self = .webshell
        case 949, 959, 980: self = .anomaly
        default: self = .other
        }
    }

    /// Families that attack the application (everything but protocol checks, scanner detection,
    /// anomaly evaluation and rules outside the CRS).
    public var isAttack: Bool {
        switch self {
        case .multipart, .lfi, .rfi, .rce, .php, .generic, .xss, .sqli, .session, .java, .webshell: true
        default: false
        }
    }

    /// The injection families that hand an attacker code, data or files (all CRITICAL in CRS):
    /// seeing them is worth a look even when nothing got through.
    public static let highSeverity: [CRSCategory] = [.rce, .sqli, .lfi, .rfi, .php, .java]

    /// Counts as `RankedCount`s (key: raw value, label: title), most first, then in declaration order.
    public static func ranked(_ counts: [CRSCategory: Int]) -> [RankedCount] {
        var rows: [(order: Int, category: CRSCategory, count: Int)] = []
        for (i, c) in CRSCategory.allCases.enumerated() {
            if let n = counts[c], n > 0 { rows.append((i, c, n)) }
        }
        rows.sort { a, b in a.count != b.count ? a.count > b.count : a.order < b.order }
        return rows.map { RankedCount(key: $0.category.rawValue, count: $0.count, label: $0.category.title, category: $0.category.rawValue) }
    }

    public var title: String {
        switch self {
        case .scanner: "Scanner detection"
        case .protocol_: "Protocol violation"
        case .multipart: "Multipart attack"
        case .lfi: "Local file inclusion"
        case .rfi: "Remote file inclusion"
        case .rce: "Remote code execution"
        case .php: "PHP injection"
        case .generic: "Generic / Node.js injection"
        case .xss: "Cross-site scripting"
        case .sqli: "SQL injection"
        case .session: "Session fixation"
        case .java: "Java attack"
        case .leakage: "Data leakage (response)"
        case .webshell: "Web shell (response)"
        case .anomaly: "Anomaly score evaluation"
        case .other: "Other"
        }
    }
}
