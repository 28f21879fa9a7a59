import Foundation
import ThreatModel
import ThreatPolicy

/// `policy suggest --prometheus` and the report's suggestions for a Prometheus environment: one
/// least-privilege policy per workload of a namespace from Hubble's aggregated flow metrics
/// (docs/policies.md, "Suggestions from Prometheus"). The metrics give workload names, protocols
/// and verdicts, not pod labels or ports: the selector assumes a configured label carries the
/// workload's name, and each rule allows every port of the observed protocol. Both assumptions are
/// written in each file's opening comment and in the report's notes.
public struct MetricPolicySuggester: Sendable {
    public let namespace: String
    public let kind: SuggestionKind
    /// The pod label assumed to hold the workload's name (`app.kubernetes.io/name` by default).
    public let workloadLabel: String
    public let window: TimeWindow
    public let metric: String
    public let context: WorkloadFlowQueries.Context

    public static let defaultWorkloadLabel = "app.kubernetes.io/name"
    public static let allowedVerdicts: Set<String> = ["FORWARDED", "REDIRECTED", "AUDIT"]

    struct Workload {
        var name: String
        var ingress: [SuggestedPeer: Set<SuggestedPort>] = [:]
        var egress: [SuggestedPeer: Set<SuggestedPort>] = [:]
        var eventsIn = 0, eventsOut = 0, peersDropped = 0
    }

    private var workloads: [String: Workload] = [:]
    private var traffic: [String: WorkloadTraffic] = [:]
    /// Series per workload whose peer the metrics do not name (no rule can allow them).
    private var unnamed: [String: Int] = [:]
    /// Series counted per reason they gave no rule.
    public private(set) var series = 0, used = 0, events = 0
    public private(set) var notAllowed = 0, otherTypes = 0, otherNamespaces = 0, noValue = 0, badValue = 0
    public private(set) var unknownPeer = 0, bareWorkload = 0, unusableName = 0, icmp = 0, noProtocol = 0, workloadsDropped = 0

    public init(namespace: String, kind: SuggestionKind, workloadLabel: String = MetricPolicySuggester.defaultWorkloadLabel,
                window: TimeWindow, metric: String, context: WorkloadFlowQueries.Context) {
        self.namespace = namespace
        self.kind = kind
        self.workloadLabel = workloadLabel
        self.window = window
        self.metric = metric
        self.context = context
    }

    /// The count a series stands for: increase() extrapolates, so any positive value is at least one.
    static func count(_ v: Double) -> Int { max(1, Int(saturating: v.rounded())) }

    public mutating func add(_ r: WorkloadFlowRow) {
        series += 1
        guard r.value.isFinite, r.value >= 0 else { return badValue += 1 }
        guard r.value > 0 else { return noValue += 1 }
        let inbound = r.destination.namespace == namespace, outbound = r.source.namespace == namespace
        guard inbound || outbound else { return otherNamespaces += 1 }
        guard r.type == WorkloadFlowQueries.connectionType else { return otherTypes += 1 }
        let n = MetricPolicySuggester.count(r.value)
        countTraffic(r, n: n, inbound: inbound, outbound: outbound)
        guard MetricPolicySuggester.allowedVerdicts.contains(r.verdict) else { return notAllowed += 1 }
        guard let port = port(r.protocolName) else { return }
        var counted = false
        if outbound, let key = subject(r.source) {
            if let peer = peer(r.destination) {
                change(key) { w in
                    w.eventsOut += n
                    if w.egress[peer] == nil && w.egress.count >= PolicySuggester.peerCap { w.peersDropped += 1; return }
                    w.egress[peer, default: []].insert(port)
                }
                counted = true
            } else {
                unnamed[key, default: 0] += 1
            }
        }
        if inbound, let key = subject(r.destination) {
            if let peer = peer(r.source) {
                change(key) { w in
                    w.eventsIn += n
                    if w.ingress[peer] == nil && w.ingress.count >= PolicySuggester.peerCap { w.peersDropped += 1; return }
                    w.ingress[peer, default: []].insert(port)
                }
                counted = true
            } else {
                unnamed[key, default: 0] += 1
            }
        }
        if counted {
            used += 1
            events = NumberLimits.clampedAdd(events, n)
        }
    }

