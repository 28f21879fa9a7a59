import Foundation
import ThreatConfig
import ThreatModel

/// What a source is asked for: one environment over one window.
public struct SourceContext: Sendable {
    public var window: TimeWindow
    public var environment: EnvironmentConfig
    /// `--record DIR` resolved for this environment (`DIR/<environment slug>`): network sources save
    /// every answer under `<that>/<section>/` in the replay layout.
    public var recordDirectory: String?
    /// A folder under each section's recording folder (`previous` for the comparison window), so a
    /// recording holds `<environment>/<section>/previous/` beside the report window's answers.
    public var recordingSubfolder: String?
    /// The run's `--deadline`: network calls and local reads stop when it passes.
    public var deadline: RunDeadline
    /// The run's secrets: sources register the credentials they load, and their clients and
    /// recordings filter through it.
    public var redactor: SecretRedactor
    /// The run's standard input, read once by the front end when an input is `-`.
    public var stdin: StandardInputBytes?
    /// The run's caches, shared by every environment and window.
    public var caches: RunCaches
    public init(window: TimeWindow, environment: EnvironmentConfig, recordDirectory: String? = nil, recordingSubfolder: String? = nil,
                deadline: RunDeadline = .none, redactor: SecretRedactor, stdin: StandardInputBytes? = nil, caches: RunCaches = RunCaches()) {
        self.window = window
        self.environment = environment
        self.recordDirectory = recordDirectory
        self.recordingSubfolder = recordingSubfolder
        self.deadline = deadline
        self.redactor = redactor
        self.stdin = stdin
        self.caches = caches
    }

    /// One environment's context in `run`: the run's deadline, redactor, stdin and caches, and
    /// the environment's recording folder (`DIR/<environment slug>`) when recording.
    public init(run: RunContext, window: TimeWindow, environment: EnvironmentConfig, recordDirectory: String?,
                recordingSubfolder: String? = nil) {
        self.init(window: window, environment: environment, recordDirectory: recordDirectory, recordingSubfolder: recordingSubfolder,
                  deadline: run.deadline, redactor: run.redactor, stdin: run.stdin, caches: run.caches)
    }

    public func recording(_ section: String) -> RecordingFolder? {
        recordDirectory.map { RecordingFolder(path: RecordingFolder.path($0, section: section, subfolder: recordingSubfolder), redactor: redactor) }
    }
}

/// A source's answer: the statistics, what it read or asked (for the evidence appendix), and
/// non-fatal warnings (skipped lines, engine warnings, namespace mismatches).
public struct SourceOutput<Value: Sendable>: Sendable {
    public var value: Value
    public var evidence: [EvidenceItem]
    public var warnings: [String]
    /// Why the answer may be incomplete (the engine said so); the section is then `partial`.
    public var incomplete: [String]
    /// What the source read and used (docs/data-quality.md).
    public var coverage: SourceCoverage?
    public init(value: Value, evidence: [EvidenceItem] = [], warnings: [String] = [], incomplete: [String] = [],
                coverage: SourceCoverage? = nil) {
        self.value = value
        self.evidence = evidence
        self.warnings = warnings
        self.incomplete = incomplete
        self.coverage = coverage
    }
}

extension SourceOutput where Value: Equatable & Codable {
    /// The report section of this answer: `ok`, or `partial` when the engine said it may be
    /// incomplete; with the warnings and the coverage.
    public var section: Section<Value> {
        incomplete.isEmpty ? .ok(value, warnings: warnings, coverage: coverage)
            : Section(status: .partial, value: value, error: incomplete.joined(separator: "; "), warnings: warnings, coverage: coverage)
    }
}

/// Why a source could not answer. The run goes on; the section is marked unavailable with this
/// description, which names the place (file:line:column, URL without credentials) and the cause.
public enum SourceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file or folder could not be read.
    case unreadable(path: String, reason: String)
    /// An answer or file did not have the expected shape.
    case malformed(place: String, detail: String)
    /// The engine answered with an error.
    case engine(place: String, status: Int?, message: String)
    /// The engine could not be reached (connection refused, timeout, TLS).
    case transport(place: String, message: String)
    /// The configuration asks for something this source cannot do.
    case unsupported(String)

    /// What an HTTP status means for the user, in plain words.
    static func hint(_ status: Int) -> String {
        switch status {
        case 401: " (the credentials were refused: check the token, API key or password)"
        case 403: " (the credentials are valid but lack permission for this request)"
        default: ""
        }
    }

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read \(path): \(reason)"
        case let .malformed(place, detail): "\(place): \(detail)"
        case let .engine(place, status, message): "\(place) answered\(status.map { " HTTP \($0)\(SourceError.hint($0))" } ?? ""): \(message)"
        case let .transport(place, message): "\(place): \(message)"
        case let .unsupported(message): message
        }
    }
}

/// A source of WAF statistics (Elasticsearch, raw log files, or a recording).
public protocol WAFSource: Sendable {
    func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<WAFStatistics>
}

/// A source of container-network flow statistics (Prometheus, Hubble flow logs, or a recording).
public protocol FlowSource: Sendable {
    func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<FlowStatistics>
}

/// A source of the deployed network-policy set (Kubernetes API, manifests, or a recording).
public protocol PolicySource: Sendable {
    func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<PolicySet>
}
