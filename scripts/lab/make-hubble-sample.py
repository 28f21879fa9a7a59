#!/usr/bin/env python3
"""Writes samples/hubble/flows.json: `hubble observe -o json` lines for the sample window, shaped
like Hubble's output (flow object under "flow", node_name, time), for shop-production: ingress
from world and the ingress controller, egress to payments and DNS, a port scan dropped by policy
between 14:00 and 14:20 UTC, and two garbage lines (a truncated object and a log line) that the
reader must count as skipped. Deterministic (fixed seed)."""
import json, os, random

rnd = random.Random("hubble-sample")
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples", "hubble", "flows.json")
# The committed sample is gzipped (gzip -n -9): the reader streams .gz too.
start = 1795046400  # 2026-11-19T00:00:00Z
lines = []

def ts(t):
    s = int(t); frac = int((t - s) * 1e9)
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%09dZ" % frac

def ep(ns, pod, labels, ident):
    e = {"ID": rnd.randint(100, 3000), "identity": ident, "labels": labels}
    if ns:
        e.update({"namespace": ns, "pod_name": pod})
    return e

def flow(t, verdict, src, dst, sip, dip, proto, sport, dport, direction, reason=None):
    f = {"time": ts(t), "verdict": verdict, "ethernet": {}, "IP": {"source": sip, "destination": dip, "ipVersion": "IPv4"},
         "l4": {proto: {"source_port": sport, "destination_port": dport}}, "source": src, "destination": dst,
         "Type": "L3_L4", "node_name": "kind-worker", "event_type": {"type": 1 if verdict == "DROPPED" else 4},
         "traffic_direction": direction, "is_reply": False, "Summary": f"{proto} Flags: SYN"}
    if reason:
        f["drop_reason"] = 133
        f["drop_reason_desc"] = reason
    return {"flow": f, "node_name": "kind-worker", "time": f["time"]}

world = ep(None, None, ["reserved:world"], 2)
web = lambda i: ep("shop-production", f"web-7d9f8c6b5-{i:05x}", ["k8s:app=web", "k8s:io.kubernetes.pod.namespace=shop-production"], 48211)
ingress = ep("gitlab-managed-apps", "ingress-nginx-controller-5c8d66c76d-x2x7k", ["k8s:app.kubernetes.io/name=ingress-nginx"], 9112)
payments = ep("payments-production", "payments-api-6f7b9d-kq2lp", ["k8s:app=payments-api"], 30544)
dns = ep("kube-system", "coredns-5d78c9869d-8vw2n", ["k8s:k8s-app=kube-dns"], 102)
for minute in range(24 * 60):
    t0 = start + minute * 60
    for _ in range(rnd.randint(3, 7)):
        t = t0 + rnd.random() * 60
        lines.append(flow(t, "FORWARDED", ingress, web(rnd.randint(0, 3)), "10.0.1.12", "10.0.2.%d" % rnd.randint(10, 13), "TCP", rnd.randint(30000, 60000), 80, "INGRESS"))
    if rnd.random() < 0.5:
        t = t0 + rnd.random() * 60
        lines.append(flow(t, "FORWARDED", web(rnd.randint(0, 3)), payments, "10.0.2.10", "10.0.3.4", "TCP", rnd.randint(30000, 60000), 8443, "EGRESS"))
    if rnd.random() < 0.3:
        t = t0 + rnd.random() * 60
        lines.append(flow(t, "FORWARDED", web(0), dns, "10.0.2.10", "10.0.0.10", "UDP", rnd.randint(30000, 60000), 53, "EGRESS"))
    if 14 * 60 <= minute < 14 * 60 + 20:
        for _ in range(40):
            t = t0 + rnd.random() * 60
            lines.append(flow(t, "DROPPED", world, web(1), "203.0.113.45", "10.0.2.11", "TCP", rnd.randint(30000, 60000), rnd.choice([22, 23, 3306, 5432, 6379, 8080, 9200]), "INGRESS", "POLICY_DENIED"))
    elif rnd.random() < 0.02:
        t = t0 + rnd.random() * 60
        lines.append(flow(t, "DROPPED", web(2), world, "10.0.2.12", "198.51.100.7", "UDP", 40000, 123, "EGRESS", "POLICY_DENIED"))
lines.sort(key=lambda d: d["time"])
text = [json.dumps(l, separators=(",", ":")) for l in lines]
text.insert(100, text[100][: len(text[100]) // 2])  # truncated line
text.insert(5000, "level=info msg=\"Starting Hubble\" subsys=hubble")  # a log line in the export
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    f.write("\n".join(text) + "\n")
print(f"{len(lines)} flows, 2 garbage lines -> {os.path.relpath(out)}")
