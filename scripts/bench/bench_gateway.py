"""`make bench` rows for the gateway inputs: an Envoy text and an Envoy Gateway JSON access log of
1,000,000 lines against a Python regex parse, `json.loads` and GoAccess, and 300,000
coraza-proxy-wasm error lines against a Python regex parse; GoAccess 1.7 reads each access log in
its own format (the JSON one through a JSON `--log-format`), so both run on the same lines. Called from bench.py (`--only gateway`);
inputs are generated once into .bench/gateway/.

  python3 scripts/bench/bench_gateway.py peer-envoy FILE | peer-json FILE | peer-coraza FILE
    (the Python peers: one regex or json.loads per line, the fields the report reads)
"""
import os
import random
import re
import sys

ENVOY = re.compile(rb'^\[(\S+)\] "([^"]*)" (\d+) \S+ \S+ \S+ \S+ \S+ "([^"]*)" "[^"]*" "([^"]*)" "([^"]*)" "[^"]*"$')
CORAZA = re.compile(rb'\[client "([^"]*)"\] Coraza: (Warning|Access denied).*?\[id "(\d+)"\].*?\[severity "([^"]*)"\].*?\[uri "([^"]*)"\] \[unique_id "([^"]*)"\]')


GOACCESS_TEXT = '[%dT%t.%^] "%r" %s %^ %^ %b %^ %^ "%h" "%u" %^'
GOACCESS_JSON = ('{"start_time":"%dT%t.%^","method":"%m","x-envoy-origin-path":"%U","protocol":"%H","response_code":"%s",'
                 '"bytes_sent":"%b","user-agent":"%u","x-forwarded-for":"%h",":authority":"%v","duration":"%L"}')


