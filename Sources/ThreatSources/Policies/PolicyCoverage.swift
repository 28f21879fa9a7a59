import Foundation
import ThreatModel
import ThreatPolicy

/// Counts what a policy source read (docs/data-quality.md): files, bytes, documents and the
/// network-policy objects in them; parsed (valid YAML) and invalid (broken YAML or against the
/// schema, reported as such, not lost); of this
/// environment (its namespace, or cluster-wide) or of another namespace; skipped with the first
/// places.
struct PolicyCoverage {
    var input: InputCoverage

    init(name: String, files: Int?) {
        input = InputCoverage(name: name, unit: "objects", files: files, bytes: files == nil ? nil : 0, read: 0, parsed: 0,
                              attributed: 0)
        input.documents = 0
    }

    mutating func add(_ r: PolicyLoadResult, namespace: String) {
        input.documents! += r.documents
        for p in r.policies {
            input.read += 1
            // A broken document is still a policy the report shows (invalid, with its problem):
            // counted as invalid, not as a loss; only when nothing parses is the input unreadable.
            if !p.item.valid { input.invalid += 1 }
            if p.item.description == [PolicyDocumentLoader.unparsedSentence] { continue }
            input.parsed += 1
            if p.item.kind != .ciliumClusterwideNetworkPolicy, let ns = p.item.namespace, ns != namespace {
                input.otherEnvironment += 1
            } else {
                input.attributed! += 1
            }
        }
    }

    /// A whole file or answer that could not be read as text.
    mutating func skipFile(_ reason: String, place: String) {
        input.read += 1
        input.skip(reason, place: place)
    }
}
