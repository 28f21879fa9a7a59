#!/usr/bin/env bash
# A real HAProxy (httplog) in front of a real NGINX + ModSecurity v3 + OWASP CRS that writes its
# rule matches to NGINX's error log only (audit log off), on loopback. Used by
# Tests/EndToEndTests/WAFGatewayLabTests.swift (docs/lab.md).
#
#   scripts/lab/waf-gateway.sh start DIR    writes DIR/{haproxy.cfg,nginx.conf,modsec.conf}, starts both,
#                                           prints "PORT" (HAProxy's) on stdout
#   scripts/lab/waf-gateway.sh stop DIR     stops both by the PIDs in DIR/nginx.pid and DIR/haproxy.pid
#
# Two server names, one shared error log (DIR/error.log, level info: ModSecurity v3 writes its
# Warning lines at [info]):
#   detect.example.com  SecRuleEngine DetectionOnly
#   block.example.com   SecRuleEngine On
# HAProxy writes `option httplog` lines with the Host captured first to DIR/haproxy.log
# (`log stdout format raw`, HAProxy in the foreground with stdout on that file). Times are UTC.
# NGINX takes the client from X-Forwarded-For (real_ip_recursive), so a test can plant clients.
set -euo pipefail

cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

free_port() {
  python3 - <<'PY'
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

# Starts a daemon without any of the caller's descriptors above stderr (a caller reading a pipe
# to its end would otherwise wait for the daemon to exit).
# Call it in a subshell: it replaces that subshell with the daemon (so `$!` is the daemon's PID).
detached() {
  for fd in /proc/$BASHPID/fd/*; do
    n=${fd##*/}
    if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-" 2>/dev/null || true; fi
  done
  exec "$@"
}

case "$cmd" in
start)
  mkdir -p "$dir/tmp" "$dir/www"
  dir=$(cd "$dir" && pwd)
  chmod 755 "$dir" "$dir/www"
  chmod 777 "$dir/tmp"
  printf 'ok\n' > "$dir/www/index.html"
  front=$(free_port); nginx_port=$(free_port); backend=$(free_port)
  cat > "$dir/modsec.conf" <<EOF2
Include /etc/nginx/modsecurity.conf
SecRuleEngine DetectionOnly
SecStatusEngine Off
SecAuditEngine Off
SecTmpDir $dir/tmp/
SecDataDir $dir/tmp/
Include /etc/modsecurity/crs/crs-setup.conf
Include /etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf
Include /usr/share/modsecurity-crs/rules/*.conf
Include /etc/modsecurity/crs/RESPONSE-999-EXCLUSION-RULES-AFTER-CRS.conf
EOF2
  cat > "$dir/nginx.conf" <<EOF2
load_module /usr/lib/nginx/modules/ngx_http_modsecurity_module.so;
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log info;
events { worker_connections 256; }
http {
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  access_log off;
  set_real_ip_from 127.0.0.1;
  real_ip_header X-Forwarded-For;
  real_ip_recursive on;
  modsecurity on;
  modsecurity_rules_file $dir/modsec.conf;
  server {
    listen 127.0.0.1:$nginx_port;
    server_name detect.example.com;
    location / { proxy_pass http://127.0.0.1:$backend; }
  }
  server {
    listen 127.0.0.1:$nginx_port;
    server_name block.example.com;
    modsecurity_rules 'SecRuleEngine On';
    location / { proxy_pass http://127.0.0.1:$backend; }
  }
  server {
    listen 127.0.0.1:$backend;
    modsecurity off;
    root $dir/www;
    location / { try_files \$uri /index.html; }
  }
}
EOF2
  cat > "$dir/haproxy.cfg" <<EOF2
global
  log stdout format raw local0 info
defaults
  mode http
  log global
  option httplog
  option forwardfor
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend web
  bind 127.0.0.1:$front
  capture request header Host len 64
  capture request header User-Agent len 64
  default_backend nginx
backend nginx
  server n1 127.0.0.1:$nginx_port
EOF2
  if ! (detached nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" </dev/null >/dev/null 2>&1); then
    echo "nginx did not start:" >&2; tail -n 5 "$dir/error.log" >&2; exit 1
  fi
  (TZ=UTC detached haproxy -db -f "$dir/haproxy.cfg" </dev/null >"$dir/haproxy.log" 2>"$dir/haproxy.err") &
  echo $! > "$dir/haproxy.pid"
  for _ in $(seq 1 200); do
    [ -s "$dir/nginx.pid" ] && curl -s -o /dev/null "http://127.0.0.1:$backend/" \
      && grep -qi ":$(printf '%04X' "$front") 00000000:0000 0A" /proc/net/tcp && break
    sleep 0.05
  done
  echo "$front"
  ;;
stop)
  for f in haproxy.pid nginx.pid; do
    if [ -s "$dir/$f" ]; then
      pid=$(cat "$dir/$f")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    fi
  done
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
