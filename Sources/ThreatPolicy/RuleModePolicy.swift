import Foundation
import ThreatModel
import Yams

/// A CiliumNetworkPolicy as GitLab's policy editor built it in "rule mode": one endpoint selector by
/// labels, and per direction one rule per peer type (labels, entities, CIDR; FQDN names for
/// egress), each with the same L4 ports. `threat-report policy new` fills it from flags.
public struct RuleModePolicy: Sendable, Equatable {
    public var name: String
    public var namespace: String?
    /// The pods the policy applies to; empty = every pod of the namespace.
    public var endpoint: [LabelPair] = []
    /// Peers allowed in: one selector per entry (an entry's labels are ANDed, entries ORed).
    public var fromLabels: [[LabelPair]] = []
    public var fromEntities: [String] = []
    public var fromCIDRs: [String] = []
    /// Peers allowed out.
    public var toLabels: [[LabelPair]] = []
    public var toEntities: [String] = []
    public var toCIDRs: [String] = []
    /// Host names (`matchName`), or patterns with `*` (`matchPattern`).
    public var toFQDNs: [String] = []
    /// Applies to every rule; empty = every port.
    public var ports: [RuleModePort] = []
    /// Adds GitLab's disabled_by label to the endpoint selector.
    public var disabled = false

    public init(name: String, namespace: String? = nil) {
        self.name = name
        self.namespace = namespace
    }

    public var hasIngress: Bool { !fromLabels.isEmpty || !fromEntities.isEmpty || !fromCIDRs.isEmpty }
    public var hasEgress: Bool { !toLabels.isEmpty || !toEntities.isEmpty || !toCIDRs.isEmpty || !toFQDNs.isEmpty }

    /// The manifest, in the layout `kubectl get -o yaml` uses.
    public func yaml() -> String {
        var y = YAMLLines()
        y.line(0, "apiVersion: cilium.io/v2")
        y.line(0, "kind: CiliumNetworkPolicy")
        y.line(0, "metadata:")
        y.line(1, "name: \(YAMLLines.scalar(name))")
        if let namespace { y.line(1, "namespace: \(YAMLLines.scalar(namespace))") }
        y.line(0, "spec:")
        var selector = endpoint
        if disabled { selector.append(LabelPair(gitlabDisabledByLabel, "gitlab")) }
        y.selector(1, "endpointSelector", selector)
        if hasIngress {
            y.line(1, "ingress:")
            rules(&y, labelsKey: "fromEndpoints", labels: fromLabels, entitiesKey: "fromEntities", entities: fromEntities,
                  cidrKey: "fromCIDR", cidrs: fromCIDRs, fqdns: [])
        }
        if hasEgress {
            y.line(1, "egress:")
            rules(&y, labelsKey: "toEndpoints", labels: toLabels, entitiesKey: "toEntities", entities: toEntities,
                  cidrKey: "toCIDR", cidrs: toCIDRs, fqdns: toFQDNs)
        }
        return y.text
    }

    private func rules(_ y: inout YAMLLines, labelsKey: String, labels: [[LabelPair]], entitiesKey: String, entities: [String],
                       cidrKey: String, cidrs: [String], fqdns: [String]) {
        if !labels.isEmpty {
            y.line(1, "- \(labelsKey):")
            for sel in labels {
                y.line(2, "- matchLabels:")
                for l in sel { y.line(4, "\(YAMLLines.scalar(l.key)): \(YAMLLines.scalar(l.value))") }
            }
            portsBlock(&y)
        }
        for (key, list) in [(entitiesKey, entities), (cidrKey, cidrs)] where !list.isEmpty {
            y.line(1, "- \(key):")
            for v in list { y.line(2, "- \(YAMLLines.scalar(v))") }
            portsBlock(&y)
        }
        if !fqdns.isEmpty {
            y.line(1, "- toFQDNs:")
            for f in fqdns {
                y.line(2, "- \(f.contains("*") ? "matchPattern" : "matchName"): \(YAMLLines.scalar(f))")
            }
            portsBlock(&y)
        }
    }

    private func portsBlock(_ y: inout YAMLLines) {
        guard !ports.isEmpty else { return }
        y.line(2, "toPorts:")
        y.line(2, "- ports:")
        for p in ports {
            y.line(3, "- port: \"\(p.port)\"")
            if let end = p.endPort { y.line(4, "endPort: \(end)") }
            y.line(4, "protocol: \(p.protocolName)")
        }
    }
}

