#!/usr/bin/env bash
# Record REAL Prometheus HTTP API answers for the bundled samples.
#
#   1. generate deterministic Hubble counters (hubble_openmetrics.py),
#   2. backfill them into a throw-away TSDB with promtool,
#   3. start a loopback-only Prometheus on that TSDB,
#   4. send the threat-report queries with curl and store the raw answers
#      plus a description of each request under samples/<env>/flows/
#      (current window) and samples/<env>/flows/previous/ (the day before).
#
# Needs: prometheus, promtool (Debian: apt-get install prometheus), curl, python3.
# Works from any directory; re-running produces byte-identical files.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
SAMPLES_DIR="$REPO_ROOT/samples"

PROMETHEUS="${PROMETHEUS:-prometheus}"
PROMTOOL="${PROMTOOL:-promtool}"
export RECORD_FORCE="${RECORD_FORCE:-0}"

# Windows (unix seconds). Current: 2026-11-19T00:00Z..2026-11-20T00:00Z,
# previous: the 24 h before it.
CUR_FROM=1795046400
CUR_TO=1795132800
PREV_FROM=1794960000
PREV_TO=1795046400
WINDOW=86400   # W, seconds: range of increase()
RANGE=1h       # R: range of rate()
STEP=144       # query_range step: W / 600

for tool in "$PROMETHEUS" "$PROMTOOL" curl python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool not found" >&2; exit 1; }
done

WORK="$(mktemp -d "${TMPDIR:-/tmp}/prom-lab.XXXXXX")"
PROM_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$PROM_PID" ]] && kill -0 "$PROM_PID" 2>/dev/null; then
    kill "$PROM_PID" 2>/dev/null || true
    wait "$PROM_PID" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -f "$WORK/prometheus.log" ]]; then
    echo "--- prometheus log (tail) ---" >&2
    tail -n 20 "$WORK/prometheus.log" >&2 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

echo "==> generating OpenMetrics"
python3 "$SCRIPT_DIR/hubble_openmetrics.py" --output "$WORK/hubble.om"

echo "==> backfilling TSDB"
mkdir -p "$WORK/data"
"$PROMTOOL" tsdb create-blocks-from openmetrics --quiet "$WORK/hubble.om" "$WORK/data" >"$WORK/promtool.log" 2>&1 \
  || { cat "$WORK/promtool.log" >&2; exit 1; }

cat >"$WORK/prometheus.yml" <<'EOF'
global:
  scrape_interval: 1m
scrape_configs: []
EOF

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"

echo "==> starting prometheus on 127.0.0.1:$PORT"
"$PROMETHEUS" \
  --config.file="$WORK/prometheus.yml" \
  --storage.tsdb.path="$WORK/data" \
  --storage.tsdb.retention.time=3650d \
  --web.listen-address="127.0.0.1:$PORT" \
  >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!

ready=""
for _ in $(seq 1 150); do
  if ! kill -0 "$PROM_PID" 2>/dev/null; then
    echo "error: prometheus exited during startup" >&2
    exit 1
  fi
  if curl -sf -o /dev/null "$BASE/-/ready"; then ready=1; break; fi
  sleep 0.2
done
[[ -n "$ready" ]] || { echo "error: prometheus not ready after 30 s" >&2; exit 1; }

# record DIR NAME PATH KEY=VALUE...
#   GET PATH with the parameters in the given order, store the raw body as
#   DIR/NAME.json and the request as DIR/NAME.request.json.
#
#   Prometheus 2.42 sums the series of a range query in Go map order, which is
#   random per request, so rate.json can differ from run to run in the last
#   digit of a float (instant queries are stable). To keep re-runs
#   byte-identical, an existing NAME.json is left untouched when the new answer
#   has the same structure and every number agrees within 1e-9 (relative);
#   otherwise it is replaced by the new answer. Either way the file holds a
#   body exactly as Prometheus sent it. Set RECORD_FORCE=1 to always replace.
record() {
  local dir=$1 name=$2 path=$3
  shift 3
  local args=() kv
  for kv in "$@"; do args+=(--data-urlencode "$kv"); done
  curl -sS --fail-with-body -G "${args[@]}" -o "$WORK/answer.json" "$BASE$path" \
    || { echo "error: query $name failed: $(cat "$WORK/answer.json" 2>/dev/null)" >&2; exit 1; }
  python3 - "$WORK/answer.json" "$dir/$name" "$path" "$@" <<'EOF'
import json, math, os, shutil, sys
answer, target, path, pairs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]

def same(a, b):
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, str) and a != b:
        try:
            x, y = float(a), float(b)
        except ValueError:
            return False
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    return a == b

with open(answer, "rb") as f:
    body = f.read()
if json.loads(body).get("status") != "success":
    sys.exit("error: %s: Prometheus answered %s" % (target, body[:300]))