    /// The observed protocol with port 0 (every port): the flow metric has no port label.
    private mutating func port(_ proto: String) -> SuggestedPort? {
        switch proto {
        case "TCP", "UDP", "SCTP": return SuggestedPort(0, proto)
        case "": 
            if kind == .cilium { return SuggestedPort(0, "ANY") }
            noProtocol += 1
            return nil
        default:
            icmp += 1
            return nil
        }
    }

    /// A usable label value (a workload name that could be a pod label).
    private func usable(_ name: String) -> Bool {
        RuleModeValues.labelValueProblem(name) == nil && !name.isEmpty
    }

    /// The key of the namespace's workload at this end, registering it; nil when it has no usable name.
    private mutating func subject(_ e: WorkloadFlowRow.End) -> String? {
        guard case let .workload(_, name) = e else {
            bareWorkload += 1
            return nil
        }
        guard usable(name) else {
            unusableName += 1
            return nil
        }
        if workloads[name] == nil && unnamed[name] == nil && workloads.count + unnamed.count >= PolicySuggester.workloadCap {
            workloadsDropped += 1
            return nil
        }
        return name
    }

    private mutating func peer(_ e: WorkloadFlowRow.End) -> SuggestedPeer? {
        switch e {
        case let .workload(ns, name):
            guard RuleModeValues.isDNSLabel(ns), usable(name) else {
                unusableName += 1
                return nil
            }
            return .pods(namespace: ns, labels: labels(namespace: ns, name: name))
        case let .entity(name):
            let known = ["world", "host", "remote-node", "kube-apiserver", "health", "init", "ingress", "unmanaged"]
            guard known.contains(name), kind == .cilium else {
                unknownPeer += 1
                return nil
            }
            return .entity(name)
        case .namespaceOnly:
            bareWorkload += 1
            return nil
        case .unknown:
            unknownPeer += 1
            return nil
        }
    }

    /// The selector labels of a workload: kube-dns by its well-known label, else the configured
    /// label holding the workload's name.
    func labels(namespace ns: String, name: String) -> [LabelPair] {
        if ns == "kube-system", name == "coredns" || name == "kube-dns" { return [LabelPair("k8s-app", "kube-dns")] }
        return [LabelPair(workloadLabel, name)]
    }

    /// Registers the workload on its first rule (a workload seen only with unnamed peers gets no
    /// policy: it would deny all its traffic).
    private mutating func change(_ key: String, _ f: (inout Workload) -> Void) {
        var w = workloads[key] ?? Workload(name: key)
        f(&w)
        workloads[key] = w
    }

    /// New connections (policy verdict events) each workload of the namespace received and sent,
    /// by verdict, for the coverage table; labels are unknown from metrics.
    private mutating func countTraffic(_ r: WorkloadFlowRow, n: Int, inbound: Bool, outbound: Bool) {
        func bump(_ e: WorkloadFlowRow.End, received: Bool) {
            guard case let .workload(ns, name) = e, ns == namespace else { return }
            let key = InputLimits.keyPrefix(name)
            if traffic[key] == nil {
                guard traffic.count < PolicySuggester.workloadCap else { return }
                traffic[key] = WorkloadTraffic(name: key, namespace: ns, labels: [:], received: FlowCounts(forwarded: 0, dropped: 0),
                                               sent: FlowCounts(forwarded: 0, dropped: 0))
            }
            if received { traffic[key]!.received.add(verdict: r.verdict, n) } else { traffic[key]!.sent.add(verdict: r.verdict, n) }
        }
        if inbound { bump(r.destination, received: true) }
        if outbound { bump(r.source, received: false) }
    }

    /// The namespace's workloads seen, most traffic first.
    public var workloadTraffic: [WorkloadTraffic] {
        traffic.values.sorted { a, b in
            let x = a.received.total + a.sent.total, y = b.received.total + b.sent.total
            return x != y ? x > y : a.name < b.name
        }
    }

