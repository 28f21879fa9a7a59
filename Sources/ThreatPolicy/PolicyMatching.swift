import Foundation

// The matching primitives of the evaluation engine: label selectors, CIDRs, ports and protocols.

extension LabelSelector {
    /// Whether a label set satisfies every `matchLabels` pair and every `matchExpressions` entry.
    /// Keys are compared without Cilium's source prefix (`k8s:`, `any:`); a `reserved:<entity>` key
    /// matches an endpoint with that reserved identity.
    public func matches(_ labels: [String: String], entities: Set<String> = []) -> Bool {
        for pair in matchLabels {
            if pair.key.hasPrefix("reserved:") {
                guard entities.contains(String(pair.key.dropFirst("reserved:".count))) else { return false }
                continue
            }
            guard labels[LabelSelector.bareKey(pair.key)] == pair.value else { return false }
        }
        for e in matchExpressions {
            let value = labels[LabelSelector.bareKey(e.key)]
            switch e.operator {
            case "In": guard let value, e.values.contains(value) else { return false }
            case "NotIn": if let value, e.values.contains(value) { return false }
            case "Exists": guard value != nil else { return false }
            case "DoesNotExist": guard value == nil else { return false }
            default: return false
            }
        }
        return true
    }
}

/// An IPv4 or IPv6 address range.
public struct IPRange: Sendable, Equatable {
    var bytes: [UInt8]
    var prefix: Int

    /// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a single host).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let addr = IPRange.address(String(parts[0])) else { return nil }
        bytes = addr
        if parts.count == 2 {
            guard let p = Int(parts[1]), (0...(addr.count * 8)).contains(p) else { return nil }
            prefix = p
        } else {
            prefix = addr.count * 8
        }
    }

    /// The 4 or 16 bytes of an address, nil when it is not one.
    public static func address(_ text: String) -> [UInt8]? {
        var buf = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &buf) == 1 { return Array(buf[0..<4]) }
        if inet_pton(AF_INET6, text, &buf) == 1 { return buf }
        return nil
    }

    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        var left = prefix
        for i in 0..<bytes.count where left > 0 {
            let bits = min(8, left)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[i] & mask != bytes[i] & mask { return false }
            left -= bits
        }
        return true
    }
}

enum PortMatch {
    /// Whether one port entry matches the connection. Named ports resolve on the destination pod
    /// (`namedPorts`); nil when a name cannot be resolved (the caller reports it).
    static func matches(_ p: PolicyPort, _ c: PolicyConnection) -> Bool? {
        if let proto = p.protocolName, proto.uppercased() != c.protocolName { return false }
        guard let text = p.port else { return true }
        let number: Int
        if let n = Int(text) {
            number = n
        } else if let n = c.destination.namedPorts[text] {
            number = n
        } else {
            return c.destination.namedPorts.isEmpty ? nil : false
        }
        guard let port = c.port else { return false }
        if let end = p.endPort { return (number...max(number, end)).contains(port) }
        return port == number
    }

    /// Whether a rule's L4 part matches: no ports = every port; else any port entry (or ICMP match).
    static func rule(_ r: PolicyRule, _ c: PolicyConnection, unresolved: inout [String]) -> Bool {
        if r.allowsAnyPort { return true }
        for pr in r.ports {
            // A toPorts entry without ports matches every port.
            if pr.ports.isEmpty { return true }
            for p in pr.ports {
                switch matches(p, c) {
                case true?: return true
                case nil: unresolved.append("\(r.path): named port '\(p.port ?? "")' unknown for the destination")
                default: break
                }
            }
        }
        if !r.icmps.isEmpty, c.protocolName.hasPrefix("ICMP") { return true }
        return false
    }
}
