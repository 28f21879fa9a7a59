"""`make bench` rows for flows from Prometheus (`--only flows`), called from bench.py: Prometheus
backfilled with promtool with 30+ days of Hubble counters, bound to a free loopback port; round
trips per environment for a 1h and a 30d window, then a 30-day, minute-interval, 10-environment
report replayed from the recording against ten 1-environment reports."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(b, runs):
    """Prometheus with backfilled Hubble counters: round trips per environment for 1h and 30d,
    then a 30-day, minute-interval, 10-environment report replayed from the recording."""
    if not shutil.which("prometheus") or not shutil.which("promtool"):
        b.log("prometheus/promtool missing (scripts/install-deps.sh test); flow rows skipped")
        return
    d = os.path.join(b.BENCH, "flows")
    os.makedirs(d, exist_ok=True)
    tsdb = os.path.join(d, "tsdb")
    if not os.path.exists(os.path.join(d, "done")):
        b.log("backfilling Prometheus with 30+ days of Hubble counters...")
        om = os.path.join(d, "hubble.om")
        subprocess.run([sys.executable, os.path.join(b.ROOT, "scripts", "lab", "hubble_openmetrics.py"), "--output", om,
                        "--start", str(1795132800 - 31 * 86400), "--step", "120"],
                       check=True, stdout=subprocess.DEVNULL)
        shutil.rmtree(tsdb, ignore_errors=True)
        subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", om, tsdb], check=True,
                       stdout=subprocess.DEVNULL)
        os.remove(om)
        open(os.path.join(d, "done"), "w").close()
    port = free_port()
    with open(os.path.join(d, "prom.yml"), "w") as f:
        f.write("scrape_configs: []\n")
    prom = subprocess.Popen(["prometheus", "--config.file=" + os.path.join(d, "prom.yml"), "--storage.tsdb.path=" + tsdb,
                             "--storage.tsdb.retention.time=3650d", "--web.listen-address=127.0.0.1:%d" % port,
                             "--log.level=error"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % port, timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        cfg = os.path.join(d, "live.yml")
        with open(cfg, "w") as f:
            f.write("version: 1\nto: 2026-11-20T00:00:00Z\nenvironments:\n  - { name: production, namespace: "
                    "shop-production, flows: { prometheus: { url: \"http://127.0.0.1:%d\" } } }\n" % port)
        counts, secs = {}, {}
        for w in ("1h", "30d"):
            rec = os.path.join(d, "rec-" + w)
            shutil.rmtree(rec, ignore_errors=True)
            extra = ["--interval", "minute"] if w == "30d" else []
            t0 = time.perf_counter()
            subprocess.run([b.BIN, "report", "--config", cfg, "--window", w, "--output", os.path.join(d, "out-" + w),
                            "--record", rec, "--format", "json", "--quiet"] + extra, check=True, stdout=subprocess.DEVNULL)
            secs[w] = time.perf_counter() - t0
            n = 0
            for _root, _dirs, files in os.walk(os.path.join(rec, "production")):
                n += sum(1 for x in files if x.endswith(".request.json"))
            counts[w] = n
    finally:
        prom.kill()
        prom.wait()
    b.row("engine requests per environment, 30d window", counts["30d"], "requests", "same, 1h window", counts["1h"],
        counts["30d"] / max(1, counts["1h"]), "equal", counts["30d"] == counts["1h"])
    b.row("live Prometheus, 1 environment, 30d minute (s)", secs["30d"], "s", "same, 1h window", secs["1h"],
        secs["30d"] / secs["1h"], "-", None)
    # 10 environments replayed from the 30-day minute recording.
    rec = os.path.join(d, "rec-30d", "production", "flows")
    out = os.path.join(d, "out-10env")
    for n_env, name in ((1, "replay-1.yml"), (10, "replay-10.yml")):
        with open(os.path.join(d, name), "w") as f:
            f.write("version: 1\nto: 2026-11-20T00:00:00Z\nwindow: 30d\ninterval: minute\nenvironments:\n")
            for i in range(n_env):
                f.write("  - { name: env-%02d, namespace: shop-production, flows: { replay: %s } }\n" % (i, rec))
    fm = "html,md,json"
    t10, rss10 = b.best_time([b.BIN, "report", "--config", os.path.join(d, "replay-10.yml"), "--output", out,
                              "--format", fm, "--quiet"], runs)
    t1, _ = b.best_time([b.BIN, "report", "--config", os.path.join(d, "replay-1.yml"), "--output", out + "-1",
                         "--format", fm, "--quiet"], runs)
    b.row("30d minute replay, 10 environments (s)", t10, "s", "10 x the 1-environment report", 10 * t1, t10 / (10 * t1),
        "<= 1x (linear)", t10 <= 10 * t1)
    html = os.path.getsize(os.path.join(out, "report.html"))
    b.row("30d minute replay, 10 environments: HTML bytes", html, "bytes", "peak RSS MB", rss10, None, "< 2 MB",
        html < 2 * 1024 * 1024)
