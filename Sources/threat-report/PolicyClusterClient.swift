import Foundation
import ThreatConfig
import ThreatModel
import ThreatPolicy
import ThreatSources

/// The one client that writes to a cluster: it sends the `PolicyWrite`s the `policy … --apply`
/// commands build (ThreatPolicy) to the API server of a kubeconfig context or of the in-cluster
/// service account, authenticated as the policy source is. The report itself never writes.
struct PolicyClusterClient: Sendable {
    var connection: KubeConnection

    /// `redactor`: registers the connection's credentials and filters its answers.
    init(settings: KubernetesSettings, redactor: SecretRedactor,
         environment: [String: String] = ProcessInfo.processInfo.environment) throws(SourceError) {
        connection = try KubeConnection.resolve(settings, redactor: redactor, environment: environment)
    }

    /// One write; a refusal is an outcome with `error`, a transport failure throws.
    func send(_ w: PolicyWrite) throws(SourceError) -> PolicyWriteOutcome {
        var options = connection.options
        // A create or delete is not repeated on an answer the server may have acted on (a second
        // try would meet 409 AlreadyExists or 404); a merge patch is idempotent.
        if w.operation != .patch { options.retryStatuses = [429] }
        let request = RecordedRequest(method: w.method, path: w.path, params: w.params, body: w.sentBody)
        let response = try connection.send(request, contentType: w.contentType, client: HTTPClient(options: options))
        return KubernetesPolicyAPI.outcome(w, status: response.status, body: response.body)
    }
}
