import Foundation
import Testing
import ThreatModel
import ThreatRender
import ThreatSources

/// Every payload of Tests/Fixtures/payloads/ in every untrusted field (URI, User-Agent, Host,
/// client address, rule message and data, drop reason, namespaces and pods of dropped pairs, policy
/// name, namespace, label keys and values, environment name, hosts, report title), rendered in every format and
/// read back by independent parsers: Chromium for HTML, markdown-it-py for Markdown, Python's json
/// and xml.etree for JSON, SARIF, CodeQuality and JUnit.
@Suite("Hostile payloads in every field and format")
struct HostileInputTests {
    /// One report for the whole corpus, built once (39 environments).
    struct Built {
        let fixture: HostileFixture
        let out: String
        let run: Run
    }

    /// Built by the first test that asks; the others (running in parallel) wait for it.
    static let cached = Locked<Built?>(nil)

    static func built() throws -> Built {
        try cached.withLock { cached in
            if let b = cached { return b }
            let fixture = try HostileFixture(payloads: PayloadCorpus.load())
            let out = fixture.dir + "/out"
            let r = try report(["--config", fixture.dir + "/threat-report.yml", "--output", out,
                                "--format", "html,md,json,sarif,junit,codequality,pdf", "--compare", "none", "--fail-on", "none"])
            let b = Built(fixture: fixture, out: out, run: r)
            cached = b
            return b
        }
    }

    static func python(_ script: String, _ args: [String]) throws -> [String: Any] {
        let r = try run("/usr/bin/python3", [repo + "/Tests/Support/" + script] + args)
        try #require(r.code == 0, "\(script) failed: \(r.stderr)")
        return try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
    }

    /// What a renderer shows of a payload: sanitised as documented (docs/security.md) and cut to
    /// the field's length; compared without the ellipsis and surrounding spaces.
    static func shown(_ text: String, max: Int) -> String {
        var s = Sanitize.text(text, max: max)
        if s.hasSuffix("…") { s.removeLast() }
        return collapse(s.trimmingCharacters(in: .whitespaces))
    }

    static func collapse(_ s: String) -> String {
        var out = s
        while out.contains("  ") { out = out.replacingOccurrences(of: "  ", with: " ") }
        return out
    }

    @Test("The report is written in all seven formats from 360 payloads in 15 fields")
    func written() throws {
        let b = try Self.built()
        #expect(b.run.code == 0, "exit \(b.run.code): \(b.run.stderr.suffix(2000))")
        for f in ["report.html", "report.md", "report.json", "report.sarif", "report.junit.xml", "report.codequality.json", "report.pdf"] {
            #expect(FileManager.default.fileExists(atPath: b.out + "/" + f), "\(f)")
        }
        #expect(b.fixture.payloads.count == 360)
        #expect(Set(b.fixture.payloads.map(\.family)).count == 10)
    }

