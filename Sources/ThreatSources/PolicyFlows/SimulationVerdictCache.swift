import ThreatPolicy

/// The decisions `policy simulate` takes, remembered per distinct (connection, end): flow files
/// repeat the same connections many times over, and the evaluator's answer depends on nothing else.
/// Only ends some policy may select are kept (in a namespace a policy names, or any namespace when a
/// clusterwide policy exists); the others are decided at once by the evaluator, which rejects them
/// on the namespace alone, so traffic between unpoliced namespaces does not crowd the cache.
/// Bounded: past `capacity` entries it starts over.
struct SimulationVerdictCache: Sendable {
    static let capacity = 65_536

    struct Key: Hashable, Sendable {
        var connection: PolicyConnection
        var ingress: Bool
    }

    let evaluator: PolicyEvaluator
    /// Whether a rule matches addresses (CIDR, ipBlock). When none does, an address counts only by
    /// its family (world-ipv4 / world-ipv6), so flows from many addresses share one entry.
    let keepsAddresses: Bool
    /// The namespaces policies select pods in; nil when a clusterwide policy may select any.
    let policedNamespaces: Set<String>?
    private var entries: [Key: PolicyDecision] = [:]
    private(set) var hits = 0, misses = 0

    init(evaluator: PolicyEvaluator) {
        self.evaluator = evaluator
        keepsAddresses = evaluator.policies.contains { p in
            p.specs.contains { s in
                [s.ingress, s.egress, s.ingressDeny, s.egressDeny].contains { rules in
                    (rules ?? []).contains { r in
                        guard case let .some(peers) = r.peers else { return false }
                        return peers.contains { if case .cidr = $0 { true } else { false } }
                    }
                }
            }
        }
        if evaluator.policies.contains(where: \.isClusterwide) {
            policedNamespaces = nil
        } else {
            policedNamespaces = Set(evaluator.policies.compactMap { $0.namespace ?? evaluator.defaultNamespace })
        }
    }

    /// The evaluator's decision for one end of a connection.
    mutating func verdict(_ c: PolicyConnection, direction d: PolicyDirection) -> PolicyDecision {
        let subject = c.subject(d)
        if let policed = policedNamespaces, !(subject.namespace.map(policed.contains) ?? false) {
            return evaluator.verdict(for: c, direction: d)
        }
        var key = Key(connection: c, ingress: d == .ingress)
        if !keepsAddresses {
            key.connection.source.ip = SimulationVerdictCache.family(c.source.ip)
            key.connection.destination.ip = SimulationVerdictCache.family(c.destination.ip)
        }
        if let known = entries[key] {
            hits += 1
            return known
        }
        misses += 1
        let decision = evaluator.verdict(for: c, direction: d)
        if entries.count >= SimulationVerdictCache.capacity { entries.removeAll(keepingCapacity: true) }
        entries[key] = decision
        return decision
    }

    /// What the evaluator reads of an address when no rule names addresses: IPv6 or not.
    static func family(_ ip: String?) -> String? {
        ip.map { $0.utf8.contains(UInt8(ascii: ":")) ? "::" : "0.0.0.0" }
    }
}
