#!/usr/bin/env python3
"""Independent recount of the traffic map (docs/flows.md, "Traffic map") of one namespace.

Usage: recount_map.py NAMESPACE FROM TO FILE...   (FROM/TO: RFC 3339, window [FROM, TO))
Prints JSON: {"edges": {"SOURCE -> DESTINATION": {"forwarded", "dropped", "audit", "other",
"replies"}}, "flows": N, "reply_flows": N}, node ids as report.json writes them
(`workload:NS/NAME`, `namespace:NS`, `entity:NAME`). Standard library only.
"""
import datetime
import json
import sys


def when(text):
    head, _, frac = text.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t + datetime.timedelta(microseconds=int((frac + "000000")[:6]) if frac else 0)

RESERVED = ["kube-apiserver", "host", "remote-node", "health", "ingress", "init", "unmanaged",
            "world", "world-ipv4", "world-ipv6"]
APP = ["k8s:app.kubernetes.io/name=", "k8s:app=", "k8s:k8s-app="]


def node(side, own):
    side = side or {}
    labels = [l for l in side.get("labels") or [] if isinstance(l, str)]
    reserved = [l[len("reserved:"):] for l in labels if l.startswith("reserved:")]
    if reserved:
        best = min(reserved, key=lambda r: RESERVED.index(r) if r in RESERVED else len(RESERVED))
        return "entity:" + ("world" if best.startswith("world") else best)
    if "k8s:k8s-app=kube-dns" in labels:
        return "entity:kube-dns"
    ns = side.get("namespace") or next((l.split("=", 1)[1] for l in labels
                                         if l.startswith("k8s:io.kubernetes.pod.namespace=") and l.split("=", 1)[1]), None)
    if not ns:
        return "entity:unknown"
    if ns == own:
        for prefix in APP:
            for l in labels:
                if l.startswith(prefix) and len(l) > len(prefix):
                    return "workload:%s/%s" % (ns, l[len(prefix):])
        workloads = side.get("workloads") or []
        if workloads and workloads[0].get("name"):
            return "workload:%s/%s" % (ns, workloads[0]["name"])
    return "namespace:" + ns


def main():
    ns, start, end, files = sys.argv[1], when(sys.argv[2]), when(sys.argv[3]), sys.argv[4:]
    edges, flows, replies = {}, 0, 0
    for path in files:
        with open(path, "rb") as fh:
            for raw in fh:
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                    flow = obj.get("flow", obj)
                    verdict = flow["verdict"]
                    t = when(flow.get("time") or obj["time"])
                except (ValueError, KeyError, TypeError, AttributeError):
                    continue
                src, dst = flow.get("source") or {}, flow.get("destination") or {}
                if not start <= t < end or ns not in (src.get("namespace"), dst.get("namespace")):
                    continue
                reply = flow["is_reply"] if "is_reply" in flow else flow.get("reply", False)
                a, b = node(src, ns), node(dst, ns)
                key = "%s -> %s" % ((b, a) if reply else (a, b))
                e = edges.setdefault(key, {"forwarded": 0, "dropped": 0, "audit": 0, "other": 0, "replies": 0})
                if reply:
                    e["replies"] += 1
                    replies += 1
                    continue
                flows += 1
                kind = {"FORWARDED": "forwarded", "REDIRECTED": "forwarded", "DROPPED": "dropped", "AUDIT": "audit"}
                e[kind.get(verdict, "other")] += 1
    print(json.dumps({"edges": edges, "flows": flows, "reply_flows": replies}, sort_keys=True))


main()
