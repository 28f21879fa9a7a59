import Foundation
import Testing
import ThreatModel
import ThreatPolicy
import ThreatSources

/// The CLI built with these tests: beside the test runner first (whatever --scratch-path was used),
/// else the one Support.swift finds.
let policyCLI: String = {
    let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    for dir in [runner.deletingLastPathComponent(), runner.deletingLastPathComponent().deletingLastPathComponent()] {
        let candidate = dir.appendingPathComponent("threat-report").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return binary
}()

func policy(_ args: [String], stdin: String? = nil, cwd: String = repo) throws -> Run {
    try run(policyCLI, ["policy"] + args, cwd: cwd, stdin: stdin.map { Data($0.utf8) })
}

let policyFixtures = repo + "/Tests/Fixtures/policies"

/// Cilium allow-all: every pod accepts everything and may send everything.
let ciliumAllowAll = """
    apiVersion: cilium.io/v2
    kind: CiliumNetworkPolicy
    metadata:
      name: allow-all
      namespace: shop
    spec:
      endpointSelector: {}
      ingress:
      - fromEntities: [all]
      egress:
      - toEntities: [all]

    """

@Suite("policy explain (CLI)")
struct PolicyExplainCLITests {
    @Test("A Kubernetes deny-all and an allow-all: the exact sentences (a deny-all is never called allow-all, GitLab #270130)")
    func denyAllAndAllowAll() throws {
        let recipes = policyFixtures + "/corpus/ahmetb_kubernetes-network-policy-recipes/"
        let deny = try policy(["explain", recipes + "03-deny-all-non-whitelisted-traffic-in-the-namespace/default-deny-all.yaml"])
        #expect(deny.code == 0, "\(deny.stderr)")
        #expect(deny.stdout == """
            NetworkPolicy default-deny-all, namespace default (\(recipes)03-deny-all-non-whitelisted-traffic-in-the-namespace/default-deny-all.yaml:1)
              Status: enforced; rules: 0 in / 0 out
              All inbound traffic to all pods in default is denied.
              Outbound traffic is not restricted by this policy.
              Rule mode: YAML only; GitLab's rule mode cannot show kind NetworkPolicy: the rule mode edits CiliumNetworkPolicy only.

            """)
        let allow = try policy(["explain", "--namespace", "shop", recipes + "02a-allow-all-traffic-to-an-application/web-allow-all.yaml"])
        #expect(allow.code == 0)
        #expect(allow.stdout.contains("\n  Pods with app=web in default accept all inbound traffic, from anywhere and on any port.\n  Outbound traffic is not restricted by this policy.\n"))
    }

    @Test("Cilium deny-all and allow-all from stdin")
    func stdin() throws {
        let deny = try String(contentsOfFile: policyFixtures + "/cilium-deny-all.yaml", encoding: .utf8)
        let r = try policy(["explain", "-", "--namespace", "shop"], stdin: deny)
        #expect(r.code == 0)
        #expect(r.stdout.hasPrefix("CiliumNetworkPolicy deny-all-ingress (stdin:1)\n  Status: enforced; rules: 1 in / 0 out\n  All inbound traffic to all pods in shop is denied.\n  Outbound traffic is not restricted by this policy.\n"))
        #expect(r.stdout.contains("CiliumNetworkPolicy deny-all-egress (stdin:10)\n  Status: enforced; rules: 0 in / 1 out\n  Inbound traffic is not restricted by this policy.\n  All outbound traffic from pods with app=batch in shop is denied.\n"))
        let allow = try policy(["explain", "-"], stdin: ciliumAllowAll)
        #expect(allow.stdout == """
            CiliumNetworkPolicy allow-all, namespace shop (stdin:1)
              Status: enforced; rules: 1 in / 1 out
              All pods in shop accept all inbound traffic, from anywhere and on any port.
              All pods in shop may send all outbound traffic, to anywhere and on any port.
              Rule mode: fits GitLab's policy editor.

            """)
        let json = try policy(["explain", "-", "--output", "json"], stdin: ciliumAllowAll)
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(parsed.first?["description"] as? [String] == [
            "All pods in shop accept all inbound traffic, from anywhere and on any port.",
            "All pods in shop may send all outbound traffic, to anywhere and on any port.",
        ])
    }

    @Test("Invalid documents are reported with line:column and exit 1; an unreadable file exits 2 naming it")
    func invalidAndUnreadable() throws {
        let broken = try policy(["explain", repo + "/samples/production/policies/worker.yaml"])
        #expect(broken.code == 1)
        #expect(broken.stdout.contains("  Status: invalid; rules: 0 in / 0 out\n  Not described: the document is not valid YAML.\n  Problem: \(repo)/samples/production/policies/worker.yaml:11:4: "))
        let schema = try policy(["explain", policyFixtures + "/invalid-schema.yaml"])
        #expect(schema.code == 1)
        #expect(schema.stdout.contains("Problem: \(policyFixtures)/invalid-schema.yaml:"))
        let missing = try policy(["explain", "/nonexistent/policy.yaml"])
        #expect(missing.code == 2)
        #expect(missing.stdout.isEmpty)
        #expect(missing.stderr == "threat-report: error: cannot read /nonexistent/policy.yaml: no such file. Pass a manifest file, or - to read standard input.\n")
        let none = try policy(["explain", "-"], stdin: "kind: ConfigMap\nmetadata: {name: x}\n")
        #expect(none.code == 1)
        #expect(none.stderr.contains("stdin: no network policies"))
        let garbage = try policy(["explain", "-"], stdin: "\u{7}{[}: :::\n---\n- - -\n")
        #expect([0, 1].contains(garbage.code))
    }
}

@Suite("policy enable / disable (CLI)")
struct PolicyEnableCLITests {
    /// Every policy's model with GitLab's label removed, and its sentences.
    func meaning(_ text: String) -> [String] {
        PolicyDocumentLoader.loadDetailed(text: text, origin: "x", namespace: "ns").policies.map { p in
            guard var m = p.model else { return "invalid \(p.item.name)" }
            for i in m.specs.indices {
                if case let .pods(s) = m.specs[i].subject { m.specs[i].subject = .pods(s.withoutGitLabDisabledBy) }
            }
            return "\(m)"
        }
    }

    @Test("disable then enable over the whole corpus: the same policies (parsed models) and byte-identical where nothing was empty")
    func corpusRoundTrip() throws {
        let corpus = policyFixtures + "/corpus"
        let files = (FileManager.default.enumerator(atPath: corpus)?.allObjects as? [String] ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count == 16)
        for file in files {
            let path = corpus + "/" + file
            let original = try String(contentsOfFile: path, encoding: .utf8)
            let disabled = try policy(["disable", path])
            #expect(disabled.code == 0, "\(file): \(disabled.stderr)")
            let d = PolicyDocumentLoader.loadDetailed(text: disabled.stdout, origin: file).items
            #expect(!d.isEmpty && d.allSatisfy { $0.valid && !$0.enabled }, "\(file)")
            let enabled = try policy(["enable", "-"], stdin: disabled.stdout)
            #expect(enabled.code == 0, "\(file): \(enabled.stderr)")
            #expect(enabled.stderr.contains("threat-report: enabled: NetworkPolicy "), "\(file)")
            let e = PolicyDocumentLoader.loadDetailed(text: enabled.stdout, origin: file).items
            #expect(e.allSatisfy { $0.valid && $0.enabled }, "\(file)")
            #expect(meaning(enabled.stdout) == meaning(original), "\(file)")
            if !file.hasPrefix("disabled/") && !file.contains("04-deny-traffic-from-other-namespaces") {
                #expect(enabled.stdout == original, "\(file)")
            }
        }
    }

    @Test("disable reports each policy on stderr; a disabled policy stays as it is; --name picks one; errors exit 2")
    func messagesAndErrors() throws {
        let web = repo + "/samples/production/policies/web.yaml"
        let r = try policy(["disable", web, "--name", "web-egress"])
        #expect(r.code == 0)
        #expect(r.stderr == "threat-report: disabled: CiliumNetworkPolicy web-egress (\(web):22)\n")
        let original = try String(contentsOfFile: web, encoding: .utf8)
        #expect(r.stdout == original.replacingOccurrences(of: "  name: web-egress\n  namespace: shop-production\nspec:\n  endpointSelector:\n    matchLabels:\n      app: web\n",
                                                          with: "  name: web-egress\n  namespace: shop-production\nspec:\n  endpointSelector:\n    matchLabels:\n      app: web\n      network-policy.gitlab.com/disabled_by: gitlab\n"))
        let again = try policy(["disable", repo + "/samples/production/policies/predefined.yaml"])
        #expect(again.stderr.contains("already disabled: CiliumNetworkPolicy drop-outbound"))
        #expect(again.stdout == (try String(contentsOfFile: repo + "/samples/production/policies/predefined.yaml", encoding: .utf8)))
        let on = try policy(["enable", repo + "/samples/production/policies/predefined.yaml"])
        #expect(on.stdout.contains("spec:\n  endpointSelector: {}\n  egress:\n    - {}\n"))
        let broken = try policy(["enable", repo + "/samples/production/policies/worker.yaml"])
        #expect(broken.code == 2 && broken.stdout.isEmpty)
        #expect(broken.stderr.hasPrefix("threat-report: error: \(repo)/samples/production/policies/worker.yaml:11:4: "))
        let unknown = try policy(["disable", web, "--name", "nope"])
        #expect(unknown.code == 2)
        #expect(unknown.stderr.contains("no policy named 'nope' (it has: web-allow-ingress, web-egress)"))
        #expect(try policy(["disable", "/nonexistent.yaml"]).code == 2)
    }
}

@Suite("policy predefined and new (CLI)")
struct PolicyWriteCLITests {
    @Test("predefined: GitLab's two policies parse back as valid and disabled, in both kinds; --enabled drops the label")
    func predefined() throws {
        for (args, kind) in [([String](), PolicyKind.ciliumNetworkPolicy), (["--kind", "networkpolicy"], .networkPolicy)] {
            let r = try policy(["predefined", "--namespace", "shop"] + args)
            #expect(r.code == 0, "\(r.stderr)")
            let items = PolicyDocumentLoader.loadDetailed(text: r.stdout, origin: "p").items
            #expect(items.map(\.name) == ["drop-outbound", "allow-inbound-http"])
            #expect(items.allSatisfy { $0.valid && !$0.enabled && $0.predefined && $0.kind == kind && $0.namespace == "shop" })
            let on = try policy(["predefined", "--enabled"] + args)
            let enabled = PolicyDocumentLoader.loadDetailed(text: on.stdout, origin: "p", namespace: "shop").items
            #expect(enabled.count == 2 && enabled.allSatisfy { $0.valid && $0.enabled })
            #expect(enabled[0].description == ["Inbound traffic is not restricted by this policy.", "All outbound traffic from all pods in shop is denied."])
        }
        let one = try policy(["predefined", "allow-inbound-http"])
        #expect(PolicyDocumentLoader.loadDetailed(text: one.stdout, origin: "p").items.map(\.name) == ["allow-inbound-http"])
        let bad = try policy(["predefined", "allow-all"])
        #expect(bad.code == 2)
        #expect(bad.stderr.contains("'allow-all' is not a predefined policy (drop-outbound, allow-inbound-http)"))
    }

    /// Runs `policy new`, checks the manifest is one valid policy, and returns its sentences.
    func sentences(_ args: [String]) throws -> (PolicyItem, [String]) {
        let r = try policy(["new", "--name", "p", "--namespace", "shop"] + args)
        #expect(r.code == 0, "\(args): \(r.stderr)")
        let items = PolicyDocumentLoader.loadDetailed(text: r.stdout, origin: "new").items
        #expect(items.count == 1 && items[0].valid && items[0].kind == .ciliumNetworkPolicy, "\(args)")
        // The explain command says the same of it.
        let explained = try policy(["explain", "-"], stdin: r.stdout)
        for s in items.first?.description ?? [] { #expect(explained.stdout.contains("  " + s + "\n")) }
        return (items[0], items.first?.description ?? [])
    }

    @Test("new: each flag kind gives a valid policy whose explanation says what the flags said")
    func newFlags() throws {
        var (item, s) = try sentences(["--endpoint", "app=web", "--allow-from-labels", "app=frontend,tier=edge", "--allow-from-labels", "role=monitor", "--ports", "80/tcp,8080-8090/udp"])
        #expect(s == ["Pods with app=web in shop accept inbound TCP/80 and UDP/8080-8090 from pods with app=frontend and tier=edge in the same namespace or pods with role=monitor in the same namespace; all other inbound traffic to them is denied.",
                      "Outbound traffic is not restricted by this policy."])
        (item, s) = try sentences(["--allow-from-entities", "world,cluster", "--ports", "443"])
        #expect(s.first == "All pods in shop accept inbound TCP/443 from the entity world (anything outside the cluster) or the entity cluster (anything inside the cluster); all other inbound traffic to them is denied.")
        (item, s) = try sentences(["--allow-from-cidr", "10.0.0.0/8", "--allow-from-cidr", "2001:db8::/32"])
        #expect(s.first == "All pods in shop accept inbound traffic on any port from addresses in 10.0.0.0/8 or addresses in 2001:db8::/32; all other inbound traffic to them is denied.")
        (item, s) = try sentences(["--endpoint", "app=web", "--allow-to-labels", "app=db", "--ports", "5432"])
        #expect(s.last == "Pods with app=web in shop may send outbound TCP/5432 to pods with app=db in the same namespace; all other outbound traffic from them is denied.")
        (item, s) = try sentences(["--allow-to-entities", "kube-apiserver"])
        #expect(s.last == "All pods in shop may send outbound traffic on any port to the entity kube-apiserver (the Kubernetes API server); all other outbound traffic from them is denied.")
        (item, s) = try sentences(["--allow-to-cidr", "192.168.0.0/16", "--ports", "53/udp"])
        #expect(s.last == "All pods in shop may send outbound UDP/53 to addresses in 192.168.0.0/16; all other outbound traffic from them is denied.")
        (item, s) = try sentences(["--allow-to-fqdn", "api.example.com", "--ports", "443/tcp"])
        #expect(s.last == "All pods in shop may send outbound TCP/443 to the host api.example.com; all other outbound traffic from them is denied.")
        #expect(item.ruleModeUnsupported == [])
        (item, s) = try sentences(["--endpoint", "app=web", "--allow-from-entities", "world", "--disabled"])
        #expect(!item.enabled)
        #expect(s.first == "Not enforced: the selector carries network-policy.gitlab.com/disabled_by, so it selects no pods.")
        #expect(s[1] == "When enabled, pods with app=web in shop accept inbound traffic on any port from the entity world (anything outside the cluster); all other inbound traffic to them is denied.")
    }

    @Test("new: invalid values exit 2 and name the flag", arguments: [
        (["--endpoint", "app"], "--endpoint: 'app' is not a label"),
        (["--endpoint", "app=web,app=api", "--allow-from-entities", "world"], "--endpoint: label key 'app' is given twice"),
        (["--allow-from-labels", "app=front end"], "--allow-from-labels: label value 'front end'"),
        (["--allow-to-labels=-x=y"], "--allow-to-labels: label key '-x'"),
        (["--allow-from-entities", "internet"], "--allow-from-entities: 'internet' is not a Cilium entity"),
        (["--allow-to-entities", "world,galaxy"], "--allow-to-entities: 'galaxy' is not a Cilium entity"),
        (["--allow-from-cidr", "10.0.0.0/33"], "--allow-from-cidr: '10.0.0.0/33' is not a CIDR"),
        (["--allow-to-cidr", "10.1.2.3/8"], "--allow-to-cidr: '10.1.2.3/8' has host bits set: did you mean 10.0.0.0/8?"),
        (["--allow-to-fqdn", "https://api.example.com"], "--allow-to-fqdn: 'https://api.example.com' is not a DNS name"),
        (["--allow-to-fqdn", "a.com", "--ports", "70000"], "--ports: '70000': ports go from 1 to 65535"),
        (["--allow-to-fqdn", "a.com", "--ports", "80/icmp"], "--ports: '80/icmp': the protocol must be tcp, udp, sctp or any"),
        (["--allow-to-fqdn", "a.com", "--ports", "90-80"], "--ports: '90-80': the range ends before it starts"),
        (["--allow-to-fqdn", "a.com", "--namespace", "Shop"], "--namespace: 'Shop' is not a namespace name"),
        (["--ports", "80"], "nothing to allow: give at least one --allow-from-* or --allow-to-* flag"),
    ])
    func newInvalid(args: [String], message: String) throws {
        let name = args.contains("--namespace") ? [] : ["--namespace", "shop"]
        let r = try policy(["new", "--name", "p"] + name + args)
        #expect(r.code == 2, "\(args)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains(message), "\(r.stderr)")
        let badName = try policy(["new", "--name", "Web_1", "--allow-to-entities", "world"])
        #expect(badName.code == 2 && badName.stderr.contains("--name: 'Web_1' is not a policy name"))
    }
}

@Suite("policy list (CLI)")
struct PolicyListCLITests {
    @Test("list --output json over the sample config: every policy of both environments and the predefined ones not deployed")
    func listJSON() throws {
        let r = try policy(["list", "--config", "samples/threat-report.yml", "--output", "json"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let envs = try #require(json["environments"] as? [[String: Any]])
        #expect(envs.map { $0["name"] as? String } == ["production", "staging"])
        func rows(_ i: Int) -> [[String: Any]] { envs[i]["policies"] as? [[String: Any]] ?? [] }
        #expect(rows(0).map { $0["name"] as? String } == ["drop-outbound", "web-allow-ingress", "web-egress", "worker-deny-ingress", "allow-inbound-http"])
        #expect(rows(0).map { $0["enabled"] as? Bool } == [false, true, true, true, false])
        #expect(rows(0).map { $0["valid"] as? Bool } == [true, true, true, false, true])
        #expect(rows(0).map { $0["deployed"] as? Bool } == [true, true, true, true, false])
        #expect(rows(0).last?["predefined"] as? Bool == true)
        #expect(((rows(0)[2]["rules"] as? [String: Any])?["egress"] as? Int) == 3)
        #expect(((rows(0)[3]["problems"] as? [String])?.first ?? "").contains("worker.yaml:11:4"))
        #expect(rows(1).map { $0["name"] as? String } == ["web-egress", "default-deny-ingress", "allow-inbound-http", "drop-outbound"])
        #expect(rows(1).map { $0["deployed"] as? Bool } == [true, true, true, false])
        #expect(envs.allSatisfy { $0["status"] as? String == "ok" })

        let staging = try policy(["list", "--config", "samples/threat-report.yml", "--environment", "staging"])
        #expect(staging.stdout.split(separator: "\n").first?.hasPrefix("ENVIRONMENT  KIND ") == true)
        #expect(staging.stdout.contains("staging      CiliumNetworkPolicy  drop-outbound         shop-staging  no       yes    0 in / 1 out  not deployed\n"))
        let yaml = try policy(["list", "--config", "samples/threat-report.yml", "--output", "yaml", "--environment", "production"])
        #expect(yaml.stdout.hasPrefix("environments:\n- name: production\n  namespace: shop-production\n  status: ok\n"))
    }

    @Test("list: a missing config, an unknown environment exit 2; an unreadable source exits 3 and lists the rest")
    func listErrors() throws {
        let missing = try policy(["list", "--config", "/nonexistent.yml"])
        #expect(missing.code == 2 && missing.stderr.contains("--config: /nonexistent.yml does not exist"))
        let unknown = try policy(["list", "--config", "samples/threat-report.yml", "--environment", "qa"])
        #expect(unknown.code == 2 && unknown.stderr.contains("--environment: no environment named 'qa'"))
        let dir = tempDir("policy-list")
        try """
            version: 1
            environments:
              - name: good
                namespace: shop
                policies: { directory: good }
              - name: gone
                namespace: shop
                policies: { directory: gone }
            """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir + "/good", withIntermediateDirectories: true)
        try ciliumAllowAll.write(toFile: dir + "/good/allow.yaml", atomically: true, encoding: .utf8)
        let partial = try policy(["list", "--config", dir + "/c.yml"])
        #expect(partial.code == 3)
        #expect(partial.stdout.contains("good         CiliumNetworkPolicy  allow-all"))
        #expect(partial.stderr.contains("gone policies unavailable: cannot read \(dir)/gone: no such file or folder"))
    }
}

@Suite("Policy findings in the report (end to end)")
struct PolicyReportTests {
    @Test("Allow-all and deny-all manifests, and an environment without policies: the findings and the predefined rows")
    func findingsFromManifests() throws {
        let dir = tempDir("policy-report")
        for name in ["open", "closed", "bare"] {
            try FileManager.default.createDirectory(atPath: "\(dir)/\(name)", withIntermediateDirectories: true)
        }
        try ciliumAllowAll.write(toFile: dir + "/open/allow-all.yaml", atomically: true, encoding: .utf8)
        let denyAll = try String(contentsOfFile: policyFixtures + "/cilium-deny-all.yaml", encoding: .utf8)
        try denyAll.write(toFile: dir + "/closed/deny-all.yaml", atomically: true, encoding: .utf8)
        try """
            version: 1
            window: 24h
            to: 2026-11-20T00:00:00Z
            environments:
              - name: open
                namespace: shop
                flows: { replay: \(repo)/samples/production/flows }
                policies: { directory: open }
              - name: closed
                namespace: shop
                flows: { replay: \(repo)/samples/production/flows }
                policies: { directory: closed }
              - name: bare
                namespace: shop
                flows: { replay: \(repo)/samples/production/flows }
                policies: { directory: bare }
            """.write(toFile: dir + "/c.yml", atomically: true, encoding: .utf8)
        let r = try run(policyCLI, ["report", "--config", dir + "/c.yml", "--output", dir + "/out", "--format", "json,md"])
        #expect(r.code == 0, "\(r.stderr)")
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        let findings = try #require(json["findings"] as? [[String: Any]])
        func ids(_ env: String) -> Set<String> {
            Set(findings.filter { $0["environment"] as? String == env }.compactMap { $0["id"] as? String }.filter { $0.hasPrefix("policies.") })
        }
        #expect(ids("open") == ["policies.world_ingress"])
        #expect(ids("closed") == [])
        #expect(ids("bare") == ["policies.none"])
        let world = try #require(findings.first { $0["id"] as? String == "policies.world_ingress" })
        #expect(world["severity"] as? String == "warning")
        #expect((world["guidance"] as? String)?.hasPrefix("spec.ingress[0] admits entity all on traffic on any port.") == true)
        let md = try String(contentsOfFile: dir + "/out/report.md", encoding: .utf8)
        #expect(md.contains("| CiliumNetworkPolicy | drop-outbound | Predefined, not deployed | no | 0 in / 1 out |  | Inbound traffic is not restricted by this policy. All outbound traffic from all pods in shop is denied.  |"))
    }
}
