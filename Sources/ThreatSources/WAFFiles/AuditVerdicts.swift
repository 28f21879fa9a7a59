import Foundation
import ThreatModel

/// What the statistics ask of the entry a reader holds: blocked or not, its anomaly score, and
/// whether it matched a critical attack rule. docs/domain.md §1 gives the definitions.
extension AuditEntryReader {
    /// A six-digit rule number from its id, or nil.
    static func ruleNumber(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
        guard b.count == 6 else { return nil }
        var n = 0
        for c in b {
            guard c &- 0x30 < 10 else { return nil }
            n = n * 10 + Int(c &- 0x30)
        }
        return n
    }

    /// Rules whose match decides blocking: CRS's inbound (949110, and 949111 in CRS 4) and
    /// outbound (959100) anomaly-score evaluation.
    static let blockingRules: Set<Int> = [949_110, 949_111, 959_100]

    /// The CRS's "deployed without configuration" rule: it denies every request with 500.
    static let unconfiguredCRSRule = 901_001

    /// Blocked is the disruptive action the entry logs (`is_interrupted`, v2's
    /// `audit_data.action`, an "Access denied with code N (phase P)" message), whatever the
    /// status. An entry that does not say (libmodsecurity before 3.0.13) counts as blocked when
    /// the engine was on, a denying rule matched (CRS's blocking evaluation, or 901001) and the
    /// answer was an error status.
    var blocked: Bool {
        if let disruptive { return disruptive }
        guard engine == .enabled, let code = httpCode, code >= 400 else { return false }
        return rules.contains { r in
            guard let n = Self.ruleNumber(bytes(r.id)) else { return false }
            return Self.blockingRules.contains(n) || n == Self.unconfiguredCRSRule
        }
    }

    /// Rule 901001 matched: the CRS runs without crs-setup.conf.
    var crsUnconfigured: Bool {
        rules.contains { Self.ruleNumber(bytes($0.id)) == Self.unconfiguredCRSRule }
    }

    /// The inbound anomaly score from 949110's (or 949111's) message:
    /// `Inbound Anomaly Score Exceeded (Total Score: N)`.
    var anomalyScore: Int? {
        for r in rules {
            guard let n = Self.ruleNumber(bytes(r.id)), n == 949_110 || n == 949_111 else { continue }
            if let s = Self.totalScore(bytes(r.message)) { return s }
        }
        return nil
    }

    static func totalScore(_ m: UnsafeBufferPointer<UInt8>) -> Int? {
        let needle = Array("Total Score: ".utf8)
        guard m.count > needle.count else { return nil }
        for k in 0...(m.count - needle.count) where m[k] == 0x54 {
            guard UnsafeBufferPointer(rebasing: m[k..<(k + needle.count)]).elementsEqual(needle) else { continue }
            var j = k + needle.count, v = 0
            while j < m.count, m[j] &- 0x30 < 10, j - k - needle.count < 6 {
                v = v * 10 + Int(m[j] &- 0x30)
                j += 1
            }
            return j > k + needle.count ? v : nil
        }
        return nil
    }

    /// A match of CRITICAL severity or worse (0–2) in an attack category. The anomaly-evaluation
    /// rules are left out: under CRS 4, 949110 carries no severity and logs "0", which is not
    /// EMERGENCY.
    var hasCriticalAttack: Bool {
        rules.contains { r in
            guard let s = r.severity, s <= 2, let n = Self.ruleNumber(bytes(r.id)) else { return false }
            return CRSCategory(ruleNumber: n).isAttack
        }
    }
}
