#!/usr/bin/env python3
"""Independent recount of gateway access logs and WAF error-log lines, written apart from the
Swift parsers (regular expressions, json and the standard library only).

usage: recount_gateway.py --from ISO --to ISO [--access FILE]... [--error FILE]... [--zone OFFSET_SECONDS]
                          [--hosts h1,h2]

Access lines: Envoy / Istio default text, HAProxy httplog, Traefik JSON, Envoy Gateway JSON.
Error lines: ModSecurity / Coraza rule-match lines (Envoy, Istio, NGINX, Apache prefixes; JSON
wrapped, one msg may hold several lines), grouped per transaction by unique_id (else client, URI
and second). Prints one JSON object: total, days {YYYY-MM-DD: requests}, access_formats, access_skipped, anomalous, blocked,
categories, top_rules [[id, count]], top_clients [[ip, count]], transactions, match_lines,
other_lines, crs_versions.
"""
import argparse, collections, datetime, gzip, json, re

CATEGORY = {911: "protocol", 913: "scanner", 920: "protocol", 921: "protocol", 922: "multipart", 930: "lfi", 931: "rfi", 932: "rce", 933: "php",
            934: "generic", 941: "xss", 942: "sqli", 943: "session", 944: "java", 950: "leakage", 951: "leakage",
            952: "leakage", 953: "leakage", 954: "leakage", 955: "webshell"}
ANOMALY = {949, 959, 980}

ENVOY = re.compile(r'^\[(\S+)\] "[^"]*" (\d+) \S+ \S+ \S+ \S+ \S+ "[^"]*" "[^"]*" "[^"]*" "([^"]*)" "[^"]*"\s*$')
ISTIO = re.compile(r'^\[(\S+)\] "[^"]*" (\d+) \S+ \S+ \S+ "[^"]*" \S+ \S+ \S+ \S+ "[^"]*" "[^"]*" "[^"]*" "([^"]*)" "[^"]*"( \S+){6}\s*$')
HAPROXY = re.compile(r'(?:^|\s)(\S+):\d+ \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d)\.\d{3}\] \S+ \S+/\S+ [\d/+-]+ (-?\d+) .*?(?:\{([^|}]*)[^}]*\} )?(?:\{[^}]*\} )?"[^"]*"?$')


def iso(text):
    text = re.sub(r"\.\d+", "", text)
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def category(rule):
    if not re.fullmatch(r"\d{6}", rule):
        return "other"
    fam = int(rule) // 1000
    return None if fam in ANOMALY else CATEGORY.get(fam, "other")


def access_line(line, zone):
    s = line.strip()
    if s.startswith("{"):
        d = json.loads(s)
        if "start_time" in d:
            return "envoy-json", iso(d["start_time"]), d.get(":authority")
        t = d.get("StartUTC") or d.get("time")
        return "traefik-json", iso(t), d.get("RequestHost")
    m = ENVOY.match(s)
    if m:
        return "envoy", iso(m.group(1)), m.group(3)
    m = ISTIO.match(s)
    if m:
        return "istio", iso(m.group(1)), m.group(3)
    m = HAPROXY.search(s)
    if m:
        t = datetime.datetime.strptime(m.group(2), "%d/%b/%Y:%H:%M:%S").replace(tzinfo=datetime.timezone(datetime.timedelta(seconds=zone)))
        return "haproxy", t, m.group(4) or None
    return None


TAG = re.compile(r'\[(id|msg|severity|ver|uri|unique_id|hostname) "((?:[^"\\]|\\.)*)"\]')
MARK = re.compile(r"(Coraza|ModSecurity): (Warning|Access denied)")


def prefix_time(prefix, json_time, zone):
    m = re.search(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", prefix)
    if m:
        return datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone)
    m = re.match(r"(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d)", prefix)
    if m:
        return datetime.datetime.strptime(m.group(1), "%Y/%m/%d %H:%M:%S").replace(tzinfo=zone)
    m = re.match(r"(\d{4}-\d\d-\d\dT\S+Z)", prefix)
    if m:
        return iso(m.group(1))
    m = re.match(r"\[\w{3} (\w{3} \d\d \d\d:\d\d:\d\d)(?:\.\d+)? (\d{4})\]", prefix)
    if m:
        return datetime.datetime.strptime(m.group(1) + " " + m.group(2), "%b %d %H:%M:%S %Y").replace(tzinfo=zone)
    return json_time


