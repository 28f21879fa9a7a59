/// The built-in templates: `templates/*.mustache`, embedded in the binary by SwiftPM
/// (`.embedInCode` in Package.swift), so they can never drift from the files.
enum DefaultTemplates {
    static let all: [String: String] = [
        "report.html": String(decoding: PackageResources.report_html_mustache, as: UTF8.self),
        "report.md": String(decoding: PackageResources.report_md_mustache, as: UTF8.self),
    ]
}
