import Foundation

/// A value behind a lock: the one shared box for the few places where worker threads
/// (`concurrentPerform`, the bounded environment map) hand results back, in the manner of
/// swift-format's `ThreadSafeBox`. Every access goes through `withLock`, so the value is never
/// read or written unguarded.
public final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    /// A copy of the value as it is now.
    public var current: Value { withLock { $0 } }
}

extension Locked {
    /// One slot per task of a parallel loop, filled in any order and read back in task order.
    public static func slots<T>(_ count: Int) -> Locked<[T?]> where Value == [T?] {
        Locked<[T?]>(Array(repeating: nil, count: count))
    }

    public func set<T>(_ i: Int, _ v: T) where Value == [T?] { withLock { $0[i] = v } }
}
