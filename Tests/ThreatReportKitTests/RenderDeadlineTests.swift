import Foundation
import Logging
import Testing
import ThreatModel
import ThreatSources
@testable import ThreatReportKit

/// A clock the test moves: the run reads its time (and its deadline) through it.
final class PlantedClock: Sendable {
    let offset = Locked<TimeInterval>(0)
    var clock: RunClock { RunClock { [offset] in Date().addingTimeInterval(offset.current) } }
}

/// A log handler that keeps the run's messages and moves the planted clock when the run says it
/// reached a point (`at`), so the deadline passes exactly there.
struct ClockMovingLogHandler: LogHandler {
    let messages: Locked<[String]>
    let at: @Sendable (String) -> Bool
    let clock: PlantedClock
    let jump: TimeInterval
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String,
             function: String, line: UInt) {
        let text = message.description
        messages.withLock { $0.append(text) }
        if at(text) { clock.offset.withLock { $0 = jump } }
    }
}

@Suite("Rendering bounded by --deadline (planted clock)")
struct RenderDeadlineTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func run(formats: [String], out: String, at: @escaping @Sendable (String) -> Bool, jump: TimeInterval) -> (RunResult, [String]) {
        let clock = PlantedClock()
        let messages = Locked<[String]>([])
        let logger = Logger(label: "render-deadline") { _ in ClockMovingLogHandler(messages: messages, at: at, clock: clock, jump: jump) }
        var o = RunOptions(configPath: Self.repo + "/samples/threat-report.yml")
        o.formats = formats
        o.outputDirectory = out
        o.deadline = "10m"
        o.clock = clock.clock
        o.sourceDateEpoch = Date(timeIntervalSince1970: 1_795_132_800)
        return (ReportPipeline.run(o, logger: logger), messages.current)
    }

    @Test("Deadline passing while the charts are drawn: report.json written, html, md and pdf left out and named, exit 3, their old files removed, SHA256SUMS matches the folder")
    func deadlineDuringChartsWritesWhatIsDone() throws {
        let out = tempDir("render-deadline")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try "an older report".write(toFile: out + "/report.html", atomically: true, encoding: .utf8)
        try "mine".write(toFile: out + "/notes.txt", atomically: true, encoding: .utf8)
        let (r, log) = run(formats: ["html", "md", "json", "pdf"], out: out, at: { $0 == "drawing charts" }, jump: 3600)
        // The deadline fired in the render stage, not while reading: every section was read.
        let report = try #require(r.report)
        #expect(!report.isPartial)
        #expect(r.exitCode == ExitCode.partial, "\(r.message)")
        #expect(r.message.contains("deadline of 10m passed (--deadline) while rendering the report, not written: html, md, pdf"), "\(r.message)")
        #expect(log.contains("deadline of 10m passed (--deadline) while rendering the report: not rendered: html, md, pdf"), "\(log)")
        let fm = FileManager.default
        // The suggested policies are written with every report, as the WAF exclusion files are.
        #expect(try fm.contentsOfDirectory(atPath: out).sorted() == ["SHA256SUMS", "notes.txt", "report.cut-off.txt", "report.json", "suggested-policies"])
        let suggested = try fm.contentsOfDirectory(atPath: out + "/suggested-policies/production").sorted().map { "suggested-policies/production/" + $0 }
        #expect(suggested.count == 5)
        let note = try String(contentsOfFile: out + "/report.cut-off.txt", encoding: .utf8)
        #expect(note.contains("Formats written: json\nFormats not written: html, md, pdf\n"), "\(note)")
        // The output tree is consistent: SHA256SUMS lists exactly the files written, with their digests.
        let sums = try String(contentsOfFile: out + "/SHA256SUMS", encoding: .utf8).split(separator: "\n").map(String.init)
        let expected = try (["report.cut-off.txt", "report.json"] + suggested).map { name in
            "\(SHA256Digest.hex(try Data(contentsOf: URL(fileURLWithPath: out + "/" + name))))  \(name)"
        }
        #expect(sums == expected)
        #expect(r.writtenPaths.map { ($0 as NSString).lastPathComponent } == ["report.json", "report.cut-off.txt"])
    }

    @Test("A run whose clock never passes writes every format and no cut-off note; a later run cut short at the charts removes that run's files of the formats it did not write")
    func deadlineBeforeFormatsAndControl() throws {
        let out = tempDir("render-deadline-ctl")
        let (r, _) = run(formats: ["html", "md", "json", "sarif"], out: out, at: { _ in false }, jump: 0)
        #expect(r.exitCode == ExitCode.ok || r.exitCode == ExitCode.findings, "\(r.message)")
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(Set(names).isSuperset(of: ["report.html", "report.md", "report.json", "report.sarif", "charts", "SHA256SUMS"]))
        #expect(!names.contains("report.cut-off.txt"))
        // A later run cut short at the charts removes the older run's files of the formats it did not write.
        let (cut, _) = run(formats: ["html", "md", "json", "sarif"], out: out, at: { $0 == "drawing charts" }, jump: 3600)
        #expect(cut.exitCode == ExitCode.partial)
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).sorted() == ["SHA256SUMS", "report.cut-off.txt", "report.json", "suggested-policies"])
    }

    @Test("Reading cut off by the deadline still leaves the render stage its grace: every format is written, no cut-off note, exit 3 for the sections")
    func readingCutOffKeepsRenderGrace() throws {
        let out = tempDir("render-deadline-grace")
        // The deadline passes as the run starts reading (just after it logs its window).
        let (r, _) = run(formats: ["html", "md", "json"], out: out, at: { $0.hasPrefix("window ") }, jump: 601)
        let names = try FileManager.default.contentsOfDirectory(atPath: out)
        #expect(Set(names).isSuperset(of: ["report.html", "report.md", "report.json", "SHA256SUMS"]), "\(names)")
        #expect(!names.contains("report.cut-off.txt"))
        #expect(!r.message.contains("while rendering"), "\(r.message)")
        #expect(r.exitCode == ExitCode.partial, "\(r.message)")
        #expect(r.report?.isPartial == true)
    }
}
