import CCairo
import Foundation
import ThreatCharts
import ThreatModel

/// Document information written into the PDF.
public struct PDFMetadata: Sendable, Equatable {
    public var title: String
    public var subject: String?
    public var creator: String?
    /// Written as the creation date. Set it (from the report's `generated_at`) so that the same
    /// report gives byte-identical PDFs.
    public var createDate: Date?

    public init(title: String, subject: String? = nil, creator: String? = nil, createDate: Date? = nil) {
        self.title = title
        self.subject = subject
        self.creator = creator
        self.createDate = createDate
    }
}

/// The PDF document writer: a multi-page PDF drawn with cairo's PDF surface, with text, boxes and
/// charts. It owns the surface and its pages; the report's pages (`PDFReport`) draw through it, and
/// a chart draws itself into the cairo context it is given (`ChartSpec.draw(into:…)`, ThreatCharts).
/// Coordinates are PDF points (1/72 inch) from the top left of the current page. Text uses DejaVu
/// Sans (and DejaVu Sans Mono for code) through cairo's toy font API, embedded as subsets.
///
/// Not thread-safe: one document is drawn by one task.
final class PDFDocument {
    /// A4 portrait, in points.
    public static let a4 = (width: 595.276, height: 841.89)

    public let width: Double
    public let height: Double
    /// Pages finished so far (`nextPage()` calls).
    public private(set) var finishedPages = 0

    private let sink = ByteSink()
    private let surface: OpaquePointer
    let cr: OpaquePointer
    let painter: Painter
    private var finished = false

    public init(width: Double = PDFDocument.a4.width, height: Double = PDFDocument.a4.height,
                metadata: PDFMetadata) throws(ChartError) {
        self.width = width
        self.height = height
        guard let s = cairo_pdf_surface_create_for_stream(writeToSink, Unmanaged.passUnretained(sink).toOpaque(), width, height)
        else { throw .cairo(operation: "cairo_pdf_surface_create_for_stream", status: "NULL surface") }
        guard cairo_surface_status(s) == CAIRO_STATUS_SUCCESS, let c = cairo_create(s) else {
            let status = String(cString: cairo_status_to_string(cairo_surface_status(s)))
            cairo_surface_destroy(s)
            throw .cairo(operation: "cairo_pdf_surface_create_for_stream", status: status)
        }
        surface = s
        cr = c
        painter = Painter(cr: c)
        cairo_pdf_surface_restrict_to_version(s, CAIRO_PDF_VERSION_1_5)
        cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_TITLE, ChartText.sanitize(metadata.title, maxCharacters: 200))
        if let subject = metadata.subject {
            cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_SUBJECT, ChartText.sanitize(subject, maxCharacters: 200))
        }
        if let creator = metadata.creator {
            cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATOR, ChartText.sanitize(creator, maxCharacters: 200))
        }
        if let date = metadata.createDate {
            cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_CREATE_DATE, Self.isoDate(date))
            cairo_pdf_surface_set_metadata(s, CAIRO_PDF_METADATA_MOD_DATE, Self.isoDate(date))
        }
        painter.setUp()
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    static func check(_ status: cairo_status_t, _ operation: String) throws(ChartError) {
        guard status != CAIRO_STATUS_SUCCESS else { return }
        throw .cairo(operation: operation, status: String(cString: cairo_status_to_string(status)))
    }

    /// `2026-11-20T00:00:00Z`: the ISO 8601 form cairo turns into a PDF date.
    static func isoDate(_ d: Date) -> String { RFC3339.format(d) }

    /// Ends the current page and starts the next one.
    public func nextPage() {
        cairo_show_page(cr)
        finishedPages += 1
        painter.setUp()
    }

    /// Ends the last page and returns the file's bytes. The document cannot be drawn on afterwards.
    public func finish() throws(ChartError) -> [UInt8] {
        guard !finished else { return sink.bytes }
        finished = true
        try Self.check(cairo_status(cr), "drawing (PDF)")
        cairo_show_page(cr)
        finishedPages += 1
        cairo_surface_finish(surface)
        try Self.check(cairo_surface_status(surface), "cairo_surface_finish (PDF)")
        return withExtendedLifetime(sink) { sink.bytes }
    }

    // MARK: Shapes

    public func fillRect(x: Double, y: Double, width: Double, height: Double, _ c: RGB) {
        painter.fillRect(x: x, y: y, width: width, height: height, c)
    }

    public func strokeRect(x: Double, y: Double, width: Double, height: Double, _ c: RGB, lineWidth: Double = 0.75) {
        painter.color(c)
        cairo_set_line_width(cr, lineWidth)
        cairo_rectangle(cr, x, y, width, height)
        cairo_stroke(cr)
    }

    /// A rectangle with rounded corners (badges).
    public func fillRoundedRect(x: Double, y: Double, width: Double, height: Double, radius: Double, _ c: RGB) {
        let r = min(radius, height / 2, width / 2)
        cairo_new_sub_path(cr)
        cairo_arc(cr, x + width - r, y + r, r, -Double.pi / 2, 0)
        cairo_arc(cr, x + width - r, y + height - r, r, 0, Double.pi / 2)
        cairo_arc(cr, x + r, y + height - r, r, Double.pi / 2, Double.pi)
        cairo_arc(cr, x + r, y + r, r, Double.pi, 3 * Double.pi / 2)
        cairo_close_path(cr)
        painter.color(c)
        cairo_fill(cr)
    }

    public func line(x0: Double, y0: Double, x1: Double, y1: Double, _ c: RGB, lineWidth: Double = 0.75) {
        painter.color(c)
        cairo_set_line_width(cr, lineWidth)
        cairo_move_to(cr, x0, y0)
        cairo_line_to(cr, x1, y1)
        cairo_stroke(cr)
    }

    // MARK: Charts

    /// The thin frame around a chart (the charts' own grid grey).
    static let chartFrame = RGB(hex: 0xE8E8E8)

    /// Draws `chart` as vectors, scaled uniformly to fit `width` × `height` at (`x`, `y`), with a
    /// thin frame. Returns the height used.
    @discardableResult
    public func draw(_ chart: ChartSpec, x: Double, y: Double, width: Double, height: Double) -> Double {
        let drawn = chart.draw(into: cr, x: x, y: y, width: width, height: height)
        painter.setUp()
        strokeRect(x: x, y: y, width: drawn.width, height: drawn.height, Self.chartFrame)
        return drawn.height
    }
}
