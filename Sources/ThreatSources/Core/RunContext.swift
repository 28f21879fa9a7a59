import Foundation
import ThreatModel

/// Where a run reads the time from: the system clock, or a test's planted clock. The deadline
/// (`RunDeadline`) and the run's `now` are read through it, so a test can make the deadline pass
/// at a chosen point of the run instead of waiting for the wall clock.
public struct RunClock: Sendable {
    public var now: @Sendable () -> Date
    public init(_ now: @escaping @Sendable () -> Date) { self.now = now }
    /// The system clock.
    public static let system = RunClock { Date() }
}

/// Standard input as the run read it: the bytes, or why they could not be read (a stdin that did
/// not close before the deadline, one past the document limit).
public typealias StandardInputBytes = Result<[UInt8], SourceError>

/// Everything one run holds, handed down explicitly (never a process global): its deadline and
/// clock, its secret redactor, the bytes of standard input (read once by the front end when an
/// input is `-`), where it records to or replays from, and the answers it asks only once.
/// Each source sees it through its `SourceContext`.
public struct RunContext: Sendable {
    public var deadline: RunDeadline
    public var clock: RunClock
    /// The run's start: relative windows (`--window 24h`) end here unless `--to` says otherwise.
    public var now: Date
    /// `SOURCE_DATE_EPOCH`: fixes `generated_at` for reproducible output.
    public var sourceDateEpoch: Date?
    /// The report's `generated_at`: `SOURCE_DATE_EPOCH` when set, else the run's start.
    public var generatedAt: Date { sourceDateEpoch ?? now }
    public var redactor: SecretRedactor
    /// stdin, read once when an input is `-` (`--policies -`, `directory: "-"`), or the recorded
    /// stdin of a replayed run; nil when no input is stdin.
    public var stdin: StandardInputBytes?
    /// `--record DIR`: every engine answer is saved under it (RunRecording).
    public var recordDirectory: String?
    /// `--replay DIR`: the answers are read from a recorded run.
    public var replayDirectory: String?
    /// Per-run caches (one `_field_caps` per index pattern, shared by environments and windows).
    public var caches: RunCaches

    public init(deadline: RunDeadline = .none, clock: RunClock = .system, now: Date? = nil, sourceDateEpoch: Date? = nil,
                redactor: SecretRedactor = SecretRedactor(),
                stdin: StandardInputBytes? = nil, recordDirectory: String? = nil, replayDirectory: String? = nil,
                caches: RunCaches = RunCaches()) {
        self.deadline = deadline
        self.clock = clock
        self.now = now ?? clock.now()
        self.sourceDateEpoch = sourceDateEpoch
        self.redactor = redactor
        self.stdin = stdin
        self.recordDirectory = recordDirectory
        self.replayDirectory = replayDirectory
        self.caches = caches
    }
}

/// An engine answer as a source received it: kept in a run's cache and handed to every
/// environment and window that asks the same question.
public struct EngineAnswer: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// Where it came from, without credentials (for messages and evidence).
    public var place: String
    public var request: RecordedRequest
    public init(status: Int, body: [UInt8], place: String, request: RecordedRequest) {
        self.status = status
        self.body = body
        self.place = place
        self.request = request
    }
}

/// What a run asks only once, whatever the number of environments and windows.
public final class RunCaches: Sendable {
    /// Engine answers that do not depend on the environment or the window (the Elasticsearch
    /// `_field_caps` and field mapping of an index pattern), keyed by engine, credentials and request.
    public let engineAnswers = OnceCache<Result<EngineAnswer, SourceError>>()
    /// The WAF log files' previous-window answers, counted in the report window's pass.
    let previousWindowAnswers = PreviousWindowAnswers()
    public init() {}
}

/// A value made once per key and shared: the first caller of a key makes it while later callers of
/// that key wait for it; callers of other keys do not wait.
public final class OnceCache<Value: Sendable>: Sendable {
    private let cells = Locked<[String: Locked<Value?>]>([:])
    public init() {}

    /// The value for `key`, made by `make` if no caller made it before; `made` says whether this
    /// call made it.
    public func value(_ key: String, _ make: () -> Value) -> (value: Value, made: Bool) {
        let cell = cells.withLock { d in
            if let c = d[key] { return c }
            let c = Locked<Value?>(nil)
            d[key] = c
            return c
        }
        return cell.withLock { v in
            if let v { return (v, false) }
            let made = make()
            v = made
            return (made, true)
        }
    }

    /// How many keys were asked (each made once).
    public var count: Int { cells.withLock { $0.count } }
}
