import Foundation

/// `--compare`: whether a run also fetches the window of equal length just before the report's.
public enum CompareMode: String, Sendable, Codable, CaseIterable {
    /// Fetch `window.previous` too (one more round of engine queries per environment).
    case previous
    /// No comparison: no extra query.
    case none
}

/// The same statistics for the window of equal length just before the report's (`window.previous`).
/// A section that could not be compared has no value and says why in `wafUnavailable` /
/// `flowsUnavailable`. A failed or empty previous fetch never makes the report partial.
/// Policies have no history and are not compared.
public struct PreviousWindow: Sendable, Equatable, Codable {
    public var window: TimeWindow
    public var waf: WAFStatistics?
    public var flows: FlowStatistics?
    /// Why the WAF comparison is not available (nil when it is, or when there is nothing to compare).
    public var wafUnavailable: String?
    /// Why the flow comparison is not available.
    public var flowsUnavailable: String?
    /// What the sources read for the previous window (docs/data-quality.md).
    public var wafCoverage: SourceCoverage?
    public var flowsCoverage: SourceCoverage?
    /// The comparison is missing because the inputs do not reach back that far (file sources):
    /// an expected state, shown calmly, not as a failure.
    public var notCovered: Bool = false

    public init(window: TimeWindow, waf: WAFStatistics? = nil, flows: FlowStatistics? = nil,
                wafUnavailable: String? = nil, flowsUnavailable: String? = nil) {
        self.window = window
        self.waf = waf
        self.flows = flows
        self.wafUnavailable = wafUnavailable
        self.flowsUnavailable = flowsUnavailable
    }

    /// One line for the summary when some comparison is missing: "WAF: <reason>; flows: <reason>".
    public var unavailableReason: String? {
        let parts = [wafUnavailable.map { "WAF: \($0)" }, flowsUnavailable.map { "flows: \($0)" }].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

/// What changed from the previous window to the report's window, for one environment. Pure values
/// computed from the two statistics; a part is nil when either side is missing.
public struct TrendDeltas: Sendable, Equatable {
    public struct WAF: Sendable, Equatable {
        public var requests: Int
        public var previousRequests: Int
        public var anomalousRatio: Double
        public var previousAnomalousRatio: Double
        /// Rule ids in the current top list that were not in the previous top list, in current order.
        public var newTopRules: [String]
        /// Client IPs in the current top list that were not in the previous top list, in current order.
        public var newTopClients: [String]
        public var requestsChange: Int { requests - previousRequests }
        public var anomalousRatioChange: Double { anomalousRatio - previousAnomalousRatio }
    }

    public struct Flows: Sendable, Equatable {
        public var flows: Int
        public var previousFlows: Int
        public var droppedRatio: Double
        public var previousDroppedRatio: Double
        public var flowsChange: Int { flows - previousFlows }
        public var droppedRatioChange: Double { droppedRatio - previousDroppedRatio }
    }

    public var waf: WAF?
    public var flows: Flows?

    public init(waf: WAF? = nil, flows: Flows? = nil) {
        self.waf = waf
        self.flows = flows
    }

    public static func compute(current waf: WAFStatistics?, _ flows: FlowStatistics?, previous: PreviousWindow) -> TrendDeltas {
        var out = TrendDeltas()
        if let c = waf, let p = previous.waf {
            out.waf = WAF(requests: c.totalRequests, previousRequests: p.totalRequests,
                          anomalousRatio: c.anomalousRatio, previousAnomalousRatio: p.anomalousRatio,
                          newTopRules: newKeys(c.topRules, p.topRules), newTopClients: newKeys(c.topClients, p.topClients))
        }
        if let c = flows, let p = previous.flows {
            out.flows = Flows(flows: c.counts.total, previousFlows: p.counts.total,
                              droppedRatio: c.counts.droppedRatio, previousDroppedRatio: p.counts.droppedRatio)
        }
        return out
    }

    /// Keys of `current` that are not keys of `previous`, in `current`'s order.
    static func newKeys(_ current: [RankedCount], _ previous: [RankedCount]) -> [String] {
        let old = Set(previous.map(\.key))
        return current.map(\.key).filter { !old.contains($0) }
    }
}

extension EnvironmentReport {
    /// The deltas against the previous window, when a comparison was made (`--compare previous`).
    public var deltas: TrendDeltas? {
        previous.map { TrendDeltas.compute(current: waf.value, flows.value, previous: $0) }
    }
}
