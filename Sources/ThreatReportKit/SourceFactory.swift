import Foundation
import ThreatConfig
import ThreatModel
import ThreatSources

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

    /// A live WAF section's recorded answers (`--replay` of a `--record`ed run), decoded with the
    /// section's own settings.
    static func recordedWAF(_ config: WAFSourceConfig, folder: String) -> any WAFSource {
        if case let .elasticsearch(settings) = config {
            return ReplayWAFSource(path: folder, queries: WAFQueries(settings: settings), liveName: "elasticsearch")
        }
        return ReplayWAFSource(path: folder)
    }

    static func recordedFlows(_ config: FlowSourceConfig, folder: String) -> any FlowSource {
        if case let .prometheus(settings) = config {
            return ReplayFlowSource(path: folder, queries: FlowQueries(settings: settings), liveName: "prometheus")
        }
        return ReplayFlowSource(path: folder)
    }

    public static func policies(_ config: PolicySourceConfig) -> any PolicySource {
        switch config {
        case let .replay(path): ReplayPolicySource(path: path)
        case let .directory(path): DirectoryPolicySource(path: path)
        case let .kubernetes(settings): KubernetesPolicySource(settings: settings)
        }
    }
}
