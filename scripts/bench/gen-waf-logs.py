#!/usr/bin/env python3
"""Generates a large ingress-nginx access log and a ModSecurity v3 JSON audit log for the
benchmark (scripts/bench/bench.py, `make bench`). Standard library only, fixed seed.

The audit entries copy the shape of real libmodsecurity 3.0.9 + CRS 3.3.4 entries captured in
samples/raw/ (headers, producer, messages with details): about 1.5 KB each. Every audit entry
is the transaction of one access line (same $req_id / unique_id), as with
`modsecurity_transaction_id "$req_id"`.

  gen-waf-logs.py --out DIR --access-lines 1000000 --audit-entries 50000 [--combined]

writes DIR/access.log (17-field, or `combined` with --combined) and DIR/modsec_audit.log, over
the 24 hours before 2026-11-20T00:00:00Z. Prints the expected counts per namespace.
"""
import argparse
import json
import random
import time

END = 1795132800  # 2026-11-20T00:00:00Z
SPAN = 86400
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
NAMESPACES = [("shop-production", 0.8), ("shop-staging", 0.15), ("other-app", 0.05)]
PATHS = ["/", "/products", "/products/42", "/cart", "/checkout", "/search?q=shoes", "/static/app.js",
         "/static/app.css", "/api/v1/items?page=2", "/login", "/images/logo.png", "/favicon.ico"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
          "curl/7.88.1", "Go-http-client/1.1"]
ATTACKS = [
    ("/search?q=1%27%20OR%20%271%27=%271", [("942100", "SQL Injection Attack Detected via libinjection", "2")]),
    ("/?file=../../etc/passwd", [("930100", "Path Traversal Attack (/../)", "2"), ("930120", "OS File Access Attempt", "2")]),
    ("/?cmd=;cat%20/etc/passwd", [("932100", "Remote Command Execution: Unix Command Injection", "2"),
                                  ("932160", "Remote Command Execution: Unix Shell Code Found", "2")]),
    ("/?q=%3Cscript%3Ealert(1)%3C/script%3E", [("941100", "XSS Attack Detected via libinjection", "2"),
                                              ("941110", "XSS Filter - Category 1: Script Tag Vector", "2")]),
    ("/.env", [("930130", "Restricted File Access Attempt", "2")]),
]
CLIENTS = ["203.0.113.45", "198.51.100.23", "192.0.2.77", "2001:db8::17", "203.0.113.199"]


def ctime(t):
    g = time.gmtime(t)
    return "%s %s %2d %02d:%02d:%02d %d" % (DAYS[g.tm_wday], MONTHS[g.tm_mon - 1], g.tm_mday, g.tm_hour, g.tm_min, g.tm_sec, g.tm_year)


def local(t):
    g = time.gmtime(t)
    return "%02d/%s/%d:%02d:%02d:%02d +0000" % (g.tm_mday, MONTHS[g.tm_mon - 1], g.tm_year, g.tm_hour, g.tm_min, g.tm_sec)


