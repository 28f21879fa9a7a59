import Foundation
import Testing
import ThreatConfig
import ThreatModel
import ThreatPolicy
@testable import ThreatSources

/// `--deadline` bounds local reads: policy files and folders, FIFOs in their place, stdin and
/// recorded answers. No wall-clock bound is asserted: the tests check that the deadline fired,
/// that its cause is given and that the work stopped.
@Suite("Deadline: local reads stop when it passes")
struct DeadlineReadTests {
    static let passed = RunDeadline(seconds: -1, label: "30s")

    func folder(_ name: String) -> String {
        let d = NSTemporaryDirectory() + "dl-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// `count` files of `perFile` NetworkPolicy documents each (the worst case of issue: thousands
    /// of policy files, here at a smaller scale).
    func policyFolder(files count: Int, perFile: Int) throws -> String {
        let dir = folder("policies")
        for f in 0..<count {
            let docs = (0..<perFile).map { d in
                """
                apiVersion: networking.k8s.io/v1
                kind: NetworkPolicy
                metadata:
                  name: p-\(f)-\(d)
                  namespace: shop
                spec:
                  podSelector:
                    matchLabels: { app: app-\(f)-\(d) }
                  ingress:
                    - from:
                        - podSelector: { matchLabels: { role: client-\(d) } }
                """
            }
            try (docs.joined(separator: "\n---\n") + "\n").write(toFile: dir + String(format: "/p%05d.yaml", f), atomically: true, encoding: .utf8)
        }
        return dir
    }

    @Test("Policy folder loader: without a deadline every file and document is read (the control)")
    func folderWhole() throws {
        let dir = try policyFolder(files: 40, perFile: 5)
        let out = try PolicyDocumentLoader.loadPath(dir, namespace: "shop")
        #expect(out.value.items.count == 200)
        #expect(out.evidence.count == 40)
        #expect(out.incomplete.isEmpty)
    }

    @Test("Policy folder loader stops between files at a passed deadline: partial, with the cause and the count read")
    func folderStopsBetweenFiles() throws {
        let dir = try policyFolder(files: 40, perFile: 5)
        let out = try PolicyDocumentLoader.loadPath(dir, namespace: "shop", deadline: Self.passed)
        #expect(out.value.items.count < 200, "not every file was read")
        #expect(out.evidence.count < 40)
        let cause = try #require(out.incomplete.first)
        #expect(cause.contains("deadline of 30s passed (--deadline)"), "\(cause)")
        #expect(cause.contains("of 40 files read"), "\(cause)")
        #expect(!out.value.notes.contains { $0.hasPrefix("no network policies found") }, "an empty cut-off set is not reported as 'no policies'")
    }

    @Test("Policy document loader stops between documents of one stream at a passed deadline")
    func streamStopsBetweenDocuments() throws {
        let text = (0..<50).map { "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: p\($0), namespace: shop }\nspec: { podSelector: {} }" }
            .joined(separator: "\n---\n")
        let whole = PolicyDocumentLoader.loadDetailed(text: text, origin: "s.yaml", namespace: "shop")
        #expect(whole.policies.count == 50 && !whole.cutOff)
        let cut = PolicyDocumentLoader.loadDetailed(text: text, origin: "s.yaml", namespace: "shop", deadline: Self.passed)
        #expect(cut.cutOff)
        #expect(cut.policies.count < 50)
    }

    @Test("A FIFO among the policy files (no writer ever comes) is skipped at once and named; the regular files are read")
    func fifoInFolder() throws {
        let dir = try policyFolder(files: 2, perFile: 3)
        try #require(mkfifo(dir + "/p99999.yaml", 0o600) == 0)
        let out = try PolicyDocumentLoader.loadPath(dir, namespace: "shop", deadline: RunDeadline(seconds: 60, label: "60s"))
        #expect(out.value.items.count == 6, "the two regular files were read")
        #expect(out.incomplete.isEmpty)
        #expect(out.warnings.contains("\(dir)/p99999.yaml: skipped, is not a regular file (a FIFO)"), "\(out.warnings)")
    }

    @Test("A FIFO as a policy file held open by a writer that never writes: refused at once, named for what it is")
    func fifoFileHeldOpen() throws {
        let dir = folder("fifo")
        let fifo = dir + "/policy.yaml"
        try #require(mkfifo(fifo, 0o600) == 0)
        let writer = open(fifo, O_RDWR | O_NONBLOCK)   // holds the FIFO open, writes nothing
        try #require(writer >= 0)
        defer { close(writer) }
        #expect(throws: SourceError.unreadable(path: fifo, reason: "is not a regular file (a FIFO)")) {
            try PolicyDocumentLoader.loadPath(fifo, namespace: "shop", deadline: RunDeadline(seconds: 0.3, label: "300ms"))
        }
    }

