import Foundation

/// Answers by class, for the tuning signals.
public struct StatusClasses: Sendable, Equatable, Codable {
    public var success = 0       // 2xx
    public var redirect = 0      // 3xx
    public var notFound = 0      // 404
    public var clientError = 0   // other 4xx
    public var serverError = 0   // 5xx
    public var none = 0          // no status logged

    public init() {}

    public mutating func add(_ status: Int) {
        switch status {
        case 200..<300: success += 1
        case 300..<400: redirect += 1
        case 404: notFound += 1
        case 400..<500: clientError += 1
        case 500..<600: serverError += 1
        default: none += 1
        }
    }

    public var total: Int { success + redirect + notFound + clientError + serverError + none }
    /// 2xx, 3xx and 404: what an application answers to a request it understood.
    public var ordinary: Int { success + redirect + notFound }
}

/// One (rule, path prefix, target) that fired in the window: the raw tuning input, gathered from
/// the audit entries by the file sources (docs/waf.md "Tuning candidates").
public struct WAFTargetStats: Sendable, Equatable, Codable {
    public var ruleID: String
    /// The request path up to its first segment holding a digit (`/products/42` → `/products/`),
    /// without the query.
    public var path: String
    /// The variable matched: `ARGS:q`, `ARGS_POST:body`, `REQUEST_HEADERS:User-Agent`, `REQUEST_BODY`.
    public var target: String
    /// Audit entries with this match.
    public var count = 0
    /// Distinct client addresses (exact up to `clientCap`; `clientsCapped` past it).
    public var clients = 0
    public var clientsCapped = false
    public var statuses = StatusClasses()
    /// Sum of the entries' inbound anomaly scores, and how many entries logged one.
    public var scoreTotal = 0
    public var scoredEntries = 0
    /// Sum over the entries of their attack-rule matches (this one included).
    public var attackMatches = 0
    /// Attack families other than this rule's that the same clients fired in the window.
    public var otherFamilies: [String] = []
    /// Entries whose client looks like a campaign (several attack families, or many distinct
    /// attack rules, in the window), and how many such clients.
    public var campaignEntries = 0
    public var campaignClients = 0
    public var firstSeen: Date
    public var lastSeen: Date
    /// Up to three `unique_id`s.
    public var examples: [String] = []

    public init(ruleID: String, path: String, target: String, firstSeen: Date, lastSeen: Date) {
        self.ruleID = ruleID
        self.path = path
        self.target = target
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }

    public static let clientCap = 1024
}

/// The audit entries of attack-looking clients, reduced to what an exclusion could take from
/// them: per match, the target row it counts in (-1: none, the match stays whatever is excluded)
/// and its anomaly points (CRS: CRITICAL 5, ERROR 4, WARNING 3, NOTICE 2). Flat arrays (one
/// allocation each, not one per entry): entry `k` holds the matches `ends[k-1]..<ends[k]`.
public struct WAFCampaignEntries: Sendable, Equatable, Codable {
    public private(set) var rows: [Int32] = []
    public private(set) var points: [UInt8] = []
    public private(set) var ends: [Int32] = []

    public init() {}

    public var count: Int { ends.count }

    public mutating func append(rows r: [Int32], points p: [UInt8]) {
        rows += r
        points += p.prefix(r.count)
        if p.count < r.count { points += [UInt8](repeating: 0, count: r.count - p.count) }
        ends.append(Int32(rows.count))
    }

    public func range(_ k: Int) -> Range<Int> { (k == 0 ? 0 : Int(ends[k - 1]))..<Int(ends[k]) }

    /// The points of entry `k` left once the rows excluded (`excluded[row]`) no longer match.
    public func remaining(_ k: Int, excluding excluded: [Bool]) -> Int {
        var n = 0
        for m in range(k) {
            let r = Int(rows[m])
            if r < 0 || r >= excluded.count || !excluded[r] { n += Int(points[m]) }
        }
        return n
    }

    public func total(_ k: Int) -> Int { range(k).reduce(0) { $0 + Int(points[$1]) } }

    /// The same entries with their rows renumbered (`map[old]`; -1 stays -1).
    public func renumbered(_ map: [Int32]) -> WAFCampaignEntries {
        var out = self
        out.rows = rows.map { $0 < 0 ? -1 : map[Int($0)] }
        return out
    }
}

