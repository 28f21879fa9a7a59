import Foundation
import Testing

/// The sample report, checked against numbers computed here from the recorded answers.
@Suite("Sample report, end to end", .serialized)
struct SampleReportTests {
    static let out = tempDir("sample")
    static let first: Run? = try? report(["--config", "samples/threat-report.yml", "--output", out, "--format", "html,md,json"])

    func reportJSON() throws -> [String: Any] {
        try #require(Self.first?.code == 0, "the sample report ran: \(Self.first?.stderr ?? "no run")")
        return try #require(try foundationJSON(Self.out + "/report.json") as? [String: Any])
    }

    func env(_ name: String) throws -> [String: Any] {
        let envs = try #require(try reportJSON()["environments"] as? [[String: Any]])
        return try #require(envs.first { $0["name"] as? String == name })
    }

    @Test("stdout carries only the written report paths; the summary goes to stderr")
    func stdoutIsPaths() throws {
        let r = try #require(Self.first)
        #expect(r.code == 0)
        #expect(r.stdout.split(separator: "\n").map(String.init) == ["report.html", "report.md", "report.json"].map { Self.out + "/" + $0 })
        #expect(r.stderr.contains("findings: "))
        for f in ["charts/production-waf.png", "charts/production-waf.svg", "charts/production-flows.png", "charts/staging-flows.svg"] {
            #expect(FileManager.default.fileExists(atPath: Self.out + "/" + f), "\(f)")
        }
    }

    @Test("Production (Hubble flow file) has the traffic map and suggested policies; staging (Prometheus) has neither")
    func mapAndSuggestions() throws {
        let fm = FileManager.default
        #expect(fm.fileExists(atPath: Self.out + "/charts/production-map.png") && fm.fileExists(atPath: Self.out + "/charts/production-map.svg"))
        #expect(!fm.fileExists(atPath: Self.out + "/charts/staging-map.png"))
        let files = try fm.contentsOfDirectory(atPath: Self.out + "/suggested-policies").sorted()
        #expect(files == ["production"])
        let yamls = try fm.contentsOfDirectory(atPath: Self.out + "/suggested-policies/production").sorted()
        #expect(yamls == ["cart.yaml", "catalog.yaml", "redis.yaml", "web.yaml", "worker.yaml"])
        let worker = try String(contentsOfFile: Self.out + "/suggested-policies/production/worker.yaml", encoding: .utf8)
        #expect(worker.contains("- matchName: api.mailgun.net") && worker.contains("network-policy.gitlab.com/disabled_by: gitlab"))
        let prod = try #require(try env("production")["flows"] as? [String: Any])
        let items = try #require((prod["suggestions"] as? [String: Any])?["items"] as? [[String: Any]])
        #expect(items.compactMap { $0["file"] as? String } == yamls.map { "suggested-policies/production/" + $0 })
        #expect((prod["map"] as? [String: Any])?["edges"] is [Any])
        let staging = try #require(try env("staging")["flows"] as? [String: Any])
        #expect(staging["suggestions"] is NSNull && staging["map"] is NSNull)
        let html = try String(contentsOfFile: Self.out + "/report.html", encoding: .utf8)
        #expect(html.components(separatedBy: "<h3>Suggested policies</h3>").count == 2)
    }

