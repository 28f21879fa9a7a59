#!/usr/bin/env python3
"""A loopback stand-in for an Elasticsearch cluster that follows Elasticsearch's DOCUMENTED
semantics on a small set of documents, for tests (no Elasticsearch can run here). Standard
library only.

  mini_es.py --index NAME --mapping MAPPING.json --docs DOCS.jsonl --log REQUESTS.jsonl [--max-buckets N]

Prints the bound port on the first line of stdout once it listens on 127.0.0.1. Every request is
appended to the log (method, path, query, headers, body), as replay_server.py does.

MAPPING.json maps a flattened field name to "keyword", "text", "text+keyword" (dynamic mapping of
a string: text with a `.keyword` multi-field, ignore_above 256), "date", "long" or "ip".

Behaviour, with the Elasticsearch Reference page each comes from:
- Arrays of objects are flattened ("Nested field type", "How arrays of objects are flattened"):
  {"m": [{"a": 1, "b": 2}, {"a": 3}]} is indexed as m.a: [1, 3], m.b: [2].
- `text` is analysed ("Text type family", "Standard analyzer"; approximated here by lowercasing
  and splitting on anything not a letter or digit); `term`, `terms`, `prefix` and `wildcard` are
  not analysed, so on text they compare with single tokens ("Term-level queries").
  `match_phrase` matches consecutive tokens ("Match phrase query").
- `.keyword` multi-fields drop values longer than ignore_above 256 ("Dynamic field mapping",
  "ignore_above").
- A `terms` aggregation on a text field fails the search: illegal_argument_exception "Text fields
  are not optimised…" inside search_phase_execution_exception "all shards failed" with root_cause
  and failed_shards ("fielddata", "Common options › Error responses").
- More buckets than `search.max_buckets` fails the search with too_many_buckets_exception in the
  same shape ("Search settings", "Bucket aggregations").
- `_field_caps` answers {"indices", "fields": {name: {type: {type, searchable, aggregatable}}}}
  ("Field capabilities API"); an index pattern that matches no index answers no index.
- `_msearch` with `ignore_unavailable` on a pattern matching no index answers 0 hits with
  `_shards.total: 0` ("Multi search API", "Multi-target syntax").
- `GET <index>/_mapping/field/<field>` answers the leaf's mapping, with `ignore_above` 256 on a
  dynamic `.keyword` ("Get field mapping API").
- `bool` with `filter`, `must`, `should` and `must_not`; `exists` ("Exists query": a field
  with at least one indexed value).
- `top_hits` returns `_source` as sent, filtered by `_source.includes` ("Top hits aggregation");
  documents in index order (all scores equal in filter context).
"""
import argparse
import datetime
import fnmatch
import http.server
import json
import re
import socketserver
import sys
import urllib.parse

STEP = {"1m": 60, "1h": 3600, "1d": 86400}
TEXT_AGG = ("Text fields are not optimised for operations that require per-document field data like aggregations "
            "and sorting, so these operations are disabled by default. Please use a keyword field instead. "
            "Alternatively, set fielddata=true on [%s] in order to load field data by uninverting the inverted "
            "index. Note that this can use significant memory.")


class SearchError(Exception):
    def __init__(self, cause):
        self.cause = cause


def flatten(doc, prefix="", out=None):
    out = {} if out is None else out
    if isinstance(doc, dict):
        for k, v in doc.items():
            flatten(v, prefix + k + ".", out)
    elif isinstance(doc, list):
        for v in doc:
            flatten(v, prefix, out)
    elif doc is not None:
        out.setdefault(prefix[:-1], []).append(doc)
    return out


def tokens(s):
    return [t for t in re.split(r"[^0-9a-z]+", str(s).lower()) if t]


def iso_ms(s):
    return int(datetime.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp() * 1000)


