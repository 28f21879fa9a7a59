import Foundation
import ThreatModel

/// What the scan tells the reader besides the numbers: one evidence line per file (with its
/// digest), and warnings for skipped lines (with their first places as `file:line`), early ends
/// of `.gz` files and lines no environment owns.
extension WAFLogScan {
    func summaries<A, B>(audit: StepResult<A>, access: StepResult<B>) -> (audit: [FileSummary], access: [FileSummary], skipped: Int, warnings: [String]) {
        var warnings: [String] = []
        var skippedTotal = 0
        var auditOut: [FileSummary] = []
        var accessOut: [FileSummary] = []
        var auditSkipped: [(String, SkippedLines)] = []
        var accessSkipped: [(String, SkippedLines)] = []
        for (k, f) in auditFiles.enumerated() {
            let t = TallyFold.file(audit.folds.compactMap { $0.files[k] })
            if let note = audit.notes[k] { warnings.append("\(f.path): \(note)") }
            skippedTotal += t.skipped.total
            auditSkipped.append((f.path, t.skipped))
            let flavors = AuditFlavor.allCases.enumerated().compactMap { i, fl in t.flavors[i] > 0 ? "\(fl.rawValue) \(t.flavors[i])" : nil }
                .joined(separator: ", ")
            auditOut.append(FileSummary(
                path: f.path, sha256: audit.digests[k],
                description: "ModSecurity audit log: \(t.lines) lines, \(t.entries) entries (\(flavors.isEmpty ? "none" : flavors)), "
                    + "\(t.entries - t.outsideWindow) in the window, \(t.skipped.total) skipped"))
        }
        var noUpstream = 0
        for (k, f) in accessFiles.enumerated() {
            let t = TallyFold.file(access.folds.compactMap { $0.files[k] })
            if let note = access.notes[k] { warnings.append("\(f.path): \(note)") }
            noUpstream += t.noUpstream
            skippedTotal += t.skipped.total
            accessSkipped.append((f.path, t.skipped))
            let format = AccessLogLine.Format.allCases.compactMap { f in t.formats[f.rawValue] > 0 ? "\(f.name) \(t.formats[f.rawValue])" : nil }
                .joined(separator: ", ")
            accessOut.append(FileSummary(
                path: f.path, sha256: access.digests[k],
                description: "NGINX access log: \(t.lines) lines (\(format.isEmpty ? "none readable" : format)), "
                    + (accessOwnership ? "\(t.own) of this environment in the window, " : "read for the answer codes only, ")
                    + "\(t.skipped.total) skipped"))
        }
        if let w = Self.skippedWarning("audit log", auditSkipped) { warnings.append(w) }
        if let w = Self.skippedWarning("access log", accessSkipped) { warnings.append(w) }
        if noUpstream > 0 {
            warnings.append("\(noUpstream) access line(s) in the window have no upstream name ([]: rejected before routing, "
                + "e.g. a 400 for a malformed request) and belong to no environment")
        }
        return (auditOut, accessOut, skippedTotal, warnings)
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
            for (line, reason, value) in s.first.sorted(by: { $0.line < $1.line }) where places.count < SkippedLines.keep {
                places.append("\(path):\(line) (\(reason.text)\(value.isEmpty ? "" : ": \"\(SkippedLines.sample(value))\""))")
            }
        }
        return "\(what): \(total) line\(total == 1 ? "" : "s") skipped (\(reasons.joined(separator: ", "))); first at \(places.joined(separator: ", "))"
    }

    /// The audit and access inputs' coverage: files, bytes, lines, parsed, in the window, of this
    /// environment (access lines; audit entries are attributed after the join), skipped by reason
    /// with the first places and values.
    func coverage<A, B>(audit: StepResult<A>, access: StepResult<B>) -> (InputCoverage, InputCoverage) {
        func input(_ name: String, _ files: [LogFileHandle], _ step: StepResult<some Any>) -> (InputCoverage, BlockTally) {
            var c = InputCoverage(name: name, unit: "lines", files: files.count, bytes: 0, read: 0, parsed: 0, inWindow: 0)
            var sum = BlockTally(file: 0, index: 0)
            for (k, f) in files.enumerated() {
                var st = stat()
                if fstat(f.fd, &st) == 0 { c.bytes! += Int(st.st_size) }
                let t = TallyFold.file(step.folds.compactMap { $0.files[k] })
                c.read += t.lines
                for (line, reason, value) in t.skipped.first {
                    c.skip(reason.text, count: 0, place: "\(f.path):\(line)",
                           value: value.isEmpty ? nil : value.withUnsafeBufferPointer { SkipExample.cut(bytes: $0) })
                }
                for r in SkipReason.allCases { c.skip(r.text, count: t.skipped.counts[r.rawValue]) }
                sum.entries += t.entries
                sum.outsideWindow += t.outsideWindow
                for k in t.formats.indices { sum.formats[k] += t.formats[k] }
                sum.own += t.own
                sum.noUpstream += t.noUpstream
                if t.minTime <= t.maxTime {
                    sum.saw(t.minTime)
                    sum.saw(t.maxTime)
                }
            }
            if sum.minTime <= sum.maxTime {
                c.firstTime = Date(timeIntervalSince1970: Double(sum.minTime))
                c.lastTime = Date(timeIntervalSince1970: Double(sum.maxTime))
            }
            return (c, sum)
        }
        var (a, at) = input("audit log", auditFiles, audit)
        a.parsed = at.entries
        a.inWindow = at.entries - at.outsideWindow
        var (l, lt) = input("access log", accessFiles, access)
        l.parsed = lt.formats.reduce(0, +)
        l.inWindow = l.parsed - lt.outsideWindow
        l.attributed = lt.own
        l.unattributed = lt.noUpstream
        l.otherEnvironment = max(0, l.inWindow! - lt.own - lt.noUpstream)
        return (a, l)
    }
}
