import Foundation
import ThreatConfig
import ThreatModel
import ThreatPolicy

/// The policy set from recorded Kubernetes list answers: `ciliumnetworkpolicies.json`,
/// `ciliumclusterwidenetworkpolicies.json` and `networkpolicies.json` (each optional). A recorded
/// 403 or 404 `Status` on the Cilium kinds means the CRDs are not installed: an empty state.
/// `pods.json` (optional) is the namespace's pod list, for coverage.
public struct ReplayPolicySource: PolicySource {
    public static let answers = ["ciliumnetworkpolicies", "ciliumclusterwidenetworkpolicies", "networkpolicies"]
    public var folder: RecordingFolder
    /// The place each answer is named by in policy locations (`NAME` → URL), when it should be
    /// the API URL it was recorded from rather than the file (`--replay` of a recorded run).
    public var origins: [String: String]
    /// The live source a `--replay` of a recorded run stands in for (`kubernetes`), as for WAF.
    public var liveName: String?

    public init(path: String, origins: [String: String] = [:], liveName: String? = nil) {
        folder = RecordingFolder(path: path)
        self.origins = origins
        self.liveName = liveName
    }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<PolicySet> {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDir), isDir.boolValue else {
            throw .unreadable(path: folder.path, reason: "no such folder")
        }
        var items: [PolicyItem] = []
        var notes: [String] = []
        var evidence: [EvidenceItem] = []
        var found = 0
        var cover = PolicyCoverage(name: "policy lists", files: nil)
        cover.input.bytes = 0
        for name in ReplayPolicySource.answers where FileManager.default.fileExists(atPath: folder.answerPath(name)) {
            found += 1
            let (bytes, digest) = try folder.answer(name, deadline: context.deadline)
            cover.input.bytes! += bytes.count
            let place = folder.answerPath(name)
            evidence.append(EvidenceItem(section: "policies", source: place, query: folder.request(name, deadline: context.deadline)?.summary, sha256: digest))
            let json: JSONValue
            do {
                json = try JSONValue.parse(bytes: bytes)
            } catch {
                throw .malformed(place: place, detail: "not valid JSON at \(error)")
            }
            if json["kind"]?.stringValue == "Status" {
                let code = json["code"]?.intValue
                if name.hasPrefix("cilium"), code == 403 || code == 404 {
                    if !notes.contains(where: { $0.hasPrefix("Cilium") }) {
                        notes.append("Cilium is not installed (the API answered \(code ?? 0) for its policy kinds), so only Kubernetes NetworkPolicies apply.")
                    }
                    continue
                }
                throw .engine(place: place, status: code, message: json["message"]?.stringValue ?? "Status answer")
            }
            guard json["items"]?.arrayValue != nil else {
                throw .malformed(place: place, detail: "not a Kubernetes list answer (no \"items\")")
            }
            let loaded = PolicyDocumentLoader.loadDetailed(text: String(decoding: bytes, as: UTF8.self), origin: origins[name] ?? place,
                                                           namespace: context.environment.namespace, deadline: context.deadline)
            if loaded.cutOff { throw .unreadable(path: place, reason: context.deadline.cause(while: "reading it")) }
            cover.add(loaded, namespace: context.environment.namespace)
            items += loaded.items
            notes += loaded.notes
        }
        guard found > 0 else { throw .unreadable(path: folder.path, reason: "no recorded policy list answers in it") }
        var podList: PodListWorkloads?
        if FileManager.default.fileExists(atPath: folder.answerPath(KubernetesPodList.answerName)) {
            let (list, item) = try recordedPods(context)
            podList = list
            evidence.append(item)
        }
        var coverage = SourceCoverage(source: liveName ?? "replay", inputs: [cover.input])
        if liveName == nil { coverage.notes.append("recorded Kubernetes list answers in \(folder.path) (\(found) of \(ReplayPolicySource.answers.count) kinds)") }
        return SourceOutput(value: PolicySet(items: items, notes: notes, podList: podList), evidence: evidence,
                            warnings: podList?.notRead != nil && liveName == nil ? [podList!.statement] : [], coverage: coverage)
    }

    /// `pods.json`: the namespace's pods, cut down to what coverage needs, or a `Status` saying why
    /// the list was not read (a 403: the pods list is not granted). Never fails the policies: a
    /// broken answer is a list not read, with the reason.
    func recordedPods(_ context: SourceContext) throws(SourceError) -> (PodListWorkloads, EvidenceItem) {
        let name = KubernetesPodList.answerName
        let place = folder.answerPath(name)
        let (bytes, digest) = try folder.answer(name, deadline: context.deadline)
        let item = EvidenceItem(section: "policies", source: place, query: folder.request(name, deadline: context.deadline)?.summary, sha256: digest)
        let json: JSONValue
        do {
            json = try JSONValue.parse(bytes: bytes)
        } catch {
            return (.notRead("\(place): not valid JSON at \(error)"), item)
        }
        if json["kind"]?.stringValue == "Status" {
            let code = json["code"]?.intValue
            return (.notRead(code == 403 ? KubernetesPodList.forbiddenNote : json["message"]?.stringValue ?? "the recorded answer is a Status (code \(code ?? 0))"), item)
        }
        guard let items = json["items"]?.arrayValue else {
            return (.notRead("\(place): not a Kubernetes list answer (no \"items\")"), item)
        }
        return (KubernetesPodList.workloads(items.map { KubernetesPodList.reduce($0, namespace: context.environment.namespace) ?? .null }), item)
    }
}

/// Manifests from a file, a folder (recursive) or stdin (`-`).
public struct DirectoryPolicySource: PolicySource {
    public var path: String
    /// Leave out policies of other namespaces (`report --policies`, one input for all environments).
    public var onlyNamespace: Bool
    public init(path: String, onlyNamespace: Bool = false) {
        self.path = path
        self.onlyNamespace = onlyNamespace
    }

    public func fetch(_ context: SourceContext) throws(SourceError) -> SourceOutput<PolicySet> {
        try PolicyDocumentLoader.loadPath(path, namespace: context.environment.namespace, onlyNamespace: onlyNamespace,
                                         deadline: context.deadline, stdin: context.stdin)
    }
}
