import Foundation
import ThreatModel
import ThreatPolicy

/// The typed policies of a file or folder, for the commands that evaluate them (`policy simulate`).
public struct PolicyModelFiles: Sendable {
    public var models: [NetworkPolicyModel] = []
    /// Invalid policies and skipped documents, each naming its place; invalid policies are left out
    /// of the evaluation.
    public var problems: [String] = []
    public var files = 0

    /// A manifest file, a folder (its *.yaml, *.yml and *.json files, as `report --policies` reads
    /// them), or `-` for standard input.
    public static func load(_ path: String, deadline: RunDeadline = .none) throws(SourceError) -> PolicyModelFiles {
        var out = PolicyModelFiles()
        var isDir: ObjCBool = false
        if path != "-", !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
            throw .unreadable(path: path, reason: "no such file or folder")
        }
        let files = isDir.boolValue ? try PolicyDocumentLoader.policyFiles(in: path, deadline: deadline).files : [path]
        out.files = files.count
        for file in files {
            let bytes = file == "-" ? try StandardInput.read(deadline: deadline)
                : try readFileBytes(file, limit: InputLimits.documentBytes, deadline: deadline)
            let text = String(decoding: bytes, as: UTF8.self)
            let origin = file == "-" ? "stdin" : file
            guard text.utf8.elementsEqual(bytes) else { throw .unreadable(path: origin, reason: "not UTF-8 text") }
            let loaded = PolicyDocumentLoader.loadDetailed(text: text, origin: origin, deadline: deadline)
            out.problems += loaded.notes
            for p in loaded.policies {
                if let m = p.model, p.item.valid {
                    out.models.append(m)
                } else {
                    let why = p.item.problems.prefix(3).map(\.description).joined(separator: "; ")
                    out.problems.append("\(p.item.origin): \(p.item.kindText) \(p.item.name) is invalid and left out: \(why)")
                }
            }
        }
        return out
    }
}
