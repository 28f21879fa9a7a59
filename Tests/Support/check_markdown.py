#!/usr/bin/env python3
"""Renders Markdown with markdown-it-py (CommonMark + GFM tables and strikethrough) and prints, as
JSON: raw-HTML tokens, link and image targets, each table's shape (cells per row as rendered and
unescaped pipes per source line), the rendered text (one inline token a line) and every code
span's content."""
import json, sys
from markdown_it import MarkdownIt

src = open(sys.argv[1], encoding="utf-8").read()
md = MarkdownIt("commonmark").enable(["table", "strikethrough"])
tokens = md.parse(src)
lines = src.split("\n")
out = {"html": [], "links": [], "images": [], "tables": [], "text": [], "headings": [], "code": []}

def pipes(line):
    n, i, bs = 0, 0, 0
    for c in line:
        if c == "\\":
            bs += 1
            continue
        if c == "|" and bs % 2 == 0:
            n += 1
        bs = 0
    return n

table = None
for i, t in enumerate(tokens):
    if t.type in ("html_block", "html_inline"):
        out["html"].append(t.content)
    if t.type == "heading_open":
        out["headings"].append(tokens[i + 1].content)
    if t.type == "table_open":
        table = {"line": t.map[0] + 1, "rows": [], "source_lines": t.map[1] - t.map[0],
                 "pipes": [pipes(l) for l in lines[t.map[0]:t.map[1]] if l.strip()]}
    elif t.type == "tr_open" and table is not None:
        table["rows"].append(0)
    elif t.type in ("th_open", "td_open") and table is not None:
        table["rows"][-1] += 1
    elif t.type == "table_close":
        out["tables"].append(table)
        table = None
    if t.type == "inline":
        parts = []
        for c in t.children or []:
            if c.type in ("html_inline",):
                out["html"].append(c.content)
            if c.type == "link_open":
                out["links"].append(c.attrs.get("href", ""))
            if c.type == "image":
                out["images"].append(c.attrs.get("src", ""))
            if c.type in ("text", "code_inline"):
                parts.append(c.content)
            if c.type == "code_inline":
                out["code"].append(c.content)
            if c.type in ("softbreak", "hardbreak"):
                parts.append(" ")
        out["text"].append("".join(parts))
out["text"] = "\n".join(out["text"])
json.dump(out, sys.stdout)
