import Foundation
import Testing
import ThreatModel
@testable import ThreatCharts

@Suite struct SVGTests {
    @Test func svgHasNoXMLDeclarationAndStartsWithTheSVGElement() throws {
        let svg = try ChartRenderer.render(dayChart()).svg
        #expect(!svg.contains("<?xml"))
        #expect(svg.hasPrefix("<svg"))
        #expect(svg.contains("</svg>"))
    }

    @Test(arguments: ["time", "bars", "empty"])
    func everyIDIsPrefixedAndEveryReferenceResolves(kind: String) throws {
        let svg: String
        switch kind {
        case "time": svg = try ChartRenderer.render(dayChart(id: "waf-total")).svg
        case "bars": svg = try ChartRenderer.render(barChart(id: "waf-total")).svg
        default: svg = try ChartRenderer.render(dayChart(id: "waf-total", series: [])).svg
        }
        let ids = svgIDs(svg)
        let refs = svgReferences(svg)
        #expect(!ids.isEmpty)
        #expect(!refs.isEmpty)
        for id in ids { #expect(id.hasPrefix("waf-total-"), "unprefixed id \(id)") }
        #expect(Set(ids).count == ids.count, "duplicate ids")
        let defined = Set(ids)
        for ref in refs { #expect(defined.contains(ref), "dangling reference #\(ref)") }
        // No reference spelled any other way is left unrewritten.
        #expect(!svg.contains("\"#glyph") && !svg.contains("(#clip") && !svg.contains("#surface"))
    }

    @Test func twoChartsShareNoID() throws {
        let a = try ChartRenderer.render(dayChart(id: "waf-requests")).svg
        let b = try ChartRenderer.render(dayChart(id: "network-flows")).svg
        let c = try ChartRenderer.render(barChart(id: "top-rules")).svg
        let ia = Set(svgIDs(a)), ib = Set(svgIDs(b)), ic = Set(svgIDs(c))
        #expect(!ia.isEmpty && !ib.isEmpty && !ic.isEmpty)
        #expect(ia.isDisjoint(with: ib))
        #expect(ia.isDisjoint(with: ic))
        #expect(ib.isDisjoint(with: ic))
    }

    @Test func idPrefixIsASlug() {
        #expect(ChartRenderer.idPrefix(for: "waf-total") == "waf-total-")
        #expect(ChartRenderer.idPrefix(for: "WAF Total/1") == "waf-total-1-")
        #expect(ChartRenderer.idPrefix(for: "") == "chart-")
        #expect(ChartRenderer.idPrefix(for: "7d") == "c7d-")
        #expect(ChartRenderer.idPrefix(for: "x\"><script>") == "x---script--")
    }

    @Test func rewriteRenamesDefinitionsAndReferencesOnly() {
        let input = Array("""
        <?xml version="1.0" encoding="UTF-8"?>
        <svg><defs><g id="glyph0-1"/><clipPath id="clip12"/></defs>\
        <g id="surface99" clip-path="url(#clip12)" grid="x"><use xlink:href="#glyph0-1" x="1"/>\
        <use href="#glyph0-1"/></g></svg>
        """.utf8)
        let out = SVGIDs.rewrite(SVGIDs.stripXMLDeclaration(input), prefix: "p-")
        #expect(out == """
        <svg><defs><g id="p-glyph1"/><clipPath id="p-clip1"/></defs>\
        <g id="p-surface1" clip-path="url(#p-clip1)" grid="x"><use xlink:href="#p-glyph1" x="1"/>\
        <use href="#p-glyph1"/></g></svg>
        """)
    }
}
