import ArgumentParser
import Foundation
import ThreatConfig
import ThreatModel
import ThreatPolicy
import ThreatSources

/// `--apply`, `--dry-run=server` and how to reach the cluster, shared by enable, disable and new.
struct PolicyApplyOptions: ParsableArguments {
    enum DryRun: String, ExpressibleByArgument, CaseIterable {
        case none, server
    }

    @Flag(name: .long, help: "Send the change to the Kubernetes API (enable/disable: a merge PATCH of each policy; new: a create). Without it nothing leaves the machine.")
    var apply = false

    @Option(name: .customLong("dry-run"), help: ArgumentHelp("With --apply: 'server' has the API server validate the change and answer without storing it (dryRun=All).", valueName: "none|server"))
    var dryRun: DryRun = .none

    @Option(name: .long, help: ArgumentHelp("With --apply: the kubeconfig (default: $KUBECONFIG's first file, else ~/.kube/config).", valueName: "file"))
    var kubeconfig: String?

    @Option(name: .long, help: ArgumentHelp("With --apply: the kubeconfig context (default: its current-context).", valueName: "name"))
    var context: String?

    @Flag(name: .long, help: "With --apply: use the pod's service account (token and CA) instead of a kubeconfig.")
    var inCluster = false

    @Option(name: .customLong("request-timeout"), help: ArgumentHelp("With --apply: seconds for each request (default 30).", valueName: "seconds"))
    var requestTimeout: Double = 30

    func validate() throws {
        if !apply {
            if dryRun == .server { throw ValidationError("--dry-run=server needs --apply (without --apply nothing is sent anywhere)") }
            if kubeconfig != nil || context != nil || inCluster {
                throw ValidationError("--kubeconfig, --context and --in-cluster need --apply")
            }
        }
        if inCluster && (kubeconfig != nil || context != nil) {
            throw ValidationError("--in-cluster cannot be combined with --kubeconfig or --context")
        }
        guard requestTimeout > 0, requestTimeout.isFinite else { throw ValidationError("--request-timeout: give a number of seconds above 0") }
    }

    var settings: KubernetesSettings {
        var s = KubernetesSettings()
        s.kubeconfig = kubeconfig
        s.context = context
        s.inCluster = inCluster
        s.timeout = requestTimeout
        return s
    }

    /// Sends every write and reports each on stderr; exit 3 when one was refused or could not be sent.
    func send(_ writes: [PolicyWrite]) throws {
        guard !writes.isEmpty else { return }
        let writer: PolicyClusterClient
        // The connection's credentials, kept out of every line printed below.
        let redactor = SecretRedactor()
        func note(_ s: String) { PolicyInput.note(redactor.redact(s)) }
        do {
            writer = try PolicyClusterClient(settings: settings, redactor: redactor)
        } catch {
            note("error: --apply: \(error.description)")
            throw ExitCode(3)
        }
        for w in writer.connection.warnings { note("warning: \(w)") }
        var failed = false
        for w in writes {
            let content = w.contentType.map { " (\($0)) \(w.body)" } ?? ""
            note("sending: \(w.method) \(HTTPClient.redacted(writer.connection.server + w.path))\(w.dryRun ? "?dryRun=All" : "")\(content)")
            do {
                let outcome = try writer.send(w)
                note((outcome.succeeded ? "applied: " : "error: ") + outcome.summary)
                failed = failed || !outcome.succeeded
            } catch {
                note("error: \(w.method) \(w.path) for \(w.objectName) (\(w.location)): \(error.description)")
                failed = true
            }
        }
        if failed { throw ExitCode(3) }
    }
}
