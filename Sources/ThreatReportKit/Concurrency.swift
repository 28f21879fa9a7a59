import Foundation
import ThreatModel

/// Runs `body` for 0..<count on at most `width` threads and returns the results in index order,
/// so 100 environments do not open 600 connections at once.
func boundedMap<T: Sendable>(count: Int, width: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    boundedMap(count: count, width: width, until: .distantFuture, body).map { $0! }
}

/// `boundedMap` that stops waiting at `until`: bodies not finished by then give nil (their
/// threads are left to end on their own; the process does not wait for them).
func boundedMap<T: Sendable>(count: Int, width: Int, until: Date, _ body: @escaping @Sendable (Int) -> T) -> [T?] {
    let box = WorkQueue<T>(count)
    let group = DispatchGroup()
    for _ in 0..<max(1, min(width, count)) {
        group.enter()
        let t = Thread {
            while true {
                box.lock.lock()
                let i = box.next
                box.next += 1
                box.lock.unlock()
                if i >= count { break }
                let r = body(i)
                box.lock.lock()
                box.results[i] = r
                box.lock.unlock()
            }
            group.leave()
        }
        t.stackSize = 8 << 20
        t.start()
    }
    if until == .distantFuture {
        group.wait()
    } else {
        _ = group.wait(timeout: .now() + max(0, until.timeIntervalSinceNow))
    }
    box.lock.lock()
    defer { box.lock.unlock() }
    return box.results
}

/// The sections of one environment as they finish, so a run cut off by the deadline keeps them.
final class SectionProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var waf: Section<WAFStatistics>?
    private var flows: Section<FlowStatistics>?
    private var policies: Section<PolicySet>?
    private var gathered: [EvidenceItem] = []

    func set(waf s: Section<WAFStatistics>) { lock.lock(); waf = s; lock.unlock() }
    func set(flows s: Section<FlowStatistics>) { lock.lock(); flows = s; lock.unlock() }
    func set(policies s: Section<PolicySet>) { lock.lock(); policies = s; lock.unlock() }
    func add(evidence e: [EvidenceItem]) { lock.lock(); gathered += e; lock.unlock() }
    func evidence() -> [EvidenceItem] { lock.lock(); defer { lock.unlock() }; return gathered }
    func snapshot() -> (Section<WAFStatistics>?, Section<FlowStatistics>?, Section<PolicySet>?) {
        lock.lock()
        defer { lock.unlock() }
        return (waf, flows, policies)
    }
}

/// Shared state of `boundedMap`: the next index to take and the results, behind one lock.
private final class WorkQueue<T>: @unchecked Sendable {
    let lock = NSLock()
    var next = 0
    var results: [T?]
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
}

extension EvidenceItem {
    /// The evidence of one environment in the report's section order (waf, flows, policies),
    /// whatever order the sections were read in; stable within a section.
    static func inSectionOrder(_ items: [EvidenceItem]) -> [EvidenceItem] {
        let rank = ["waf": 0, "flows": 1, "policies": 2]
        return items.enumerated().sorted { a, b in
            let (ra, rb) = (rank[a.element.section] ?? 3, rank[b.element.section] ?? 3)
            return ra != rb ? ra < rb : a.offset < b.offset
        }.map(\.element)
    }
}
