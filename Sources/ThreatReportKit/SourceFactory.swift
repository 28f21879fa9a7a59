import Foundation
import ThreatConfig
import ThreatModel
import ThreatSources

/// A configured source whose live client is not part of this build: it fails the section with a
/// plain reason (the run goes on, and exits 3), and never pretends to have data.
struct NotBuiltSource: WAFSource, FlowSource, PolicySource {
    var what: String
    func fail() -> SourceError {
        .unsupported("\(what) is not available in threat-report \(ToolInfo.version); record the answers elsewhere and use a replay source, see docs/recordings.md")
    }
    func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<WAFStatistics> { throw fail() }
    func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<FlowStatistics> { throw fail() }
    func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<PolicySet> { throw fail() }
}

/// Maps each configured source to its implementation.
public enum SourceFactory {
    /// `previousWindow`: the source for the comparison window; a replay reads `<path>/previous/`.
    public static func waf(_ config: WAFSourceConfig, previousWindow: Bool = false) -> any WAFSource {
        switch config {
        case let .replay(path): ReplayWAFSource(path: previousWindow ? path + "/previous" : path)
        case let .elasticsearch(settings): ElasticsearchWAFSource(settings: settings)
        case let .files(settings): FilesWAFSource(settings: settings)
        }
    }

    public static func flows(_ config: FlowSourceConfig, previousWindow: Bool = false) -> any FlowSource {
        switch config {
        case let .replay(path): ReplayFlowSource(path: previousWindow ? path + "/previous" : path)
        case let .prometheus(settings): PrometheusFlowSource(settings: settings)
        case let .hubble(settings): HubbleFlowSource(settings: settings)
        }
    }

    public static func policies(_ config: PolicySourceConfig) -> any PolicySource {
        switch config {
        case let .replay(path): ReplayPolicySource(path: path)
        case let .directory(path): DirectoryPolicySource(path: path)
        case let .kubernetes(settings): KubernetesPolicySource(settings: settings)
        }
    }
}
