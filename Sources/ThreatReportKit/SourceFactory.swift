import Foundation
import ThreatConfig
import ThreatModel
import ThreatSources

/// Maps each configured source to its implementation.
public enum SourceFactory {
    /// `previousWindow`: the source for the comparison window; a replay reads `<path>/previous/`.
    public static func waf(_ config: WAFSourceConfig, previousWindow: Bool = false) -> any WAFSource {
        RangeCheckedWAFSource(inner: unchecked(config, previousWindow: previousWindow), place: config.place)
    }

    static func unchecked(_ config: WAFSourceConfig, previousWindow: Bool) -> any WAFSource {
        switch config {
        case let .replay(path): ReplayWAFSource(path: previousWindow ? path + "/previous" : path)
        case let .elasticsearch(settings): ElasticsearchWAFSource(settings: settings)
        case let .files(settings): FilesWAFSource(settings: settings)
        }
    }

    public static func flows(_ config: FlowSourceConfig, previousWindow: Bool = false) -> any FlowSource {
        RangeCheckedFlowSource(inner: unchecked(config, previousWindow: previousWindow), place: config.place)
    }

    static func unchecked(_ config: FlowSourceConfig, previousWindow: Bool) -> any FlowSource {
        switch config {
        case let .replay(path): ReplayFlowSource(path: previousWindow ? path + "/previous" : path)
        case let .prometheus(settings): PrometheusFlowSource(settings: settings, suggest: !previousWindow)
        case let .hubble(settings): HubbleFlowSource(settings: settings)
        }
    }

    /// A live WAF section's recorded answers (`--replay` of a `--record`ed run), decoded with the
    /// section's own settings.
    static func recordedWAF(_ config: WAFSourceConfig, folder: String) -> any WAFSource {
        let place = "recording \(folder)"
        if case let .elasticsearch(settings) = config {
            return RangeCheckedWAFSource(inner: ReplayWAFSource(path: folder, queries: WAFQueries(settings: settings), liveName: "elasticsearch"), place: place)
        }
        return RangeCheckedWAFSource(inner: ReplayWAFSource(path: folder), place: place)
    }

    static func recordedFlows(_ config: FlowSourceConfig, folder: String) -> any FlowSource {
        let place = "recording \(folder)"
        if case let .prometheus(settings) = config {
            return RangeCheckedFlowSource(inner: ReplayFlowSource(path: folder, queries: FlowQueries(settings: settings), liveName: "prometheus",
                                                                  workloadQueries: WorkloadFlowQueries(settings: settings),
                                                                  workloadLabel: settings.workloadLabel), place: place)
        }
        return RangeCheckedFlowSource(inner: ReplayFlowSource(path: folder), place: place)
    }

    public static func policies(_ config: PolicySourceConfig) -> any PolicySource {
        switch config {
        case let .replay(path): ReplayPolicySource(path: path)
        case let .directory(path): DirectoryPolicySource(path: path)
        case let .kubernetes(settings): KubernetesPolicySource(settings: settings)
        }
    }
}
