#!/usr/bin/env python3
"""Independent recount of WAF log figures, written apart from the Swift parsers (regular
expressions and the standard library only), for the real-world fixture tests.

usage: recount_waf.py --from ISO --to ISO [--audit FILE]... [--access FILE]... [--hosts h1,h2]

Audit logs may be ModSecurity native (serial) or JSON (one entry per line). Access logs are NGINX
`combined` or `main` lines. Prints one JSON object: total, anomalous, blocked, categories,
top_rules [[id, count]], top_clients [[ip, count]] (top 10, ties by key), entries_outside,
access_outside.
"""
import argparse, collections, datetime, json, re, sys

CATEGORY = {911: "protocol", 913: "scanner", 920: "protocol", 921: "protocol", 922: "multipart", 930: "lfi", 931: "rfi", 932: "rce", 933: "php",
            934: "generic", 941: "xss", 942: "sqli", 943: "session", 944: "java", 950: "leakage", 951: "leakage",
            952: "leakage", 953: "leakage", 954: "leakage", 955: "webshell"}
ANOMALY = {949, 959, 980}


def category(rule):
    if not re.fullmatch(r"\d{6}", rule):
        return "other"
    fam = int(rule) // 1000
    if fam in ANOMALY:
        return None
    return CATEGORY.get(fam, "other")


def common_log_time(text):
    # ModSecurity 2.9 writes a negative zone as "--0400".
    text = re.sub(r" --(\d{4})$", r" -\1", text.strip())
    return datetime.datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z")


def native_entries(data):
    boundary = re.compile(r"^-{2,3}([A-Za-z0-9@_]+)-{1,3}([A-Z])--\s*$")
    entry, part = None, None
    for line in data.splitlines():
        m = boundary.match(line)
        if m:
            if m.group(2) == "A":
                entry = {"A": [], "B": [], "F": [], "H": []}
            elif m.group(2) == "Z":
                if entry is not None:
                    yield entry
                entry = None
            part = m.group(2)
            continue
        if entry is not None and part in entry:
            entry[part].append(line)


def read_native(data):
    for e in native_entries(data):
        head = e["A"][0]
        t = common_log_time(head[1:head.index("]")])
        fields = head[head.index("]") + 1:].split()
        host = next((l.split(":", 1)[1].strip().lower() for l in e["B"][1:] if l.lower().startswith("host:")), "")
        rules, blocked = [], False
        for l in e["H"]:
            if l.startswith("Message: ") or l.startswith("ModSecurity: "):
                if re.match(r"^(Message|ModSecurity): Access denied", l):
                    blocked = True
                m = re.search(r'\[id "(\d+)"\]', l)
                if m and m.group(1) not in rules:
                    rules.append(m.group(1))
            if l.startswith("Action: Intercepted"):
                blocked = True
        yield {"time": t, "client": fields[1], "host": host.split(":")[0], "rules": rules, "blocked": blocked}


def read_json(data):
    for line in data.splitlines():
        if not line.strip():
            continue
        t = json.loads(line)["transaction"]
        stamp = datetime.datetime.strptime(" ".join(t["time_stamp"].split()), "%a %b %d %H:%M:%S %Y")
        rules = []
        for m in t.get("messages") or []:
            r = m.get("details", {}).get("ruleId")
            if r and r not in rules:
                rules.append(r)
        yield {"time": stamp.replace(tzinfo=datetime.timezone.utc), "client": t["client_ip"],
               "host": t.get("request", {}).get("headers", {}).get("Host", "").lower().split(":")[0], "rules": rules,
               "blocked": bool(t.get("is_interrupted", False))}


ACCESS = re.compile(r'^(\S+) \S+ \S+ \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\d{3}) \S+ "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)"( "((?:[^"\\]|\\.)*)")?\s*$')


def top(counter):
    return [[k, v] for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="start", required=True)
    ap.add_argument("--to", dest="end", required=True)
    ap.add_argument("--audit", action="append", default=[])
    ap.add_argument("--access", action="append", default=[])
    ap.add_argument("--hosts", default="")
    a = ap.parse_args()
    start = datetime.datetime.fromisoformat(a.start.replace("Z", "+00:00"))
    end = datetime.datetime.fromisoformat(a.end.replace("Z", "+00:00"))
    hosts = {h.lower() for h in a.hosts.split(",") if h}
    out = {"total": 0, "anomalous": 0, "blocked": 0, "access_outside": 0, "entries_outside": 0}
    rules, clients, cats = collections.Counter(), collections.Counter(), collections.Counter()
    for path in a.access:
        for line in open(path, encoding="utf-8", errors="replace").read().splitlines():
            m = ACCESS.match(line)
            if not m:
                sys.exit(f"{path}: not an access line: {line[:80]}")
            if start <= common_log_time(m.group(2)) < end:
                out["total"] += 1
            else:
                out["access_outside"] += 1
    for path in a.audit:
        data = open(path, encoding="utf-8", errors="replace").read()
        entries = read_native(data) if data.lstrip().startswith("--") else read_json(data)
        for e in entries:
            if not (start <= e["time"] < end):
                out["entries_outside"] += 1
                continue
            if hosts and e["host"] and e["host"] not in hosts:
                continue
            out["anomalous"] += 1
            out["blocked"] += e["blocked"]
            clients[e["client"]] += 1
            seen = set()
            for r in e["rules"]:
                rules[r] += 1
                c = category(r)
                if c and c not in seen:
                    seen.add(c)
                    cats[c] += 1
    out["top_rules"], out["top_clients"], out["categories"] = top(rules), top(clients), dict(cats)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
