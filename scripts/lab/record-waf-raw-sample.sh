#!/usr/bin/env bash
# Records samples/raw/: a small real capture of NGINX + ModSecurity v3 + OWASP CRS logs, and the
# config samples/threat-report-raw.yml that reads it with `waf: files:`.
#
#   apt-get install -y nginx libnginx-mod-http-modsecurity modsecurity-crs wfuzz
#   scripts/lab/record-waf-raw-sample.sh            # ~10 s, from any directory
#
# It starts the lab server of scripts/lab/waf-nginx.sh (DetectionOnly, TZ=Europe/Berlin so both
# logs carry local times and audit_log_timezone matters), sends benign requests and attack
# payloads from wfuzz's wordlists (SQL, XSS, traversal) to two environments (shop.example.com
# and staging.shop.example.com) and to the default server, stops it by PID, and copies
# access.log and modsec_audit.log into samples/raw/. Every request and its status are listed in
# samples/raw/ledger.tsv. The window in the config is the capture's hour(s), rounded out.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'scripts_dir="$repo/scripts/lab"; "$scripts_dir/waf-nginx.sh" stop "$work" || true; rm -rf "$work"' EXIT
wordlists=/usr/share/wfuzz/wordlist/Injections
for f in SQL.txt XSS.txt Traversal.txt; do
  [ -s "$wordlists/$f" ] || { echo "missing $wordlists/$f: apt-get install -y wfuzz" >&2; exit 1; }
done

read -r port pid < <(TZ=Europe/Berlin "$repo/scripts/lab/waf-nginx.sh" start "$work" DetectionOnly)
echo "nginx pid $pid on 127.0.0.1:$port" >&2
ledger="$work/ledger.tsv"
printf 'host\tmethod\tclient\tpath\tstatus\n' > "$ledger"
start=$(date -u +%s)

send() {  # host method client path [extra curl args...]
  local host=$1 method=$2 client=$3 path=$4; shift 4
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is -X "$method" -H "Host: $host" \
         -H "X-Forwarded-For: $client" -A "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0" \
         "$@" "http://127.0.0.1:$port$path" || echo 000)
  printf '%s\t%s\t%s\t%s\t%s\n' "$host" "$method" "$client" "$path" "$code" >> "$ledger"
}
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

benign=(/ /products /products/42 /cart /search?q=shoes /static/app.js /images/logo.png /robots.txt /api/v1/items?page=2 /checkout)
for host in shop.example.com staging.shop.example.com; do
  for i in $(seq 0 39); do
    send "$host" GET "192.0.2.$((10 + i % 20))" "${benign[$((i % ${#benign[@]}))]}"
  done
  send "$host" POST 192.0.2.30 / -d 'name=alice&qty=2'    # 405 from the static backend: audited for its status
done
# Attacks: the first lines of wfuzz's SQL, XSS and traversal lists, URL-encoded into a parameter.
n=0
while IFS= read -r payload; do
  payload=${payload%$'\r'}  # the wordlists have CRLF line ends
  [ -n "$payload" ] || continue
  host=$([ $((n % 3)) -eq 2 ] && echo staging.shop.example.com || echo shop.example.com)
  client=$([ $((n % 4)) -eq 0 ] && echo 198.51.100.23 || echo 203.0.113.45)
  send "$host" GET "$client" "/search?q=$(enc "$payload")"
  n=$((n + 1))
done < <(head -n 40 "$wordlists/SQL.txt"; head -n 15 "$wordlists/XSS.txt"; head -n 10 "$wordlists/Traversal.txt")
# A scanner, an overlong UTF-8 traversal (invalid UTF-8 in the audit log), a raw traversal path
# (nginx answers 400 before ModSecurity), non-ASCII in the User-Agent (\xHH in the access log),
# a numeric Host (the default server), and a command injection.
send shop.example.com GET 203.0.113.45 /admin.php -A "Nikto/2.1.6"
send staging.shop.example.com GET 198.51.100.140 "/?file=%c0%af..%c0%af..%c0%afetc/passwd"
send shop.example.com GET 203.0.113.199 "/../../etc/passwd"
send shop.example.com GET 192.0.2.44 /products -A $'Mozilla/5.0 (\xc3\xa4\xe2\x80\x8f) "quoted"'
send 127.0.0.1 GET 203.0.113.45 "/?cmd=%3Bcat%20/etc/passwd"
send shop.example.com GET 2001:db8::17 "/?exec=%3Bcat%20/etc/shadow"

sleep 0.3
"$repo/scripts/lab/waf-nginx.sh" stop "$work"
end=$(date -u +%s)
mkdir -p "$repo/samples/raw"
cp "$work/access.log" "$work/modsec_audit.log" "$ledger" "$repo/samples/raw/"
from=$(date -u -d "@$(( start / 3600 * 3600 ))" +%Y-%m-%dT%H:%M:%SZ)
to=$(date -u -d "@$(( (end / 3600 + 1) * 3600 ))" +%Y-%m-%dT%H:%M:%SZ)
cat > "$repo/samples/threat-report-raw.yml" <<EOF
# A report from raw logs: samples/raw/ is a real capture of NGINX 1.22 + libmodsecurity 3.0.9 +
# OWASP CRS 3.3.4 (DetectionOnly), made by scripts/lab/record-waf-raw-sample.sh on $(date -u +%Y-%m-%d).
# The server ran with TZ=Europe/Berlin: access lines carry +01:00, audit time_stamps are local.
version: 1
title: Shop threat report (raw WAF logs)
from: $from
to: $to
interval: minute
timezone: Europe/Berlin
environments:
  - name: production
    namespace: shop-production
    hosts: [shop.example.com]
    waf:
      files: { audit_log: raw/modsec_audit.log, access_log: "raw/access*.log", audit_log_timezone: Europe/Berlin }
  - name: staging
    namespace: shop-staging
    hosts: [staging.shop.example.com]
    waf:
      files: { audit_log: raw/modsec_audit.log, access_log: "raw/access*.log", audit_log_timezone: Europe/Berlin }
EOF
echo "samples/raw: $(wc -l < "$work/access.log") access lines, $(wc -l < "$work/modsec_audit.log") audit entries; window $from – $to" >&2
