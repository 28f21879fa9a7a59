import Foundation
import Testing
import ThreatRender
@testable import ThreatReportKit

@Suite("Stale exclusion files: a report written in place removes the waf-tuning files it did not write")
struct StaleTuningFolderTests {
    @Test("Stale waf-tuning in place: an old environment's .conf goes, the folder goes when the run writes none, user files stay")
    func staleTuningRemovedInPlace() throws {
        let out = tempDir("stale-tuning") + "/repo"
        // A subfolder the report does not write (a repository) makes the writer work in place.
        try FileManager.default.createDirectory(atPath: out + "/.git", withIntermediateDirectories: true)
        let w = OutputWriter(directory: out)
        _ = try w.write([OutputFile(path: "report.json", text: "{}"), OutputFile(path: "waf-tuning/shop.conf", text: "# a"),
                         OutputFile(path: "waf-tuning/old-env.conf", text: "# b")])
        #expect(FileManager.default.fileExists(atPath: out + "/waf-tuning/old-env.conf"))
        _ = try w.write([OutputFile(path: "report.json", text: "{}"), OutputFile(path: "waf-tuning/shop.conf", text: "# c")])
        #expect(!FileManager.default.fileExists(atPath: out + "/waf-tuning/old-env.conf"), "the environment no longer written")
        #expect(try String(contentsOfFile: out + "/waf-tuning/shop.conf", encoding: .utf8) == "# c")
        _ = try w.write([OutputFile(path: "report.json", text: "{}")])
        #expect(!FileManager.default.fileExists(atPath: out + "/waf-tuning"), "no tuning this run: the folder goes")
        #expect(FileManager.default.fileExists(atPath: out + "/.git"))
        // A file of the user's in the folder is kept, and so the folder.
        _ = try w.write([OutputFile(path: "report.json", text: "{}"), OutputFile(path: "waf-tuning/shop.conf", text: "# d")])
        try "mine".write(toFile: out + "/waf-tuning/notes.txt", atomically: true, encoding: .utf8)
        _ = try w.write([OutputFile(path: "report.json", text: "{}")])
        #expect(!FileManager.default.fileExists(atPath: out + "/waf-tuning/shop.conf"))
        #expect(FileManager.default.fileExists(atPath: out + "/waf-tuning/notes.txt"))
    }
}
