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
        stdout. The policy stays deployed but selects no pod, as GitLab's switch did. `enable` undoes it. \
        --apply sends each policy's change to the API as a merge PATCH (--dry-run=server: validated, not stored). \
        Exit codes: 0 done; 2 usage error or unreadable input (nothing sent); 3 the API refused a change or could \
        not be reached.
        """)

    @OptionGroup var options: PolicyLabelOptions

    func run() throws { try PolicyLabelCommand.run(.disable, options) }
}
