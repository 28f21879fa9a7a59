import Foundation

/// The overall deadline of a run (`--deadline`), shared by every network call: no attempt, retry
/// or backoff sleep runs past it, so a hanging engine cannot hold a nightly job beyond its budget.
public enum RunDeadline {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var instant: Date?
    nonisolated(unsafe) private static var text = ""

    /// Sets the deadline `seconds` from now; `label` is how the user wrote it ("30s", "10m").
    public static func start(seconds: Double, label: String, now: Date = Date()) {
        lock.lock()
        defer { lock.unlock() }
        instant = now.addingTimeInterval(seconds)
        text = label
    }

    public static func clear() {
        lock.lock()
        defer { lock.unlock() }
        instant = nil
    }

    /// Seconds left, or nil when no deadline is set.
    public static func remaining(now: Date = Date()) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        return instant.map { $0.timeIntervalSince(now) }
    }

    public static var passed: Bool { (remaining() ?? 1) <= 0 }

    /// The plain cause shown for a section the deadline cut off.
    public static var cause: String {
        lock.lock()
        defer { lock.unlock() }
        return "deadline of \(text) passed (--deadline); the source did not finish in time"
    }
}
