#!/usr/bin/env python3
"""Worst-case inputs for the memory bounds (docs/limits.md, "Tables"), and the peak RSS of a run
on them. Used by bench.py (`--only worst`); also runs alone:

  scripts/bench/worst.py [--bin PATH] [--limit-mb N] [--only uris,pods,pages]

- uris:  a .gz ModSecurity v3 audit log of 3,000 entries, each with a unique 1 MB URI
         (3 GB of text, ~3.5 MB compressed);
- pods:  a .gz Hubble flow log of 300,000 dropped flows between unique 1 KB pod names;
- pages: a loopback Kubernetes API (plain HTTP) whose list answers always carry a `continue` token.

Each run is watched: its RSS is read from /proc every 20 ms and the run is killed past --limit-mb
(default 2048), so a build without the bounds cannot take the machine down; the peak is the child's
ru_maxrss (wait4), and a killed run is reported as "> limit".
"""
import argparse
import gzip
import http.server
import json
import os
import signal
import socketserver
import subprocess
import sys
import threading
import struct
import time
import zlib

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH = os.path.join(ROOT, ".bench", "worst")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def audit_line(i, uri):
    return json.dumps({"transaction": {
        "client_ip": "203.0.113.%d" % (i % 250), "time_stamp": "Thu Nov 19 12:%02d:%02d 2026" % (i // 60 % 60, i % 60),
        "unique_id": "worst-%d" % i,
        "request": {"method": "GET", "http_version": 1.1, "uri": uri, "headers": {"Host": "shop.example.com"}},
        "response": {"http_code": 403},
        "producer": {"modsecurity": "ModSecurity v3.0.9 (Linux)", "secrules_engine": "Enabled"},
        "messages": [{"message": "SQL Injection Attack Detected via libinjection",
                      "details": {"ruleId": "942100", "severity": "2", "data": ""}}]}}) + "\n"


def gen_uris(d):
    """One gzip member per line. The 1 MB filler is deflated once, between full flushes (which
    make its blocks independent of what comes before), and spliced into every member, so 3 GB of
    text compress in seconds."""
    path = os.path.join(d, "audit.log.gz")
    if os.path.exists(path):
        return path
    log("generating %s (3,000 entries with unique 1 MB URIs)..." % path)
    filler = "A" * 1_000_000
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = c.compress(filler.encode()) + c.flush(zlib.Z_FULL_FLUSH)
    with open(path + ".tmp", "wb") as f:
        for i in range(3000):
            line = audit_line(i, "/%06d/" % i + filler).encode()
            head, tail = line.split(filler.encode())
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            body = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH) + packed
            c2 = zlib.compressobj(9, zlib.DEFLATED, -15)
            body += c2.compress(tail) + c2.flush(zlib.Z_FINISH)
            f.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + body
                    + struct.pack("<II", zlib.crc32(line) & 0xFFFFFFFF, len(line) & 0xFFFFFFFF))
    os.rename(path + ".tmp", path)
    return path