class Index:
    def __init__(self, name, mapping, docs):
        self.name, self.mapping, self.docs = name, mapping, docs
        self.flat = [flatten(d) for d in docs]

    def kind(self, field):
        if field.endswith(".keyword") and self.mapping.get(field[:-8]) == "text+keyword":
            return "keyword"
        t = self.mapping.get(field)
        return "text" if t == "text+keyword" else t

    def values(self, flat, field):
        """Indexed terms of a field: keyword values, analysed tokens for text."""
        k = self.kind(field)
        if k is None:
            return []
        if field.endswith(".keyword") and self.mapping.get(field[:-8]) == "text+keyword":
            return [str(v) for v in flat.get(field[:-8], []) if len(str(v)) <= 256]
        raw = flat.get(field, [])
        if k == "text":
            return [t for v in raw for t in tokens(v)]
        if k == "date":
            return [iso_ms(v) for v in raw]
        return [v if k == "long" else str(v) for v in raw]

    def matches(self, flat, q):
        (kind, body), = q.items()
        if kind == "bool":
            if not all(self.matches(flat, c) for c in body.get("filter", []) + body.get("must", [])):
                return False
            if any(self.matches(flat, c) for c in body.get("must_not", [])):
                return False
            should = body.get("should", [])
            need = body.get("minimum_should_match", 1 if should and not body.get("filter") else 0)
            return sum(1 for c in should if self.matches(flat, c)) >= need
        if kind == "exists":
            return len(self.values(flat, body["field"])) > 0
        (field, arg), = body.items()
        vals = self.values(flat, field)
        if kind == "range":
            lo, hi = iso_ms(arg["gte"]), iso_ms(arg["lt"])
            return any(lo <= v < hi for v in vals)
        if kind == "term":
            return any(str(v) == str(arg) for v in vals)
        if kind == "terms":
            return any(str(v) in [str(a) for a in arg] for v in vals)
        if kind == "prefix":
            return any(str(v).startswith(arg) for v in vals)
        if kind == "wildcard":
            pat = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in arg["value"])
            return any(re.fullmatch(pat, str(v), re.S) for v in vals)
        if kind == "match_phrase":
            want = tokens(arg)
            if self.kind(field) != "text":
                return any(str(v) == arg for v in vals)
            for raw in flat.get(field, []):
                t = tokens(raw)
                if any(t[i:i + len(want)] == want for i in range(len(t) - len(want) + 1)):
                    return True
            return False
        raise ValueError("unsupported query " + kind)

    def aggregate(self, rows, aggs, budget):
        out = {}
        for name, spec in aggs.items():
            sub = spec.get("aggs", {})
            if "date_histogram" in spec:
                h = spec["date_histogram"]
                step = STEP[h["fixed_interval"]] * 1000
                lo, hi = h["extended_bounds"]["min"], h["extended_bounds"]["max"]
                counts = {}
                for i, flat in rows:
                    for v in self.values(flat, h["field"]):
                        counts[v - v % step] = counts.get(v - v % step, 0) + 1
                keys = range(lo - lo % step, hi - hi % step + 1, step)
                budget[0] += len(keys)
                out[name] = {"buckets": [{"key_as_string": datetime.datetime.fromtimestamp(k / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                          "key": k, "doc_count": counts.get(k, 0)} for k in keys]}
            elif "terms" in spec:
                t = spec["terms"]
                if self.kind(t["field"]) == "text":
                    raise SearchError({"type": "illegal_argument_exception", "reason": TEXT_AGG % t["field"]})
                inc = re.compile(t["include"]) if "include" in t else None
                members = {}
                for i, flat in rows:
                    for v in set(self.values(flat, t["field"])):
                        if inc is None or inc.fullmatch(str(v)):
                            members.setdefault(v, []).append((i, flat))
                order = sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))
                top = order[: t["size"]]
                budget[0] += len(top)
                buckets = []
                for k, docs in top:
                    b = {"key": k, "doc_count": len(docs)}
                    b.update(self.aggregate(docs, sub, budget))
                    buckets.append(b)
                out[name] = {"doc_count_error_upper_bound": 0,
                             "sum_other_doc_count": sum(len(d) for _, d in order[t["size"]:]), "buckets": buckets}
            elif "filter" in spec:
                docs = [(i, f) for i, f in rows if self.matches(f, spec["filter"])]
                budget[0] += 1
                out[name] = {"doc_count": len(docs)}
                out[name].update(self.aggregate(docs, sub, budget))
            elif "top_hits" in spec:
                th = spec["top_hits"]
                hits = []
                for i, _ in rows[: th.get("size", 3)]:
                    src = self.docs[i]
                    inc = th.get("_source", {}).get("includes")
                    if inc is not None:
                        src = {k: v for k, v in flatten_keep(src).items() if any(k == p or k.startswith(p + ".") for p in inc)}
                        src = unflatten(src)
                    hits.append({"_index": self.name, "_id": str(i), "_score": 0.0, "_source": src})
                out[name] = {"hits": {"total": {"value": len(rows), "relation": "eq"}, "max_score": 0.0, "hits": hits}}
        return out

    def search(self, body, max_buckets):
        rows = [(i, f) for i, f in enumerate(self.flat) if self.matches(f, body.get("query", {"bool": {}}))]
        budget = [0]
        aggs = self.aggregate(rows, body.get("aggs", {}), budget)
        if budget[0] > max_buckets:
            raise SearchError({"type": "too_many_buckets_exception",
                               "reason": "Trying to create too many buckets. Must be less than or equal to: [%d] but was [%d]. This limit can be set by changing the [search.max_buckets] cluster level setting." % (max_buckets, budget[0]),
                               "max_buckets": max_buckets})
        return {"took": 1, "timed_out": False, "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {"total": {"value": len(rows), "relation": "eq"}, "max_score": None, "hits": []},
                "aggregations": aggs, "status": 200}

    def failure(self, cause):
        return {"error": {"root_cause": [cause], "type": "search_phase_execution_exception", "reason": "all shards failed",
                          "phase": "query", "grouped": True,
                          "failed_shards": [{"shard": 0, "index": self.name, "node": "mini-es-node", "reason": cause}]},
                "status": 400}


