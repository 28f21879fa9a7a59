import Foundation
import Testing

let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The built CLI (`make test` builds it before running the tests).
var binary: String {
    // The binary built beside this test bundle first (any --scratch-path), then the default build folders.
    let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path + "/threat-report"
    for candidate in [besideTests, repo + "/.build/debug/threat-report", repo + "/.build/release/threat-report"]
    where FileManager.default.isExecutableFile(atPath: candidate) {
        return candidate
    }
    return repo + "/.build/debug/threat-report"
}

struct Run {
    var code: Int32
    var stdout: String
    var stderr: String
}

/// Runs a command to completion with its own working directory and environment.
func run(_ exe: String, _ args: [String], cwd: String = repo, env: [String: String] = [:], stdin: Data? = nil) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    p.currentDirectoryURL = URL(fileURLWithPath: cwd)
    var e = ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    p.environment = e
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    let inPipe = Pipe()
    p.standardInput = inPipe
    try p.run()
    if let stdin { inPipe.fileHandleForWriting.write(stdin) }
    try inPipe.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty child cannot block on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let t = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    t.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !t.isFinished { usleep(1000) }
    return Run(code: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

func report(_ args: [String], cwd: String = repo, env: [String: String] = [:]) throws -> Run {
    try run(binary, ["report"] + args, cwd: cwd, env: env)
}

func tempDir(_ name: String) -> String {
    let d = NSTemporaryDirectory() + "tr-e2e-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}

func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
        return "\(dir)/\(name)"
    }
    return nil
}

/// Reads a JSON file with Foundation's own parser, independent of the tool's.
func foundationJSON(_ path: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
}
