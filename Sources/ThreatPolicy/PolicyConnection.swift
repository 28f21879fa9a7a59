import Foundation

// The inputs of the policy evaluation engine: two endpoints and what one sends to the other.
// Built from Hubble flows (`HubbleConnectionReader`) or by hand (tests, reachability tables).

/// One side of a connection, as policies see it.
public struct PolicyEndpoint: Sendable, Hashable {
    /// The pod's namespace; nil for anything that is not a pod (world, host, a node).
    public var namespace: String?
    /// Pod labels with bare keys (`app`, not `k8s:app`).
    public var labels: [String: String]
    /// Labels of the pod's namespace. `kubernetes.io/metadata.name` is always there for a pod.
    public var namespaceLabels: [String: String]
    /// Cilium reserved identities of this endpoint: `world`, `host`, `remote-node`, `kube-apiserver`,
    /// `health`, `init`, `ingress`, `unmanaged` (empty for an ordinary pod).
    public var entities: Set<String>
    /// The endpoint's address, when known (matched by CIDR rules).
    public var ip: String?
    /// DNS names the address was looked up as (Hubble `destination_names`), matched by `toFQDNs`.
    public var dnsNames: [String]
    /// Named container ports of the pod: name → port (resolves `port: http` in a rule).
    public var namedPorts: [String: Int]

    public init(namespace: String? = nil, labels: [String: String] = [:], namespaceLabels: [String: String] = [:],
                entities: Set<String> = [], ip: String? = nil, dnsNames: [String] = [], namedPorts: [String: Int] = [:]) {
        self.namespace = namespace
        self.labels = labels
        var ns = namespaceLabels
        if let namespace, ns["kubernetes.io/metadata.name"] == nil { ns["kubernetes.io/metadata.name"] = namespace }
        self.namespaceLabels = ns
        self.entities = entities
        self.ip = ip
        self.dnsNames = dnsNames
        self.namedPorts = namedPorts
    }

    /// A pod.
    public static func pod(_ namespace: String, _ labels: [String: String], ip: String? = nil,
                           namespaceLabels: [String: String] = [:]) -> PolicyEndpoint {
        PolicyEndpoint(namespace: namespace, labels: labels, namespaceLabels: namespaceLabels, ip: ip)
    }

    /// An address outside the cluster.
    public static func world(ip: String? = nil, names: [String] = []) -> PolicyEndpoint {
        PolicyEndpoint(entities: ["world"], ip: ip, dnsNames: names)
    }

    /// A reserved identity (`host`, `remote-node`, `kube-apiserver`…).
    public static func entity(_ name: String, ip: String? = nil) -> PolicyEndpoint {
        PolicyEndpoint(entities: [name], ip: ip)
    }

    /// True for a pod (it has a namespace and is not the host or a node).
    public var isPod: Bool { namespace != nil }

    /// Outside the cluster: the world identities, or an address with no identity at all.
    public var isWorld: Bool {
        entities.contains("world") || entities.contains("world-ipv4") || entities.contains("world-ipv6")
            || (namespace == nil && entities.isEmpty)
    }

    /// Every label a Cilium endpoint selector is matched against (bare keys): the pod labels, the
    /// namespace as `io.kubernetes.pod.namespace`, and the namespace labels as
    /// `io.cilium.k8s.namespace.labels.<key>`.
    public var ciliumLabels: [String: String] {
        var all = labels
        if let namespace {
            all["io.kubernetes.pod.namespace"] = namespace
            for (k, v) in namespaceLabels { all["io.cilium.k8s.namespace.labels." + k] = v }
        }
        return all
    }

    /// Reads Cilium's label strings as Hubble prints them (`k8s:app=web`, `reserved:world`,
    /// `k8s:io.kubernetes.pod.namespace=shop`, `k8s:io.cilium.k8s.namespace.labels.team=a`).
    /// Labels of other sources (`cidr:`, `fqdn:`, `container:`) are left out.
    public static func fromCiliumLabels(_ raw: [String], namespace: String?, ip: String?, names: [String] = []) -> PolicyEndpoint {
        var labels: [String: String] = [:], nsLabels: [String: String] = [:], entities = Set<String>()
        for item in raw {
            let (source, rest) = splitSource(item)
            let eq = rest.firstIndex(of: "=")
            let key = eq.map { String(rest[..<$0]) } ?? rest
            let value = eq.map { String(rest[rest.index(after: $0)...]) } ?? ""
            switch source {
            case "reserved": entities.insert(key)
            case "k8s", "any", "":
                if key == "io.kubernetes.pod.namespace" { continue }
                if key.hasPrefix("io.cilium.k8s.namespace.labels.") {
                    nsLabels[String(key.dropFirst("io.cilium.k8s.namespace.labels.".count))] = value
                } else {
                    labels[key] = value
                }
            default: continue
            }
        }
        let podNamespace = entities.isEmpty ? namespace : nil
        return PolicyEndpoint(namespace: podNamespace, labels: podNamespace == nil ? [:] : labels, namespaceLabels: nsLabels,
                              entities: entities, ip: ip, dnsNames: names)
    }

    static func splitSource(_ label: String) -> (String, String) {
        guard let colon = label.firstIndex(of: ":") else { return ("", label) }
        let source = String(label[..<colon])
        // Only the known sources are prefixes; a key may itself hold a colon.
        guard ["k8s", "any", "reserved", "cidr", "fqdn", "container", "unspec", "cni", "kvstore"].contains(source) else {
            return ("", label)
        }
        return (source, String(label[label.index(after: colon)...]))
    }
}

/// One connection: a source opens it to a destination's port.
public struct PolicyConnection: Sendable, Hashable {
    public var source: PolicyEndpoint
    public var destination: PolicyEndpoint
    /// The destination port; nil when the protocol has none (ICMP).
    public var port: Int?
    /// `TCP`, `UDP`, `SCTP`, `ICMP`, `ICMPv6`…
    public var protocolName: String

    public init(source: PolicyEndpoint, destination: PolicyEndpoint, port: Int?, protocolName: String) {
        self.source = source
        self.destination = destination
        self.port = port
        self.protocolName = protocolName.uppercased()
    }

    /// The endpoint a direction's policies apply to (destination for ingress, source for egress).
    public func subject(_ direction: PolicyDirection) -> PolicyEndpoint { direction == .ingress ? destination : source }
    /// The other side.
    public func peer(_ direction: PolicyDirection) -> PolicyEndpoint { direction == .ingress ? source : destination }
}