def error_events(line, zone):
    s = line.strip()
    texts, jt = [s], None
    if s.startswith("{"):
        d = json.loads(s)
        msg = d.get("msg") or d.get("message") or d.get("log") or ""
        ts = d.get("ts") or d.get("time") or d.get("timestamp")
        if isinstance(ts, (int, float)):
            jt = datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc)
        elif isinstance(ts, str):
            jt = iso(ts)
        texts = msg.split("\n")
    out = []
    for t in texts:
        m = MARK.search(t)
        if not m:
            continue
        tags = {}
        for k, v in TAG.findall(t[m.end():]):
            tags.setdefault(k, v)
        if "id" not in tags and m.group(2) != "Access denied":
            continue
        client = None
        c = re.search(r'\[client "?([^\]"]+)"?\]', t[:m.start()])
        if c:
            client = c.group(1)
            if client.count(":") == 1:
                client = client.split(":")[0]
        host = tags.get("hostname", "")
        if re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", host or "-"):
            host = ""
        nginx = re.search(r", client: ([^,]+), server: .*?, request: \"\S+ (\S+) [^\"]*\"(?:, host: \"([^\"]*)\")?", t)
        if nginx:
            client = nginx.group(1)
            tags["uri"] = nginx.group(2)
            host = nginx.group(3) or ""
        tags["host"] = host.lower().split(":")[0]
        out.append({"time": prefix_time(t[:m.start()], jt, zone), "denied": m.group(2) == "Access denied",
                    "client": client or "", **tags})
    return out, bool(out)


def lines_of(path):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        yield from f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="start", required=True)
    ap.add_argument("--to", dest="end", required=True)
    ap.add_argument("--access", action="append", default=[])
    ap.add_argument("--error", action="append", default=[])
    ap.add_argument("--zone", type=int, default=0)
    ap.add_argument("--hosts", default="")
    a = ap.parse_args()
    start, end = iso(a.start), iso(a.end)
    zone = datetime.timezone(datetime.timedelta(seconds=a.zone))
    hosts = {h.lower() for h in a.hosts.split(",") if h}
    total, skipped, formats, days = 0, 0, collections.Counter(), collections.Counter()
    for path in a.access:
        for line in lines_of(path):
            if not line.strip():
                continue
            r = access_line(line, a.zone)
            if r is None:
                skipped += 1
                continue
            fmt, t, host = r
            formats[fmt] += 1
            if hosts and host and host.lower().split(":")[0] not in hosts:
                continue
            if start <= t < end:
                total += 1
                days[t.astimezone(datetime.timezone.utc).date().isoformat()] += 1
    tx = collections.OrderedDict()
    match_lines = other_lines = 0
    versions = collections.Counter()
    for path in a.error:
        for line in lines_of(path):
            if not line.strip():
                continue
            events, ok = error_events(line, zone)
            if not ok:
                other_lines += 1
                continue
            for e in events:
                match_lines += 1
                if "ver" in e:
                    versions[e["ver"]] += 1
                key = e.get("unique_id") or (e["client"], e.get("uri", ""), e["time"])
                t = tx.setdefault(key, {"time": e["time"], "client": e["client"], "rules": [], "blocked": False, "host": e["host"]})
                t["blocked"] |= e["denied"]
                if "id" in e and e["id"] not in t["rules"]:
                    t["rules"].append(e["id"])
    anomalous = blocked = 0
    rules, clients, cats = collections.Counter(), collections.Counter(), collections.Counter()
    for t in tx.values():
        if not (start <= t["time"] < end):
            continue
        if hosts and t["host"] and t["host"] not in hosts:
            continue
        anomalous += 1
        blocked += t["blocked"]
        clients[t["client"]] += 1
        seen = set()
        for r in t["rules"]:
            rules[r] += 1
            c = category(r)
            if c and c not in seen:
                seen.add(c)
                cats[c] += 1

    def top(counter):
        return [[k, v] for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]

    print(json.dumps({"total": total, "days": dict(sorted(days.items())), "access_formats": dict(formats), "access_skipped": skipped,
                      "anomalous": anomalous, "blocked": blocked, "categories": dict(cats),
                      "top_rules": top(rules), "top_clients": top(clients), "transactions": len(tx),
                      "match_lines": match_lines, "other_lines": other_lines, "crs_versions": dict(versions)}))


if __name__ == "__main__":
    main()
