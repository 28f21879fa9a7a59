import Foundation
import Testing
import ThreatConfig
import ThreatModel

/// `thresholds.max_skipped_share`: the share of an input a source may skip before
/// `input.partially_read` (docs/data-quality.md), globally and per environment.
@Suite("thresholds.max_skipped_share")
struct SkippedShareConfigTests {
    @Test("Default 1%, a global value, and a per-environment override")
    func values() throws {
        let cfg = try loadConfig("""
        version: 1
        thresholds:
          max_skipped_share: 0.02
        environments:
          - {name: a, namespace: a}
          - {name: b, namespace: b, thresholds: {max_skipped_share: 0.1}}
        """)
        #expect(Thresholds.defaults.maxSkippedShare == 0.01)
        #expect(cfg.thresholds.maxSkippedShare == 0.02)
        #expect(cfg.environments[0].thresholds.maxSkippedShare == 0.02)
        #expect(cfg.environments[1].thresholds.maxSkippedShare == 0.1)
        #expect(try loadConfig("version: 1\nenvironments: [{name: a, namespace: b}]\n").environments[0].thresholds.maxSkippedShare == 0.01)
    }

    @Test("A share of 1 or more, or below 0, names file:line:column", arguments: ["1", "-0.1", "5"])
    func invalid(value: String) throws {
        let e = configError("version: 1\nthresholds:\n  max_skipped_share: \(value)\nenvironments: [{name: a, namespace: b}]\n")
        #expect(e?.description.hasPrefix("cfg.yml:3:22") == true, "\(e?.description ?? "none")")
        #expect(e?.description.contains("max_skipped_share must be a share") == true)
    }
}
