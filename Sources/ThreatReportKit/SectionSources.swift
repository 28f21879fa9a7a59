import Foundation
import ThreatConfig
import ThreatModel
import ThreatSources

/// One section of an environment's report as the pipeline reads it: its configured source, where
/// its result goes in the report, how a recording of it is replayed and, for the sections
/// compared with the previous window, where that comparison goes. A new section is a new type
/// conforming to this protocol, listed in `SectionSources.of`; `SectionCollector` does the rest
/// (deadline, partial results, the previous window, coverage, record and replay).
protocol SectionSource: Sendable {
    associatedtype Value: Sendable & Equatable & Codable
    /// The section's name: its recording folder (`<environment>/<name>/`) and its log lines.
    static var name: String { get }
    /// Where the section goes in the environment's report.
    static var inReport: WritableKeyPath<EnvironmentReport, Section<Value>> { get }
    /// Where the comparison with the previous window goes; nil when the section is not compared.
    static var previous: PreviousSlots<Value>? { get }
    /// Read from local files in no time (recordings, manifests): read first, and still read after
    /// the deadline (every local read stops at the deadline by itself, with its own cause).
    var isLocal: Bool { get }
    /// Answers come from an engine over the network, and `--record` saves them.
    var isLive: Bool { get }
    /// A `replay:` source's own folder (its previous window is under `previous/`).
    var replayFolder: String? { get }
    /// Asks the source for `context`'s window (`previousWindow`: the window before the report's).
    func fetch(_ context: SourceContext, previousWindow: Bool) throws(SourceError) -> SourceOutput<Value>
    /// Decodes the answers recorded in `folder` by a `--record` run (`record`: its `source.json`).
    func replay(_ folder: String, record: SectionRecord, _ context: SourceContext) throws(SourceError) -> SourceOutput<Value>
}

extension SectionSource {
    static var previous: PreviousSlots<Value>? { nil }
    var replayFolder: String? { nil }
}

/// Where a section's previous-window comparison goes in `PreviousWindow`, and what counts as an
/// empty answer (the window may have expired from the engine).
struct PreviousSlots<Value> {
    var value: WritableKeyPath<PreviousWindow, Value?>
    var unavailable: WritableKeyPath<PreviousWindow, String?>
    var coverage: WritableKeyPath<PreviousWindow, SourceCoverage?>
    var isEmpty: (Value) -> Bool
}

/// The WAF section: Elasticsearch, log files or a recording.
struct WAFSection: SectionSource {
    var config: WAFSourceConfig
    static var name: String { "waf" }
    static var inReport: WritableKeyPath<EnvironmentReport, Section<WAFStatistics>> { \.waf }
    static var previous: PreviousSlots<WAFStatistics>? {
        PreviousSlots(value: \.waf, unavailable: \.wafUnavailable, coverage: \.wafCoverage,
                      isEmpty: { $0.totalRequests == 0 && $0.anomalousRequests == 0 })
    }
    var isLocal: Bool { config.isLocal }
    var isLive: Bool { config.isLive }
    var replayFolder: String? { if case let .replay(path) = config { path } else { nil } }
    func fetch(_ context: SourceContext, previousWindow: Bool) throws(SourceError) -> SourceOutput<WAFStatistics> {
        try SourceFactory.waf(config, previousWindow: previousWindow).fetch(context)
    }
    func replay(_ folder: String, record: SectionRecord, _ context: SourceContext) throws(SourceError) -> SourceOutput<WAFStatistics> {
        try SourceFactory.recordedWAF(config, folder: folder).fetch(context)
    }
}

/// The flows section: Prometheus, Hubble flow files or a recording.
struct FlowSection: SectionSource {
    var config: FlowSourceConfig
    static var name: String { "flows" }
    static var inReport: WritableKeyPath<EnvironmentReport, Section<FlowStatistics>> { \.flows }
    static var previous: PreviousSlots<FlowStatistics>? {
        PreviousSlots(value: \.flows, unavailable: \.flowsUnavailable, coverage: \.flowsCoverage, isEmpty: { $0.counts.total == 0 })
    }
    var isLocal: Bool { config.isLocal }
    var isLive: Bool { config.isLive }
    var replayFolder: String? { if case let .replay(path) = config { path } else { nil } }
    func fetch(_ context: SourceContext, previousWindow: Bool) throws(SourceError) -> SourceOutput<FlowStatistics> {
        try SourceFactory.flows(config, previousWindow: previousWindow).fetch(context)
    }
    func replay(_ folder: String, record: SectionRecord, _ context: SourceContext) throws(SourceError) -> SourceOutput<FlowStatistics> {
        try SourceFactory.recordedFlows(config, folder: folder).fetch(context)
    }
}

/// The policies section: the Kubernetes API, manifests (or `--policies PATH|-`) or a recording.
/// Not compared with the previous window.
struct PolicySection: SectionSource {
    var config: PolicySourceConfig
    /// `--policies PATH|-`: one manifest stream for all environments, each keeping its namespace's.
    var shared: String?
    static var name: String { "policies" }
    static var inReport: WritableKeyPath<EnvironmentReport, Section<PolicySet>> { \.policies }
    var isLocal: Bool { config.isLocal }
    var isLive: Bool { config.isLive }
    func fetch(_ context: SourceContext, previousWindow: Bool) throws(SourceError) -> SourceOutput<PolicySet> {
        try (shared.map { DirectoryPolicySource(path: $0, onlyNamespace: true) } ?? SourceFactory.policies(config)).fetch(context)
    }
    func replay(_ folder: String, record: SectionRecord, _ context: SourceContext) throws(SourceError) -> SourceOutput<PolicySet> {
        let origins = record.origins(in: RecordingFolder(path: folder), names: ReplayPolicySource.answers)
        return try ReplayPolicySource(path: folder, origins: origins, liveName: config.isLive ? "kubernetes" : nil).fetch(context)
    }
}

enum SectionSources {
    /// The configured sections of `env`, in the report's order (waf, flows, policies).
    /// `sharedPolicies`: `--policies PATH|-`, which stands in for every environment's policy source.
    static func of(_ env: EnvironmentConfig, sharedPolicies: String?) -> [any SectionSource] {
        var out: [any SectionSource] = []
        if let c = env.waf { out.append(WAFSection(config: c)) }
        if let c = env.flows { out.append(FlowSection(config: c)) }
        if let shared = sharedPolicies {
            out.append(PolicySection(config: .directory(shared), shared: shared))
        } else if let c = env.policies {
            out.append(PolicySection(config: c))
        }
        return out
    }
}
