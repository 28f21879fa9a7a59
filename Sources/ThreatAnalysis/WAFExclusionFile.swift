import Foundation
import ThreatModel

/// The exclusion file, `waf-tuning/<environment>.conf`, in the SecLang the CRS documentation
/// recommends (docs/waf.md "The exclusion file"): part 1, runtime rules
/// `SecRule REQUEST_FILENAME "@beginsWith /search" "id:10001,phase:1,pass,nolog,ctl:ruleRemoveTargetById=942100;ARGS:q"`,
/// loaded before the CRS; part 2, configure-time `SecRuleUpdateTargetById 942100 "!ARGS:q"`,
/// loaded after it. Never `SecRuleRemoveById`, never `SecRuleEngine`.
///
/// Everything taken from a log is either checked against a strict character set before it is
/// written into a directive (paths, targets, rule ids) or written into a comment with every byte
/// outside printable ASCII, and the backslash, as `\xHH`: a hostile URI or id cannot end a
/// comment line or continue it onto the next.
public enum WAFExclusionFile {
    public struct Header: Sendable {
        public var environment: String
        public var generatedAt: Date
        public var from: Date
        public var to: Date
        public init(environment: String, generatedAt: Date, from: Date, to: Date) {
            self.environment = environment
            self.generatedAt = generatedAt
            self.from = from
            self.to = to
        }
    }

    public static let partTwoMarker = "# ==== Part 2: configure-time exclusions (load AFTER the CRS rules) ===="
    public static let partOneMarker = "# ==== Part 1: runtime exclusions (load BEFORE the CRS rules) ===="

    /// Collections an exclusion may name.
    static let collections: Set<String> = [
        "ARGS", "ARGS_GET", "ARGS_POST", "ARGS_NAMES", "ARGS_GET_NAMES", "ARGS_POST_NAMES", "REQUEST_HEADERS", "REQUEST_HEADERS_NAMES",
        "REQUEST_COOKIES", "REQUEST_COOKIES_NAMES", "REQUEST_BODY", "REQUEST_URI", "REQUEST_URI_RAW", "REQUEST_FILENAME",
        "REQUEST_BASENAME", "REQUEST_LINE", "QUERY_STRING", "XML", "FILES", "FILES_NAMES",
    ]

