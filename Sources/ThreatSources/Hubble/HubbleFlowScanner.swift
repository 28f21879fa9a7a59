import Foundation
import ThreatModel

/// The fast path for `hubble observe -o json` lines: a validating JSON scanner that keeps the
/// fields a flow needs as byte ranges into the line, and skips everything else without building
/// values (a tree parse allocated every key and string of a ~700-byte line).
///
/// It takes only the common shape, `{"flow": {...}, ...}` with plain keys and strings, integer
/// numbers, no duplicate kept keys, and the kept objects and lists where Hubble puts them. For
/// anything else (`scan` returns false: a bare flow object, escapes in a kept string, a fraction
/// or exponent anywhere, a kept field of another type, invalid JSON) the caller parses the line
/// with `JSONValue` as before, so every line gives the same flow (or the same refusal) either way.
struct HubbleFlowScanner {
    enum Kind: UInt8 { case absent, string, number, trueValue, falseValue, null }

    /// Where a scalar sits in the line.
    struct Slot {
        var start = 0
        var end = 0
        var kind = Kind.absent
    }

    /// One side of the flow (`source`, `destination`).
    struct Side {
        /// The whole object, the key of the decoded-side cache.
        var start = 0, end = 0
        var present = false
        var namespace = Slot(), podName = Slot(), identity = Slot(), workload = Slot()
        var labels: [Slot] = []
        var labelsPresent = false
    }

    /// One entry of `ingress_denied_by` (direction 0) or `egress_denied_by` (1).
    struct Denied {
        var direction = 0
        var name = Slot(), namespace = Slot(), kind = Slot()
    }

    enum Field: Int, CaseIterable {
        case rootTime, verdict, time, isReply, reply, dropReasonDesc, dropReason, ipSource, ipDestination, dnsQuery
        case portTCP, portUDP, portSCTP
    }

    /// L4 layers present: TCP, UDP, SCTP, ICMPv4, ICMPv6, VRRP, IGMP.
    static let l4Names: [StaticString] = ["TCP", "UDP", "SCTP", "ICMPv4", "ICMPv6", "VRRP", "IGMP"]

    enum Context: Equatable {
        case skip, root, flow, side(Int), workloads(Int), workload(Int), l4, l4Layer(Int), ip, deniedList(Int), denied, l7, dns
        /// Lists of strings: a side's labels, `destination_names`, `l7.dns.ips`.
        case labels(Int), names, dnsIPs
    }

    enum Target: Equatable {
        case none
        case field(Field)
        case sideNamespace(Int), sidePod(Int), sideIdentity(Int), sideWorkload(Int)
        case deniedName, deniedNamespace, deniedKind
    }

    /// Past this nesting the tree parser decides (its own limit is `InputLimits.jsonDepth`).
    static let maxDepth = 64

    private(set) var slots = [Slot](repeating: Slot(), count: Field.allCases.count)
    private(set) var sides = [Side(), Side()]
    private(set) var denied: [Denied] = []
    private(set) var names: [Slot] = []
    private(set) var dnsIPs: [Slot] = []
    /// Which L4 layers the flow has (bit per `l4Names` entry).
    private(set) var l4 = 0
    private(set) var hasFlow = false
    private(set) var p: UnsafePointer<UInt8> = UnsafePointer(bitPattern: 1)!
    private var n = 0
    private var i = 0

    init() {}

    subscript(_ f: Field) -> Slot { slots[f.rawValue] }

    /// Scans one line; false when the tree parser must decide.
    mutating func scan(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = line.baseAddress else { return false }
        for k in slots.indices { slots[k] = Slot() }
        for s in 0..<2 {
            sides[s].present = false
            sides[s].labelsPresent = false
            sides[s].namespace = Slot()
            sides[s].podName = Slot()
            sides[s].identity = Slot()
            sides[s].workload = Slot()
            sides[s].labels.removeAll(keepingCapacity: true)
        }
        denied.removeAll(keepingCapacity: true)
        names.removeAll(keepingCapacity: true)
        dnsIPs.removeAll(keepingCapacity: true)
        l4 = 0
        hasFlow = false
        p = base
        n = line.count
        i = 0
        skipWhitespace()
        guard i < n, p[i] == 0x7B, object(.root, 0) else { return false }
        skipWhitespace()
        return i == n && hasFlow
    }

    // MARK: Structure

    @inline(__always)
    private mutating func skipWhitespace() { JSONBytes.skipWhitespace(p, n, &i) }

