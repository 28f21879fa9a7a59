#!/usr/bin/env bash
# Flow-source benchmark against a real Prometheus with backfilled Hubble counters.
# Prints: engine round trips per environment for a 1h and a 30d window (they must be equal),
# and a 30-day, minute-interval report: wall time, peak RSS, HTML size (target < 2 MB), points
# drawn per chart after reduction.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BIN:-.build/release/threat-report}
[ -x "$BIN" ] || swift build -c release --product threat-report >&2
WORK=$(mktemp -d)
trap '{ kill -9 ${PROM_PID:-0}; wait ${PROM_PID:-0}; } 2>/dev/null; rm -rf "$WORK"' EXIT
python3 scripts/lab/hubble_openmetrics.py --output "$WORK/hubble.om"
promtool tsdb create-blocks-from openmetrics "$WORK/hubble.om" "$WORK/tsdb" >/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'scrape_configs: []\n' > "$WORK/prom.yml"
prometheus --config.file="$WORK/prom.yml" --storage.tsdb.path="$WORK/tsdb" --storage.tsdb.retention.time=3650d \
  --web.listen-address=127.0.0.1:$PORT --log.level=error >/dev/null 2>&1 &
PROM_PID=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/-/ready" >/dev/null && break; sleep 0.1; done
cat > "$WORK/c.yml" <<YAML
version: 1
to: 2026-11-20T00:00:00Z
environments:
  - { name: production, namespace: shop-production, flows: { prometheus: { url: "http://127.0.0.1:$PORT" } } }
YAML
printf '%-44s %12s\n' "measure" "value"
for w in 1h 30d; do
  "$BIN" report --config "$WORK/c.yml" --window $w --output "$WORK/out-$w" --record "$WORK/rec-$w" --format json --quiet >/dev/null
  n=$(ls "$WORK/rec-$w/production/flows/"*.request.json | wc -l)
  printf '%-44s %12s\n' "Prometheus requests per environment, $w" "$n"
done
/usr/bin/time -f '%e %M' -o "$WORK/time" "$BIN" report --config "$WORK/c.yml" --window 30d --interval minute \
  --output "$WORK/out-30d-min" --format html,md,json --quiet >/dev/null
read -r secs rss < "$WORK/time"
html=$(stat -c %s "$WORK/out-30d-min/report.html")
points=$(python3 -c "import json;d=json.load(open('$WORK/out-30d-min/report.json'));print(len(d['environments'][0]['flows']['rate']['forwarded']))")
printf '%-44s %12s\n' "30d minute report: wall seconds" "$secs" "30d minute report: peak RSS KB" "$rss" \
  "30d minute report: HTML bytes (target < 2 MB)" "$html" "rate points fetched (step=max(60,W/600))" "$points"
[ "$html" -lt 2097152 ] || { echo "HTML over 2 MB" >&2; exit 1; }
