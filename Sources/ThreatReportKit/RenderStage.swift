import Foundation
import Logging
import ThreatModel
import ThreatRender
import ThreatSources

/// The draw-and-render stage of a run, bounded by the run's deadline: the data format first (the
/// others show its digest), then the charts (the deadline is looked at before each environment's
/// charts), then the formats (each looks at it before it starts; one that started finishes, its
/// cost bounded by the input caps). When the deadline passes, what is done is written, with
/// `report.cut-off.txt` naming the formats left out, and the run exits 3.
struct RenderStage {
    /// When reading used the whole budget (the deadline cut the sources off), rendering still gets
    /// this long, so the report is always written from what was read.
    static let grace: TimeInterval = 30
    /// The note written beside a report that the deadline cut short while it was rendered.
    static let cutOffName = "report.cut-off.txt"

    var renderers: [any ReportRenderer]
    /// The run's deadline, or `grace` after `start` when that is later.
    var deadline: RunDeadline

    init(renderers: [any ReportRenderer], run deadline: RunDeadline, start: Date) {
        self.renderers = renderers
        var d = deadline
        if let instant = d.instant { d.instant = max(instant, start.addingTimeInterval(Self.grace)) }
        self.deadline = d
    }

    struct Outcome {
        var files: [OutputFile]
        /// Why the stage stopped early (nil: every format was rendered), and the formats left out.
        var cutOff: String?
        var notRendered: [String] = []
    }

    func render(_ base: RenderContext, logger: Logger) throws -> Outcome {
        let deadline = self.deadline
        let stop: @Sendable () -> Bool = { deadline.passed }
        let names = renderers.map { type(of: $0).identifier }
        let cause = deadline.cause(while: "rendering the report")
        if stop() {
            logger.error("\(cause): no format was rendered")
            let note = Self.note(cause, written: [], left: names)
            return Outcome(files: [note, OutputFile.checksums([note])], cutOff: cause, notRendered: names)
        }
        var context = base
        // The data format first: the other formats show its digest. It is rendered once, and
        // written only when asked for.
        let data = try ReportFormats.data.init().render(context)
        context.dataDigest = data.first.map { SHA256Digest.hex($0.bytes) }
        let needs = renderers.reduce(into: RendererNeeds()) { $0.formUnion(type(of: $1).needs) }
        if !needs.isDisjoint(with: [.charts, .chartFiles]) {
            logger.debug("drawing charts")
            context.charts = try ReportCharts.build(context.report, until: stop)
        }
        // The formats are independent: each renders on its own thread; files keep the formats'
        // order, and the first failure in that order is the one reported. A format that has not
        // started when the deadline passes is left out.
        let outputs: Locked<[Result<[OutputFile], any Error>?]> = .slots(renderers.count)
        let shared = context, formats = renderers
        DispatchQueue.concurrentPerform(iterations: formats.count) { i in
            if type(of: formats[i]) == ReportFormats.data { return outputs.set(i, .success(data)) }
            if stop() { return }
            outputs.set(i, Result<[OutputFile], any Error> { () throws -> [OutputFile] in try formats[i].render(shared) })
        }
        let results = outputs.current
        let rendered = renderers.indices.filter { results[$0] != nil }
        var files: [OutputFile] = []
        // Chart files go with the formats that link them, when those were rendered (the charts are then whole).
        if rendered.contains(where: { type(of: renderers[$0]).needs.contains(.chartFiles) }) { files += ChartFiles.files(context.charts) }
        // The scoped exclusion files (waf-tuning/<environment>.conf), written with every report.
        files += WAFTuningOutput.files(context.report)
        // The suggested policies (suggested-policies/<environment>/<workload>.yaml), likewise.
        files += SuggestedPoliciesOutput.files(context.report)
        for r in results { if let r { files += try r.get() } }
        let left = renderers.indices.filter { results[$0] == nil }.map { names[$0] }
        var outcome = Outcome(files: files)
        if !left.isEmpty {
            logger.error("\(cause): not rendered: \(left.joined(separator: ", "))")
            outcome.files.append(Self.note(cause, written: rendered.map { names[$0] }, left: left))
            outcome.cutOff = cause
            outcome.notRendered = left
        }
        outcome.files.append(OutputFile.checksums(outcome.files))
        return outcome
    }

    /// `report.cut-off.txt`: what the deadline left out, so a reader of the folder cannot take
    /// the report for complete.
    static func note(_ cause: String, written: [String], left: [String]) -> OutputFile {
        OutputFile(path: cutOffName, text: """
            This report was cut short: \(cause).
            Formats written: \(written.isEmpty ? "none" : written.joined(separator: ", "))
            Formats not written: \(left.joined(separator: ", "))
            Files of the formats not written were removed from this folder, so none of them looks current.
            Give the run more time (--deadline, or deadline: in the config), or ask for fewer formats (--format).

            """)
    }
}
