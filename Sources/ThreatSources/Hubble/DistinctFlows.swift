import Foundation
import ThreatModel
import ThreatPolicy

/// Flow files repeat the same connections many times over: the same workloads talk on the same
/// ports with the same verdict, and only the time, the pod instance and the source port change.
/// `DistinctFlows` counts the flows of each distinct connection key (what the report's tables, the
/// suggestions and the simulation read of a flow) with the first and last time seen, so that the
/// costly work (strings, selectors, policy verdicts, display names) runs once per key, not once
/// per flow.
///
/// Keys hold small integers: the side's class (its decoded values, pod instance aside: see
/// `HubbleLineDecoder.SideInfo.classKey`) and interned values (verdict, drop reason, denying
/// policies, addresses, DNS names and answers). `entries` hands the keys over in the order of
/// their first flow, so every capped table downstream admits its keys in the same order as flow by
/// flow, and the counts are the same sums: the output does not change. Bounded: past `capacity`
/// entries (or interned values) the caller hands the entries over and the table starts over.
struct DistinctFlows {
    static let defaultCapacity = 65_536
    /// The most entries; sides are kept alive by their class: an eighth as many classes (the
    /// decoder's own side cache holds 16,384 sides).
    let capacity: Int
    let classCapacity: Int
    /// The most bytes of keys the interned values hold together.
    static let internBytes = 16 << 20

    /// One distinct connection (0 in an interned field: absent).
    struct Key: Hashable {
        var source: Int32 = 0, destination: Int32 = 0
        var verdict: Int32 = 0
        /// The decoded destination port; `Int.min` when absent.
        var port = Int.min
        /// Which L4 layers are present (`HubbleFlowScanner.l4`).
        var l4: UInt8 = 0
        /// `is_reply` (else `reply`): 0 absent, 1 false, 2 true.
        var reply: UInt8 = 0
        /// Outside the caller's time window (`policy suggest --from/--to`).
        var outsideWindow = false
        var reason: Int32 = 0, denied: Int32 = 0
        var sourceIP: Int32 = 0, destinationIP: Int32 = 0
        var names: Int32 = 0, dns: Int32 = 0
    }

    struct Entry {
        var key: Key
        var count: Int
        var first: Date
        var last: Date
    }

    /// Values interned by a text key; id 0 stands for absent.
    struct Interned<Value> {
        private var ids: [String: Int32] = [:]
        private(set) var values: [Value?] = [nil]
        /// The bytes of the keys held.
        private(set) var bytes = 0

        var count: Int { values.count }

        mutating func id(_ key: String, _ make: () -> Value) -> Int32 {
            if let known = ids[key] { return known }
            let id = Int32(values.count)
            ids[key] = id
            values.append(make())
            bytes += key.utf8.count
            return id
        }


        subscript(_ id: Int32) -> Value? { values[Int(id)] }

        mutating func reset() {
            ids.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            values.append(nil)
            bytes = 0
        }
    }

    /// The decoded reason of a drop, as the report's flow (`drop_reason_desc`) and the policy
    /// commands' flow (also `drop_reason`) read it.
    struct Reason {
        var flow: String?
        var observed: String?
        /// The report's drop-reason key of `flow` (`DropReason.canonical`), worked out once per reason.
        var canonical: String

        init(flow: String?, observed: String?) {
            self.flow = flow
            self.observed = observed
            canonical = Reason.canonical(flow)
        }

        /// The key of a drop reason in the report's table, as `HubbleFlowSource.Tally.countKeyed` counts it.
        static func canonical(_ flow: String?) -> String {
            DropReason.canonical(InputLimits.keyPrefix(flow ?? "UNKNOWN"))
        }
    }
    /// The denying policies, as the report and the policy commands read them.
    struct Denied {
        var flow: [HubbleFlowSource.DenyingPolicy]
        var observed: [String]
    }

    struct DNS {
        var query: String?
        var ips: [String]
    }

