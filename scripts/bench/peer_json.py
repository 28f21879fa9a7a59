#!/usr/bin/env python3
"""The Python peer for audit ingestion: json.loads on every line of a ModSecurity JSON audit log,
reading the transaction id, time, status and the rule ids of its messages (with --producer, also
counting each producer and rule set, as the report's engine line does). Prints the count."""
import json
import sys


def main():
    n, rules = 0, 0
    producers = {}
    producer = "--producer" in sys.argv[2:]
    with open(sys.argv[1], "rb") as f:
        for line in f:
            d = json.loads(line)
            t = d["transaction"]
            _ = t["unique_id"], t["time_stamp"], t["response"]["http_code"]
            if producer:
                p = t.get("producer") or {}
                key = (p.get("modsecurity"), tuple(p.get("components") or ()))
                producers[key] = producers.get(key, 0) + 1
            for m in t.get("messages", ()):
                _ = m["details"]["ruleId"]
                rules += 1
            n += 1
    print(n)


if __name__ == "__main__":
    main()
