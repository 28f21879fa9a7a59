import Foundation
import Testing

/// `threat-report policy edit FILE|-` from the command line: the edited manifest on stdout, what
/// changed on stderr, refusals with exit 2 and nothing on stdout.
@Suite("policy edit (command line)")
struct PolicyEditCLITests {
    static let manifest = """
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata:
          name: api
          namespace: shop
        spec:
          endpointSelector:
            matchLabels: {app: api}   # flow-style selector, kept as written
          egress:
          - toEntities:
            - world
            toPorts:
            - ports:
              - port: "443"
                protocol: TCP

        """

    @Test("edit FILE --remove-to-entities --allow-to-fqdn --ports: stdout edited in place, stderr lists the changes")
    func editFile() throws {
        let dir = tempDir("edit-cli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let file = dir + "/api.yaml"
        try Self.manifest.write(toFile: file, atomically: true, encoding: .utf8)
        let r = try run(policyCLI, ["policy", "edit", file, "--remove-to-entities", "world", "--allow-to-fqdn", "api.example.com", "--ports", "443/tcp"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout == """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: api
              namespace: shop
            spec:
              endpointSelector:
                matchLabels: {app: api}   # flow-style selector, kept as written
              egress:
              - toFQDNs:
                - matchName: api.example.com
                toPorts:
                - ports:
                  - port: "443"
                    protocol: TCP

            """)
        #expect(r.stderr.contains("edited: spec.egress[0]: removed the rule (toEntities world)"))
        #expect(r.stderr.contains("edited: spec.egress: added 1 rule"))
        // The file itself is not touched.
        #expect(try String(contentsOfFile: file, encoding: .utf8) == Self.manifest)
        // The output explains as a valid policy.
        let explained = try run(policyCLI, ["policy", "explain", "-"], stdin: Data(r.stdout.utf8))
        #expect(explained.code == 0, "\(explained.stderr)")
    }

    @Test("edit - reads stdin; a policy outside rule mode exits 2 with 'switch to YAML mode' and prints nothing")
    func refusals() throws {
        let deny = Self.manifest + "  egressDeny:\n  - toEntities: [world]\n"
        let r = try run(policyCLI, ["policy", "edit", "-", "--allow-to-entities", "cluster"], stdin: Data(deny.utf8))
        #expect(r.code == 2)
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.contains("stdin: CiliumNetworkPolicy api uses constructs outside rule mode (spec.egressDeny (deny rules)); switch to YAML mode"), "\(r.stderr)")
        let nothing = try run(policyCLI, ["policy", "edit", "-"], stdin: Data(Self.manifest.utf8))
        #expect(nothing.code == 2 && nothing.stderr.contains("nothing to change"), "\(nothing.stderr)")
        let portsAlone = try run(policyCLI, ["policy", "edit", "-", "--ports", "80"], stdin: Data(Self.manifest.utf8))
        #expect(portsAlone.code == 2 && portsAlone.stderr.contains("--ports: it sets the ports of the rules --allow-* adds"), "\(portsAlone.stderr)")
        let badLabel = try run(policyCLI, ["policy", "edit", "-", "--remove-from-labels", "app"], stdin: Data(Self.manifest.utf8))
        #expect(badLabel.code == 2 && badLabel.stderr.contains("--remove-from-labels"), "\(badLabel.stderr)")
    }

    @Test("policy new and policy edit share the --allow-* flags: same help, same value checks, same rules")
    func sharedAllowFlags() throws {
        let flags = ["--allow-from-labels", "--allow-from-entities", "--allow-from-cidr", "--allow-to-labels",
                     "--allow-to-entities", "--allow-to-cidr", "--allow-to-fqdn"]
        let newHelp = try run(policyCLI, ["policy", "new", "--help"]).stdout
        let editHelp = try run(policyCLI, ["policy", "edit", "--help"]).stdout
        func allowSection(_ help: String) -> Substring? {
            guard let start = help.range(of: "PEERS TO ALLOW:") else { return nil }
            let rest = help[start.upperBound...]
            return rest[..<(rest.range(of: "\n\n")?.lowerBound ?? rest.endIndex)]
        }
        let section = try #require(allowSection(newHelp))
        #expect(allowSection(editHelp) == section)
        for f in flags { #expect(section.contains(f), "\(f) missing from the shared help") }
        // A bad value is refused the same way, naming the flag.
        for (flag, bad) in [("--allow-from-entities", "planet"), ("--allow-to-cidr", "10.0.0.0/33"), ("--allow-to-labels", "novalue")] {
            let n = try run(policyCLI, ["policy", "new", "--name", "p", flag, bad])
            let e = try run(policyCLI, ["policy", "edit", "-", flag, bad], stdin: Data(Self.manifest.utf8))
            #expect(n.code == 2 && e.code == 2)
            #expect(n.stderr.contains("\(flag):") && e.stderr.contains("\(flag):"), "\(n.stderr) / \(e.stderr)")
        }
        // The rule `new` writes for a flag is the rule `edit` adds for it.
        let allow = ["--allow-from-labels", "app=frontend,tier=web", "--allow-from-cidr", "10.1.0.0/16", "--ports", "8080/tcp"]
        let made = try run(policyCLI, ["policy", "new", "--name", "api", "--namespace", "shop", "--endpoint", "app=api"] + allow)
        #expect(made.code == 0, "\(made.stderr)")
        let edited = try run(policyCLI, ["policy", "edit", "-"] + allow, stdin: Data(Self.manifest.utf8))
        #expect(edited.code == 0, "\(edited.stderr)")
        let ingress = try #require(made.stdout.range(of: "  ingress:\n")).upperBound
        let newRules = made.stdout[ingress...].prefix { _ in true }
        let newIngress = String(newRules.split(separator: "\n", omittingEmptySubsequences: false).prefix { !$0.hasPrefix("  egress:") }.joined(separator: "\n"))
        #expect(edited.stdout.contains("  ingress:\n" + newIngress), "new wrote:\n\(made.stdout)\nedit wrote:\n\(edited.stdout)")
    }
}
