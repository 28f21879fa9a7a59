import ArgumentParser
import Foundation
import ThreatModel
import ThreatPolicy

/// `threat-report policy delete NAME --namespace NS [--kind KIND] [--apply [--dry-run=server]]`:
/// GitLab's policy editor could delete a policy; this sends the one DELETE through the same
/// cluster-write client as enable, disable and new. Without --apply it only says what it would do.
struct PolicyDeleteCommand: ParsableCommand {
    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case cilium, clusterwide, kubernetes
        var policyKind: PolicyKind {
            switch self {
            case .cilium: .ciliumNetworkPolicy
            case .clusterwide: .ciliumClusterwideNetworkPolicy
            case .kubernetes: .networkPolicy
            }
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a network policy from the cluster (only with --apply; without it, say what would be sent).",
        discussion: """
        Sends DELETE for the policy NAME (a CiliumNetworkPolicy unless --kind says otherwise) in --namespace to the \
        API server of the kubeconfig context, or of the pod's service account with --in-cluster. --dry-run=server has \
        the server check the deletion (it must exist and the credentials must allow it) without deleting anything \
        (dryRun=All). Keep a copy first: `kubectl -n NS get ciliumnetworkpolicy NAME -o yaml > NAME.yaml`. \
        Exit codes: 0 done (or nothing sent without --apply); 2 usage error; 3 the API refused or could not be reached.
        """)

    @Argument(help: ArgumentHelp("The policy's metadata.name.", valueName: "name"))
    var name: String

    @Option(name: .long, help: ArgumentHelp("The policy's namespace (not for --kind clusterwide).", valueName: "namespace"))
    var namespace: String?

    @Option(name: .long, help: ArgumentHelp("cilium (CiliumNetworkPolicy, the default), clusterwide (CiliumClusterwideNetworkPolicy) or kubernetes (NetworkPolicy).", valueName: "kind"))
    var kind: Kind = .cilium

    @OptionGroup(title: "Sending the change to the cluster")
    var kube: PolicyApplyOptions

    func validate() throws {
        if kind == .clusterwide, namespace != nil { throw ValidationError("--namespace: a CiliumClusterwideNetworkPolicy has no namespace; leave it out") }
        if kind != .clusterwide, namespace == nil { throw ValidationError("--namespace is required: name the policy's namespace") }
    }

    func run() throws {
        let write: PolicyWrite
        do {
            write = try KubernetesPolicyAPI.delete(kind: kind.policyKind, name: name, namespace: namespace, dryRun: kube.dryRun == .server)
        } catch {
            throw PolicyInput.fail(error.description)
        }
        guard kube.apply else {
            PolicyInput.note("would send: DELETE \(write.path) for \(write.objectName); nothing was sent. "
                + "Add --apply (and --dry-run=server to have the API server check it first) to delete it, "
                + "or run `kubectl\(write.namespace.map { " -n \($0)" } ?? "") delete \(KubernetesPolicyAPI.resource(write.kind)) \(write.name)`.")
            return
        }
        try kube.send([write])
    }
}
