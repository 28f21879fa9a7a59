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
    let next = Locked(0)
    let results: Locked<[T?]> = .slots(count)
    let group = DispatchGroup()
    for _ in 0..<max(1, min(width, count)) {
        group.enter()
        let t = Thread {
            while true {
                let i = next.withLock { n in defer { n += 1 }; return n }
                if i >= count { break }
                results.set(i, body(i))
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
    return results.current
}

/// The sections of one environment as they finish, so a run cut off by the deadline keeps them.
final class SectionProgress: Sendable {
    private let sections = Locked<(Section<WAFStatistics>?, Section<FlowStatistics>?, Section<PolicySet>?)>((nil, nil, nil))

    func set(waf s: Section<WAFStatistics>) { sections.withLock { $0.0 = s } }
    func set(flows s: Section<FlowStatistics>) { sections.withLock { $0.1 = s } }
    func set(policies s: Section<PolicySet>) { sections.withLock { $0.2 = s } }
    func snapshot() -> (Section<WAFStatistics>?, Section<FlowStatistics>?, Section<PolicySet>?) { sections.current }
}
