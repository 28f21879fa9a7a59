import Foundation
import ThreatModel

/// A count per key with a cap on distinct keys and on the bytes the keys hold. A key is cut to
/// `InputLimits.keyBytes` before it is kept; once either cap is reached, occurrences of new keys
/// are counted as "other" (`other`), so whatever the input, the table stays within its caps and
/// no occurrence is lost from the totals. `warning` says so in the report.
public struct BoundedCounts: Sendable {
    public let cap: Int
    public let byteCap: Int
    public private(set) var counts: [String: Int] = [:]
    public private(set) var bytes = 0
    /// Occurrences of keys that found no room.
    public private(set) var other = 0

    public init(cap: Int = 100_000, byteCap: Int = 8 << 20) {
        self.cap = cap
        self.byteCap = byteCap
    }

    public mutating func add(_ key: String, _ n: Int = 1) {
        let k = InputLimits.keyPrefix(key)
        if let old = counts[k] {
            counts[k] = NumberLimits.clampedAdd(old, n)
        } else if counts.count < cap, bytes + k.utf8.count <= byteCap {
            counts[k] = n
            bytes += k.utf8.count
        } else {
            other = NumberLimits.clampedAdd(other, n)
        }
    }

    /// The largest counts first (ties by key), at most `limit`.
    public func ranked(limit: Int = 10) -> [RankedCount] {
        FlowStatisticsBuilder.rank(counts.map { RankedCount(key: $0.key, count: $0.value) }, limit: limit)
    }

    /// "N dropped flows with pairs beyond the table cap of M entries or B MiB were counted as other …", or nil.
    public func warning(_ unit: String, with what: String) -> String? {
        BoundedCounts.warning(other: other, cap: cap, byteCap: byteCap, unit, with: what)
    }

    /// The warning of a table with these caps that counted `other` occurrences as other, or nil.
    static func warning(other: Int, cap: Int, byteCap: Int, _ unit: String, with what: String) -> String? {
        guard other > 0 else { return nil }
        return "\(other) \(unit) with \(what) beyond the table cap of \(cap) entries or \(InputLimits.describe(bytes: byteCap)) were counted as other "
            + "(in the totals, not ranked; a ranked count may be low by up to \(other))"
    }
}
