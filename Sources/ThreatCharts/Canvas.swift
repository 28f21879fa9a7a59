import CCairo

/// A chart drawn twice from the same drawing code: as PNG bytes and as inline-ready SVG text.
public struct RenderedChart: Sendable {
    /// PNG file bytes (RGBA). Its pixel size is `width × pngScale` by `height × pngScale`.
    public var png: [UInt8]
    /// SVG markup without the `<?xml …?>` line; every id is prefixed with the chart's id (see
    /// `ChartRenderer.idPrefix(for:)`), so several charts can be inlined in one HTML page.
    public var svg: String
    /// Size in CSS pixels (the SVG's size, and the PNG's size at `pngScale` 1).
    public var width: Int
    public var height: Int
    /// Device scale the PNG was drawn at (1 = one image pixel per CSS pixel, 2 = retina).
    public var pngScale: Int

    public init(png: [UInt8], svg: String, width: Int, height: Int, pngScale: Int = 1) {
        self.png = png
        self.svg = svg
        self.width = width
        self.height = height
        self.pngScale = pngScale
    }
}

/// A chart could not be drawn.
public enum ChartError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Width or height outside 1...`ChartRenderer.maxSide`, or a PNG scale outside 1...4.
    case invalidSize(width: Int, height: Int, scale: Int)
    /// A cairo call reported an error status (`status` is cairo's own text for it).
    case cairo(operation: String, status: String)

    public var description: String {
        switch self {
        case let .invalidSize(w, h, s):
            "chart size \(w)×\(h) at scale \(s) is out of range (1...\(ChartRenderer.maxSide) pixels, scale 1...4)"
        case let .cairo(operation, status):
            "cairo failed in \(operation): \(status)"
        }
    }
}

/// Collects the bytes cairo writes to a stream (the charts' PNG and SVG, the PDF document writer's
/// file). Handed to C as an unretained opaque pointer.
public final class ByteSink {
    public var bytes: [UInt8] = []
    public init() {}
}

/// cairo's write callback (PNG, SVG and PDF streams). It captures nothing: the sink travels in
/// `closure`.
public let writeToSink: cairo_write_func_t = { closure, data, length in
    guard let closure else { return CAIRO_STATUS_WRITE_ERROR }
    let sink = Unmanaged<ByteSink>.fromOpaque(closure).takeUnretainedValue()
    if let data, length > 0 {
        sink.bytes.append(contentsOf: UnsafeBufferPointer(start: data, count: Int(length)))
    }
    return CAIRO_STATUS_SUCCESS
}

/// Surface and stream plumbing shared by all charts.
enum Canvas {
    static func render(width: Int, height: Int, pngScale: Int, idPrefix: String,
                       draw: (Painter) -> Void) throws(ChartError) -> RenderedChart {
        guard (1...ChartRenderer.maxSide).contains(width), (1...ChartRenderer.maxSide).contains(height),
              (1...4).contains(pngScale)
        else { throw .invalidSize(width: width, height: height, scale: pngScale) }
        let png = try renderPNG(width: width, height: height, scale: pngScale, draw: draw)
        let svg = try renderSVG(width: width, height: height, idPrefix: idPrefix, draw: draw)
        return RenderedChart(png: png, svg: svg, width: width, height: height, pngScale: pngScale)
    }

    static func check(_ status: cairo_status_t, _ operation: String) throws(ChartError) {
        guard status != CAIRO_STATUS_SUCCESS else { return }
        throw .cairo(operation: operation, status: String(cString: cairo_status_to_string(status)))
    }

    /// Creates a context on `surface`, draws, and destroys the context on every path.
    private static func paint(_ surface: OpaquePointer, _ draw: (Painter) -> Void) throws(ChartError) {
        guard let cr = cairo_create(surface) else { throw .cairo(operation: "cairo_create", status: "NULL context") }
        defer { cairo_destroy(cr) }
        try check(cairo_status(cr), "cairo_create")
        let painter = Painter(cr: cr)
        painter.setUp()
        draw(painter)
        try check(cairo_status(cr), "drawing")
    }

    static func renderPNG(width: Int, height: Int, scale: Int,
                          draw: (Painter) -> Void) throws(ChartError) -> [UInt8] {
        guard let surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width * scale), Int32(height * scale))
        else { throw .cairo(operation: "cairo_image_surface_create", status: "NULL surface") }
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface), "cairo_image_surface_create")
        cairo_surface_set_device_scale(surface, Double(scale), Double(scale))
        try paint(surface, draw)
        return try PNGEncoder.encode(surface: surface)
    }

    /// cairo's own PNG writer (libpng), kept to check `PNGEncoder` against.
    static func cairoPNG(_ surface: OpaquePointer) throws(ChartError) -> [UInt8] {
        cairo_surface_flush(surface)
        let sink = ByteSink()
        let status = withExtendedLifetime(sink) {
            cairo_surface_write_to_png_stream(surface, writeToSink, Unmanaged.passUnretained(sink).toOpaque())
        }
        try check(status, "cairo_surface_write_to_png_stream")
        return sink.bytes
    }

    static func renderSVG(width: Int, height: Int, idPrefix: String,
                          draw: (Painter) -> Void) throws(ChartError) -> String {
        let sink = ByteSink()
        // The surface writes into the sink until it is finished; keep the sink alive past that.
        defer { withExtendedLifetime(sink) {} }
        guard let surface = cairo_svg_surface_create_for_stream(
            writeToSink, Unmanaged.passUnretained(sink).toOpaque(), Double(width), Double(height))
        else { throw .cairo(operation: "cairo_svg_surface_create_for_stream", status: "NULL surface") }
        defer { cairo_surface_destroy(surface) }
        try check(cairo_surface_status(surface), "cairo_svg_surface_create_for_stream")
        cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX)
        try paint(surface, draw)
        cairo_surface_finish(surface)
        try check(cairo_surface_status(surface), "cairo_surface_finish (SVG)")
        return SVGIDs.rewrite(SVGIDs.stripXMLDeclaration(sink.bytes), prefix: idPrefix)
    }
}
