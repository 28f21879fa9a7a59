import Foundation
import Testing
import ThreatRender

/// One line of a list in Tests/Fixtures/payloads/.
struct Payload: Hashable {
    var family: String
    /// The bytes as they go into logs (a wfuzz line may not be UTF-8).
    var bytes: [UInt8]
    /// The text, with invalid UTF-8 replaced by U+FFFD (what the parsers make of it).
    var text: String
    var isUTF8: Bool
}

/// The injection corpus: wfuzz's lists (copied from Debian's package) and our own.
enum PayloadCorpus {
    static let directory = repo + "/Tests/Fixtures/payloads"

    static func load() throws -> [Payload] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".txt") }.sorted()
        var out: [Payload] = []
        for file in files {
            let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/" + file)))
            let family = String(file.dropLast(4))
            for var line in data.split(separator: 0x0A, omittingEmptySubsequences: true).map(Array.init) {
                if line.last == 0x0D { line.removeLast() }
                if line.isEmpty { continue }
                if !file.hasPrefix("wfuzz-") { line = decodeEscapes(line) }
                let text = String(decoding: line, as: UTF8.self)
                out.append(Payload(family: family, bytes: line, text: text, isUTF8: Array(text.utf8) == line))
            }
        }
        return out
    }

    /// `\u{HEX}` → that code point (our lists only; see the folder's README).
    static func decodeEscapes(_ line: [UInt8]) -> [UInt8] {
        let s = String(decoding: line, as: UTF8.self)
        var out = ""
        var rest = Substring(s)
        while let r = rest.range(of: "\\u{") {
            out += rest[..<r.lowerBound]
            let after = rest[r.upperBound...]
            guard let close = after.firstIndex(of: "}"), let v = UInt32(after[..<close], radix: 16), let u = Unicode.Scalar(v) else {
                out += "\\u{"
                rest = after
                continue
            }
            out.unicodeScalars.append(u)
            rest = after[after.index(after: close)...]
        }
        out += rest
        return Array(out.utf8)
    }
}

/// Encoders for the generated inputs: each writes the payload the way the real producer would.
enum Encode {
    /// A JSON string as ModSecurity writes it: quotes, backslashes and C0 escaped, everything else
    /// raw (invalid UTF-8 bytes included, as libmodsecurity copies them).
    static func json(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x22]
        for b in bytes {
            switch b {
            case 0x22: out += Array(#"\""#.utf8)
            case 0x5C: out += Array(#"\\"#.utf8)
            case 0..<0x20: out += Array(String(format: "\\u%04x", b).utf8)
            default: out.append(b)
            }
        }
        return out + [0x22]
    }

    /// A quoted NGINX access-log field: `"`, `\`, controls and bytes ≥ 0x7F as `\xHH`.
    static func nginx(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes {
            if b < 0x20 || b >= 0x7F || b == 0x22 || b == 0x5C {
                out += Array(String(format: "\\x%02X", b).utf8)
            } else {
                out.append(b)
            }
        }
        return out
    }

    /// A YAML double-quoted scalar: everything outside printable ASCII as `\u`/`\U` escapes.
    static func yaml(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if u.value >= 0x20, u.value < 0x7F { out.unicodeScalars.append(u) }
                else if u.value <= 0xFFFF { out += String(format: "\\u%04X", u.value) }
                else { out += String(format: "\\U%08X", u.value) }
            }
        }
        return out + "\""
    }

    /// A Prometheus label value in a JSON answer (the encoder escapes; the decoder sees the text).
    static func jsonText(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
            }
        }
        return out + "\""
    }
}

/// A report configuration whose every untrusted field carries payloads: `chunk` payloads per
/// environment (the report lists the top 10 rules, clients, URIs, drop reasons and pairs), so
/// every payload is shown somewhere.
struct HostileFixture {
    static let chunk = 10
    let dir: String
    let payloads: [Payload]
    var environments: [[Payload]] { stride(from: 0, to: payloads.count, by: Self.chunk).map { Array(payloads[$0..<min($0 + Self.chunk, payloads.count)]) } }
    /// Environment names as configured (a payload each, made unique), then `oddName`, `hubble` and `elasticsearch`.
    let environmentNames: [String]

