#!/usr/bin/env bash
# Benchmark of the `waf: files:` source (a script, not a test: absolute times drift on a shared
# machine, so it prints ratios measured in one run, on the same files).
#
#   scripts/bench/waf-files.sh            # ~2 min; needs goaccess (apt-get install -y goaccess)
#   SCRATCH=.build-waf scripts/bench/waf-files.sh   # another SwiftPM --scratch-path
#
# It generates (scripts/bench/gen-waf-logs.py, fixed seed) a 1,000,000-line ingress-nginx access
# log plus 50,000 ModSecurity v3 audit entries, and the same traffic as a `combined` access log,
# then times the release build of threat-report against GoAccess (`--log-format=COMBINED -o
# x.html`, on the combined variant) and `wc -l` (on the same files threat-report reads), and
# prints lines/s and ratios, plus peak RSS (/usr/bin/time -v) at 1M and 5M access lines.
#
# Targets: >= 40x GoAccess, >= 0.1x wc -l, peak RSS <= 48 MB and flat from 1M to 5M lines.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
scratch=${SCRATCH:-.build}
work=${WORK:-$(mktemp -d)}
keep=${KEEP:-0}
[ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
command -v goaccess >/dev/null || { echo "goaccess is missing: apt-get install -y goaccess" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing: apt-get install -y time" >&2; exit 1; }

echo "building release ($scratch)..." >&2
(cd "$repo" && swift build -c release --scratch-path "$scratch" --product threat-report >/dev/null)
bin="$repo/$scratch/release/threat-report"

gen() {  # dir access-lines audit-entries [--combined]
  mkdir -p "$1"
  [ -s "$1/access.log" ] || python3 "$repo/scripts/bench/gen-waf-logs.py" --out "$1" --access-lines "$2" --audit-entries "$3" ${4:-} >/dev/null
  cat > "$1/threat-report.yml" <<EOF
version: 1
from: 2026-11-19T00:00:00Z
to: 2026-11-20T00:00:00Z
environments:
  - name: production
    namespace: shop-production
    hosts: [shop.example.com]
    waf: { files: { audit_log: modsec_audit.log, access_log: access.log } }
EOF
}
echo "generating logs in $work..." >&2
gen "$work/1m" 1000000 50000
gen "$work/1m-combined" 1000000 50000 --combined
gen "$work/5m" 5000000 50000
gen "$work/5m-250k" 5000000 250000

now() { date +%s.%N; }
# Median wall seconds of N runs of a command (the page cache is warm after the first).
median() {
  local n=$1; shift
  local times=()
  for _ in $(seq "$n"); do
    local t0 t1; t0=$(now); "$@" >/dev/null 2>&1; t1=$(now)
    times+=("$(echo "$t1 - $t0" | bc -l)")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
report() { (cd "$1" && "$bin" report --config threat-report.yml --output "$1/out" --format html,md,json); }
rss() {  # peak RSS in MB of a report run
  (cd "$1" && /usr/bin/time -v "$bin" report --config threat-report.yml --output "$1/out" --format html,md,json 2>&1 >/dev/null) \
    | awk -F: '/Maximum resident set size/ {printf "%.1f", $2/1024}'
}
lines() { cat "$@" | wc -l; }

cat "$work"/1m/*.log "$work"/1m-combined/*.log >/dev/null   # warm the page cache
report "$work/1m" >/dev/null 2>&1 || { echo "threat-report failed on $work/1m:" >&2; report "$work/1m" >&2; exit 1; }

n_ingress=$(lines "$work/1m/access.log" "$work/1m/modsec_audit.log")
n_combined=$(lines "$work/1m-combined/access.log")
t_tr=$(median 5 report "$work/1m")
t_tr_combined=$(median 5 report "$work/1m-combined")
t_wc=$(median 5 wc -l "$work/1m/access.log" "$work/1m/modsec_audit.log")
t_sha=$(median 5 openssl dgst -sha256 "$work/1m/access.log" "$work/1m/modsec_audit.log")
echo "running goaccess (about 20 s)..." >&2
t_goaccess=$(median 1 goaccess "$work/1m-combined/access.log" --log-format=COMBINED -o "$work/1m-combined/x.html")

rate() { echo "$1 / $2" | bc -l; }
r_tr=$(rate "$n_ingress" "$t_tr")
r_tr_combined=$(rate "$(lines "$work/1m-combined/access.log" "$work/1m-combined/modsec_audit.log")" "$t_tr_combined")
r_wc=$(rate "$n_ingress" "$t_wc")
r_goaccess=$(rate "$n_combined" "$t_goaccess")

printf '\n%-44s %10s %14s\n' "run (same files, warm page cache)" "seconds" "lines/s"
printf '%-44s %10.3f %14.0f\n' "threat-report, ingress 1M + audit 50k" "$t_tr" "$r_tr"
printf '%-44s %10.3f %14.0f\n' "threat-report, combined 1M + audit 50k" "$t_tr_combined" "$r_tr_combined"
printf '%-44s %10.3f %14.0f\n' "goaccess --log-format=COMBINED, 1M" "$t_goaccess" "$r_goaccess"
printf '%-44s %10.3f %14.0f\n' "wc -l, ingress 1M + audit 50k" "$t_wc" "$r_wc"
printf '%-44s %10.3f %14s   (the evidence digest threat-report computes)\n' "openssl dgst -sha256, same files" "$t_sha" "-"

ratio_goaccess=$(echo "$r_tr_combined / $r_goaccess" | bc -l)
ratio_wc=$(echo "$r_tr / $r_wc" | bc -l)
printf '\n%-44s %10.1fx   (target >= 40x)\n' "threat-report vs GoAccess (lines/s)" "$ratio_goaccess"
printf '%-44s %10.3fx   (target >= 0.1x)\n' "threat-report vs wc -l (lines/s)" "$ratio_wc"

m1=$(rss "$work/1m"); m5=$(rss "$work/5m"); m5b=$(rss "$work/5m-250k")
printf '\n%-44s %10s\n' "peak RSS (MB, /usr/bin/time -v)" ""
printf '%-44s %10s   (target <= 48, flat)\n' "1M access lines + 50k audit entries" "$m1"
printf '%-44s %10s\n' "5M access lines + 50k audit entries" "$m5"
printf '%-44s %10s   (memory follows in-window audit entries)\n' "5M access lines + 250k audit entries" "$m5b"
printf '%-44s %10s\n' "cores" "$(nproc)"
printf '%-44s %10s\n' "load average at the end" "$(cut -d' ' -f1-3 /proc/loadavg)"
