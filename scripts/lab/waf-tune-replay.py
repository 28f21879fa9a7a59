#!/usr/bin/env python3
"""The tuning proof with the real engine (docs/waf.md "Proof with the real engine"):

1. start the lab NGINX + libmodsecurity 3 + CRS (scripts/lab/waf-nginx.sh, DetectionOnly) and send
   known false positives from 40 clients (SQL-ish English in /search?q, harmless HTML and code in
   POST /comments, JSON notes with special characters in POST /api/notes, a `ref` parameter with an
   HTML comment on three pages) and attack payloads from wfuzz's lists from 3 clients to the same
   endpoints and parameters;
2. run `threat-report waf tune` on the audit log;
3. start a second lab with the file loaded (part 1 before the CRS, part 2 after it), check it with
   `nginx -t`, and send the same traffic again;
4. count, in both audit logs (Python's json, independent of the tool): false-positive entries
   (entries of benign clients with a rule match other than the anomaly evaluation) and detected
   attack entries (entries of attack clients where 949110 fired).

With `--source error-log` the audit log is off and NGINX writes ModSecurity's Warning lines to its
error log at level `info` (WAF_LAB_ERROR_LOG=1 in waf-nginx.sh); `waf tune --error-log` reads that
file, and the counts come from the error logs: the lines are grouped per request by `[unique_id]`
(NGINX's request id), the client is NGINX's `, client: X` and a request counts as above. The
error lines carry no answer code, so `waf tune` also reads the access log (`--access-log`), whose
last field is that request id.

  scripts/lab/waf-tune-replay.py --binary PATH --work DIR [--source audit|error-log]

Prints one JSON object: the counts, the two shares, the `nginx -t` result and the file's path.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import random
import re
import urllib.parse

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LAB = os.path.join(ROOT, "scripts", "lab", "waf-nginx.sh")
WORDLISTS = "/usr/share/wfuzz/wordlist/Injections/"
HOST = "shop.example.com"
ATTACKERS = ["203.0.113.45", "203.0.113.46", "198.51.100.23"]

# False positives reported against the CRS at paranoia level 1, and text that fires nothing.
SEARCH = ["union select store", "bash shell tutorial", "exec master", "O'Reilly", "select the best union", "char(65)"]
COMMENTS = ['<p style="color:red">red</p>', "<!-- TODO: fix --> <p>hi</p>", "if (x < 3 && y > 2) { go(); }",
            "It's O'Reilly's \"best\" book"]
NOTES = [{"note": "<!-- draft --> 50% off; \"quoted\" & <tags>"}, {"code": "if (a < b) { return; }"},
         {"msg": "It's O'Reilly's \"best\" -- 100%"}]


def send(port, method, path, client, body=None, ctype="application/x-www-form-urlencoded"):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:120.0) "
            f"Gecko/20100101 Firefox/120.0\r\nX-Forwarded-For: {client}\r\nAccept: */*\r\nConnection: close\r\n")
    data = (body or "").encode()
    if body is not None:
        head += f"Content-Type: {ctype}\r\nContent-Length: {len(data)}\r\n"
    s.sendall(head.encode() + b"\r\n" + data)
    answer = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        answer += chunk
    s.close()
    parts = answer.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def wordlist(name, n):
    with open(WORDLISTS + name, errors="replace") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()][:n]


def traffic(port):
    q = lambda text: urllib.parse.quote(text, safe="")
    sent = 0
    pick = random.Random(17)  # the same clients in the same order on every run
    for i in range(150):
        client = "192.0.2.%d" % (10 + pick.randrange(40))
        k = i % 5
        if k == 0:
            send(port, "GET", "/search?q=" + q(SEARCH[(i // 5) % len(SEARCH)]), client)
        elif k == 1:
            send(port, "POST", "/comments", client, "comment=" + q(COMMENTS[(i // 5) % len(COMMENTS)]))
        elif k == 2:
            send(port, "POST", "/api/notes", client, json.dumps(NOTES[(i // 5) % len(NOTES)]), "application/json")
        else:
            page = ["/", "/products", "/cart"][(i // 5) % 3]
            send(port, "GET", page + "?ref=" + q("<!-- spring promo -->"), client)
        sent += 1
    for i, p in enumerate(wordlist("SQL.txt", 60) + wordlist("XSS.txt", 30) + wordlist("Traversal.txt", 10)):
        send(port, "GET", "/search?q=" + q(p), ATTACKERS[i % 3])
        sent += 1
    for i, p in enumerate(wordlist("XSS.txt", 30) + wordlist("SQL.txt", 20)):
        send(port, "POST", "/comments", ATTACKERS[i % 3], "comment=" + q(p))
        sent += 1
    for i, p in enumerate(wordlist("SQL.txt", 20)):
        send(port, "POST", "/api/notes", ATTACKERS[i % 3], json.dumps({"note": p}), "application/json")
        sent += 1
    return sent


def lab(work, name, env, source):
    if source == "error-log":
        env = {**env, "WAF_LAB_ERROR_LOG": "1"}
    d = os.path.join(work, name)
    out = subprocess.run(["bash", LAB, "start", d, "DetectionOnly"], env={**os.environ, **env}, capture_output=True, text=True,
                         stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        sys.exit("waf-nginx.sh start failed: " + out.stderr)
    port, pid = out.stdout.split()
    return d, int(port), int(pid)


def stop(d):
    subprocess.run(["bash", LAB, "stop", d], check=True, stdin=subprocess.DEVNULL)


ERROR_ID = re.compile(r'\[id "(\d+)"\]')
ERROR_UNIQUE = re.compile(r'\[unique_id "([^"]+)"\]')
ERROR_CLIENT = re.compile(r", client: ([^,]+), server: ")


def count_error_log(path):
    """The same counts from NGINX's error log: ModSecurity lines grouped per request by unique_id."""
    requests = {}
    with open(path, "rb") as f:
        for raw in f:
            line = raw.decode("utf-8", "replace")
            if "ModSecurity: " not in line:
                continue
            u, c = ERROR_UNIQUE.search(line), ERROR_CLIENT.search(line)
            if not u or not c:
                continue
            r = requests.setdefault(u.group(1), {"client": c.group(1), "ids": set()})
            r["ids"].update(ERROR_ID.findall(line))
    fp = detected = attack_entries = 0
    for r in requests.values():
        if r["client"] in ATTACKERS:
            attack_entries += 1
            detected += "949110" in r["ids"]
        elif any(not i.startswith(("949", "959", "980")) for i in r["ids"]):
            fp += 1
    return fp, detected, attack_entries


