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
    private let sections = Locked<[String: any Sendable]>([:])
    private let gathered = Locked<[EvidenceItem]>([])

    func set<S: SectionSource>(_: S.Type, _ s: Section<S.Value>) { sections.withLock { $0[S.name] = s } }
    /// The section of `S`, when it finished.
    func section<S: SectionSource>(_: S.Type) -> Section<S.Value>? { sections.withLock { $0[S.name] } as? Section<S.Value> }
    /// The evidence of the sections finished so far.
    func add(evidence e: [EvidenceItem]) { gathered.withLock { $0 += e } }
    func evidence() -> [EvidenceItem] { gathered.current }
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
