import ArgumentParser
import Foundation
import ThreatModel
import ThreatPolicy
import ThreatRender
import ThreatSources

/// `threat-report policy suggest`: one least-privilege policy per workload, from observed flows.
struct PolicySuggestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "suggest",
        abstract: "Write one least-privilege network policy per workload of a namespace from the allowed flows observed.",
        discussion: """
        Reads hubble observe -o json files (plain or .gz), or, with --prometheus, Hubble's flow metrics with a \
        workload context (see "From Prometheus" below). Allowed flows (FORWARDED, REDIRECTED, AUDIT) that are \
        new connections (not replies) become rules: inbound from the peers seen (namespace and identifying labels, \
        never pod-hash labels; world and host entities; addresses for peers without identity), outbound likewise, \
        with DNS to kube-dns on UDP and TCP 53 and, for --kind cilium, toFQDNs where DNS flows named the address. \
        Only the ports and protocols seen are allowed; both directions are default deny. Each file carries GitLab's \
        disabled_by label (it deploys disabled) and must read back as valid before it is written. Files are written \
        into DIR without following symbolic links.

        From Prometheus (--prometheus URL, or --replay DIR of a --record): one aggregated PromQL query over \
        --from/--to (default: the 24 hours before now) on hubble_flows_processed_total with labelsContext \
        source_namespace,source_workload,destination_namespace,destination_workload, else with \
        sourceContext/destinationContext=workload. Only policy verdict events count (one per new connection). \
        The metrics have no pod labels and no ports: selectors use --workload-label KEY=<workload name> and each \
        rule allows every port of the observed protocol, as each file's comment says. Exit codes: 0 done; \
        2 unreadable input, usage error, metrics without a workload context, or DIR cannot be written.
        """)

    @Option(name: .long, help: ArgumentHelp("The namespace whose workloads get a policy.", valueName: "namespace"))
    var namespace: String

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Flow files from hubble observe -o json (plain or .gz; globs allowed).", valueName: "file"))
    var flows: [String] = []

    @OptionGroup var metrics: PolicySuggestMetricOptions

    @Option(name: .long, help: ArgumentHelp("Only flows at or after this time (RFC 3339).", valueName: "time"))
    var from: String?

    @Option(name: .long, help: ArgumentHelp("Only flows before this time (RFC 3339).", valueName: "time"))
    var to: String?

    @Option(name: .long, help: ArgumentHelp("Manifest kind: cilium (CiliumNetworkPolicy) or kubernetes (NetworkPolicy).", valueName: "kind"))
    var kind: String = "cilium"

    @Option(name: .long, help: ArgumentHelp("Folder to write <workload>.yaml files into (created when absent).", valueName: "dir"))
    var output: String

    func window() throws -> (Date?, Date?, SuggestionKind) {
        let f = try from.map { t -> Date in
            guard let d = RFC3339.parse(t) else { throw ValidationError("--from: '\(t)' is not an RFC 3339 time (like 2026-01-31T00:00:00Z)") }
            return d
        }
        let t = try to.map { t -> Date in
            guard let d = RFC3339.parse(t) else { throw ValidationError("--to: '\(t)' is not an RFC 3339 time (like 2026-02-01T00:00:00Z)") }
            return d
        }
        if let f, let t, f >= t { throw ValidationError("--from must be before --to") }
        guard let k = SuggestionKind(rawValue: kind) else { throw ValidationError("--kind must be cilium or kubernetes, not '\(kind)'") }
        return (f, t, k)
    }

    func validate() throws {
        _ = try window()
        let sources = [!flows.isEmpty, metrics.prometheus != nil, metrics.replay != nil].filter { $0 }.count
        if sources == 0 { throw ValidationError("--flows: give at least one flow file (or --prometheus URL, or --replay DIR)") }
        if sources > 1 { throw ValidationError("give one of --flows, --prometheus and --replay") }
        try metrics.validate()
        guard RuleModeValues.isDNSLabel(namespace) else {
            throw ValidationError("--namespace: '\(namespace)' is not a namespace name (lowercase letters, digits and '-', at most 63)")
        }
    }

    func run() throws {
        let (f, t, k) = try window()
        if metrics.prometheus != nil || metrics.replay != nil { return try runMetrics(from: f, to: t, kind: k) }
        var suggester = PolicySuggester(namespace: namespace, kind: k, from: f, to: t)
        let cover: FlowReadCoverage
        let window = suggester
        do {
            cover = try HubbleConnectionReader.readDistinct(flows, for: .suggest, outside: window.isOutside) { suggester.add($0, $1) }
        } catch { throw PolicyInput.fail("--flows: \(error.description)") }
        for w in cover.warnings { PolicyInput.note("warning: \(w)") }
        let (checked, rejected) = suggester.checked(files: cover.files)
        for r in rejected { PolicyInput.note("error: \(r)") }
        var files: [(String, [UInt8])] = []
        var lines: [String] = []
        for c in checked {
            let p = c.policy
            files.append((c.file, Array(c.yaml.utf8)))
            lines.append("\(Sanitize.text(output, max: 500))/\(c.file): \(p.workloads.count > 1 ? "workloads " + p.workloads.joined(separator: ", ") : "workload " + (p.workloads.first ?? "?"))")
            lines += c.explanation.map { "  " + Sanitize.text($0, max: 2000) }
        }
        do { try SuggestionFolder.write(files, into: output) } catch { throw PolicyInput.fail("--output: \(error.description)") }
        var summary = "\(files.count) polic\(files.count == 1 ? "y" : "ies") for namespace \(namespace) from \(suggester.used) allowed flow(s) of \(cover.flows) read"
        let skipped = suggester.skippedPhrases.map { $0 == "\(suggester.outsideWindow) outside the window" ? "\(suggester.outsideWindow) outside --from/--to" : $0 }
        if !skipped.isEmpty { summary += "; skipped " + skipped.joined(separator: ", ") }
        PolicyInput.write(([summary + "."] + lines).joined(separator: "\n") + "\n")
    }
}

