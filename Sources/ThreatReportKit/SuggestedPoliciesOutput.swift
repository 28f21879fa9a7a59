import Foundation
import ThreatModel
import ThreatRender

/// The report's suggested policies: each environment's suggestions (from its flow files) are
/// placed at `suggested-policies/<environment slug>/<workload>.yaml` and written with the report
/// (through `OutputWriter`, listed in SHA256SUMS, switched with the folder like `waf-tuning/`).
/// Nothing is applied: every manifest carries GitLab's disabled_by label.
enum SuggestedPoliciesOutput {
    static let folder = "suggested-policies"

    /// The reports with each suggestion's file placed below its environment's folder.
    static func place(_ reports: [EnvironmentReport]) -> [EnvironmentReport] {
        let slugs = FileNameSlug.slugs(reports.map(\.name))
        return reports.enumerated().map { i, env in
            guard var flows = env.flows.value, var s = flows.suggestions else { return env }
            s.items = s.items.map { item in
                var item = item
                let name = (item.file as NSString).lastPathComponent
                item.file = "\(folder)/\(slugs[i])/\(name)"
                return item
            }
            flows.suggestions = s
            var env = env
            env.flows.value = flows
            return env
        }
    }

    static func files(_ report: Report) -> [OutputFile] {
        report.environments.flatMap { env in
            (env.flows.value?.suggestions?.items ?? []).filter { $0.file.hasPrefix(folder + "/") }.map {
                OutputFile(path: $0.file, text: $0.manifest)
            }
        }
    }
}