    /// An open-addressing index into `entries` (-1: free), twice their capacity: a dictionary
    /// would hold every key a second time.
    private var slots: [Int32] = []
    private(set) var entries: [Entry] = []
    var classes = Interned<HubbleLineDecoder.SideInfo>()
    var verdicts = Interned<String>(), reasons = Interned<Reason>(), denied = Interned<Denied>()
    var addresses = Interned<String>(), names = Interned<[String]>(), dns = Interned<DNS>()
    /// Bumped when the interned values start over (a side's cached class id is then stale).
    private(set) var generation = 1
    private var lastVerdict: (text: String, id: Int32, generation: Int) = ("", 0, 0)
    /// The report's drop-reason key of a flow without a decoded reason.
    private let unknownReason = Reason.canonical(nil)
    /// The secret seed of `slot` (new for each table: keys cannot be chosen to pile onto one slot).
    private let seed = HashKey.random().k0

    init(capacity: Int = DistinctFlows.defaultCapacity) {
        self.capacity = capacity
        classCapacity = capacity / 8
        // At once: a growing array would copy itself at each doubling (only the pages used count).
        entries.reserveCapacity(capacity)
    }

    /// Counts one flow of `key` at `time`.
    mutating func count(_ key: Key, time: Date) {
        if slots.isEmpty { slots = [Int32](repeating: -1, count: 1 << (Int.bitWidth - (2 * capacity - 1).leadingZeroBitCount)) }
        let mask = slots.count - 1
        var h = slot(key) & mask
        while true {
            let i = Int(slots[h])
            if i < 0 { break }
            if entries[i].key == key {
                entries[i].count += 1
                if time < entries[i].first { entries[i].first = time }
                if time > entries[i].last { entries[i].last = time }
                return
            }
            h = (h + 1) & mask
        }
        slots[h] = Int32(entries.count)
        entries.append(Entry(key: key, count: 1, first: time, last: time))
    }

    /// A key's place in `slots`: its fields mixed with the table's secret seed (multiply–xorshift,
    /// several times faster than `Hasher` on a key of this size).
    @inline(__always)
    private func slot(_ k: Key) -> Int {
        @inline(__always) func mix(_ h: UInt64, _ v: UInt64) -> UInt64 {
            var x = (h ^ v) &* 0xBF58_476D_1CE4_E5B9
            x ^= x >> 31
            return x
        }
        @inline(__always) func pair(_ hi: Int32, _ lo: Int32) -> UInt64 {
            UInt64(UInt32(bitPattern: hi)) << 32 | UInt64(UInt32(bitPattern: lo))
        }
        var h = mix(seed, pair(k.source, k.destination))
        h = mix(h, pair(k.verdict, Int32(k.l4) << 16 | Int32(k.reply) << 8 | (k.outsideWindow ? 1 : 0)))
        h = mix(h, UInt64(bitPattern: Int64(k.port)))
        h = mix(h, pair(k.reason, k.denied))
        h = mix(h, pair(k.sourceIP, k.destinationIP))
        h = mix(h, pair(k.names, k.dns))
        h = (h ^ (h >> 33)) &* 0xFF51_AFD7_ED55_8CCD
        return Int(truncatingIfNeeded: h ^ (h >> 33))
    }

    /// The id of a verdict (the same verdict comes line after line).
    mutating func verdictID(_ verdict: String) -> Int32 {
        if lastVerdict.generation == generation, lastVerdict.text == verdict { return lastVerdict.id }
        let id = verdicts.id(verdict) { verdict }
        lastVerdict = (verdict, id, generation)
        return id
    }

    /// Whether the next line may not find room: the keys of all interned values together hold at
    /// most `internBytes` (a line adds a few values of at most a line's bytes each).
    var isFull: Bool {
        let most = capacity - 16
        if entries.count >= capacity || classes.count >= classCapacity - 2 { return true }
        if verdicts.count >= most || reasons.count >= most || denied.count >= most || addresses.count >= most || names.count >= most
            || dns.count >= most { return true }
        let bytes = classes.bytes + verdicts.bytes + reasons.bytes + denied.bytes + addresses.bytes + names.bytes + dns.bytes
        return bytes + 8 * InputLimits.lineBytes >= Self.internBytes
    }

