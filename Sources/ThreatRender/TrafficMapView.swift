import Foundation
import ThreatCharts
import ThreatModel

/// The traffic map of an environment as the renderers show it: `flows.map` in `report.json`, the
/// chart (`charts/<env>-map.{png,svg}`, a PDF page; HTML and Markdown show it as the flows
/// section's `map_chart`).
public enum TrafficMapView {
    /// The environment's map with `covered` filled from its policy section, per workload where the
    /// coverage table knows it (nil when the flow source has no map).
    public static func map(of env: EnvironmentReport) -> TrafficMap? {
        env.flows.value?.map?.withCoverage(env.policies.value, namespace: env.namespace, workloads: WorkloadCoverage.rows(env))
    }

    /// `flows.map` of report.json: nodes, edges (busiest first) and what the table held.
    static func json(_ env: EnvironmentReport) -> JSONValue {
        guard let m = map(of: env) else { return .null }
        func n(_ i: Int) -> JSONValue { .number(Double(i)) }
        return .object([
            ("nodes", .array(m.nodes.map { .object([("id", .string($0.id)), ("kind", .string($0.kind.rawValue)), ("label", .string($0.label))]) })),
            ("edges", .array(m.edges.map { e in .object([
                ("source", .string(e.source)), ("destination", .string(e.destination)), ("flows", n(e.flows)),
                ("forwarded", n(e.forwarded)), ("dropped", n(e.dropped)), ("audit", n(e.audit)), ("other", n(e.other)),
                ("replies", n(e.replies)), ("covered", e.covered.map { .bool($0) } ?? .null),
            ]) })),
            ("flows", n(m.flows)), ("reply_flows", n(m.replyFlows)), ("unmapped_flows", n(m.unmappedFlows)),
            ("edge_cap", n(m.edgeCap)),
        ])
    }

    /// The chart of an environment with a map that has at least one connection.
    static func chart(_ env: EnvironmentReport, slug: String) -> TrafficMapChart? {
        guard let m = map(of: env), m.flows > 0 else { return nil }
        return TrafficMapChart(id: "\(slug)-map", title: "Traffic map (\(Sanitize.text(env.name, max: 40)))",
                               graph: TrafficMapGraph(m, namespace: env.namespace))
    }
}