def generate(d, n_access=1_000_000, n_error=300_000):
    os.makedirs(d, exist_ok=True)
    if os.path.exists(os.path.join(d, "done")):
        return
    rng = random.Random(7)
    hosts = ["shop.example.com", "api.shop.example.com", "staging.shop.example.com"]
    with open(os.path.join(d, "envoy.log"), "w") as t, open(os.path.join(d, "envoy-json.log"), "w") as j:
        for i in range(n_access):
            s = 1763510400 + i * 86400 // n_access
            hh, mm, ss = s // 3600 % 24, s // 60 % 60, s % 60
            ts = "2025-11-19T%02d:%02d:%02d.%03dZ" % (hh, mm, ss, i % 1000)
            path = "/product?id=%d" % rng.randrange(10000)
            rid = "%032x" % rng.getrandbits(128)
            host = hosts[i % 3]
            status = 200 if i % 17 else 403
            t.write('[%s] "GET %s HTTP/1.1" %d - 0 %d %d %d "198.51.100.%d" "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0" "%s" "%s" "10.244.1.9:8080"\n'
                    % (ts, path, status, 1000 + i % 5000, i % 90, i % 80, i % 250, rid, host))
            j.write('{":authority":"%s","bytes_received":0,"bytes_sent":%d,"connection_termination_details":null,"downstream_local_address":"10.244.0.5:10080",'
                    '"downstream_remote_address":"198.51.100.%d:5%04d","duration":%d,"method":"GET","protocol":"HTTP/1.1","requested_server_name":null,'
                    '"response_code":%d,"response_code_details":"via_upstream","response_flags":"-","route_name":"httproute/shop/web/rule/0/match/0/%s",'
                    '"start_time":"%s","upstream_cluster":"httproute/shop/web/rule/0","upstream_host":"10.244.1.9:8080","upstream_local_address":"10.244.0.5:41234",'
                    '"upstream_transport_failure_reason":null,"user-agent":"Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",'
                    '"x-envoy-origin-path":"%s","x-envoy-upstream-service-time":null,"x-forwarded-for":"198.51.100.%d","x-request-id":"%s"}\n'
                    % (host, 1000 + i % 5000, i % 250, i % 10000, i % 90, status, host, ts, path, i % 250, rid))
    with open(os.path.join(d, "coraza.log"), "w") as e:
        for i in range(n_error):
            s = 1763510400 + i * 86400 // n_error
            uid = "%019x" % (i // 3)
            rule = ("942100", "941100", "949110")[i % 3]
            verb = "Access denied (phase 2)." if rule == "949110" else "Warning."
            e.write('[2025-11-19 %02d:%02d:%02d.%06d][33][critical][wasm] [source/extensions/common/wasm/context.cc:1192] wasm log coraza-filter my_vm_id: '
                    '[client "203.0.113.%d"] Coraza: %s Matched Data found [file "@owasp_crs/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"] [line "45"] '
                    '[id "%s"] [rev ""] [msg "SQL Injection Attack Detected via libinjection"] [data "Matched Data: s&1c found within ARGS:q"] '
                    '[severity "critical"] [ver "OWASP_CRS/4.7.0"] [maturity "0"] [accuracy "0"] [tag "attack-sqli"] [hostname "10.244.1.17"] '
                    '[uri "/search?q=%d"] [unique_id "%s"]\n' % (s // 3600 % 24, s // 60 % 60, s % 60, i % 1000000, (i // 3) % 250, verb, rule, i // 3, uid))
    open(os.path.join(d, "done"), "w").close()


def run(b, runs):
    """Adds the rows to bench module `b` (its row, best_time, report_cmd, lines_of, warm)."""
    d = os.path.join(b.BENCH, "gateway")
    generate(d)
    out = os.path.join(b.BENCH, "out")
    me = os.path.abspath(__file__)
    for label, name, fmt, peer in (("envoy text", "envoy.log", "envoy", "peer-envoy"), ("envoy-json", "envoy-json.log", "envoy-json", "peer-json")):
        path = os.path.join(d, name)
        b.warm(path)
        n = b.lines_of(path)
        cfg = os.path.join(d, "%s.yml" % fmt)
        with open(cfg, "w") as f:
            f.write("version: 1\nfrom: 2025-11-19T00:00:00Z\nto: 2025-11-20T00:00:00Z\nenvironments:\n  - name: gw\n    namespace: shop\n"
                    "    waf: { files: { access_log: %s } }\n" % name)
        # The report and its Python peer in turn (the JSON peer, at ~7 s a run, runs half as often).
        (t_tr, rss), (t_py, _) = b.best_interleaved([(b.report_cmd(cfg, out), runs),
                                                     ([sys.executable, me, peer, path], runs if peer == "peer-envoy" else max(1, runs // 2))])
        r = n / t_tr
        row = "access log %s 1M lines (lines/s)" % label
        b.row(row, r, "lines/s", "Python %s" % ("regex parse" if peer == "peer-envoy" else "json.loads"), n / t_py, r * t_py / n, ">= 3x", r * t_py / n >= 3)
        if b.shutil.which("goaccess"):
            # GoAccess on the same lines: the text format, or (GoAccess >= 1.6) a JSON --log-format
            # naming the Envoy Gateway keys.
            b.log("running GoAccess on the %s log..." % label)
            t_ga, _ = b.best_time(["goaccess", path, "--log-format=" + (GOACCESS_TEXT if peer == "peer-envoy" else GOACCESS_JSON),
                                   "--date-format=%Y-%m-%d", "--time-format=%T", "-o", os.path.join(b.BENCH, "goaccess-%s.html" % fmt)], 1)
            goaccess = n / t_ga
            b.row(row, r, "lines/s", "GoAccess (same %s lines)" % ("text" if peer == "peer-envoy" else "JSON"), goaccess, r / goaccess,
                  ">= 40x", r / goaccess >= 40)
            if b.shutil.which("openssl"):
                # The bound the evidence digest sets: the report hashes every byte it reads with
                # SHA-256 (on a thread of its own), so it can run no faster than hashing alone.
                t_sha, _ = b.best_time(["openssl", "dgst", "-sha256", path], runs)
                b.row(row.replace("(lines/s)", "SHA-256 of the file alone (lines/s)"), n / t_sha, "lines/s", "GoAccess (same lines)",
                      goaccess, n / t_sha / goaccess, "bound", None)
        b.row(row.replace("(lines/s)", "peak RSS (MB)"), rss, "MB", "", None, None, "flat", None)
    path = os.path.join(d, "coraza.log")
    b.warm(path)
    n = b.lines_of(path)
    cfg = os.path.join(d, "coraza.yml")
    with open(cfg, "w") as f:
        f.write("version: 1\nfrom: 2025-11-19T00:00:00Z\nto: 2025-11-20T00:00:00Z\nenvironments:\n  - name: gw\n    namespace: shop\n"
                "    waf: { files: { error_log: coraza.log } }\n")
    (t_tr, _), (t_py, _) = b.best_interleaved([(b.report_cmd(cfg, out), runs), ([sys.executable, me, "peer-coraza", path], runs)])
    r = n / t_tr
    b.row("Coraza error lines 300k (lines/s)", r, "lines/s", "Python regex parse", n / t_py, r * t_py / n, ">= 3x", r * t_py / n >= 3)


def peer(kind, path):
    import json
    n = 0
    with open(path, "rb") as f:
        for line in f:
            if kind == "peer-json":
                d = json.loads(line)
                n += (d.get("start_time") is not None) + (d.get(":authority") is not None)
            else:
                m = (ENVOY if kind == "peer-envoy" else CORAZA).search(line)
                n += m is not None
    print(n)


if __name__ == "__main__":
    peer(sys.argv[1], sys.argv[2])
