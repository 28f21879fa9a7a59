import Foundation
import Testing
import ThreatConfig
import ThreatModel

func loadConfig(_ text: String) throws(LocatedError) -> ReportConfig {
    try ConfigLoader.parse(text, file: "cfg.yml", baseDirectory: "/etc/tr")
}

/// The error a config must fail with.
func configError(_ text: String) -> LocatedError? {
    do {
        _ = try loadConfig(text)
        return nil
    } catch {
        return error
    }
}

let minimal = """
version: 1
environments:
  - name: production
    namespace: shop-production

"""

@Suite("Config v1")
struct ConfigTests {
    @Test("A minimal config takes every default")
    func defaults() throws {
        let c = try loadConfig(minimal)
        #expect(c.window == nil && c.from == nil && c.to == nil)
        #expect(c.interval == .auto)
        #expect(c.timezone == "UTC")
        #expect(c.thresholds == Thresholds.defaults)
        #expect(c.environments.map(\.name) == ["production"])
        #expect(c.environments[0].waf == nil)
    }

    @Test("Sources, relative paths against the config folder, and per-environment threshold overrides")
    func fullConfig() throws {
        let c = try loadConfig("""
        version: 1
        title: Nightly
        window: 7d
        to: 2026-11-20T00:00:00Z
        interval: hour
        timezone: Europe/Berlin
        thresholds:
          anomalous_ratio: { warning: 0.1, critical: 0.3 }
          min_requests: 50
          attack_burst_share: 0.4
        environments:
          - name: production
            namespace: shop-production
            hosts: [shop.example.com]
            thresholds:
              anomalous_ratio: { critical: 0.5 }
              min_flows: 10
              attack_burst_min_requests: 50
            waf: { replay: rec/waf }
            flows: { prometheus: { url: "https://prom:9090/prefix", bearer_token_file: token } }
            policies: { directory: /abs/policies }
          - name: staging
            namespace: shop-staging
            waf: { files: { audit_log: [a.log, "b/*.gz"], access_log: access.log } }
            policies: { directory: "-" }
        """)
        #expect(c.title == "Nightly")
        #expect(c.window?.seconds == 7 * 86400)
        #expect(c.to == RFC3339.parse("2026-11-20T00:00:00Z"))
        #expect(c.interval == .fixed(.hour))
        #expect(c.thresholds.anomalousRatio == RatioThreshold(warning: 0.1, critical: 0.3))
        #expect(c.thresholds.minRequests == 50)
        let p = c.environments[0]
        #expect(p.thresholds.anomalousRatio == RatioThreshold(warning: 0.1, critical: 0.5))
        #expect(p.thresholds.minRequests == 50)
        #expect(p.thresholds.minFlows == 10)
        #expect(p.thresholds.attackBurstShare == 0.4 && p.thresholds.attackBurstMinRequests == 50)
        #expect(c.environments[1].thresholds.attackBurstShare == 0.4 && c.environments[1].thresholds.attackBurstMinRequests == 20)
        #expect(p.waf == .replay("/etc/tr/rec/waf"))
        guard case let .prometheus(s) = p.flows else { Issue.record("not prometheus"); return }
        #expect(s.transport.url == "https://prom:9090/prefix")
        #expect(s.transport.auth.bearerTokenFile == "/etc/tr/token")
        #expect(s.workloadLabel == "app.kubernetes.io/name")
        #expect(p.policies == .directory("/abs/policies"))
        guard case let .files(f) = c.environments[1].waf else { Issue.record("not files"); return }
        #expect(f.auditLogs == ["/etc/tr/a.log", "/etc/tr/b/*.gz"])
        #expect(f.accessLogs == ["/etc/tr/access.log"])
        #expect(c.environments[1].policies == .directory("-"))
        #expect(c.environments[1].thresholds.minRequests == 50)
    }

    @Test("Every window preset and <N>m|h|d")
    func windowPresets() throws {
        let expected = ["30m": 1800, "3h": 10800, "8h": 28800, "1d": 86400, "3d": 259_200, "7d": 604_800, "30d": 2_592_000,
                        "24h": 86400, "90m": 5400, "2d": 172_800]
        for (text, seconds) in expected {
            #expect(WindowLength.parse(text)?.seconds == seconds, "\(text)")
            let c = try loadConfig("version: 1\nwindow: \(text)\n" + minimal.dropFirst("version: 1\n".count))
            #expect(c.window?.seconds == seconds)
        }
        #expect(Set(WindowLength.presets) == ["30m", "3h", "8h", "1d", "3d", "7d", "30d"])
        for bad in ["0h", "-1h", "1w", "h", "1.5h", "24", "1h30m", "9999d", "+1h", " 1h", "367d", "99999999999999999999m"] {
            #expect(WindowLength.parse(bad) == nil, "\(bad)")
        }
        #expect(WindowLength.parse("366d")?.seconds == 366 * 86400)
    }

