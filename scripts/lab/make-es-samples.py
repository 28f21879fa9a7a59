#!/usr/bin/env python3
"""Generate deterministic Elasticsearch `_msearch` answers for the WAF samples.

threat-report sends ONE `_msearch` per environment holding two searches:

  1. access-log search (ingress-nginx access lines of the environment):
     size 0, track_total_hits, aggregation `history` (hourly date_histogram,
     min_doc_count 0, extended_bounds = window);
  2. audit search (ModSecurity audit documents of the environment):
     size 0, track_total_hits, aggregations `history`, `top_rules` (with a
     `message` top_hits sub-aggregation: one document's `transaction.messages`),
     `top_clients`, `top_uris`, `engine_mode`, `blocked` (filter: engine
     Enabled, 403, an anomaly-evaluation rule) and `anomaly_scores` (filter on
     949110 with a `scores` terms on the messages matching "Total Score").

Every audit document keeps its `transaction.messages` array, and the answers
are computed as Elasticsearch computes them when that array is mapped as
`object` (dynamic mapping), i.e. FLATTENED: a query or aggregation on
`transaction.messages.message` sees every message of the document, with no tie
to the rule id beside it (Elasticsearch reference, "Nested field type",
"How arrays of objects are flattened").  `--flattening-report` prints, for each
top rule, its true CRS message, the label the tool pairs from the top_hits
document, and the label the earlier request (a `terms` on the message under
the rule) got from a real cluster.

This script writes the ANSWERS to those requests, in Elasticsearch 7 shape, to

  samples/{production,staging}/waf/msearch.json           2026-11-19 (UTC day)
  samples/{production,staging}/waf/previous/msearch.json  2026-11-18 (UTC day)

Every audit document is drawn one by one from a fixed-seed random.Random and
then aggregated exactly as Elasticsearch would, so all numbers agree with each
other (history sums == hits.total, rule / score / client / URI counts,
sum_other_doc_count, blocked).  Python standard library only; paths are
relative to this file; running it twice gives byte-identical files.

Also writes `field_caps.json` beside each `msearch.json`: the `_field_caps`
answer of a Filebeat 7.17 index (strings as keyword; the access lines parsed
by the nginx `ingress_controller` module, `message` kept as text), and
`uri_mapping.json`, the URI field's mapping (keyword, ignore_above 1024).

See scripts/lab/README.md ("Elasticsearch samples") for the shape and numbers.
"""

import datetime
import hashlib
import ipaddress
import json
import math
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))

SEED = "threat-report/es-lab/v1"

HOUR = 3600
CURRENT_FROM = 1795046400  # 2026-11-19T00:00:00Z
CURRENT_TO = 1795132800  # 2026-11-20T00:00:00Z
PREVIOUS_FROM = CURRENT_FROM - 86400  # 2026-11-18T00:00:00Z

PEAK_HOUR_UTC = 15.0  # diurnal peak, mid-afternoon UTC (same as the Prometheus lab)
ANOMALY_THRESHOLD = 5  # CRS 3.3 default inbound_anomaly_score_threshold

# Attack on production, 2026-11-19 03:00-05:00 UTC (hour buckets 03 and 04).
SPIKE_HOURS = {3: 47000, 4: 43000}  # scanner requests per hour bucket (mean)
SPIKE_AUDITED = 0.85  # share of scanner requests that matched CRS rules

