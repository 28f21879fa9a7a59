#!/usr/bin/env python3
"""Generates `hubble observe -o json` lines with the variety of real captures
(Tests/Fixtures/realworld/hubble, samples/production/hubble-flows.json.gz), for `make bench`:

- pod-to-pod TCP into the `shop` namespace's workloads from 200 peer namespaces (labels with
  pod-template-hash, service accounts, cluster and namespace labels; `workloads` on some),
  a quarter replies, some DROPPED with `drop_reason_desc` and `ingress_denied_by`, some AUDIT;
- DNS from shop to kube-dns (UDP 53, L7 `dns` with query and answers);
- egress from shop to the world (`reserved:world`, `destination_names`);
- ICMP from the host, REDIRECTED HTTP through the proxy (L7 `http`);
- traffic between other namespaces (read, not counted for shop).

Times have nanoseconds and run over one day (2026-11-19). Deterministic (seeded).

  gen_hubble_flows.py OUT LINES
"""
import random
import zlib
import sys

SHOP = ["web", "api", "catalog", "cart", "checkout", "db"]
HASH = {w: "%09x" % (0x6c7d8e9f0 + i * 0x111111) for i, w in enumerate(SHOP)}


def labels(app, ns, extra=()):
    out = ['"k8s:app=%s"' % app, '"k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=%s"' % ns,
           '"k8s:io.cilium.k8s.policy.cluster=prod-eu-1"', '"k8s:io.cilium.k8s.policy.serviceaccount=%s"' % app]
    out += ['"%s"' % e for e in extra]
    out.append('"k8s:io.kubernetes.pod.namespace=%s"' % ns)
    return "[" + ",".join(out) + "]"


def pod(ns, app, ident, k, workloads=False):
    h = HASH.get(app, "%09x" % (zlib.crc32(app.encode()) % (1 << 36)))
    w = ',"workloads":[{"name":"%s","kind":"Deployment"}]' % app if workloads else ""
    return ('{"ID":%d,"identity":%d,"cluster_name":"prod-eu-1","namespace":"%s","labels":%s,"pod_name":"%s-%s-%05x"%s}'
            % (1000 + ident % 3000, ident, ns, labels(app, ns, ["k8s:pod-template-hash=" + h]), app, h, k, w))


