#!/usr/bin/env bash
# A real NGINX + ModSecurity v3 + OWASP CRS on loopback, shaped like ingress-nginx
# (docs/lab.md §1). Used by the WAF end-to-end tests and by record-waf-raw-sample.sh.
#
#   scripts/lab/waf-nginx.sh start DIR [DetectionOnly|On]   writes DIR/{nginx.conf,modsec.conf}, starts nginx,
#                                                           prints "PORT PID" on stdout
#   scripts/lab/waf-nginx.sh stop DIR                       stops that nginx by the PID in DIR/nginx.pid
#
# Two server names stand for two environments:
#   shop.example.com          -> $proxy_upstream_name "shop-production-web-80"   (namespace shop-production)
#   staging.shop.example.com  -> $proxy_upstream_name "shop-staging-web-80"      (namespace shop-staging)
# Any other Host reaches the default server, upstream "upstream-default-backend" (as in ingress-nginx).
# Logs: DIR/access.log (ingress-nginx's 17-field log-format-upstream), per named server also
# DIR/main-access-{production,staging}.log in NGINX's default `main` format, and DIR/modsec_audit.log
# (ModSecurity JSON, Serial, one entry per line; WAF_LAB_AUDIT_FORMAT=Native for the native format). modsecurity_transaction_id is "$req_id", so the
# audit unique_id equals the access line's last field. WAF_LAB_BEFORE_CRS and WAF_LAB_AFTER_CRS name
# files Included before and after the CRS rules (a tuning file's two parts). WAF_LAB_ERROR_LOG=1 turns
# the audit log off and writes DIR/error.log at level info: ModSecurity v3 writes its Warning lines
# there, one per rule match, and they are the only record of the matches. POST /comments and
# POST /api/... answer 200. The process runs with TZ (default UTC) from
# the environment: set TZ=Europe/Berlin to get local times with a zone in both logs.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [DetectionOnly|On]" >&2; exit 2; }

free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
EOF
}

case "$cmd" in
start)
  engine=${3:-DetectionOnly}
  case "$engine" in DetectionOnly|On) ;; *) echo "engine must be DetectionOnly or On" >&2; exit 2 ;; esac
  mkdir -p "$dir/tmp" "$dir/www"
  dir=$(cd "$dir" && pwd)
  # Workers run as nobody when the master is root: they read www/ and write tmp/.
  chmod 755 "$dir" "$dir/www"
  chmod 777 "$dir/tmp"
  printf 'ok\n' > "$dir/www/index.html"
  printf 'User-agent: *\nDisallow:\n' > "$dir/www/robots.txt"
  port=$(free_port); backend=$(free_port)
  audit_engine=""; error_level=warn
  if [ "${WAF_LAB_ERROR_LOG:-}" = 1 ]; then audit_engine="SecAuditEngine Off"; error_level=info; fi
  cat > "$dir/modsec.conf" <<EOF
Include /etc/nginx/modsecurity.conf
SecRuleEngine $engine
SecStatusEngine Off
SecAuditLogFormat ${WAF_LAB_AUDIT_FORMAT:-JSON}
SecAuditLogParts ABCIJDEFHZ
SecAuditLog $dir/modsec_audit.log
$audit_engine
SecTmpDir $dir/tmp/
SecDataDir $dir/tmp/
Include /etc/modsecurity/crs/crs-setup.conf
Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf
${WAF_LAB_BEFORE_CRS:+Include $WAF_LAB_BEFORE_CRS}
Include /usr/share/modsecurity-crs/rules/*.conf
Include /etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf
${WAF_LAB_AFTER_CRS:+Include $WAF_LAB_AFTER_CRS}
EOF
  cat > "$dir/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log $error_level;
events { worker_connections 256; }
http {
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  uninitialized_variable_warn off;
  map \$http_x_request_id \$req_id { default \$http_x_request_id; "" \$request_id; }
  log_format upstreaminfo '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent "\$http_referer" "\$http_user_agent" \$request_length \$request_time [\$proxy_upstream_name] [\$proxy_alternative_upstream_name] \$upstream_addr \$upstream_response_length \$upstream_response_time \$upstream_status \$req_id';
  log_format main '\$remote_addr - \$remote_user [\$time_local] "\$request" \$status \$body_bytes_sent "\$http_referer" "\$http_user_agent" "\$http_x_forwarded_for"';
  access_log $dir/access.log upstreaminfo;
  set_real_ip_from 127.0.0.1;
  real_ip_header X-Forwarded-For;
  modsecurity on;
  modsecurity_rules_file $dir/modsec.conf;
  modsecurity_transaction_id "\$req_id";
  server {
    listen 127.0.0.1:$port default_server;
    server_name _;
    set \$proxy_upstream_name "upstream-default-backend";
    set \$proxy_alternative_upstream_name "";
    location / { proxy_pass http://127.0.0.1:$backend; }
  }
  server {
    listen 127.0.0.1:$port;
    server_name shop.example.com;
    access_log $dir/main-access-production.log main;
    access_log $dir/access.log upstreaminfo;
    set \$proxy_upstream_name "shop-production-web-80";
    set \$proxy_alternative_upstream_name "";
    location / { proxy_pass http://127.0.0.1:$backend; }
  }
  server {
    listen 127.0.0.1:$port;
    server_name staging.shop.example.com;
    access_log $dir/main-access-staging.log main;
    access_log $dir/access.log upstreaminfo;
    set \$proxy_upstream_name "shop-staging-web-80";
    set \$proxy_alternative_upstream_name "";
    location / { proxy_pass http://127.0.0.1:$backend; }
  }
  server {
    listen 127.0.0.1:$backend;
    modsecurity off;
    access_log off;
    root $dir/www;
    location / { try_files \$uri /index.html; }
    # Form and JSON endpoints that accept POST (a static location answers it with 405).
    location = /comments { return 200 "ok\\n"; }
    location /api/ { return 200 "{}\\n"; }
  }
}
EOF
  # The daemon must not keep any of the caller's descriptors open (a caller reading a pipe to
  # its end would wait for nginx to exit): it starts from a subshell that closed everything above
  # stderr, with stdio on /dev/null; its messages go to error.log.
  if ! (
    for fd in /proc/$BASHPID/fd/*; do
      n=${fd##*/}
      if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-" 2>/dev/null || true; fi
    done
    exec nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" </dev/null >/dev/null 2>&1
  ); then
    echo "nginx did not start:" >&2
    tail -n 5 "$dir/error.log" >&2
    exit 1
  fi
  for _ in $(seq 1 200); do
    [ -s "$dir/nginx.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$backend/" && break
    sleep 0.05
  done
  # The probe above went to the backend (no access log there), so the front logs stay empty.
  echo "$port $(cat "$dir/nginx.pid")"
  ;;
stop)
  if [ -s "$dir/nginx.pid" ]; then
    pid=$(cat "$dir/nginx.pid")
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  fi
  ;;
*) echo "usage: $0 start|stop DIR [DetectionOnly|On]" >&2; exit 2 ;;
esac
