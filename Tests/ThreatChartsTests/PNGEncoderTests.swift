import CCairo
import Foundation
import Testing
import ThreatModel
@testable import ThreatCharts

/// Reads PNG bytes back through cairo's own decoder (libpng).
private final class PNGReader {
    let bytes: [UInt8]
    var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }
}

private let readFromReader: cairo_read_func_t = { closure, data, length in
    guard let closure, let data else { return CAIRO_STATUS_READ_ERROR }
    let r = Unmanaged<PNGReader>.fromOpaque(closure).takeUnretainedValue()
    let n = Int(length)
    guard r.offset + n <= r.bytes.count else { return CAIRO_STATUS_READ_ERROR }
    r.bytes.withUnsafeBufferPointer { data.update(from: $0.baseAddress! + r.offset, count: n) }
    r.offset += n
    return CAIRO_STATUS_SUCCESS
}

/// Width, height and the ARGB32 pixels of a decoded PNG (nil when cairo cannot read it).
private func decode(_ png: [UInt8]) -> (Int, Int, [UInt32])? {
    let reader = PNGReader(png)
    let surface = withExtendedLifetime(reader) {
        cairo_image_surface_create_from_png_stream(readFromReader, Unmanaged.passUnretained(reader).toOpaque())
    }
    guard let surface else { return nil }
    defer { cairo_surface_destroy(surface) }
    let format = cairo_image_surface_get_format(surface)
    guard cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS,
          format == CAIRO_FORMAT_ARGB32 || format == CAIRO_FORMAT_RGB24,
          let data = cairo_image_surface_get_data(surface) else { return nil }
    let w = Int(cairo_image_surface_get_width(surface)), h = Int(cairo_image_surface_get_height(surface))
    let stride = Int(cairo_image_surface_get_stride(surface))
    var pixels: [UInt32] = []
    for y in 0..<h {
        let row = UnsafeRawPointer(data + y * stride).assumingMemoryBound(to: UInt32.self)
        // RGB24 leaves the top byte undefined: an opaque pixel.
        pixels.append(contentsOf: UnsafeBufferPointer(start: row, count: w).map {
            format == CAIRO_FORMAT_RGB24 ? $0 | 0xFF00_0000 : $0
        })
    }
    return (w, h, pixels)
}

/// Draws on a fresh ARGB32 surface and returns (our PNG, cairo's PNG) of the same pixels.
private func bothEncodings(width: Int, height: Int, draw: (OpaquePointer) -> Void) throws -> ([UInt8], [UInt8]) {
    let surface = try #require(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(width), Int32(height)))
    defer { cairo_surface_destroy(surface) }
    let cr = try #require(cairo_create(surface))
    draw(cr)
    cairo_destroy(cr)
    return (try PNGEncoder.encode(surface: surface), try Canvas.cairoPNG(surface))
}

@Suite struct PNGEncoderTests {
    @Test func chartPixelsDecodeExactlyAsCairosOwnPNG() throws {
        let chart = TimeSeriesChart(
            id: "png", title: "Requests per hour", yLabel: "requests", window: dayWindow,
            series: [
                ChartSeries(name: "Total", color: ChartPalette.total, style: .area, points: hourlyPoints()),
                ChartSeries(name: "Blocked", color: ChartPalette.anomalous, style: .dashedLine,
                            points: hourlyPoints(base: 12)),
            ])
        let (ours, cairos) = try bothEncodings(width: 800, height: 280) { cr in
            let p = Painter(cr: cr)
            p.setUp()
            chart.draw(on: p)
        }
        let a = try #require(decode(ours)), b = try #require(decode(cairos))
        #expect(a.0 == 800 && a.1 == 280)
        #expect(a.0 == b.0 && a.1 == b.1)
        #expect(a.2 == b.2)
        #expect(Set(a.2).count > 10)  // a real drawing, not a blank image
        #expect(Array(ours.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // The chart is opaque: RGB (colour type 2), like cairo's own file.
        #expect(ours[25] == 2 && cairos[25] == 2)
    }

    @Test func translucentAndTransparentPixelsRoundTripLikeCairos() throws {
        // No background: transparent corners, translucent overlaps of several alphas.
        let (ours, cairos) = try bothEncodings(width: 97, height: 41) { cr in
            for (k, alpha) in [0.16, 0.5, 0.85, 1.0].enumerated() {
                cairo_set_source_rgba(cr, 0.2 + 0.2 * Double(k), 0.5, 0.8 - 0.15 * Double(k), alpha)
                cairo_arc(cr, 20 + 18 * Double(k), 20, 15, 0, 2 * Double.pi)
                cairo_fill(cr)
            }
        }
        let a = try #require(decode(ours)), b = try #require(decode(cairos))
        #expect(a.0 == 97 && a.1 == 41)
        #expect(a.2 == b.2)
        #expect(a.2.contains(0))  // fully transparent pixels present
        #expect(a.2.contains { $0 >> 24 > 0 && $0 >> 24 < 255 })  // and translucent ones
        #expect(ours[25] == 6)  // RGBA
    }

    @Test func renderedChartPNGIsReadableAtScaleTwo() throws {
        let out = try ChartRenderer.render(dayChart(), pngScale: 2)
        let decoded = try #require(decode(out.png))
        #expect(decoded.0 == 1600 && decoded.1 == 560)
    }
}
