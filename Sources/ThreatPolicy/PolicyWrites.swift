import Foundation
import ThreatModel
import Yams

/// One change to send to the Kubernetes API: a merge patch of an existing policy (`policy enable` /
/// `policy disable --apply`) or the creation of a new one (`policy new --apply`).
public struct PolicyWrite: Sendable, Equatable {
    public enum Operation: String, Sendable, Equatable {
        /// PATCH with `application/merge-patch+json`.
        case patch
        /// POST to the collection with `application/json`.
        case create
        /// DELETE of the object (no body).
        case delete
    }

    public var operation: Operation
    public var kind: PolicyKind
    public var name: String
    /// Nil for CiliumClusterwideNetworkPolicy.
    public var namespace: String?
    /// `dryRun=All`: the server validates and answers, and stores nothing.
    public var dryRun: Bool
    /// The JSON body.
    public var body: String
    /// Where the policy is written (`file:line`).
    public var location: String

    public var method: String {
        switch operation {
        case .patch: "PATCH"
        case .create: "POST"
        case .delete: "DELETE"
        }
    }
    /// Nil for a delete, which has no body.
    public var contentType: String? {
        switch operation {
        case .patch: "application/merge-patch+json"
        case .create: "application/json"
        case .delete: nil
        }
    }
    /// The body to send; nil for a delete.
    public var sentBody: String? { operation == .delete ? nil : body }
    public var path: String {
        KubernetesPolicyAPI.path(kind: kind, namespace: namespace, name: operation == .create ? nil : name)
    }
    public var params: [[String]] { dryRun ? [["dryRun", "All"]] : [] }
    /// `ciliumnetworkpolicy shop/web`, as kubectl names objects.
    public var objectName: String {
        "\(kind.rawValue.lowercased()) " + (namespace.map { "\($0)/" } ?? "") + name
    }
}

/// What the server answered to one write.
public struct PolicyWriteOutcome: Sendable, Equatable {
    public var write: PolicyWrite
    public var status: Int
    /// Set when the server took the change (2xx): the returned object's name and resourceVersion.
    public var name: String?
    public var resourceVersion: String?
    /// Whether the returned object is enforced (GitLab's label absent); nil when not readable.
    public var enforced: Bool?
    /// Set when the server refused: a sentence with the Kubernetes Status message and what to do.
    public var error: String?
    public var succeeded: Bool { error == nil }

    /// One line for stderr.
    public var summary: String {
        let dry = write.dryRun ? " (server dry run: nothing stored)" : ""
        if let error { return "\(write.method) \(write.path) failed: \(error)" }
        var s = "\(write.method) \(write.path)\(write.dryRun ? "?dryRun=All" : "") → \(status): \(write.objectName)"
        if let resourceVersion { s += " resourceVersion \(resourceVersion)" }
        if write.operation == .delete { return s + ": deleted" + dry }
        if let enforced { s += enforced ? ", enforced" : ", not enforced (GitLab's disabled_by label)" }
        return s + dry
    }
}

/// Why the writes could not be built; nothing was sent.
public struct PolicyWriteError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// API paths of the three policy kinds, and the writes `--apply` sends.
public enum KubernetesPolicyAPI {
    /// The plural resource name.
    public static func resource(_ kind: PolicyKind) -> String {
        switch kind {
        case .ciliumNetworkPolicy: "ciliumnetworkpolicies"
        case .ciliumClusterwideNetworkPolicy: "ciliumclusterwidenetworkpolicies"
        case .networkPolicy: "networkpolicies"
        }
    }

    /// `/apis/GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME]`: the object paths `policy … --apply`
    /// writes to. The report itself only lists (`KubernetesPolicySource.paths`), so the CronJob
    /// recipe's RBAC stays list-only; these are for a user's own credentials.
    public static func path(kind: PolicyKind, namespace: String?, name: String?) -> String {
        let groupVersion = kind == .networkPolicy ? "networking.k8s.io/v1" : "cilium.io/v2"
        var p = "/apis/" + groupVersion
        if kind != .ciliumClusterwideNetworkPolicy, let namespace { p += "/namespaces/\(namespace)" }
        p += "/" + resource(kind)
        if let name { p += "/" + name }
        return p
    }

    static let cilumLabelKeys = [gitlabDisabledByLabel, "k8s:" + gitlabDisabledByLabel, "any:" + gitlabDisabledByLabel]

