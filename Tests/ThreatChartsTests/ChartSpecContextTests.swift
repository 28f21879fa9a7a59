import CCairo
import Foundation
import Testing
import ThreatModel
@testable import ThreatCharts

/// A chart draws into a cairo context it is given (the PDF document writer's page, here an image),
/// inside the rectangle asked for and nowhere else, and leaves the context as it found it.
@Suite("Chart into a given cairo context")
struct ChartSpecContextTests {
    /// ARGB32 pixel at (x, y) of an image surface.
    static func pixel(_ surface: OpaquePointer, _ x: Int, _ y: Int) -> UInt32 {
        cairo_surface_flush(surface)
        let stride = Int(cairo_image_surface_get_stride(surface))
        let data = cairo_image_surface_get_data(surface)!
        return UnsafeRawPointer(data + y * stride + x * 4).loadUnaligned(as: UInt32.self)
    }

    @Test("Draws scaled into the rectangle, touches no pixel outside it, and restores the context's matrix and clip",
          arguments: [ChartSpec.timeSeries(dayChart()), ChartSpec.bar(barChart())])
    func drawsInsideItsRectangle(spec: ChartSpec) throws {
        let side = 400
        let surface = try #require(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, Int32(side), Int32(side)))
        defer { cairo_surface_destroy(surface) }
        let cr = try #require(cairo_create(surface))
        defer { cairo_destroy(cr) }
        // A sentinel colour everywhere first.
        cairo_set_source_rgb(cr, 0, 1, 0)
        cairo_paint(cr)
        let sentinel = Self.pixel(surface, 0, 0)

        let (x, y, w, h) = (30.0, 60.0, 200.0, 300.0)
        let drawn = spec.draw(into: cr, x: x, y: y, width: w, height: h)
        let scale = min(w / Double(spec.width), h / Double(spec.height))
        #expect(drawn.width == Double(spec.width) * scale)
        #expect(drawn.height == Double(spec.height) * scale)
        #expect(drawn.width <= w && drawn.height <= h)
        #expect(cairo_status(cr) == CAIRO_STATUS_SUCCESS)

        // The context's state is as before: identity matrix, no clip.
        var m = cairo_matrix_t()
        cairo_get_matrix(cr, &m)
        #expect(m.xx == 1 && m.yy == 1 && m.xy == 0 && m.yx == 0 && m.x0 == 0 && m.y0 == 0)
        var cx0 = 0.0, cy0 = 0.0, cx1 = 0.0, cy1 = 0.0
        cairo_clip_extents(cr, &cx0, &cy0, &cx1, &cy1)
        #expect(cx0 == 0 && cy0 == 0 && cx1 == Double(side) && cy1 == Double(side))

        // Every pixel outside the drawn rectangle keeps the sentinel; inside, the chart drew.
        let x0 = Int(x), y0 = Int(y), x1 = Int((x + drawn.width).rounded(.up)), y1 = Int((y + drawn.height).rounded(.up))
        var outsideChanged = 0, insideChanged = 0
        for py in 0..<side {
            for px in 0..<side {
                let changed = Self.pixel(surface, px, py) != sentinel
                if px < x0 || px >= x1 || py < y0 || py >= y1 {
                    if changed { outsideChanged += 1 }
                } else if changed {
                    insideChanged += 1
                }
            }
        }
        #expect(outsideChanged == 0)
        #expect(insideChanged > (x1 - x0) * (y1 - y0) / 2)
    }
}