    /// Empties the table once its entries (`entries`, in the order of their first flow) have been
    /// handed over; the interned values start over too when they are full.
    mutating func startOver() {
        let reset = isFull
        entries.removeAll(keepingCapacity: true)
        if !slots.isEmpty { slots.withUnsafeMutableBufferPointer { $0.update(repeating: -1) } }
        guard reset else { return }
        classes.reset()
        verdicts.reset()
        reasons.reset()
        denied.reset()
        addresses.reset()
        names.reset()
        dns.reset()
        generation += 1
    }

    /// The class id of a side (its cached id while the interned values last).
    mutating func classID(_ side: HubbleLineDecoder.SideInfo) -> Int32 {
        if side.classRef.generation == generation { return side.classRef.id }
        let id = classes.id(side.classKey) { side }
        side.classRef = (generation, id)
        return id
    }

    // MARK: The flows back

    /// Hands the entries over in order, with the table itself (borrowed: not copied per entry).
    func forEachEntry(_ body: (borrowing DistinctFlows, Entry) -> Void) {
        for e in entries { body(self, e) }
    }

    /// The report's drop-reason key of an entry (`Reason.canonical` of its flow's reason).
    func canonicalReason(_ e: Entry) -> String {
        reasons[e.key.reason]?.canonical ?? unknownReason
    }

    /// The sides of an entry (the first side seen of each class).
    func sides(_ k: Key) -> (HubbleLineDecoder.SideInfo, HubbleLineDecoder.SideInfo) {
        (classes[k.source]!, classes[k.destination]!)
    }

    /// The report's flow of an entry (`HubbleLineDecoder.flow`), at its first time; the pods are
    /// those of the class's first side (only pod-independent values are read from them).
    func flow(_ e: Entry) -> (HubbleFlowSource.Flow, (HubbleLineDecoder.SideInfo, HubbleLineDecoder.SideInfo)) {
        let k = e.key
        let (src, dst) = sides(k)
        let (port, proto) = HubbleLineDecoder.flowL4(l4: Int(k.l4), port: k.port == Int.min ? nil : k.port)
        let f = HubbleFlowSource.Flow(
            time: e.first, verdict: verdicts[k.verdict] ?? "", sourceNamespace: src.namespace, destinationNamespace: dst.namespace,
            sourcePod: src.pod, destinationPod: dst.pod, destinationPort: port, proto: proto, dropReason: reasons[k.reason]?.flow,
            deniedBy: denied[k.denied]?.flow ?? [], source: src.endpoint, destination: dst.endpoint, isReply: k.reply == 2,
            sourceLabels: src.labels, destinationLabels: dst.labels, sourceWorkload: src.workload, destinationWorkload: dst.workload)
        return (f, (src, dst))
    }

    /// The policy commands' flow of an entry (`HubbleLineDecoder.observed`), at its first time.
    func observed(_ e: Entry) -> HubbleConnectionReader.LineOutcome {
        let k = e.key
        let (port, protocolName) = HubbleLineDecoder.observedL4(l4: Int(k.l4), port: k.port == Int.min ? nil : k.port)
        guard let proto = protocolName else { return .withoutL4 }
        if let p = port, !(0...65535).contains(p) { return .notFlow }
        let (src, dst) = sides(k)
        var s = src.policy, d = dst.policy
        s.ip = addresses[k.sourceIP]
        d.ip = addresses[k.destinationIP]
        d.dnsNames = names[k.names] ?? []
        var f = ObservedFlow(time: e.first, verdict: verdicts[k.verdict] ?? "", isReply: k.reply == 0 ? nil : k.reply == 2,
                             connection: PolicyConnection(source: s, destination: d, port: port, protocolName: proto))
        f.dropReason = reasons[k.reason]?.observed
        f.sourcePod = src.podText
        f.destinationPod = dst.podText
        f.sourceWorkload = src.workloadText
        f.destinationWorkload = dst.workloadText
        if let answer = dns[k.dns] {
            f.dnsQuery = answer.query
            f.dnsIPs = answer.ips
        }
        f.deniedBy = denied[k.denied]?.observed ?? []
        return .flow(f)
    }
}
