#!/usr/bin/env python3
"""Independent recount of Coraza JSON audit logs, written apart from the Swift readers (json and
the standard library only).

usage: recount_coraza_audit.py --from ISO --to ISO --audit FILE [--audit FILE]...

Each non-blank line is one entry (Coraza's JSON formatter writes one line per transaction). A line
that does not start with `{` may carry a proxy's log prefix: the entry is read from its first
`{"transaction":`; a line with an Envoy/Istio time prefix and no entry is counted as passed over;
anything else is skipped. Prints one JSON object:

  entries, in_window, prefixed, passed_over, skipped, blocked, engine_modes {mode: n},
  crs_versions {version: n}, connectors {name: n}, top_rules [[id, n]], top_clients [[ip, n]],
  top_uris [[uri, n]], no_rules, no_status, no_uri, per_entry [{id, rules, client, uri, status,
  blocked, engine}]
"""
import argparse, collections, datetime, json, re

ENVOY_PREFIX = re.compile(r"^\s*(?:\S+\s+\|\s+)?(?:\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")
MODES = {"on": "Enabled", "detectiononly": "DetectionOnly", "off": "Disabled"}


def iso(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def top(counter):
    return [[k, n] for k, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="start", required=True)
    ap.add_argument("--to", dest="end", required=True)
    ap.add_argument("--audit", action="append", default=[])
    a = ap.parse_args()
    start, end = iso(a.start), iso(a.end)
    out = collections.Counter()
    modes, crs, connectors = collections.Counter(), collections.Counter(), collections.Counter()
    rules, clients, uris = collections.Counter(), collections.Counter(), collections.Counter()
    per_entry = []
    for path in a.audit:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                text = line.strip()
                if not text.startswith("{"):
                    at = text.find('{"transaction":')
                    if at < 0:
                        out["passed_over" if ENVOY_PREFIX.match(text) else "skipped"] += 1
                        continue
                    text = text[at:]
                    out["prefixed"] += 1
                try:
                    d = json.loads(text)
                except ValueError:
                    out["skipped"] += 1
                    continue
                tx = d["transaction"]
                out["entries"] += 1
                seconds = int(tx["unix_timestamp"]) / 1e9 if int(tx["unix_timestamp"]) > 10**11 else int(tx["unix_timestamp"])
                if not (start <= seconds < end):
                    continue
                out["in_window"] += 1
                ids = []
                for m in d.get("messages") or []:
                    rid = str(m["data"]["id"])
                    if rid not in ids:
                        ids.append(rid)
                for rid in ids:
                    rules[rid] += 1
                status = (tx.get("response") or {}).get("status") or None
                uri = (tx.get("request") or {}).get("uri") or None
                client = tx.get("client_ip") or None
                producer = tx.get("producer") or {}
                engine = MODES.get((producer.get("rule_engine") or "").lower(), "unknown")
                blocked = tx.get("is_interrupted") is True
                modes[engine] += 1
                connectors[producer.get("connector", "")] += 1
                for r in producer.get("rulesets") or []:
                    if r.startswith("OWASP_CRS/"):
                        crs[r[len("OWASP_CRS/"):]] += 1
                if client:
                    clients[client] += 1
                if uri:
                    uris[uri] += 1
                out["blocked"] += blocked
                out["no_rules"] += not ids
                out["no_status"] += status is None
                out["no_uri"] += uri is None
                per_entry.append({"id": tx["id"], "rules": ids, "client": client, "uri": uri, "status": status,
                                  "blocked": blocked, "engine": engine})
    result = {k: out[k] for k in ("entries", "in_window", "prefixed", "passed_over", "skipped", "blocked", "no_rules", "no_status", "no_uri")}
    result.update(engine_modes=dict(modes), crs_versions=dict(crs), connectors=dict(connectors), top_rules=top(rules),
                  top_clients=top(clients), top_uris=top(uris), per_entry=per_entry)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