    @Test("HTML in Chromium: no script, on* handler, javascript: URL or embedding element; CSP first in <head>; payloads are text")
    func htmlInChromium() throws {
        let b = try Self.built()
        let dom = try ChromiumTests.dumpDOM(b.out + "/report.html")
        let domFile = b.fixture.dir + "/dom.html"
        try dom.write(toFile: domFile, atomically: true, encoding: .utf8)
        let r = try Self.python("check_dom.py", [domFile])
        let tags = try #require(r["tags"] as? [String: Int])
        #expect(tags["script"] == nil)
        #expect((r["on_attrs"] as? [String]) == [], "\(r["on_attrs"] ?? "")")
        #expect((r["embedding"] as? [String: Int]) == [:], "\(r["embedding"] ?? "")")
        #expect((r["meta_refresh"] as? Int) == 0)
        // The only URLs in the page are its own fragments: the summary's links to #env-…, and the
        // charts' <use xlink:href="#…"> glyph references.
        let urls = try #require(r["urls"] as? [[String: String]])
        #expect(urls.contains { $0["tag"] == "a" })
        for u in urls {
            let ok = (u["tag"] == "a" && u["attr"] == "href" && (u["value"] ?? "").hasPrefix("#env-"))
                || (u["tag"] == "use" && u["attr"] == "xlink:href" && (u["value"] ?? "").range(of: "^#[A-Za-z0-9_-]+$", options: .regularExpression) != nil)
            #expect(ok, "\(u)")
        }
        // Inline SVG only from charts: one <svg> per chart file.
        let svgFiles = try FileManager.default.contentsOfDirectory(atPath: b.out + "/charts").filter { $0.hasSuffix(".svg") }
        #expect(tags["svg"] == svgFiles.count)
        #expect(tags["foreignobject"] == nil && tags["iframe"] == nil && tags["object"] == nil && tags["embed"] == nil)
        let first = try #require(r["head_first"] as? [String: Any])
        #expect(first["tag"] as? String == "meta")
        #expect((first["attrs"] as? [String: String])?["http-equiv"] == "Content-Security-Policy")
        #expect((first["attrs"] as? [String: String])?["content"] == "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
        // Every payload arrives as text: as URI, client, rule message (each environment's top 10),
        // environment names in headings.
        let text = Self.collapse(try #require(r["text"] as? String))
        var missing: [String] = []
        for p in b.fixture.payloads {
            for (field, max) in [("uri", 160), ("client", 64), ("message", 160)] {
                let s = Self.shown(p.text, max: max)
                if !s.isEmpty, !text.contains(s) { missing.append("\(field) \(p.family): \(s.debugDescription)") }
            }
        }
        for name in b.fixture.environmentNames where !text.contains(Self.shown(name, max: 80)) {
            missing.append("environment \(name.debugDescription)")
        }
        #expect(missing.isEmpty, "\(missing.count) not shown as text: \(missing.prefix(20))")
        // Spot checks of exact text.
        #expect(text.contains(#"<<script>alert("WXSS");//<</script>"#))
        #expect(text.contains("[x](javascript:alert(1))"))
        #expect(text.contains("</text><script>alert(1)</script><text>"))
        #expect(text.contains("]]><script>alert(1)</script><![CDATA["))
        #expect(!text.unicodeScalars.contains { $0.value == 0x1B || InvisibleText.isInvisible($0.value) || (0x80...0x9F).contains($0.value) })
    }

    @Test("Markdown under CommonMark + GFM tables: no raw HTML, no links from data, tables keep their shape, payloads are text")
    func markdown() throws {
        let b = try Self.built()
        let r = try Self.python("check_markdown.py", [b.out + "/report.md"])
        #expect((r["html"] as? [String]) == [], "raw HTML: \(String(describing: r["html"]).prefix(500))")
        #expect((r["links"] as? [String]) == [], "links: \(String(describing: r["links"]).prefix(500))")
        // Images only for the charts written beside the report.
        let images = try #require(r["images"] as? [String])
        for src in images {
            #expect(src.hasPrefix("charts/") && src.hasSuffix(".png") && FileManager.default.fileExists(atPath: b.out + "/" + src), "\(src)")
        }
        // Headings: the document's own (title, sections, one per environment and its three sections),
        // and the policy drift block of each environment with a policy source (all but the last three:
        // oddName, hubble and elasticsearch).
        let headings = try #require(r["headings"] as? [String])
        let envs = b.fixture.environmentNames.count
        // One drift heading per environment with a policy source; the environment reading Hubble
        // flow files also has its Suggested policies section.
        #expect(headings.count == 1 + 3 + envs * 4 + (envs - 3) + 1, "\(headings.count) headings")
        #expect(headings.filter { $0.contains("Suggested policies") }.count == 1)
        // Every table: each source line is a row of the header's width, every row rendered.
        let tables = try #require(r["tables"] as? [[String: Any]])
        #expect(tables.count > envs * 4)
        for t in tables {
            let rows = try #require(t["rows"] as? [Int]), pipes = try #require(t["pipes"] as? [Int])
            #expect(rows.count + 1 == (t["source_lines"] as? Int), "table at line \(t["line"] ?? 0): \(rows.count) rows")
            #expect(Set(rows).count == 1, "table at line \(t["line"] ?? 0): cells per row \(rows)")
            #expect(Set(pipes).count == 1, "table at line \(t["line"] ?? 0): pipes per line \(pipes)")
        }
        // The summary has one row per environment.
        let summary = tables.first { ($0["rows"] as? [Int])?.first == 9 }
        #expect((summary?["rows"] as? [Int])?.count == envs + 1)
        let text = Self.collapse(try #require(r["text"] as? String))
        var missing: [String] = []
        for p in b.fixture.payloads {
            let s = Self.shown(p.text, max: 160)
            if !s.isEmpty, !text.contains(s) { missing.append("\(p.family): \(s.debugDescription)") }
        }
        #expect(missing.isEmpty, "\(missing.count) not shown as text: \(missing.prefix(20))")
        // GitLab references stay escaped in the source.
        let md = try String(contentsOfFile: b.out + "/report.md", encoding: .utf8)
        #expect(md.contains(#"\@all \@channel \@here"#))
        #expect(md.contains(##"\#1 \#42 \!7 \~label \%milestone \&epic \$math\$"##))
        #expect(!md.unicodeScalars.contains { $0.value == 0x1B || InvisibleText.isInvisible($0.value) || (0x80...0x9F).contains($0.value) })
    }

    /// Strings of a machine-readable output, as Python's parser reads them.
    static func strings(_ path: String, _ kind: String) throws -> [String] {
        let r = try python("strings_of.py", [path, kind])
        #expect((r["lone_surrogates"] as? Int) == 0, "\(path): unpaired surrogates")
        return try #require(r["strings"] as? [String])
    }

    @Test("JSON keeps every payload exactly; SARIF, CodeQuality and JUnit parse and carry the environment names as text")
    func machineReadable() throws {
        let b = try Self.built()
        let json = try Self.strings(b.out + "/report.json", "json")
        var missing: [String] = []
        let jsonSet = Set(json)
        for p in b.fixture.payloads where p.isUTF8 && !p.text.unicodeScalars.contains(where: { $0.value == 0 }) {
            // URIs and rule messages verbatim (ModSecurity's JSON string decoded), labels and policy names from YAML.
            if !jsonSet.contains(p.text) { missing.append("\(p.family): \(p.text.debugDescription)") }
        }
        #expect(missing.isEmpty, "\(missing.count) not kept verbatim in report.json: \(missing.prefix(10))")
        for name in b.fixture.environmentNames { #expect(jsonSet.contains(name), "environment \(name.debugDescription)") }
        // The undecodable inputs arrive replaced, never raw.
        #expect(json.contains { $0.contains("/\u{FFFD}lone-high") })
        #expect(json.contains { $0.contains("/bytes-\u{FFFD}") })
        #expect(json.contains { $0.contains("/\u{FFFD}Apair-broken") })

        // Findings name environments: each output carries them, sanitised (control characters to
        // spaces or U+FFFD in XML, bidi overrides removed) but otherwise intact.
        let sarif = Self.collapse(try Self.strings(b.out + "/report.sarif", "json").joined(separator: "\n"))
        let cq = Self.collapse(try Self.strings(b.out + "/report.codequality.json", "json").joined(separator: "\n"))
        let junit = Self.collapse(try Self.strings(b.out + "/report.junit.xml", "xml").joined(separator: "\n"))
        for name in b.fixture.environmentNames {
            let s = Self.shown(name, max: 80)
            let x = Self.collapse(XMLEscaper.escape(s).replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&amp;", with: "&"))
            #expect(sarif.contains(s), "SARIF: \(name.debugDescription)")
            #expect(cq.contains(s), "CodeQuality: \(name.debugDescription)")
            #expect(junit.contains(x), "JUnit: \(name.debugDescription)")
        }
        // The hostile SARIF still validates against the official 2.1.0 schema.
        let validate = """
        import json, sys, jsonschema
        v = jsonschema.Draft4Validator(json.load(open(sys.argv[1])))
        errs = list(v.iter_errors(json.load(open(sys.argv[2]))))
        for e in errs[:10]: print("/".join(map(str, e.absolute_path)) + ": " + e.message)
        sys.exit(1 if errs else 0)
        """
        let schema = try run("/usr/bin/python3", ["-c", validate, repo + "/Tests/Fixtures/sarif/sarif-schema-2.1.0.json", b.out + "/report.sarif"])
        #expect(schema.code == 0, "SARIF schema: \(schema.stdout) \(schema.stderr)")
        for out in [sarif, cq, junit] {
            #expect(!out.unicodeScalars.contains { $0.value == 0x1B || InvisibleText.isInvisible($0.value) || (0x80...0x9F).contains($0.value) })
        }
    }

    @Test("Each field carries its environment's payloads into report.json (Foundation's parser), every log line counted")
    func fieldByField() throws {
        let b = try Self.built()
        let doc = try #require(try foundationJSON(b.out + "/report.json") as? [String: Any])
        let envs = try #require(doc["environments"] as? [[String: Any]])
        #expect(envs.count == b.fixture.environments.count + 3)
        for (i, (env, chunk)) in zip(envs, b.fixture.environments).enumerated() {
            let texts = Set(chunk.map(\.text))
            func values(_ section: String, _ list: String, _ key: String) -> Set<String> {
                Set(((env[section] as? [String: Any])?[list] as? [[String: Any]] ?? []).compactMap { $0[key] as? String })
            }
            #expect(env["name"] as? String == b.fixture.environmentNames[i])
            #expect(env["hosts"] as? [String] == [chunk[0].text], "hosts of \(i)")
            // Every audit entry (hostile URI, client, Host, User-Agent, message, data) and every access
            // line (hostile request line and User-Agent) was read and attributed.
            let waf = try #require(env["waf"] as? [String: Any])
            #expect(waf["anomalous_requests"] as? Int == chunk.count, "entries of \(i)")
            #expect(waf["total_requests"] as? Int == chunk.count, "access lines of \(i)")
            #expect(waf["skipped_lines"] as? Int == 0)
            #expect(values("waf", "top_uris", "uri") == texts, "URIs of \(i)")
            #expect(values("waf", "top_clients", "ip") == texts, "clients of \(i)")
            #expect(values("waf", "top_rules", "message") == texts, "messages of \(i)")
            #expect(values("flows", "top_dropped_pairs", "pair") == Set(chunk.map { "\($0.text) → \($0.text)" }), "pairs of \(i)")
            #expect(values("flows", "top_drop_reasons", "reason") == Set(chunk.map { DropReason.canonical($0.text) }), "reasons of \(i)")
            // The first policy names a payload namespace, not the environment's: it is not in this
            // environment, so it is no item; the note that lists it carries the payload namespace and name.
            #expect(values("policies", "items", "name") == Set(chunk.dropFirst().map(\.text)), "policy names of \(i)")
            let items = (env["policies"] as? [String: Any])?["items"] as? [[String: Any]] ?? []
            let notes = (env["policies"] as? [String: Any])?["notes"] as? [String] ?? []
            #expect(notes.contains { $0.hasPrefix("not in this environment") && $0.contains("NetworkPolicy \(chunk[0].text)/\(chunk[0].text) (") },
                    "policy namespace of \(i)")
            // Label keys and values reach the sentences.
            let sentences = items.flatMap { $0["description"] as? [String] ?? [] }.joined(separator: "\n")
            for p in chunk.dropFirst() where !sentences.contains("\(p.text)=\(p.text)") { Issue.record("labels of \(i): \(p.text.debugDescription)") }
        }
        // The undecodable inputs: each replaced by U+FFFD, the rest of the string kept.
        let odd = try #require(envs[envs.count - 3]["waf"] as? [String: Any])
        #expect(odd["anomalous_requests"] as? Int == 4)
        let uris = Set((odd["top_uris"] as? [[String: Any]] ?? []).compactMap { $0["uri"] as? String })
        #expect(uris.contains("/\u{FFFD}lone-high") && uris.contains("/\u{FFFD}lone-low") && uris.contains("/\u{FFFD}Apair-broken"), "\(uris)")
        #expect(uris.contains { $0.hasPrefix("/bytes-\u{FFFD}") && !$0.contains("\u{FFFF}") }, "\(uris)")
        // hubble observe JSON: payload namespaces in the dropped pairs, payload drop reasons canonical.
        let hubble = try #require(envs[envs.count - 2]["flows"] as? [String: Any])
        let pairs = Set((hubble["top_dropped_pairs"] as? [[String: Any]] ?? []).compactMap { $0["pair"] as? String })
        // Hubble pairs name namespace/pod on both sides; the payload is the source namespace and pod.
        #expect(pairs == Set(b.fixture.hubblePayloads.map { "\($0.text)/\($0.text) → \(HostileFixture.hubbleNamespace)/web-1:80/TCP" }), "\(pairs)")
        let reasons = Set((hubble["top_drop_reasons"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String })
        #expect(reasons == Set(b.fixture.hubblePayloads.map { DropReason.canonical($0.text) }), "\(reasons)")
        // Elasticsearch answer: payload rule messages, clients, URIs and engine modes, verbatim.
        let es = try #require(envs.last?["waf"] as? [String: Any])
        let esTexts = Set(b.fixture.esPayloads.map(\.text))
        func esValues(_ list: String, _ key: String) -> Set<String> {
            Set((es[list] as? [[String: Any]] ?? []).compactMap { $0[key] as? String })
        }
        #expect(esValues("top_rules", "message") == esTexts)
        #expect(esValues("top_clients", "ip") == esTexts)
        #expect(esValues("top_uris", "uri") == esTexts)
        #expect(esValues("engine_modes", "mode").isSubset(of: esTexts) && !esValues("engine_modes", "mode").isEmpty, "\(es["engine_modes"] ?? "")")
    }

    @Test("Chart SVG files parse as XML and hold no script, handler, link or embedded document")
    func chartFiles() throws {
        let b = try Self.built()
        let svgs = try FileManager.default.contentsOfDirectory(atPath: b.out + "/charts").filter { $0.hasSuffix(".svg") }
        #expect(svgs.count >= b.fixture.environmentNames.count * 3)
        for name in svgs {
            // File names are slugs: no path separators, dots or markup from environment names.
            #expect(name.range(of: "^[a-z0-9-]+\\.svg$", options: .regularExpression) != nil, "\(name)")
            let svg = try String(contentsOfFile: b.out + "/charts/" + name, encoding: .utf8).lowercased()
            for bad in ["<script", "<foreignobject", "<iframe", "<object", "<embed", "javascript:"] {
                #expect(!svg.contains(bad), "\(name): \(bad)")
            }
            #expect(svg.range(of: #"<[a-z][^>]*\son[a-z]+\s*="#, options: .regularExpression) == nil, "\(name): on* attribute")
        }
        // Every file is well-formed XML (one Python run for all).
        let check = "import sys, xml.etree.ElementTree as E\nfor p in sys.argv[1:]: E.parse(p)\n"
        let r = try run("/usr/bin/python3", ["-c", check] + svgs.map { b.out + "/charts/" + $0 })
        #expect(r.code == 0, "\(r.stderr)")
    }

    @Test("The PDF opens and shows payloads as text")
    func pdf() throws {
        let b = try Self.built()
        let tool = try #require(which("pdftotext"), "poppler-utils is not installed: `make test` installs it")
        let r = try run(tool, [b.out + "/report.pdf", "-"])
        #expect(r.code == 0, "\(r.stderr)")
        #expect(r.stdout.contains("<script>alert(1)</script>"))
        #expect(!r.stdout.unicodeScalars.contains { $0.value == 0x1B || InvisibleText.isInvisible($0.value) })
        // The document title (the report title, a terminal payload) is cleaned in the PDF metadata too.
        let info = try run(try #require(which("pdfinfo")), [b.out + "/report.pdf"])
        let title = info.stdout.split(separator: "\n").first { $0.hasPrefix("Title:") }.map(String.init) ?? ""
        #expect(title.contains("[31mred") && !title.unicodeScalars.contains { $0.value == 0x1B }, "\(title.debugDescription)")
    }
}