# --------------------------------------------------------------------------
# OWASP CRS 3.3 rules: id -> (message as ModSecurity logs it, anomaly points)
# critical = 5, warning = 3, notice = 2 (paranoia level 1 rules only).
# --------------------------------------------------------------------------
RULES = {
    "913100": ("Found User-Agent associated with security scanner", 5),
    "920170": ("GET or HEAD Request with Body Content.", 5),
    "920310": ("Request Has an Empty Accept Header", 2),
    "920330": ("Empty User Agent Header", 2),
    "920350": ("Host header is a numeric IP address", 3),
    "920420": ("Request content type is not allowed by policy", 5),
    "920440": ("URL file extension is restricted by policy", 5),
    "921110": ("HTTP Request Smuggling Attack", 5),
    "930100": ("Path Traversal Attack (/../)", 5),
    "930120": ("OS File Access Attempt", 5),
    "930130": ("Restricted File Access Attempt", 5),
    "932100": ("Remote Command Execution: Unix Command Injection", 5),
    "932160": ("Remote Command Execution: Unix Shell Code Found", 5),
    "941100": ("XSS Attack Detected via libinjection", 5),
    "941110": ("XSS Filter - Category 1: Script Tag Vector", 5),
    "941120": ("XSS Filter - Category 2: Event Handler Vector", 5),
    "941160": ("NoScript XSS InjectionChecker: HTML Injection", 5),
    "942100": ("SQL Injection Attack Detected via libinjection", 5),
    "942130": ("SQL Injection Attack: SQL Tautology Detected", 5),
    "942190": ("Detects MSSQL code execution and information gathering attempts", 5),
}
BLOCKING_RULE = "949110"
BLOCKING_MESSAGE = "Inbound Anomaly Score Exceeded (Total Score: %d)"
# ModSecurity logs a rule's severity as a number: 2 critical (5 points), 4 warning (3), 5 notice (2).
SEVERITY = {5: "2", 3: "4", 2: "5"}
INDEX = "filebeat-7.17.0-%s"


# --------------------------------------------------------------------------
# Request profiles.  A profile is one kind of audited request: the CRS rules
# it matches, the URIs it is sent to, and where it comes from.  A URI entry is
# (weight, uri) where uri may contain "{n}" (filled with a number) or "{sku}".
# --------------------------------------------------------------------------
def profile(name, weight, rules, uris, clients):
    return {"name": name, "weight": weight, "rules": rules, "uris": uris, "clients": clients}


# Background noise seen every day on the public shop (~0.8 % of requests).
PROD_BASELINE = [
    profile("host-is-ip", 22, ["920350"],
            [(70, "/"), (12, "/robots.txt"), (10, "/favicon.ico"), (8, "/sitemap.xml")], "bots"),
    profile("empty-accept", 18, ["920310"],
            [(40, "/api/v1/products?page={n}"), (25, "/api/v1/cart"), (20, "/api/v1/session"),
             (15, "/api/v1/stock?sku={sku}")], "users"),
    profile("empty-ua", 8, ["920330"],
            [(45, "/feeds/google-shopping.xml"), (30, "/api/v1/stock?sku={sku}"), (25, "/")], "bots"),
    profile("empty-accept-and-ua", 5, ["920310", "920330"],
            [(60, "/api/v1/stock?sku={sku}"), (40, "/feeds/google-shopping.xml")], "bots"),
    profile("content-type", 14, ["920420"],
            [(65, "/api/v1/cart/items"), (35, "/api/v1/checkout/payment-intent")], "partner"),
    profile("get-with-body", 4, ["920170"],
            [(100, "/api/v1/products?category={cat}")], "users"),
    profile("restricted-ext", 4, ["920440"],
            [(40, "/backup.sql"), (35, "/dump.sql"), (25, "/shop.sql")], "bots"),
    profile("smuggling-fp", 4, ["921110"],
            [(100, "/api/v1/reviews")], "users"),
    profile("host-is-ip-scanner", 4, ["920350", "913100"],
            [(50, "/"), (30, "/admin"), (20, "/phpmyadmin/")], "bots"),
    profile("sqli-fp", 6, ["942100"],
            [(35, "/search?q=men%27s%20shoes%20--%20sale"), (35, "/search?q=rock%20%27n%27%20roll%20or%20blues"),
             (30, "/search?q={n}%27%20or%20{n}")], "users"),
    profile("sqli-probe", 3, ["942100", "942130"],
            [(60, "/product?id={n}%27%20OR%20%271%27=%271"), (40, "/search?q=1%27%20OR%20%271%27=%271")], "bots"),
    profile("xss-probe", 3, ["941100", "941110", "941160"],
            [(100, "/search?q=%22%3E%3Cscript%3Ealert(document.domain)%3C/script%3E")], "bots"),
    profile("env-probe", 3, ["930130"],
            [(70, "/.env"), (30, "/.git/config")], "bots"),
    profile("wp-probe", 2, ["913100"],
            [(100, "/wp-login.php")], "bots"),
]

