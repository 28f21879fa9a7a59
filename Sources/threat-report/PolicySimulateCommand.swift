import ArgumentParser
import Foundation
import ThreatModel
import ThreatPolicy
import ThreatRender
import ThreatSources

/// `threat-report policy simulate`: what a policy set would do to the traffic flow files show.
struct PolicySimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Replay observed Hubble flows against a set of network policies: what would they break, what would they open?",
        discussion: """
        Each new connection (is_reply false) of the flow files (hubble observe -o json, plain or .gz) is evaluated at \
        the destination's ingress and the source's egress, where that end is a pod (of --namespace when given). \
        newly_dropped counts flows Cilium let through (FORWARDED, REDIRECTED, AUDIT) that the policies would deny; \
        newly_allowed counts flows Cilium dropped for a policy that the policies would allow. Lines that are not flows \
        are counted and named (file:line). Exit codes: 0 done; 2 unreadable input or usage error.
        """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(name: .long, help: ArgumentHelp("Policy manifest file or folder (YAML or JSON), or - for stdin.", valueName: "path"))
    var policies: String

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Flow files from hubble observe -o json (plain or .gz; globs allowed).", valueName: "file"))
    var flows: [String]

    @Option(name: .long, help: ArgumentHelp("Evaluate only the ends in this namespace; also the namespace of policies that name none.", valueName: "namespace"))
    var namespace: String?

    @Option(name: .long, help: ArgumentHelp("Output format: text or json.", valueName: "format"))
    var output: Format = .text

    @Option(name: .long, help: ArgumentHelp("Pairs listed in the text table (all are in the JSON).", valueName: "n"))
    var top = 30

    func validate() throws {
        if flows.isEmpty { throw ValidationError("--flows: give at least one flow file") }
        if top < 0 { throw ValidationError("--top must be 0 or more") }
    }

    func run() throws {
        let set: PolicyModelFiles
        do { set = try PolicyModelFiles.load(policies) } catch { throw PolicyInput.fail("--policies: \(error.description)") }
        for p in set.problems { PolicyInput.note("note: \(p)") }
        if set.models.isEmpty { PolicyInput.note("note: no valid network policy in \(policies): every connection is allowed") }
        if namespace == nil {
            for m in set.models where !m.isClusterwide && m.namespace == nil {
                PolicyInput.note("note: \(m.kind.rawValue) \(m.name) has no metadata.namespace and selects no pod; pass --namespace NS to apply it there")
            }
        }
        var sim = PolicySimulation(evaluator: PolicyEvaluator(policies: set.models, defaultNamespace: namespace), namespace: namespace)
        let cover: FlowReadCoverage
        do {
            cover = try HubbleConnectionReader.readDistinct(flows, for: .simulate(allAddresses: sim.readsAddresses)) { sim.add($0, count: $1.flows) }
        } catch { throw PolicyInput.fail("--flows: \(error.description)") }
        for w in cover.warnings { PolicyInput.note("warning: \(w)") }
        for u in sim.unresolved { PolicyInput.note("note: not decided from flows, taken as not matching: \(u)") }
        switch output {
        case .json: PolicyInput.write(Self.json(sim, cover, policies: set.models.count).serialized(pretty: true) + "\n")
        case .text: PolicyInput.write(Self.text(sim, cover, policies: set.models.count, top: top))
        }
    }

    static func json(_ s: PolicySimulation, _ c: FlowReadCoverage, policies: Int) -> JSONValue {
        func n(_ i: Int) -> JSONValue { .number(Double(i)) }
        return .object([
            ("observed", n(s.observed)), ("newly_dropped", n(s.newlyDropped)), ("newly_allowed", n(s.newlyAllowed)),
            ("by_pair", .array(s.byPair.map { p in
                .object([("source", .string(p.source)), ("destination", .string(p.destination)),
                         ("port", p.port.map(n) ?? .null), ("protocol", .string(p.proto)),
                         ("observed_verdict", .string(p.observedVerdict)), ("flows", n(p.flows)),
                         ("simulated", .string(p.wouldAllow ? "allowed" : "denied")), ("change", .string(p.change)),
                         ("decided_by", .string(p.decidedBy))])
            })),
            ("by_policy", .array(s.byPolicy.map { t in
                .object([("policy", .string(t.policy)), ("allowed", n(t.allowed)), ("denied", n(t.denied)),
                         ("newly_dropped", n(t.newlyDropped)), ("newly_allowed", n(t.newlyAllowed))])
            })),
            ("policies", n(policies)), ("replies_skipped", n(s.replies)), ("out_of_scope", n(s.outOfScope)),
            ("not_compared", n(s.notCompared)), ("other_pairs", n(s.otherPairs)),
            ("unresolved", .array(s.unresolved.map { .string($0) })),
            ("input", .object([("files", n(c.files)), ("lines", n(c.lines)), ("flows", n(c.flows)),
                               ("skipped", n(c.skipped)), ("too_long", n(c.tooLong)), ("without_l4", n(c.withoutL4)),
                               ("skipped_at", .array(c.skipPlaces.map { .string($0) })),
                               ("warnings", .array(c.warnings.map { .string($0) }))])),
        ])
    }

    static func text(_ s: PolicySimulation, _ c: FlowReadCoverage, policies: Int, top: Int) -> String {
        let clean = { (t: String) in Sanitize.text(t, max: 200) }
        var out = ["Simulated \(policies) polic\(policies == 1 ? "y" : "ies") over \(s.observed) new connection flow(s) "
            + "(\(c.flows) flows read from \(c.files) file(s); \(s.replies) replies and \(s.outOfScope) out of scope skipped).",
                   "Newly dropped: \(s.newlyDropped) (allowed today, denied by these policies)",
                   "Newly allowed: \(s.newlyAllowed) (dropped by a policy today, allowed by these)"]
        if !c.warnings.isEmpty { out.append("Input: " + c.warnings.joined(separator: "; ")) }
        out.append("")
        let rows = s.byPair.prefix(top).map { p in
            [p.change == "unchanged" ? "" : p.change.replacingOccurrences(of: "_", with: " "), clean(p.source), clean(p.destination),
             (p.port.map(String.init) ?? "-") + "/" + p.proto, p.observedVerdict, p.wouldAllow ? "allowed" : "denied", String(p.flows),
             clean(p.decidedBy)]
        }
        out.append(table(["change", "source", "destination", "port", "observed", "simulated", "flows", "decided by"], rows))
        if s.byPair.count > top { out.append("… \(s.byPair.count - top) more pair(s); --output json lists them all.") }
        if !s.byPolicy.isEmpty {
            out.append("")
            out.append(table(["policy", "allowed", "denied", "newly dropped", "newly allowed"],
                             s.byPolicy.map { [clean($0.policy), String($0.allowed), String($0.denied), String($0.newlyDropped), String($0.newlyAllowed)] }))
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// Columns padded to their widest cell.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var width = header.map(\.count)
        for r in rows { for (i, cell) in r.enumerated() { width[i] = max(width[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : cell.padding(toLength: width[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([line(header), line(width.map { String(repeating: "-", count: $0) })] + rows.map(line)).joined(separator: "\n")
    }
}
