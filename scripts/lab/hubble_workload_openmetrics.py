#!/usr/bin/env python3
"""Generate deterministic Hubble flow counters with a workload context, as OpenMetrics text.

For `promtool tsdb create-blocks-from openmetrics`; feeds the tests of policy suggestions from
Prometheus (Tests/EndToEndTests/PrometheusSuggestTests.swift). Standard library only; the output is
byte-for-byte the same on every run.

One metric, hubble_flows_processed_total, one sample a minute from 2026-11-19T00:00:00Z to
2026-11-20T00:00:00Z, each series growing by a fixed step per minute. --context says how Hubble
was configured:

  labels    labelsContext=source_namespace,source_workload,destination_namespace,destination_workload
            (with sourceContext=namespace / destinationContext=namespace as well)
  workload  sourceContext=workload|reserved-identity, destinationContext=workload|reserved-identity
            (source/destination hold namespace/workload, or reserved:world)
  none      sourceContext=namespace, destinationContext=namespace only (no workload context)

--table writes the connections as JSON lines (the generator's ground truth).
"""

import argparse
import json
import sys

START = 1795046400  # 2026-11-19T00:00:00Z
END = 1795132800  # 2026-11-20T00:00:00Z
STEP = 60

HOSTILE = 'evil"name\n../x'

# (source (ns, workload) or entity, destination, protocol, type, verdict, per-minute step)
# An entity is ("", "world"): no namespace, and reserved:world in the workload context.
CONNECTIONS = [
    (("shop", "frontend"), ("shop", "cart"), "TCP", "PolicyVerdict", "FORWARDED", 5),
    (("shop", "cart"), ("shop", "redis"), "TCP", "PolicyVerdict", "FORWARDED", 7),
    (("shop", "cart"), ("kube-system", "coredns"), "UDP", "PolicyVerdict", "FORWARDED", 3),
    (("monitoring", "prometheus"), ("shop", "cart"), "TCP", "PolicyVerdict", "AUDIT", 1),
    (("ingress-nginx", "ingress-nginx-controller"), ("shop", "frontend"), "TCP", "PolicyVerdict", "REDIRECTED", 9),
    (("", "world"), ("shop", "frontend"), "TCP", "PolicyVerdict", "FORWARDED", 4),
    (("shop", "Web_API.v2"), ("shop", "cart"), "TCP", "PolicyVerdict", "FORWARDED", 2),
    # Not rules: a drop, an error verdict, replies and packets (Trace), ICMP, a hostile name.
    (("shop", "frontend"), ("shop", "payments"), "TCP", "PolicyVerdict", "DROPPED", 6),
    (("shop", "frontend"), ("shop", "payments"), "TCP", "PolicyVerdict", "ERROR", 1),
    (("shop", "cart"), ("shop", "frontend"), "TCP", "Trace", "FORWARDED", 40),
    (("shop", "redis"), ("shop", "cart"), "TCP", "Trace", "FORWARDED", 50),
    (("shop", "frontend"), ("shop", "cart"), "ICMPv4", "PolicyVerdict", "FORWARDED", 1),
    (("shop", HOSTILE), ("shop", "cart"), "TCP", "PolicyVerdict", "FORWARDED", 2),
    (("shop", "frontend"), ("shop", "../../etc/passwd"), "TCP", "PolicyVerdict", "FORWARDED", 2),
    # Idle in the window: the counter stands still after 06:00.
    (("shop", "batch"), ("shop", "redis"), "TCP", "PolicyVerdict", "FORWARDED", 0),
    # Another namespace entirely.
    (("other", "a"), ("other", "b"), "TCP", "PolicyVerdict", "FORWARDED", 5),
]
IDLE_UNTIL = 1795068000  # 2026-11-19T06:00:00Z: the batch series only grows before


def escape(v):
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def end_labels(end, side, context):
    ns, name = end
    if context == "labels":
        if ns == "":
            return {side + "_namespace": "", side + "_workload": "", side: ""}
        return {side + "_namespace": ns, side + "_workload": name, side: ns}
    if context == "workload":
        return {side: "reserved:" + name if ns == "" else ns + "/" + name}
    return {side: ns}


def series_labels(c, context):
    src, dst, proto, typ, verdict, _ = c
    labels = {"protocol": proto, "type": typ, "verdict": verdict,
              "subtype": "to-endpoint" if typ == "Trace" else ""}
    labels.update(end_labels(src, "source", context))
    labels.update(end_labels(dst, "destination", context))
    # Prometheus drops empty labels: leave them out, as a scrape would.
    return {k: v for k, v in labels.items() if v != ""}


def render(out, context):
    out.write("# HELP hubble_flows_processed Total number of flows processed\n")
    out.write("# TYPE hubble_flows_processed counter\n")
    merged = {}
    for c in CONNECTIONS:
        key = tuple(sorted(series_labels(c, context).items()))
        # In the namespace-only context several connections share a series: their steps add up.
        merged.setdefault(key, []).append(c)
    for key in sorted(merged):
        text = "{" + ",".join('%s="%s"' % (k, escape(v)) for k, v in key) + "}"
        value = 0
        for t in range(START, END + 1, STEP):
            for c in merged[key]:
                step = c[5]
                if c[0] == ("shop", "batch"):
                    step = 3 if t <= IDLE_UNTIL else 0
                value += step
            out.write("hubble_flows_processed_total%s %d %d\n" % (text, value, t))
    out.write("# EOF\n")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--context", choices=["labels", "workload", "none"], required=True)
    p.add_argument("--output", required=True)
    p.add_argument("--table")
    a = p.parse_args()
    with open(a.output, "w", encoding="utf-8") as out:
        render(out, a.context)
    if a.table:
        with open(a.table, "w", encoding="utf-8") as t:
            for src, dst, proto, typ, verdict, step in CONNECTIONS:
                t.write(json.dumps({"source": list(src), "destination": list(dst), "protocol": proto,
                                    "type": typ, "verdict": verdict, "per_minute": step}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
