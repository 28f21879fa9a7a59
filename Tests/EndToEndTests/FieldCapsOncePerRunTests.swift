import Foundation
import Testing

/// The mapping of an index pattern (`_field_caps`, and the URI field's `_mapping/field`) belongs to
/// the pattern, not to an environment or a window: a run asks it once per (cluster, credentials,
/// pattern), through the run's cache, and still records it in every environment's and window's
/// folder so each replays alone.
@Suite("Elasticsearch mapping asked once per index pattern per run (run cache), recorded everywhere")
struct FieldCapsOncePerRunTests {
    static func config(_ es: MiniES, _ dir: String) throws -> String {
        let path = dir + "/c.yml"
        func waf(_ index: String) -> String { #"{ elasticsearch: { url: "\#(es.url)", index: "\#(index)", timeout: 5, retries: 0 } }"# }
        try """
        version: 1
        to: 2026-11-20T00:00:00Z
        window: 24h
        environments:
          - name: production
            namespace: shop-production
            hosts: [shop.example.com]
            waf: \(waf("filebeat-7.*"))
          - name: eu
            namespace: eu-shop-production
            hosts: [eu.shop.example.com]
            waf: \(waf("filebeat-7.*"))
          - name: staging
            namespace: shop-staging
            hosts: [staging.example.com]
            waf: \(waf("filebeat-7.17.*"))

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("Two environments on one index pattern plus one on another, --compare previous: one _field_caps and one _mapping/field per pattern, one _msearch per environment and window")
    func fieldCapsOncePerPatternAcrossEnvironmentsAndWindows() throws {
        let es = try MiniES(index: "filebeat-7.17.0-2026.11.19", mapping: MiniElasticsearchTests.dynamicMapping(module: true),
                            docs: MiniElasticsearchTests.docs(module: true))
        let dir = tempDir("caps-once")
        let r = try report(["--config", try Self.config(es, dir), "--output", dir + "/out", "--format", "json",
                            "--compare", "previous", "--record", dir + "/rec"])
        #expect(r.code == 0, "\(r.stderr)")
        let paths = try es.requests().map { "\($0["method"] as? String ?? "") \($0["path"] as? String ?? "")" }
        var counts: [String: Int] = [:]
        for p in paths { counts[p, default: 0] += 1 }
        #expect(counts == [
            "GET /es/filebeat-7.*/_field_caps": 1,
            "GET /es/filebeat-7.17.*/_field_caps": 1,
            "GET /es/filebeat-7.*/_mapping/field/transaction.request.uri.keyword": 1,
            "GET /es/filebeat-7.17.*/_mapping/field/transaction.request.uri.keyword": 1,
            "POST /es/_msearch": 6,
        ], "\(paths)")
        // Every environment's folder, and its previous window's, holds the mapping answers, the same bytes.
        let shared = try Data(contentsOf: URL(fileURLWithPath: dir + "/rec/production/waf/field_caps.json"))
        for env in ["production", "eu", "staging"] {
            for sub in ["", "/previous"] {
                let folder = dir + "/rec/\(env)/waf\(sub)"
                for name in ["field_caps.json", "field_caps.request.json", "uri_mapping.json", "uri_mapping.request.json"] {
                    #expect(FileManager.default.fileExists(atPath: folder + "/" + name), "\(folder)/\(name)")
                }
                if env != "staging" {
                    #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/field_caps.json")) == shared, "\(folder)")
                }
            }
        }
        // Every environment's evidence still lists the mapping it was counted with.
        let json = try #require(try foundationJSON(dir + "/out/report.json") as? [String: Any])
        for env in try #require(json["environments"] as? [[String: Any]]) {
            let sources = (env["evidence"] as? [[String: Any]] ?? []).compactMap { $0["source"] as? String }
            #expect(sources.contains { $0.hasSuffix("/_field_caps") }, "\(env["name"] ?? "")")
        }
        // The recording replays alone, byte for byte, with no cluster.
        let replay = try report(["--replay", dir + "/rec", "--output", dir + "/replayed", "--format", "json"])
        #expect(replay.code == 0, "\(replay.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/replayed/report.json")) == Data(contentsOf: URL(fileURLWithPath: dir + "/out/report.json")))
        #expect(try es.requests().count == paths.count, "the replay asked the cluster nothing")
    }
}
