/// An sRGB colour with components in 0...1.
public struct RGB: Sendable, Equatable {
    public var r: Double
    public var g: Double
    public var b: Double

    public init(r: Double, g: Double, b: Double) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// `RGB(hex: 0x1f75cb)`; bits above 0xFFFFFF are ignored.
    public init(hex: UInt32) {
        r = Double((hex >> 16) & 0xFF) / 255
        g = Double((hex >> 8) & 0xFF) / 255
        b = Double(hex & 0xFF) / 255
    }
}

/// The report's chart colours. Blue and red are told apart by people with the common forms of
/// colour blindness by lightness as well as hue, and both reach at least 4.5:1 contrast on white.
public enum ChartPalette {
    /// All requests (WAF) — blue.
    public static let total = RGB(hex: 0x1F75CB)
    /// Anomalous requests (WAF) — red.
    public static let anomalous = RGB(hex: 0xDD2B0E)
    /// Forwarded flows (network policies) — blue.
    public static let forwarded = RGB(hex: 0x1F75CB)
    /// Dropped flows (network policies) — red.
    public static let dropped = RGB(hex: 0xDD2B0E)
    /// Audit-mode flows (a policy would have dropped them) — amber (Okabe–Ito orange), apart from
    /// blue and red in lightness as well as hue.
    public static let audit = RGB(hex: 0xE69F00)
    /// Bars of the top-N charts — violet.
    public static let bar = RGB(hex: 0x6666C4)
    /// The previous window drawn for comparison — grey.
    public static let previous = RGB(hex: 0x868686)

    // Chrome (not public API: the renderer's own greys).
    static let text = RGB(hex: 0x303030)
    static let mutedText = RGB(hex: 0x5E5E5E)
    static let axis = RGB(hex: 0x9A9A9A)
    static let grid = RGB(hex: 0xE8E8E8)
    static let background = RGB(hex: 0xFFFFFF)
}
