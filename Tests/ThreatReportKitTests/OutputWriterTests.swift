import Foundation
import Testing
import ThreatRender
@testable import ThreatReportKit

func tempDir(_ name: String) -> String {
    let d = NSTemporaryDirectory() + "tr-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

@Suite("Output writer")
struct OutputWriterTests {
    @Test("Files land under their names, in subfolders, replacing the previous report")
    func writes() throws {
        let dir = tempDir("write")
        let w = OutputWriter(directory: dir)
        _ = try w.write([OutputFile(path: "report.html", text: "old"), OutputFile(path: "charts/a.png", text: "old")])
        let paths = try w.write([OutputFile(path: "report.html", text: "new"), OutputFile(path: "charts/a.png", text: "new")])
        #expect(paths == ["\(dir)/report.html", "\(dir)/charts/a.png"])
        #expect(try String(contentsOfFile: "\(dir)/report.html", encoding: .utf8) == "new")
        let leftovers = try FileManager.default.subpathsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
        #expect(leftovers.isEmpty)
    }

    @Test("A run that fails while writing leaves the previous report intact and no staging folders")
    func interruptedRunKeepsPreviousReport() throws {
        let dir = tempDir("atomic") + "/out"
        let w = OutputWriter(directory: dir)
        _ = try w.write([OutputFile(path: "report.html", text: "previous html"), OutputFile(path: "report.md", text: "previous md"),
                         OutputFile(path: "notes.txt", text: "the user's own file")])
        // The third file needs report.html to be a folder: staging fails after two files were staged.
        #expect(throws: OutputError.self) {
            try w.write([OutputFile(path: "report.html", text: "new html"), OutputFile(path: "report.md", text: "new md"),
                         OutputFile(path: "report.html/x", text: "{}")])
        }
        #expect(try String(contentsOfFile: "\(dir)/report.html", encoding: .utf8) == "previous html")
        #expect(try String(contentsOfFile: "\(dir)/report.md", encoding: .utf8) == "previous md")
        let parent = (dir as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.contains("staging") }.isEmpty)
        // A later run switches the whole folder and keeps entries it does not write.
        _ = try w.write([OutputFile(path: "report.html", text: "new html")])
        #expect(try String(contentsOfFile: "\(dir)/report.html", encoding: .utf8) == "new html")
        #expect(try String(contentsOfFile: "\(dir)/notes.txt", encoding: .utf8) == "the user's own file")
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).filter { $0.contains("staging") }.isEmpty)
    }

    @Test("Leftover staging folders of a killed run are removed by the next run")
    func leftoversRemoved() throws {
        let parent = tempDir("leftover")
        try FileManager.default.createDirectory(atPath: parent + "/.out.staging-1-2/charts", withIntermediateDirectories: true)
        _ = try OutputWriter(directory: parent + "/out").write([OutputFile(path: "report.json", text: "{}")])
        #expect(try FileManager.default.contentsOfDirectory(atPath: parent).sorted() == [".out.lock", "out"])
    }

    @Test("A read-only output folder is a clear error naming the path")
    func readOnly() throws {
        guard getuid() != 0 else {
            // root ignores permissions; use a path under a regular file instead
            let f = tempDir("ro") + "/file"
            FileManager.default.createFile(atPath: f, contents: Data())
            #expect(throws: OutputError.self) { try OutputWriter(directory: f + "/out").write([OutputFile(path: "a", text: "x")]) }
            return
        }
        let dir = tempDir("ro")
        chmod(dir, 0o555)
        #expect(throws: OutputError.self) { try OutputWriter(directory: dir).write([OutputFile(path: "a", text: "x")]) }
    }
}

@Suite("Bounded concurrency")
struct ConcurrencyTests {
    @Test("Results come back in order and no more than `width` bodies run at once")
    func bounded() {
        final class Gauge: @unchecked Sendable {
            let lock = NSLock()
            var now = 0, peak = 0
        }
        let g = Gauge()
        let out = boundedMap(count: 40, width: 3) { i -> Int in
            g.lock.lock(); g.now += 1; g.peak = max(g.peak, g.now); g.lock.unlock()
            usleep(2000)
            g.lock.lock(); g.now -= 1; g.lock.unlock()
            return i * i
        }
        #expect(out == (0..<40).map { $0 * $0 })
        #expect(g.peak <= 3)
        #expect(g.peak >= 2)
    }
}

@Suite("Output writer: folders that are more than a report")
struct OutputWriterInPlaceTests {
    @Test("A folder with subfolders of its own (a repository) is written file by file; its other content stays")
    func foreignSubfolder() throws {
        let dir = tempDir("inplace") + "/repo"
        try FileManager.default.createDirectory(atPath: dir + "/.git/objects", withIntermediateDirectories: true)
        try "x".write(toFile: dir + "/.git/objects/a", atomically: true, encoding: .utf8)
        let inode = { (p: String) -> UInt64 in
            var st = stat()
            return stat(p, &st) == 0 ? UInt64(st.st_ino) : 0
        }
        let before = inode(dir)
        let w = OutputWriter(directory: dir)
        _ = try w.write([OutputFile(path: "report.json", text: "1"), OutputFile(path: "charts/a.svg", text: "<svg/>")])
        _ = try w.write([OutputFile(path: "report.json", text: "2")])
        #expect(inode(dir) == before, "the folder itself was not replaced")
        #expect(try String(contentsOfFile: dir + "/report.json", encoding: .utf8) == "2")
        #expect(try String(contentsOfFile: dir + "/.git/objects/a", encoding: .utf8) == "x")
        // The second run wrote no chart: the first run's charts do not stay behind looking current.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == [".git", "report.json"])
    }

    @Test("A report-only folder is switched as a whole (a new folder inode) and keeps loose files")
    func reportOnly() throws {
        let dir = tempDir("whole") + "/out"
        let w = OutputWriter(directory: dir)
        _ = try w.write([OutputFile(path: "report.json", text: "1"), OutputFile(path: "charts/a.svg", text: "<svg/>")])
        try "keep".write(toFile: dir + "/.gitkeep", atomically: true, encoding: .utf8)
        var st = stat()
        stat(dir, &st)
        let before = st.st_ino
        _ = try w.write([OutputFile(path: "report.json", text: "2"), OutputFile(path: "charts/b.svg", text: "<svg/>")])
        stat(dir, &st)
        #expect(st.st_ino != before)
        #expect(try String(contentsOfFile: dir + "/.gitkeep", encoding: .utf8) == "keep")
        #expect(try FileManager.default.subpathsOfDirectory(atPath: dir).sorted() == [".gitkeep", "charts", "charts/b.svg", "report.json"])
    }
}