def main():
    out, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(16)
    peers = ["team-%03d" % i for i in range(200)]
    peer_apps = ["client", "frontend", "batch", "reporter"]
    # Side objects repeat as pods do: a pool of pods per workload.
    shop_pods = {w: [pod("shop", w, 48200 + i, k, workloads=(i % 2 == 0)) for k in range(8)] for i, w in enumerate(SHOP)}
    peer_pods = [pod(p, a, 30000 + i * 4 + j, k) for i, p in enumerate(peers) for j, a in enumerate(peer_apps) for k in range(2)]
    dns_pod = ('{"ID":2922,"identity":102,"namespace":"kube-system","labels":["k8s:io.cilium.k8s.policy.cluster=prod-eu-1",'
               '"k8s:io.cilium.k8s.policy.serviceaccount=coredns","k8s:io.kubernetes.pod.namespace=kube-system","k8s:k8s-app=kube-dns"],'
               '"pod_name":"coredns-5d78c9869d-8vw2n"}')
    world = '{"identity":2,"labels":["reserved:world"]}'
    host = '{"identity":1,"labels":["reserved:host"]}'
    names = ["api.stripe.com", "api.mailgun.net", "hooks.slack.com", "s3.eu-west-1.amazonaws.com"]
    start = 1795564800  # 2026-11-19T00:00:00Z
    with open(out, "w") as f:
        for i in range(n):
            t = start + i * 86400 / n
            s = int(t)
            ts = "2026-11-19T%02d:%02d:%02d.%09dZ" % (s // 3600 % 24, s // 60 % 60, s % 60, int((t - s) * 1e9) + i % 997)
            r = rng.random()
            reply = "false"
            extra = ""
            verdict = "FORWARDED"
            typ, tp, direction, summary = "L3_L4", 4, "INGRESS", "TCP Flags: SYN"
            sip, dip = "10.0.%d.%d" % (rng.randrange(1, 8), rng.randrange(2, 250)), "10.0.2.%d" % rng.randrange(2, 250)
            if r < 0.55:
                app = SHOP[rng.randrange(5)]
                src, dst = rng.choice(peer_pods), rng.choice(shop_pods[app])
                port, proto = [8080, 8080, 9090, 5432][rng.randrange(4)], "TCP"
                if rng.random() < 0.25:
                    src, dst, reply, summary = dst, src, "true", "TCP Flags: ACK"
                v = rng.random()
                if v < 0.06:
                    verdict = "DROPPED"
                    extra = (',"drop_reason":133,"drop_reason_desc":"POLICY_DENIED","policy_match_type":0,'
                             '"ingress_denied_by":[{"name":"shop-default-deny","namespace":"shop","labels":'
                             '["k8s:io.cilium.k8s.policy.name=shop-default-deny"],"revision":"12","kind":"CiliumNetworkPolicy"}]')
                elif v < 0.09:
                    verdict = "AUDIT"
                    extra = ',"policy_match_type":1,"ingress_denied_by":[{"name":"shop-audit","namespace":"shop","kind":"CiliumNetworkPolicy"}]'
                l4 = '{"%s":{"source_port":%d,"destination_port":%d,"flags":{"SYN":true}}}' % (proto, rng.randrange(32768, 61000), port)
            elif r < 0.70:
                src, dst = rng.choice(shop_pods[SHOP[rng.randrange(6)]]), dns_pod
                q = rng.choice(names)
                typ, tp, direction, summary = "L7", 129, "EGRESS", "DNS Answer"
                l4 = '{"UDP":{"source_port":%d,"destination_port":53}}' % rng.randrange(32768, 61000)
                extra = (',"l7":{"type":"RESPONSE","latency_ns":"412000","dns":{"query":"%s.","ips":["198.51.100.%d"],"ttl":300,'
                         '"rcode":0,"qtypes":["A"],"rrtypes":["A"]}}' % (q, names.index(q) + 20))
            elif r < 0.80:
                src, dst = rng.choice(shop_pods[SHOP[rng.randrange(6)]]), world
                dip = "198.51.100.%d" % (20 + rng.randrange(4))
                direction = "EGRESS"
                l4 = '{"TCP":{"source_port":%d,"destination_port":443,"flags":{"SYN":true}}}' % rng.randrange(32768, 61000)
                extra = ',"destination_names":["%s"]' % names[int(dip.rsplit(".", 1)[1]) - 20]
            elif r < 0.85:
                src, dst = host, rng.choice(shop_pods[SHOP[rng.randrange(6)]])
                l4 = '{"ICMPv4":{"type":8}}'
                summary = "ICMPv4 EchoRequest"
            elif r < 0.90:
                app = SHOP[rng.randrange(3)]
                src, dst = rng.choice(peer_pods), rng.choice(shop_pods[app])
                verdict, typ, tp = "REDIRECTED", "L7", 129
                l4 = '{"TCP":{"source_port":%d,"destination_port":8080}}' % rng.randrange(32768, 61000)
                extra = (',"l7":{"type":"REQUEST","http":{"method":"GET","url":"http://%s.shop:8080/api/v1/items?page=%d",'
                         '"protocol":"HTTP/1.1","headers":[{"key":"user-agent","value":"Go-http-client/1.1"}]}}' % (app, rng.randrange(50)))
            else:
                src, dst = rng.choice(peer_pods), rng.choice(peer_pods)
                l4 = '{"TCP":{"source_port":%d,"destination_port":8443,"flags":{"SYN":true}}}' % rng.randrange(32768, 61000)
            f.write('{"flow":{"time":"%s","uuid":"%08x-8dd3-486b-beca-%012x","verdict":"%s","ethernet":{"source":"62:6b:d0:a4:c5:63",'
                    '"destination":"6e:d0:ea:78:fc:0a"},"IP":{"source":"%s","destination":"%s","ipVersion":"IPv4"},"l4":%s,'
                    '"source":%s,"destination":%s,"Type":"%s","node_name":"prod-eu-1/worker-%d","event_type":{"type":%d},'
                    '"traffic_direction":"%s","is_reply":%s,"Summary":"%s"%s},"node_name":"prod-eu-1/worker-%d","time":"%s"}\n'
                    % (ts, i, i, verdict, sip, dip, l4, src, dst, typ, i % 6, tp, direction, reply, summary, extra, i % 6, ts))


if __name__ == "__main__":
    main()
