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

    /// ModSecurity has no "blocked" field: a request was blocked when the engine was on
    /// (`Enabled`), a blocking-evaluation rule matched, and the answer was the deny status 403.
    var blocked: Bool {
        engine == .enabled && httpCode == 403
            && rules.contains { Self.ruleNumber(bytes($0.id)).map(Self.blockingRules.contains) ?? false }
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
