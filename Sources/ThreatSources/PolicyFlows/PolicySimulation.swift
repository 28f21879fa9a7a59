import Foundation
import ThreatModel
import ThreatPolicy

/// `policy simulate`: what a policy set would have done to the connections that flow files show.
/// Each new connection (not a reply) is evaluated at the destination's ingress and the source's
/// egress when that end is a pod in scope; the outcome is compared with the verdict Cilium gave.
public struct PolicySimulation: Sendable {
    public let evaluator: PolicyEvaluator
    /// Only ends in this namespace are evaluated; nil = every namespace.
    public let namespace: String?
    /// The most pairs kept; the rest are counted under `otherPairs`.
    public static let pairCap = 10_000

    public struct Pair: Sendable, Equatable {
        public var source: String
        public var destination: String
        public var port: Int?
        public var proto: String
        /// The verdict Cilium gave (the first seen).
        public var observedVerdict: String
        public var flows = 0
        public var wouldAllow: Bool
        /// What decided: the denying or allowing rule (egress first when it denies).
        public var decidedBy: String
        /// `newly_dropped`, `newly_allowed` or `unchanged`.
        public var change: String
    }

    public struct PolicyTally: Sendable, Equatable {
        public var policy: String
        public var allowed = 0
        public var denied = 0
        public var newlyDropped = 0
        public var newlyAllowed = 0
    }

    public private(set) var observed = 0
    public private(set) var newlyDropped = 0
    public private(set) var newlyAllowed = 0
    public private(set) var replies = 0
    /// Flows with no end in scope (another namespace, or no pod at either end).
    public private(set) var outOfScope = 0
    /// Non-reply flows whose verdict is neither allowed nor a policy drop (other drop reasons,
    /// TRACED, TRANSLATED…): evaluated, not compared.
    public private(set) var notCompared = 0
    public private(set) var otherPairs = 0
    /// Rule parts the engine could not decide, once each (`spec.egress[0]: toServices …`).
    public private(set) var unresolved: [String] = []
    private var pairs: [String: Pair] = [:]
    private var pairOrder: [String] = []
    private var policies: [String: PolicyTally] = [:]
    private var podNames: [String: String?] = [:]
    private var verdicts: SimulationVerdictCache

    public init(evaluator: PolicyEvaluator, namespace: String?) {
        self.evaluator = evaluator
        self.namespace = namespace
        verdicts = SimulationVerdictCache(evaluator: evaluator)
    }

    /// Whether a rule matches addresses: then every address of a flow may decide
    /// (`HubbleConnectionReader.readDistinct(allAddresses:)`).
    public var readsAddresses: Bool { verdicts.keepsAddresses }

    func inScope(_ e: PolicyEndpoint) -> Bool { e.isPod && (namespace == nil || e.namespace == namespace) }

    public mutating func add(_ f: ObservedFlow) { add(f, count: 1) }

    /// `n` flows of one connection (`f` but for its time): the same as adding each of them.
    public mutating func add(_ f: ObservedFlow, count n: Int) {
        if f.isReply == true {
            replies += n
            return
        }
        let c = f.connection
        let checkEgress = inScope(c.source), checkIngress = inScope(c.destination)
        guard checkEgress || checkIngress else {
            outOfScope += n
            return
        }
        observed += n
        let egress = checkEgress ? verdicts.verdict(c, direction: .egress) : nil
        let ingress = checkIngress ? verdicts.verdict(c, direction: .ingress) : nil
        let wouldAllow = (egress?.allowed ?? true) && (ingress?.allowed ?? true)
        for u in (egress?.unresolved ?? []) + (ingress?.unresolved ?? []) where unresolved.count < 50 && !unresolved.contains(u) {
            unresolved.append(u)
        }
        var change = "unchanged"
        if f.wasAllowed && !wouldAllow {
            newlyDropped += n
            change = "newly_dropped"
        } else if f.droppedByPolicy && wouldAllow {
            newlyAllowed += n
            change = "newly_allowed"
        } else if !f.wasAllowed && !f.droppedByPolicy {
            notCompared += n
        }
        // The deciding end: a denying one, else the one a rule allowed.
        var decidedBy = "no policy selects either end"
        if let e = egress, !e.allowed {
            decidedBy = "egress: " + e.summary
        } else if let i = ingress, !i.allowed {
            decidedBy = "ingress: " + i.summary
        } else if let e = egress, !e.deciding.isEmpty {
            decidedBy = "egress: " + e.summary
        } else if let i = ingress, !i.deciding.isEmpty {
            decidedBy = "ingress: " + i.summary
        }
        for d in [egress, ingress].compactMap({ $0 }) {
            for r in d.deciding {
                var t = policies[r.policy] ?? PolicyTally(policy: r.policy)
                if d.allowed { t.allowed += n } else { t.denied += n }
                if change == "newly_dropped" && !d.allowed { t.newlyDropped += n }
                if change == "newly_allowed" && d.allowed { t.newlyAllowed += n }
                policies[r.policy] = t
            }
        }
        let src = display(c.source, pod: f.sourcePod, workload: f.sourceWorkload)
        let dst = display(c.destination, pod: f.destinationPod, workload: f.destinationWorkload)
        let key = "\(src)\u{1}\(dst)\u{1}\(c.port ?? -1)\u{1}\(c.protocolName)\u{1}\(f.verdict)"
        if var p = pairs[key] {
            p.flows += n
            pairs[key] = p
        } else if pairs.count < PolicySimulation.pairCap {
            pairs[key] = Pair(source: src, destination: dst, port: c.port, proto: c.protocolName, observedVerdict: f.verdict, flows: n,
                              wouldAllow: wouldAllow, decidedBy: decidedBy, change: change)
            pairOrder.append(key)
        } else {
            otherPairs += n
        }
    }

    /// `WorkloadIdentity.display`, with the pod-name part kept for the pods seen (the same pods
    /// come flow after flow; the memo starts over past 4,096 pods).
    private mutating func display(_ e: PolicyEndpoint, pod: String?, workload: String?) -> String {
        guard e.namespace != nil, workload?.isEmpty ?? true, let pod, !pod.isEmpty else {
            return WorkloadIdentity.display(e, pod: pod, workload: workload)
        }
        let name: String?
        if let known = podNames[pod] {
            name = known
        } else {
            name = WorkloadIdentity.name(pod: pod, workload: nil)
            if podNames.count >= 4096 { podNames.removeAll(keepingCapacity: true) }
            podNames[pod] = .some(name)
        }
        return WorkloadIdentity.display(e, pod: pod, workload: name)
    }

    /// Pairs, changed ones first, then by flows.
    public var byPair: [Pair] {
        let rank = ["newly_dropped": 0, "newly_allowed": 1, "unchanged": 2]
        return pairOrder.compactMap { pairs[$0] }.sorted {
            (rank[$0.change] ?? 3, -$0.flows, $0.source, $0.destination) < (rank[$1.change] ?? 3, -$1.flows, $1.source, $1.destination)
        }
    }

    /// Policies by the flows they decided.
    public var byPolicy: [PolicyTally] {
        policies.values.sorted { ($0.allowed + $0.denied, $0.policy) > ($1.allowed + $1.denied, $1.policy) }
    }
}
