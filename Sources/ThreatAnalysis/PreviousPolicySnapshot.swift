import Foundation
import ThreatModel

/// What the previous report in the output folder says about each environment's policies: read
/// from its `report.json`, which is untrusted input (another version wrote it, or someone edited
/// or planted it). Every field is checked; a field of the wrong type is an error naming its place.
public struct PreviousPolicySnapshot: Sendable, Equatable {
    public struct Policy: Sendable, Equatable {
        public var kind: String
        public var name: String
        public var namespace: String?
        public var enabled: Bool
        public var valid: Bool
        /// SHA-256 of the manifest text (for policies without a rule summary).
        public var manifestSHA256: String
        public var fingerprint: PolicyFingerprint?
    }

    public struct Environment: Sendable, Equatable {
        public var namespace: String?
        /// The policy section's status (`ok`, `partial`, `unavailable`, `not_configured`).
        public var status: String
        /// nil when the section had no policy list.
        public var items: [Policy]?
    }

    public var generatedAt: Date?
    /// SHA-256 of the file as read.
    public var sha256: String
    public var environments: [String: Environment]

    /// What was found in the output folder.
    public enum State: Sendable, Equatable {
        case absent
        /// The reason names the file and the place.
        case unreadable(String)
        case read(PreviousPolicySnapshot)
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var place: String
        public var message: String
        public var description: String { "\(place): \(message)" }
    }

    /// Parses `report.json` bytes; `file` names the file in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws(ParseError) -> PreviousPolicySnapshot {
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes: bytes)
        } catch {
            throw ParseError(place: "\(file):\(error.line):\(error.column)", message: "not valid JSON (\(error.message))")
        }
        func fail(_ path: String, _ m: String) -> ParseError { ParseError(place: "\(file): \(path)", message: m) }
        guard root.objectValue != nil else { throw fail("top level", "expected an object (a threat-report report.json)") }
        guard let version = root["schema_version"]?.intValue else { throw fail("schema_version", "missing or not a whole number") }
        guard version == Report.schemaVersion else {
            throw fail("schema_version", "version \(version) is not the one this tool reads (\(Report.schemaVersion))")
        }
        var generated: Date?
        if let g = root["generated_at"], !g.isNull {
            guard let s = g.stringValue, let d = RFC3339.parse(s) else { throw fail("generated_at", "not an RFC 3339 time") }
            generated = d
        }
        guard let envs = root["environments"]?.arrayValue else { throw fail("environments", "missing or not a list") }
        var out: [String: Environment] = [:]
        for (i, e) in envs.enumerated() {
            let at = "environments[\(i)]"
            guard e.objectValue != nil else { throw fail(at, "not an object") }
            guard let name = e["name"]?.stringValue else { throw fail(at + ".name", "missing or not a string") }
            guard out[name] == nil else { throw fail(at + ".name", "environment \(name) appears twice") }
            let ns = try optionalString(e["namespace"], at + ".namespace", fail)
            guard let p = e["policies"], p.objectValue != nil else { throw fail(at + ".policies", "missing or not an object") }
            guard let status = p["status"]?.stringValue else { throw fail(at + ".policies.status", "missing or not a string") }
            var items: [Policy]?
            if let list = p["items"], !list.isNull {
                guard let arr = list.arrayValue else { throw fail(at + ".policies.items", "not a list") }
                items = try arr.enumerated().map { (j, v) throws(ParseError) in try policy(v, at + ".policies.items[\(j)]", fail) }
            }
            out[name] = Environment(namespace: ns, status: status, items: items)
        }
        return PreviousPolicySnapshot(generatedAt: generated, sha256: SHA256Digest.hex(bytes), environments: out)
    }

    static func optionalString(_ v: JSONValue?, _ path: String, _ fail: (String, String) -> ParseError) throws(ParseError) -> String? {
        guard let v, !v.isNull else { return nil }
        guard let s = v.stringValue else { throw fail(path, "not a string") }
        return s
    }

    static func policy(_ v: JSONValue, _ at: String, _ fail: (String, String) -> ParseError) throws(ParseError) -> Policy {
        guard v.objectValue != nil else { throw fail(at, "not an object") }
        func string(_ key: String) throws(ParseError) -> String {
            guard let s = v[key]?.stringValue else { throw fail("\(at).\(key)", "missing or not a string") }
            return s
        }
        func bool(_ key: String) throws(ParseError) -> Bool {
            guard let b = v[key]?.boolValue else { throw fail("\(at).\(key)", "missing or not true/false") }
            return b
        }
        var fp: PolicyFingerprint?
        if let f = v["fingerprint"], !f.isNull {
            guard let digest = f["digest"]?.stringValue, digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                throw fail("\(at).fingerprint.digest", "missing or not a SHA-256 in hex")
            }
            guard let rules = f["rules"]?.arrayValue else { throw fail("\(at).fingerprint.rules", "missing or not a list") }
            var lines: [String] = []
            for (k, r) in rules.enumerated() {
                guard let s = r.stringValue else { throw fail("\(at).fingerprint.rules[\(k)]", "not a string") }
                lines.append(s)
            }
            guard let total = f["total"]?.intValue, total >= lines.count else {
                throw fail("\(at).fingerprint.total", "missing, not a whole number, or fewer than the rules listed")
            }
            fp = PolicyFingerprint(digest: digest.lowercased(), lines: lines, total: total)
        }
        return Policy(kind: try string("kind"), name: try string("name"),
                      namespace: try optionalString(v["namespace"], "\(at).namespace", fail),
                      enabled: try bool("enabled"), valid: try bool("valid"),
                      manifestSHA256: SHA256Digest.hex(Array(try string("manifest").utf8)), fingerprint: fp)
    }
}