# Staging sees QA, CI and the occasional bot (~0.3 % of requests).
STAGING_BASELINE = [
    profile("host-is-ip", 34, ["920350"],
            [(80, "/"), (20, "/robots.txt")], "bots"),
    profile("empty-accept", 22, ["920310"],
            [(50, "/api/v1/products?page={n}"), (50, "/api/v1/cart")], "users"),
    profile("empty-ua", 12, ["920330"],
            [(100, "/api/v1/stock?sku={sku}")], "users"),
    profile("content-type", 10, ["920420"],
            [(100, "/api/v1/cart/items")], "partner"),
    profile("smuggling-fp", 4, ["921110"],
            [(100, "/api/v1/reviews")], "users"),
    profile("sqli-fp", 8, ["942100"],
            [(100, "/search?q=men%27s%20shoes%20--%20sale")], "users"),
    profile("xss-qa", 4, ["941100", "941110", "941160"],
            [(100, "/product?id=<script>alert(1)</script>")], "users"),
    profile("env-probe", 4, ["930130"],
            [(100, "/.env")], "bots"),
    profile("wp-probe", 2, ["913100"],
            [(100, "/wp-login.php")], "bots"),
]

# The 2026-11-19 03:00-05:00 scanner against production.
SPIKE_PROFILES = [
    profile("sqli-tautology", 23, ["913100", "942100", "942130"],
            [(100, "/search?q=1%27%20OR%20%271%27=%271")], "scanner"),
    profile("sqli-union", 10, ["913100", "942100", "942190"],
            [(100, "/search?q=1%27%20UNION%20SELECT%20NULL,NULL,NULL--%20-")], "scanner"),
    profile("sqli-boolean", 8, ["913100", "942100"],
            [(100, "/product?id=1%20AND%201=1")], "scanner"),
    profile("xss-script", 19, ["913100", "941100", "941110", "941160"],
            [(100, "/product?id=<script>alert(1)</script>")], "scanner"),
    profile("xss-event", 7, ["913100", "941100", "941120"],
            [(100, "/search?q=%3Cimg%20src=x%20onerror=alert(1)%3E")], "scanner"),
    profile("xss-svg", 3, ["913100", "941100", "941160"],
            [(100, "/search?q=<svg/onload=alert(1)>")], "scanner"),
    profile("traversal", 8, ["913100", "930100", "930120"],
            [(100, "/static/..%2f..%2f..%2f..%2fetc%2fpasswd")], "scanner"),
    profile("rce-pipe", 6, ["913100", "932100"],
            [(100, "/checkout?ref=x|`id`")], "scanner"),
    profile("rce-shell", 5, ["913100", "932100", "932160"],
            [(100, "/api/v1/export?file=;/bin/sh%20-c%20id")], "scanner"),
    profile("env", 5, ["913100", "930130"],
            [(100, "/.env")], "scanner"),
    profile("wp-login", 6, ["913100"],
            [(100, "/wp-login.php")], "scanner"),
]

# Scanner sources: (weight, ip, sends a scanner User-Agent).  The second one
# forges a browser User-Agent, so 913100 does not fire for its requests.
SCANNER_CLIENTS = [
    (45, "203.0.113.45", True),
    (35, "198.51.100.23", False),
    (8, "2001:db8::17", True),
    (5, "192.0.2.77", True),
    (4, "203.0.113.199", True),
    (3, "198.51.100.140", False),
]
RESERVED_IPS = {ip for _, ip, _ in SCANNER_CLIENTS}

CATEGORIES = ["shoes", "jackets", "bags", "accessories", "kids", "sale"]

