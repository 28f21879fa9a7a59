import Foundation
import ThreatConfig
import ThreatModel

/// GitLab's packet-flow queries for one namespace and window (docs/domain.md §2), plus inbound/outbound
/// and drop detail. Metric and label names are configurable because some installs rename them.
public struct FlowQueries: Sendable, Equatable {
    public var metric = "hubble_flows_processed_total"
    public var dropMetric = "hubble_drop_total"
    public var sourceLabel = "source"
    public var destinationLabel = "destination"
    public var verdictLabel = "verdict"

    public init() {}
    public init(settings: PrometheusSettings) {
        metric = settings.metric
        dropMetric = settings.dropMetric
        sourceLabel = settings.sourceLabel
        destinationLabel = settings.destinationLabel
        verdictLabel = settings.verdictLabel
    }

    /// The names under which a recording stores each answer.
    public enum Name: String, CaseIterable, Sendable {
        case totals, inbound, outbound, rate, dropReasons = "drop_reasons", dropPairs = "drop_pairs"
        public var isRange: Bool { self == .rate }
    }

    /// PromQL string literal: backslash and double quote escaped.
    static func quote(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    public func query(_ name: Name, namespace ns: String, window: TimeWindow) -> String {
        let w = "[\(window.seconds)s]"
        let q = FlowQueries.quote(ns)
        let (s, d, v) = (sourceLabel, destinationLabel, verdictLabel)
        switch name {
        case .totals:
            return "sum by(\(v)) (increase(\(metric){\(d)=\(q)}\(w)) or on(\(s),\(d),\(v)) increase(\(metric){\(s)=\(q)}\(w)))"
        case .inbound:
            return "sum by(\(v)) (increase(\(metric){\(d)=\(q)}\(w)))"
        case .outbound:
            return "sum by(\(v)) (increase(\(metric){\(s)=\(q)}\(w)))"
        case .rate:
            let r = "[\(window.interval.promRateRange)]"
            return "sum by(\(v)) (rate(\(metric){\(d)=\(q)}\(r)) or on(\(s),\(d),\(v)) rate(\(metric){\(s)=\(q)}\(r)))"
        case .dropReasons:
            return "sum by(reason) (increase(\(dropMetric){\(d)=\(q)}\(w)) or on(\(s),\(d),reason,protocol) increase(\(dropMetric){\(s)=\(q)}\(w)))"
        case .dropPairs:
            return "sum by(\(s),\(d)) (increase(\(metric){\(d)=\(q),\(v)=\"DROPPED\"}\(w)) or on(\(s),\(d),\(v)) increase(\(metric){\(s)=\(q),\(v)=\"DROPPED\"}\(w)))"
        }
    }

    /// The HTTP request for a query: path and ordered parameters.
    public func request(_ name: Name, namespace: String, window: TimeWindow) -> RecordedRequest {
        let q = query(name, namespace: namespace, window: window)
        let to = String(Int(window.to.timeIntervalSince1970))
        if name.isRange {
            return RecordedRequest(method: "GET", path: "/api/v1/query_range",
                                   params: [["query", q], ["start", String(Int(window.from.timeIntervalSince1970))],
                                            ["end", to], ["step", String(window.promStep)]])
        }
        return RecordedRequest(method: "GET", path: "/api/v1/query", params: [["query", q], ["time", to]])
    }
}

/// Turns the answers to `FlowQueries` into `FlowStatistics` (GitLab's formulas: total = FORWARDED +
/// DROPPED; increase() extrapolates, so counts are rounded to the nearest integer as GitLab did).
public enum FlowStatisticsBuilder {
    public static func build(answers: [FlowQueries.Name: PrometheusAnswer], queries: FlowQueries,
                             namespace: String) -> (FlowStatistics, [String]) {
        var warnings: [String] = []
        func counts(_ name: FlowQueries.Name) -> FlowCounts {
            var f = 0.0, d = 0.0
            for s in answers[name]?.vector ?? [] {
                guard s.value.isFinite, s.value >= 0 else {
                    // increase() is never negative: a negative count is a broken answer.
                    let what = s.value.isFinite ? "a negative" : "a non-finite"
                    warnings.append("\(name.rawValue): ignored \(what) value (\(s.value)) for \(s.labels[queries.verdictLabel] ?? "?")")
                    continue
                }
                switch s.labels[queries.verdictLabel] {
                case "FORWARDED": f += s.value
                case "DROPPED": d += s.value
                default: break
                }
            }
            return FlowCounts(forwarded: Int(saturating: f), dropped: Int(saturating: d))
        }
        func series(_ verdict: String) -> [SeriesPoint<Double>] {
            guard let s = answers[.rate]?.matrix.first(where: { $0.labels[queries.verdictLabel] == verdict }) else { return [] }
            return s.values.map { SeriesPoint(Date(timeIntervalSince1970: $0.time), $0.value.isFinite ? $0.value : .nan) }
        }
        func ranked(_ name: FlowQueries.Name, key: ([String: String]) -> String) -> [RankedCount] {
            let items = (answers[name]?.vector ?? []).compactMap { s -> RankedCount? in
                guard s.value.isFinite else { return nil }
                let n = Int(saturating: s.value)
                return n > 0 ? RankedCount(key: key(s.labels), count: n) : nil
            }
            return rank(items)
        }
        let stats = FlowStatistics(
            counts: counts(.totals), inbound: counts(.inbound), outbound: counts(.outbound),
            forwardedRate: series("FORWARDED"), droppedRate: series("DROPPED"),
            topDropReasons: rank(mergeReasons(ranked(.dropReasons) { DropReason.canonical($0["reason"] ?? "") })),
            topDroppedPairs: ranked(.dropPairs) { labels in
                "\(labels[queries.sourceLabel] ?? "world") → \(labels[queries.destinationLabel] ?? "world")"
            })
        return (stats, warnings)
    }

    /// Prometheus `warnings` (e.g. a partial response from a store): the numbers may be incomplete.
    public static func engineWarnings(_ answers: [FlowQueries.Name: PrometheusAnswer]) -> [String] {
        answers.sorted { $0.key.rawValue < $1.key.rawValue }.flatMap { name, answer in
            answer.warnings.map { "Prometheus warned on the \(name.rawValue) query: \($0)" }
        }
    }

    static func mergeReasons(_ items: [RankedCount]) -> [RankedCount] {
        var byKey: [String: Int] = [:]
        for i in items { byKey[i.key, default: 0] += i.count }
        return byKey.map { RankedCount(key: $0.key, count: $0.value) }
    }

    /// Largest first, then by key, at most `limit`.
    public static func rank(_ items: [RankedCount], limit: Int = 10) -> [RankedCount] {
        Array(items.sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }.prefix(limit))
    }
}

/// Cilium drop reasons: enum names since 1.14 (`POLICY_DENIED`), prose before (`Policy denied`).
/// Both are shown as the enum name.
public enum DropReason {
    public static func canonical(_ raw: String) -> String {
        let t = raw.trimmingCharacters(in: .whitespaces)
        if t.isEmpty { return "UNKNOWN" }
        var out = ""
        var lastUnderscore = false
        for u in t.unicodeScalars {
            if CharacterSet.alphanumerics.contains(u), u.isASCII {
                out.unicodeScalars.append(u)
                lastUnderscore = false
            } else if !lastUnderscore, !out.isEmpty {
                out += "_"
                lastUnderscore = true
            }
        }
        while out.hasSuffix("_") { out.removeLast() }
        return out.isEmpty ? "UNKNOWN" : out.uppercased()
    }
}
