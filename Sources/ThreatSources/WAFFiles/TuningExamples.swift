import Foundation

/// The example `unique_id`s of the tuning rows (docs/waf.md "The tuning input"), gathered by the
/// parse workers: per (rule, path prefix, target, window) the `perKey` earliest entries (ties by
/// id), each with its record so the aggregation keeps only the environment's. Only these ids are
/// kept, never one per entry; at most `keyCap` keys per worker (a match past them gives no example).
struct TuningExamples {
    static let perKey = 4
    /// A longer `unique_id` gives no example (a hostile log cannot make the table large).
    static let uidMaxBytes = 128
    static let keyCap = 20_000

    struct Example: Equatable {
        var time: Int64
        var record: Int32
        var uid: [UInt8]

        static func earlier(_ a: Example, _ b: Example) -> Bool {
            a.time != b.time ? a.time < b.time : a.uid.lexicographicallyPrecedes(b.uid)
        }
    }

    struct LocalKey: Hashable {
        var rule: UInt32
        var prefix: UInt32
        var target: UInt32
        var window: UInt8
    }

    /// Across workers: the rule and target as merged interner ids, the prefix as text.
    struct Key: Hashable {
        var rule: UInt32
        var prefix: String
        var target: UInt32
        var window: UInt8
    }

    /// The lists, in the order their keys were first offered, found through `slots` by the
    /// key packed into 63 bits (`slotKey`): a dictionary keyed by `LocalKey` spent most of the
    /// error-log transactions' conversion hashing it.
    private(set) var keys: [LocalKey] = []
    private(set) var lists: [[Example]] = []
    private var slots = KeyedIndex()
    /// Mixed into each packed key (its top bit set, so no key mixes to 0): slots a log cannot choose.
    private let salt = UInt64.random(in: 0...UInt64.max) | 1 << 63
    /// The path prefixes seen, numbered (at most one per URI, so within the URIs' caps).
    private(set) var prefixes = Interner(cap: 100_000, byteCap: 8 << 20, key: HashKey.random())
    /// By URI id (ids are dense): the prefix's number, or `UInt32.max` when not yet known.
    private var prefixOfURI: [UInt32] = []

    /// The key's 63 bits (rule 17, target 18, prefix 20, window 8), salted and mixed by
    /// MurmurHash3's finalizer, a bijection: two keys never share a slot key. The interners'
    /// caps keep every id within its bits (rules 20,000, targets 50,000, URIs and so prefixes
    /// 100,000); an id past them gives nil, and no example.
    static func slotKey(_ k: LocalKey, salt: UInt64) -> UInt64? {
        guard k.rule < 1 << 17, k.target < 1 << 18, k.prefix < 1 << 20 else { return nil }
        return murmurFinish((UInt64(k.rule) << 46 | UInt64(k.target) << 28 | UInt64(k.prefix) << 8 | UInt64(k.window)) ^ salt)
    }

    /// Offers an entry as an example of one of its matches.
    mutating func offer(rule: UInt32, uri: UInt32, target: UInt32, window: UInt8, time: Int64, record: Int, uid: UnsafeBufferPointer<UInt8>,
                        uris: Interner) {
        guard rule != Interner.overflow, uri != Interner.overflow, target != Interner.overflow, target != RuleRef.noTarget,
              uid.count <= Self.uidMaxBytes else { return }
        let prefix: UInt32
        let u = Int(uri)
        if u < prefixOfURI.count, prefixOfURI[u] != UInt32.max {
            prefix = prefixOfURI[u]
        } else {
            prefix = WAFTuningAggregation.withPathPrefix(uris, uri) { prefixes.id($0) }
            guard prefix != Interner.overflow else { return }
            if u >= prefixOfURI.count { prefixOfURI += repeatElement(UInt32.max, count: u + 1 - prefixOfURI.count) }
            prefixOfURI[u] = prefix
        }
        let key = LocalKey(rule: rule, prefix: prefix, target: target, window: window)
        guard let sk = Self.slotKey(key, salt: salt) else { return }
        let i: Int
        if let found = slots[sk] {
            i = found
            // A full list keeps only an earlier entry: tell without copying the id.
            if lists[i].count >= Self.perKey, let last = lists[i].last,
               !(time < last.time || (time == last.time && uid.lexicographicallyPrecedes(last.uid))) { return }
        } else {
            guard lists.count < Self.keyCap else { return }
            i = lists.count
            slots.set(sk, i)
            keys.append(key)
            lists.append([])
        }
        guard !lists[i].contains(where: { $0.record == Int32(clamping: record) }) else { return }
        let e = Example(time: time, record: Int32(clamping: record), uid: Array(uid))
        if lists[i].count < Self.perKey {
            lists[i].append(e)
        } else if let last = lists[i].last, Example.earlier(e, last) {
            lists[i][lists[i].count - 1] = e
        } else {
            return
        }
        lists[i].sort(by: Example.earlier)
    }

    /// Adds a worker's examples, its rule and target ids mapped to the merged ones and its
    /// records moved by `recordBase`.
    static func merge(_ part: TuningExamples, into out: inout [Key: [Example]], rules: [UInt32], targets: [UInt32], recordBase: Int) {
        for (k, list) in zip(part.keys, part.lists) {
            let rule = rules[Int(k.rule)], target = targets[Int(k.target)]
            guard rule != Interner.overflow, target != Interner.overflow else { continue }
            let key = Key(rule: rule, prefix: part.prefixes.string(k.prefix) ?? "", target: target, window: k.window)
            let moved = list.map { Example(time: $0.time, record: $0.record + Int32(recordBase), uid: $0.uid) }
            out[key] = Array(((out[key] ?? []) + moved).sorted(by: Example.earlier).prefix(perKey))
        }
    }
}
