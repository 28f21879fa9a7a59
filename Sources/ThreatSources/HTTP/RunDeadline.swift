import Foundation

/// The overall deadline of a run (`--deadline`): an instant and how the user wrote it. It is a
/// value handed to every source in its `SourceContext` (and to the output writer), never a
/// process global: no network attempt, retry or backoff sleep, no local read (files, folders,
/// FIFOs, stdin, recordings) and no wait for the output lock runs past it, so neither a hanging
/// engine nor a hostile file can hold a nightly job beyond its budget.
public struct RunDeadline: Sendable, Equatable {
    /// nil: no deadline (the `policy` commands, library callers that set none).
    public var instant: Date?
    /// How the user wrote it ("30s", "10m").
    public var label: String
    /// The run's clock (the system clock unless a test planted one): `passed` and `remaining` read it.
    public var clock: RunClock

    public init(instant: Date?, label: String, clock: RunClock = .system) {
        self.instant = instant
        self.label = label
        self.clock = clock
    }

    /// `seconds` from `now` (default: the clock's time); `label` is how the user wrote it.
    public init(seconds: Double, label: String, now: Date? = nil, clock: RunClock = .system) {
        self.init(instant: (now ?? clock.now()).addingTimeInterval(seconds), label: label, clock: clock)
    }

    public static func == (a: RunDeadline, b: RunDeadline) -> Bool { a.instant == b.instant && a.label == b.label }

    /// No deadline.
    public static let none = RunDeadline(instant: nil, label: "")

    /// Seconds left, or nil when no deadline is set.
    public func remaining(now: Date? = nil) -> Double? {
        instant.map { $0.timeIntervalSince(now ?? clock.now()) }
    }

    public var passed: Bool { (remaining() ?? 1) <= 0 }

    /// The plain cause shown for a section the deadline cut off.
    public var cause: String {
        "deadline of \(label) passed (--deadline); the source did not finish in time"
    }

    /// The cause for a piece of work the deadline stopped: "deadline of 30s passed (--deadline)
    /// while reading stdin".
    public func cause(while doing: String) -> String {
        "deadline of \(label) passed (--deadline) while \(doing)"
    }

    /// Milliseconds a `poll` may wait: what is left (at most `cap`), 0 once passed, -1 (forever)
    /// without a deadline.
    public func pollMilliseconds(cap: Double = 1) -> Int32 {
        guard let left = remaining() else { return -1 }
        return Int32(max(0, min(left, cap)) * 1000)
    }
}
