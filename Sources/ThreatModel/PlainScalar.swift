import Foundation
import Yams

/// Whether a plain YAML scalar reads as text, answered without Yams where the answer is sure.
///
/// Yams' `int`, `float`, `bool`, `null` and `timestamp` conversions of a scalar cost regular
/// expressions (the tag is resolved by them) and Foundation string edits, and the policy reader and
/// writer ask all of them for every plain string: the suggestions' check spent a third of its time
/// there. Most strings (labels, names, namespaces) hold a byte that none of those forms can hold,
/// which settles it:
/// - an integer (decimal, `0x`, `0o`, `0b`, `0`-octal, signed, `_`-grouped, sexagesimal `a:b`) and
///   a float (decimal, exponent, hex with `p`, sexagesimal) are made only of digits, `a`–`f`,
///   `A`–`F`, `x`, `X`, `o`, `O`, `b`, `B`, `p`, `P`, `.`, `+`, `-`, `_` and `:`, except the float
///   words (`inf`, `infinity`, `nan`, `snan`, `.inf`, `.nan`, in any case, `_` anywhere since
///   Yams drops it), which hold `inf` or `nan` once the `_` are left out;
/// - a boolean is `true`, `yes`, `on`, `false`, `no` or `off` in any case, a null is empty, `~` or
///   `null` (three spellings);
/// - a timestamp starts with four ASCII digits.
/// Anything else is left to Yams. `PlainScalarTests` checks the shortcut against Yams on generated
/// strings.
public enum PlainScalar {
    /// True only when Yams would read `s`, written plain, as none of int, float, bool, null (and,
    /// with `timestamp`, timestamp).
    public static func surelyText(_ s: String, timestamp: Bool = false) -> Bool {
        var outside = false
        // The last three bytes but `_` (Yams drops them before reading a float), ASCII letters in
        // lower case, for `inf` and `nan`.
        var last: UInt32 = 0
        for b in s.utf8 {
            if !numberByte(b) { outside = true }
            if b == 0x5F { continue }
            last = (last << 8 | UInt32(b >= 0x41 && b <= 0x5A ? b | 0x20 : b)) & 0xFF_FFFF
            if last == 0x69_6E66 || last == 0x6E_616E { return false }  // "inf", "nan"
        }
        guard outside else { return false }
        if timestamp, let first = s.utf8.first, first &- 0x30 < 10 { return false }
        // The boolean and null words are ASCII (no other character lower-cases to their letters).
        return s.utf8.count > 5 || !words.contains(s.lowercased())
    }

    private static let words: Set<String> = ["true", "yes", "on", "false", "no", "off", "null", "~", ""]

    @inline(__always)
    private static func numberByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x61...0x66, 0x41...0x46: true  // digits, a-f, A-F
        case 0x78, 0x58, 0x6F, 0x4F, 0x62, 0x42, 0x70, 0x50: true  // x X o O b B p P
        case 0x2E, 0x2B, 0x2D, 0x5F, 0x3A: true  // . + - _ :
        default: false
        }
    }

    /// Whether a plain scalar reads back as the string itself: Yams' conversions all give nil.
    public static func readsAsText(_ node: Node, timestamp: Bool = false) -> Bool {
        if let s = node.scalar, surelyText(s.string, timestamp: timestamp) { return true }
        return yamsReadsAsText(node, timestamp: timestamp)
    }

    /// The same for `s` written plain, its Yams node built only when the shortcut cannot tell.
    public static func readsAsText(_ s: String, timestamp: Bool = false) -> Bool {
        surelyText(s, timestamp: timestamp) || yamsReadsAsText(Node(s), timestamp: timestamp)
    }

    private static func yamsReadsAsText(_ node: Node, timestamp: Bool) -> Bool {
        node.int == nil && node.float == nil && node.bool == nil && node.null == nil && (!timestamp || node.timestamp == nil)
    }
}
