import ArgumentParser
import Foundation
import ThreatPolicy
import ThreatRender
import ThreatSources

/// `threat-report policy enable FILE|-`: removes GitLab's disabled_by label.
struct PolicyEnableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Print the manifests with GitLab's disabled_by label removed, so the policies select their pods again.",
        discussion: """
        Removes network-policy.gitlab.com/disabled_by from each policy's selector (podSelector, endpointSelector) \
        and prints the whole stream, otherwise unchanged, on stdout. Apply it with `kubectl apply -f`, or pass \
        --apply to send each policy's change to the API as a merge PATCH (--dry-run=server: validated, not stored). \
        Exit codes: 0 done; 2 usage error or unreadable input (nothing sent); 3 the API refused a change or could \
        not be reached.
        """)

    @OptionGroup var options: PolicyLabelOptions

    func run() throws { try PolicyLabelCommand.run(.enable, options) }
}

/// The arguments `enable` and `disable` share.
struct PolicyLabelOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Manifest file (YAML or JSON, several documents allowed), or - for stdin.", valueName: "file"))
    var file: String

    @Option(name: .long, help: ArgumentHelp("Only the policy with this metadata.name (repeatable; default: every policy).", valueName: "name"))
    var name: [String] = []

    @Option(name: .long, help: ArgumentHelp("With --apply: the namespace of policies whose manifest has no metadata.namespace.", valueName: "namespace"))
    var namespace: String?

    @OptionGroup(title: "Sending the change to the cluster")
    var kube: PolicyApplyOptions

    func validate() throws {
        if namespace != nil && !kube.apply { throw ValidationError("--namespace needs --apply") }
    }
}

/// The shared body of `enable` and `disable`.
enum PolicyLabelCommand {
    static func run(_ action: PolicyEnforcementAction, _ options: PolicyLabelOptions) throws {
        let (file, names, namespace, kube) = (options.file, options.name, options.namespace, options.kube)
        let input = try PolicyInput.read(file)
        // The manifest is printed unchanged: refuse characters that would reach the terminal raw.
        if let place = TerminalText.firstUnsafe(in: input.text) {
            throw PolicyInput.fail("\(input.origin):\(place.line):\(place.column): \(place.name) in the manifest. "
                + "enable and disable print the manifest unchanged, and refuse control characters and bidi overrides, which can disguise text on a terminal; remove it and retry.")
        }
        let result: PolicyLabelResult
        do {
            result = try PolicyLabelEditor.apply(action, to: input.text, origin: input.origin, names: names)
        } catch {
            throw PolicyInput.fail(error.description)
        }
        // Every write is built, and checked, before anything is printed or sent.
        var writes: [PolicyWrite] = []
        if kube.apply {
            do {
                writes = try KubernetesPolicyAPI.patches(action, edited: result.text, origin: input.origin, names: names,
                                                         namespace: namespace, dryRun: kube.dryRun == .server)
            } catch {
                throw PolicyInput.fail("--apply: \(error.description)")
            }
        }
        PolicyInput.write(result.text)
        let done = action == .enable ? "enabled" : "disabled"
        for c in result.changes {
            PolicyInput.note("\(c.changed ? done : "already \(done)"): \(c.kind.rawValue) \(c.name) (\(c.location))")
        }
        for n in result.notes { PolicyInput.note("note: \(n)") }
        try kube.send(writes)
    }
}
