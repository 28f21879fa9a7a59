import Foundation
import ThreatConfig
import ThreatModel
import Yams

/// Reading policy files, folders and standard input.
extension PolicyDocumentLoader {
    /// A file, a folder (searched recursively for *.yaml, *.yml, *.json, sorted by path, hidden files
    /// skipped) or `-` for standard input. One evidence entry per file read; namespace mismatches and
    /// skipped documents are warnings.
    ///
    /// A policy of another namespace (a folder holding several) is left out: it selects other pods,
    /// so it never makes this environment look enforced. A note lists it as "not in this
    /// environment" and a warning names its place. `onlyNamespace`: the input covers many namespaces
    /// by design (`kubectl get … -A -o yaml | threat-report report --policies -`): such policies are
    /// only counted in a note.
    public static func loadPath(_ path: String, namespace: String, onlyNamespace: Bool = false) throws(SourceError) -> SourceOutput<PolicySet> {
        var files: [(path: String, bytes: [UInt8])] = []
        var setNotes: [String] = []
        var warnings: [String] = []
        var isFolder = false
        if path == "-" {
            files.append(("stdin", try StandardInput.bytes()))
        } else {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw .unreadable(path: path, reason: "no such file or folder")
            }
            isFolder = isDir.boolValue
            if isFolder {
                let found = try policyFiles(in: path)
                if found.isEmpty { setNotes.append("no policy files (*.yaml, *.yml, *.json) in \(path)") }
                for f in found { files.append((f, try readFileBytes(f, limit: InputLimits.documentBytes))) }
            } else {
                files.append((path, try readFileBytes(path, limit: InputLimits.documentBytes)))
            }
        }
        var items: [PolicyItem] = []
        var evidence: [EvidenceItem] = []
        var otherNamespaces: [String] = []
        for (file, bytes) in files {
            evidence.append(EvidenceItem(section: "policies", source: file, sha256: SHA256Digest.hex(bytes)))
            let text = String(decoding: bytes, as: UTF8.self)
            guard text.utf8.elementsEqual(bytes) else {
                if !isFolder { throw .malformed(place: file, detail: "not UTF-8 text") }
                warnings.append("\(file): skipped, not UTF-8 text")
                continue
            }
            let r = loadDetailed(text: text, origin: file, namespace: namespace)
            warnings += r.notes
            var elsewhere = 0
            defer { if elsewhere > 0 { setNotes.append("\(elsewhere) polic\(elsewhere == 1 ? "y" : "ies") of other namespaces in \(file) left out") } }
            for p in r.policies {
                // Another namespace's policy applies to other pods: it never counts for this one.
                if p.item.kind != .ciliumClusterwideNetworkPolicy, let ns = p.item.namespace, ns != namespace {
                    elsewhere += onlyNamespace ? 1 : 0
                    if !onlyNamespace {
                        otherNamespaces.append("\(p.item.kind?.rawValue ?? p.item.kindText) \(ns)/\(p.item.name) (\(p.item.origin))")
                        warnings.append("\(p.item.origin): policy '\(p.item.name)' is in namespace '\(ns)', not '\(namespace)': left out")
                    }
                    continue
                }
                items.append(p.item)
            }
        }
        if !otherNamespaces.isEmpty {
            let shown = otherNamespaces.prefix(PolicyDocumentLoader.listedElsewhere).joined(separator: ", ")
            let more = otherNamespaces.count > PolicyDocumentLoader.listedElsewhere
                ? " and \(otherNamespaces.count - PolicyDocumentLoader.listedElsewhere) more" : ""
            setNotes.append("not in this environment (namespace \(namespace)): \(shown)\(more)")
        }
        if items.isEmpty && !files.isEmpty { setNotes.append("no network policies found in \(path == "-" ? "stdin" : path)") }
        return SourceOutput(value: PolicySet(items: items, notes: setNotes), evidence: evidence, warnings: warnings)
    }

    static let fileExtensions: Set<String> = ["yaml", "yml", "json"]
    /// Policies of other namespaces a note names; the rest are counted.
    static let listedElsewhere = 10

    /// Policy files under a folder, recursively, sorted by path; hidden files and folders skipped.
    /// Symlinked files are read (a ConfigMap mounted as a folder is made of symlinks).
    static func policyFiles(in folder: String) throws(SourceError) -> [String] {
        let fm = FileManager.default
        do {
            _ = try fm.contentsOfDirectory(atPath: folder)
        } catch {
            throw .unreadable(path: folder, reason: "cannot list the folder (\(error.localizedDescription))")
        }
        guard let e = fm.enumerator(atPath: folder) else {
            throw .unreadable(path: folder, reason: "cannot list the folder")
        }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            let name = (rel as NSString).lastPathComponent
            if name.hasPrefix(".") {
                e.skipDescendants()
                continue
            }
            guard fileExtensions.contains((name as NSString).pathExtension.lowercased()) else { continue }
            let full = (folder as NSString).appendingPathComponent(rel)
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else { continue }
            out.append(full)
        }
        return out.sorted()
    }
}

/// Standard input, read once per process and shared: every environment of a `--policies -` run
/// (and a `directory: "-"` source in several environments) sees the same bytes.
public enum StandardInput {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: Result<[UInt8], SourceError>?

    /// Standard input, at most `InputLimits.documentBytes`.
    public static func bytes() throws(SourceError) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        if cached == nil {
            let data = (try? FileHandle.standardInput.read(upToCount: InputLimits.documentBytes + 1)) ?? Data()
            cached = data.count <= InputLimits.documentBytes
                ? .success([UInt8](data))
                : .failure(.unreadable(path: "stdin", reason: "larger than \(InputLimits.describe(bytes: InputLimits.documentBytes))"))
        }
        return try cached!.get()
    }

    /// Stands in for standard input (`--replay` of a run that read its policies from stdin).
    public static func preset(_ bytes: [UInt8]) {
        lock.lock()
        cached = .success(bytes)
        lock.unlock()
    }
}
