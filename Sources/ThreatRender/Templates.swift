import Foundation
import Mustache

/// Markdown escaping as a Mustache content type: templates that start with
/// `{{% CONTENT_TYPE: MARKDOWN }}` escape every `{{value}}` for Markdown.
struct MarkdownContentType: MustacheContentType {
    func escapeText(_ text: String) -> String { MarkdownEscaper.escape(text) }
}

/// The report templates. Defaults are compiled into the binary (from `templates/`, see
/// `DefaultTemplates.swift` and Package.swift), so an installed binary needs no files beside it; `--templates DIR`
/// or `THREAT_REPORT_TEMPLATES` replaces any of them with `DIR/NAME.mustache`.
public struct TemplateSet: Sendable {
    public static let names = ["report.html", "report.md"]
    public var sources: [String: String]
    /// Where each template came from, for `--verbose`.
    public var origins: [String: String]

    public static var defaults: TemplateSet {
        TemplateSet(sources: DefaultTemplates.all, origins: Dictionary(uniqueKeysWithValues: DefaultTemplates.all.keys.map { ($0, "built-in") }))
    }

    /// Defaults, overridden by `DIR/<name>.mustache` files that exist. A directory that does not
    /// exist is an error naming the flag.
    public static func load(overrideDirectory dir: String?) throws(RenderError) -> TemplateSet {
        var set = TemplateSet.defaults
        guard let dir else { return set }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw .template(name: dir, detail: "--templates: no such folder")
        }
        for name in names {
            let path = dir + "/" + name + ".mustache"
            guard FileManager.default.fileExists(atPath: path) else { continue }
            guard let data = FileManager.default.contents(atPath: path) else { throw .template(name: path, detail: "cannot read") }
            set.sources[name] = String(decoding: data, as: UTF8.self)
            set.origins[name] = path
        }
        return set
    }

    /// The Markdown content type, registered once per process (a static `let` is initialised
    /// once, thread-safely, on first use).
    private static let contentTypes: Void = MustacheContentTypes.register(MarkdownContentType(), named: "MARKDOWN")

    /// Renders a template against a view model.
    public func render(_ name: String, _ object: Any) throws(RenderError) -> String {
        _ = TemplateSet.contentTypes
        guard let source = sources[name] else { throw .template(name: name, detail: "no such template") }
        do {
            let template = try MustacheTemplate(string: source)
            return template.render(object)
        } catch {
            throw .template(name: origins[name] ?? name, detail: "\(error)")
        }
    }
}
