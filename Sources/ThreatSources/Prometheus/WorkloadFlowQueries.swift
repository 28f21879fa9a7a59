import Foundation
import ThreatConfig
import ThreatModel

/// The PromQL behind workload-level suggestions from Hubble metrics (docs/flows.md, "Workload
/// contexts"): one aggregated query per environment and window, so the grouping runs inside
/// Prometheus, Thanos or Mimir. Hubble's flow metric names workloads in one of two ways:
/// - `labelsContext=source_namespace,source_workload,destination_namespace,destination_workload`:
///   four labels of their own (asked first);
/// - `sourceContext=workload` / `destinationContext=workload`: the `source` and `destination` labels
///   hold `namespace/workload` (asked when the first answer names no workload).
public struct WorkloadFlowQueries: Sendable, Equatable {
    public var metric = "hubble_flows_processed_total"
    public var sourceLabel = "source"
    public var destinationLabel = "destination"
    public var verdictLabel = "verdict"

    public init() {}
    public init(settings: PrometheusSettings) {
        metric = settings.metric
        sourceLabel = settings.sourceLabel
        destinationLabel = settings.destinationLabel
        verdictLabel = settings.verdictLabel
    }

    /// Which workload context the metrics carry.
    public enum Context: String, Sendable, CaseIterable {
        /// `labelsContext` with source/destination namespace and workload.
        case labels = "workload_flows"
        /// `sourceContext`/`destinationContext` = `workload` (`namespace/name`).
        case workload = "workload_flows_context"

        /// How the report and `policy suggest` name it.
        public var phrase: String {
            switch self {
            case .labels: "labelsContext (source_namespace, source_workload, destination_namespace, destination_workload)"
            case .workload: "sourceContext/destinationContext=workload (namespace/workload)"
            }
        }
    }

    /// The event type whose series become rules: Cilium emits one policy verdict per new
    /// connection and direction, so replies never count (Trace events count every packet's flow).
    public static let connectionType = "PolicyVerdict"
    public static let typeLabel = "type"
    public static let protocolLabel = "protocol"

    /// `shop` → `shop/.+` as a PromQL regex (RE2 metacharacters escaped).
    static func namespacePrefixRegex(_ ns: String) -> String {
        var out = ""
        for c in ns {
            if "\\.+*?()|[]{}^$".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out + "/.+"
    }

    public func query(_ context: Context, namespace ns: String, window: TimeWindow) -> String {
        let w = "[\(window.seconds)s]"
        let t = WorkloadFlowQueries.typeLabel, p = WorkloadFlowQueries.protocolLabel, v = verdictLabel
        switch context {
        case .labels:
            let q = FlowQueries.quote(ns)
            return "sum by(source_namespace,source_workload,destination_namespace,destination_workload,\(p),\(t),\(v)) "
                + "(increase(\(metric){destination_namespace=\(q)}\(w)) or increase(\(metric){source_namespace=\(q)}\(w)))"
        case .workload:
            let re = FlowQueries.quote(WorkloadFlowQueries.namespacePrefixRegex(ns))
            let (s, d) = (sourceLabel, destinationLabel)
            return "sum by(\(s),\(d),\(p),\(t),\(v)) (increase(\(metric){\(d)=~\(re)}\(w)) or increase(\(metric){\(s)=~\(re)}\(w)))"
        }
    }

    public func request(_ context: Context, namespace: String, window: TimeWindow) -> RecordedRequest {
        RecordedRequest(method: "GET", path: "/api/v1/query",
                        params: [["query", query(context, namespace: namespace, window: window)],
                                 ["time", String(Int(window.to.timeIntervalSince1970))]])
    }

    /// One answer series as a connection between two ends, each `namespace/workload`, an entity
    /// (`reserved:world`), or nil when the metric names nothing for that side.
    public func row(_ s: PrometheusAnswer.Sample, context: Context) -> WorkloadFlowRow {
        func end(_ ns: String?, _ name: String?) -> WorkloadFlowRow.End {
            let ns = ns ?? "", name = name ?? ""
            if ns.isEmpty && name.isEmpty { return .unknown }
            if ns.isEmpty { return .unknown }
            if name.isEmpty { return .namespaceOnly(ns) }
            return .workload(namespace: ns, name: name)
        }
        func contextEnd(_ text: String?) -> WorkloadFlowRow.End {
            guard let text, !text.isEmpty else { return .unknown }
            if text.hasPrefix("reserved:") { return .entity(String(text.dropFirst("reserved:".count))) }
            guard let slash = text.firstIndex(of: "/") else { return .unknown }
            return end(String(text[..<slash]), String(text[text.index(after: slash)...]))
        }
        let l = s.labels
        let source: WorkloadFlowRow.End, destination: WorkloadFlowRow.End
        switch context {
        case .labels:
            source = end(l["source_namespace"], l["source_workload"])
            destination = end(l["destination_namespace"], l["destination_workload"])
        case .workload:
            source = contextEnd(l[sourceLabel])
            destination = contextEnd(l[destinationLabel])
        }
        return WorkloadFlowRow(source: source, destination: destination, protocolName: (l[WorkloadFlowQueries.protocolLabel] ?? "").uppercased(),
                               type: l[WorkloadFlowQueries.typeLabel] ?? "", verdict: l[verdictLabel] ?? "", value: s.value)
    }
}

/// One aggregated series of the workload query.
public struct WorkloadFlowRow: Sendable, Equatable {
    public enum End: Sendable, Equatable, Hashable {
        case workload(namespace: String, name: String)
        /// A pod of the namespace with no workload name (a bare pod).
        case namespaceOnly(String)
        /// A Cilium reserved identity (`world`, `host`, `kube-apiserver`…), from `reserved-identity`.
        case entity(String)
        /// Outside any namespace, and the metric does not say what (world, host, a node…).
        case unknown

