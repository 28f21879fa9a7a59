import Foundation
import ThreatAnalysis
import ThreatModel
@testable import ThreatRender

// Shared by the SARIF, JUnit, Code Quality and PDF tests: a report shaped like the sample
// (production with four warnings, staging clean) plus two environments that show the section
// states (not configured, unavailable), and helpers that check output with independent tools.

let ciWindow = TimeWindow(from: RFC3339.parse("2026-11-19T00:00:00Z")!, to: RFC3339.parse("2026-11-20T00:00:00Z")!, interval: .hour)

func hourly(_ values: [Int]) -> [SeriesPoint<Int>] {
    values.enumerated().map { SeriesPoint(ciWindow.from.addingTimeInterval(Double($0.offset * 3600)), $0.element) }
}

func policy(_ name: String, kind: PolicyKind = .ciliumNetworkPolicy, enabled: Bool = true, valid: Bool = true, origin: String) -> PolicyItem {
    PolicyItem(kind: kind, kindText: kind.rawValue, name: name, namespace: "shop-production", enabled: enabled, valid: valid,
               problems: valid ? [] : [PolicyProblem("YAML syntax error", location: origin + ":9")],
               description: ["Allows ingress from the ingress controller"], rules: PolicyRuleCounts(ingress: 1, egress: 1),
               manifest: "kind: \(kind.rawValue)\n", origin: origin)
}

/// `value`, `threshold` and the environment's figures vary with `scale`; ids, environments and
/// subjects do not, so fingerprints must not change with it.
func ciReport(scale: Double = 1, generatedAt: Date? = nil) -> Report {
    let total = Array(repeating: 1000, count: 24)
    let anomalous = (0..<24).map { $0 == 14 ? Int(1500 * scale) : 30 }
    let production = EnvironmentReport(
        name: "production", namespace: "shop-production", hosts: ["shop.example.com"], thresholds: .defaults,
        waf: .ok(WAFStatistics(totalRequests: total.reduce(0, +), anomalousRequests: anomalous.reduce(0, +),
                               totalHistory: hourly(total), anomalousHistory: hourly(anomalous),
                               topRules: [RankedCount(key: "942100", count: 900, label: "SQL Injection Attack Detected via libinjection")])),
        flows: .ok(FlowStatistics(counts: FlowCounts(forwarded: 8300, dropped: 1700), inbound: FlowCounts(forwarded: 5000, dropped: 1500),
                                  outbound: FlowCounts(forwarded: 3300, dropped: 200),
                                  forwardedRate: (0..<24).map { SeriesPoint(ciWindow.from.addingTimeInterval(Double($0 * 3600)), 2.3) },
                                  droppedRate: (0..<24).map { SeriesPoint(ciWindow.from.addingTimeInterval(Double($0 * 3600)), $0 == 14 ? 4.0 : 0.3) })),
        policies: .ok(PolicySet(items: [
            policy("drop-outbound", enabled: false, origin: "samples/production/policies/predefined.yaml:3"),
            policy("web-allow-ingress", origin: "samples/production/policies/web.yaml:2"),
            policy("worker-deny-ingress", kind: .networkPolicy, valid: false, origin: "samples/production/policies/worker.yaml:2"),
        ])))
    let staging = EnvironmentReport(
        name: "staging", namespace: "shop-staging", thresholds: .defaults,
        waf: .ok(WAFStatistics(totalRequests: 24000, anomalousRequests: 20, totalHistory: hourly(total), anomalousHistory: hourly(Array(repeating: 1, count: 24)))),
        flows: .ok(FlowStatistics(counts: FlowCounts(forwarded: 5000, dropped: 10), inbound: FlowCounts(forwarded: 2500, dropped: 10),
                                  outbound: FlowCounts(forwarded: 2500, dropped: 0))),
        policies: .ok(PolicySet(items: [policy("web-egress", origin: "/apis/cilium.io/v2/namespaces/shop-staging/ciliumnetworkpolicies/web-egress")])))
    let bare = EnvironmentReport(name: "bare", namespace: "bare", thresholds: .defaults,
                                 waf: .notConfigured, flows: .unavailable("cannot read recordings/missing/totals.json: no such file"),
                                 policies: .notConfigured)
    let ratio = anomalous.reduce(0, +)
    let findings = [
        Finding(id: "flows.dropped_ratio", severity: .warning, environment: "production", title: "Dropped flows at 17% of traffic",
                value: 0.17 * scale, threshold: 0.05, guidance: "Examine the Cilium logs: list the drops with `hubble observe --namespace shop-production --verdict DROPPED --since 24h`."),
        Finding(id: "policies.disabled", severity: .warning, environment: "production", title: "Policy drop-outbound is deployed but not enforced",
                guidance: "Review it with `threat-report policy explain`.", subject: "drop-outbound"),
        Finding(id: "policies.invalid", severity: .warning, environment: "production", title: "Policy worker-deny-ingress is not valid",
                guidance: "Fix the manifest at samples/production/policies/worker.yaml:2.", subject: "worker-deny-ingress"),
        Finding(id: "waf.anomalous_ratio", severity: .warning, environment: "production",
                title: "Anomalous requests at \(Percent.whole(Double(ratio) / 24000)) of traffic",
                value: Double(ratio) / 24000, threshold: 0.05, guidance: "Examine the WAF logs: `kubectl -n gitlab-managed-apps logs -l app=nginx-ingress`."),
    ]
    return Report(title: "Shop threat report", toolVersion: "0.1.0", generatedAt: generatedAt ?? ciWindow.to, window: ciWindow,
                  timezone: "UTC", environments: [production, staging, bare], findings: findings)
}

