import Foundation
import ThreatModel

extension FlowStatisticsBuilder {
    /// What the Prometheus answers held (docs/data-quality.md): series and samples, already
    /// selected by window and namespace on the engine; a sample that is not a finite, non-negative
    /// number is skipped (the statistics leave it out too), with its query and labels as the place.
    public static func coverage(answers: [FlowQueries.Name: PrometheusAnswer], bytes: Int, source: String) -> SourceCoverage {
        var input = InputCoverage(name: "series", unit: "series", bytes: bytes, read: 0, parsed: 0, samples: 0)
        for name in FlowQueries.Name.allCases {
            guard let answer = answers[name] else { continue }
            for s in answer.vector {
                input.read += 1
                input.samples! += 1
                if s.value.isFinite, s.value >= 0 {
                    input.parsed += 1
                } else {
                    let labels = s.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",")
                    input.skip(s.value.isFinite ? "negative value" : "not a finite number", place: "\(name.rawValue){\(labels)}",
                               value: String(s.value))
                }
            }
            for s in answer.matrix {
                input.read += 1
                input.samples! += s.values.count
                input.parsed += 1
            }
        }
        return SourceCoverage(source: source, inputs: [input])
    }
}