    /// The namespace a write goes to: the manifest's, else `--namespace`; both and different is an
    /// error, as with kubectl. Clusterwide policies have none.
    static func namespace(kind: PolicyKind, manifest: String?, flag: String?, name: String, location: String) throws(PolicyWriteError) -> String? {
        if kind == .ciliumClusterwideNetworkPolicy { return nil }
        if let manifest, let flag, manifest != flag {
            throw PolicyWriteError("\(location): \(kind.rawValue) \(name) is in namespace '\(manifest)', but --namespace says '\(flag)'")
        }
        guard let ns = manifest ?? flag, RuleModeValues.isDNSLabel(ns) else {
            if let bad = manifest ?? flag {
                throw PolicyWriteError("\(location): '\(bad)' is not a namespace name")
            }
            throw PolicyWriteError("\(location): \(kind.rawValue) \(name) has no metadata.namespace; pass --namespace NAME")
        }
        return ns
    }

    /// Merge patches that put each policy of `edited` (the output of `PolicyLabelEditor`) into the
    /// state `action` asks for, and change nothing else: `spec.<selector>.matchLabels` gets the label
    /// (or `null` for it, which removes it); a Cilium `specs` list, which a merge patch cannot
    /// address item by item, is sent whole, as the manifest has it. A `metadata.resourceVersion` in the
    /// manifest is sent too, so the server refuses (409) when the object changed since it was read.
    public static func patches(_ action: PolicyEnforcementAction, edited text: String, origin: String, names: [String],
                               namespace flag: String?, dryRun: Bool) throws(PolicyWriteError) -> [PolicyWrite] {
        let filter: Set<String>? = names.isEmpty ? nil : Set(names)
        var out: [PolicyWrite] = []
        for chunk in DocumentSplitter.split(text) {
            guard let root = try? Yams.compose(yaml: chunk.text) else { continue }
            for ref in PolicyNodeEdits.policies(in: root) where filter?.contains(ref.name ?? "") ?? true {
                let location = "\(origin):\((ref.node.mark?.line ?? 1) + chunk.firstLine - 1)"
                guard let name = ref.name, !name.isEmpty else {
                    throw PolicyWriteError("\(location): a \(ref.kind.rawValue) without metadata.name cannot be patched")
                }
                let ns = try namespace(kind: ref.kind, manifest: ref.node["metadata"]?["namespace"]?.scalar?.string,
                                       flag: flag, name: name, location: location)
                let labelKeys = ref.kind == .networkPolicy ? [gitlabDisabledByLabel] : cilumLabelKeys
                let labels: JSONValue = action == .disable
                    ? .object([(gitlabDisabledByLabel, .string(PolicyNodeEdits.labelValue))])
                    : .object(labelKeys.map { ($0, .null) })
                var top: [(String, JSONValue)] = []
                if let rv = ref.node["metadata"]?["resourceVersion"]?.scalar?.string, !rv.isEmpty {
                    top.append(("metadata", .object([("resourceVersion", .string(rv))])))
                }
                if let spec = ref.node["spec"], spec.mapping != nil {
                    let sels = PolicyNodeEdits.selectorKeys(ref.kind).filter { spec[$0] != nil }
                    top.append(("spec", .object(sels.map { ($0, .object([("matchLabels", labels)])) })))
                }
                if ref.kind != .networkPolicy, let specs = ref.node["specs"], specs.sequence != nil {
                    top.append(("specs", PolicyNodeEdits.json(specs)))
                }
                out.append(PolicyWrite(operation: .patch, kind: ref.kind, name: name, namespace: ns, dryRun: dryRun,
                                       body: JSONValue.object(top).serialized(pretty: false), location: location))
            }
        }
        return out
    }

    /// The creation of the one policy of `manifest` (YAML), in its namespace or `namespace`.
    public static func create(manifest: String, origin: String, namespace flag: String?, dryRun: Bool) throws(PolicyWriteError) -> PolicyWrite {
        guard let root = try? Yams.compose(yaml: manifest), let ref = PolicyNodeEdits.policies(in: root).first,
              let name = ref.name else {
            throw PolicyWriteError("\(origin): no policy with a metadata.name to create")
        }
        let ns = try namespace(kind: ref.kind, manifest: root["metadata"]?["namespace"]?.scalar?.string, flag: flag, name: name, location: origin)
        var json = PolicyNodeEdits.json(root)
        // The object carries the namespace it is created in, as kubectl sends it.
        if let ns, case let .object(pairs) = json {
            json = .object(pairs.map { k, v in
                guard k == "metadata", case let .object(m) = v else { return (k, v) }
                return (k, .object(m.filter { $0.0 != "namespace" } + [("namespace", .string(ns))]))
            })
        }
        return PolicyWrite(operation: .create, kind: ref.kind, name: name, namespace: ns, dryRun: dryRun,
                           body: json.serialized(pretty: false), location: origin)
    }

