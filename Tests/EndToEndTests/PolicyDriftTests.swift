import Foundation
import Testing

/// Policy drift: two runs into the same output folder compare the policy sets (a policy removed,
/// one disabled, a rule changed), in report.json, Markdown, HTML and PDF, with the two findings;
/// a first run says there is no previous report; a hostile or corrupt previous report is named in
/// a warning and never read as "no change".
@Suite("Policy drift between runs", .serialized)
struct PolicyDriftTests {
    static let web = """
        # The storefront: HTTP from the frontend only.
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata:
          name: web-ingress
          namespace: shop
        spec:
          endpointSelector:
            matchLabels:
              app: web
          ingress:
            - fromEndpoints:
                - matchLabels:
                    app: frontend
              toPorts:
                - ports:
                    - port: "8080"
                      protocol: TCP
                    - port: "9090"
                      protocol: TCP

        """
    static let egress = """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata:
          name: web-egress
          namespace: shop
        spec:
          endpointSelector:
            matchLabels:
              app: web
          egress:
            - toEntities: [kube-apiserver]

        """
    static let deny = """
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: default-deny
          namespace: shop
        spec:
          podSelector: {}
          policyTypes: [Ingress]

        """

    struct Setup {
        var dir: String
        var config: String
        var out: String
        var policies: String
    }

    func setup(_ name: String) throws -> Setup {
        let dir = tempDir("drift-\(name)")
        let policies = dir + "/policies"
        try FileManager.default.createDirectory(atPath: policies, withIntermediateDirectories: true)
        try Self.web.write(toFile: policies + "/web.yaml", atomically: true, encoding: .utf8)
        try Self.egress.write(toFile: policies + "/egress.yaml", atomically: true, encoding: .utf8)
        try Self.deny.write(toFile: policies + "/deny.yaml", atomically: true, encoding: .utf8)
        let config = dir + "/config.yml"
        try """
            version: 1
            title: Drift
            window: 24h
            to: 2026-11-20T00:00:00Z
            environments:
              - name: production
                namespace: shop
                policies:
                  directory: policies

            """.write(toFile: config, atomically: true, encoding: .utf8)
        return Setup(dir: dir, config: config, out: dir + "/out", policies: policies)
    }

    func report(_ s: Setup, formats: String = "json,md,html,pdf") throws -> Run {
        try run(binary, ["report", "--config", s.config, "--output", s.out, "--format", formats], cwd: s.dir,
                env: ["SOURCE_DATE_EPOCH": "1795132800"])
    }

