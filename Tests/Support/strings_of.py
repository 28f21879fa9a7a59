#!/usr/bin/env python3
"""Parses a JSON (json module) or XML (xml.etree) file and prints every string in it — JSON keys
and values, XML text, tails and attribute values — as JSON (`strings`, and `lone_surrogates`: how many unpaired surrogates the strings held). Fails when the file does not parse."""
import json, sys
import xml.etree.ElementTree as ET

path, kind = sys.argv[1], sys.argv[2]
strings = []
if kind == "json":
    def walk(v):
        if isinstance(v, str):
            strings.append(v)
        elif isinstance(v, list):
            for x in v: walk(x)
        elif isinstance(v, dict):
            for k, x in v.items():
                strings.append(k)
                walk(x)
    walk(json.load(open(path, encoding="utf-8")))
else:
    for e in ET.parse(path).getroot().iter():
        strings += [s for s in (e.text, e.tail) if s]
        strings += list(e.attrib.values())
lone = sum(1 for s in strings for c in s if 0xD800 <= ord(c) <= 0xDFFF)
strings = ["".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in s) for s in strings]
json.dump({"strings": strings, "lone_surrogates": lone}, sys.stdout, ensure_ascii=True)
