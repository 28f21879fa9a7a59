#!/usr/bin/env python3
"""Writes samples/production/hubble-flows.json.gz: `hubble observe -o json` lines for the sample's
production environment (namespace shop-production) over the report window (2026-11-19) and the
day before it (the previous window of `--compare previous`). A small shop: the ingress controller
and the node's health checks call web; web calls cart, catalog, the payments API and kube-dns;
cart calls redis; catalog calls postgres in another namespace; worker looks up an outside API by
DNS (DNS proxy answers in l7.dns) and calls it on 443; Prometheus scrapes the metrics ports. On the
report day a port scan from the world is dropped by policy between 14:00 and 14:20 UTC, and a few
NTP lookups from web to the world are dropped all along. TCP connections get some reply flows
(`is_reply: true`). Deterministic (fixed seed, gzip without a timestamp): run it again to get the
same bytes."""
import gzip, io, json, os, random, time

rnd = random.Random("production-flows")
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples", "production", "hubble-flows.json.gz")
start = 1794960000  # 2026-11-18T00:00:00Z (the previous window), report window from 1795046400
NS = "shop-production"
lines = []

def ts(t):
    s = int(t)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%09dZ" % int((t - s) * 1e9)

def pod(ns, name, labels, ident, ip):
    return {"side": {"ID": rnd.randint(100, 3000), "identity": ident, "namespace": ns, "pod_name": name,
                     "labels": [f"k8s:{k}={v}" for k, v in labels] + [f"k8s:io.kubernetes.pod.namespace={ns}"]}, "ip": ip}

def entity(name, ident, ip):
    return {"side": {"identity": ident, "labels": [f"reserved:{name}"]}, "ip": ip}

def flow(t, verdict, src, dst, proto, dport, reply=False, reason=None, dns=None):
    sport = rnd.randint(32768, 60999)
    l4 = {proto: {"source_port": dport if reply else sport, "destination_port": sport if reply else dport}}
    a, b = (dst, src) if reply else (src, dst)
    f = {"time": ts(t), "verdict": verdict, "IP": {"source": a["ip"], "destination": b["ip"], "ipVersion": "IPv4"},
         "l4": l4, "source": a["side"], "destination": b["side"], "Type": "L7" if dns else "L3_L4", "node_name": "kind-worker",
         "event_type": {"type": 129 if dns else (1 if verdict == "DROPPED" else 4)},
         "traffic_direction": "INGRESS" if b["side"].get("namespace") == NS else "EGRESS", "is_reply": reply}
    if reason:
        f["drop_reason"], f["drop_reason_desc"] = 133, reason
    if dns:
        f["l7"] = {"type": "RESPONSE", "dns": dns}
    if proto == "TCP":
        f["Summary"] = "TCP Flags: ACK" if reply else "TCP Flags: SYN"
    lines.append({"flow": f, "node_name": "kind-worker", "time": f["time"]})

def web():
    return pod(NS, "web-7d9f8c6b5-%s" % rnd.choice(["x2k4p", "m9q7c", "t5w8r"]), [("app", "web"), ("pod-template-hash", "7d9f8c6b5")], 48211, "10.0.2.%d" % rnd.randint(10, 12))
cart = pod(NS, "cart-5b6c7d8f9-h2j3k", [("app", "cart"), ("pod-template-hash", "5b6c7d8f9")], 48230, "10.0.2.20")
catalog = pod(NS, "catalog-6c7d8e9f0-p4q5r", [("app", "catalog"), ("pod-template-hash", "6c7d8e9f0")], 48241, "10.0.2.30")
redis = pod(NS, "redis-0", [("app", "redis"), ("statefulset.kubernetes.io/pod-name", "redis-0")], 48250, "10.0.2.40")
worker = pod(NS, "worker-8f9a0b1c2-v6w7x", [("app", "worker"), ("pod-template-hash", "8f9a0b1c2")], 48260, "10.0.2.50")
ingress = pod("gitlab-managed-apps", "ingress-nginx-controller-5c8d66c76d-x2x7k", [("app.kubernetes.io/name", "ingress-nginx")], 9112, "10.0.1.12")
payments = pod("payments-production", "payments-api-6f7b9d-kq2lp", [("app", "payments-api")], 30544, "10.0.3.4")
postgres = pod("databases", "postgres-0", [("app", "postgres")], 31020, "10.0.4.5")
prom = pod("monitoring", "prometheus-k8s-0", [("app.kubernetes.io/name", "prometheus")], 22001, "10.0.5.9")
dns = pod("kube-system", "coredns-5d78c9869d-8vw2n", [("k8s-app", "kube-dns")], 102, "10.0.0.10")
host = entity("host", 1, "172.18.0.3")
scanner = entity("world", 2, "203.0.113.45")
ntp = entity("world", 2, "198.51.100.7")
mail = entity("world", 2, "198.51.100.20")

for minute in range(0, 48 * 60, 3):  # one step per 3 minutes keeps the file small
    t0 = start + minute * 60
    r = lambda: t0 + rnd.random() * 180
    for _ in range(rnd.randint(1, 3)):
        flow(r(), "FORWARDED", ingress, web(), "TCP", 80)
    flow(r(), "FORWARDED", host, web(), "TCP", 80)  # kubelet readiness probe
    if rnd.random() < 0.5:
        flow(r(), "FORWARDED", web(), cart, "TCP", 8080)
        flow(r(), "FORWARDED", cart, redis, "TCP", 6379)
    if rnd.random() < 0.4:
        flow(r(), "FORWARDED", web(), catalog, "TCP", 8080)
        flow(r(), "FORWARDED", catalog, postgres, "TCP", 5432)
    if rnd.random() < 0.2:
        t = r()
        flow(t, "FORWARDED", web(), payments, "TCP", 8443)
        flow(t + 0.01, "FORWARDED", web(), payments, "TCP", 8443, reply=True)
    if rnd.random() < 0.3:
        flow(r(), "FORWARDED", rnd.choice([web(), cart, catalog]), dns, "UDP", 53)
    if minute % 15 == 0:  # every 15 minutes
        t = r()
        flow(t, "FORWARDED", worker, dns, "UDP", 53, dns={"query": "api.mailgun.net.", "ips": ["198.51.100.20"], "ttl": 300, "rcode": 0, "qtypes": ["A"], "rrtypes": ["A"]})
        flow(t + 0.05, "FORWARDED", worker, mail, "TCP", 443)
    if minute % 5 == 0:
        for target, port in ((web(), 9102), (cart, 9102), (catalog, 9102)):
            flow(r(), "FORWARDED", prom, target, "TCP", port)
    if rnd.random() < 0.05:
        flow(r(), "DROPPED", web(), ntp, "UDP", 123, reason="POLICY_DENIED")
    if 24 * 60 + 14 * 60 <= minute < 24 * 60 + 14 * 60 + 20:  # the report day, 14:00-14:20 UTC
        for _ in range(50):
            flow(r(), "DROPPED", scanner, web(), "TCP", rnd.choice([22, 23, 3306, 5432, 6379, 8080, 9200]), reason="POLICY_DENIED")

lines.sort(key=lambda d: d["time"])
buf = io.BytesIO()
with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as g:
    g.write(("\n".join(json.dumps(l, separators=(",", ":")) for l in lines) + "\n").encode())
with open(out, "wb") as f:
    f.write(buf.getvalue())
print(f"{len(lines)} flows -> {os.path.relpath(out)} ({len(buf.getvalue())} bytes)")
