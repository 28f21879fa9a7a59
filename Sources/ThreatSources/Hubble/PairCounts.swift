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
///
/// Keys of ASCII text and arrows (U+2192) alone, the usual ones, are found by their bytes: such a
/// text is in NFC, so two of them are equal as strings exactly when their bytes are. Once any other
/// key comes, every key is also found by its text (a plain key not found by its bytes is looked up
/// by its text), so a key equal to it as a string but spelled otherwise (a Kelvin sign for a K)
/// still finds its count.
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
    /// The slot of each key by its text: once `mixed`, every key (else none).
    private var slots: [String: Int] = [:]
    /// The plain keys (`isPlain`) kept, found by their bytes: open addressing, each entry a slot + 1
    /// (0: free), at most half full.
    private var table: [Int32] = []
    /// The byte hash of each key kept (`byteHash`; 0 for keys that are not plain).
    private var hashes: [Int] = []
    private var plainKeys = 0
    /// Whether a key that is not plain came.
    private var mixed = false
    /// The slot of each pair seen (-1: its key found no room).
    private var pairs: [Pair: Int] = [:]

    init(cap: Int = 100_000, byteCap: Int = 8 << 20, pairCapacity: Int = 32_768) {
        self.cap = cap
        self.byteCap = byteCap
        self.pairCapacity = pairCapacity
    }

    /// The hash of a key's UTF-8 bytes (`Hasher`: seeded anew for each process), never 0.
    static func byteHash(_ key: String) -> Int {
        var h = Hasher(), k = key
        k.withUTF8 { h.combine(bytes: UnsafeRawBufferPointer($0)) }
        let v = h.finalize()
        return v == 0 ? 1 : v
    }

    static func sameBytes(_ a: String, _ b: String) -> Bool {
        var x = a, y = b
        return x.withUTF8 { p in
            y.withUTF8 { q in p.count == q.count && (p.count == 0 || memcmp(p.baseAddress!, q.baseAddress!, p.count) == 0) }
        }
    }

    /// The slot of the plain key `k` (byte hash `h`) kept, if it is.
    private func findPlain(_ k: String, _ h: Int) -> Int? {
        guard !table.isEmpty else { return nil }
        let mask = table.count - 1
        var b = h & mask
        while true {
            let e = Int(table[b])
            if e == 0 { return nil }
            if hashes[e - 1] == h, Self.sameBytes(keys[e - 1], k) { return e - 1 }
            b = (b + 1) & mask
        }
    }

    /// Enters the plain key kept in slot `i` (byte hash `h`) into `table`, at most half full.
    private mutating func enterPlain(_ i: Int, _ h: Int) {
        plainKeys += 1
        if plainKeys * 2 > table.count {
            table = [Int32](repeating: 0, count: max(1024, table.count * 2))
            for (j, hash) in hashes.enumerated() where hash != 0 && j != i { place(j, hash) }
        }
        place(i, h)
    }

    private mutating func place(_ i: Int, _ h: Int) {
        let mask = table.count - 1
        var b = h & mask
        while table[b] != 0 { b = (b + 1) & mask }
        table[b] = Int32(i + 1)
    }

    /// Whether every character of `key` is ASCII or an arrow (U+2192): none of them decomposes or
    /// composes, so the text is in NFC.
    static func isPlain(_ key: String) -> Bool {
        var k = key
        return k.withUTF8 { b in
            var i = 0
            while i < b.count {
                if b[i] < 0x80 {
                    i += 1
                } else if b[i] == 0xE2, i + 2 < b.count, b[i + 1] == 0x86, b[i + 2] == 0x92 {
                    i += 3
                } else {
                    return false
                }
            }
            return true
        }
    }

    /// The slot of `key` cut to `InputLimits.keyBytes`, made if there is room; -1 if not.
    private mutating func slot(_ key: String) -> Int {
        let k = InputLimits.keyPrefix(key)
        let room = keys.count < cap && bytes + k.utf8.count <= byteCap
        if Self.isPlain(k) {
            let h = Self.byteHash(k)
            if let known = findPlain(k, h) { return known }
            if mixed, let known = slots[k] { return known }
            guard room else { return -1 }
            let i = keep(k, hash: h)
            enterPlain(i, h)
            if mixed { slots[k] = i }
            return i
        }
        if !mixed {
            mixed = true
            for (i, kept) in keys.enumerated() { slots[kept] = i }
        }
        if let known = slots[k] { return known }
        guard room else { return -1 }
        let i = keep(k, hash: 0)
        slots[k] = i
        return i
    }

    private mutating func keep(_ k: String, hash: Int) -> Int {
        keys.append(k)
        hashes.append(hash)
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
        let k = InputLimits.keyPrefix(key)
        return keys.firstIndex { $0 == k }.map { counts[$0] }
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