def audit_line(t, rid, client, host, uri, rules, score):
    messages = []
    for rule_id, msg, sev in rules:
        messages.append({"message": msg, "details": {
            "match": "Matched \"Operator `Rx' with parameter `(?i)(?:payload)' against variable `ARGS:q' (Value: `%s' )" % uri[:40],
            "reference": "o0,4v10,18", "ruleId": rule_id,
            "file": "/usr/share/modsecurity-crs/rules/REQUEST-%s-APPLICATION-ATTACK.conf" % rule_id[:3],
            "lineNumber": "46", "data": "Matched Data: %s found within ARGS:q" % uri[-20:], "severity": sev,
            "ver": "OWASP_CRS/3.3.4", "rev": "", "tags": ["application-multi", "language-multi", "platform-multi",
                                                          "attack-injection", "paranoia-level/1", "OWASP_CRS"],
            "maturity": "0", "accuracy": "0"}})
    messages.append({"message": "Inbound Anomaly Score Exceeded (Total Score: %d)" % score, "details": {
        "match": "Matched \"Operator `Ge' with parameter `5' against variable `TX:ANOMALY_SCORE' (Value: `%d' )" % score,
        "reference": "", "ruleId": "949110", "file": "/usr/share/modsecurity-crs/rules/REQUEST-949-BLOCKING-EVALUATION.conf",
        "lineNumber": "81", "data": "", "severity": "2", "ver": "OWASP_CRS/3.3.4", "rev": "",
        "tags": ["application-multi", "language-multi", "platform-multi", "attack-generic"], "maturity": "0", "accuracy": "0"}})
    entry = {"transaction": {
        "client_ip": client, "time_stamp": ctime(t), "server_id": "2ce124b0c5d02b433a9392782ff8b313286c1942",
        "client_port": 0, "host_ip": "10.0.0.12", "host_port": 80, "unique_id": rid,
        "request": {"method": "GET", "http_version": 1.1, "uri": uri, "body": "",
                    "headers": {"Host": host, "User-Agent": AGENTS[0], "Accept": "*/*", "X-Forwarded-For": client}},
        "response": {"body": "", "http_code": 200, "headers": {
            "Server": "nginx", "Date": "Thu, 19 Nov 2026 12:00:00 GMT", "Content-Length": "3", "Content-Type": "text/html",
            "Connection": "keep-alive"}},
        "producer": {"modsecurity": "ModSecurity v3.0.9 (Linux)", "connector": "ModSecurity-nginx v1.0.3",
                     "secrules_engine": "DetectionOnly", "components": ["OWASP_CRS/3.3.4\""]},
        "messages": messages}}
    return json.dumps(entry, separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--access-lines", type=int, default=1_000_000)
    ap.add_argument("--audit-entries", type=int, default=50_000)
    ap.add_argument("--combined", action="store_true")
    a = ap.parse_args()
    rnd = random.Random(20261120)
    n, m = a.access_lines, a.audit_entries
    audited = set(rnd.sample(range(n), m)) if m <= n else set(range(n))
    expected = {ns: [0, 0] for ns, _ in NAMESPACES}
    # A site sees thousands of visitors, not a million: a pool of 5,000 client addresses.
    pool = ["10.%d.%d.%d" % (rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255)) for _ in range(5000)]
    with open(a.out + "/access.log", "w") as acc, open(a.out + "/modsec_audit.log", "w") as aud:
        for i in range(n):
            t = END - SPAN + (i * SPAN) // n
            r = rnd.random()
            ns = NAMESPACES[0][0] if r < 0.8 else NAMESPACES[1][0] if r < 0.95 else NAMESPACES[2][0]
            host = {"shop-production": "shop.example.com", "shop-staging": "staging.shop.example.com"}.get(ns, "other.example.com")
            rid = "%032x" % rnd.getrandbits(128)
            attack = i in audited
            if attack:
                uri, rules = ATTACKS[i % len(ATTACKS)]
                client = CLIENTS[i % len(CLIENTS)]
                agent = AGENTS[0]
            else:
                uri, rules = PATHS[i % len(PATHS)], None
                client = pool[rnd.randrange(len(pool))]
                agent = AGENTS[i % len(AGENTS)]
            status = 200
            size = 512 + (i % 4096)
            if a.combined:
                acc.write('%s - - [%s] "GET %s HTTP/1.1" %d %d "-" "%s"\n' % (client, local(t), uri, status, size, agent))
            else:
                acc.write('%s - - [%s] "GET %s HTTP/1.1" %d %d "-" "%s" %d 0.%03d [%s-web-80] [] 10.1.2.3:8080 %d 0.%03d %d %s\n'
                          % (client, local(t), uri, status, size, agent, 300 + i % 200, i % 1000, ns, size, i % 1000, status, rid))
            expected[ns][0] += 1
            if attack:
                aud.write(audit_line(t, rid, client, host, uri, rules, 5 * len(rules)) + "\n")
                expected[ns][1] += 1
    for ns, (total, anomalous) in expected.items():
        print("%s total=%d anomalous=%d" % (ns, total, anomalous))


if __name__ == "__main__":
    main()
