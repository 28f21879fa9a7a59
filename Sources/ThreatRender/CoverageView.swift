import Foundation
import ThreatModel

/// The coverage of an environment's sections for the evidence appendix: one row per section and
/// window, with the first skipped places and their values (sanitised here, escaped by each format).
enum CoverageView {
    typealias Node = [String: Any]

    static func rows(_ env: EnvironmentReport) -> [Node] {
        var out: [Node] = []
        let sections: [(String, SourceCoverage?)] = [
            ("waf", env.waf.coverage), ("flows", env.flows.coverage), ("policies", env.policies.coverage),
            ("waf (previous window)", env.previous?.wafCoverage), ("flows (previous window)", env.previous?.flowsCoverage),
        ]
        for (name, coverage) in sections {
            guard let c = coverage else { continue }
            let examples = c.inputs.flatMap { i in
                i.examples.map { e -> Node in
                    ["place": Sanitize.text(e.place, max: 300), "reason": Sanitize.text(e.reason, max: 120),
                     "value": Sanitize.text(e.value ?? "", max: SkipExample.valueLength + 40), "has_value": e.value != nil]
                }
            }
            out.append(["section": name, "line": Sanitize.text(CoverageText.line(c), max: 1200),
                        "notes": c.notes.map { Sanitize.text($0, max: 400) },
                        "examples": examples, "has_examples": !examples.isEmpty])
        }
        return out
    }
}