def count(audit):
    fp = detected = attack_entries = 0
    with open(audit, "rb") as f:
        for raw in f:
            t = json.loads(raw.decode("utf-8", "replace"))["transaction"]
            ids = [m["details"]["ruleId"] for m in t["messages"]]
            if t["client_ip"] in ATTACKERS:
                attack_entries += 1
                detected += "949110" in ids
            elif any(not i.startswith(("949", "959", "980")) for i in ids):
                fp += 1
    return fp, detected, attack_entries


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--source", choices=["audit", "error-log"], default="audit")
    a = ap.parse_args()
    log = "modsec_audit.log" if a.source == "audit" else "error.log"
    os.makedirs(a.work, exist_ok=True)
    # NGINX's workers run as nobody when the master is root: they must reach the lab folders
    # (a mkdtemp folder is 0700, and the backend would answer 403 to everything).
    os.chmod(a.work, 0o755)
    before, port, _ = lab(a.work, "before", {}, a.source)
    try:
        sent = traffic(port)
    finally:
        stop(before)
    conf = os.path.join(a.work, "waf-tuning", "lab.conf")
    # Error-log lines carry no answer code: the access log lends it, joined by request id (NGINX's
    # $req_id is ModSecurity's unique_id in the lab).
    flags = ["--audit-log", os.path.join(before, log)] if a.source == "audit" else \
        ["--error-log", os.path.join(before, log), "--access-log", os.path.join(before, "access.log")]
    tune = subprocess.run([a.binary, "waf", "tune", *flags, "--hosts", HOST,
                           "--environment", "lab", "--output", conf], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if tune.returncode != 0:
        sys.exit("waf tune failed: " + tune.stderr)
    text = open(conf).read()
    marker = "# ==== Part 2:"
    part1, _, part2 = text.partition("\n" + marker)
    p1, p2 = os.path.join(a.work, "part1.conf"), os.path.join(a.work, "part2.conf")
    open(p1, "w").write(part1 + "\n")
    open(p2, "w").write((marker + part2) if part2 else "\n")
    after, port, _ = lab(a.work, "after", {"WAF_LAB_BEFORE_CRS": p1, "WAF_LAB_AFTER_CRS": p2}, a.source)
    try:
        check = subprocess.run(["nginx", "-t", "-p", after, "-c", os.path.join(after, "nginx.conf")], capture_output=True, text=True,
                               stdin=subprocess.DEVNULL)
        traffic(port)
    finally:
        stop(after)
    counter = count if a.source == "audit" else count_error_log
    fp0, det0, att0 = counter(os.path.join(before, log))
    fp1, det1, att1 = counter(os.path.join(after, log))
    print(json.dumps({
        "source": a.source, "log": os.path.join(before, log), "requests_sent": sent, "conf": conf, "nginx_t": check.returncode, "nginx_t_output": check.stderr.strip()[-300:],
        "fp_before": fp0, "fp_after": fp1, "fp_removed_share": (fp0 - fp1) / fp0 if fp0 else 0.0,
        "attacks_detected_before": det0, "attacks_detected_after": det1,
        "attacks_still_detected_share": det1 / det0 if det0 else 0.0, "attack_entries_before": att0, "attack_entries_after": att1,
        "tune_stderr": tune.stderr[-4000:], "tune_inputs": [l for l in tune.stderr.splitlines() if not l.startswith("  ")][:8],
    }))


if __name__ == "__main__":
    main()