    @Test("Deadlines: <N>s|m|h up to 7 days; anything else is refused")
    func deadlines() {
        for (text, seconds) in ["90s": 90, "10m": 600, "1h": 3600, "168h": 604_800, "604800s": 604_800] {
            #expect(RunDuration.parse(text)?.seconds == seconds, "\(text)")
        }
        for bad in ["0s", "-5s", "1d", "169h", "10", "s", "1.5m", "2 weeks", "+10m", "99999999999999999999s"] {
            #expect(RunDuration.parse(bad) == nil, "\(bad)")
        }
    }

    @Test("Unknown keys, wrong types and missing keys name file:line:column", arguments: [
        ("version: 1\nwindwo: 24h\nenvironments: []\n", "cfg.yml:2:1", "unknown key 'windwo'"),
        ("version: 1\nenvironments:\n  - name: p\n    namespace: shop\n    wafs: {}\n", "cfg.yml:5:5", "unknown key 'environments[0].wafs'"),
        ("version: 1\nthresholds:\n  min_requests: lots\nenvironments: []\n", "cfg.yml:3:17", "min_requests must be a whole number"),
        ("version: 1\nthresholds:\n  anomalous_ratio: { warning: 0.3, critical: 0.2 }\nenvironments: [{name: a, namespace: b}]\n",
         "cfg.yml:3:20", "warning must not be above"),
        ("version: 1\nthresholds:\n  dropped_ratio: { warning: 5 }\nenvironments: [{name: a, namespace: b}]\n",
         "cfg.yml:3:29", "between 0 and 1"),
        ("version: 1\nthresholds:\n  attack_burst_share: 0\nenvironments: [{name: a, namespace: b}]\n",
         "cfg.yml:3:23", "attack_burst_share must be a share above 0"),
        ("version: 1\nthresholds:\n  attack_burst_min_requests: 0\nenvironments: [{name: a, namespace: b}]\n",
         "cfg.yml:3:30", "attack_burst_min_requests must be at least 1"),
        ("environments: []\n", "cfg.yml:1:1", "missing required key 'version'"),
        ("version: 2\nenvironments: []\n", "cfg.yml:1:10", "unsupported config version 2"),
        ("version: 1\n", "cfg.yml:1:1", "missing required key 'environments'"),
        ("version: 1\nenvironments:\n  - namespace: shop\n", "cfg.yml:3:5", "missing required key 'environments[0].name'"),
        ("version: 1\nenvironments:\n  - name: a\n    namespace: Shop_Prod\n", "cfg.yml:4:16", "is not a Kubernetes namespace name"),
        ("version: 1\nwindow: 1w\nenvironments: [{name: a, namespace: b}]\n", "cfg.yml:2:9", "window '1w'"),
        ("version: 1\nto: tomorrow\nenvironments: [{name: a, namespace: b}]\n", "cfg.yml:2:5", "RFC 3339"),
        ("version: 1\ninterval: weekly\nenvironments: [{name: a, namespace: b}]\n", "cfg.yml:2:11", "interval must be"),
        ("version: 1\ntimezone: Mars/Olympus\nenvironments: [{name: a, namespace: b}]\n", "cfg.yml:2:11", "unknown time zone"),
        ("version: 1\nenvironments:\n  - {name: a, namespace: b, waf: {replay: x, files: {audit_log: y}}}\n", "cfg.yml:3:34", "exactly one of"),
        ("version: 1\nenvironments:\n  - {name: a, namespace: b}\n  - {name: a, namespace: c}\n", "cfg.yml:4:5", "duplicate environment name"),
        ("version: 1\nenvironments:\n  - {name: a, namespace: b, flows: {prometheus: {url: 'http://u:p@prom'}}}\n", "cfg.yml:3:55", "must not carry credentials"),
        ("version: 1\nenvironments:\n  - {name: a, namespace: b, flows: {prometheus: {url: 'http://p', metric: 'x{y}'}}}\n", "cfg.yml:3:75", "not a Prometheus metric"),
        ("version: 1\nenvironments:\n  - {name: a, namespace: b, flows: {prometheus: {url: 'http://p', workload_label: 'a b'}}}\n", "cfg.yml:3:83", "workload_label 'a b' is not a Kubernetes label key"),
        ("version: 1\nenvironments:\n  - {name: a, namespace: b, waf: {elasticsearch: {url: 'http://es', username: u}}}\n", "cfg.yml:3:50", "needs password_env"),
        ("version: 1\nenvironments: [\n", "cfg.yml:3:1", "YAML syntax error"),
        ("version: 1\nversion: 1\nenvironments: []\n", "cfg.yml:1:1", "duplicate key 'version'"),
        ("version: 1\nwindow: 24h\nfrom: 2026-11-19T00:00:00Z\nto: 2026-11-20T00:00:00Z\nenvironments: [{name: a, namespace: b}]\n", "cfg.yml:3:7", "not both"),
    ])
    func locatedErrors(text: String, location: String, message: String) {
        guard let e = configError(text) else {
            Issue.record("expected an error for: \(text)")
            return
        }
        #expect(e.location == location, "\(e)")
        #expect(e.message.contains(message), "\(e)")
    }

