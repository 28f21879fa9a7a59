import Foundation
import ThreatModel

/// The commands the WAF findings' guidance names, fitted to what the source read: `jq` paths
/// differ between ModSecurity v3, v2 and Coraza JSON; a native log is read with `awk`; a
/// `kubectl logs` command appears only when an ingress namespace is configured.
struct WAFCommands {
    enum Format { case v3, v2, coraza, native, errorLog }

    let format: Format
    /// The audit log file to name in commands.
    var file = "modsec_audit.log"
    let ingressNamespace: String?

    init(_ waf: WAFStatistics) {
        let f = waf.auditLogFormat ?? ""
        // The most frequent format comes first.
        if f.isEmpty, waf.errorLogFormat != nil {
            format = .errorLog
            file = "error.log"
        } else if f.hasPrefix("ModSecurity native") {
            format = .native
        } else if f.hasPrefix("ModSecurity v2") {
            format = .v2
        } else if f.hasPrefix("Coraza") {
            format = .coraza
        } else {
            format = .v3
        }
        ingressNamespace = waf.ingressNamespace
    }

    /// Path of the client address, URI, status and time in one JSON entry.
    var clientPath: String {
        switch format {
        case .v2: ".transaction.remote_address"
        default: ".transaction.client_ip"
        }
    }

    var uriPath: String {
        switch format {
        case .v2: ".request.request_line"
        default: ".transaction.request.uri"
        }
    }

    var statusPath: String {
        switch format {
        case .v2: ".response.status"
        case .coraza: ".transaction.response.status"
        default: ".transaction.response.http_code"
        }
    }

    var timePath: String {
        switch format {
        case .v2: ".transaction.time"
        case .coraza: ".transaction.timestamp"
        default: ".transaction.time_stamp"
        }
    }

    /// Entries whose rule ids match a regular expression (JSON), as a jq `select`.
    func selectRules(_ regex: String) -> String {
        switch format {
        case .v2: "select(any(.audit_data.messages[]?; test(\"\\\\[id \\\"\(regex)\")))"
        case .coraza: "select(any(.messages[]?; .data.id | tostring | test(\"^\(regex)\")))"
        default: "select(any(.transaction.messages[]?; .details.ruleId | test(\"^\(regex)\")))"
        }
    }

    /// Rule ids of every entry, one per line.
    var ruleIDs: String {
        switch format {
        case .v2: "jq -r '.audit_data.messages[]?' \(file) | grep -o '\\[id \"[0-9]*\"' | sort | uniq -c | sort -rn | head"
        case .coraza: "jq -r '.messages[]?.data.id' \(file) | sort | uniq -c | sort -rn | head"
        case .native: "grep -o '^Message: .*\\[id \"[0-9]*\"' \(file) | grep -o 'id \"[0-9]*\"' | sort | uniq -c | sort -rn | head"
        case .errorLog: "grep -o '\\[id \"[0-9]*\"\\]' \(file) | sort | uniq -c | sort -rn | head"
        case .v3: "jq -r '.transaction.messages[].details.ruleId' \(file) | sort | uniq -c | sort -rn | head"
        }
    }

    /// What one client sent.
    func byClient(_ ip: String) -> String {
        switch format {
        case .native:
            "awk '/-A--$/{getline a} /-B--$/{getline b; if (a ~ / \(ip) /) print a \" \" b}' \(file) | head"
        case .errorLog:
            "grep -F '\(ip)' \(file) | grep -o '\\[id \"[0-9]*\"\\]\\|\\[uri \"[^\"]*\"\\]' | sort | uniq -c | sort -rn | head"
        default:
            "jq -c 'select(\(clientPath) == \"\(ip)\") | {t: \(timePath), uri: \(uriPath), code: \(statusPath)}' \(file) | head"
        }
    }

    /// What the application answered to the high-severity families.
    var highSeverityAnswers: String {
        switch format {
        case .errorLog:
            "grep -E '\\[id \"9(3[0-3]|42|44)' \(file) | grep -o '\\[uri \"[^\"]*\"\\]' | sort | uniq -c | sort -rn | head (then their status in the access log)"
        case .native:
            "awk '/-F--$/{getline f} /-H--$/{h=1} h && /\\[id \"9(3[0-3]|42|44)/{print f; h=0} /-Z--$/{h=0}' \(file) | sort | uniq -c | sort -rn"
        default:
            "jq -c '\(selectRules("9(3[0-3]|42|44)")) | {uri: \(uriPath), code: \(statusPath)}' \(file) | sort | uniq -c | sort -rn | head"
        }
    }

    /// `kubectl logs` of the ingress controller's audit log, only when a namespace is known.
    func kubectlLogs(since: String) -> String? {
        ingressNamespace.map { "`kubectl -n \($0) logs -l app=nginx-ingress -c modsecurity-log --since=\(since)`" }
    }
}

/// Private, loopback and link-local addresses: a burst from one of them is usually a developer's
/// own test or a proxy in front of the WAF, not the internet.
enum AddressScope {
    static func isPrivateOrLoopback(_ ip: String) -> Bool {
        let lower = ip.lowercased()
        if lower.contains(":") {
            return lower == "::1" || lower.hasPrefix("fc") || lower.hasPrefix("fd") || lower.hasPrefix("fe80:")
                || lower.hasPrefix("::ffff:127.") || lower.hasPrefix("::ffff:10.") || lower.hasPrefix("::ffff:192.168.")
        }
        let o = ip.split(separator: ".").compactMap { Int($0) }
        guard o.count == 4 else { return false }
        return o[0] == 10 || o[0] == 127 || (o[0] == 172 && (16...31).contains(o[1])) || (o[0] == 192 && o[1] == 168)
            || (o[0] == 169 && o[1] == 254) || (o[0] == 100 && (64...127).contains(o[1]))
    }
}