def gen_pods(d):
    path = os.path.join(d, "flows.json.gz")
    if os.path.exists(path):
        return path
    log("generating %s (300,000 dropped flows between unique 1 KB pod names)..." % path)
    pad = "p" * 1000
    with gzip.open(path + ".tmp", "wt", compresslevel=6) as f:
        for i in range(300_000):
            f.write(json.dumps({"flow": {
                "time": "2026-11-19T12:%02d:%02dZ" % (i // 60 % 60, i % 60), "verdict": "DROPPED",
                "drop_reason_desc": "POLICY_DENIED", "l4": {"TCP": {"destination_port": 443}},
                "source": {"namespace": "shop-production", "pod_name": "src-%07d-%s" % (i, pad)},
                "destination": {"namespace": "shop-production", "pod_name": "dst-%07d-%s" % (i, pad)}}}) + "\n")
    os.rename(path + ".tmp", path)
    return path


class EndlessPages(http.server.BaseHTTPRequestHandler):
    """Every list answer: 500 NetworkPolicies and a fresh continue token."""
    counter = [0]

    def do_GET(self):
        self.counter[0] += 1
        n = self.counter[0]
        items = [{"metadata": {"name": "np-%d-%d" % (n, k), "namespace": "shop-production", "resourceVersion": "1"},
                  "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}} for k in range(500)]
        body = json.dumps({"kind": "NetworkPolicyList", "apiVersion": "networking.k8s.io/v1",
                           "metadata": {"resourceVersion": "9", "continue": "token-%d" % n}, "items": items}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def serve_pages():
    httpd = socketserver.ThreadingTCPServer(("127.0.0.1", 0), EndlessPages)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def config(d, name, section):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("""version: 1
from: 2026-11-19T00:00:00Z
to: 2026-11-20T00:00:00Z
deadline: 10m
environments:
  - name: production
    namespace: shop-production
    hosts: [shop.example.com]
    %s
""" % section)
    return path


def peak_rss(cmd, limit_mb):
    """Runs cmd; returns (peak RSS MB, seconds, exit code or 'killed')."""
    began = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = False
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        try:
            with open("/proc/%d/status" % p.pid) as f:
                rss = next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0) / 1024
        except OSError:
            rss = 0
        if rss > limit_mb and not killed:
            os.kill(p.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.02)
    p.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, time.time() - began, "killed" if killed else p.returncode


def run(binary, limit_mb, only):
    os.makedirs(BENCH, exist_ok=True)
    out = os.path.join(BENCH, "out")
    results = []
    if "uris" in only:
        audit = gen_uris(BENCH)
        cfg = config(BENCH, "uris.yml", "waf: { files: { audit_log: %s } }" % audit)
        results.append(("3,000 unique 1 MB URIs (.gz audit log)", peak_rss([binary, "report", "--config", cfg, "--output", out, "--format", "html,json", "--compare", "none", "--quiet"], limit_mb)))
    if "pods" in only:
        flows = gen_pods(BENCH)
        cfg = config(BENCH, "pods.yml", "flows: { hubble: { flows: %s } }" % flows)
        results.append(("300,000 unique 1 KB pod pairs (.gz Hubble log)", peak_rss([binary, "report", "--config", cfg, "--output", out, "--format", "html,json", "--compare", "none", "--quiet"], limit_mb)))
    if "pages" in only:
        httpd = serve_pages()
        kube = os.path.join(BENCH, "kubeconfig")
        with open(kube, "w") as f:
            f.write("""apiVersion: v1
kind: Config
current-context: bench
clusters: [{name: c, cluster: {server: "http://127.0.0.1:%d"}}]
contexts: [{name: bench, context: {cluster: c, user: u}}]
users: [{name: u, user: {token: bench-token}}]
""" % httpd.server_address[1])
        cfg = config(BENCH, "pages.yml", "policies: { kubernetes: { kubeconfig: %s } }" % kube)
        results.append(("endless Kubernetes pages (loopback API)", peak_rss([binary, "report", "--config", cfg, "--output", out, "--format", "html,json", "--compare", "none", "--quiet", "--deadline", "60s"], limit_mb)))
        results[-1] = (results[-1][0] + ", %d pages served" % EndlessPages.counter[0], results[-1][1])
        httpd.shutdown()
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, ".build", "release", "threat-report"))
    ap.add_argument("--limit-mb", type=float, default=2048)
    ap.add_argument("--only", default="uris,pods,pages")
    a = ap.parse_args()
    for name, (rss, secs, code) in run(a.bin, a.limit_mb, set(a.only.split(","))):
        shown = ("> %.0f MB (killed at the limit)" % a.limit_mb) if code == "killed" else "%.0f MB" % rss
        print("%-60s peak RSS %s, %.1f s, exit %s" % (name, shown, secs, code))


if __name__ == "__main__":
    main()
