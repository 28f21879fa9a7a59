#!/usr/bin/env python3
"""Independent recount of `hubble observe -o json` files for one namespace and window.

Usage: recount.py NAMESPACE FROM TO FILE...   (FROM/TO: RFC 3339, window [FROM, TO))
Prints JSON: per-verdict counts for all/inbound/outbound flows of the namespace, the denying
policies named by DROPPED flows, the DROPPED flows naming none, the AUDIT flow count, and the
lines that are not flow JSON. Written with the standard library only, apart from the Swift code.
"""
import datetime
import json
import sys


def when(text):
    # Hubble writes nanoseconds; Python keeps microseconds, enough to place a flow in a window.
    head, _, frac = text.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return t + datetime.timedelta(microseconds=int((frac + "000000")[:6]) if frac else 0)


def main():
    ns, start, end, files = sys.argv[1], when(sys.argv[2]), when(sys.argv[3]), sys.argv[4:]
    verdicts = ["FORWARDED", "DROPPED", "REDIRECTED", "AUDIT", "TRACED", "ERROR"]
    out = {side: {v: 0 for v in verdicts + ["OTHER"]} for side in ("all", "inbound", "outbound")}
    denying, unattributed, bad = {}, 0, 0
    for path in files:
        with open(path, "rb") as fh:
            for raw in fh:
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                    flow = obj.get("flow", obj)
                    verdict = flow["verdict"]
                    t = when(flow.get("time") or obj["time"])
                except (ValueError, KeyError, TypeError, AttributeError):
                    bad += 1
                    continue
                if not start <= t < end:
                    continue
                src = (flow.get("source") or {}).get("namespace") or None
                dst = (flow.get("destination") or {}).get("namespace") or None
                if ns not in (src, dst):
                    continue
                key = verdict if verdict in verdicts else "OTHER"
                out["all"][key] += 1
                if dst == ns:
                    out["inbound"][key] += 1
                if src == ns:
                    out["outbound"][key] += 1
                if verdict == "DROPPED":
                    names = set()
                    for field in ("ingress_denied_by", "egress_denied_by"):
                        for p in flow.get(field) or []:
                            if p.get("name"):
                                names.add(p["name"] if not p.get("namespace") else p["namespace"] + "/" + p["name"])
                    if not names:
                        unattributed += 1
                    for n in names:
                        denying[n] = denying.get(n, 0) + 1
    out["denying"] = denying
    out["unattributed"] = unattributed
    out["bad_lines"] = bad
    print(json.dumps(out, sort_keys=True))


main()
