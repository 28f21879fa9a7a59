import Logging
import ThreatModel
import ThreatRender

/// A log handler that filters every message and metadata value through the run's redactor, then
/// cleans it with `Sanitize.text`, before the wrapped handler prints it: log lines quote
/// environment names, file paths and answers from the sources, and none of them may reach a
/// terminal with a secret the run loaded, escape sequences, other control characters or bidi
/// overrides.
public struct TerminalSafeLogHandler: LogHandler {
    public var wrapped: any LogHandler
    public let redactor: SecretRedactor

    public init(wrapping handler: any LogHandler, redactor: SecretRedactor) {
        wrapped = handler
        self.redactor = redactor
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var e = event
        e.message = "\(Sanitize.text(redactor.redact(event.message.description), max: 4000))"
        e.metadata = event.metadata.map { clean($0) }
        wrapped.log(event: e)
    }

    func clean(_ m: Logger.Metadata) -> Logger.Metadata {
        var out: Logger.Metadata = [:]
        for (k, v) in m { out[Sanitize.text(redactor.redact(k), max: 200)] = clean(v) }
        return out
    }

    func clean(_ v: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch v {
        case .string(let s): .string(Sanitize.text(redactor.redact(s), max: 4000))
        case .stringConvertible(let c): .string(Sanitize.text(redactor.redact(c.description), max: 4000))
        case .array(let a): .array(a.map(clean))
        case .dictionary(let d): .dictionary(clean(d))
        }
    }
}