    @Test("A bare number where a string is wanted is a type error, not a silent conversion")
    func strictStrings() {
        let e = configError("version: 1\nenvironments:\n  - name: 123\n    namespace: b\n")
        #expect(e?.location == "cfg.yml:3:11")
        #expect(e?.message.contains("must be a string") == true)
    }
}

@Suite("Report request: config + flags")
struct RequestTests {
    let now = RFC3339.parse("2026-11-21T12:00:00Z")!

    func request(_ extra: String = "", _ edit: (inout RequestOverrides) -> Void = { _ in }) throws -> ReportRequest {
        let c = try loadConfig("version: 1\n" + extra + "environments: [{name: production, namespace: p}, {name: staging, namespace: s}]\n")
        var o = RequestOverrides()
        edit(&o)
        return try ReportRequest.resolve(config: c, overrides: o, now: now)
    }

    @Test("Default window is 24h ending now, hourly")
    func defaultWindow() throws {
        let r = try request()
        #expect(r.window.to == now)
        #expect(r.window.seconds == 86400)
        #expect(r.window.interval == .hour)
    }

    @Test("Each preset on the command line picks GitLab's interval", arguments: [
        ("30m", Interval.minute), ("3h", .hour), ("8h", .hour), ("1d", .hour), ("3d", .hour), ("7d", .day), ("30d", .day),
    ])
    func presets(window: String, interval: Interval) throws {
        let r = try request("to: 2026-11-20T00:00:00Z\n") { $0.window = window }
        #expect(r.window.seconds == WindowLength.parse(window)!.seconds)
        #expect(r.window.interval == interval)
        #expect(RFC3339.format(r.window.to) == "2026-11-20T00:00:00Z")
    }

    @Test("Flags override the config; --from/--to give an explicit window; --interval wins over auto")
    func overrides() throws {
        let r = try request("window: 7d\ninterval: day\n") {
            $0.from = "2026-11-01T00:00:00Z"
            $0.to = "2026-11-02T00:00:00Z"
            $0.interval = "minute"
            $0.environments = ["staging"]
            $0.timezone = "America/New_York"
        }
        #expect(RFC3339.format(r.window.from) == "2026-11-01T00:00:00Z")
        #expect(r.window.interval == .minute)
        #expect(r.environments.map(\.name) == ["staging"])
        #expect(r.timezone == "America/New_York")
    }

