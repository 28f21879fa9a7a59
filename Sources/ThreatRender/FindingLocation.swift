import Foundation
import ThreatModel

/// The configuration file a run read, as the CI formats point at it: its path as given on the
/// command line and the line where each environment is declared.
public struct ConfigReference: Sendable, Equatable {
    public var path: String
    /// Environment name → 1-based line of its `name:` entry.
    public var environmentLines: [String: Int]

    public init(path: String, environmentLines: [String: Int] = [:]) {
        self.path = path
        self.environmentLines = environmentLines
    }

    /// Finds each environment's `name:` line in the config text. A plain text scan (the config has
    /// already been validated): block style `- name: x` first, then any `name: x` (flow style).
    public init(path: String, text: String, environments: [String]) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        func value(of line: String) -> [String] {
            var out: [String] = []
            var rest = Substring(line)
            while let r = rest.range(of: "name:") {
                let before = rest[..<r.lowerBound].last
                rest = rest[r.upperBound...]
                guard before == nil || before == " " || before == "-" || before == "{" || before == "," else { continue }
                var v = rest.drop(while: { $0 == " " })
                if let end = v.firstIndex(where: { $0 == "," || $0 == "}" || $0 == "#" }) { v = v[..<end] }
                var s = v.trimmingCharacters(in: .whitespaces)
                if s.count >= 2, let f = s.first, f == "\"" || f == "'", s.last == f { s = String(s.dropFirst().dropLast()) }
                out.append(s)
            }
            return out
        }
        var found: [String: Int] = [:]
        for (i, line) in lines.enumerated() {
            for v in value(of: line) where environments.contains(v) && found[v] == nil { found[v] = i + 1 }
        }
        self.init(path: path, environmentLines: found)
    }
}

/// Where a finding points in the repository: the policy manifest (file and line) for policy
/// findings, otherwise the configuration file at the environment's entry.
public struct FindingLocation: Sendable, Equatable {
    /// A file path as the run named it (relative to the working directory, or absolute).
    public var path: String
    public var line: Int?

    /// The location of `finding`, or nil when neither a manifest nor the config file is known.
    public static func of(_ finding: Finding, in report: Report, config: ConfigReference?) -> FindingLocation? {
        if let subject = finding.subject, finding.id.hasPrefix("policies."),
           let env = report.environments.first(where: { $0.name == finding.environment }),
           let item = env.policies.value?.items.first(where: { $0.name == subject }),
           let loc = fileLocation(item.origin) {
            return loc
        }
        guard let config else { return nil }
        return FindingLocation(path: config.path, line: config.environmentLines[finding.environment])
    }

    /// `path:line` (or `path`) when the origin names a file; nil for API paths, URLs and stdin.
    static func fileLocation(_ origin: String) -> FindingLocation? {
        var path = origin
        var line: Int?
        if let colon = origin.lastIndex(of: ":"), let n = Int(origin[origin.index(after: colon)...]), n > 0 {
            path = String(origin[..<colon])
            line = n
        }
        if path.isEmpty || path == "-" || path.hasPrefix("<") || path.contains("://") || path.hasPrefix("/api/")
            || path.hasPrefix("/apis/") || path.contains("\n") {
            return nil
        }
        return FindingLocation(path: path, line: line)
    }

    /// The path as a URI reference: a relative reference for a relative path (resolved against the
    /// repository root by GitHub and GitLab), a `file://` URI for an absolute one.
    public var uri: String {
        var p = path
        while p.hasPrefix("./") { p.removeFirst(2) }
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~/!$&'()*+,;=@")
        let encoded = p.addingPercentEncoding(withAllowedCharacters: allowed) ?? p
        return p.hasPrefix("/") ? "file://" + encoded : encoded
    }

    /// The path for tools that want a repository-relative path (GitLab Code Quality): `./` removed.
    public var relativePath: String {
        var p = path
        while p.hasPrefix("./") { p.removeFirst(2) }
        return p
    }
}

/// A finding's identity across runs: SHA-256 of its check id, environment and subject, never of
/// values or times, so the same problem keeps its fingerprint while its numbers change.
public enum FindingFingerprint {
    public static func of(_ f: Finding) -> String {
        SHA256Digest.hex(Array("\(f.id)\u{0}\(f.environment)\u{0}\(f.subject ?? "")".utf8))
    }
}
