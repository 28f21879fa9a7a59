import Foundation
import ThreatModel

/// The pods of an environment's namespace from the Kubernetes API, for policy coverage
/// (docs/policies.md, "Policy coverage"): one read-only list, `GET /api/v1/namespaces/{ns}/pods`,
/// paged with `limit`/`continue` and bounded like the policy lists. Each page is cut down at once
/// to what coverage needs (name, labels, owner, phase): pod specs, which may carry secrets in
/// environment values, are never kept or recorded. A refusal (403), an error or a hostile answer
/// never fails the policy section: the list is "not read" with the reason, in the report.
public enum KubernetesPodList {
    /// The recording's answer name (`policies/pods.json`).
    public static let answerName = "pods"
    public static let forbiddenNote = "403 Forbidden — grant pods list, see docs/ci.md"
    /// Labels that differ from pod to pod of one workload: not the workload's.
    static let perPodLabels = WorkloadLabels.perPod
    static let maxLabels = 64

    public static func path(namespace ns: String) -> String { "/api/v1/namespaces/\(ns)/pods" }

    /// Reads the list: the workloads (or why not), the evidence of each page, and the recorded
    /// answer written to `folder` when recording (the cut-down pods joined in one list; or a
    /// `Status` with the reason when the list was not read).
    static func read(conn: KubeConnection, client: HTTPClient, namespace ns: String,
                     folder: RecordingFolder?) throws(SourceError) -> (PodListWorkloads, [EvidenceItem]) {
        let path = path(namespace: ns)
        let place = HTTPClient.redacted(conn.server + path)
        var evidence: [EvidenceItem] = []
        var kept: [JSONValue] = []
        var unreadable = 0
        var outcome: Result<Void, Failure>
        do {
            try page(conn: conn, client: client, path: path, namespace: ns, place: place, evidence: &evidence, kept: &kept, unreadable: &unreadable)
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        let request = RecordedRequest(method: "GET", path: path, params: [["limit", String(KubernetesPolicySource.pageSize)]])
        let answer: JSONValue
        let result: PodListWorkloads
        switch outcome {
        case .success:
            answer = .object([("kind", .string("PodList")), ("apiVersion", .string("v1")), ("metadata", .object([])), ("items", .array(kept))])
            result = workloads(kept, unreadable: unreadable)
        case let .failure(f):
            answer = .object([("kind", .string("Status")), ("apiVersion", .string("v1")), ("status", .string("Failure")),
                              ("code", .number(Double(f.code ?? 0))), ("message", .string(f.note))])
            result = .notRead(f.note)
        }
        if let folder {
            do {
                try folder.write(answerName, answer: Array((answer.serialized(pretty: true) + "\n").utf8), request: request)
            } catch {
                throw .unreadable(path: folder.path, reason: "--record: cannot write (\(error))")
            }
        }
        return (result, evidence)
    }

    /// Why the list was not read: the HTTP status when there was one, and the sentence.
    struct Failure: Error {
        var code: Int?
        var note: String
    }

    private static func page(conn: KubeConnection, client: HTTPClient, path: String, namespace ns: String, place: String, evidence: inout [EvidenceItem],
                             kept: inout [JSONValue], unreadable: inout Int) throws(Failure) {
        var continueToken: String?
        var pages = 0, bytes = 0, items = 0
        repeat {
            var params = [["limit", String(KubernetesPolicySource.pageSize)]]
            if let c = continueToken { params.append(["continue", c]) }
            let request: RecordedRequest, response: HTTPResponse
            do {
                (request, response) = try conn.get(path, params: params, client: client)
            } catch {
                throw Failure(code: nil, note: error.description)
            }
            evidence.append(EvidenceItem(section: "policies", source: place, query: request.summary, sha256: SHA256Digest.hex(response.body)))
            if response.status == 403 { throw Failure(code: 403, note: forbiddenNote) }
            let json: JSONValue
            do {
                json = try JSONValue.parse(bytes: response.body)
            } catch {
                if response.status >= 400 {
                    throw Failure(code: response.status, note: SourceError.engine(place: place, status: response.status,
                                                                                  message: String(decoding: response.body.prefix(300), as: UTF8.self)).description)
                }
                throw Failure(code: nil, note: "\(place): not valid JSON at \(error)")
            }
            if response.status >= 400 || json["kind"]?.stringValue == "Status" {
                throw Failure(code: response.status, note: SourceError.engine(place: place, status: response.status,
                                                                              message: json["message"]?.stringValue ?? "error").description)
            }
            guard let list = json["items"]?.arrayValue else { throw Failure(code: nil, note: "\(place): not a list answer (no \"items\")") }
            pages += 1
            bytes += response.body.count
            items += list.count
            for item in list {
                if let pod = reduce(item, namespace: ns) { kept.append(pod) } else { unreadable += 1 }
            }
            continueToken = json.at("metadata.continue")?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            if continueToken != nil, items >= KubernetesPolicySource.maxItems || bytes >= KubernetesPolicySource.maxBytes
                || pages >= KubernetesPolicySource.maxPages {
                throw Failure(code: nil, note: "\(place): the list did not end within \(KubernetesPolicySource.maxItems) items, "
                              + "\(InputLimits.describe(bytes: KubernetesPolicySource.maxBytes)) and \(KubernetesPolicySource.maxPages) pages "
                              + "(read \(items) items, \(bytes) bytes in \(pages) pages, and the API still handed out a continue token); stopped paging")
            }
        } while continueToken != nil
    }

    /// A pod cut down to `{metadata: {name, labels, ownerReferences: [{kind, name, controller}]},
    /// status: {phase}}`; nil when it has no name (not a pod) or names another namespace (a
    /// namespaced list holds none: a hostile or broken answer).
    public static func reduce(_ item: JSONValue, namespace ns: String) -> JSONValue? {
        guard let name = item.at("metadata.name")?.stringValue, !name.isEmpty else { return nil }
        if let other = item.at("metadata.namespace")?.stringValue, other != ns { return nil }
        var labels: [(String, JSONValue)] = []
        for (k, v) in item.at("metadata.labels")?.objectValue ?? [] {
            guard labels.count < maxLabels, let s = v.stringValue else { continue }
            labels.append((InputLimits.keyPrefix(k), .string(InputLimits.keyPrefix(s))))
        }
        var owners: [JSONValue] = []
        for o in (item.at("metadata.ownerReferences")?.arrayValue ?? []).prefix(8) {
            guard let kind = o["kind"]?.stringValue, let n = o["name"]?.stringValue else { continue }
            owners.append(.object([("kind", .string(InputLimits.keyPrefix(kind))), ("name", .string(InputLimits.keyPrefix(n))),
                                   ("controller", .bool(o["controller"]?.boolValue ?? false))]))
        }
        return .object([
            ("metadata", .object([("name", .string(InputLimits.keyPrefix(name))), ("labels", .object(labels)), ("ownerReferences", .array(owners))])),
            ("status", .object([("phase", .string(InputLimits.keyPrefix(item.at("status.phase")?.stringValue ?? "")))])),
        ])
    }

    /// The workload a pod belongs to: its controller (else first) owner's name, a ReplicaSet's
    /// without the pod-template-hash (the Deployment); else the pod's own name.
    static func workloadName(pod: String, labels: [String: String], owners: [JSONValue]) -> String {
        let owner = owners.first { $0["controller"]?.boolValue == true } ?? owners.first
        guard let kind = owner?["kind"]?.stringValue, let name = owner?["name"]?.stringValue, !name.isEmpty else { return pod }
        switch kind {
        case "ReplicaSet":
            if let hash = labels["pod-template-hash"], !hash.isEmpty, name.hasSuffix("-" + hash), name.count > hash.count + 1 {
                return String(name.dropLast(hash.count + 1))
            }
            return name
        case "StatefulSet", "DaemonSet", "Job", "ReplicationController": return name
        default: return pod
        }
    }

    /// The workloads of cut-down pods (live pages or a recorded list): pods that have finished
    /// (Succeeded, Failed) left out and counted.
    public static func workloads(_ items: [JSONValue], unreadable: Int = 0) -> PodListWorkloads {
        var table: [String: PodListWorkloads.Workload] = [:]
        var firstPod: [String: String] = [:]
        var pods = 0, finished = 0, unread = unreadable
        for item in items {
            guard let pod = item.at("metadata.name")?.stringValue, !pod.isEmpty else {
                unread += 1
                continue
            }
            let phase = item.at("status.phase")?.stringValue ?? ""
            if phase == "Succeeded" || phase == "Failed" {
                finished += 1
                continue
            }
            pods += 1
            var labels: [String: String] = [:]
            for (k, v) in (item.at("metadata.labels")?.objectValue ?? []).prefix(maxLabels) {
                if let s = v.stringValue { labels[k] = s }
            }
            let name = workloadName(pod: pod, labels: labels, owners: item.at("metadata.ownerReferences")?.arrayValue ?? [])
            let own = labels.filter { !perPodLabels.contains($0.key) }
            if var w = table[name] {
                w.pods += 1
                if pod < firstPod[name]! {
                    firstPod[name] = pod
                    w.labels = own
                }
                table[name] = w
            } else {
                table[name] = PodListWorkloads.Workload(name: name, labels: own, pods: 1)
                firstPod[name] = pod
            }
        }
        var out = PodListWorkloads(workloads: table.values.sorted { $0.name < $1.name }, pods: pods, finished: finished)
        out.unreadable = unread
        return out
    }
}
