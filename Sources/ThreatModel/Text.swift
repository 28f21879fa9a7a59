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
