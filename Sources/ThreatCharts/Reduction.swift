import Foundation
import ThreatModel

/// Thins a long time series for drawing without changing how it looks.
public enum SeriesReduction {
    /// Keeps the first, min, max and last point per pixel column (about 2 points per column) so a
    /// 100k-point series draws as fast as a short one and looks the same.
    ///
    /// - Points are taken in time order (unsorted input is sorted first).
    /// - Only points inside [from, to] are bucketed; the last point before `from` and the first
    ///   after `to` are kept so a line still runs to the edges of the plot.
    /// - A non-finite value (NaN, ±∞) is a gap: the first one in a column is kept in place so the
    ///   drawn line still breaks there. min/max are taken over finite values only.
    /// - Each column yields at most 4 finite points plus one gap marker, in time order.
    public static func reduce(_ points: [SeriesPoint<Double>], from: Date, to: Date,
                              columns: Int) -> [SeriesPoint<Double>] {
        guard !points.isEmpty else { return [] }
        var sorted = points
        if !zip(points, points.dropFirst()).allSatisfy({ $0.time <= $1.time }) {
            sorted = points.enumerated()
                .sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
                .map(\.element)
        }
        let cols = max(1, columns)
        let start = from.timeIntervalSince1970
        let span = max(0, to.timeIntervalSince1970 - start)
        let end = start + span

        var out: [SeriesPoint<Double>] = []
        out.reserveCapacity(min(sorted.count, cols * 5 + 2))
        var before: SeriesPoint<Double>?
        var after: SeriesPoint<Double>?

        var current = -1
        var first = -1, last = -1, lo = -1, hi = -1, gap = -1

        func flush() {
            guard current >= 0 else { return }
            var keep = [first, lo, hi, last, gap].filter { $0 >= 0 }
            keep.sort()
            var previous = -1
            for k in keep where k != previous {
                out.append(sorted[k])
                previous = k
            }
            first = -1; last = -1; lo = -1; hi = -1; gap = -1
        }

        for (i, p) in sorted.enumerated() {
            let t = p.time.timeIntervalSince1970
            if t < start { before = p; continue }
            if t > end {
                if after == nil { after = p }
                break
            }
            let column = span > 0 ? min(cols - 1, Int((t - start) / span * Double(cols))) : 0
            if column != current {
                flush()
                current = column
            }
            guard p.value.isFinite else {
                if gap < 0 { gap = i }
                continue
            }
            if first < 0 { first = i }
            last = i
            if lo < 0 || p.value < sorted[lo].value { lo = i }
            if hi < 0 || p.value > sorted[hi].value { hi = i }
        }
        flush()
        if let before { out.insert(before, at: 0) }
        if let after { out.append(after) }
        return out
    }
}