    static func safe(_ s: String, extra: Set<UInt8>, max: Int) -> Bool {
        !s.isEmpty && s.utf8.count <= max && s.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || extra.contains(c)
        }
    }

    /// Why a row cannot be written as an exclusion, or nil.
    public static func unwritable(_ row: WAFTargetStats) -> String? {
        guard safe(row.ruleID, extra: [], max: 9), Int(row.ruleID) != nil else { return "Not written: the rule id is not a number." }
        guard row.path.hasPrefix("/"), safe(row.path, extra: Set("/._~-".utf8), max: 128) else {
            return "Not written: the path holds characters an exclusion is not written with (only letters, digits and /._~- are)."
        }
        let parts = row.target.split(separator: ":", maxSplits: 1).map(String.init)
        guard let collection = parts.first, collections.contains(collection) else {
            return "Not written: \(comment(row.target)) is not a request variable an exclusion names."
        }
        if parts.count == 2, !safe(parts[1], extra: Set("_.-".utf8), max: 64) {
            return "Not written: the variable's name holds characters an exclusion is not written with (only letters, digits and _.- are)."
        }
        return nil
    }

    /// Log-derived text for a comment: printable ASCII kept (the backslash excepted), every other
    /// byte as `\xHH`, cut at `max` bytes.
    public static func comment(_ s: String, max: Int = 120) -> String {
        var out = ""
        for (k, c) in s.utf8.enumerated() {
            if k >= max { out += "..."; break }
            if c >= 0x20, c < 0x7F, c != 0x5C { out.unicodeScalars.append(UnicodeScalar(c)) } else { out += String(format: "\\x%02X", c) }
        }
        return out
    }

    public static func render(_ advice: WAFTuningAdvice, header h: Header) -> String {
        var lines: [String] = []
        func time(_ d: Date) -> String { RFC3339.format(d) }
        lines += [
            "# WAF exclusions for environment \"\(comment(h.environment))\", drawn by threat-report from the audit entries of",
            "# \(time(h.from)) to \(time(h.to)) (generated \(time(h.generatedAt))). Review each one before loading it.",
            "#",
            "# Each exclusion stops one CRS rule from inspecting one request variable (on one path, or everywhere).",
            "# No rule is removed and the engine mode is not touched. Variables that carry attacks as well are left in",
            "# place (listed at the end, with why).",
            "#",
            "# Where to load it:",
            "#   Part 1 (runtime rules, SecRule ... ctl:ruleRemoveTargetById) must load BEFORE the CRS rules, where",
            "#     REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf is; part 2 (SecRuleUpdateTargetById) must load AFTER them,",
            "#     where RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf is. Split the file at the part 2 line when it has one.",
            "#   NGINX (libmodsecurity 3): in the file `modsecurity_rules_file` names, `Include` part 1 before",
            "#     `Include .../rules/*.conf` and part 2 after it (ingress-nginx: the modsecurity-snippet, in that order).",
            "#   coraza-proxy-wasm (Istio WasmPlugin or Envoy Gateway EnvoyExtensionPolicy): in pluginConfig `directives`,",
            "#     part 1's lines before `Include @owasp_crs/*.conf` and part 2's after it.",
            "#   coraza-spoa: in the application's `directives:` block of config.yaml, in the same order around the CRS.",
            "#   Apache (ModSecurity 2): part 1 in REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf, part 2 in",
            "#     RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf; then `apachectl configtest` (NGINX: `nginx -t`).",
            "",
            partOneMarker,
        ]
        let runtime = advice.candidates.filter { $0.decision == .excludeOnPath }
        if runtime.isEmpty { lines.append("# (none)") }
        for c in runtime {
            guard let id = c.exclusionID else { continue }
            lines += evidence(c)
            lines.append("SecRule REQUEST_FILENAME \"@beginsWith \(c.row.path)\" \"id:\(id),phase:1,pass,nolog,ctl:ruleRemoveTargetById=\(c.row.ruleID);\(c.row.target)\"")
            lines.append("")
        }
        let everywhere = advice.candidates.filter { $0.decision == .excludeEverywhere }
        if !everywhere.isEmpty {
            lines += ["", partTwoMarker]
            var done = Set<String>()
            for c in everywhere where done.insert("\(c.row.ruleID) \(c.row.target)").inserted {
                let rows = everywhere.filter { $0.row.ruleID == c.row.ruleID && $0.row.target == c.row.target }
                for r in rows { lines += evidence(r) }
                lines.append("SecRuleUpdateTargetById \(c.row.ruleID) \"!\(c.row.target)\"")
                lines.append("")
            }
        }
        let kept = advice.candidates.filter { $0.decision == .keep || $0.decision == .notWritable }
        if !kept.isEmpty {
            lines += ["", "# ==== Candidates left in place (no directive) ===="]
            for c in kept {
                lines.append("# \(comment(c.row.ruleID)) on \(comment(c.row.target)) under \(comment(c.row.path)): \(comment(c.explanation, max: 400))")
                lines.append("#   \(comment(c.reason, max: 400))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func evidence(_ c: WAFTuningCandidate) -> [String] {
        let r = c.row
        return [
            "# \(comment(r.ruleID)) on \(comment(r.target)) under \(comment(r.path)): \(r.count) requests, \(r.clients)\(r.clientsCapped ? "+" : "") clients, "
                + "first \(RFC3339.format(r.firstSeen)), last \(RFC3339.format(r.lastSeen))",
            "#   examples (unique_id): \(r.examples.isEmpty ? "none kept" : r.examples.map { comment($0, max: 64) }.joined(separator: ", "))",
            "#   \(comment(c.explanation, max: 400))",
            "#   \(comment(c.reason, max: 400))",
        ]
    }
}
