import Foundation
import Testing
import ThreatModel
@testable import ThreatSources

/// The pod list cut down to what coverage needs, and the workload of each pod (its owner).
@Suite("Kubernetes pod list")
struct KubernetesPodListTests {
    func pod(_ name: String, ns: String = "shop", labels: [String: String] = [:], owner: (String, String)? = nil, phase: String = "Running") throws -> JSONValue {
        var meta: [String: Any] = ["name": name, "namespace": ns, "labels": labels]
        if let owner { meta["ownerReferences"] = [["apiVersion": "apps/v1", "kind": owner.0, "name": owner.1, "controller": true, "uid": "u"]] }
        let obj: [String: Any] = ["metadata": meta, "spec": ["containers": [["env": [["name": "K", "value": "s3cr3t"]]]]], "status": ["phase": phase]]
        return try JSONValue.parse(bytes: [UInt8](try JSONSerialization.data(withJSONObject: obj)))
    }

    @Test("workload names: ReplicaSet minus pod-template-hash, StatefulSet/DaemonSet/Job names, else the pod name; finished pods left out")
    func workloadNames() throws {
        let items = [
            try pod("web-7d9f8b6c5d-x2k9p", labels: ["app": "web", "pod-template-hash": "7d9f8b6c5d"], owner: ("ReplicaSet", "web-7d9f8b6c5d")),
            try pod("web-7d9f8b6c5d-abcde", labels: ["app": "web", "pod-template-hash": "7d9f8b6c5d"], owner: ("ReplicaSet", "web-7d9f8b6c5d")),
            try pod("bare-rs-q1w2e", labels: ["app": "bare"], owner: ("ReplicaSet", "bare-rs")),  // no hash label: the ReplicaSet's name
            try pod("db-0", labels: ["app": "db", "statefulset.kubernetes.io/pod-name": "db-0"], owner: ("StatefulSet", "db")),
            try pod("agent-x2k9p", labels: ["app": "agent", "controller-revision-hash": "abc"], owner: ("DaemonSet", "agent")),
            try pod("backup-28000-zz", labels: ["job-name": "backup-28000"], owner: ("Job", "backup-28000")),
            try pod("done-1", owner: ("Job", "done"), phase: "Succeeded"),
            try pod("crashed", phase: "Failed"),
            try pod("custom-1", labels: ["app": "c"], owner: ("Rollout", "custom")),
            try pod("static", labels: ["app": "s"]),
        ].map { KubernetesPodList.reduce($0, namespace: "shop") ?? .null }
        let w = KubernetesPodList.workloads(items)
        #expect(w.workloads.map(\.name) == ["agent", "backup-28000", "bare-rs", "custom-1", "db", "static", "web"])
        #expect(w.workloads.first { $0.name == "web" }?.pods == 2 && w.pods == 8 && w.finished == 2 && w.unreadable == 0)
        #expect(w.workloads.first { $0.name == "web" }?.labels == ["app": "web"])
        #expect(w.workloads.first { $0.name == "db" }?.labels == ["app": "db"])
        #expect(w.workloads.first { $0.name == "agent" }?.labels == ["app": "agent"])
        // The cut-down pod keeps no spec and no value of it.
        #expect(!items[0].serialized(pretty: false).contains("s3cr3t") && items[0]["spec"] == nil)
    }

    @Test("the real EKS list: kube-system gives aws-node, coredns (2 pods) and kube-proxy; other namespaces and nameless items are skipped and counted")
    func realList() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: repoRoot + "/Tests/Fixtures/realworld/kubernetes/eks-pods.json")))
        let items = try #require(try JSONValue.parse(bytes: bytes)["items"]?.arrayValue) + [try JSONValue.parse("{\"metadata\":{}}"), .string("x")]
        let reduced = items.compactMap { KubernetesPodList.reduce($0, namespace: "kube-system") }
        let w = KubernetesPodList.workloads(reduced, unreadable: items.count - reduced.count)
        #expect(w.workloads.map(\.name) == ["aws-node", "coredns", "kube-proxy"])
        #expect(w.workloads.map(\.pods) == [1, 2, 1] && w.pods == 4 && w.unreadable == 4)
        let other = KubernetesPodList.workloads(items.compactMap { KubernetesPodList.reduce($0, namespace: "cloudability") })
        #expect(other.workloads.map(\.name) == ["cloudability-metrics-agent"])
        let stress = KubernetesPodList.workloads(items.compactMap { KubernetesPodList.reduce($0, namespace: "stress-test") })
        #expect(stress.workloads.map(\.name) == ["stress2"])
    }
}
