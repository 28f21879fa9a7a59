#!/usr/bin/env python3
"""Writes samples/gateway/: an Envoy access log (Envoy's default text format, as Envoy Gateway
writes it) and Envoy's own log holding coraza-proxy-wasm's rule-match lines, for 2026-11-18 and
2026-11-19 (UTC). The traffic follows production's shape at 1/100 of its volume: a diurnal
baseline, and on the 19th the same attack spike at 03:00-04:59 UTC from the same clients. Coraza
runs in blocking mode (SecRuleEngine On), CRS 4.7.0. Deterministic (seeded; gzip without a
timestamp), so `make report` gives the same bytes every run.

usage: scripts/lab/make-gateway-sample.py [OUT_DIR]   (default samples/gateway)
"""
import gzip, os, random, sys

out = sys.argv[1] if len(sys.argv) > 1 else "samples/gateway"
rng = random.Random(20261119)
HOST = "gw.shop.example.com"
# production's hourly totals / 100, and its anomalous requests / 100 (rounded up); the spike hours
# keep their share of attacks.
TOTAL = [26678, 26445, 25382, 69825, 68928, 24684, 24230, 25969, 29734, 32644, 35643, 39865, 44264, 43283,
         44261, 46335, 44986, 42787, 39344, 36333, 32969, 30284, 28672, 25803]
ANOM = [218, 200, 202, 38681, 37991, 225, 198, 197, 240, 263, 291, 343, 364, 330, 382, 384, 333, 344, 306, 301, 262, 232, 236, 222]
SPIKE = {"203.0.113.45": 0.55, "198.51.100.23": 0.45}
BACKGROUND = ["2001:db8::17", "192.0.2.77", "203.0.113.199", "198.51.100.140", "192.0.2.210", "192.0.2.137", "198.51.100.116"]
PAGES = ["/", "/products", "/product?id=42", "/cart", "/checkout", "/static/app.js", "/static/app.css", "/api/v1/items?page=2", "/login"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"]
# (uri, [(rule id, file, msg, severity)]) — CRS 4 rules the payload matches.
ATTACKS = [
    ("/search?q=1%27%20OR%20%271%27=%271", [("942100", "REQUEST-942-APPLICATION-ATTACK-SQLI.conf", "SQL Injection Attack Detected via libinjection", "critical"),
                                             ("942130", "REQUEST-942-APPLICATION-ATTACK-SQLI.conf", "SQL Injection Attack: SQL Boolean-based attack detected", "critical")]),
    ("/product?id=<script>alert(1)</script>", [("941100", "REQUEST-941-APPLICATION-ATTACK-XSS.conf", "XSS Attack Detected via libinjection", "critical"),
                                                ("941160", "REQUEST-941-APPLICATION-ATTACK-XSS.conf", "NoScript XSS InjectionChecker: HTML Injection", "critical")]),
    ("/static/..%2f..%2f..%2fetc%2fpasswd", [("930100", "REQUEST-930-APPLICATION-ATTACK-LFI.conf", "Path Traversal Attack (/../) or (/.../)", "critical"),
                                             ("932160", "REQUEST-932-APPLICATION-ATTACK-RCE.conf", "Remote Command Execution: Unix Shell Code Found", "critical")]),
    ("/api/v1/export?file=;/bin/sh%20-c%20id", [("932100", "REQUEST-932-APPLICATION-ATTACK-RCE.conf", "Remote Command Execution: Unix Command Injection", "critical")]),
    ("/api/v1/items?filter=%7B%22$where%22:%22sleep(5000)%22%7D", [("934100", "REQUEST-934-APPLICATION-ATTACK-GENERIC.conf", "Node.js Injection Attack 1/2", "critical")]),
    ("/upload", [("922110", "REQUEST-922-MULTIPART-ATTACK.conf", "Illegal MIME Multipart Header content-type: charset parameter", "critical")]),
    ("/.env", [("930130", "REQUEST-930-APPLICATION-ATTACK-LFI.conf", "Restricted File Access Attempt", "critical")]),
]
SCANNER = ("913100", "REQUEST-913-SCANNER-DETECTION.conf", "Found User-Agent associated with security scanner", "critical")


def rid():
    return "%08x-%04x-4%03x-%04x-%012x" % (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), 0x8000 | rng.getrandbits(14), rng.getrandbits(48))


def coraza_id():
    return "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") for _ in range(19))


