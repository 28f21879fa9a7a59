import Foundation

/// Runs `body` for 0..<count on at most `width` threads and returns the results in index order,
/// so 100 environments do not open 600 connections at once.
func boundedMap<T: Sendable>(count: Int, width: Int, _ body: @escaping @Sendable (Int) -> T) -> [T] {
    let box = WorkQueue<T>(count)
    let group = DispatchGroup()
    let workers = max(1, min(width, count))
    for _ in 0..<workers {
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
    group.wait()
    return box.results.map { $0! }
}

/// Shared state of `boundedMap`: the next index to take and the results, behind one lock.
private final class WorkQueue<T>: @unchecked Sendable {
    let lock = NSLock()
    var next = 0
    var results: [T?]
    init(_ n: Int) { results = Array(repeating: nil, count: n) }
}
