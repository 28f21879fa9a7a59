import ArgumentParser
import ThreatReportKit

/// `threat-report checks`: the checks the analysis runs, as docs/checks.md.
struct ChecksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checks",
        abstract: "List the checks behind the findings (id, levels, description, what to do) as Markdown.")

    func run() { print(CheckListing.markdown, terminator: "") }
}
