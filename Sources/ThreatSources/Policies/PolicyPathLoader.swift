import Foundation
import ThreatModel
import ThreatPolicy

extension PolicyDocumentLoader {
    /// `loadDetailed(text:…)` read until `deadline` passes (then `cutOff` is set).
    public static func loadDetailed(text: String, origin: String, lineOffset: Int = 0,
                                    namespace: String? = nil, deadline: RunDeadline) -> PolicyLoadResult {
        loadDetailed(text: text, origin: origin, lineOffset: lineOffset, namespace: namespace, stop: { deadline.passed })
    }

    /// A file, a folder (searched recursively for *.yaml, *.yml, *.json, sorted by path, hidden files
    /// skipped) or `-` for standard input. One evidence entry per file read; namespace mismatches and
    /// skipped documents are warnings.
    ///
    /// A policy of another namespace (a folder holding several) is left out: it selects other pods,
    /// so it never makes this environment look enforced. A note lists it as "not in this
    /// environment" and a warning names its place. `onlyNamespace`: the input covers many namespaces
    /// by design (`kubectl get … -A -o yaml | threat-report report --policies -`): such policies are
    /// only counted in a note.
    ///
    /// `deadline`: checked between files and between documents. When it passes, the policies read
    /// so far are returned with the cause in `incomplete` (the section is partial); a single input
    /// (a file, a FIFO, stdin) that did not finish reading in time throws the deadline as its cause.
    public static func loadPath(_ path: String, namespace: String, onlyNamespace: Bool = false,
                                deadline: RunDeadline = .none) throws(SourceError) -> SourceOutput<PolicySet> {
        var files: [String] = []
        var setNotes: [String] = []
        var isFolder = false
        if path != "-" {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                throw .unreadable(path: path, reason: "no such file or folder")
            }
            isFolder = isDir.boolValue
        }
        var items: [PolicyItem] = []
        var evidence: [EvidenceItem] = []
        var warnings: [String] = []
        var otherNamespaces: [String] = []
        var incomplete: [String] = []
        var read = 0
        func cutOff(_ what: String) {
            incomplete.append(deadline.cause(while: "reading the policies of \(path == "-" ? "stdin" : path)") + ": " + what)
        }
        if isFolder {
            let listed = try policyFiles(in: path, deadline: deadline)
            files = listed.files
            if listed.cutOff { cutOff("the folder was listed only in part (\(files.count) policy files found)") }
            if files.isEmpty, !listed.cutOff { setNotes.append("no policy files (*.yaml, *.yml, *.json) in \(path)") }
        } else {
            files = [path]
        }
        var cover = PolicyCoverage(name: "policy manifests", files: files.count)
        for file in files {
            // A single input (a file, a FIFO, stdin) is read and fails with its own cause.
            if isFolder, deadline.passed {
                cutOff("\(read) of \(files.count) files read\(incomplete.isEmpty ? "" : " (of those listed)")")
                break
            }
            let bytes: [UInt8]
            do {
                bytes = file == "-" ? try StandardInput.bytes(deadline: deadline)
                    : try readFileBytes(file, limit: InputLimits.documentBytes, deadline: deadline)
            } catch {
                // One of many files did not finish in time: keep what the others gave.
                if isFolder, deadline.passed {
                    cutOff("\(read) of \(files.count) files read, \(file) was not finished")
                    break
                }
                // A folder's entry that is no regular file (a FIFO, a device) is named and skipped.
                if isFolder, case let .unreadable(_, reason) = error {
                    warnings.append("\(file): skipped, \(reason)")
                    cover.skipFile(reason, place: file)
                    continue
                }
                throw error
            }
            read += 1
            let origin = file == "-" ? "stdin" : file
            evidence.append(EvidenceItem(section: "policies", source: origin, sha256: SHA256Digest.hex(bytes)))
            cover.input.bytes! += bytes.count
            let text = String(decoding: bytes, as: UTF8.self)
            guard text.utf8.elementsEqual(bytes) else {
                if !isFolder { throw .malformed(place: origin, detail: "not UTF-8 text") }
                warnings.append("\(origin): skipped, not UTF-8 text")
                cover.skipFile("not UTF-8 text", place: origin)
                continue
            }
            let r = loadDetailed(text: text, origin: origin, namespace: namespace, deadline: deadline)
            cover.add(r, namespace: namespace)
            warnings += r.notes
            var elsewhere = 0
            for p in r.policies {
                // Another namespace's policy applies to other pods: it never counts for this one.
                if p.item.kind != .ciliumClusterwideNetworkPolicy, let ns = p.item.namespace, ns != namespace {
                    if onlyNamespace {
                        elsewhere += 1
                    } else {
                        otherNamespaces.append("\(p.item.kind?.rawValue ?? p.item.kindText) \(ns)/\(p.item.name) (\(p.item.origin))")
                        warnings.append("\(p.item.origin): policy '\(p.item.name)' is in namespace '\(ns)', not '\(namespace)': left out")
                    }
                    continue
                }
                items.append(p.item)
            }
            if elsewhere > 0 { setNotes.append("\(elsewhere) polic\(elsewhere == 1 ? "y" : "ies") of other namespaces in \(origin) left out") }
            if r.cutOff {
                cutOff("\(read - 1) of \(files.count) files read whole, \(origin) only in part (\(r.policies.count) documents' policies)")
                break
            }
        }
        if !otherNamespaces.isEmpty {
            let shown = otherNamespaces.prefix(listedElsewhere).joined(separator: ", ")
            let more = otherNamespaces.count > listedElsewhere ? " and \(otherNamespaces.count - listedElsewhere) more" : ""
            setNotes.append("not in this environment (namespace \(namespace)): \(shown)\(more)")
        }
        if items.isEmpty && !files.isEmpty && incomplete.isEmpty {
            setNotes.append("no network policies found in \(path == "-" ? "stdin" : path)")
        }
        return SourceOutput(value: PolicySet(items: items, notes: setNotes), evidence: evidence, warnings: warnings, incomplete: incomplete,
                            coverage: SourceCoverage(source: "directory", inputs: [cover.input]))
    }

    static let fileExtensions: Set<String> = ["yaml", "yml", "json"]
    /// Policies of other namespaces a note names; the rest are counted.
    static let listedElsewhere = 10

    /// Policy files under a folder, recursively, sorted by path; hidden files and folders skipped.
    /// Symlinked files are read (a ConfigMap mounted as a folder is made of symlinks). The listing
    /// (quick: names only) looks at `deadline` every 1,000 entries and stops there (`cutOff`).
    static func policyFiles(in folder: String, deadline: RunDeadline = .none) throws(SourceError) -> (files: [String], cutOff: Bool) {
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
        var seen = 0
        while let rel = e.nextObject() as? String {
            seen += 1
            if seen % 1000 == 0, deadline.passed { return (out.sorted(), true) }
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
        return (out.sorted(), false)
    }
}

/// Standard input, read once per process and shared: every environment of a `--policies -` run
/// (and a `directory: "-"` source in several environments) sees the same bytes. The read waits
/// for data with `poll`, so a stdin that never closes ends at the run's deadline.
public enum StandardInput {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var cached: Result<[UInt8], SourceError>?

    /// Standard input, at most `InputLimits.documentBytes`, read before `deadline`.
    public static func bytes(deadline: RunDeadline = .none) throws(SourceError) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        if cached == nil {
            var st = stat()
            let regular = fstat(0, &st) == 0 && st.st_mode & S_IFMT == S_IFREG
            do {
                cached = .success(try readDescriptor(0, name: "stdin", limit: InputLimits.documentBytes, deadline: deadline, regular: regular))
            } catch {
                cached = .failure(error)
            }
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
