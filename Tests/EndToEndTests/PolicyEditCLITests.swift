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
}
