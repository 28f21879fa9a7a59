import ArgumentParser
import Foundation
import ThreatModel
import ThreatRender
import ThreatSources

/// `threat-report policy …`: the network policies on their own. These commands read files and the
/// configured sources and print to stdout; only `--apply` (enable, disable, new) changes a cluster.
struct PolicyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "List, explain, enable, disable and write network policies (prints manifests; --apply sends them).",
        discussion: """
        enable, disable, predefined and new print a manifest on stdout: review it, then apply it with \
        `kubectl apply -f`, or give enable, disable or new --apply (and --dry-run=server to try it first); delete sends \
        its DELETE only with --apply. Without --apply nothing leaves the machine. Exit codes: 0 done; 1 explain found an invalid policy; 2 usage error or \
        unreadable input; 3 list could not read a configured source, or --apply was refused or failed.
        """,
        subcommands: [PolicyListCommand.self, PolicyExplainCommand.self, PolicyEnableCommand.self, PolicyDisableCommand.self,
                      PolicyPredefinedCommand.self, PolicyNewCommand.self, PolicySimulateCommand.self, PolicySuggestCommand.self,
                      PolicyEditCommand.self, PolicyDeleteCommand.self])
}

/// Reading `FILE|-` and reporting failures the way the report command does.
enum PolicyInput {
    /// The text of a file, or of stdin for `-`, with the name to show in messages.
    static func read(_ path: String) throws -> (text: String, origin: String) {
        let bytes: [UInt8]
        let origin = path == "-" ? "stdin" : path
        do {
            // Standard input through the one stdin reader (capped at the document limit).
            bytes = path == "-" ? try StandardInput.read() : try readFileBytes(path, limit: InputLimits.documentBytes)
        } catch {
            throw fail("\(error.description). Pass a manifest file, or - to read standard input.")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.utf8.elementsEqual(bytes) else { throw fail("\(origin): not UTF-8 text") }
        return (text, origin)
    }

    /// Writes `threat-report: error: …` to stderr and gives the exit code 2 to throw.
    static func fail(_ message: String) -> ExitCode {
        note("error: \(message)")
        return ExitCode(2)
    }

    /// A line on stderr, cleaned of control characters.
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("threat-report: \(Sanitize.text(message, max: 2000))\n".utf8))
    }

    /// stdout as is (manifests keep their bytes).
    static func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