    @Test("Flag errors name the flag", arguments: ["--window", "--to", "--from", "--environment", "--interval", "--timezone"])
    func flagErrors(flag: String) {
        do {
            _ = try request("") { o in
                switch flag {
                case "--window": o.window = "1w"
                case "--to": o.to = "soon"
                case "--from": o.from = "2026-11-01T00:00:00Z"  // without --to
                case "--environment": o.environments = ["prod"]
                case "--interval": o.interval = "second"
                default: o.timezone = "Nowhere"
                }
            }
            Issue.record("expected an error for \(flag)")
        } catch let e as UsageError {
            #expect(e.flag == flag, "\(e)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }
}

@Suite("Elasticsearch source config: fields, cloud_id, max_buckets")
struct ElasticsearchConfigTests {
    @Test("cloud_id decodes to the https endpoint of the deployment, with its port when given")
    func cloudID() {
        // base64("us-east-1.aws.found.io$abc123$def456") and with ":9243" on the host.
        let plain = "my-deploy:" + Data("us-east-1.aws.found.io$abc123$def456".utf8).base64EncodedString()
        #expect(ConfigLoader.cloudIDEndpoint(plain) == "https://abc123.us-east-1.aws.found.io")
        let port = "x:" + Data("eu-west-1.aws.found.io:9243$es1$kb1".utf8).base64EncodedString()
        #expect(ConfigLoader.cloudIDEndpoint(port) == "https://es1.eu-west-1.aws.found.io:9243")
        #expect(ConfigLoader.cloudIDEndpoint("x:!!!") == nil)
        #expect(ConfigLoader.cloudIDEndpoint("x:" + Data("host/evil$id$k".utf8).base64EncodedString()) == nil)
    }

    @Test("The fields block, layouts, cloud_id and max_buckets are read; a bad layout is refused at its place")
    func fieldsBlock() throws {
        let id = "d:" + Data("example.es.io$uuid1$k".utf8).base64EncodedString()
        let yaml = """
        version: 1
        environments:
          - name: a
            namespace: b
            waf:
              elasticsearch:
                cloud_id: "\(id)"
                max_buckets: 10000
                fields: { access_layout: ingress_controller, audit_layout: message, host: http.request.headers.host, audit_namespace: kubernetes.namespace_app }

        """
        let c = try ConfigLoader.parse(yaml, file: "cfg.yml", baseDirectory: ".")
        guard case let .elasticsearch(s)? = c.environments.first?.waf else { Issue.record("no elasticsearch"); return }
        #expect(s.transport.url == "https://uuid1.example.es.io")
        #expect(s.maxBuckets == 10_000)
        #expect(s.fields.accessLayout == .ingressController && s.fields.auditLayout == .message)
        #expect(s.fields.host == "http.request.headers.host" && s.fields.auditNamespace == "kubernetes.namespace_app")
        let bad = yaml.replacingOccurrences(of: "audit_layout: message", with: "audit_layout: nested")
        #expect(throws: LocatedError.self) { try ConfigLoader.parse(bad, file: "cfg.yml", baseDirectory: ".") }
    }

    @Test("Field sets: `fields: ecs` names the ECS fields; `preset: ecs` with overrides; no fields is ingress-nginx; an unknown set is refused at its place")
    func fieldSets() throws {
        func settings(_ fields: String) throws -> ElasticsearchSettings {
            let yaml = """
            version: 1
            environments:
              - name: a
                namespace: b
                waf: { elasticsearch: { url: "http://127.0.0.1:9200"\(fields) } }

            """
            let c = try ConfigLoader.parse(yaml, file: "cfg.yml", baseDirectory: ".")
            guard case let .elasticsearch(s)? = c.environments.first?.waf else { throw LocatedError(file: "cfg.yml", line: 0, column: 0, message: "no elasticsearch") }
            return s
        }
        let ecs = try settings(", fields: ecs").fields
        #expect(ecs.fieldSet == .ecs && ecs.accessLayout == .host)
        #expect([ecs.time, ecs.uniqueID, ecs.host, ecs.status, ecs.ruleID, ecs.message, ecs.clientIP, ecs.uri, ecs.severity ?? ""]
            == ["@timestamp", "http.request.id", "url.domain", "http.response.status_code", "rule.id", "message", "source.ip", "url.original", "log.level"])
        #expect(ecs.engineMode.isEmpty)
        let over = try settings(", fields: { preset: ecs, host: host.name, severity: coraza.severity }").fields
        #expect(over.fieldSet == .ecs && over.host == "host.name" && over.severity == "coraza.severity" && over.ruleID == "rule.id")
        #expect(try settings("").fields == ElasticsearchFields.preset(.ingressNginx))
        #expect(try settings(", fields: ingress-nginx").fields == ElasticsearchFields())
        #expect(ElasticsearchFields().severity == nil && ElasticsearchFields().ruleID == "transaction.messages.details.ruleId")
        do {
            _ = try settings(", fields: elastic")
            Issue.record("an unknown field set was accepted")
        } catch {
            let text = "\(error)"
            #expect(text.contains("cfg.yml:5:") && text.contains("use one of ingress-nginx, ecs"), "\(text)")
        }
    }
}
