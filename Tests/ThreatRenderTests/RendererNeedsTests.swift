import Foundation
import Testing
import ThreatModel
@testable import ThreatRender

@Suite("Renderers declare what they need")
struct RendererNeedsTests {
    @Test("A format that does not declare charts renders the same bytes without them; one that links chart files declares them")
    func declaredNeeds() throws {
        let withCharts = try ciContext(charts: true)
        var without = withCharts
        without.charts = []
        #expect(!withCharts.charts.isEmpty)
        for format in ReportFormats.all {
            let r = format.init()
            let a = try r.render(withCharts), b = try r.render(without)
            let text = a.map { String(decoding: $0.bytes, as: UTF8.self) }.joined()
            if !format.needs.contains(.charts) {
                #expect(a == b, "\(format.identifier) uses charts without declaring them")
            } else {
                #expect(a != b, "\(format.identifier) declares charts but does not use them")
            }
            if text.contains("](charts/") || text.contains("\"charts/") {
                #expect(format.needs.contains(.chartFiles), "\(format.identifier) links chart files without declaring them")
            }
        }
    }

    @Test("The data format is registered and is report.json")
    func dataFormat() throws {
        #expect(ReportFormats.all.contains { $0 == ReportFormats.data })
        let files = try ReportFormats.data.init().render(try ciContext())
        #expect(files.map(\.path) == ["report.json"])
    }
}