    @Test("WAF numbers equal the recorded _msearch answer: totals, ratio and bucket sums")
    func wafNumbers() throws {
        for (name, folder) in [("production", "production"), ("staging", "staging")] {
            let answer = try #require(try foundationJSON("\(repo)/samples/\(folder)/waf/msearch.json") as? [String: Any])
            let responses = try #require(answer["responses"] as? [[String: Any]])
            func total(_ r: [String: Any]) -> Int { ((r["hits"] as? [String: Any])?["total"] as? [String: Any])?["value"] as? Int ?? -1 }
            func buckets(_ r: [String: Any]) -> [Int] {
                (((r["aggregations"] as? [String: Any])?["history"] as? [String: Any])?["buckets"] as? [[String: Any]] ?? []).compactMap { $0["doc_count"] as? Int }
            }
            let waf = try #require(try env(name)["waf"] as? [String: Any])
            #expect(waf["status"] as? String == "ok")
            #expect(waf["total_requests"] as? Int == total(responses[0]))
            #expect(waf["anomalous_requests"] as? Int == total(responses[1]))
            let ratio = try #require(waf["anomalous_ratio"] as? Double)
            #expect(abs(ratio - Double(total(responses[1])) / Double(total(responses[0]))) < 1e-15)
            let history = try #require(waf["history"] as? [String: Any])
            let t = (history["total"] as? [[Any]] ?? []).compactMap { $0[1] as? Int }
            #expect(t == buckets(responses[0]))
            #expect(t.count == 24)
            #expect(t.reduce(0, +) == total(responses[0]))
        }
        // Production has the attack spike (a warning), staging is clean.
        #expect(try (env("production")["waf"] as? [String: Any])?["anomalous_ratio"] as? Double ?? 0 > 0.05)
        #expect(try (env("staging")["waf"] as? [String: Any])?["anomalous_ratio"] as? Double ?? 1 < 0.01)
    }

