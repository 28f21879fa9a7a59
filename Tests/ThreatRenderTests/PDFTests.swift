import Foundation
import Testing
import ThreatModel
@testable import ThreatRender

/// The PDF as poppler (pdfinfo, pdftotext) reads it.
struct PDFInfo {
    var pages: Int
    var fields: [String: String]

    init(_ path: String) throws {
        let r = try tool("pdfinfo", [path])
        #expect(r.code == 0, "pdfinfo (poppler-utils) failed: \(r.stderr)")
        var fields: [String: String] = [:]
        for line in r.stdout.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.fields = fields
        pages = Int(fields["Pages"] ?? "") ?? -1
    }

    static func text(_ path: String, page: Int) throws -> String {
        let r = try tool("pdftotext", ["-f", "\(page)", "-l", "\(page)", "-layout", path, "-"])
        return r.stdout
    }
}

@Suite("PDF output (Cairo)", .serialized)
struct PDFTests {
    func pdf(_ report: Report = ciReport()) throws -> (bytes: [UInt8], path: String) {
        let bytes = try PDFRenderer().render(try ciContext(report, charts: true))[0].bytes
        return (bytes, try writeTemp("report.pdf", bytes))
    }

    @Test("A4 pages: summary, findings, one per environment; poppler opens it")
    func pages() throws {
        let (bytes, path) = try pdf()
        #expect(bytes.starts(with: Array("%PDF-1.5".utf8)))
        let info = try PDFInfo(path)
        #expect(info.pages == 1 + 1 + 3)
        #expect(info.fields["Page size"]?.hasPrefix("595.276 x 841.89") == true, "\(info.fields)")
        #expect(info.fields["Title"] == "Shop threat report")
        #expect(info.fields["Creator"] == "threat-report 0.1.0")
    }

    @Test("each page holds what it should, with page N of M")
    func pageContents() throws {
        let (_, path) = try pdf()
        let summary = try PDFInfo.text(path, page: 1)
        for s in ["Shop threat report", "Window 2026-11-19 00:00 UTC – 2026-11-20 00:00 UTC", "Environments", "production", "staging",
                  "WARNING", "PARTIAL", "Findings, worst first", "Page 1 of 5", "bare/flows unavailable"] {
            #expect(summary.contains(s), "summary lacks \(s):\n\(summary)")
        }
        let findings = try PDFInfo.text(path, page: 2)
        for s in ["Dropped flows at 17% of traffic", "What to do next", "hubble observe --namespace", "Page 2 of 5",
                  "threshold 5%"] {
            #expect(findings.contains(s), "findings page lacks \(s):\n\(findings)")
        }
        let production = try PDFInfo.text(path, page: 3)
        for s in ["Environment: production", "Requests (production)", "Flows (production)", "Network policies", "worker-deny-ingress",
                  "INVALID", "DISABLED", "Page 3 of 5"] {
            #expect(production.contains(s), "production page lacks \(s):\n\(production)")
        }
        let bare = try PDFInfo.text(path, page: 5)
        #expect(bare.contains("Web application firewall not"))
        #expect(bare.contains("Flows source unavailable: cannot read recordings/missing/totals.json: no such file"))
    }

    @Test("the same report gives byte-identical PDFs; the creation date is generated_at")
    func deterministic() throws {
        let a = try pdf()
        let b = try pdf()
        #expect(a.bytes == b.bytes)
        let info = try PDFInfo(a.path)
        #expect(info.fields["CreationDate"]?.contains("2026") == true, "\(info.fields)")
    }

    @Test("many findings flow onto more pages, worst first; page count follows")
    func manyFindings() throws {
        var report = ciReport()
        let long = String(repeating: "Check the policy with `kubectl describe networkpolicy web` and fix it. ", count: 12)
        report.findings = (0..<30).map { i in
            Finding(id: "policies.invalid", severity: i < 5 ? .critical : .warning, environment: "production",
                    title: "Policy p\(i) is not valid", guidance: long, subject: "p\(i)")
        }
        let (_, path) = try pdf(report)
        let info = try PDFInfo(path)
        #expect(info.pages > 1 + 1 + 3)
        let last = try PDFInfo.text(path, page: info.pages)
        #expect(last.contains("Environment: bare") && last.contains("Page \(info.pages) of \(info.pages)"))
        #expect(try PDFInfo.text(path, page: 2).contains("CRITICAL"))
    }

    @Test("hostile strings are drawn as text; control characters are dropped")
    func hostile() throws {
        let (_, path) = try pdf(hostileReport())
        let info = try PDFInfo(path)
        #expect(info.pages == 3)
        let text = try PDFInfo.text(path, page: 2)
        #expect(text.contains("<script>alert(1)</script>"))
        #expect(!text.contains("\u{1b}"))
    }
}
