#!/usr/bin/env python3
r"""Loopback HTTP(S) server that replays recorded engine answers and logs the exact requests.

Stands in for Elasticsearch, Prometheus and the Kubernetes API in tests (none of them can run
here, or a fault must be injected). Standard library only.

  replay_server.py --routes ROUTES.json --log REQUESTS.jsonl [--cert C --key K [--client-ca CA]]

Prints the bound port on the first line of stdout once it listens on 127.0.0.1.

ROUTES.json: a list of routes, matched in order on method and path (and on the query string
when "query" is given). Each route has "responses": the n-th matching request gets the n-th
response, the last one repeats. A response is
  {"status": 200, "body": "...", "body_file": "path", "headers": {...},
   "delay": seconds, "mode": "normal|hang|truncate|huge|close"}
"hang" accepts and never answers; "truncate" sends half the body with a full Content-Length;
"huge" streams `huge_bytes` (default 2 GB) of JSON-looking bytes with that Content-Length,
"endless" the same without a length (until the connection closes); "close" drops the connection.
"echo": true makes it a server that echoes the request's credentials, as proxies, API gateways and
Elasticsearch's security_exception reasons do: in the body and in every header value, {auth} is
the Authorization header, {cred} its credential (after the scheme), {decoded} the credential
base64-decoded (user:password for Basic), and {X_json} / {X_url} / {X_b64} / {X_b64url} their
JSON-escaped (every non-alphanumeric as \u00XX, "/" as "\/"), percent-encoded, base64 and
URL-safe unpadded base64 forms.
Every request is appended to the log as one JSON line: method, path, query, headers, body,
"t" (arrival, Unix seconds), "in_flight" (requests received and not yet answered at that
moment, this one included) and "n" (arrival order). "--fault FAULT.json" makes it a fault server:
  {"response": {...}, "count": N}
answers the first N requests (any method and path; all of them without "count") with that
response, then falls through to the routes: "503 twice, then the recorded answer".
"""
import argparse
import base64
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--routes", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--client-ca")
    ap.add_argument("--fault")
    args = ap.parse_args()
    routes = json.load(open(args.routes))
    fault = json.load(open(args.fault)) if args.fault else None
    state = {"in_flight": 0, "n": 0}
    base = os.path.dirname(os.path.abspath(args.routes))
    counters = {}
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def handle_any(self):
            with lock:
                state["in_flight"] += 1
                state["n"] += 1
                n, in_flight = state["n"], state["in_flight"]
            # A request stops counting when its answer starts: the client cannot send its next
            # request before that, so the count never includes a request already answered.
            answered = [False]

            def done():
                with lock:
                    if not answered[0]:
                        answered[0] = True
                        state["in_flight"] -= 1
            self.done = done
            try:
                self.handle_counted(n, in_flight)
            finally:
                done()

        def handle_counted(self, n, in_flight):
            parsed = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            entry = {"method": self.command, "path": parsed.path, "query": parsed.query,
                     "headers": {k: v for k, v in self.headers.items()}, "body": body,
                     "t": time.time(), "in_flight": in_flight, "n": n}
            peer = getattr(self.connection, "getpeercert", None)
            if peer:
                cert = self.connection.getpeercert()
                if cert:
                    entry["client_cert_subject"] = dict(x[0] for x in cert.get("subject", ()))
            with lock:
                with open(args.log, "a") as f:
                    f.write(json.dumps(entry) + "\n")
            if fault is not None and ("count" not in fault or n <= fault["count"]):
                return self.answer(fault["response"])
            for i, r in enumerate(routes):
                if r.get("method", "GET") != self.command or r["path"] != parsed.path:
                    continue
                if "query" in r and r["query"] != parsed.query:
                    continue
                with lock:
                    n = counters.get(i, 0)
                    counters[i] = n + 1
                resp = r["responses"][min(n, len(r["responses"]) - 1)]
                return self.answer(resp)
            self.answer({"status": 404, "body": json.dumps({"error": "no route for " + parsed.path})})

        def echo(self, text):
            auth = self.headers.get("Authorization") or ""
            cred = auth.split(" ", 1)[1] if " " in auth else auth
            try:
                decoded = base64.b64decode(cred, validate=True).decode("utf-8") if auth.startswith("Basic ") else cred
            except Exception:
                decoded = cred
            def json_escaped(v):
                return "".join(c if c.isalnum() else "\\/" if c == "/" else "\\u%04x" % ord(c) for c in v)
            for name, v in (("auth", auth), ("cred", cred), ("decoded", decoded)):
                text = text.replace("{%s_json}" % name, json_escaped(v))
                text = text.replace("{%s_url}" % name, urllib.parse.quote(v, safe=""))
                text = text.replace("{%s_b64}" % name, base64.b64encode(v.encode()).decode())
                text = text.replace("{%s_b64url}" % name, base64.urlsafe_b64encode(v.encode()).decode().rstrip("="))
                text = text.replace("{%s}" % name, v)
            return text

        def answer(self, resp):
            if resp.get("echo"):
                resp = dict(resp)
                resp["body"] = self.echo(resp.get("body", ""))
                resp["headers"] = {k: self.echo(v) for k, v in resp.get("headers", {"Content-Type": "application/json"}).items()}
            time.sleep(resp.get("delay", 0))
            mode = resp.get("mode", "normal")
            if mode != "hang":
                self.done()
            if mode == "hang":
                time.sleep(3600)
                return
            if mode == "close":
                self.close_connection = True
                self.connection.shutdown(2)
                return
            if "body_file" in resp:
                data = open(os.path.join(base, resp["body_file"]), "rb").read()
            else:
                data = resp.get("body", "").encode()
            self.send_response(resp.get("status", 200))
            for k, v in resp.get("headers", {"Content-Type": "application/json"}).items():
                self.send_header(k, v)
            if mode in ("huge", "endless"):
                total = int(resp.get("huge_bytes", 2 << 30))
                if mode == "huge":
                    self.send_header("Content-Length", str(total))
                else:  # no length: the body ends when the connection closes
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                chunk = b'{"pad":"' + b"x" * 65500 + b'"}\n'
                sent = 0
                try:
                    while sent < total:
                        self.wfile.write(chunk)
                        sent += len(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if mode == "truncate":
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

    server = Server(("127.0.0.1", 0), Handler)
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        if args.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(args.client_ca)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
