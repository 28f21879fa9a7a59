import Foundation
import ThreatModel
import Yams

/// Kubernetes `networking.k8s.io/v1` NetworkPolicy specs.
extension PolicyParser {
    // MARK: - Kubernetes NetworkPolicy

    mutating func k8sSpec(_ node: Node, path: String) -> PolicySpecModel? {
        guard let entries = mapping(node, path: path, allowed: ["podSelector", "policyTypes", "ingress", "egress"]) else {
            return nil
        }
        var spec = PolicySpecModel(path: path, subject: .pods(LabelSelector()), keys: entries.map(\.key))
        if let ps = entries.first(where: { $0.key == "podSelector" }) {
            spec.subject = .pods(selector(ps.value, path: "\(path).podSelector"))
        } else {
            problem(node, "\(path).podSelector is missing (write podSelector: {} to select every pod)")
        }
        for e in entries {
            let p = "\(path).\(e.key)"
            switch e.key {
            case "policyTypes":
                guard let types = stringItems(e.value, path: p) else { continue }
                var out: [PolicyDirection] = []
                for t in types {
                    if let d = PolicyDirection(rawValue: t.text) {
                        out.append(d)
                    } else {
                        problem(t.node, "\(p)[\(t.index)] must be Ingress or Egress, not '\(t.text)'")
                    }
                }
                spec.policyTypes = out
            case "ingress":
                spec.ingress = k8sRules(e.value, path: p, peerKey: "from")
            case "egress":
                spec.egress = k8sRules(e.value, path: p, peerKey: "to")
            default: break
            }
        }
        return spec
    }

    mutating func k8sRules(_ node: Node, path: String, peerKey: String) -> [PolicyRule]? {
        guard let items = list(node, path: path) else { return nil }
        var rules: [PolicyRule] = []
        for (i, item) in items.enumerated() {
            let rp = "\(path)[\(i)]"
            guard let entries = mapping(item, path: rp, allowed: [peerKey, "ports"]) else { continue }
            var rule = PolicyRule(peers: .anywhere, keys: entries.map(\.key), path: rp)
            for e in entries {
                let p = "\(rp).\(e.key)"
                if e.key == "ports" {
                    guard let ports = list(e.value, path: p) else { continue }
                    var out: [PolicyPort] = []
                    for (j, pn) in ports.enumerated() {
                        if let port = k8sPort(pn, path: "\(p)[\(j)]") { out.append(port) }
                    }
                    if !out.isEmpty { rule.ports = [PortRule(ports: out)] }
                } else {
                    guard let peers = list(e.value, path: p), !peers.isEmpty else { continue }
                    var out: [PolicyPeer] = []
                    for (j, pn) in peers.enumerated() {
                        if let peer = k8sPeer(pn, path: "\(p)[\(j)]") { out.append(peer) }
                    }
                    rule.peers = .some(out)
                }
            }
            rules.append(rule)
        }
        return rules
    }

    mutating func k8sPeer(_ node: Node, path: String) -> PolicyPeer? {
        guard let entries = mapping(node, path: path, allowed: ["podSelector", "namespaceSelector", "ipBlock"]) else {
            return nil
        }
        var pod: LabelSelector?, ns: LabelSelector?
        var block: PolicyPeer?
        for e in entries {
            let p = "\(path).\(e.key)"
            switch e.key {
            case "podSelector": pod = selector(e.value, path: p)
            case "namespaceSelector": ns = selector(e.value, path: p)
            default:
                guard let fields = mapping(e.value, path: p, allowed: ["cidr", "except"]) else { continue }
                var cidr: String?, except: [String] = []
                for f in fields {
                    if f.key == "cidr" {
                        cidr = string(f.value, path: "\(p).cidr")
                        if let c = cidr, !CIDR.isValid(c, requirePrefix: true) {
                            problem(f.value, "\(p).cidr '\(c)' is not a CIDR (like 10.0.0.0/8)")
                        }
                    } else {
                        let items = stringItems(f.value, path: "\(p).except") ?? []
                        except = items.map(\.text)
                        for x in items where !CIDR.isValid(x.text, requirePrefix: true) {
                            problem(x.node, "\(p).except[\(x.index)] '\(x.text)' is not a CIDR")
                        }
                    }
                }
                if let cidr { block = .cidr(cidr, except: except, source: .ipBlock) } else { problem(e.value, "\(p).cidr is missing") }
            }
        }
        if (node.mapping?.count ?? 0) == 0 {
            problem(node, "\(path) must have podSelector, namespaceSelector or ipBlock")
            return nil
        }
        if let block {
            if pod != nil || ns != nil {
                problem(node, "\(path) may not combine ipBlock with podSelector or namespaceSelector")
            }
            return block
        }
        if pod == nil && ns == nil { return nil }
        return .pods(podSelector: pod, namespaceSelector: ns)
    }

    static let k8sProtocols = ["TCP", "UDP", "SCTP"]

    mutating func k8sPort(_ node: Node, path: String) -> PolicyPort? {
        guard let entries = mapping(node, path: path, allowed: ["port", "protocol", "endPort"]) else { return nil }
        var port: String?, proto = "TCP", endPort: Int?
        var portNode: Node?
        for e in entries {
            let p = "\(path).\(e.key)"
            switch e.key {
            case "port":
                portNode = e.value
                if PolicyParser.isNull(e.value) { continue }
                if let n = e.value.int, e.value.scalar?.style == .plain {
                    if !(1...65535).contains(n) { problem(e.value, "\(p) must be between 1 and 65535") }
                    port = String(n)
                } else if let s = e.value.scalar?.string, !s.isEmpty {
                    port = s
                } else {
                    problem(e.value, "\(p) must be a port number or a port name")
                }
            case "protocol":
                if let s = string(e.value, path: p) {
                    if PolicyParser.k8sProtocols.contains(s) {
                        proto = s
                    } else {
                        problem(e.value, "\(p) must be TCP, UDP or SCTP, not '\(s)'")
                    }
                }
            default:
                endPort = int(e.value, path: p)
            }
        }
        if let endPort {
            if let port, let start = Int(port) {
                if endPort < start { problem(node, "\(path).endPort \(endPort) is below port \(start)") }
            } else {
                problem(portNode ?? node, "\(path).endPort needs a numeric port")
            }
        }
        return PolicyPort(port: port, endPort: endPort, protocolName: proto)
    }
}