/// Writes files into one folder without following symbolic links: the folder is opened with
/// O_NOFOLLOW, each file is written to a new temporary name (O_CREAT|O_EXCL|O_NOFOLLOW) and renamed
/// over its name, so a link planted at a file's name is replaced, never written through.
enum SuggestionFolder {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func write(_ files: [(String, [UInt8])], into folder: String) throws(Failure) {
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw Failure(description: "\(folder): cannot create the folder: \(String(cString: strerror(errno)))")
        }
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard dir >= 0 else {
            var st = stat()
            let link = lstat(folder, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
            throw Failure(description: "\(folder): " + (link ? "it is a symbolic link; give the real folder" : String(cString: strerror(errno))))
        }
        defer { close(dir) }
        for (name, bytes) in files {
            guard !name.contains("/"), !name.hasPrefix(".") else { throw Failure(description: "\(name): not a plain file name") }
            let temp = ".\(name).\(getpid()).tmp"
            let fd = openat(dir, temp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw Failure(description: "\(folder)/\(temp): \(String(cString: strerror(errno)))") }
            var written = 0
            var failed = false
            bytes.withUnsafeBytes { buf in
                while written < buf.count {
                    let n = Foundation.write(fd, buf.baseAddress! + written, buf.count - written)
                    if n < 0 {
                        if errno == EINTR { continue }
                        failed = true
                        return
                    }
                    written += n
                }
            }
            if failed || fsync(fd) != 0 {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlinkat(dir, temp, 0)
                throw Failure(description: "\(folder)/\(name): \(reason)")
            }
            close(fd)
            guard renameat(dir, temp, dir, name) == 0 else {
                let reason = String(cString: strerror(errno))
                unlinkat(dir, temp, 0)
                throw Failure(description: "\(folder)/\(name): \(reason)")
            }
        }
    }
}
