import Foundation

/// What the scan tells the reader besides the numbers: one evidence line per file (with its
/// digest), and warnings for skipped lines (with their first places as `file:line`), early ends
/// of `.gz` files and lines no environment owns.
extension WAFLogScan {
    func summaries(_ auditItems: [ScanItem], _ auditParts: [AuditPart], _ accessItems: [ScanItem], _ accessParts: [AccessPart],
                   digests: [String]) -> (audit: [FileSummary], access: [FileSummary], skipped: Int, warnings: [String]) {
        let auditDigests = Array(digests.prefix(auditFiles.count)), accessDigests = Array(digests.dropFirst(auditFiles.count))
        var warnings: [String] = []
        var skippedTotal = 0
        var audit: [FileSummary] = []
        var access: [FileSummary] = []
        var auditSkipped: [(String, SkippedLines)] = []
        var accessSkipped: [(String, SkippedLines)] = []
        for (k, f) in auditFiles.enumerated() {
            let parts = zip(auditItems, auditParts).filter { $0.0.file == k }.map(\.1)
            var s = AuditPart()
            var skipped = SkippedLines()
            for p in parts {
                for (l, reason) in p.skipped.first where skipped.first.count < SkippedLines.keep {
                    skipped.first.append((s.lines + l, reason))
                }
                for r in SkipReason.allCases { skipped.counts[r.rawValue] += p.skipped.counts[r.rawValue] }
                s.lines += p.lines
                s.entries += p.entries
                s.outsideWindow += p.outsideWindow
                for (fl, c) in p.flavors { s.flavors[fl, default: 0] += c }
                if let note = p.endNote { warnings.append("\(f.path): \(note)") }
            }
            skippedTotal += skipped.total
            auditSkipped.append((f.path, skipped))
            let flavors = AuditFlavor.allCases.compactMap { fl in s.flavors[fl].map { "\(fl.rawValue) \($0)" } }.joined(separator: ", ")
            audit.append(FileSummary(
                path: f.path, sha256: auditDigests[k],
                description: "ModSecurity JSON audit log: \(s.lines) lines, \(s.entries) entries (\(flavors.isEmpty ? "none" : flavors)), "
                    + "\(s.entries - s.outsideWindow) in the window, \(skipped.total) skipped"))
        }
        var noUpstream = 0
        for (k, f) in accessFiles.enumerated() {
            let parts = zip(accessItems, accessParts).filter { $0.0.file == k }.map(\.1)
            var lines = 0, own = 0, ingress = 0, combined = 0
            var skipped = SkippedLines()
            for p in parts {
                for (l, reason) in p.skipped.first where skipped.first.count < SkippedLines.keep {
                    skipped.first.append((lines + l, reason))
                }
                for r in SkipReason.allCases { skipped.counts[r.rawValue] += p.skipped.counts[r.rawValue] }
                lines += p.lines
                own += p.own
                ingress += p.ingress
                combined += p.combined
                noUpstream += p.noUpstream
                if let note = p.endNote { warnings.append("\(f.path): \(note)") }
            }
            skippedTotal += skipped.total
            accessSkipped.append((f.path, skipped))
            let format = [ingress > 0 ? "ingress-nginx \(ingress)" : nil, combined > 0 ? "combined \(combined)" : nil]
                .compactMap { $0 }.joined(separator: ", ")
            access.append(FileSummary(
                path: f.path, sha256: accessDigests[k],
                description: "NGINX access log: \(lines) lines (\(format.isEmpty ? "none readable" : format)), "
                    + "\(own) of this environment in the window, \(skipped.total) skipped"))
        }
        if let w = Self.skippedWarning("audit log", auditSkipped) { warnings.append(w) }
        if let w = Self.skippedWarning("access log", accessSkipped) { warnings.append(w) }
        if noUpstream > 0 {
            warnings.append("\(noUpstream) access line(s) in the window have no upstream name ([]: rejected before routing, "
                + "e.g. a 400 for a malformed request) and belong to no environment")
        }
        return (audit, access, skippedTotal, warnings)
    }

    /// "audit log: 3 lines skipped (2 not JSON, 1 longer than 1 MiB); first at a.log:12 (not JSON), …"
    static func skippedWarning(_ what: String, _ files: [(String, SkippedLines)]) -> String? {
        let total = files.reduce(0) { $0 + $1.1.total }
        guard total > 0 else { return nil }
        var byReason = [Int](repeating: 0, count: SkipReason.allCases.count)
        for (_, s) in files { for r in SkipReason.allCases { byReason[r.rawValue] += s.counts[r.rawValue] } }
        let reasons = SkipReason.allCases.filter { byReason[$0.rawValue] > 0 }.map { "\(byReason[$0.rawValue]) \($0.text)" }
        var places: [String] = []
        for (path, s) in files {
            for (line, reason) in s.first.sorted(by: { $0.line < $1.line }) where places.count < SkippedLines.keep {
                places.append("\(path):\(line) (\(reason.text))")
            }
        }
        return "\(what): \(total) line\(total == 1 ? "" : "s") skipped (\(reasons.joined(separator: ", "))); first at \(places.joined(separator: ", "))"
    }

}
