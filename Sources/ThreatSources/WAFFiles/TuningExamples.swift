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

    private(set) var lists: [LocalKey: [Example]] = [:]
    private(set) var prefixes: [String] = []
    private var prefixIndex: [String: UInt32] = [:]
    /// By URI id (ids are dense): the prefix's number, or `UInt32.max` when not yet known.
    private var prefixOfURI: [UInt32] = []

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
            let text = WAFTuningAggregation.pathPrefix(uris, uri)
            if let p = prefixIndex[text] {
                prefix = p
            } else {
                prefix = UInt32(prefixes.count)
                prefixes.append(text)
                prefixIndex[text] = prefix
            }
            if u >= prefixOfURI.count { prefixOfURI += repeatElement(UInt32.max, count: u + 1 - prefixOfURI.count) }
            prefixOfURI[u] = prefix
        }
        let key = LocalKey(rule: rule, prefix: prefix, target: target, window: window)
        var list: [Example]
        if let l = lists[key] {
            // A full list keeps only an earlier entry: tell without copying the id.
            if l.count >= Self.perKey, let last = l.last,
               !(time < last.time || (time == last.time && uid.lexicographicallyPrecedes(last.uid))) { return }
            list = l
        } else {
            guard lists.count < Self.keyCap else { return }
            list = []
        }
        let e = Example(time: time, record: Int32(clamping: record), uid: Array(uid))
        guard !list.contains(where: { $0.record == e.record }) else { return }
        if list.count < Self.perKey {
            list.append(e)
        } else if let last = list.last, Example.earlier(e, last) {
            list[list.count - 1] = e
        } else {
            return
        }
        list.sort(by: Example.earlier)
        lists[key] = list
    }

    /// Adds a worker's examples, its rule and target ids mapped to the merged ones and its
    /// records moved by `recordBase`.
    static func merge(_ part: TuningExamples, into out: inout [Key: [Example]], rules: [UInt32], targets: [UInt32], recordBase: Int) {
        for (k, list) in part.lists {
            let rule = rules[Int(k.rule)], target = targets[Int(k.target)]
            guard rule != Interner.overflow, target != Interner.overflow else { continue }
            let key = Key(rule: rule, prefix: part.prefixes[Int(k.prefix)], target: target, window: k.window)
            let moved = list.map { Example(time: $0.time, record: $0.record + Int32(recordBase), uid: $0.uid) }
            out[key] = Array(((out[key] ?? []) + moved).sorted(by: Example.earlier).prefix(perKey))
        }
    }
}