/// One `--ports` entry: a port or range and a protocol (TCP unless written).
public struct RuleModePort: Sendable, Equatable {
    public var port: Int
    public var endPort: Int?
    /// `TCP`, `UDP`, `SCTP` or `ANY`.
    public var protocolName: String
    public init(port: Int, endPort: Int? = nil, protocolName: String = "TCP") {
        self.port = port
        self.endPort = endPort
        self.protocolName = protocolName
    }
}

/// Block-style YAML written line by line, two spaces per level.
struct YAMLLines {
    private(set) var lines: [String] = []
    var text: String { lines.joined(separator: "\n") + "\n" }

    mutating func line(_ level: Int, _ s: String) { lines.append(String(repeating: "  ", count: level) + s) }

    mutating func selector(_ level: Int, _ key: String, _ labels: [LabelPair]) {
        guard !labels.isEmpty else { return line(level, "\(key): {}") }
        line(level, "\(key):")
        line(level + 1, "matchLabels:")
        for l in labels { line(level + 2, "\(YAMLLines.scalar(l.key)): \(YAMLLines.scalar(l.value))") }
    }

    /// A string as a YAML scalar: plain when that reads back as the same string, else double-quoted.
    static func scalar(_ s: String) -> String {
        let safe = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            c.isASCII && (CharacterSet.alphanumerics.contains(c) || "._/-".unicodeScalars.contains(c))
        } && s.first.map { $0.isLetter || $0.isNumber } == true
        if safe && !["null", "Null", "NULL"].contains(s)
            && PlainScalar.readsAsText(s, timestamp: true) {
            return s
        }
        var out = ""
        JSONValue.writeString(s, into: &out)
        return out
    }
}

/// Checks of rule-mode values, each giving the reason a value is refused (nil when it is fine).
/// The command line names the flag.
public enum RuleModeValues {
    /// The entities GitLab's rule mode offered, plus the newer ones Cilium added (docs/domain.md §3).
    public static let entities = ["all", "host", "remote-node", "cluster", "init", "health", "unmanaged", "world",
                                  "kube-apiserver", "ingress", "world-ipv4", "world-ipv6"]