    func drift(_ s: Setup) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: s.out + "/report.json"))
        let root = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let env = (root["environments"] as! [[String: Any]])[0]
        return (env["policies"] as! [String: Any])["drift"] as! [String: Any]
    }

    func findings(_ s: Setup) throws -> [[String: Any]] {
        let data = try Data(contentsOf: URL(fileURLWithPath: s.out + "/report.json"))
        return (try JSONSerialization.jsonObject(with: data) as! [String: Any])["findings"] as! [[String: Any]]
    }

    @Test("first run says no previous report and keeps a fingerprint per policy")
    func firstRunBaseline() throws {
        let s = try setup("first")
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        let r = try report(s)
        #expect(r.code == 0, "\(r.stderr)")
        let d = try drift(s)
        #expect(d["status"] as? String == "no_previous_report")
        let md = try String(contentsOfFile: s.out + "/report.md", encoding: .utf8)
        #expect(md.contains("No previous report in the output folder: this run is the baseline"))
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.out + "/report.json"))) as! [String: Any]
        let items = (((root["environments"] as! [[String: Any]])[0]["policies"] as! [String: Any])["items"] as! [[String: Any]])
        let web = items.first { $0["name"] as? String == "web-ingress" }!
        let fp = web["fingerprint"] as! [String: Any]
        #expect((fp["digest"] as? String)?.count == 64)
        #expect(fp["rules"] as? [String] == ["ingress from app=frontend port 8080/TCP", "ingress from app=frontend port 9090/TCP", "selects app=web"])
        #expect(try findings(s).allSatisfy { !($0["id"] as! String).hasSuffix("_since_last_run") })
    }

    @Test("second run lists the policy removed, the policy disabled and the rule changed, in every format")
    func removedDisabledChanged() throws {
        let s = try setup("changes")
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        #expect(try report(s).code == 0)
        // Between the runs: default-deny deleted, web-egress disabled the GitLab way, port 9090 dropped
        // from web-ingress; a comment is added (layout alone is no change).
        try FileManager.default.removeItem(atPath: s.policies + "/deny.yaml")
        try Self.egress.replacingOccurrences(of: "      app: web\n", with: "      app: web\n      network-policy.gitlab.com/disabled_by: gitlab\n")
            .write(toFile: s.policies + "/egress.yaml", atomically: true, encoding: .utf8)
        try ("# reviewed\n" + Self.web.replacingOccurrences(of: "            - port: \"9090\"\n              protocol: TCP\n", with: ""))
            .write(toFile: s.policies + "/web.yaml", atomically: true, encoding: .utf8)
        #expect(!(try String(contentsOfFile: s.policies + "/web.yaml", encoding: .utf8)).contains("9090"))
        let r = try report(s)
        #expect(r.code == 0, "\(r.stderr)")
        let d = try drift(s)
        #expect(d["status"] as? String == "compared")
        #expect(d["previous_generated_at"] as? String == "2026-11-20T00:00:00Z")
        let removed = d["removed"] as! [[String: Any]]
        try #require(removed.map { $0["name"] as! String } == ["default-deny"])
        #expect(removed[0]["details"] as? [String] == ["policy types Ingress removed", "selects all pods removed"])
        let changed = d["changed"] as! [[String: Any]]
        try #require(changed.map { $0["name"] as! String } == ["web-ingress"])
        #expect(changed[0]["details"] as? [String] == ["ingress from app=frontend port 9090/TCP removed"])
        let enforcement = d["enforcement"] as! [[String: Any]]
        try #require(enforcement.count == 1)
        #expect(enforcement[0]["name"] as? String == "web-egress")
        #expect(enforcement[0]["from"] as? String == "enforced" && enforcement[0]["to"] as? String == "disabled")
        #expect((d["added"] as! [Any]).isEmpty)
        #expect(d["unchanged"] as? Int == 0)

        let f = try findings(s)
        let rem = f.filter { $0["id"] as? String == "policies.removed_since_last_run" }
        #expect(rem.count == 1 && rem[0]["subject"] as? String == "default-deny" && rem[0]["severity"] as? String == "warning")
        let dis = f.filter { $0["id"] as? String == "policies.disabled_since_last_run" }
        #expect(dis.count == 1 && dis[0]["subject"] as? String == "web-egress" && dis[0]["severity"] as? String == "warning")

        let md = try String(contentsOfFile: s.out + "/report.md", encoding: .utf8)
        #expect(md.contains("#### Policy changes since the last run"))
        #expect(md.contains("1 removed, 1 changed, 1 enforcement change, 0 unchanged"))
        #expect(md.contains("| Removed | NetworkPolicy | default-deny |"))
        #expect(md.contains("| Changed | CiliumNetworkPolicy | web-ingress | ingress from app=frontend port 9090/TCP removed |"))
        #expect(md.contains("| Now disabled | CiliumNetworkPolicy | web-egress |"))
        let html = try String(contentsOfFile: s.out + "/report.html", encoding: .utf8)
        #expect(html.contains("<h3>Policy changes since the last run</h3>"))
        #expect(html.contains("ingress from app=frontend port 9090/TCP removed<br>"))
        if let pdftotext = which("pdftotext") {
            let t = try run(pdftotext, [s.out + "/report.pdf", "-"])
            let text = t.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(text.contains("Policy changes since the last run"))
            #expect(text.contains("default-deny"))
            #expect(text.contains("Now disabled"))
            #expect(text.contains("port 9090/TCP removed"), "\(text)")
        }

        // A third run with nothing changed: "no change", no drift findings.
        #expect(try report(s).code == 0)
        let again = try drift(s)
        #expect(again["status"] as? String == "compared" && again["unchanged"] as? Int == 2)
        #expect((again["removed"] as! [Any]).isEmpty && (again["changed"] as! [Any]).isEmpty && (again["enforcement"] as! [Any]).isEmpty)
        #expect(try findings(s).allSatisfy { !($0["id"] as! String).hasSuffix("_since_last_run") })
    }

    @Test("--policy-drift off: the previous report is not read, drift is null, and a rerun gives the same bytes")
    func driftOff() throws {
        let s = try setup("off")
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        func off() throws -> Run {
            try run(binary, ["report", "--config", s.config, "--output", s.out, "--format", "json,md", "--policy-drift", "off"], cwd: s.dir,
                    env: ["SOURCE_DATE_EPOCH": "1795132800"])
        }
        #expect(try off().code == 0)
        let first = try Data(contentsOf: URL(fileURLWithPath: s.out + "/report.json"))
        try FileManager.default.removeItem(atPath: s.policies + "/deny.yaml")
        try FileManager.default.createSymbolicLink(atPath: s.dir + "/elsewhere.json", withDestinationPath: s.out + "/report.json")
        #expect(try off().code == 0)
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: s.out + "/report.json"))) as! [String: Any]
        let policies = (root["environments"] as! [[String: Any]])[0]["policies"] as! [String: Any]
        #expect(policies["drift"] is NSNull)
        #expect(!(try String(contentsOfFile: s.out + "/report.md", encoding: .utf8)).contains("Policy changes since the last run"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: s.out + "/report.json")) != first)  // deny.yaml is gone
        #expect(try findings(s).allSatisfy { !($0["id"] as! String).hasSuffix("_since_last_run") })
    }

    /// Replaces the previous report.json by `make` and checks the run warns and does not compare.
    func hostile(_ name: String, expect cause: String, _ make: (String) throws -> Void) throws {
        let s = try setup(name)
        defer { try? FileManager.default.removeItem(atPath: s.dir) }
        #expect(try report(s, formats: "json").code == 0)
        try FileManager.default.removeItem(atPath: s.out + "/report.json")
        try make(s.out + "/report.json")
        try FileManager.default.removeItem(atPath: s.policies + "/deny.yaml")
        let r = try report(s, formats: "json,md")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stderr.contains("policy drift: previous report not compared"), "\(r.stderr)")
        #expect(r.stderr.contains(cause), "\(r.stderr)")
        let d = try drift(s)
        #expect(d["status"] as? String == "not_compared")
        #expect((d["note"] as? String)?.contains(cause) == true, "\(d)")
        #expect((d["removed"] as! [Any]).isEmpty)
        let md = try String(contentsOfFile: s.out + "/report.md", encoding: .utf8)
        #expect(md.contains("Not compared with the previous report."))
        #expect(!md.contains("No change since"))
    }

    @Test("a corrupt previous report.json is named with line and column, not read as no change")
    func corruptPrevious() throws {
        try hostile("corrupt", expect: "report.json:1:") { try "{\"schema_version\": 1, \"environments\": [".write(toFile: $0, atomically: true, encoding: .utf8) }
    }

    @Test("a previous report with a field of the wrong type names the field")
    func wrongTypePrevious() throws {
        try hostile("wrongtype", expect: "environments[0].policies.items[0].enabled") {
            try """
                {"schema_version": 1, "environments": [{"name": "production", "namespace": "shop",
                 "policies": {"status": "ok", "items": [{"kind": "NetworkPolicy", "name": "x", "namespace": "shop",
                 "enabled": "yes", "valid": true, "manifest": ""}]}}]}
                """.write(toFile: $0, atomically: true, encoding: .utf8)
        }
    }

    @Test("a previous report.json planted as a symbolic link is not followed")
    func symlinkPrevious() throws {
        let secret = tempDir("drift-secret") + "/secret.json"
        defer { try? FileManager.default.removeItem(atPath: (secret as NSString).deletingLastPathComponent) }
        try "{\"schema_version\": 1, \"environments\": []}".write(toFile: secret, atomically: true, encoding: .utf8)
        try hostile("symlink", expect: "is a symbolic link") { try FileManager.default.createSymbolicLink(atPath: $0, withDestinationPath: secret) }
    }

    @Test("a FIFO in place of the previous report.json does not block the run")
    func fifoPrevious() throws {
        try hostile("fifo", expect: "is not a regular file") { #expect(mkfifo($0, 0o644) == 0) }
    }

    @Test("an oversized previous report.json is refused by its size")
    func oversizedPrevious() throws {
        try hostile("huge", expect: "is larger than") { path in
            #expect(FileManager.default.createFile(atPath: path, contents: nil))
            #expect(truncate(path, 65 << 20) == 0)  // sparse: no disk used
        }
    }

    @Test("a previous report of another schema version is not compared")
    func otherSchemaPrevious() throws {
        try hostile("schema", expect: "schema_version: version 2") {
            try "{\"schema_version\": 2, \"environments\": []}".write(toFile: $0, atomically: true, encoding: .utf8)
        }
    }
}