    private mutating func value(_ ctx: Context, _ target: Target, _ depth: Int) -> Bool {
        guard depth < Self.maxDepth, i < n else { return false }
        switch p[i] {
        case 0x7B:
            // A kept object must be an object, and nothing else may stand where one is kept.
            guard target == .none, ctx != .names, ctx != .dnsIPs else { return false }
            if case .labels = ctx { return false }
            if case .workloads = ctx { return false }
            if case .deniedList = ctx { return false }
            return object(ctx, depth + 1)
        case 0x5B:
            guard target == .none else { return false }
            switch ctx {
            case .skip, .labels, .names, .dnsIPs, .workloads, .deniedList: return array(ctx, depth + 1)
            default: return false
            }
        case 0x22:
            let s = i + 1
            guard let escaped = string() else { return false }
            if target == .none && ctx == .skip { return true }
            guard !escaped, isScalar(ctx) else { return false }
            record(target, Slot(start: s, end: i - 1, kind: .string))
            return true
        case 0x74: return isScalar(ctx) && literal(0x74_72_75_65, 4, target, .trueValue)     // true
        case 0x66: return isScalar(ctx) && literal(0x66_61_6C_73_65, 5, target, .falseValue) // false
        case 0x6E: return isScalar(ctx) && literal(0x6E_75_6C_6C, 4, target, .null)          // null
        case 0x30...0x39:
            let s = i
            guard isScalar(ctx), number() else { return false }
            record(target, Slot(start: s, end: i, kind: .number))
            return true
        default: return false  // `-`, and anything that is not JSON
        }
    }

    /// Where a scalar may stand: anywhere skipped, or at a kept field; never where an object or a
    /// list is kept.
    private func isScalar(_ ctx: Context) -> Bool {
        switch ctx {
        case .skip: return true
        default: return false
        }
    }

    private mutating func object(_ ctx: Context, _ depth: Int) -> Bool {
        if case let .side(s) = ctx { sides[s].present = true; sides[s].start = i }
        i += 1
        skipWhitespace()
        if i < n, p[i] == 0x7D {
            i += 1
            if case let .side(s) = ctx { sides[s].end = i }
            return true
        }
        var seen: UInt64 = 0
        while true {
            guard i < n, p[i] == 0x22 else { return false }
            let ks = i + 1
            guard let keyEscaped = string() else { return false }
            let ke = i - 1
            skipWhitespace()
            guard i < n, p[i] == 0x3A else { return false }
            i += 1
            skipWhitespace()
            var childCtx = Context.skip, target = Target.none
            if ctx != .skip {
                guard !keyEscaped else { return false }
                let (c, t, bit) = child(ctx, ks, ke)
                if bit != 0 {
                    guard seen & bit == 0 else { return false }  // a kept key twice: the last would win
                    seen |= bit
                }
                childCtx = c
                target = t
            }
            guard value(childCtx, target, depth) else { return false }
            skipWhitespace()
            guard i < n else { return false }
            if p[i] == 0x2C { i += 1; skipWhitespace(); continue }
            if p[i] == 0x7D {
                i += 1
                if case let .side(s) = ctx { sides[s].end = i }
                return true
            }
            return false
        }
    }

    private mutating func array(_ ctx: Context, _ depth: Int) -> Bool {
        i += 1
        skipWhitespace()
        if case let .labels(s) = ctx { sides[s].labelsPresent = true }
        if i < n, p[i] == 0x5D { i += 1; return true }
        var index = 0
        while true {
            switch ctx {
            case let .labels(s):
                guard let slot = keptString() else { return false }
                sides[s].labels.append(slot)
            case .names:
                guard let slot = keptString() else { return false }
                names.append(slot)
            case .dnsIPs:
                guard let slot = keptString() else { return false }
                dnsIPs.append(slot)
            case let .workloads(s):
                // Only the first workload's name is read; it must be an object.
                if index == 0 {
                    guard i < n, p[i] == 0x7B, object(.workload(s), depth) else { return false }
                } else {
                    guard value(.skip, .none, depth) else { return false }
                }
            case let .deniedList(d):
                guard i < n, p[i] == 0x7B else { return false }
                denied.append(Denied(direction: d))
                guard object(.denied, depth) else { return false }
            default:
                guard value(.skip, .none, depth) else { return false }
            }
            index += 1
            skipWhitespace()
            guard i < n else { return false }
            if p[i] == 0x2C { i += 1; skipWhitespace(); continue }
            if p[i] == 0x5D { i += 1; return true }
            return false
        }
    }

    /// A plain string element of a kept list.
    private mutating func keptString() -> Slot? {
        guard i < n, p[i] == 0x22 else { return nil }
        let s = i + 1
        guard let escaped = string(), !escaped else { return nil }
        return Slot(start: s, end: i - 1, kind: .string)
    }

    private mutating func record(_ target: Target, _ slot: Slot) {
        switch target {
        case .none: return
        case let .field(f): slots[f.rawValue] = slot
        case let .sideNamespace(s): sides[s].namespace = slot
        case let .sidePod(s): sides[s].podName = slot
        case let .sideIdentity(s): sides[s].identity = slot
        case let .sideWorkload(s): sides[s].workload = slot
        case .deniedName: denied[denied.count - 1].name = slot
        case .deniedNamespace: denied[denied.count - 1].namespace = slot
        case .deniedKind: denied[denied.count - 1].kind = slot
        }
    }