    init(payloads: [Payload]) throws {
        self.payloads = payloads
        dir = tempDir("hostile")
        var names: [String] = []
        var seen: Set<String> = []
        let chunks = stride(from: 0, to: payloads.count, by: Self.chunk).map { Array(payloads[$0..<min($0 + Self.chunk, payloads.count)]) }
        for (i, c) in chunks.enumerated() {
            var name: String = c.first(where: { $0.isUTF8 && !$0.text.unicodeScalars.contains { $0.value == 0 } })?.text ?? "env"
            if !seen.insert(Sanitize.text(name, max: 80)).inserted {
                name += " (\(i))"
                seen.insert(Sanitize.text(name, max: 80))
            }
            names.append(name)
        }
        environmentNames = names + [Self.oddName, "hubble", "elasticsearch"]
        try write()
    }

    static func namespace(_ i: Int) -> String { "e\(i)" }
    /// The last environment: log lines that are no Swift string (lone surrogates, invalid UTF-8).
    /// Its name holds what XML 1.0 cannot carry (C0 controls, U+FFFE/U+FFFF) and a CDATA end.
    static let oddName = "odd \u{202E}bytes\u{1B}[0m ]]> \u{FFFE}\u{FFFF}\u{1}\u{8}"
    static let oddNamespace = "odd"
    /// The next environment reads `hubble observe` JSON: namespaces, pods and drop reasons from these.
    static let hubbleNamespace = "hub"
    /// The last environment replays an Elasticsearch answer whose keys are these.
    static let esNamespace = "es"
    var esPayloads: [Payload] { Array(payloads.filter { $0.family == "wfuzz-xss" || $0.family == "markdown" }.prefix(10)) }
    var hubblePayloads: [Payload] { Array(payloads.filter { $0.family == "terminal" || $0.family == "svg" }.prefix(10)) }