    /// The deletion of one policy by kind, name and namespace (`policy delete NAME --apply`). The
    /// name must be a Kubernetes object name and the namespace a DNS label, so nothing else can
    /// reach the request path.
    public static func delete(kind: PolicyKind, name: String, namespace: String?, dryRun: Bool) throws(PolicyWriteError) -> PolicyWrite {
        guard RuleModeValues.isDNSSubdomain(name) else {
            throw PolicyWriteError("NAME: '\(name)' is not a Kubernetes object name (lower-case letters, digits, '-' and '.', at most 253 characters)")
        }
        let ns = try self.namespace(kind: kind, manifest: nil, flag: namespace, name: name, location: "--namespace")
        return PolicyWrite(operation: .delete, kind: kind, name: name, namespace: ns, dryRun: dryRun, body: "",
                           location: "\(kind.rawValue) \(ns.map { "\($0)/" } ?? "")\(name)")
    }

    /// Reads the server's answer: the stored (or, on a dry run, the would-be) object, or the
    /// Kubernetes Status of a refusal in words a user acts on.
    public static func outcome(_ w: PolicyWrite, status: Int, body: [UInt8]) -> PolicyWriteOutcome {
        var o = PolicyWriteOutcome(write: w, status: status)
        let json = try? JSONValue.parse(bytes: body)
        if (200..<300).contains(status), w.operation == .delete {
            // The deleted object (or a Status of success): nothing is enforced any more.
            o.name = json?.at("metadata.name")?.stringValue ?? w.name
            o.resourceVersion = json?.at("metadata.resourceVersion")?.stringValue
            return o
        }
        if (200..<300).contains(status), let json, json["kind"]?.stringValue != "Status" {
            o.name = json.at("metadata.name")?.stringValue
            o.resourceVersion = json.at("metadata.resourceVersion")?.stringValue
            let loaded = PolicyDocumentLoader.loadDetailed(text: String(decoding: body, as: UTF8.self), origin: "answer")
            if loaded.items.count == 1, loaded.items[0].valid { o.enforced = loaded.items[0].enabled }
            return o
        }
        let message = clean(json?["message"]?.stringValue
            ?? (json == nil ? String(decoding: body.prefix(300), as: UTF8.self) : ""))
        let said = message.isEmpty ? "" : " The server said: \(message)"
        let what = w.objectName
        let verb = w.operation.rawValue
        switch status {
        case 404 where w.operation == .delete:
            o.error = "404 Not Found: \(what) does not exist on the server (already deleted, or another kind or namespace?); list them with `kubectl get \(KubernetesPolicyAPI.resource(w.kind))\(w.namespace.map { " -n \($0)" } ?? "")`.\(said)"
        case 404 where w.operation == .patch:
            o.error = "404 Not Found: \(what) does not exist on the server (create it with `kubectl apply -f FILE`, or `threat-report policy new … --apply`).\(said)"
        case 404:
            o.error = "404 Not Found: the API has no \(KubernetesPolicyAPI.resource(w.kind)) in \(w.namespace.map { "namespace \($0)" } ?? "the cluster") (is the namespace there, and Cilium installed?).\(said)"
        case 409 where w.operation == .patch:
            o.error = "409 Conflict: \(what) changed on the server since this manifest was read (its metadata.resourceVersion is stale); fetch it again with `kubectl get \(KubernetesPolicyAPI.resource(w.kind)) \(w.name)\(w.namespace.map { " -n \($0)" } ?? "") -o yaml` and retry.\(said)"
        case 409:
            o.error = "409 Conflict: \(what) already exists; change it with `kubectl apply -f FILE`, or pick another --name.\(said)"
        case 401:
            o.error = "401 Unauthorized: the server did not accept the credentials of the kubeconfig (expired token or certificate?).\(said)"
        case 403:
            o.error = "403 Forbidden: these credentials may not \(verb) \(KubernetesPolicyAPI.resource(w.kind)) (RBAC needs the \(verb) verb\(w.namespace.map { " in namespace \($0)" } ?? "")).\(said)"
        case 422:
            o.error = "422 Unprocessable: the server refused the policy as invalid.\(said)"
        default:
            o.error = "HTTP \(status): the server did not take the change.\(said)"
        }
        return o
    }

    /// Server text for a terminal line: control characters out, at most 600 characters.
    static func clean(_ s: String) -> String {
        let kept = s.unicodeScalars.map { CharacterSet.controlCharacters.contains($0) ? " " : String($0) }.joined()
        let t = kept.trimmingCharacters(in: .whitespaces)
        return t.count > 600 ? String(t.prefix(600)) + "…" : t
    }
}
