import Foundation
import Testing
import ThreatModel
@testable import ThreatSources
import TestSupport

/// The scan's own tables against the standard library's: the transaction index by keyed hash, and
/// an interner numbering another interner's strings.
struct ScanTableTests {
    @Test("KeyedIndex: the same answers as a [UInt64: Int] through growth, overwrites and keys that share their first slot")
    func keyedIndexAgainstDictionary() {
        var rng = SplitMix(state: 7)
        var index = KeyedIndex()
        var reference: [UInt64: Int] = [:]
        var keys: [UInt64] = []
        for step in 0..<50_000 {
            let key: UInt64
            switch rng.next() % 4 {
            case 0 where !keys.isEmpty: key = keys[Int(rng.next() % UInt64(keys.count))]  // overwrite
            case 1: key = (rng.next() << 40) | 5  // the same low bits: one probe run
            default: key = max(1, rng.next())
            }
            keys.append(key)
            index.set(key, step)
            reference[key] = step
        }
        #expect(index.count == reference.count)
        for (k, v) in reference { #expect(index[k] == v) }
        var misses = 0
        for _ in 0..<10_000 {
            let k = max(1, rng.next())
            if reference[k] == nil, index[k] != nil { misses += 1 }
        }
        #expect(misses == 0)
        #expect(KeyedIndex()[42] == nil)
        var sized = KeyedIndex(capacity: 100)
        sized.set(42, 1)
        #expect(sized[42] == 1 && sized.count == 1)
        // Emptied, it finds nothing of before and takes keys again.
        index.removeAll()
        #expect(index.count == 0)
        #expect(reference.keys.prefix(1_000).allSatisfy { index[$0] == nil })
        for (k, v) in reference.prefix(1_000) { index.set(k, v + 1) }
        #expect(index.count == 1_000)
        #expect(reference.prefix(1_000).allSatisfy { index[$0.key] == $0.value + 1 })
    }

    @Test("Interner: numbering another interner's strings gives the ids of interning their bytes, with the same key or another, caps included")
    func internerNumbersAnothersStrings() {
        var rng = SplitMix(state: 11)
        let key = HashKey(k0: 1, k1: 2)
        var source = Interner(cap: 10_000, byteCap: 1 << 20, key: key)
        for i in 0..<3_000 { _ = source.id("/path/\(i % 2_000)?q=\(rng.next() % 50)") }
        // A long string is kept cut to the key prefix; its stored hash is the prefix's.
        _ = source.id(String(repeating: "é", count: InputLimits.keyBytes))
        for otherKey in [key, HashKey(k0: 3, k1: 4)] {
            var viaIDs = Interner(cap: 1_500, byteCap: 1 << 20, key: otherKey)
            var viaBytes = Interner(cap: 1_500, byteCap: 1 << 20, key: otherKey)
            viaIDs.reserve(source.count, bytes: source.bytes)
            for id in 0..<UInt32(source.count) {
                let a = viaIDs.id(of: id, in: source)
                let b = source.withBytes(id) { viaBytes.id($0) }
                #expect(a == b)
            }
            #expect(viaIDs.count == viaBytes.count && viaIDs.count == 1_500)
            #expect(viaIDs.overflowed == viaBytes.overflowed && viaIDs.overflowed > 0)
            for id in 0..<UInt32(viaIDs.count) { #expect(viaIDs.string(id) == viaBytes.string(id)) }
            // Found again by their bytes: each was filed under its hash with the receiving key.
            for id in 0..<UInt32(viaIDs.count) {
                let bytes = Array(viaIDs.string(id)!.utf8)
                #expect(bytes.withUnsafeBufferPointer { viaIDs.id($0) } == id)
            }
            #expect(viaIDs.count == 1_500)
            #expect(viaIDs.id(of: Interner.overflow, in: source) == nil)
        }
    }
}
