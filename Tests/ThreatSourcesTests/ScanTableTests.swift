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

    @Test("KeyedIndex.valueOrInsert: the value already set, or nil after setting it, as a lookup then a set would give")
    func keyedIndexValueOrInsert() {
        var rng = SplitMix(state: 13)
        var index = KeyedIndex()
        var reference: [UInt64: Int] = [:]
        var keys: [UInt64] = []
        for step in 0..<30_000 {
            let key = !keys.isEmpty && rng.next() % 3 == 0 ? keys[Int(rng.next() % UInt64(keys.count))] : (rng.next() << 36) | 3
            keys.append(key)
            let got = index.valueOrInsert(key, step)
            #expect(got == reference[key])
            if reference[key] == nil { reference[key] = step }
        }
        #expect(index.count == reference.count)
        #expect(reference.allSatisfy { index[$0.key] == $0.value })
    }

    @Test("Interner.id(_:hint:): the hint when it holds the same bytes (cut to the key prefix), else the id the bytes get; overflow counted as without a hint")
    func internerHint() {
        let key = HashKey(k0: 5, k1: 6)
        var hinted = Interner(cap: 50, byteCap: 1 << 20, key: key)
        var plain = Interner(cap: 50, byteCap: 1 << 20, key: key)
        var rng = SplitMix(state: 17)
        var hint = Interner.overflow
        let long = String(repeating: "a", count: InputLimits.keyBytes + 10)
        for i in 0..<2_000 {
            // Mostly the last string again, sometimes a new one, past the cap at the end.
            let text = i % 500 == 0 ? long + "\(i)" : rng.next() % 4 == 0 ? "message \(i)" : "message \(i / 4 * 4)"
            let bytes = Array(text.utf8)
            let a = bytes.withUnsafeBufferPointer { hinted.id($0, hint: hint) }
            let b = bytes.withUnsafeBufferPointer { plain.id($0) }
            #expect(a == b)
            // A wrong hint is not taken.
            if a != Interner.overflow, a > 0 { #expect(bytes.withUnsafeBufferPointer { hinted.id($0, hint: a - 1) } == a) }
            hint = a
        }
        #expect(hinted.count == plain.count && hinted.count == 50)
        #expect(hinted.overflowed > 0)
        // Hints that are no id at all: overflow, no-target and past the table.
        for h in [Interner.overflow, RuleRef.noTarget, UInt32(hinted.count)] {
            #expect(Array("message 0".utf8).withUnsafeBufferPointer { hinted.id($0, hint: h) } == plain.id("message 0"))
        }
    }

    @Test("TuningExamples.slotKey: distinct keys never share a slot key, none is 0, and ids past their bits give none")
    func tuningExampleSlotKeys() {
        var rng = SplitMix(state: 19)
        for salt in [UInt64(1) << 63, rng.next() | 1 << 63] {
            var seen = Set<UInt64>()
            var keys = Set<[UInt32]>()
            // Neighbouring ids (where a weak mix would collide) and random ones within the caps.
            for rule in 0..<20 as Range<UInt32> {
                for target in 0..<20 as Range<UInt32> {
                    for prefix in 0..<20 as Range<UInt32> {
                        for window in 0..<2 as Range<UInt8> {
                            keys.insert([rule, target, prefix, UInt32(window)])
                            let k = TuningExamples.slotKey(.init(rule: rule, prefix: prefix, target: target, window: window), salt: salt)!
                            #expect(k != 0)
                            seen.insert(k)
                        }
                    }
                }
            }
            for _ in 0..<20_000 {
                let key = TuningExamples.LocalKey(rule: UInt32(rng.next() % 20_000), prefix: UInt32(rng.next() % 100_000),
                                                  target: UInt32(rng.next() % 50_000), window: UInt8(rng.next() % 256))
                guard keys.insert([key.rule, key.target, key.prefix, UInt32(key.window)]).inserted else { continue }
                let k = TuningExamples.slotKey(key, salt: salt)!
                #expect(k != 0)
                seen.insert(k)
            }
            #expect(seen.count == keys.count)
        }
        #expect(TuningExamples.slotKey(.init(rule: 1 << 17, prefix: 0, target: 0, window: 0), salt: 1 << 63) == nil)
        #expect(TuningExamples.slotKey(.init(rule: 0, prefix: 1 << 20, target: 0, window: 0), salt: 1 << 63) == nil)
        #expect(TuningExamples.slotKey(.init(rule: 0, prefix: 0, target: 1 << 18, window: 0), salt: 1 << 63) == nil)
        #expect(TuningExamples.slotKey(.init(rule: (1 << 17) - 1, prefix: (1 << 20) - 1, target: (1 << 18) - 1, window: 255), salt: 1 << 63) != nil)
    }
}
