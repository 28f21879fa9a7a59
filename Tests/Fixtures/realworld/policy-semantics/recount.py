#!/usr/bin/env python3
"""Independent recount of the transcribed expectations (a second reading, not the Swift parser).

Prints: kubernetes-e2e cases, ordered pod pairs (self excluded), pairs expected denied;
then cilium-docs files and stated connections (allow / deny)."""
import os, sys

here = os.path.dirname(os.path.abspath(__file__))

def matches(pattern, pod):
    if pattern == "*":
        return True
    pns, pname = pattern.split("/")
    ns, name = pod.split("/")
    return pns == ns and pname in ("*", name)

cases, block = [], None
for line in open(os.path.join(here, "kubernetes-e2e", "expectations.txt")):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    word, _, rest = line.partition(" ")
    if word == "case":
        block = {"pods": [], "rules": []}
        cases.append(block)
    elif word == "pods":
        block["pods"] = rest.split()
    elif word in ("allow", "deny"):
        src, _, dst = rest.split()
        block["rules"].append((src, dst, word == "allow"))
pairs = denied = 0
for c in cases:
    for a in c["pods"]:
        for b in c["pods"]:
            if a == b:
                continue
            ok = True
            for src, dst, allow in c["rules"]:
                if matches(src, a) and matches(dst, b):
                    ok = allow
            pairs += 1
            denied += 0 if ok else 1
print(f"kubernetes-e2e cases={len(cases)} pairs={pairs} denied={denied}")

files = allow = deny = 0
for line in open(os.path.join(here, "cilium-docs", "expectations.txt")):
    w = line.split()
    if not w or w[0].startswith("#"):
        continue
    if w[0] == "file":
        files += 1
    elif w[0] == "expect":
        allow += w[-1] == "allow"
        deny += w[-1] == "deny"
print(f"cilium-docs files={files} allow={allow} deny={deny}")
