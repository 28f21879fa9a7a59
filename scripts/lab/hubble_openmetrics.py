#!/usr/bin/env python3
"""Generate deterministic Hubble-like counters as OpenMetrics text.

The output is meant for `promtool tsdb create-blocks-from openmetrics` and
feeds the Prometheus lab recorder (record-prometheus-samples.sh).  It uses the
Python standard library only; every random draw comes from a
`random.Random` seeded with a fixed string per series, so the output is
byte-for-byte identical on every run.

Metrics (one sample per series every STEP seconds, timestamps in SECONDS):

  hubble_flows_processed_total{source, destination, verdict, type, subtype, protocol}
  hubble_drop_total{reason, protocol, source, destination}

Traffic to or from outside the cluster ("world") carries no `source`
(inbound from world) or no `destination` (outbound to world) label, exactly
as Prometheus stores a Hubble series whose label value is empty.

Every DROPPED flows series is the exact sum of the hubble_drop_total series
with the same (source, destination, protocol), so both metrics agree.

See scripts/lab/README.md ("Prometheus samples") for the shape of the data.
"""

import argparse
import math
import random
import sys

# 2026-11-17T22:00:00Z .. 2026-11-20T00:00:00Z inclusive, one sample a minute.
DEFAULT_START = 1794952800
DEFAULT_END = 1795132800
DEFAULT_STEP = 60

PROD = "shop-production"
STAGING = "shop-staging"
KUBE_SYSTEM = "kube-system"
MONITORING = "monitoring"
PAYMENTS = "payments-production"
WORLD = None  # label absent

# Port scan against the production default-deny policy: 2026-11-19 14:00-15:30 UTC.
SPIKE_START = 1795096800  # 2026-11-19T14:00:00Z
SPIKE_END = 1795102200  # 2026-11-19T15:30:00Z
SPIKE_RATE = 250.0  # dropped flows/s

# Cilium agent restart: one FORWARDED series restarts from zero at 09:16:35
# and is first scraped again at 2026-11-19T09:17:00Z.
RESET_AT = 1795079820  # 2026-11-19T09:17:00Z
RESET_UPTIME = 25  # seconds the new counter has been counting at RESET_AT

PEAK_HOUR_UTC = 15.0  # diurnal peak, mid-afternoon UTC


def diurnal(ts, amplitude):
    """Multiplier with mean 1 over a day, peaking at PEAK_HOUR_UTC."""
    hour = (ts % 86400) / 3600.0
    return 1.0 + amplitude * math.cos(2.0 * math.pi * (hour - PEAK_HOUR_UTC) / 24.0)


def poisson(rng, lam):
    """Deterministic Poisson draw (Knuth for small means, normal otherwise)."""
    if lam <= 0:
        return 0
    if lam < 30:
        limit = math.exp(-lam)
        k, p = 0, 1.0
        while True:
            p *= rng.random()
            if p <= limit:
                return k
            k += 1
    return max(0, int(round(rng.normalvariate(lam, math.sqrt(lam)))))


class Series:
    """One counter series: per-interval increments plus a starting value."""

    def __init__(self, family, labels, rate, amplitude=0.6, jitter=0.05,
                 spike=None, reset=False, increments=None, start_value=None):
        self.family = family
        # Drop absent/empty labels, as Prometheus does.
        self.labels = {k: v for k, v in labels.items() if v}
        self.rate = rate
        self.amplitude = amplitude
        self.jitter = jitter
        self.spike = spike
        self.reset = reset
        self.increments = increments
        self.start_value = start_value

    def key(self):
        return self.family + "{" + ",".join(
            "%s=%s" % kv for kv in sorted(self.labels.items())) + "}"

    def generate(self, timestamps):
        """Fill per-interval increments (index 0 is the first sample: no increment)."""
        rng = random.Random("hubble-lab/v1/" + self.key())
        if self.start_value is None:
            # Counters have been running for a few days before the first sample.
            self.start_value = int(self.rate * 86400 * rng.uniform(1.0, 5.0))
        if self.increments is not None:
            return
        incs = [0]
        walk = 0.0  # slow AR(1) wander so the curve is not a perfect cosine
        for i in range(1, len(timestamps)):
            t0, t1 = timestamps[i - 1], timestamps[i]
            walk = 0.97 * walk + rng.normalvariate(0.0, self.jitter * 0.25)
            mean_rate = self.rate * diurnal((t0 + t1) / 2.0, self.amplitude) * max(0.0, 1.0 + walk)
            if self.spike and self.spike[0] < t1 <= self.spike[1]:
                mean_rate += self.spike[2] * max(0.0, rng.normalvariate(1.0, 0.08))
            incs.append(poisson(rng, mean_rate * (t1 - t0)))
        self.increments = incs

    def values(self, timestamps):
        """Cumulative counter values, honouring an intended reset."""
        out = []
        value = self.start_value
        for i, t in enumerate(timestamps):
            inc = self.increments[i]
            if self.reset and t == RESET_AT:
                # Agent restarted RESET_UPTIME s before this scrape: the new
                # counter only holds what it saw since the restart.
                dt = timestamps[i] - timestamps[i - 1]
                value = int(round(inc * RESET_UPTIME / dt))
            else:
                value += inc
            out.append(value)
        return out


