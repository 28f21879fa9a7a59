import ArgumentParser
import Foundation
import ThreatSources

/// `threat-report policy disable FILE|-`: adds GitLab's disabled_by label.
struct PolicyDisableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "disable",
        abstract: "Print the manifests with GitLab's disabled_by label added, so the policies select no pod.",
        discussion: """
        Adds network-policy.gitlab.com/disabled_by: gitlab to each policy's selector matchLabels (podSelector, \
        endpointSelector; matchLabels is created when absent) and prints the whole stream, otherwise unchanged, on \
        stdout. The policy stays deployed but selects no pod, as GitLab's switch did. `enable` undoes it.
        """)

    @Argument(help: ArgumentHelp("Manifest file (YAML or JSON, several documents allowed), or - for stdin.", valueName: "file"))
    var file: String

    @Option(name: .long, help: ArgumentHelp("Only the policy with this metadata.name (repeatable; default: every policy).", valueName: "name"))
    var name: [String] = []

    func run() throws { try PolicyLabelCommand.run(.disable, file: file, names: name) }
}