ENVIRONMENTS = {
    "production": {
        "host": "shop.example.com",
        "namespace": "shop-production",
        "engine": "DetectionOnly",
        "base_min": 25000,  # access lines per hour at the night-time trough
        "base_max": 45000,  # access lines per hour at the afternoon peak
        "anomalous": 0.008,
        "baseline": PROD_BASELINE,
        "partner": ["192.0.2.210", "192.0.2.211"],
        "bots": 60,
        "users": 600,
    },
    "staging": {
        "host": "staging.shop.example.com",
        "namespace": "shop-staging",
        "engine": "Enabled",
        "base_min": 1500,
        "base_max": 3000,
        "anomalous": 0.003,
        "baseline": STAGING_BASELINE,
        "partner": ["192.0.2.210"],
        "bots": 15,
        "users": 40,
    },
}


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------
def diurnal_shape(hour_mid):
    """0 at the night-time trough (03:00 UTC), 1 at PEAK_HOUR_UTC, flat at night."""
    c = (1.0 + math.cos(2.0 * math.pi * (hour_mid - PEAK_HOUR_UTC) / 24.0)) / 2.0
    return c ** 1.5


def poisson(rng, lam):
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


def cumulative(weights):
    out, acc = [], 0.0
    for w in weights:
        acc += w
        out.append(acc)
    return out


class Picker:
    """Weighted choice with precomputed cumulative weights."""

    def __init__(self, items, weights):
        self.items = list(items)
        self.cum = cumulative(weights)

    def pick(self, rng):
        return rng.choices(self.items, cum_weights=self.cum)[0]


def doc_ip(rng, taken):
    """A random, not yet used address from the documentation ranges.

    IPv4 last octets are three digits and IPv6 groups four hex digits, so that
    for these keys plain string order equals Elasticsearch's byte order of
    `ip` terms (relevant when two client buckets tie); 203.0.113.0/24 is left
    to the scanners for the same reason ("203." sorts after "2001:" as text).
    """
    while True:
        r = rng.random()
        if r < 0.35:
            ip = "192.0.2.%d" % rng.randint(100, 254)
        elif r < 0.7:
            ip = "198.51.100.%d" % rng.randint(100, 254)
        else:
            ip = "2001:db8:%x:%x::%x" % (rng.randint(0x1000, 0xFFFF), rng.randint(0x1000, 0xFFFF),
                                         rng.randint(0x1000, 0xFFFF))
        if ip not in taken and ip not in RESERVED_IPS:
            assert ip == ipaddress.ip_address(ip).compressed
            taken.add(ip)
            return ip


def client_pools(env_name, env):
    """Client pools of an environment; the same for both windows (bots come back)."""
    rng = random.Random("%s/clients/%s" % (SEED, env_name))
    taken = set(env["partner"])
    bots = [doc_ip(rng, taken) for _ in range(env["bots"])]
    users = [doc_ip(rng, taken) for _ in range(env["users"])]
    return {
        # a few noisy bots, many occasional ones (Zipf-like)
        "bots": Picker(bots, [1.0 / (i + 1) ** 1.1 for i in range(len(bots))]),
        "users": Picker(users, [1.0] * len(users)),
        "partner": Picker(env["partner"], [3.0, 1.0][: len(env["partner"])]),
    }


def fill_uri(rng, uri):
    if "{n}" in uri:
        uri = uri.replace("{n}", str(rng.randint(1, 40)))
    if "{sku}" in uri:
        uri = uri.replace("{sku}", "SKU-%05d" % rng.randint(10000, 10060))
    if "{cat}" in uri:
        uri = uri.replace("{cat}", CATEGORIES[rng.randrange(len(CATEGORIES))])
    return uri


def iso(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


# --------------------------------------------------------------------------
# Aggregation, Elasticsearch style
# --------------------------------------------------------------------------
def ip_sort_key(ip):
    """Elasticsearch orders `ip` terms by their 16-byte (IPv4-mapped) form."""
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        addr = ipaddress.IPv6Address("::ffff:" + ip)
    return addr.packed


def terms(counts, size, total_values, key_sort=lambda k: k):
    """A terms aggregation: doc_count desc, key asc; sum_other_doc_count exact."""
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], key_sort(kv[0])))
    top = ordered[:size]
    return {
        "doc_count_error_upper_bound": 0,
        "sum_other_doc_count": total_values - sum(c for _, c in top),
        "buckets": [{"key": k, "doc_count": c} for k, c in top],
    }


