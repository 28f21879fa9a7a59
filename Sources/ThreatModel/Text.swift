import Foundation

/// Whole percents, as GitLab's UI showed them.
public enum Percent {
    public static func whole(_ ratio: Double) -> String {
        guard ratio.isFinite else { return "0%" }
        let p = (ratio * 100).rounded()
        if p == 0, ratio > 0 { return "<1%" }
        return "\(Int(p))%"
    }
}

public enum WindowText {
    /// The window length as `kubectl --since` / `hubble --since` take it.
    public static func since(_ w: TimeWindow) -> String {
        let s = w.seconds
        if s % 3600 == 0 { return "\(s / 3600)h" }
        if s % 60 == 0 { return "\(s / 60)m" }
        return "\(s)s"
    }

    /// "24 hours", "30 minutes", "7 days".
    public static func human(_ w: TimeWindow) -> String {
        let s = w.seconds
        if s % 86400 == 0, s >= 2 * 86400 { return "\(s / 86400) days" }
        if s % 3600 == 0 { return s == 3600 ? "1 hour" : "\(s / 3600) hours" }
        if s % 60 == 0 { return "\(s / 60) minutes" }
        return "\(s) seconds"
    }
}

/// Characters that change how text looks without being seen: bidi embeddings, overrides,
/// isolates and marks (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C), and zero-width and
/// invisible characters (U+200B–U+200D, U+2060–U+2064, U+FEFF). They can hide or reorder what a
/// reader sees (a rule that reads as a comment, a URI that looks like another), so every format
/// and the terminal treat them alike: stripped from shown text, escaped in JSON and YAML, refused
/// where a manifest is printed unchanged.
public enum InvisibleText {
    public static func isBidi(_ v: UInt32) -> Bool {
        (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) || v == 0x200E || v == 0x200F || v == 0x061C
    }

    public static func isInvisible(_ v: UInt32) -> Bool {
        isBidi(v) || (0x200B...0x200D).contains(v) || (0x2060...0x2064).contains(v) || v == 0xFEFF
    }
}
