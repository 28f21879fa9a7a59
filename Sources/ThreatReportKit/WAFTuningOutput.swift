import Foundation
import ThreatAnalysis
import ThreatModel
import ThreatRender

/// The report's tuning step: each environment's WAF tuning input becomes advice (candidates,
/// exclusion file, campaigns), and each exclusion file an output file `waf-tuning/<slug>.conf`
/// written with the report (through `OutputWriter`, like every other file).
enum WAFTuningOutput {
    static let folder = "waf-tuning"

    static func advise(_ reports: [EnvironmentReport], window: TimeWindow, generatedAt: Date,
                       options: WAFTuningOptions = WAFTuningOptions(), idRanges: [ClosedRange<Int>?] = []) -> [EnvironmentReport] {
        let slugs = FileNameSlug.slugs(reports.map(\.name))
        return reports.enumerated().map { i, env in
            guard var waf = env.waf.value, let input = waf.tuning else { return env }
            let header = WAFExclusionFile.Header(environment: env.name, generatedAt: generatedAt, from: window.from, to: window.to)
            var options = options
            if i < idRanges.count, let range = idRanges[i] { options.idRange = range }
            waf.tuningAdvice = WAFTuning.advise(input, environment: slugs[i], options: options, header: header)
            // The input (rows, attack-looking entries) has served: the report carries the advice only.
            waf.tuning = nil
            var env = env
            env.waf.value = waf
            return env
        }
    }

    static func files(_ report: Report) -> [OutputFile] {
        report.environments.compactMap { env in
            guard let a = env.waf.value?.tuningAdvice, !a.file.isEmpty else { return nil }
            return OutputFile(path: a.fileName, text: a.file)
        }
    }
}
