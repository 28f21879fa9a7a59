import Foundation
import ThreatConfig
import ThreatModel
import ThreatPolicy

/// The deployed policies from the Kubernetes API: CiliumNetworkPolicy and NetworkPolicy in the
/// environment's namespace and CiliumClusterwideNetworkPolicy, paged with `limit`/`continue`.
/// A 403 or 404 on the Cilium kinds means Cilium is not installed: an empty state, not a failure.
/// Then, unless `pods: false`, the namespace's pods for coverage (KubernetesPodList).
public struct KubernetesPolicySource: PolicySource {
    public var settings: KubernetesSettings
    public var environment: [String: String]
    public static let pageSize = 500
    /// Most items, answer bytes and pages read for one list across its pages: an API that keeps
    /// handing out `continue` tokens (or the same one) is stopped with an error, not followed
    /// until memory runs out. The joined list is one document, so its bytes cap is the document cap.
    public static let maxItems = 50_000
    public static let maxBytes = InputLimits.documentBytes
    public static let maxPages = 1_000

    public init(settings: KubernetesSettings, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.settings = settings
        self.environment = environment
    }

    /// The list paths for a namespace, named as the replay layout names them.
    public static func paths(namespace ns: String) -> [(name: String, path: String, cilium: Bool)] {
        [
            ("ciliumnetworkpolicies", "/apis/cilium.io/v2/namespaces/\(ns)/ciliumnetworkpolicies", true),
            ("ciliumclusterwidenetworkpolicies", "/apis/cilium.io/v2/ciliumclusterwidenetworkpolicies", true),
            ("networkpolicies", "/apis/networking.k8s.io/v1/namespaces/\(ns)/networkpolicies", false),
        ]
    }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<PolicySet> {
        let conn = try KubeConnection.resolve(settings, redactor: context.redactor, environment: environment)
        var client = HTTPClient(options: conn.options)
        client.deadline = context.deadline
        let ns = context.environment.namespace
        var items: [PolicyItem] = []
        var notes: [String] = []
        var evidence: [EvidenceItem] = []
        var cover = PolicyCoverage(name: "policy lists", files: nil)
        cover.input.bytes = 0
        let folder = context.recording("policies")
        for (name, path, cilium) in KubernetesPolicySource.paths(namespace: ns) {
            var continueToken: String?
            var pageItems: [JSONValue] = []
            var first: JSONValue?
            var missing = false
            var pages = 0, bytes = 0
            repeat {
                var params = [["limit", String(KubernetesPolicySource.pageSize)]]
                if let c = continueToken { params.append(["continue", c]) }
                let (request, response) = try conn.get(path, params: params, client: client)
                let place = HTTPClient.redacted(conn.server + path)
                evidence.append(EvidenceItem(section: "policies", source: place, query: request.summary, sha256: SHA256Digest.hex(response.body)))
                if cilium, response.status == 403 || response.status == 404 {
                    if !notes.contains(where: { $0.hasPrefix("Cilium") }) {
                        notes.append("Cilium is not installed (the API answered \(response.status) for its policy kinds), so only Kubernetes NetworkPolicies apply.")
                    }
                    missing = true
                    cover.input.bytes! += response.body.count  // as recorded, so a replay counts the same
                    try? folder?.write(name, answer: response.body, request: request)
                    break
                }
                let json: JSONValue
                do {
                    json = try JSONValue.parse(bytes: response.body)
                } catch {
                    if response.status >= 400 {
                        throw .engine(place: place, status: response.status, message: String(decoding: response.body.prefix(300), as: UTF8.self))
                    }
                    throw .malformed(place: place, detail: "not valid JSON at \(error)")
                }
                if response.status >= 400 || json["kind"]?.stringValue == "Status" {
                    throw .engine(place: place, status: response.status, message: json["message"]?.stringValue ?? "error")
                }
                guard let list = json["items"]?.arrayValue else { throw .malformed(place: place, detail: "not a list answer (no \"items\")") }
                pages += 1
                bytes += response.body.count
                pageItems += list
                if first == nil { first = json }
                continueToken = json.at("metadata.continue")?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                if continueToken != nil, pageItems.count >= Self.maxItems || bytes >= Self.maxBytes || pages >= Self.maxPages {
                    throw .malformed(place: place, detail: "the list did not end within \(Self.maxItems) items, \(InputLimits.describe(bytes: Self.maxBytes)) "
                                     + "and \(Self.maxPages) pages (read \(pageItems.count) items, \(bytes) bytes in \(pages) pages, and the API "
                                     + "still handed out a continue token); stopped paging")
                }
            } while continueToken != nil
            if missing { continue }
            // The pages joined into one list answer: what a single unpaged list would have returned.
            var merged = first ?? .object([])
            if case let .object(pairs) = merged {
                merged = .object(pairs.map { k, v in
                    if k == "items" { return (k, .array(pageItems)) }
                    if k == "metadata", case let .object(m) = v { return (k, .object(m.filter { $0.0 != "continue" })) }
                    return (k, v)
                })
            }
            let text = merged.serialized(pretty: true) + "\n"
            cover.input.bytes! += text.utf8.count  // the joined list, as recorded
            if let folder {
                do {
                    try folder.write(name, answer: Array(text.utf8), request: RecordedRequest(method: "GET", path: path, params: [["limit", String(KubernetesPolicySource.pageSize)]]))
                } catch {
                    throw .unreadable(path: folder.path, reason: "--record: cannot write (\(error))")
                }
            }
            let loaded = PolicyDocumentLoader.loadDetailed(text: text, origin: HTTPClient.redacted(conn.server + path), namespace: ns)
            cover.add(loaded, namespace: ns)
            items += loaded.items
            notes += loaded.notes
        }
        // The namespace's pods, for coverage (`pods: false` turns it off): after the policies, which
        // it never fails; a list not read is said in a warning and in the coverage.
        var warnings = conn.warnings
        var podList: PodListWorkloads?
        if settings.pods {
            let (pods, podEvidence) = try KubernetesPodList.read(conn: conn, client: client, namespace: ns, folder: folder)
            evidence += podEvidence
            podList = pods
            if pods.notRead != nil { warnings.append(pods.statement) }
        }
        return SourceOutput(value: PolicySet(items: items, notes: notes, podList: podList), evidence: evidence, warnings: warnings,
                            coverage: SourceCoverage(source: "kubernetes", inputs: [cover.input]))
    }
}
