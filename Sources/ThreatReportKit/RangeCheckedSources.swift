import Foundation
import ThreatConfig
import ThreatModel
import ThreatSources

/// Every WAF and flow source's answer passes `rangeProblem()` before the report sees it: a count
/// past 2^53, a sum of counts past 2^53 or a time outside the years 0001–9999 makes the section
/// unavailable ("<source>: value out of range: …", exit 3) instead of a trap or a wrong figure
/// further on. The decoders check their own numbers first and name the exact place; this is the
/// one gate all of them (Elasticsearch, log files, Prometheus, Hubble, recordings) share.
struct RangeCheckedWAFSource: WAFSource {
    var inner: any WAFSource
    var place: String
    func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<WAFStatistics> {
        let out = try inner.fetch(context)
        if let problem = out.value.rangeProblem() { throw .malformed(place: place, detail: problem.description) }
        return out
    }
}

struct RangeCheckedFlowSource: FlowSource {
    var inner: any FlowSource
    var place: String
    func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<FlowStatistics> {
        let out = try inner.fetch(context)
        if let problem = out.value.rangeProblem() { throw .malformed(place: place, detail: problem.description) }
        return out
    }
}

extension WAFSourceConfig {
    /// The source as the report names it: "Elasticsearch <url>", "WAF logs <first file>", "recording <folder>".
    var place: String {
        switch self {
        case let .elasticsearch(s): "Elasticsearch \(s.transport.url)"
        case let .files(s): "WAF logs \((s.auditLogs + s.accessLogs).first ?? "")"
        case let .replay(path): "recording \(path)"
        }
    }
}

extension FlowSourceConfig {
    var place: String {
        switch self {
        case let .prometheus(s): "Prometheus \(s.transport.url)"
        case let .hubble(s): "Hubble flows \(s.flowLogs.first ?? "")"
        case let .replay(path): "recording \(path)"
        }
    }
}