        public var namespace: String? {
            switch self {
            case let .workload(ns, _), let .namespaceOnly(ns): ns
            default: nil
            }
        }
    }

    public var source: End
    public var destination: End
    public var protocolName: String
    public var type: String
    public var verdict: String
    /// `increase()` over the window (extrapolated, so not always an integer).
    public var value: Double

    public init(source: End, destination: End, protocolName: String, type: String, verdict: String, value: Double) {
        self.source = source
        self.destination = destination
        self.protocolName = protocolName
        self.type = type
        self.verdict = verdict
        self.value = value
    }

    /// Whether the series names a workload at all (the context the metrics carry).
    public var namesWorkload: Bool {
        if case .workload = source { return true }
        if case .workload = destination { return true }
        return false
    }
}

/// Asks for the workload flows: the labelsContext query first, then the workload-context one
/// when the first names no workload. `ask` sends (or reads back) one query; it returns nil when a
/// replayed recording does not hold it.
public enum WorkloadFlowFetch {
    public struct Outcome: Sendable {
        /// The context found, nil when neither answer named a workload.
        public var context: WorkloadFlowQueries.Context?
        public var rows: [WorkloadFlowRow]
        /// The queries asked, in order.
        public var asked: [WorkloadFlowQueries.Context]
        /// Warnings Prometheus attached to the answers (partial results).
        public var engineWarnings: [String]
    }

    public static func fetch(queries: WorkloadFlowQueries,
                             ask: (WorkloadFlowQueries.Context) throws(SourceError) -> PrometheusAnswer?) throws(SourceError) -> Outcome? {
        var asked: [WorkloadFlowQueries.Context] = []
        var warnings: [String] = []
        var lastRows: [WorkloadFlowRow] = []
        for context in WorkloadFlowQueries.Context.allCases {
            guard let answer = try ask(context) else { return asked.isEmpty ? nil : Outcome(context: nil, rows: lastRows, asked: asked, engineWarnings: warnings) }
            asked.append(context)
            warnings += answer.warnings.map { "Prometheus warned on the \(context.rawValue) query: \($0)" }
            let rows = answer.vector.map { queries.row($0, context: context) }
            if rows.contains(where: \.namesWorkload) {
                return Outcome(context: context, rows: rows, asked: asked, engineWarnings: warnings)
            }
            lastRows = rows
        }
        return Outcome(context: nil, rows: [], asked: asked, engineWarnings: warnings)
    }
}
