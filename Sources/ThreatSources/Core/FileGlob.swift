import Foundation

/// Expands the paths and globs of a file source: sorted, deduplicated; a pattern matching nothing
/// or a missing file is an error naming it.
public enum FileGlob {
    public static func expand(_ patterns: [String]) throws(SourceError) -> [String] {
        var out: [String] = []
        for p in patterns {
            if p.contains("*") || p.contains("?") || p.contains("[") {
                var g = glob_t()
                defer { globfree(&g) }
                guard glob(p, 0, nil, &g) == 0, g.gl_pathc > 0 else { throw .unreadable(path: p, reason: "no file matches this pattern") }
                var matches: [String] = []
                for i in 0..<Int(g.gl_pathc) { if let c = g.gl_pathv[i] { matches.append(String(cString: c)) } }
                out += matches.sorted()
            } else {
                guard FileManager.default.fileExists(atPath: p) else { throw .unreadable(path: p, reason: "no such file") }
                out.append(p)
            }
        }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }
    }
}