def histogram(window_from, hourly):
    return {"buckets": [
        {"key_as_string": iso(window_from + h * HOUR), "key": (window_from + h * HOUR) * 1000, "doc_count": n}
        for h, n in enumerate(hourly)
    ]}


def bump(counter, key, n=1):
    counter[key] = counter.get(key, 0) + n


class AuditAggregator:
    """Aggregates audit documents as Elasticsearch does with `transaction.messages` flattened."""

    def __init__(self, engine, index):
        self.engine = engine
        self.index = index
        self.hourly = [0] * 24
        self.rules = {}
        self.first_doc = {}  # rule -> (_id, messages) of the first document holding it (top_hits)
        self.flat_messages = {}  # rule -> message -> docs: what a terms on the message under the rule counts
        self.clients = {}
        self.uris = {}
        self.score_messages = {}
        self.blocked = 0
        self.docs = 0

    def add(self, hour, rules, client, uri):
        score = sum(RULES[r][1] for r in rules)
        messages = [{"message": RULES[r][0], "details": {"ruleId": r, "severity": SEVERITY[RULES[r][1]]}} for r in rules]
        if score >= ANOMALY_THRESHOLD:
            messages.append({"message": BLOCKING_MESSAGE % score, "details": {"ruleId": BLOCKING_RULE, "severity": "2"}})
            bump(self.score_messages, BLOCKING_MESSAGE % score)
            if self.engine == "Enabled":
                self.blocked += 1  # 403 from the blocking evaluation rule, engine Enabled
        doc_id = hashlib.sha1(("%s/%d" % (self.index, self.docs)).encode()).hexdigest()[:20]
        ids = [m["details"]["ruleId"] for m in messages]
        texts = [m["message"] for m in messages]
        for r in set(ids):
            bump(self.rules, r)
            self.first_doc.setdefault(r, (doc_id, messages))
            flat = self.flat_messages.setdefault(r, {})
            for t in set(texts):  # flattened: every message of the document
                bump(flat, t)
        bump(self.clients, client)
        bump(self.uris, uri)
        self.hourly[hour] += 1
        self.docs += 1

    def top_hit(self, rule, count):
        doc_id, messages = self.first_doc[rule]
        return {"hits": {"total": {"value": count, "relation": "eq"}, "max_score": 0.0, "hits": [
            {"_index": self.index, "_type": "_doc", "_id": doc_id, "_score": 0.0,
             "_source": {"transaction": {"messages": messages}}}]}}

    def aggregations(self, window_from):
        top_rules = terms(self.rules, 10, sum(self.rules.values()))
        for b in top_rules["buckets"]:
            b["message"] = self.top_hit(b["key"], b["doc_count"])
        n949 = self.rules.get(BLOCKING_RULE, 0)
        aggs = {
            "history": histogram(window_from, self.hourly),
            "top_rules": top_rules,
            "top_clients": terms(self.clients, 10, self.docs, ip_sort_key),
            "top_uris": terms(self.uris, 10, self.docs),
            "engine_mode": terms({self.engine: self.docs} if self.docs else {}, 3, self.docs),
            "blocked": {"doc_count": self.blocked},
            "anomaly_scores": {"doc_count": n949,
                               "scores": terms(self.score_messages, 100, sum(self.score_messages.values()))},
        }
        return aggs

    def flattening_report(self, top_rules):
        """Per top rule: its CRS message, the label paired from the top_hits document, and what the
        earlier `terms` sub-aggregation on the message returned on a real (flattening) cluster."""
        out = []
        for b in top_rules["buckets"]:
            r = b["key"]
            doc_messages = b["message"]["hits"]["hits"][0]["_source"]["transaction"]["messages"]
            paired = next(m["message"] for m in doc_messages if m["details"]["ruleId"] == r)
            flat = terms(self.flat_messages[r], 1, 0)["buckets"][0]["key"]
            true = RULES[r][0] if r in RULES else "Inbound Anomaly Score Exceeded (Total Score: N)"
            out.append({"rule": r, "crs": true, "paired": paired, "flattened_terms": flat})
        return out