def envoy_time(t, frac):
    return "%s.%06d" % (t, frac)


access, errors = [], []
for day, spike in (("2026-11-18", False), ("2026-11-19", True)):
    for hour in range(24):
        total = TOTAL[hour] // 100
        anomalous = -(-ANOM[hour] // 100)
        if not spike and ANOM[hour] > 1000:  # the previous day has no spike
            anomalous, total = 3, 260
        events = []
        for k in range(total):
            events.append((rng.randrange(3600), k < anomalous))
        events.sort()
        thread = 20 + hour % 4
        for second, attack in events:
            mm, ss = divmod(second, 60)
            stamp = "%sT%02d:%02d:%02d" % (day, hour, mm, ss)
            ms = rng.randrange(1000)
            if attack:
                if spike and ANOM[hour] > 1000:
                    client = "203.0.113.45" if rng.random() < SPIKE["203.0.113.45"] else "198.51.100.23"
                else:
                    client = rng.choice(BACKGROUND)
                uri, rules = rng.choice(ATTACKS)
                agent = "sqlmap/1.7.11#stable (https://sqlmap.org)" if rng.random() < 0.4 else rng.choice(AGENTS)
                if agent.startswith("sqlmap"):
                    rules = rules + [SCANNER]
                score = 5 * len(rules)
                uid = coraza_id()
                wall = "%s %02d:%02d:%02d" % (day, hour, mm, ss)
                prefix = "[%s.%06d][%d][%%s][wasm] [source/extensions/common/wasm/context.cc:1192] wasm log coraza-filter my_vm_id: " % (wall, ms * 1000, thread)
                def line(level, verb, rule, file_, msg, sev, data):
                    return (prefix % level) + (
                        '[client "%s"] Coraza: %s %s [file "@owasp_crs/%s"] [line "%d"] [id "%s"] [rev ""] [msg "%s"] [data "%s"] '
                        '[severity "%s"] [ver "OWASP_CRS/4.7.0"] [maturity "0"] [accuracy "0"] [tag "OWASP_CRS"] '
                        '[hostname "10.244.1.17"] [uri "%s"] [unique_id "%s"]') % (
                        client, verb, msg, file_, 1000 + int(rule) % 9000, rule, msg, data, sev, uri, uid)
                for r in rules:
                    errors.append(line("warning" if r[3] != "critical" else "critical", "Warning.", r[0], r[1], r[2], r[3], "Matched Data: found within ARGS"))
                errors.append(line("critical", "Access denied (phase 2).", "949110", "REQUEST-949-BLOCKING-EVALUATION.conf",
                                   "Inbound Anomaly Score Exceeded (Total Score: %d)" % score, "emergency", ""))
                errors.append(line("critical", "Access denied (phase 5).", "980170", "RESPONSE-980-CORRELATION.conf",
                                   "Anomaly Scores: (Inbound Scores: blocking=%d, detection=%d)" % (score, score), "emergency", ""))
                status, path, ua = 403, uri, agent
            else:
                client = "%d.%d.%d.%d" % (rng.choice([81, 91, 109, 178, 185]), rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
                status = rng.choice([200] * 30 + [304, 301, 404])
                path, ua = rng.choice(PAGES), rng.choice(AGENTS)
                if rng.random() < 0.05:
                    errors.append("[%s %02d:%02d:%02d.%06d][%d][info][main] [source/common/upstream/cluster_manager_impl.cc:222] cm init: all clusters initialized" % (day, hour, mm, ss, ms * 1000, thread))
            method = "GET" if path != "/upload" else "POST"
            access.append('[%s.%03dZ] "%s %s HTTP/1.1" %d - %d %d %d %d "%s" "%s" "%s" "%s" "%s"' % (
                stamp, ms, method, path, status, rng.randrange(0, 900) if method == "POST" else 0, rng.randrange(200, 40000) if status != 403 else 199,
                rng.randrange(1, 90), rng.randrange(1, 80) if status != 403 else 0, client, ua, rid(), HOST, "10.244.1.9:8080" if status != 403 else "-"))

os.makedirs(out, exist_ok=True)
for name, lines in (("envoy-access.log.gz", access), ("envoy.log.gz", errors)):
    with open(os.path.join(out, name), "wb") as f:
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, mtime=0, compresslevel=9) as g:
            g.write(("\n".join(lines) + "\n").encode())
print("access lines: %d, error-log lines: %d" % (len(access), len(errors)))