def flows(src, dst, verdict, proto, rate, **kw):
    subtype = "to-stack" if dst is WORLD else "to-endpoint"
    return Series("hubble_flows_processed_total", {
        "source": src, "destination": dst, "verdict": verdict,
        "type": "L3_L4", "subtype": subtype, "protocol": proto,
    }, rate, **kw)


def drop(src, dst, reason, proto, rate, **kw):
    return Series("hubble_drop_total", {
        "source": src, "destination": dst, "reason": reason, "protocol": proto,
    }, rate, **kw)


def build_series(timestamps):
    fwd = [
        # shop-production (rates are daily averages in flows/s)
        flows(WORLD, PROD, "FORWARDED", "TCP", 40.0),
        flows(MONITORING, PROD, "FORWARDED", "TCP", 3.0, amplitude=0.05),
        flows(PROD, PROD, "FORWARDED", "TCP", 15.0),
        flows(PROD, PAYMENTS, "FORWARDED", "TCP", 8.0, reset=True),
        flows(PROD, KUBE_SYSTEM, "FORWARDED", "UDP", 6.0),
        flows(PROD, WORLD, "FORWARDED", "TCP", 2.0),
        # shop-staging: low, clean traffic
        flows(WORLD, STAGING, "FORWARDED", "TCP", 4.0, amplitude=0.4),
        flows(STAGING, STAGING, "FORWARDED", "TCP", 2.0, amplitude=0.4),
        flows(STAGING, KUBE_SYSTEM, "FORWARDED", "UDP", 1.0, amplitude=0.4),
        # peers only: must be filtered out by the queries
        flows(MONITORING, KUBE_SYSTEM, "FORWARDED", "TCP", 5.0, amplitude=0.05),
        flows(PAYMENTS, KUBE_SYSTEM, "FORWARDED", "UDP", 3.0),
        flows(MONITORING, PAYMENTS, "FORWARDED", "TCP", 2.0, amplitude=0.05),
        flows(PAYMENTS, WORLD, "FORWARDED", "TCP", 1.0),
        flows(WORLD, PAYMENTS, "FORWARDED", "TCP", 6.0),
    ]
    drops = [
        # shop-production: ~0.3/s baseline, POLICY_DENIED dominant, plus the scan
        drop(WORLD, PROD, "POLICY_DENIED", "TCP", 0.2, amplitude=0.3,
             spike=(SPIKE_START, SPIKE_END, SPIKE_RATE)),
        drop(PROD, PAYMENTS, "POLICY_DENIED", "TCP", 0.04, amplitude=0.3),
        drop(PROD, PAYMENTS, "CT_MAP_INSERTION_FAILED", "TCP", 0.03, amplitude=0.3),
        drop(PROD, WORLD, "UNSUPPORTED_L3_PROTOCOL", "UDP", 0.03, amplitude=0.3),
        # shop-staging: a handful per hour
        drop(WORLD, STAGING, "POLICY_DENIED", "TCP", 0.003, amplitude=0.3),
        drop(STAGING, KUBE_SYSTEM, "POLICY_DENIED", "UDP", 0.001, amplitude=0.3),
        # peers only
        drop(WORLD, KUBE_SYSTEM, "POLICY_DENIED", "TCP", 0.05, amplitude=0.3),
        drop(MONITORING, PAYMENTS, "POLICY_DENIED", "TCP", 0.02, amplitude=0.3),
    ]
    for s in fwd + drops:
        s.generate(timestamps)

    # DROPPED flows series = sum of the drop-reason series of the same
    # (source, destination, protocol); keeps both metrics consistent.
    groups = {}
    for d in drops:
        k = (d.labels.get("source"), d.labels.get("destination"), d.labels["protocol"])
        groups.setdefault(k, []).append(d)
    dropped = []
    for (src, dst, proto), members in groups.items():
        incs = [sum(m.increments[i] for m in members) for i in range(len(timestamps))]
        start = sum(m.start_value for m in members)
        dropped.append(flows(src, dst, "DROPPED", proto, 0.0,
                             increments=incs, start_value=start))
    return fwd + dropped, drops


def format_labels(labels):
    return "{" + ",".join('%s="%s"' % (k, labels[k]) for k in sorted(labels)) + "}"


def render(out, start, end, step):
    timestamps = list(range(start, end + 1, step))
    flow_series, drop_series = build_series(timestamps)
    families = [
        ("hubble_flows_processed", "Total number of flows processed", flow_series),
        ("hubble_drop", "Number of drops", drop_series),
    ]
    for name, help_text, series in families:
        out.write("# HELP %s %s\n" % (name, help_text))
        out.write("# TYPE %s counter\n" % name)
        for s in sorted(series, key=Series.key):
            prefix = s.family + format_labels(s.labels)
            for t, v in zip(timestamps, s.values(timestamps)):
                out.write("%s %d %d\n" % (prefix, v, t))
    out.write("# EOF\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--output", help="write here instead of stdout")
    ap.add_argument("--start", type=int, default=DEFAULT_START, help="first timestamp (unix seconds)")
    ap.add_argument("--end", type=int, default=DEFAULT_END, help="last timestamp (unix seconds, inclusive)")
    ap.add_argument("--step", type=int, default=DEFAULT_STEP, help="seconds between samples")
    args = ap.parse_args(argv)
    if args.output:
        with open(args.output, "w", encoding="ascii", newline="\n") as f:
            render(f, args.start, args.end, args.step)
    else:
        render(sys.stdout, args.start, args.end, args.step)


if __name__ == "__main__":
    main()