    @Test("Production's flow numbers equal an independent count of its Hubble flow file; staging's the recorded Prometheus answers, rounded as GitLab did")
    func flowNumbers() throws {
        // Production reads a hubble observe export (samples/production/hubble-flows.json.gz).
        let count = try HubbleRecount(repo + "/samples/production/hubble-flows.json.gz", namespace: "shop-production",
                                      from: "2026-11-19T00:00:00Z", to: "2026-11-20T00:00:00Z")
        let prod = try #require(try env("production")["flows"] as? [String: Any])
        let pf = count.all["FORWARDED"] ?? 0, pd = count.all["DROPPED"] ?? 0
        #expect(pf == 3121 && pd == 373 && count.all.values.reduce(0, +) == pf + pd)
        #expect(prod["forwarded"] as? Int == pf && prod["dropped"] as? Int == pd && prod["total"] as? Int == pf + pd)
        #expect(abs((prod["dropped_ratio"] as? Double ?? -1) - Double(pd) / Double(pf + pd)) < 1e-15)
        #expect((prod["inbound"] as? [String: Any])?["dropped"] as? Int == count.inbound["DROPPED"])
        #expect((prod["outbound"] as? [String: Any])?["forwarded"] as? Int == count.outbound["FORWARDED"])
        #expect(((prod["rate"] as? [String: Any])?["dropped"] as? [Any])?.count == 24, "one point per hour bucket")
        for (name, folder) in [("staging", "staging")] {
            func vector(_ file: String) throws -> [String: Double] {
                let a = try #require(try foundationJSON("\(repo)/samples/\(folder)/flows/\(file).json") as? [String: Any])
                let result = ((a["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
                var out: [String: Double] = [:]
                for r in result {
                    let verdict = (r["metric"] as? [String: String])?["verdict"] ?? "?"
                    out[verdict] = Double((r["value"] as? [Any])?[1] as? String ?? "") ?? .nan
                }
                return out
            }
            let totals = try vector("totals"), inbound = try vector("inbound"), outbound = try vector("outbound")
            let flows = try #require(try env(name)["flows"] as? [String: Any])
            let fwd = Int(totals["FORWARDED"]!.rounded()), drop = Int(totals["DROPPED"]!.rounded())
            #expect(flows["forwarded"] as? Int == fwd)
            #expect(flows["dropped"] as? Int == drop)
            #expect(flows["total"] as? Int == fwd + drop)
            // Foundation's JSON parser may be off in the last bit; the tool stores the exact quotient.
            #expect(abs((flows["dropped_ratio"] as? Double ?? -1) - Double(drop) / Double(fwd + drop)) < 1e-15)
            let inb = try #require(flows["inbound"] as? [String: Any])
            #expect(inb["dropped"] as? Int == Int(inbound["DROPPED"]!.rounded()))
            let outb = try #require(flows["outbound"] as? [String: Any])
            #expect(outb["forwarded"] as? Int == Int(outbound["FORWARDED"]!.rounded()))
            // Intra-namespace flows are in both directions but once in the total.
            #expect(inb["total"] as! Int + (outb["total"] as! Int) > flows["total"] as! Int)
            let rate = try #require(flows["rate"] as? [String: Any])
            #expect((rate["dropped"] as? [Any])?.count == 601)
        }
        #expect(try (env("production")["flows"] as? [String: Any])?["dropped_ratio"] as? Double ?? 0 > 0.05)
    }

    @Test("Policies: an enforced one, a disabled one (disabled_by) and one that does not parse, with its line")
    func policies() throws {
        let items = try #require(((try env("production")["policies"] as? [String: Any])?["items"] as? [[String: Any]]))
        let byName = Dictionary(items.compactMap { i in (i["name"] as? String).map { ($0, i) } }, uniquingKeysWith: { a, _ in a })
        #expect(byName["web-allow-ingress"]?["enabled"] as? Bool == true)
        #expect(byName["drop-outbound"]?["enabled"] as? Bool == false)
        #expect(byName["drop-outbound"]?["predefined"] as? Bool == true)
        let broken = try #require(items.first { $0["valid"] as? Bool == false })
        let problem = try #require((broken["problems"] as? [String])?.first)
        #expect(problem.contains("worker.yaml:11:"), "\(problem)")
        let staging = try #require(((try env("staging")["policies"] as? [String: Any])?["items"] as? [[String: Any]]))
        #expect(Set(staging.compactMap { $0["name"] as? String }) == ["default-deny-ingress", "allow-inbound-http", "web-egress"])
    }

    @Test("Findings: production's ratios and policies, none for staging's clean traffic; each with guidance")
    func findings() throws {
        let findings = try #require(try reportJSON()["findings"] as? [[String: Any]])
        let ids = Set(findings.map { "\($0["environment"]!)/\($0["id"]!)" })
        #expect(ids.isSuperset(of: ["production/waf.anomalous_ratio", "production/flows.dropped_ratio",
                                    "production/policies.disabled", "production/policies.invalid"]))
        #expect(!ids.contains("staging/waf.anomalous_ratio"))
        #expect(!ids.contains("staging/flows.dropped_ratio"))
        for f in findings { #expect((f["guidance"] as? String)?.isEmpty == false) }
        let json = try reportJSON()
        #expect(json["schema_version"] as? Int == 1)
        // A relative --config keeps input paths relative: the same report on every machine.
        let evidence = try #require(try env("production")["evidence"] as? [[String: Any]])
        // The WAF section's evidence: the recorded _field_caps answer, the URI field's mapping, then the _msearch answer.
        #expect(evidence.prefix(3).compactMap { $0["source"] as? String } == ["samples/production/waf/field_caps.json", "samples/production/waf/uri_mapping.json", "samples/production/waf/msearch.json"])
        #expect((evidence.first?["sha256"] as? String)?.count == 64)
        #expect(json["status"] as? String == "complete")
        #expect((json["window"] as? [String: Any])?["from"] as? String == "2026-11-19T00:00:00Z")
        #expect((json["window"] as? [String: Any])?["interval"] as? String == "hour")
    }

    @Test("Markdown links its charts as charts/*.png and the files exist")
    func markdownCharts() throws {
        _ = try reportJSON()
        let md = try String(contentsOfFile: Self.out + "/report.md", encoding: .utf8)
        let links = md.components(separatedBy: "](charts/").dropFirst().map { "charts/" + $0.prefix { $0 != ")" } }
        let pngs = try FileManager.default.contentsOfDirectory(atPath: Self.out + "/charts").filter { $0.hasSuffix(".png") }
        #expect(links.count == pngs.count, "every chart is linked")
        #expect(links.count >= 4)
        for l in links { #expect(FileManager.default.fileExists(atPath: Self.out + "/" + l), "\(l)") }
    }
}
