#!/usr/bin/env python3
"""Reads a DOM as serialised by `chromium --dump-dom` and prints, as JSON, what could run script
or load something: script elements, on* attributes, URL attributes and their schemes, embedding
elements, meta refresh, the first element in <head>, and the text of the page (one text node a line)."""
import json, sys
from html.parser import HTMLParser

URL_ATTRS = {"href", "src", "xlink:href", "action", "formaction", "data", "poster", "background", "srcdoc", "srcset", "ping", "codebase", "cite", "manifest"}
EMBEDDING = {"script", "iframe", "frame", "object", "embed", "applet", "foreignobject", "base", "form", "img", "link", "video", "audio", "source", "portal", "math"}

class P(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.r = {"tags": {}, "on_attrs": [], "urls": [], "meta_refresh": 0, "head_first": None, "text": [], "svg": 0}
        self.in_head = False
        self.skip = 0
    def handle_starttag(self, tag, attrs):
        self.r["tags"][tag] = self.r["tags"].get(tag, 0) + 1
        if self.in_head and self.r["head_first"] is None:
            self.r["head_first"] = {"tag": tag, "attrs": dict(attrs)}
        if tag == "head":
            self.in_head = True
        if tag in ("style", "script", "title"):
            self.skip += 1
        for k, v in attrs:
            k = k.lower()
            if k.startswith("on"):
                self.r["on_attrs"].append(f"{tag} {k}")
            if k in URL_ATTRS or k.endswith(":href"):
                self.r["urls"].append({"tag": tag, "attr": k, "value": v or ""})
            if tag == "meta" and k == "http-equiv" and (v or "").strip().lower() == "refresh":
                self.r["meta_refresh"] += 1
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("style", "script", "title"):
            self.skip -= 1
    def handle_endtag(self, tag):
        if tag == "head":
            self.in_head = False
        if tag in ("style", "script", "title"):
            self.skip = max(0, self.skip - 1)
    def handle_data(self, data):
        if not self.skip:
            self.r["text"].append(data)

p = P()
with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
    p.feed(f.read())
p.close()
r = p.r
r["embedding"] = {t: n for t, n in r["tags"].items() if t in EMBEDDING}
r["text"] = "\n".join(r["text"])
json.dump(r, sys.stdout)