    func write() throws {
        let fm = FileManager.default
        var audit: [UInt8] = [], access: [UInt8] = []
        var j = 0
        for (i, env) in environments.enumerated() {
            for p in env {
                let id = "r\(j)"
                let t = String(format: "%02d:%02d:%02d", 1 + (j / 3600) % 20, (j / 60) % 60, j % 60)
                // ModSecurity v3 JSON audit entry: URI, client, Host, User-Agent, rule message and data are the payload.
                audit += Array(#"{"transaction":{"client_ip":"#.utf8) + Encode.json(p.bytes)
                audit += Array(#","time_stamp":"Fri Nov 20 \#(t) 2026","server_id":"x","client_port":0,"host_ip":"127.0.0.1","host_port":80,"unique_id":"\#(id)","request":{"method":"GET","http_version":1.1,"uri":"#.utf8)
                audit += Encode.json(p.bytes) + Array(#","headers":{"Host":"#.utf8) + Encode.json(p.bytes)
                audit += Array(#","User-Agent":"#.utf8) + Encode.json(p.bytes)
                audit += Array(#"}},"response":{"http_code":403,"headers":{}},"producer":{"modsecurity":"ModSecurity v3.0.9 (Linux)","secrules_engine":"DetectionOnly","components":["OWASP_CRS/3.3.4"]},"messages":[{"message":"#.utf8)
                audit += Encode.json(p.bytes) + Array(#","details":{"match":"x","reference":"x","ruleId":"\#(941100 + j)","file":"x","lineNumber":"1","data":"#.utf8)
                audit += Encode.json(p.bytes) + Array(#","severity":"2","ver":"OWASP_CRS/3.3.4","rev":"","tags":[],"maturity":"0","accuracy":"0"}}]}}"#.utf8) + [0x0A]
                // ingress-nginx access line joined by $req_id: request line and User-Agent carry the payload.
                access += Array("192.0.2.\(j % 250 + 1) - - [20/Nov/2026:\(t) +0000] \"GET ".utf8) + Encode.nginx(p.bytes)
                access += Array(" HTTP/1.1\" 403 0 \"-\" \"".utf8) + Encode.nginx(p.bytes)
                access += Array("\" 100 0.001 [\(Self.namespace(i))-web-80] [] 127.0.0.1:80 0 0.001 403 \(id)\n".utf8)
                j += 1
            }
        }
        // Inputs that are no Swift string: lone surrogates as JSON escapes, raw invalid UTF-8.
        let odd = [#"\ud800lone-high"#, #"\udc00lone-low"#, #"\ud800\u0041pair-broken"#]
        for (k, raw) in odd.enumerated() {
            let id = "odd\(k)"
            audit += Array(#"{"transaction":{"client_ip":"192.0.2.\#(k + 1)","time_stamp":"Fri Nov 20 22:00:0\#(k) 2026","unique_id":"\#(id)","request":{"method":"GET","uri":"/\#(raw)","headers":{"Host":"x"}},"response":{"http_code":403},"producer":{"secrules_engine":"DetectionOnly"},"messages":[{"message":"\#(raw)","details":{"ruleId":"942100","severity":"2"}}]}}"#.utf8) + [0x0A]
            access += Array("192.0.2.\(k + 1) - - [20/Nov/2026:22:00:0\(k) +0000] \"GET /odd HTTP/1.1\" 403 0 \"-\" \"-\" 100 0.001 [\(Self.oddNamespace)-web-80] [] 127.0.0.1:80 0 0.001 403 \(id)\n".utf8)
        }
        audit += Array(#"{"transaction":{"client_ip":"192.0.2.9","time_stamp":"Fri Nov 20 22:00:09 2026","unique_id":"odd9","request":{"method":"GET","uri":"/bytes-"#.utf8)
            + [0xC0, 0xAF, 0xFF, 0xFE, 0xED, 0xA0, 0x80] + Array(#"","headers":{}},"response":{"http_code":403},"producer":{"secrules_engine":"DetectionOnly"},"messages":[]}}"#.utf8) + [0x0A]
        access += Array("192.0.2.9 - - [20/Nov/2026:22:00:09 +0000] \"GET /odd HTTP/1.1\" 403 0 \"-\" \"-\" 100 0.001 [\(Self.oddNamespace)-web-80] [] 127.0.0.1:80 0 0.001 403 odd9\n".utf8)
        try Data(audit).write(to: URL(fileURLWithPath: dir + "/modsec_audit.log"))
        try Data(access).write(to: URL(fileURLWithPath: dir + "/access.log"))

        var config = """
        version: 1
        title: \(Encode.yaml(payloads.first { $0.family == "terminal" }?.text ?? "<script>alert(1)</script>"))
        window: 24h
        to: 2026-11-21T00:00:00Z
        interval: hour
        timezone: UTC
        environments:

        """
        let flowsSample = repo + "/samples/production/flows"  // totals, inbound, outbound as recorded
        for (i, env) in environments.enumerated() {
            let ns = Self.namespace(i)
            // Prometheus answers: the sample's totals, drop reasons and dropped pairs from payloads.
            let flows = dir + "/\(ns)/flows"
            try fm.createDirectory(atPath: flows, withIntermediateDirectories: true)
            for f in ["totals", "inbound", "outbound"] {
                try fm.copyItem(atPath: flowsSample + "/\(f).json", toPath: flows + "/\(f).json")
            }
            // A short rate series (hourly over the window) keeps the charts small.
            let points = { (scale: Int) in (0...24).map { h in "[\(1795132800 + h * 3600),\"\(scale * (1 + (h * 7) % 5))\"]" }.joined(separator: ",") }
            try #"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"verdict":"DROPPED"},"values":[\#(points(1))]},{"metric":{"verdict":"FORWARDED"},"values":[\#(points(10))]}]}}"#
                .write(toFile: flows + "/rate.json", atomically: true, encoding: .utf8)
            let reasons = env.enumerated().map { k, p in #"{"metric":{"reason":\#(Encode.jsonText(p.text))},"value":[1795132800,"\#(1000 - k)"]}"# }
            let pairs = env.enumerated().map { k, p in
                #"{"metric":{"source":\#(Encode.jsonText(p.text)),"destination":\#(Encode.jsonText(p.text))},"value":[1795132800,"\#(1000 - k)"]}"#
            }
            try #"{"status":"success","data":{"resultType":"vector","result":[\#(reasons.joined(separator: ","))]}}"#
                .write(toFile: flows + "/drop_reasons.json", atomically: true, encoding: .utf8)
            try #"{"status":"success","data":{"resultType":"vector","result":[\#(pairs.joined(separator: ","))]}}"#
                .write(toFile: flows + "/drop_pairs.json", atomically: true, encoding: .utf8)
            // Policies: names, namespaces, label keys and values from payloads (one document each).
            let policies = dir + "/\(ns)/policies"
            try fm.createDirectory(atPath: policies, withIntermediateDirectories: true)
            let docs = env.enumerated().map { k, p in
                let kind = k % 2 == 0 ? "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy" : "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy"
                let selector = k % 2 == 0 ? "podSelector" : "endpointSelector"
                return """
                \(kind)
                metadata:
                  name: \(Encode.yaml(p.text))
                  namespace: \(Encode.yaml(k == 0 ? p.text : ns))
                  labels: { \(Encode.yaml(p.text)): \(Encode.yaml(p.text)) }
                spec:
                  \(selector):
                    matchLabels:
                      \(Encode.yaml(p.text)): \(Encode.yaml(p.text))
                      app: \(Encode.yaml(p.text))
                  \(k % 2 == 0 ? "ingress:\n    - from:\n        - podSelector:\n            matchLabels:\n              \(Encode.yaml(p.text)): \(Encode.yaml(p.text))" : "ingress:\n    - fromEndpoints:\n        - matchLabels:\n            \(Encode.yaml(p.text)): \(Encode.yaml(p.text))")

                """
            }
            try docs.joined(separator: "---\n").write(toFile: policies + "/policies.yaml", atomically: true, encoding: .utf8)
            config += """
              - name: \(Encode.yaml(environmentNames[i]))
                namespace: \(ns)
                hosts: [\(Encode.yaml(env[0].text))]
                waf:
                  files: { audit_log: modsec_audit.log, access_log: access.log }
                flows:
                  replay: \(ns)/flows
                policies:
                  directory: \(ns)/policies

            """
        }
        config += """
          - name: \(Encode.yaml(Self.oddName))
            namespace: \(Self.oddNamespace)
            waf:
              files: { audit_log: modsec_audit.log, access_log: access.log }

        """
        // `hubble observe -o json` lines: dropped flows from a payload namespace, with a payload drop reason.
        var hubble = ""
        for (k, p) in hubblePayloads.enumerated() {
            hubble += #"{"flow":{"time":"2026-11-20T03:00:\#(String(format: "%02d", k)).5Z","verdict":"DROPPED","IP":{"source":"10.0.1.1","destination":"10.0.2.1","ipVersion":"IPv4"},"l4":{"TCP":{"source_port":4000,"destination_port":80}},"source":{"namespace":\#(Encode.jsonText(p.text)),"pod_name":\#(Encode.jsonText(p.text)),"labels":[]},"destination":{"namespace":"\#(Self.hubbleNamespace)","pod_name":"web-1","labels":[]},"drop_reason_desc":\#(Encode.jsonText(p.text)),"Type":"L3_L4","traffic_direction":"INGRESS"},"node_name":"n","time":"2026-11-20T03:00:00Z"}"# + "\n"
        }
        try hubble.write(toFile: dir + "/hubble.json", atomically: true, encoding: .utf8)
        config += """
          - name: hubble
            namespace: \(Self.hubbleNamespace)
            flows:
              hubble: { flows: hubble.json }

        """
        // An Elasticsearch _msearch answer (the sample's, replayed) whose rule messages, clients, URIs
        // and engine modes are payloads.
        var msearch = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: repo + "/samples/production/waf/msearch.json"))) as? [String: Any])
        var responses = try #require(msearch["responses"] as? [[String: Any]])
        var aggs = try #require(responses[1]["aggregations"] as? [String: Any])
        func relabel(_ name: String, _ body: (inout [String: Any], Payload) -> Void) throws {
            var agg = try #require(aggs[name] as? [String: Any])
            let buckets = try #require(agg["buckets"] as? [[String: Any]])
            agg["buckets"] = zip(buckets, esPayloads).map { b, p in
                var b = b
                body(&b, p)
                return b
            }
            aggs[name] = agg
        }
        // The rule's message as the answer carries it: in the top_hits document's messages array,
        // beside its rule id. The score-message label of 949110 is left out (no anomaly_scores), so
        // every top rule's label is a payload.
        try relabel("top_rules") { b, p in
            let element: [String: Any] = ["message": p.text, "details": ["ruleId": b["key"] ?? ""]]
            let hit: [String: Any] = ["_index": "filebeat", "_id": "1", "_score": 0.0, "_source": ["transaction": ["messages": [element]]]]
            b["message"] = ["hits": ["total": ["value": b["doc_count"] ?? 1, "relation": "eq"], "hits": [hit]]]
        }
        aggs["anomaly_scores"] = nil
        for name in ["top_clients", "top_uris", "engine_mode"] { try relabel(name) { b, p in b["key"] = p.text } }
        responses[1]["aggregations"] = aggs
        msearch["responses"] = responses
        try fm.createDirectory(atPath: dir + "/es/waf", withIntermediateDirectories: true)
        try JSONSerialization.data(withJSONObject: msearch).write(to: URL(fileURLWithPath: dir + "/es/waf/msearch.json"))
        config += """
          - name: elasticsearch
            namespace: \(Self.esNamespace)
            waf:
              replay: es/waf

        """
        try config.write(toFile: dir + "/threat-report.yml", atomically: true, encoding: .utf8)
    }
}