/// The descriptions of the checks the analysis runs, as the pipeline passes them to the renderers.
let catalogue = Checks.descriptions

let ciConfig = ConfigReference(path: "samples/threat-report.yml", environmentLines: ["production": 16, "staging": 25, "bare": 34])

func ciContext(_ report: Report = ciReport(), failOn: Severity? = nil, charts: Bool = false) throws -> RenderContext {
    RenderContext(report: report, charts: charts ? try ReportCharts.build(report) : [], templates: .defaults, checks: catalogue, failOn: failOn,
                  config: ciConfig)
}

func renderText(_ r: any ReportRenderer, _ context: RenderContext) throws -> String {
    String(decoding: try r.render(context)[0].bytes, as: UTF8.self)
}

/// The repository root (tests never read /work/shared: the fixtures are copied under Tests/Fixtures).
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

struct ToolRun {
    var code: Int32
    var stdout: String
    var stderr: String
}

/// Runs a tool found on PATH (python3, pdfinfo, pdftotext, pdftoppm).
func tool(_ name: String, _ args: [String]) throws -> ToolRun {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = [name] + args
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    nonisolated(unsafe) var errData = Data()
    let t = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    t.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !t.isFinished { usleep(1000) }
    return ToolRun(code: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

func writeTemp(_ name: String, _ bytes: [UInt8]) throws -> String {
    let dir = NSTemporaryDirectory() + "tr-fmt-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let path = dir + "/" + name
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// Validates a SARIF file against the official SARIF 2.1.0 schema (draft-04) with Python's
/// `jsonschema`; returns the validator's messages, empty when valid.
func sarifSchemaErrors(_ sarifPath: String) throws -> [String] {
    let schema = repoRoot + "/Tests/Fixtures/sarif/sarif-schema-2.1.0.json"
    let script = """
    import json, sys
    import jsonschema
    schema = json.load(open(sys.argv[1]))
    doc = json.load(open(sys.argv[2]))
    v = jsonschema.Draft4Validator(schema)
    errs = sorted(v.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errs: print("/".join(map(str, e.absolute_path)) + ": " + e.message)
    sys.exit(1 if errs else 0)
    """
    let r = try tool(pythonWithJSONSchema, ["-c", script, schema, sarifPath])
    if r.code != 0, r.stdout.isEmpty { return ["python3 with jsonschema failed (install python3-jsonschema): \(r.stderr)"] }
    return r.stdout.split(separator: "\n").map(String.init)
}

/// The first Python that has `jsonschema`: the one on PATH (pyenv, venv), else Debian's, where
/// `scripts/install-deps.sh test` installs python3-jsonschema.
let pythonWithJSONSchema: String = {
    for candidate in ["python3", "/usr/bin/python3"] where (try? tool(candidate, ["-c", "import jsonschema"]))?.code == 0 {
        return candidate
    }
    return "python3"
}()
