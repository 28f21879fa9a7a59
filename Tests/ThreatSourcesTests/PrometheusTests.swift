import Foundation
import Testing
import ThreatConfig
import ThreatModel
@testable import ThreatSources

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite("Prometheus answers")
struct PrometheusAnswerTests {
    @Test("Vector values are strings, and NaN/+Inf/-Inf are accepted")
    func vector() throws {
        let a = try PrometheusAnswer.decode(bytes(#"""
        {"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"verdict":"FORWARDED"},"value":[1795132800,"73772.43"]},
          {"metric":{"verdict":"DROPPED"},"value":[1795132800,"NaN"]},
          {"metric":{"verdict":"ERROR"},"value":[1795132800,"+Inf"]},
          {"metric":{},"value":[1795132800,"-Inf"]}]}}
        """#), place: "t")
        #expect(a.vector.count == 4)
        #expect(a.vector[0].value == 73772.43)
        #expect(a.vector[1].value.isNaN)
        #expect(a.vector[2].value == .infinity)
        #expect(a.vector[3].value == -.infinity)
    }

    @Test("An error answer becomes an engine error with its type and message, even with HTTP 200")
    func errorAnswer() {
        #expect(throws: SourceError.engine(place: "q", status: 400, message: "bad_data: parse error at char 5")) {
            try PrometheusAnswer.decode(bytes(#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#), place: "q", httpStatus: 400)
        }
        #expect(throws: SourceError.engine(place: "q", status: nil, message: "execution: query timed out")) {
            try PrometheusAnswer.decode(bytes(#"{"status":"error","errorType":"execution","error":"query timed out"}"#), place: "q")
        }
    }

    @Test("Warnings are kept; truncated JSON is a located malformed error")
    func warningsAndTruncation() throws {
        let a = try PrometheusAnswer.decode(bytes(#"{"status":"success","warnings":["partial response"],"data":{"resultType":"vector","result":[]}}"#), place: "q")
        #expect(a.warnings == ["partial response"])
        #expect(a.vector.isEmpty)
        do {
            _ = try PrometheusAnswer.decode(bytes(#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"]"#), place: "f.json")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.hasPrefix("f.json: not valid JSON at 1:"))
        }
    }

    @Test("GitLab's spec numbers: forwarded 73772.43… plus dropped 5.0027… give totals 73772 + 5 = 73777")
    func gitlabSpecNumbers() throws {
        let totals = try PrometheusAnswer.decode(bytes(#"""
        {"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"verdict":"FORWARDED"},"value":[0,"73772.43263477"]},{"metric":{"verdict":"DROPPED"},"value":[0,"5.00277"]}]}}
        """#), place: "t")
        let (s, _) = FlowStatisticsBuilder.build(answers: [.totals: totals], queries: FlowQueries(), namespace: "ns")
        #expect(s.counts.forwarded == 73772)
        #expect(s.counts.dropped == 5)
        #expect(s.counts.total == 73777)
    }

    @Test("A namespace with no traffic is an empty result, not an error")
    func noTraffic() throws {
        let empty = try PrometheusAnswer.decode(bytes(#"{"status":"success","data":{"resultType":"vector","result":[]}}"#), place: "t")
        let (s, w) = FlowStatisticsBuilder.build(answers: [.totals: empty, .inbound: empty, .outbound: empty], queries: FlowQueries(), namespace: "ns")
        #expect(s.counts.total == 0 && s.counts.droppedRatio == 0)
        #expect(w.isEmpty)
    }

    @Test("Drop reasons: pre-1.14 prose and enum names merge into one spelling")
    func dropReasons() throws {
        let a = try PrometheusAnswer.decode(bytes(#"""
        {"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"reason":"POLICY_DENIED"},"value":[0,"10"]},{"metric":{"reason":"Policy denied"},"value":[0,"5"]},
          {"metric":{"reason":"CT: Map insertion failed"},"value":[0,"2"]}]}}
        """#), place: "t")
        let (s, _) = FlowStatisticsBuilder.build(answers: [.dropReasons: a], queries: FlowQueries(), namespace: "ns")
        #expect(s.topDropReasons == [RankedCount(key: "POLICY_DENIED", count: 15), RankedCount(key: "CT_MAP_INSERTION_FAILED", count: 2)])
    }
}

@Suite("GitLab's flow queries")
struct FlowQueryTests {
    let w = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)

    @Test("The totals and rate queries are GitLab's, byte for byte")
    func gitlabQueries() {
        let q = FlowQueries()
        #expect(q.query(.totals, namespace: "shop-production", window: w)
            == #"sum by(verdict) (increase(hubble_flows_processed_total{destination="shop-production"}[86400s]) or on(source,destination,verdict) increase(hubble_flows_processed_total{source="shop-production"}[86400s]))"#)
        #expect(q.query(.rate, namespace: "shop-production", window: w)
            == #"sum by(verdict) (rate(hubble_flows_processed_total{destination="shop-production"}[1h]) or on(source,destination,verdict) rate(hubble_flows_processed_total{source="shop-production"}[1h]))"#)
        let r = q.request(.rate, namespace: "ns", window: w)
        #expect(r.path == "/api/v1/query_range")
        #expect(r.params.map { $0[0] } == ["query", "start", "end", "step"])
        #expect(r.params[3][1] == "144")
        #expect(q.request(.totals, namespace: "ns", window: w).params[1] == ["time", "1795132800"])
    }

    @Test("Configurable label names, and namespace quoting that cannot break out of the selector")
    func labelsAndQuoting() {
        var s = PrometheusSettings(transport: HTTPTransportSettings(url: "http://p"))
        s.sourceLabel = "source_namespace"
        s.destinationLabel = "destination_namespace"
        let q = FlowQueries(settings: s)
        #expect(q.query(.inbound, namespace: "ns", window: w) == #"sum by(verdict) (increase(hubble_flows_processed_total{destination_namespace="ns"}[86400s]))"#)
        #expect(FlowQueries.quote(#"a"}[1s]) or vector(1) #\"#) == #""a\"}[1s]) or vector(1) #\\""#)
    }

    @Test("The recorded sample requests are exactly the queries this code sends")
    func samplesMatchQueries() throws {
        for (env, ns) in [("production", "shop-production"), ("staging", "shop-staging")] {
            let folder = RecordingFolder(path: "\(repoRoot)/samples/\(env)/flows")
            for name in FlowQueries.Name.allCases {
                #expect(folder.request(name.rawValue) == FlowQueries().request(name, namespace: ns, window: w), "\(env)/\(name)")
            }
            let prev = RecordingFolder(path: "\(repoRoot)/samples/\(env)/flows/previous")
            #expect(prev.request("totals") == FlowQueries().request(.totals, namespace: ns, window: w.previous))
        }
    }
}