# --------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------
def generate(env_name, window_name, window_from, spike):
    env = ENVIRONMENTS[env_name]
    rng = random.Random("%s/%s/%s" % (SEED, env_name, window_name))
    pools = client_pools(env_name, env)
    baseline = Picker(env["baseline"], [p["weight"] for p in env["baseline"]])
    uri_pickers = {}
    for p in env["baseline"] + SPIKE_PROFILES:
        uri_pickers[id(p)] = Picker([u for _, u in p["uris"]], [w for w, _ in p["uris"]])
    scanners = Picker(SCANNER_CLIENTS, [w for w, _, _ in SCANNER_CLIENTS])
    stealth_profiles = [p for p in SPIKE_PROFILES if p["rules"] != ["913100"]]
    stealth = Picker(stealth_profiles, [p["weight"] for p in stealth_profiles])
    loud = Picker(SPIKE_PROFILES, [p["weight"] for p in SPIKE_PROFILES])

    access = [0] * 24
    audit = AuditAggregator(env["engine"], INDEX % time.strftime("%Y.%m.%d", time.gmtime(window_from)))
    walk = 0.0
    for hour in range(24):
        walk = 0.8 * walk + rng.normalvariate(0.0, 0.02)
        mean = env["base_min"] + (env["base_max"] - env["base_min"]) * diurnal_shape(hour + 0.5)
        base = int(round(mean * (1.0 + walk) * rng.normalvariate(1.0, 0.015)))
        n_base_audit = poisson(rng, base * env["anomalous"])
        for _ in range(n_base_audit):
            p = baseline.pick(rng)
            uri = fill_uri(rng, uri_pickers[id(p)].pick(rng))
            client = pools[p["clients"]].pick(rng)
            audit.add(hour, p["rules"], client, uri)
        scan = 0
        if spike and hour in SPIKE_HOURS:
            scan = int(round(SPIKE_HOURS[hour] * rng.normalvariate(1.0, 0.02)))
            n_scan_audit = int(round(scan * SPIKE_AUDITED * rng.normalvariate(1.0, 0.005)))
            for _ in range(n_scan_audit):
                _, client, loud_ua = scanners.pick(rng)
                p = (loud if loud_ua else stealth).pick(rng)
                rules = p["rules"] if loud_ua else [r for r in p["rules"] if r != "913100"]
                uri = fill_uri(rng, uri_pickers[id(p)].pick(rng))
                audit.add(hour, rules, client, uri)
        access[hour] = base + scan

    shards = {"total": 15, "successful": 15, "skipped": 0, "failed": 0}
    took_access = rng.randint(35, 90) if env_name == "production" else rng.randint(6, 20)
    took_audit = rng.randint(60, 180) if env_name == "production" else rng.randint(8, 30)
    responses = [
        {
            "took": took_access,
            "timed_out": False,
            "_shards": dict(shards),
            "hits": {"total": {"value": sum(access), "relation": "eq"}, "max_score": None, "hits": []},
            "aggregations": {"history": histogram(window_from, access)},
            "status": 200,
        },
        {
            "took": took_audit,
            "timed_out": False,
            "_shards": dict(shards),
            "hits": {"total": {"value": audit.docs, "relation": "eq"}, "max_score": None, "hits": []},
            "aggregations": audit.aggregations(window_from),
            "status": 200,
        },
    ]
    answer = {"took": max(took_access, took_audit) + rng.randint(1, 6), "responses": responses}
    return answer, audit.flattening_report(responses[1]["aggregations"]["top_rules"])


