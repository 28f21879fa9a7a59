#!/usr/bin/env python3
"""Writes generated `hubble observe -o json` lines for traffic-map tests and benchmarks.

Usage: make_map_flows.py NAMESPACES FLOWS_PER_PEER OUT [REPEAT]
The environment's namespace `shop` has the workloads web, api, db and worker. NAMESPACES other
namespaces (team-01 …) call web or api; the busier a namespace the lower its number (peer k sends
FLOWS_PER_PEER // k flows, at least 1). Every fifth peer is partly dropped, every seventh has
AUDIT flows. world calls web; web calls api, api calls db, worker calls db; everything asks
kube-dns; api calls kube-apiserver; host probes web. Every connection flow is followed by one
reply flow. REPEAT (default 1) writes the whole set that many times (for benchmarks).
"""
import json
import sys


def side(ns=None, app=None, labels=None, pod=None):
    s = {"identity": 1000, "labels": labels or []}
    if ns:
        s["namespace"] = ns
        s["labels"] = s["labels"] + ["k8s:io.kubernetes.pod.namespace=" + ns]
    if app:
        s["labels"] = ["k8s:app=" + app, "k8s:pod-template-hash=7d9f8c6b5"] + s["labels"]
        s["pod_name"] = pod or (app + "-7d9f8c6b5-x2x7k")
    return s


def flow(t, verdict, src, dst, port, reply=False):
    f = {"time": t, "verdict": verdict, "IP": {"source": "10.0.0.1", "destination": "10.0.0.2", "ipVersion": "IPv4"},
         "l4": {"TCP": {"source_port": 40000, "destination_port": port}}, "source": src, "destination": dst,
         "Type": "L3_L4", "is_reply": reply}
    if verdict == "DROPPED":
        f["drop_reason_desc"] = "POLICY_DENIED"
    return json.dumps({"flow": f, "node_name": "kind-worker", "time": t}, separators=(",", ":"))


def main():
    peers, per_peer, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    t = "2026-11-19T12:00:00.000000000Z"
    web, api, db, worker = (side("shop", a) for a in ("web", "api", "db", "worker"))
    dns = side("kube-system", labels=["k8s:k8s-app=kube-dns"], pod="coredns-558bd4d5db-w2m67")
    world, host = side(labels=["reserved:world"]), side(labels=["reserved:host"])
    apiserver = side(labels=["reserved:kube-apiserver", "reserved:host"])
    pairs = []  # (src, dst, port, verdict, count)
    for k in range(1, peers + 1):
        src = side("team-%02d" % k, "client")
        n = max(1, per_peer // k)
        dst = web if k % 2 else api
        if k % 5 == 0:
            pairs.append((src, dst, 8080, "DROPPED", max(1, n // 3)))
            n -= n // 3
        if k % 7 == 0:
            pairs.append((src, dst, 8080, "AUDIT", max(1, n // 4)))
        pairs.append((src, dst, 8080, "FORWARDED", n))
    pairs += [(world, web, 443, "FORWARDED", per_peer * 2), (world, web, 22, "DROPPED", per_peer // 2 + 1),
              (web, api, 8080, "FORWARDED", per_peer * 3), (api, db, 5432, "FORWARDED", per_peer * 2),
              (worker, db, 5432, "FORWARDED", per_peer), (host, web, 8080, "FORWARDED", per_peer // 4 + 1),
              (api, apiserver, 6443, "FORWARDED", per_peer // 10 + 1)]
    pairs += [(w, dns, 53, "FORWARDED", per_peer // 5 + 1) for w in (web, api, worker)]
    with open(out, "w") as fh:
        for _ in range(repeat):
            for src, dst, port, verdict, count in pairs:
                for _ in range(count):
                    fh.write(flow(t, verdict, src, dst, port) + "\n")
                    if verdict != "DROPPED":
                        fh.write(flow(t, "FORWARDED", dst, src, 40000, reply=True) + "\n")


main()
