import Foundation
import Logging
import Testing
import ThreatModel
@testable import ThreatReportKit

/// Records what reaches the wrapped handler.
final class RecordingLogHandler: LogHandler, @unchecked Sendable {
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    var events: [(message: String, metadata: Logger.Metadata?)] = []
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { events.append((event.message.description, event.metadata)) }
}

@Suite("Terminal-safe log handler")
struct TerminalSafeLogHandlerTests {
    @Test("Messages and metadata lose escape sequences, C1 controls and bidi overrides; the level passes through")
    func cleans() {
        let recorder = RecordingLogHandler()
        var logger = Logger(label: "t") { _ in TerminalSafeLogHandler(wrapping: recorder, redactor: SecretRedactor()) }
        logger.logLevel = .info
        logger.warning("env \u{1B}[2Jprod\u{202E} ok\u{9B}31m", metadata: ["k\u{7}": "v\u{1B}]8;;x\u{7}", "list": ["a\u{2066}"]])
        logger.debug("not shown")
        #expect(recorder.events.count == 1)
        #expect(recorder.events[0].message == "env  [2Jprod ok31m")
        let m = recorder.events[0].metadata ?? [:]
        #expect(m["k "]?.description == "v ]8;;x ")
        #expect(m["list"]?.description == #"["a"]"#)
        #expect(recorder.logLevel == .info)
    }

    @Test("Secrets registered with the run's redactor are replaced in messages and metadata, even after the handler was made")
    func redactsSecrets() {
        let recorder = RecordingLogHandler()
        let redactor = SecretRedactor()
        let logger = Logger(label: "t") { _ in TerminalSafeLogHandler(wrapping: recorder, redactor: redactor) }
        redactor.register("tr-log-canary-0d1e2f")
        logger.error("answered 401: Bearer tr-log-canary-0d1e2f", metadata: ["cause": "tr-log-canary-0d1e2f"])
        #expect(recorder.events.count == 1)
        #expect(recorder.events[0].message == "answered 401: Bearer [REDACTED]")
        #expect(recorder.events[0].metadata?["cause"]?.description == "[REDACTED]")
    }
}
