#!/usr/bin/env python3
"""The Python peer for access-log ingestion: one compiled regex per line (ingress-nginx's
17-field format, `combined` or `main`), counting requests per status and per namespace/upstream, the
same aggregation threat-report does for the access log. Prints the count of parsed lines."""
import re
import sys
from collections import Counter

COMBINED = re.compile(rb'(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) \S+" (\d{3}) (\d+|-) "[^"]*" "[^"]*"')
MAIN = re.compile(rb'(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) \S+" (\d{3}) (\d+|-) "[^"]*" "[^"]*" "[^"]*"')
INGRESS = re.compile(rb'(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) \S+" (\d{3}) (\d+|-) "[^"]*" "[^"]*" '
                     rb'\d+ \S+ \[([^\]]*)\] \[[^\]]*\] \S+ \S+ \S+ \S+ (\S+)')


def main():
    path, fmt = sys.argv[1], sys.argv[2]
    rx = INGRESS if fmt == "ingress" else MAIN if fmt == "main" else COMBINED
    status, upstream, n = Counter(), Counter(), 0
    with open(path, "rb") as f:
        for line in f:
            m = rx.match(line)
            if m is None:
                continue
            n += 1
            status[m.group(5)] += 1
            if fmt == "ingress":
                upstream[m.group(7)] += 1
    print(n)


if __name__ == "__main__":
    main()
