import Foundation
import ThreatModel

// The normalized content of a policy, for the drift comparison between two runs: one short line
// per selector and per (peer, port) pair of every rule, sorted, so layout, comments, key order and
// rule order do not count as changes, while a removed port or peer shows as one line.

extension NetworkPolicyModel {
    /// A rule whose peers × ports product is larger than this is written as one line (peers and
    /// ports joined), so the line count stays within the size of the manifest.
    static let maxAtomicPairs = 256

    /// The sorted, de-duplicated summary lines (selectors without GitLab's disabled_by label:
    /// enforcement is compared on its own).
    public func ruleSummaryLines() -> [String] {
        var lines = Set<String>()
        let multi = specs.count > 1
        for spec in specs {
            let prefix = multi ? "\(spec.path): " : ""
            switch spec.subject {
            case let .pods(sel): lines.insert(prefix + "selects " + Self.selectorText(sel.withoutGitLabDisabledBy, pods: true))
            case let .nodes(sel): lines.insert(prefix + "selects " + Self.selectorText(sel.withoutGitLabDisabledBy, pods: false))
            }
            if kind == .networkPolicy {
                lines.insert(prefix + "policy types " + effectivePolicyTypes(spec).map(\.rawValue).joined(separator: ", "))
            }
            if let d = spec.enableDefaultDenyIngress { lines.insert(prefix + "default deny for ingress \(d ? "on" : "off")") }
            if let d = spec.enableDefaultDenyEgress { lines.insert(prefix + "default deny for egress \(d ? "on" : "off")") }
            let sections: [(String, [PolicyRule]?, PolicyDirection)] = [
                ("ingress", spec.ingress, .ingress), ("egress", spec.egress, .egress),
                ("ingress deny", spec.ingressDeny, .ingress), ("egress deny", spec.egressDeny, .egress),
            ]
            for (name, rules, direction) in sections {
                for rule in rules ?? [] { lines.formUnion(Self.ruleLines(rule, section: prefix + name, direction)) }
            }
        }
        return lines.sorted()
    }

    /// The fingerprint kept on the report's policy item.
    public func fingerprint() -> PolicyFingerprint {
        let lines = ruleSummaryLines()
        var sha = SHA256Digest()
        for l in lines { sha.update(Array((l + "\n").utf8)) }
        return PolicyFingerprint(digest: sha.finalize(), lines: Array(lines.prefix(PolicyFingerprint.maxLines)), total: lines.count)
    }

    static func ruleLines(_ rule: PolicyRule, section: String, _ d: PolicyDirection) -> [String] {
        let word = d == .ingress ? "from" : "to"
        let peers: [String] = switch rule.peers {
        case .anywhere: ["anywhere"]
        case .nothing: ["nothing"]
        case let .some(list): list.isEmpty ? ["nothing"] : list.map(peerText)
        }
        var ports: [String] = []
        for pr in rule.ports {
            let l7 = pr.l7.map { l in " (\(l.kind) " + (l.rules.isEmpty ? "rules" : l.rules.joined(separator: " | ")) + ")" } ?? ""
            let extras = pr.extras.isEmpty ? "" : " [" + pr.extras.joined(separator: ", ") + "]"
            if pr.ports.isEmpty { ports.append("any port" + l7 + extras) }
            for p in pr.ports { ports.append(portText(p) + l7 + extras) }
        }
        for ic in rule.icmps { ports.append("\(ic.family == "IPv6" ? "ICMPv6" : "ICMP") type \(ic.type)") }
        if ports.isEmpty { ports = ["any port"] }
        var tail = ""
        if !rule.requires.isEmpty { tail += " requiring " + rule.requires.map { selectorText($0, pods: true) }.joined(separator: " and ") }
        if let a = rule.authentication { tail += " with authentication \(a)" }
        if peers.count * ports.count > maxAtomicPairs {
            return ["\(section) \(word) \(peers.joined(separator: " or ")) \(ports.joined(separator: " and "))\(tail)"]
        }
        return peers.flatMap { peer in ports.map { "\(section) \(word) \(peer) \($0)\(tail)" } }
    }

    /// `port 8080/TCP`, `ports 8000-9000/TCP`, `port http/TCP`, `all TCP ports`, `port 53/any`.
    static func portText(_ p: PolicyPort) -> String {
        let proto = p.protocolName ?? "any"
        guard let port = p.port, port != "0" else { return p.protocolName.map { "all \($0) ports" } ?? "any port" }
        if let end = p.endPort { return "ports \(port)-\(end)/\(proto)" }
        return "port \(port)/\(proto)"
    }

    static func selectorText(_ sel: LabelSelector, pods: Bool) -> String {
        sel.isEmpty ? (pods ? "all pods" : "all nodes") : PolicyExplainer.labels(sel).replacingOccurrences(of: " and ", with: ",")
    }

    static func peerText(_ peer: PolicyPeer) -> String {
        switch peer {
        case let .endpoints(sel, scope):
            let who = selectorText(sel, pods: true)
            switch scope {
            case .policyNamespace: return who
            case .anyNamespace: return who + " in any namespace"
            case let .named(n): return who + " in namespace \(n)"
            case let .labelled(l): return who + " in namespaces " + l.map { "\(LabelSelector.bareKey($0.key))=\($0.value)" }.joined(separator: ",")
            case .selectorDefined: return who + " (namespace by expression)"
            }
        case let .pods(pod, ns):
            let who = pod.map { selectorText($0, pods: true) } ?? "all pods"
            guard let ns else { return who }
            return who + (ns.isEmpty ? " in any namespace" : " in namespaces " + selectorText(ns, pods: true))
        case let .entity(e): return "entity \(e)"
        case let .cidr(c, except, _): return "cidr \(c)" + (except.isEmpty ? "" : " except " + except.joined(separator: ","))
        case let .cidrGroup(g): return "cidr group \(g)"
        case let .fqdn(name, pattern): return name.map { "fqdn \($0)" } ?? "fqdn pattern \(pattern ?? "*")"
        case let .service(name, ns): return "service \(name)" + (ns.map { " in namespace \($0)" } ?? "")
        case let .serviceSelector(sel, ns): return "services " + selectorText(sel, pods: true) + (ns.map { " in namespace \($0)" } ?? "")
        case let .nodes(sel): return "nodes " + selectorText(sel, pods: false)
        case let .groups(provider): return "\(provider) groups"
        }
    }
}

extension NetworkPolicyModel {
    /// Each spec's pod selector (without GitLab's disabled_by label) and the directions it restricts.
    public func podSelectorTraits() -> [PodSelectorTrait] {
        specs.compactMap { spec in
            guard case let .pods(sel) = spec.subject else { return nil }
            let s = sel.withoutGitLabDisabledBy
            var labels: [String: String] = [:]
            for l in s.matchLabels { labels[LabelSelector.bareKey(l.key)] = l.value }
            return PodSelectorTrait(matchLabels: labels,
                                    matchExpressions: s.matchExpressions.map { .init(key: LabelSelector.bareKey($0.key), op: $0.operator, values: $0.values) },
                                    ingress: isDefaultDeny(spec, .ingress), egress: isDefaultDeny(spec, .egress))
        }
    }
}