# --------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------
def check_terms(name, agg, total_values, numeric=False, ip=False):
    buckets = agg["buckets"]
    assert agg["doc_count_error_upper_bound"] == 0, name
    assert agg["sum_other_doc_count"] == total_values - sum(b["doc_count"] for b in buckets), name
    assert agg["sum_other_doc_count"] >= 0, name
    for a, b in zip(buckets, buckets[1:]):
        assert a["doc_count"] >= b["doc_count"], (name, a, b)
        if a["doc_count"] == b["doc_count"]:
            if ip:
                # must hold both for Elasticsearch's byte order and plain string order
                assert ip_sort_key(a["key"]) < ip_sort_key(b["key"]), (name, a, b)
            assert a["key"] < b["key"], (name, a, b)
    if numeric:
        assert all(isinstance(b["key"], int) for b in buckets), name
    else:
        assert all(isinstance(b["key"], str) for b in buckets), name


def verify(answer, window_from, env_name):
    access, audit = answer["responses"]
    for r in (access, audit):
        hist = r["aggregations"]["history"]["buckets"]
        assert len(hist) == 24
        assert [b["key"] for b in hist] == [(window_from + h * HOUR) * 1000 for h in range(24)]
        assert all(b["key_as_string"] == iso(b["key"] // 1000) for b in hist)
        assert r["hits"]["total"]["value"] == sum(b["doc_count"] for b in hist)
        assert r["status"] == 200 and not r["timed_out"]
    assert answer["took"] >= max(access["took"], audit["took"])
    ah = [b["doc_count"] for b in access["aggregations"]["history"]["buckets"]]
    uh = [b["doc_count"] for b in audit["aggregations"]["history"]["buckets"]]
    assert all(u <= a for u, a in zip(uh, ah)), "more audit docs than requests in an hour"
    aggs = audit["aggregations"]
    docs = audit["hits"]["total"]["value"]
    for name in ("top_clients", "top_uris", "engine_mode"):
        check_terms(name, aggs[name], docs, ip=(name == "top_clients"))
    # multi-valued: sum_other is checked against the generator's own totals in terms();
    # here check order, sizes and the sub-aggregation.
    rules = aggs["top_rules"]
    check_terms("top_rules", rules, sum(b["doc_count"] for b in rules["buckets"]) + rules["sum_other_doc_count"])
    assert len(rules["buckets"]) <= 10
    for b in rules["buckets"]:
        hits = b["message"]["hits"]
        assert hits["total"]["value"] == b["doc_count"]
        assert len(hits["hits"]) == 1
        msgs = hits["hits"][0]["_source"]["transaction"]["messages"]
        assert [m for m in msgs if m["details"]["ruleId"] == b["key"]], (b["key"], msgs)
        assert b["doc_count"] <= docs
    scores = aggs["anomaly_scores"]
    check_terms("anomaly_scores.scores", scores["scores"], sum(b["doc_count"] for b in scores["scores"]["buckets"]))
    assert scores["scores"]["sum_other_doc_count"] == 0
    n949 = sum(b["doc_count"] for b in scores["scores"]["buckets"])
    assert n949 == scores["doc_count"], "one score message per 949110 document"
    top949 = [b for b in rules["buckets"] if b["key"] == BLOCKING_RULE]
    assert top949 and top949[0]["doc_count"] == n949, "949110 bucket must equal docs with a score"
    env = ENVIRONMENTS[env_name]
    if env["engine"] == "DetectionOnly":
        assert aggs["blocked"]["doc_count"] == 0
    else:
        assert aggs["blocked"]["doc_count"] == n949
    assert [b["key"] for b in aggs["engine_mode"]["buckets"]] == [env["engine"]]


def summary(label, answer):
    access, audit = answer["responses"]
    total = access["hits"]["total"]["value"]
    anomalous = audit["hits"]["total"]["value"]
    aggs = audit["aggregations"]
    ah = access["aggregations"]["history"]["buckets"]
    uh = aggs["history"]["buckets"]
    print("%-22s total=%d anomalous=%d ratio=%.4f blocked=%d" % (
        label, total, anomalous, anomalous / total, aggs["blocked"]["doc_count"]))
    print("%22s access/hour min=%d max=%d" % ("", min(b["doc_count"] for b in ah), max(b["doc_count"] for b in ah)))
    for a, u in zip(ah, uh):
        if u["doc_count"] > 0.05 * a["doc_count"]:
            print("%22s spike %s access=%d audit=%d" % ("", a["key_as_string"], a["doc_count"], u["doc_count"]))
    top3 = ", ".join("%s=%d" % (b["key"], b["doc_count"]) for b in aggs["top_rules"]["buckets"][:3])
    print("%22s top rules: %s" % ("", top3))


def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(json.dumps(obj, indent=1, sort_keys=False) + "\n")


def field_caps():
    """The `_field_caps` answer of a Filebeat 7.17 index (Field capabilities API shape)."""
    def cap(t, agg=True):
        return {t: {"type": t, "metadata_field": False, "searchable": True, "aggregatable": agg}}
    kw = ["kubernetes.container.name", "kubernetes.namespace", "stream", "nginx.ingress_controller.upstream.name",
          "transaction.unique_id", "transaction.request.headers.Host", "transaction.messages.details.ruleId",
          "transaction.messages.message", "transaction.request.uri", "transaction.producer.secrules_engine"]
    fields = {"@timestamp": cap("date"), "message": cap("text", False),
              "transaction.client_ip": cap("ip"), "transaction.response.http_code": cap("long")}
    fields.update({f: cap("keyword") for f in kw})
    return {"indices": [INDEX % "2026.11.18", INDEX % "2026.11.19"], "fields": dict(sorted(fields.items()))}


def uri_mapping():
    """The Get field mapping API answer for transaction.request.uri (Filebeat's template: keyword, ignore_above 1024)."""
    leaf = {"full_name": "transaction.request.uri", "mapping": {"uri": {"type": "keyword", "ignore_above": 1024}}}
    return {INDEX % day: {"mappings": {"transaction.request.uri": leaf}} for day in ("2026.11.18", "2026.11.19")}


def main():
    if "--flattening-report" in sys.argv:
        report = {}
        for env_name, window_name, window_from, spike in [("production", "current", CURRENT_FROM, True),
                                                            ("staging", "current", CURRENT_FROM, False)]:
            report[env_name] = generate(env_name, window_name, window_from, spike)[1]
        print(json.dumps(report, indent=1))
        return 0
    jobs = [
        ("production", "current", CURRENT_FROM, True, "samples/production/waf/msearch.json"),
        ("production", "previous", PREVIOUS_FROM, False, "samples/production/waf/previous/msearch.json"),
        ("staging", "current", CURRENT_FROM, False, "samples/staging/waf/msearch.json"),
        ("staging", "previous", PREVIOUS_FROM, False, "samples/staging/waf/previous/msearch.json"),
    ]
    for env_name, window_name, window_from, spike, rel in jobs:
        answer = generate(env_name, window_name, window_from, spike)[0]
        verify(answer, window_from, env_name)
        if env_name == "production" and spike:
            access, audit = answer["responses"]
            ratio = audit["hits"]["total"]["value"] / access["hits"]["total"]["value"]
            assert 0.08 <= ratio <= 0.15, ratio
            keys = [b["key"] for b in audit["aggregations"]["top_clients"]["buckets"]]
            assert "2001:db8::17" in keys, keys
            uris = [b["key"] for b in audit["aggregations"]["top_uris"]["buckets"]]
            assert any("|" in u and "`" in u for u in uris), uris
        write(os.path.join(ROOT, rel), answer)
        write(os.path.join(ROOT, os.path.dirname(rel), "field_caps.json"), field_caps())
        write(os.path.join(ROOT, os.path.dirname(rel), "uri_mapping.json"), uri_mapping())
        summary("%s/%s" % (env_name, window_name), answer)
        print("%22s -> %s" % ("", rel))
    return 0


if __name__ == "__main__":
    sys.exit(main())