    public func policies() -> [SuggestedPolicy] {
        let sorted = workloads.values.sorted { ($0.name.lowercased(), $0.name) < ($1.name.lowercased(), $1.name) }
        let slugs = FileNameSlug.slugs(sorted.map(\.name))
        return zip(sorted, slugs).map { w, slug in
            var p = SuggestedPolicy(name: "suggested-\(slug)", namespace: namespace, workloads: [w.name],
                                    selector: labels(namespace: namespace, name: w.name))
            p.ingress = w.ingress
            p.egress = w.egress
            p.comment = comment(w)
            return p
        }
    }

    private func comment(_ w: Workload) -> [String] {
        var c: [String] = []
        c.append("Suggested by `threat-report policy suggest` from Hubble metrics in Prometheus (\(metric), \(context.phrase)): least privilege for what was observed.")
        c.append("Workload: \(namespace)/\(w.name)")
        c.append("Window: \(RFC3339.format(window.from)) to \(RFC3339.format(window.to))")
        c.append("Observed: \(w.eventsIn) inbound and \(w.eventsOut) outbound allowed policy verdict event(s); \(w.ingress.count) inbound and \(w.egress.count) outbound peer(s)")
        c.append("First and last seen: not in the metrics (counts over the window only)")
        c.append("Selector: pods labelled \(workloadLabel)=\(w.name), assumed from the workload's name (set --workload-label or workload_label); check the pods carry it before enabling.")
        c.append("Ports: not in the metrics (\(metric) has no port label), so each rule allows every port of the protocol observed; narrow them before enabling.")
        c.append("Everything not observed is denied in both directions (default deny)" + (w.ingress.isEmpty ? "; no inbound connection was observed, so none is allowed" : "") + ".")
        c.append("Deployed disabled: GitLab's disabled_by label is in the selector; `threat-report policy enable FILE` removes it.")
        if let u = unnamed[w.name], u > 0 {
            c.append("Not allowed: \(u) series with a peer no rule can name (outside any namespace with no identity in the metrics, a pod without a workload, or a name that is not a label value); add those peers before enabling, or that traffic is denied.")
        }
        if w.peersDropped > 0 { c.append("Not kept: \(w.peersDropped) series to peers past the \(PolicySuggester.peerCap)-peer limit.") }
        return c
    }

    /// What was left out, one phrase each.
    public var skippedPhrases: [String] {
        var s: [String] = []
        if otherTypes > 0 { s.append("\(otherTypes) of other event types (Trace, Drop, L7: they count replies and packets, not connections)") }
        if notAllowed > 0 { s.append("\(notAllowed) not allowed (dropped or other verdicts)") }
        if noValue > 0 { s.append("\(noValue) with no event in the window") }
        if badValue > 0 { s.append("\(badValue) with a value that is not a finite, non-negative number") }
        if otherNamespaces > 0 { s.append("\(otherNamespaces) of other namespaces") }
        if unknownPeer > 0 { s.append("\(unknownPeer) ends outside any namespace that the metrics do not name (world, host or a node)") }
        if bareWorkload > 0 { s.append("\(bareWorkload) ends with a namespace but no workload name") }
        if unusableName > 0 { s.append("\(unusableName) ends whose name is not a valid label value or namespace") }
        if icmp > 0 { s.append("\(icmp) ICMP or other protocols (not turned into rules)") }
        if noProtocol > 0 { s.append("\(noProtocol) without a protocol label (a NetworkPolicy port needs one)") }
        if workloadsDropped > 0 { s.append("\(workloadsDropped) of workloads past the \(PolicySuggester.workloadCap)-workload limit") }
        return s
    }

    /// The notes the report and the command print: the context used, the assumptions, what was left out.
    public var notes: [String] {
        var n = ["From Prometheus: \(metric) with \(context.phrase); \(used) of \(series) series became rules (policy verdict events, one per new connection and direction)."]
        n.append("Ports are not in the metrics: each rule allows every port of the observed protocol. Selectors assume the pod label \(workloadLabel) holds the workload's name. Review both before enabling.")
        let skipped = skippedPhrases
        if !skipped.isEmpty { n.append("Left out series: " + skipped.joined(separator: ", ") + ".") }
        let onlyUnnamed = unnamed.keys.filter { workloads[$0] == nil }.count
        if onlyUnnamed > 0 {
            n.append("\(onlyUnnamed) workload(s) were seen only with peers no rule can name and got no policy (it would deny all their traffic).")
        }
        if used == 0 && otherTypes > 0 {
            n.append("No allowed policy verdict events: Cilium emits them only where a policy selects the endpoint or in policy audit mode; deploy a default-deny policy in audit mode to listen first.")
        }
        return n
    }

