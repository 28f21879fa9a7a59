import Foundation
import Testing
import ThreatConfig

/// docs/recipes: every YAML parses, the commands in them run on the sample config with the exit
/// code they expect, and the Kubernetes RBAC grants exactly `list` on what the client requests.
@Suite("CI and deployment recipes (docs/recipes)", .serialized)
struct FormatsRecipeTests {
    static let recipes = repo + "/docs/recipes"

    /// All YAML documents of a file, as JSON values (PyYAML's safe loader: an independent parser).
    func yamlDocuments(_ file: String) throws -> [Any] {
        let r = try python("""
        import json, sys, yaml
        print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))
        """, [Self.recipes + "/" + file])
        return try #require(r.json as? [Any], "\(file) does not parse as YAML: \(r.stderr)")
    }

    /// Runs the `threat-report report …` command of a recipe on the sample config, into a temp folder.
    func runRecipeCommand(_ command: String, name: String) throws -> (run: Run, output: String) {
        var words = command.split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init)
        let start = try #require(words.firstIndex { $0.hasSuffix("threat-report") }, "no threat-report in \(command)")
        words = Array(words[(start + 1)...].prefix { !$0.hasPrefix(">") && !$0.hasPrefix("2>") && $0 != "||" })
        let out = tempDir("recipe-\(name)")
        var args: [String] = []
        var i = 0
        while i < words.count {
            let w = words[i]
            if w == "--config" || w == "--output" {
                args += [w, w == "--config" ? "samples/threat-report.yml" : out]
                i += 2
                continue
            }
            if w.hasPrefix("--config=") { args.append("--config=samples/threat-report.yml") } else if w.hasPrefix("--output=") {
                args.append("--output=\(out)")
            } else { args.append(w) }
            i += 1
        }
        #expect(args.first == "report", "\(args)")
        return (try run(formatsBinary, args), out)
    }

    @Test("GitLab CI: artifacts with expose_as and reports: junit/codequality; its command runs and writes every path it lists")
    func gitlab() throws {
        let doc = try #require(try yamlDocuments("gitlab-ci.yml").first as? [String: Any])
        let job = try #require(doc["threat-report"] as? [String: Any])
        let artifacts = try #require(job["artifacts"] as? [String: Any])
        #expect(artifacts["when"] as? String == "always")
        #expect((artifacts["expose_as"] as? String)?.isEmpty == false)
        let reports = try #require(artifacts["reports"] as? [String: Any])
        #expect(reports["junit"] as? String == "output/report.junit.xml")
        #expect(reports["codequality"] as? String == "output/report.codequality.json")
        let paths = try #require(artifacts["paths"] as? [String])
        #expect(paths.allSatisfy { !$0.contains("*") }, "expose_as does not take globs")
        #expect(((job["allow_failure"] as? [String: Any])?["exit_codes"] as? [Int]) == [3])
        let script = try #require((job["script"] as? [String])?.first)
        let (r, out) = try runRecipeCommand(script, name: "gitlab")
        #expect(r.code == 1, "--fail-on warning on the sample's warnings: \(r.stderr)")
        for p in paths + [reports["junit"] as? String ?? "", reports["codequality"] as? String ?? ""] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + p.replacingOccurrences(of: "output/", with: "")), "\(p)")
        }
    }

    @Test("GitHub Actions: the Markdown goes to $GITHUB_STEP_SUMMARY and the SARIF to code scanning, even when the report step fails")
    func github() throws {
        let doc = try #require(try yamlDocuments("github-actions.yml").first as? [String: Any])
        let job = try #require((doc["jobs"] as? [String: Any])?["report"] as? [String: Any])
        let steps = try #require(job["steps"] as? [[String: Any]])
        let summary = try #require(steps.first { ($0["run"] as? String)?.contains("$GITHUB_STEP_SUMMARY") == true })
        #expect((summary["run"] as? String)?.contains("cat output/report.md >> \"$GITHUB_STEP_SUMMARY\"") == true)
        #expect((summary["if"] as? String)?.hasPrefix("always()") == true)
        let sarif = try #require(steps.first { ($0["uses"] as? String)?.hasPrefix("github/codeql-action/upload-sarif") == true })
        #expect((sarif["with"] as? [String: Any])?["sarif_file"] as? String == "output/report.sarif")
        #expect((doc["permissions"] as? [String: Any])?["security-events"] as? String == "write")
        let report = try #require(steps.first { $0["id"] as? String == "report" }?["run"] as? String)
        let (r, out) = try runRecipeCommand(report, name: "github")
        #expect(r.code == 1, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/report.md") && FileManager.default.fileExists(atPath: out + "/report.sarif"))
    }

    @Test("cron.d line: five time fields, a user, no unescaped %, a log that logrotate rotates; its command runs")
    func cron() throws {
        let text = try String(contentsOfFile: Self.recipes + "/threat-report.cron", encoding: .utf8)
        let jobs = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.contains("=") && !$0.isEmpty }
        #expect(jobs.count == 1)
        let fields = jobs[0].split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let timeField = /^(\*|[0-9]+(-[0-9]+)?(,[0-9]+)*)(\/[0-9]+)?$/
        #expect(fields.prefix(5).allSatisfy { $0.wholeMatch(of: timeField) != nil }, "\(fields.prefix(5))")
        #expect(fields[5] == "threat-report")
        #expect(!jobs[0].contains("%"), "cron turns % into a newline")
        let log = try #require(fields.first { $0.hasPrefix("2>>") }).dropFirst(3)
        let rotate = try String(contentsOfFile: Self.recipes + "/logrotate-threat-report", encoding: .utf8)
        #expect(rotate.contains("\(log) {"))
        let (r, out) = try runRecipeCommand(fields[6...].joined(separator: " "), name: "cron")
        #expect(r.code == 0, "--fail-on critical: the sample has none: \(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/report.pdf"))
    }

    /// `/apis/cilium.io/v2/namespaces/{ns}/ciliumnetworkpolicies` → ("cilium.io", "ciliumnetworkpolicies", namespaced).
    static func resource(ofPath path: String) -> (group: String, resource: String, namespaced: Bool)? {
        let parts = path.split(separator: "?").first.map { $0.split(separator: "/").map(String.init) } ?? []
        guard let first = parts.first else { return nil }
        let rest = first == "api" ? Array(parts.dropFirst(2)) : first == "apis" ? Array(parts.dropFirst(3)) : []
        let group = first == "api" ? "" : parts.count > 1 ? parts[1] : ""
        if rest.count == 3, rest[0] == "namespaces" { return (group, rest[2], true) }
        if rest.count == 1 { return (group, rest[0], false) }
        return nil
    }

    /// The list paths the Kubernetes client sends: the documented ones, the ones in the client's
    /// source (string literals), and the four this version is known to send.
    static func clientPaths() throws -> [String] {
        var paths = [
            "/apis/cilium.io/v2/namespaces/{ns}/ciliumnetworkpolicies",
            "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies",
            "/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies",
            "/api/v1/namespaces/{ns}/pods",
        ]
        let pathLiteral = /"(\/apis?\/[^"]+)"/
        let docs = try String(contentsOfFile: repo + "/docs/recordings.md", encoding: .utf8)
        // Kubernetes paths only: /apis/{group}/… and /api/v1/namespaces/… (not Prometheus' /api/v1/query).
        func isKubernetes(_ p: String) -> Bool { p.hasPrefix("/apis/") || p.hasPrefix("/api/v1/namespaces/") }
        for m in docs.matches(of: /GET (\/apis?\/[A-Za-z0-9.\/{}_-]+)/) where isKubernetes(String(m.1)) { paths.append(String(m.1)) }
        let dir = repo + "/Sources/ThreatSources/Kubernetes"
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where f.hasSuffix(".swift") {
            let source = try String(contentsOfFile: dir + "/" + f, encoding: .utf8)
            for m in source.matches(of: pathLiteral) where isKubernetes(String(m.1)) { paths.append(String(m.1)) }
        }
        return paths
    }

    @Test("Kubernetes: RBAC grants list, and only list, on every path the client requests, in every environment namespace")
    func rbac() throws {
        let docs = try yamlDocuments("kubernetes-cronjob.yaml").compactMap { $0 as? [String: Any] }
        func kind(_ k: String) -> [[String: Any]] { docs.filter { $0["kind"] as? String == k } }
        func name(_ o: [String: Any]) -> String { (o["metadata"] as? [String: Any])?["name"] as? String ?? "" }
        func namespace(_ o: [String: Any]) -> String? { (o["metadata"] as? [String: Any])?["namespace"] as? String }
        let sa = try #require(kind("ServiceAccount").first)
        let saName = name(sa), saNamespace = try #require(namespace(sa))

        // Every rule anywhere: verbs exactly ["list"], no wildcards.
        var roles: [String: [[String: Any]]] = [:]  // "ClusterRole/name" or "Role/ns/name" → rules
        for r in kind("ClusterRole") { roles["ClusterRole/\(name(r))"] = r["rules"] as? [[String: Any]] ?? [] }
        for r in kind("Role") { roles["Role/\(namespace(r) ?? "")/\(name(r))"] = r["rules"] as? [[String: Any]] ?? [] }
        for (role, rules) in roles {
            for rule in rules {
                #expect(rule["verbs"] as? [String] == ["list"], "\(role): \(rule)")
                #expect(!((rule["resources"] as? [String]) ?? []).contains("*") && !((rule["apiGroups"] as? [String]) ?? []).contains("*"))
            }
        }
        func bindsSA(_ b: [String: Any]) -> Bool {
            (b["subjects"] as? [[String: Any]] ?? []).contains {
                $0["kind"] as? String == "ServiceAccount" && $0["name"] as? String == saName && $0["namespace"] as? String == saNamespace
            }
        }
        func grants(_ roleKey: String, _ group: String, _ resource: String) -> Bool {
            (roles[roleKey] ?? []).contains {
                ($0["apiGroups"] as? [String] ?? []).contains(group) && ($0["resources"] as? [String] ?? []).contains(resource)
                    && ($0["verbs"] as? [String] ?? []).contains("list")
            }
        }
        func roleKey(_ b: [String: Any], bindingNamespace: String?) -> String {
            let ref = b["roleRef"] as? [String: Any] ?? [:]
            return ref["kind"] as? String == "ClusterRole" ? "ClusterRole/\(ref["name"] as? String ?? "")"
                : "Role/\(bindingNamespace ?? "")/\(ref["name"] as? String ?? "")"
        }
        let clusterGrants = kind("ClusterRoleBinding").filter(bindsSA).map { roleKey($0, bindingNamespace: nil) }
        func allowed(_ group: String, _ resource: String, namespace ns: String?) -> Bool {
            if clusterGrants.contains(where: { grants($0, group, resource) }) { return true }
            guard let ns else { return false }  // a RoleBinding cannot grant a cluster-scoped resource
            return kind("RoleBinding").filter { namespace($0) == ns && bindsSA($0) }
                .contains { grants(roleKey($0, bindingNamespace: ns), group, resource) }
        }

        // The environment namespaces, from the config the CronJob runs with.
        let configMap = try #require(kind("ConfigMap").first)
        let config = try #require((configMap["data"] as? [String: String])?["threat-report.yml"])
        let namespaces = config.matches(of: /namespace: ([a-z0-9-]+)/).map { String($0.1) }
        #expect(namespaces == ["shop-production", "shop-staging"])

        let paths = try Self.clientPaths()
        #expect(paths.count >= 4)
        #expect(paths.contains("/api/v1/namespaces/\\(ns)/pods"), "the pod list path is in the client's source")
        for path in paths {
            let r = try #require(Self.resource(ofPath: path.replacingOccurrences(of: "\\(ns)", with: "{ns}")), "cannot read \(path)")
            if r.namespaced {
                for ns in namespaces { #expect(allowed(r.group, r.resource, namespace: ns), "list \(r.resource) in \(ns) (\(path))") }
            } else {
                #expect(allowed(r.group, r.resource, namespace: nil), "list \(r.resource) cluster-wide (\(path))")
            }
        }
        // Least privilege: namespaced policies are not readable in a namespace that is not an environment.
        #expect(!allowed("networking.k8s.io", "networkpolicies", namespace: "kube-system"))
        #expect(!allowed("cilium.io", "ciliumnetworkpolicies", namespace: "kube-system"))
        #expect(!allowed("", "pods", namespace: "kube-system"))
        #expect(!allowed("", "pods", namespace: nil), "pods are listed per environment namespace, never cluster-wide")
    }

    @Test("Kubernetes: the CronJob runs as the ServiceAccount, mounts the token named by bearer_token_file, and its config passes the strict loader")
    func cronJob() throws {
        let docs = try yamlDocuments("kubernetes-cronjob.yaml").compactMap { $0 as? [String: Any] }
        let job = try #require(docs.first { $0["kind"] as? String == "CronJob" })
        #expect(job["apiVersion"] as? String == "batch/v1")
        let jobSpec = try #require(((job["spec"] as? [String: Any])?["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any])
        let pod = try #require((jobSpec["template"] as? [String: Any])?["spec"] as? [String: Any])
        #expect(pod["serviceAccountName"] as? String == "threat-report")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let mounts = try #require(container["volumeMounts"] as? [[String: Any]])
        let secret = try #require(docs.first { $0["kind"] as? String == "Secret" && (($0["metadata"] as? [String: Any])?["name"] as? String) == "threat-report-prometheus" })
        #expect((secret["stringData"] as? [String: String])?["token"] != nil)
        let tokenMount = try #require(mounts.first { $0["name"] as? String == "prometheus-token" }?["mountPath"] as? String)

        let config = try #require(((docs.first { $0["kind"] as? String == "ConfigMap" })?["data"] as? [String: String])?["threat-report.yml"])
        #expect(config.contains("bearer_token_file: \(tokenMount)/token"))
        let dir = tempDir("recipe-config")
        try config.write(toFile: dir + "/threat-report.yml", atomically: true, encoding: .utf8)
        let parsed = try ConfigLoader.load(path: dir + "/threat-report.yml")
        #expect(parsed.environments.map(\.name) == ["production", "staging"])
        let args = try #require(container["args"] as? [String])
        let (r, out) = try runRecipeCommand("threat-report " + args.joined(separator: " "), name: "k8s")
        #expect(r.code == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: out + "/report.pdf"))
    }

    @Test("Dockerfile: two stages on bookworm, a static Swift runtime, and only the runtime libraries in the last stage")
    func dockerfile() throws {
        let text = try String(contentsOfFile: Self.recipes + "/Dockerfile", encoding: .utf8)
        let froms = text.split(separator: "\n").filter { $0.hasPrefix("FROM ") }
        #expect(froms.count == 2)
        #expect(text.contains("ARG SWIFT_IMAGE=swift:6.3-bookworm") && froms[0] == "FROM ${SWIFT_IMAGE} AS build")
        #expect(froms[1] == "FROM debian:bookworm-slim")
        #expect(text.contains("--static-swift-stdlib"))
        let runtime = try #require(text.components(separatedBy: "FROM debian:bookworm-slim").last)
        let install = try #require(runtime.firstMatch(of: /--no-install-recommends ([a-z0-9 .+-]+)/)?.1)
        let packages = Set(install.split(separator: " ").map(String.init))
        #expect(packages.isSuperset(of: ["libcairo2", "libcurl4", "fonts-dejavu-core"]))
        #expect(packages.isSubset(of: ["libcairo2", "libcurl4", "fonts-dejavu-core", "ca-certificates", "tzdata"]), "\(packages)")
        #expect(text.contains("USER 65532:65532"))
    }
}
