import Foundation
import ThreatModel

/// The report's dropped and audited pod pairs (`HubbleFlowSource.pairKey`): a `BoundedCounts` with
/// the same cut (`InputLimits.keyPrefix`), caps on entries and bytes, `other`, ranking and warning,
/// whose counts sit in a table by slot. Scanned lines name their pair by their two decoded sides
/// (`HubbleLineDecoder.SideInfo.serial`), port and L4 layers (`Pair`): a pair seen before finds its
/// slot (or that its key found no room) without building or hashing the key text, which holds a
/// non-ASCII arrow and so takes the slow path of string hashing. A pair's key is built and looked up
/// by its text on its first flow only, so keys that are equal as strings (canonically equivalent)
/// still share one count, as in `BoundedCounts`. A key that found no room never finds it later (the
/// table never shrinks), so remembering the refusal changes nothing.
struct PairCounts {
    /// A scanned line's pair: what `HubbleLineDecoder.pairKey` reads.
    struct Pair: Hashable {
        var source: Int
        var destination: Int
        /// The decoded destination port; `Int.min` when absent.
        var port: Int
        var l4: Int
    }

    let cap: Int
    let byteCap: Int
    /// The most pairs remembered; the memory starts over when it is full (costing only a lookup by text).
    let pairCapacity: Int
    /// The keys kept, in the order they found room, and their counts.
    private(set) var keys: [String] = []
    private(set) var counts: [Int] = []
    private(set) var bytes = 0
    /// Occurrences of keys that found no room.
    private(set) var other = 0
    private var slots: [String: Int] = [:]
    /// The slot of each pair seen (-1: its key found no room).
    private var pairs: [Pair: Int] = [:]

    init(cap: Int = 100_000, byteCap: Int = 8 << 20, pairCapacity: Int = 32_768) {
        self.cap = cap
        self.byteCap = byteCap
        self.pairCapacity = pairCapacity
    }

    /// The slot of `key` cut to `InputLimits.keyBytes`, made if there is room; -1 if not.
    private mutating func slot(_ key: String) -> Int {
        let k = InputLimits.keyPrefix(key)
        if let known = slots[k] { return known }
        guard keys.count < cap, bytes + k.utf8.count <= byteCap else { return -1 }
        slots[k] = keys.count
        keys.append(k)
        counts.append(0)
        bytes += k.utf8.count
        return keys.count - 1
    }

    private mutating func add(slot i: Int, _ n: Int) {
        if i >= 0 {
            counts[i] = NumberLimits.clampedAdd(counts[i], n)
        } else {
            other = NumberLimits.clampedAdd(other, n)
        }
    }

    /// Counts `n` flows of `key` (`BoundedCounts.add`).
    mutating func add(_ key: String, _ n: Int = 1) {
        add(slot: slot(key), n)
    }

    /// Counts `n` flows of a scanned line's pair, whose key `key` builds (called on the pair's first flow only).
    mutating func add(_ pair: Pair, _ n: Int = 1, key: () -> String) {
        if let known = pairs[pair] { return add(slot: known, n) }
        if pairs.count >= pairCapacity { pairs.removeAll(keepingCapacity: true) }
        let i = slot(key())
        pairs[pair] = i
        add(slot: i, n)
    }

    /// The count of `key` (cut as when counted), nil if it is not kept.
    func count(_ key: String) -> Int? {
        slots[InputLimits.keyPrefix(key)].map { counts[$0] }
    }

    /// The largest counts first (ties by key), at most `limit` (`BoundedCounts.ranked`).
    func ranked(limit: Int = 10) -> [RankedCount] {
        FlowStatisticsBuilder.rank(zip(keys, counts).map { RankedCount(key: $0, count: $1) }, limit: limit)
    }

    /// The warning of `BoundedCounts.warning`, or nil.
    func warning(_ unit: String, with what: String) -> String? {
        BoundedCounts.warning(other: other, cap: cap, byteCap: byteCap, unit, with: what)
    }
}