    public func checked() -> (kept: [CheckedSuggestion], rejected: [String]) {
        CheckedSuggestion.check(policies(), kind: kind, namespace: namespace)
    }

    public func report() -> PolicySuggestions {
        let (kept, rejected) = checked()
        return PolicySuggestions(
            items: kept.map { PolicySuggestions.Item(file: $0.file, name: $0.policy.name, workloads: $0.policy.workloads,
                                                     explanation: $0.explanation, manifest: $0.yaml) },
            flowsUsed: events, notes: notes + rejected, portsUnknown: true)
    }

    /// The report's value when the metrics name no workload: no file, and a note saying why.
    public static func noContext(metric: String, namespace: String, queries: WorkloadFlowQueries) -> PolicySuggestions {
        var s = PolicySuggestions(items: [], flowsUsed: 0, notes: [noContextMessage(metric: metric, namespace: namespace, queries: queries)], portsUnknown: true)
        s.unavailable = true
        return s
    }

    /// The report's value when the workload query failed: no file, and the error.
    public static func failed(_ error: String) -> PolicySuggestions {
        var s = PolicySuggestions(items: [], flowsUsed: 0, notes: ["No suggestions from Prometheus: the workload query failed (\(error))."], portsUnknown: true)
        s.unavailable = true
        return s
    }

    public static func noContextMessage(metric: String, namespace: String, queries: WorkloadFlowQueries) -> String {
        "No suggestions from Prometheus: no \(metric) series for namespace \(namespace) names a workload (neither labelsContext's "
            + "source_workload/destination_workload nor \(queries.sourceLabel)/\(queries.destinationLabel)=namespace/workload), so the metrics carry "
            + "no workload context or the namespace had no traffic in the window. Enable one (docs/flows.md, \"Workload contexts\"), or suggest from flow files (policy suggest --flows)."
    }
}

extension MetricPolicySuggester {
    /// The report's suggestions (Cilium kind) and coverage workloads from a fetch: suggestions with
    /// the context used, or none and a note saying the metrics name no workload.
    public static func forReport(_ outcome: WorkloadFlowFetch.Outcome, namespace: String, window: TimeWindow,
                                 queries: WorkloadFlowQueries, workloadLabel: String) -> (PolicySuggestions, [WorkloadTraffic]?) {
        guard let context = outcome.context else {
            return (noContext(metric: queries.metric, namespace: namespace, queries: queries), nil)
        }
        var s = MetricPolicySuggester(namespace: namespace, kind: .cilium, workloadLabel: workloadLabel, window: window,
                                      metric: queries.metric, context: context)
        for r in outcome.rows { s.add(r) }
        return (s.report(), s.workloadTraffic)
    }

    /// Puts a workload fetch (live or replayed) into the environment's statistics: the suggestions
    /// and the coverage workloads. A failed query costs the suggestions, not the statistics, and is
    /// said in the section. Returns the engine's warnings the answers carried.
    static func apply(_ fetched: Result<WorkloadFlowFetch.Outcome?, SourceError>, to stats: inout FlowStatistics, warnings: inout [String],
                      namespace: String, window: TimeWindow, queries: WorkloadFlowQueries, workloadLabel: String) -> [String] {
        switch fetched {
        case let .failure(error):
            warnings.append("suggested policies: the workload query failed: \(error.description)")
            stats.suggestions = failed(error.description)
        case let .success(outcome?):
            (stats.suggestions, stats.workloads) = forReport(outcome, namespace: namespace, window: window, queries: queries,
                                                             workloadLabel: workloadLabel)
            return outcome.engineWarnings
        case .success(nil): break
        }
        return []
    }
}
