import Foundation

/// File-name-safe, unique slugs for environment names, which come from config and may hold
/// anything: `[a-z0-9-]`, at most 40 characters, `envN` when nothing usable is left.
public enum FileNameSlug {
    public static func slugs(_ names: [String]) -> [String] {
        var seen = Set<String>()
        return names.enumerated().map { i, name in
            var s = String(name.lowercased().unicodeScalars.map { u -> Character in
                (u.value >= 97 && u.value <= 122) || (u.value >= 48 && u.value <= 57) ? Character(u) : "-"
            })
            while s.contains("--") { s = s.replacingOccurrences(of: "--", with: "-") }
            s = s.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
            if s.isEmpty || s.count > 40 { s = "env\(i + 1)" }
            var unique = s
            var k = 2
            while !seen.insert(unique).inserted {
                unique = "\(s)-\(k)"
                k += 1
            }
            return unique
        }
    }
}