    /// `app=web,tier=frontend` → labels (a Cilium source prefix `k8s:`/`any:` is allowed on keys).
    public static func labels(_ text: String) -> Result<[LabelPair], RuleModeValueError> {
        var out: [LabelPair] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            guard let eq = item.firstIndex(of: "=") else {
                return .failure(RuleModeValueError("'\(item)' is not a label: write key=value, like app=web"))
            }
            let key = String(item[..<eq]), value = String(item[item.index(after: eq)...])
            if let why = labelKeyProblem(key) { return .failure(RuleModeValueError("label key '\(key)' \(why)")) }
            if let why = labelValueProblem(value) { return .failure(RuleModeValueError("label value '\(value)' \(why)")) }
            if out.contains(where: { $0.key == key }) { return .failure(RuleModeValueError("label key '\(key)' is given twice")) }
            out.append(LabelPair(key, value))
        }
        return .success(out)
    }

    public static func labelKeyProblem(_ full: String) -> String? {
        var key = Substring(full)
        for prefix in ["k8s:", "any:"] where key.hasPrefix(prefix) { key = key.dropFirst(prefix.count) }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return "has more than one '/'" }
        if parts.count == 2 {
            guard isDNSSubdomain(String(parts[0])) else { return "has a prefix that is not a DNS subdomain (like example.com)" }
        }
        let name = String(parts.last!)
        guard !name.isEmpty else { return "has an empty name" }
        guard name.count <= 63 else { return "has a name longer than 63 characters" }
        guard isLabelToken(name) else {
            return "must start and end with a letter or digit, with only letters, digits, '-', '_' and '.' between"
        }
        return nil
    }

    public static func labelValueProblem(_ value: String) -> String? {
        if value.isEmpty { return nil }
        guard value.count <= 63 else { return "is longer than 63 characters" }
        guard isLabelToken(value) else {
            return "must start and end with a letter or digit, with only letters, digits, '-', '_' and '.' between"
        }
        return nil
    }

    static func isLabelToken(_ s: String) -> Bool {
        let chars = Array(s.unicodeScalars)
        guard let f = chars.first, let l = chars.last, f.isASCII, l.isASCII,
              CharacterSet.alphanumerics.contains(f), CharacterSet.alphanumerics.contains(l) else { return false }
        return chars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
    }

    /// RFC 1123 subdomain: lowercase labels of letters, digits and '-', joined by dots, at most 253.
    public static func isDNSSubdomain(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isDNSLabel(String($0)) }
    }

    /// RFC 1123 label: 1–63 lowercase letters, digits and '-', starting and ending alphanumeric.
    public static func isDNSLabel(_ s: String) -> Bool {
        let chars = Array(s.unicodeScalars)
        guard !chars.isEmpty, chars.count <= 63 else { return false }
        let ok: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        return ok(chars.first!) && ok(chars.last!) && chars.allSatisfy { ok($0) || $0 == "-" }
    }

    public static func entity(_ text: String) -> RuleModeValueError? {
        entities.contains(text) ? nil
            : RuleModeValueError("'\(text)' is not a Cilium entity (\(entities.joined(separator: ", ")))")
    }

    /// An IPv4 or IPv6 CIDR with a prefix length and no host bits set.
    public static func cidr(_ text: String) -> RuleModeValueError? {
        guard CIDR.isValid(text, requirePrefix: true) else {
            return RuleModeValueError("'\(text)' is not a CIDR: write an address and a prefix length, like 10.0.0.0/8 or 2001:db8::/32")
        }
        if let network = CIDR.networkIfHostBitsSet(text) {
            return RuleModeValueError("'\(text)' has host bits set: did you mean \(network)?")
        }
        return nil
    }

    /// A DNS name (`api.example.com`) or a pattern with `*` (`*.example.com`), as Cilium's toFQDNs takes.
    public static func fqdn(_ text: String) -> RuleModeValueError? {
        let name = text.hasSuffix(".") ? String(text.dropLast()) : text
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let ok = !name.isEmpty && name.count <= 253 && labels.allSatisfy { l in
            !l.isEmpty && l.count <= 63 && l.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_*".unicodeScalars.contains($0))
            } && !l.hasPrefix("-") && !l.hasSuffix("-")
        }
        return ok ? nil : RuleModeValueError("'\(text)' is not a DNS name (like api.example.com) or a pattern (like *.example.com)")
    }

    /// `80/tcp,443,8000-8080/udp` → ports (TCP unless written).
    public static func ports(_ text: String) -> Result<[RuleModePort], RuleModeValueError> {
        var out: [RuleModePort] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let item = part.trimmingCharacters(in: .whitespaces)
            let pieces = item.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { return .failure(RuleModeValueError("'\(item)' is not a port: write 80, 80/tcp or 8000-8080/udp")) }
            var proto = "TCP"
            if pieces.count == 2 {
                proto = pieces[1].uppercased()
                guard ["TCP", "UDP", "SCTP", "ANY"].contains(proto) else {
                    return .failure(RuleModeValueError("'\(item)': the protocol must be tcp, udp, sctp or any, not '\(pieces[1])'"))
                }
            }
            let range = pieces[0].split(separator: "-", omittingEmptySubsequences: false)
            let numbers = range.map { Int($0) }
            guard (1...2).contains(range.count), numbers.allSatisfy({ $0 != nil }), range.allSatisfy({ $0.allSatisfy(\.isNumber) }) else {
                return .failure(RuleModeValueError("'\(item)' is not a port: write 80, 80/tcp or 8000-8080/udp"))
            }
            let start = numbers[0]!, end = numbers.count == 2 ? numbers[1] : nil
            guard (1...65535).contains(start), end.map({ (1...65535).contains($0) }) ?? true else {
                return .failure(RuleModeValueError("'\(item)': ports go from 1 to 65535"))
            }
            if let end, end < start { return .failure(RuleModeValueError("'\(item)': the range ends before it starts")) }
            out.append(RuleModePort(port: start, endPort: end == start ? nil : end, protocolName: proto))
        }
        return .success(out)
    }
}

/// Why a rule-mode value is refused.
public struct RuleModeValueError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension CIDR {
    /// The CIDR with its host bits cleared (`10.1.2.3/8` → `10.0.0.0/8`) when some are set; nil when
    /// none are, or when the text is not a CIDR.
    static func networkIfHostBitsSet(_ text: String) -> String? {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let bits = Int(parts[1]) else { return nil }
        var buf = [UInt8](repeating: 0, count: 16)
        let family: Int32
        let size: Int
        if inet_pton(AF_INET, String(parts[0]), &buf) == 1 {
            family = AF_INET
            size = 4
        } else if inet_pton(AF_INET6, String(parts[0]), &buf) == 1 {
            family = AF_INET6
            size = 16
        } else {
            return nil
        }
        let original = buf
        for i in 0..<size {
            let keep = max(0, min(8, bits - i * 8))
            buf[i] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        guard buf != original else { return nil }
        var out = [CChar](repeating: 0, count: 64)
        guard inet_ntop(family, buf, &out, socklen_t(out.count)) != nil else { return nil }
        let addr = String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return "\(addr)/\(bits)"
    }
}