    @Test("Where streams are allowed (secret files): a FIFO whose writer sends and closes is read whole; one held open ends at the deadline")
    func fifoWithData() throws {
        let dir = folder("fifo-data")
        let fifo = dir + "/policy.yaml"
        try #require(mkfifo(fifo, 0o600) == 0)
        let text = "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: a, namespace: shop }\nspec: { podSelector: {} }\n"
        let t = Thread {
            let fd = open(fifo, O_WRONLY)
            _ = text.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }
        t.start()
        let bytes = try readFileBytes(fifo, deadline: RunDeadline(seconds: 60, label: "60s"), allowStreams: true)
        #expect(String(decoding: bytes, as: UTF8.self) == text)
        let held = dir + "/held"
        try #require(mkfifo(held, 0o600) == 0)
        let writer = open(held, O_RDWR | O_NONBLOCK)
        try #require(writer >= 0)
        defer { close(writer) }
        #expect(throws: SourceError.unreadable(path: held, reason: "deadline of 300ms passed (--deadline) while reading it (0 bytes read)")) {
            try readFileBytes(held, deadline: RunDeadline(seconds: 0.3, label: "300ms"), allowStreams: true)
        }
        #expect(throws: SourceError.unreadable(path: held, reason: "is not a regular file (a FIFO)")) {
            try readFileBytes(held, deadline: RunDeadline(seconds: 0.3, label: "300ms"))
        }
    }

    @Test("A FIFO as a recorded answer is refused at once, naming the answer file")
    func fifoRecordedAnswer() throws {
        let dir = folder("replay")
        try #require(mkfifo(dir + "/msearch.json", 0o600) == 0)
        let ctx = SourceContext(window: TimeWindow(from: Date(timeIntervalSince1970: 0), to: Date(timeIntervalSince1970: 3600), interval: .hour),
                                environment: EnvironmentConfig(name: "p", namespace: "shop"),
                                deadline: RunDeadline(seconds: 0.3, label: "300ms"), redactor: SecretRedactor())
        #expect(throws: SourceError.unreadable(path: dir + "/msearch.json", reason: "is not a regular file (a FIFO)")) {
            try ReplayWAFSource(path: dir).fetch(ctx)
        }
    }

    @Test("Hubble flow file: a FIFO held open is refused at once; a regular file past the deadline is not read")
    func hubbleLineReader() throws {
        let dir = folder("hubble")
        let fifo = dir + "/flows.json"
        try #require(mkfifo(fifo, 0o600) == 0)
        let writer = open(fifo, O_RDWR | O_NONBLOCK)
        try #require(writer >= 0)
        defer { close(writer) }
        #expect(throws: SourceError.unreadable(path: fifo, reason: "is not a regular file (a FIFO)")) {
            try LineReader(path: fifo, deadline: RunDeadline(seconds: 0.3, label: "300ms")).forEachLine { _, _ in }
        }
        let plain = dir + "/plain.json"
        try "{}\n{}\n".write(toFile: plain, atomically: true, encoding: .utf8)
        var lines = 0
        try LineReader(path: plain).forEachLine { _, _ in lines += 1 }
        #expect(lines == 2, "the control: read whole without a deadline")
        #expect(throws: SourceError.unreadable(path: plain, reason: "deadline of 30s passed (--deadline) while reading it")) {
            try LineReader(path: plain, deadline: Self.passed).forEachLine { _, _ in }
        }
    }

    @Test("WAF log file: a FIFO in its place does not block the open (refused); a read past the deadline stops with its cause")
    func wafLogFile() throws {
        let dir = folder("waflog")
        try #require(mkfifo(dir + "/access.log", 0o600) == 0)
        #expect(throws: SourceError.unreadable(path: dir + "/access.log", reason: "is not a regular file (a FIFO)")) {
            try LogFileHandle(path: dir + "/access.log")
        }
        try "line\n".write(toFile: dir + "/plain.log", atomically: true, encoding: .utf8)
        var buffer = [UInt8](repeating: 0, count: 64)
        var open = FileRegionSource(file: try LogFileHandle(path: dir + "/plain.log"), start: 0)
        #expect(try buffer.withUnsafeMutableBytes { b throws(SourceError) in try open.read(into: b) } == 5)
        var late = FileRegionSource(file: try LogFileHandle(path: dir + "/plain.log", deadline: Self.passed), start: 0)
        #expect(throws: SourceError.unreadable(path: dir + "/plain.log", reason: "deadline of 30s passed (--deadline) while reading it")) {
            try buffer.withUnsafeMutableBytes { b throws(SourceError) in try late.read(into: b) }
        }
    }

    @Test("The deadline value: remaining time, passed, causes, poll budget")
    func deadlineValue() {
        let now = Date()
        let d = RunDeadline(seconds: 10, label: "10s", now: now)
        #expect(d.remaining(now: now) == 10)
        #expect(!d.passed)
        #expect(Self.passed.passed)
        #expect(Self.passed.pollMilliseconds() == 0)
        #expect(RunDeadline.none.remaining() == nil && !RunDeadline.none.passed && RunDeadline.none.pollMilliseconds() == -1)
        #expect(d.cause == "deadline of 10s passed (--deadline); the source did not finish in time")
        #expect(d.cause(while: "reading stdin") == "deadline of 10s passed (--deadline) while reading stdin")
    }
}
