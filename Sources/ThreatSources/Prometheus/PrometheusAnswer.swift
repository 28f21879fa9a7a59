import Foundation
import ThreatModel

/// A decoded Prometheus HTTP API answer (`/api/v1/query` or `/api/v1/query_range`).
///
/// Values arrive as strings and may be `NaN`, `+Inf` or `-Inf`. An error answer is
/// `{"status":"error","errorType":…,"error":…}`, with a 4xx/5xx or even a 200; a success may carry
/// `warnings`.
public struct PrometheusAnswer: Sendable, Equatable {
    public struct Sample: Sendable, Equatable {
        public var labels: [String: String]
        public var value: Double
    }
    public struct Series: Sendable, Equatable {
        public var labels: [String: String]
        public var values: [(time: Double, value: Double)]
        public static func == (a: Series, b: Series) -> Bool {
            a.labels == b.labels && a.values.count == b.values.count
                && zip(a.values, b.values).allSatisfy { $0.time == $1.time && ($0.value == $1.value || ($0.value.isNaN && $1.value.isNaN)) }
        }
    }
    public enum Result: Sendable, Equatable {
        case vector([Sample])
        case matrix([Series])
        case scalar(Double)
    }

    public var result: Result
    public var warnings: [String]

    public var vector: [Sample] {
        if case let .vector(v) = result { return v }
        if case let .scalar(s) = result { return [Sample(labels: [:], value: s)] }
        return []
    }
    public var matrix: [Series] {
        if case let .matrix(m) = result { return m }
        return []
    }

    /// Decodes an answer body. `place` names the answer in errors (URL without credentials, or file).
    public static func decode(_ bytes: [UInt8], place: String, httpStatus: Int? = nil) throws(SourceError) -> PrometheusAnswer {
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: bytes)
        } catch {
            if let s = httpStatus, s >= 400 {
                throw .engine(place: place, status: s, message: "not a Prometheus answer (\(String(decoding: bytes.prefix(200), as: UTF8.self)))")
            }
            throw .malformed(place: place, detail: "not valid JSON at \(error)")
        }
        let status = json["status"]?.stringValue
        if status == "error" || (httpStatus ?? 200) >= 400 {
            let type = json["errorType"]?.stringValue ?? "error"
            let message = json["error"]?.stringValue ?? "no error message"
            throw .engine(place: place, status: httpStatus, message: "\(type): \(message)")
        }
        guard status == "success" else { throw .malformed(place: place, detail: "answer has no \"status\": \"success\"") }
        guard let data = json["data"], let type = data["resultType"]?.stringValue else {
            throw .malformed(place: place, detail: "answer has no data.resultType")
        }
        let warnings = (json["warnings"]?.arrayValue ?? []).compactMap(\.stringValue)
        switch type {
        case "vector":
            guard let items = data["result"]?.arrayValue else { throw .malformed(place: place, detail: "data.result is not a list") }
            var out: [Sample] = []
            for (i, item) in items.enumerated() {
                guard let pair = item["value"]?.arrayValue, pair.count == 2, let v = parseValue(pair[1]) else {
                    throw .malformed(place: place, detail: "data.result[\(i)].value is not [time, \"value\"]")
                }
                try checkRange(v, place: place, "data.result[\(i)].value")
                out.append(Sample(labels: labels(item["metric"]), value: v))
            }
            return PrometheusAnswer(result: .vector(out), warnings: warnings)
        case "matrix":
            guard let items = data["result"]?.arrayValue else { throw .malformed(place: place, detail: "data.result is not a list") }
            var out: [Series] = []
            for (i, item) in items.enumerated() {
                guard let values = item["values"]?.arrayValue else {
                    throw .malformed(place: place, detail: "data.result[\(i)].values is not a list")
                }
                var points: [(Double, Double)] = []
                points.reserveCapacity(values.count)
                for (j, p) in values.enumerated() {
                    guard let pair = p.arrayValue, pair.count == 2, let t = pair[0].doubleValue, t.isFinite,
                          let v = parseValue(pair[1]) else {
                        throw .malformed(place: place, detail: "data.result[\(i)].values[\(j)] is not [time, \"value\"]")
                    }
                    guard NumberLimits.isSupportedTime(t) else {
                        throw .malformed(place: place, detail: "data.result[\(i)].values[\(j)]: \(NumberRangeError.time("the sample time", t))")
                    }
                    try checkRange(v, place: place, "data.result[\(i)].values[\(j)]")
                    points.append((t, v))
                }
                out.append(Series(labels: labels(item["metric"]), values: points))
            }
            return PrometheusAnswer(result: .matrix(out), warnings: warnings)
        case "scalar":
            guard let pair = data["result"]?.arrayValue, pair.count == 2, let v = parseValue(pair[1]) else {
                throw .malformed(place: place, detail: "data.result is not [time, \"value\"]")
            }
            try checkRange(v, place: place, "data.result")
            return PrometheusAnswer(result: .scalar(v), warnings: warnings)
        default:
            throw .malformed(place: place, detail: "unsupported resultType '\(type)'")
        }
    }

    /// Counts and rates are at most 2^53 in size (`NumberLimits.maxCount`): past it a value is no
    /// flow count and would overflow the sums; NaN and ±Inf are Prometheus' own and kept (the
    /// statistics skip them with a warning).
    static func checkRange(_ v: Double, place: String, _ what: String) throws(SourceError) {
        guard !v.isFinite || abs(v) <= Double(NumberLimits.maxCount) else {
            throw .malformed(place: place, detail: "\(what): value out of range: \(v) (sample values must be within ±\(NumberLimits.maxCount))")
        }
    }

    static func labels(_ v: JSONValue?) -> [String: String] {
        var out: [String: String] = [:]
        for (k, val) in v?.objectValue ?? [] { out[k] = val.scalarText ?? "" }
        return out
    }

    /// Prometheus sample values: decimal strings, `NaN`, `+Inf`, `-Inf`.
    static func parseValue(_ v: JSONValue) -> Double? {
        switch v {
        case let .string(s):
            switch s {
            case "NaN": return .nan
            case "+Inf", "Inf": return .infinity
            case "-Inf": return -.infinity
            default: return Double(s)
            }
        case let .number(d): return d
        default: return nil
        }
    }
}
