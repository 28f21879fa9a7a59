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

/// Starts a process with posix_spawn: stdin, stdout and stderr are files (never pipes, so no other
/// child can inherit and hold them open), signals are unblocked and at their defaults, and
/// the caller waits with `waitpid`. Foundation's `Process` on Linux was seen to miss a child's exit
/// and to leak pipe ends into concurrently started children, which hung test runs.
func spawn(_ exe: String, _ args: [String], cwd: String, env: [String: String], stdin: String, stdout: String, stderr: String) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var empty = sigset_t()
    sigemptyset(&empty)
    posix_spawnattr_setsigmask(&attr, &empty)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGTERM)
    sigaddset(&defaults, SIGPIPE)
    posix_spawnattr_setsigdefault(&attr, &defaults)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var e = ProcessInfo.processInfo.environment
    for (k, v) in env { e[k] = v }
    // `env -C DIR` sets the working directory (glibc's addchdir_np is not visible to Swift).
    let argv = ["/usr/bin/env", "-C", cwd, exe] + args
    let cArgs = argv.map { strdup($0) } + [nil]
    let cEnv = e.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { (cArgs + cEnv).forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, "/usr/bin/env", &actions, &attr, cArgs, cEnv)
    guard rc == 0 else { throw SpawnError(message: "posix_spawn \(exe): \(String(cString: strerror(rc)))") }
    return pid
}

struct SpawnError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Waits for a child and returns its exit code (128 + signal when killed).
@discardableResult
func waitFor(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
        if errno != EINTR { return -1 }
    }
    return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
}

/// Runs a command to completion with its own working directory and environment.
func run(_ exe: String, _ args: [String], cwd: String = repo, env: [String: String] = [:], stdin: Data? = nil) throws -> Run {
    let dir = tempDir("run")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try (stdin ?? Data()).write(to: URL(fileURLWithPath: dir + "/stdin"))
    let pid = try spawn(exe, args, cwd: cwd, env: env, stdin: dir + "/stdin", stdout: dir + "/stdout", stderr: dir + "/stderr")
    let code = waitFor(pid)
    let out = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/stdout"))) ?? Data()
    let err = (try? Data(contentsOf: URL(fileURLWithPath: dir + "/stderr"))) ?? Data()
    return Run(code: code, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
}

func report(_ args: [String], cwd: String = repo, env: [String: String] = [:], stdin: Data? = nil) throws -> Run {
    try run(binary, ["report"] + args, cwd: cwd, env: env, stdin: stdin)
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

/// Writes a kubeconfig with one cluster (`server`, the CA file's PEM as certificate-authority-data),
/// one context (`test` unless named) and one user `reader` whose `user:` mapping is `user` (YAML lines, indented
/// by four spaces), e.g. a token, client-certificate-data or an exec plugin.
func writeKubeconfig(_ path: String, server: String, caFile: String, user: String, context: String = "test") throws {
    let ca = try Data(contentsOf: URL(fileURLWithPath: caFile)).base64EncodedString()
    try """
    apiVersion: v1
    kind: Config
    current-context: \(context)
    clusters:
    - name: lab
      cluster:
        server: \(server)
        certificate-authority-data: \(ca)
    contexts:
    - name: \(context)
      context: { cluster: lab, user: reader }
    users:
    - name: reader
      user:
    \(user)
    """.write(toFile: path, atomically: true, encoding: .utf8)
}

/// The `user:` lines of a kubeconfig with the PKI's client certificate and key and a bearer token.
func kubeUser(_ pki: TestPKI, token: String) throws -> String {
    """
        client-certificate-data: \(try pki.base64(pki.clientCert))
        client-key-data: \(try pki.base64(pki.clientKey))
        token: \(token)
    """
}

/// Writes a config for the samples' window (the 24 hours to 2026-11-20T00:00:00Z) with one
/// environment, `production` in `shop-production` (host shop.example.com), whose sections are the
/// given lines (`waf: { … }`, `flows: { … }`, `policies: { … }`); returns `path`.
@discardableResult
func writeProductionConfig(_ path: String, _ sections: [String]) throws -> String {
    try """
    version: 1
    to: 2026-11-20T00:00:00Z
    window: 24h
    environments:
      - name: production
        namespace: shop-production
        hosts: [shop.example.com]
    \(sections.map { "    " + $0 }.joined(separator: "\n"))

    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// An independent count of a `hubble observe -o json` file (gzip -dc and Foundation's JSON parser):
/// flows of `namespace` (either side) with `from <= time < to`, by verdict, in total and per direction.
struct HubbleRecount {
    var all: [String: Int] = [:], inbound: [String: Int] = [:], outbound: [String: Int] = [:]

    init(_ path: String, namespace: String, from: String, to: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/gzip")
        p.arguments = ["-dc", path]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        for line in data.split(separator: UInt8(ascii: "\n")) {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let f = obj["flow"] as? [String: Any],
                  let time = f["time"] as? String, let verdict = f["verdict"] as? String else { continue }
            // RFC 3339 UTC with the same layout: string order is time order.
            guard time >= from, time < to else { continue }
            let src = (f["source"] as? [String: Any])?["namespace"] as? String, dst = (f["destination"] as? [String: Any])?["namespace"] as? String
            guard src == namespace || dst == namespace else { continue }
            all[verdict, default: 0] += 1
            if dst == namespace { inbound[verdict, default: 0] += 1 }
            if src == namespace { outbound[verdict, default: 0] += 1 }
        }
    }
}