def flatten_keep(doc, prefix=""):
    """Top-level paths down to the first list (lists kept whole), for _source filtering."""
    out = {}
    for k, v in doc.items():
        if isinstance(v, dict):
            out.update(flatten_keep(v, prefix + k + "."))
        else:
            out[prefix + k] = v
    return out


def unflatten(flat):
    out = {}
    for k, v in flat.items():
        d = out
        parts = k.split(".")
        for p in parts[:-1]:
            d = d.setdefault(p, {})
        d[parts[-1]] = v
    return out


def main():
    ap = argparse.ArgumentParser()
    for a in ("--index", "--mapping", "--docs", "--log"):
        ap.add_argument(a, required=True)
    ap.add_argument("--max-buckets", type=int, default=65535)
    args = ap.parse_args()
    index = Index(args.index, json.load(open(args.mapping)), [json.loads(l) for l in open(args.docs) if l.strip()])

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, status, obj):
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def handle_any(self):
            u = urllib.parse.urlsplit(self.path)
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n).decode() if n else ""
            with open(args.log, "a") as f:
                f.write(json.dumps({"method": self.command, "path": u.path, "query": u.query,
                                    "headers": dict(self.headers.items()), "body": body}) + "\n")
            parts = [urllib.parse.unquote(p) for p in u.path.split("/") if p]
            if parts and parts[0] == "es":
                parts = parts[1:]
            if len(parts) == 2 and parts[1] == "_field_caps":
                q = urllib.parse.parse_qs(u.query)
                names = q.get("fields", [""])[0].split(",")
                if not any(fnmatch.fnmatchcase(index.name, p) for p in parts[0].split(",")):
                    return self.reply(200, {"indices": [], "fields": {}})
                fields = {}
                for name in names:
                    k = index.kind(name)
                    if k is not None:
                        fields[name] = {k: {"type": k, "metadata_field": False, "searchable": True, "aggregatable": k != "text"}}
                return self.reply(200, {"indices": [index.name], "fields": fields})
            if len(parts) == 4 and parts[1:3] == ["_mapping", "field"]:
                # Get field mapping API: the leaf's own mapping; `.keyword` of dynamic mapping has ignore_above 256.
                if not any(fnmatch.fnmatchcase(index.name, p) for p in parts[0].split(",")):
                    return self.reply(200, {})
                field, k = parts[3], index.kind(parts[3])
                if k is None:
                    return self.reply(200, {index.name: {"mappings": {}}})
                leaf = {"type": k}
                if field.endswith(".keyword"):
                    leaf["ignore_above"] = 256
                return self.reply(200, {index.name: {"mappings": {field: {"full_name": field, "mapping": {field.split(".")[-1]: leaf}}}}})
            if parts == ["_msearch"]:
                lines = [json.loads(l) for l in body.split("\n") if l.strip()]
                responses = []
                for header, search in zip(lines[0::2], lines[1::2]):
                    if not any(fnmatch.fnmatchcase(index.name, p) for p in header["index"].split(",")):
                        responses.append({"took": 0, "timed_out": False, "_shards": {"total": 0, "successful": 0, "skipped": 0, "failed": 0},
                                          "hits": {"total": {"value": 0, "relation": "eq"}, "max_score": 0.0, "hits": []}, "status": 200})
                        continue
                    try:
                        responses.append(index.search(search, args.max_buckets))
                    except SearchError as e:
                        responses.append(index.failure(e.cause))
                return self.reply(200, {"took": 1, "responses": responses})
            self.reply(404, {"error": {"type": "no_such_route", "reason": self.path}, "status": 404})

        do_GET = do_POST = handle_any

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