    // MARK: Which keys matter

    @inline(__always)
    private func key(_ s: Int, _ e: Int, _ name: StaticString) -> Bool {
        let len = name.utf8CodeUnitCount
        return e - s == len && memcmp(p + s, name.utf8Start, len) == 0
    }

    /// The context and target of a key's value, and the key's bit for duplicate detection (0 for
    /// keys that are not kept).
    private mutating func child(_ ctx: Context, _ s: Int, _ e: Int) -> (Context, Target, UInt64) {
        switch ctx {
        case .root:
            if key(s, e, "flow") { hasFlow = true; return (.flow, .none, 1) }
            if key(s, e, "time") { return (.skip, .field(.rootTime), 2) }
        case .flow:
            switch e - s {
            case 2: if key(s, e, "IP") { return (.ip, .none, 1) }
                if key(s, e, "l4") { return (.l4, .none, 2) }
                if key(s, e, "l7") { return (.l7, .none, 4) }
            case 4: if key(s, e, "time") { return (.skip, .field(.time), 8) }
            case 5: if key(s, e, "reply") { return (.skip, .field(.reply), 16) }
            case 6: if key(s, e, "source") { return (.side(0), .none, 32) }
            case 7: if key(s, e, "verdict") { return (.skip, .field(.verdict), 64) }
            case 8: if key(s, e, "is_reply") { return (.skip, .field(.isReply), 128) }
            case 11:
                if key(s, e, "destination") { return (.side(1), .none, 256) }
                if key(s, e, "drop_reason") { return (.skip, .field(.dropReason), 512) }
            case 16: if key(s, e, "drop_reason_desc") { return (.skip, .field(.dropReasonDesc), 1024) }
                if key(s, e, "egress_denied_by") { return (.deniedList(1), .none, 2048) }
            case 17:
                if key(s, e, "ingress_denied_by") { return (.deniedList(0), .none, 4096) }
                if key(s, e, "destination_names") { return (.names, .none, 8192) }
            default: break
            }
        case let .side(side):
            if key(s, e, "namespace") { return (.skip, .sideNamespace(side), 1) }
            if key(s, e, "labels") { return (.labels(side), .none, 2) }
            if key(s, e, "pod_name") { return (.skip, .sidePod(side), 4) }
            if key(s, e, "identity") { return (.skip, .sideIdentity(side), 8) }
            if key(s, e, "workloads") { return (.workloads(side), .none, 16) }
        case let .workload(side):
            if key(s, e, "name") { return (.skip, .sideWorkload(side), 1) }
        case .l4:
            for (k, name) in Self.l4Names.enumerated() where key(s, e, name) {
                l4 |= 1 << k
                // TCP, UDP, SCTP: their `destination_port`; the others need only be present.
                return (k < 3 ? .l4Layer(k) : .skip, .none, 1 << UInt64(k))
            }
        case let .l4Layer(k):
            if key(s, e, "destination_port") { return (.skip, .field([.portTCP, .portUDP, .portSCTP][k]), 1) }
        case .ip:
            if key(s, e, "source") { return (.skip, .field(.ipSource), 1) }
            if key(s, e, "destination") { return (.skip, .field(.ipDestination), 2) }
        case .denied:
            if key(s, e, "name") { return (.skip, .deniedName, 1) }
            if key(s, e, "namespace") { return (.skip, .deniedNamespace, 2) }
            if key(s, e, "kind") { return (.skip, .deniedKind, 4) }
        case .l7:
            if key(s, e, "dns") { return (.dns, .none, 1) }
        case .dns:
            if key(s, e, "query") { return (.skip, .field(.dnsQuery), 1) }
            if key(s, e, "ips") { return (.dnsIPs, .none, 2) }
        case .skip, .workloads, .deniedList, .labels, .names, .dnsIPs:
            break
        }
        return (.skip, .none, 0)
    }

    // MARK: Scalars

    /// Scans a string from its opening quote; leaves `i` after the closing quote. Whether it holds
    /// escapes, or nil when it is not a valid JSON string.
    @inline(__always)
    private mutating func string() -> Bool? { JSONBytes.string(p, n, &i) }

    /// Plain non-negative integers of at most 15 digits only (a fraction, an exponent, a sign or
    /// a longer number goes to the tree parser, which knows their limits).
    private mutating func number() -> Bool {
        let start = i
        while i < n, p[i] &- 0x30 < 10 { i += 1 }
        guard i - start <= 15 else { return false }
        if i < n, p[i] == 0x2E || p[i] | 0x20 == 0x65 { return false }
        return true
    }

    private mutating func literal(_ word: UInt64, _ length: Int, _ target: Target, _ kind: Kind) -> Bool {
        guard JSONBytes.isLiteral(p, n, i, word, length) else { return false }
        record(target, Slot(start: i, end: i + length, kind: kind))
        i += length
        return true
    }
}