keep = False
if os.environ.get("RECORD_FORCE") != "1" and os.path.exists(target + ".json"):
    with open(target + ".json", "rb") as f:
        old = f.read()
    try:
        keep = old == body or same(json.loads(old), json.loads(body))
    except ValueError:
        keep = False
if not keep:
    shutil.copyfile(answer, target + ".json")
req = {"method": "GET", "path": path, "params": [list(p.split("=", 1)) for p in pairs]}
with open(target + ".request.json", "w", encoding="utf-8", newline="\n") as f:
    f.write(json.dumps(req, indent=2) + "\n")
EOF
}

# record_window DIR NS FROM TO
record_window() {
  local dir=$1 ns=$2 from=$3 to=$4
  local f="hubble_flows_processed_total" d="hubble_drop_total" w="${WINDOW}s"
  mkdir -p "$dir"
  record "$dir" totals /api/v1/query \
    "query=sum by(verdict) (increase($f{destination=\"$ns\"}[$w]) or on(source,destination,verdict) increase($f{source=\"$ns\"}[$w]))" \
    "time=$to"
  record "$dir" inbound /api/v1/query \
    "query=sum by(verdict) (increase($f{destination=\"$ns\"}[$w]))" \
    "time=$to"
  record "$dir" outbound /api/v1/query \
    "query=sum by(verdict) (increase($f{source=\"$ns\"}[$w]))" \
    "time=$to"
  record "$dir" rate /api/v1/query_range \
    "query=sum by(verdict) (rate($f{destination=\"$ns\"}[$RANGE]) or on(source,destination,verdict) rate($f{source=\"$ns\"}[$RANGE]))" \
    "start=$from" "end=$to" "step=$STEP"
  record "$dir" drop_reasons /api/v1/query \
    "query=sum by(reason) (increase($d{destination=\"$ns\"}[$w]) or on(source,destination,reason,protocol) increase($d{source=\"$ns\"}[$w]))" \
    "time=$to"
  record "$dir" drop_pairs /api/v1/query \
    "query=sum by(source,destination) (increase($f{destination=\"$ns\",verdict=\"DROPPED\"}[$w]) or on(source,destination,verdict) increase($f{source=\"$ns\",verdict=\"DROPPED\"}[$w]))" \
    "time=$to"
}

for env in production staging; do
  ns="shop-$env"
  echo "==> recording $env ($ns)"
  record_window "$SAMPLES_DIR/$env/flows" "$ns" "$CUR_FROM" "$CUR_TO"
  record_window "$SAMPLES_DIR/$env/flows/previous" "$ns" "$PREV_FROM" "$PREV_TO"
done

echo "==> summary"
python3 - "$SAMPLES_DIR" <<'EOF'
import json, os, sys
root = sys.argv[1]
ok = True
def load(path):
    global ok
    with open(path) as f:
        doc = json.load(f)
    if doc.get("status") != "success" or not doc["data"]["result"]:
        print("  !! %s: status=%s, %d results" % (path, doc.get("status"), len(doc.get("data", {}).get("result", []))))
        ok = False
    return doc["data"]["result"]
def by(result, label):
    return {r["metric"].get(label, "(none)"): float(r["value"][1]) for r in result}
for env in ("production", "staging"):
    for sub in ("", "previous"):
        d = os.path.join(root, env, "flows", sub)
        tot = by(load(os.path.join(d, "totals.json")), "verdict")
        inb = by(load(os.path.join(d, "inbound.json")), "verdict")
        out = by(load(os.path.join(d, "outbound.json")), "verdict")
        reasons = by(load(os.path.join(d, "drop_reasons.json")), "reason")
        pairs = load(os.path.join(d, "drop_pairs.json"))
        rate = load(os.path.join(d, "rate.json"))
        fw, dr = tot.get("FORWARDED", 0.0), tot.get("DROPPED", 0.0)
        print("%s%s:" % (env, " (previous)" if sub else ""))
        print("  totals   FORWARDED=%.0f DROPPED=%.0f dropped_ratio=%.4f" % (fw, dr, dr / (fw + dr)))
        print("  inbound  %s" % {k: round(v) for k, v in sorted(inb.items())})
        print("  outbound %s" % {k: round(v) for k, v in sorted(out.items())})
        print("  drop reasons %s" % {k: round(v) for k, v in sorted(reasons.items())})
        print("  drop pairs   %s" % ["%s->%s=%.0f" % (p["metric"].get("source", "world"), p["metric"].get("destination", "world"), float(p["value"][1])) for p in pairs])
        for s in rate:
            vals = [(int(t), float(v)) for t, v in s["values"]]
            peak_t, peak_v = max(vals, key=lambda tv: tv[1])
            print("  rate %-9s points=%d peak=%.2f/s at %02d:%02d UTC" % (
                s["metric"].get("verdict"), len(vals), peak_v, peak_t % 86400 // 3600, peak_t % 3600 // 60))
sys.exit(0 if ok else 1)
EOF
echo "==> done: answers written under $SAMPLES_DIR/{production,staging}/flows"