/// Anomalous requests of one client (or /24, /64) close in time: the campaigns table.
public struct WAFCampaign: Sendable, Equatable, Codable {
    /// Stable across reruns of the same data: a digest of the group, family, start and requests.
    public var id: String
    /// The client address, or its network (`203.0.113.0/24`, `2001:db8:1:2::/64`) when several
    /// of its addresses attacked together.
    public var client: String
    /// Distinct client addresses in the campaign (1 for a single client).
    public var addresses = 1
    /// The attack family the campaign's requests share (their dominant family).
    public var family = ""
    public var start: Date
    public var end: Date
    public var requests = 0
    public var blocked = 0
    public var families: [String] = []
    public var topRules: [RankedCount] = []
    public var topURIs: [RankedCount] = []
    public var statuses = StatusClasses()
    /// 2xx answers to RCE, SQLi or LFI attempts: worth a closer look.
    public var successfulHighSeverity = 0

    public init(id: String, client: String, start: Date, end: Date) {
        self.id = id
        self.client = client
        self.start = start
        self.end = end
    }
}

/// What the audit entries say for tuning: the per-target rows, the campaign clients' entries and
/// the campaigns, with what did not fit.
public struct WAFTuningInput: Sendable, Equatable, Codable {
    public var rows: [WAFTargetStats] = []
    public var campaignEntries = WAFCampaignEntries()
    public var campaigns: [WAFCampaign] = []
    /// Rule ids seen in the logs (an exclusion id must be none of them).
    public var ruleIDsSeen: [String] = []
    /// Matches whose log names no target (they cannot be excluded per target).
    public var untargetedMatches = 0
    /// Matches past the row cap, and campaign entries past theirs (counted, not kept).
    public var droppedMatches = 0
    public var droppedCampaignEntries = 0
    /// Matches whose rule, target, client or URI overflowed the scan's tables.
    public var overflowedMatches = 0

    public init() {}

    public static let rowCap = 20_000
    public static let campaignEntryCap = 100_000
}

/// What the analysis makes of one row (ThreatAnalysis' `WAFTuning`).
public struct WAFTuningCandidate: Sendable, Equatable, Codable {
    public enum Decision: String, Sendable, Codable {
        /// A runtime rule: the rule no longer inspects the target under the path.
        case excludeOnPath = "exclude-on-path"
        /// `SecRuleUpdateTargetById`: the rule no longer inspects the target anywhere.
        case excludeEverywhere = "exclude-everywhere"
        /// Left in place: attacks on the same target depend on the rule.
        case keep
        /// The path or target holds characters no exclusion is written with.
        case notWritable = "not-writable"
    }

    public var row: WAFTargetStats
    /// 0…1: how much the row looks like a false positive.
    public var score: Double
    public var decision: Decision
    /// The score in one sentence.
    public var explanation: String
    /// Why this decision (for `keep`: what excluding would let through).
    public var reason: String
    /// The runtime rule's id (`excludeOnPath`).
    public var exclusionID: Int?

    public init(row: WAFTargetStats, score: Double, decision: Decision, explanation: String, reason: String, exclusionID: Int? = nil) {
        self.row = row
        self.score = score
        self.decision = decision
        self.explanation = explanation
        self.reason = reason
        self.exclusionID = exclusionID
    }
}

/// The tuning advice of one environment: the candidates, the exclusion file and the campaigns.
public struct WAFTuningAdvice: Sendable, Equatable, Codable {
    public var candidates: [WAFTuningCandidate] = []
    public var campaigns: [WAFCampaign] = []
    /// `waf-tuning/<environment slug>.conf`, and its text (empty when nothing is excluded).
    public var fileName: String
    public var file: String = ""
    /// What the input could not hold (dropped rows, untargeted matches, …).
    public var notes: [String] = []
    /// Attack-looking entries checked against the exclusions, and how many stay detected.
    public var attackEntriesChecked = 0
    public var attackEntriesStillDetected = 0

    public init(fileName: String) { self.fileName = fileName }

    public var exclusions: [WAFTuningCandidate] {
        candidates.filter { $0.decision == .excludeOnPath || $0.decision == .excludeEverywhere }
    }
}
