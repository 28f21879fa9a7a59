import Foundation
import Testing
import ThreatModel
@testable import ThreatCharts
import TestSupport

@Suite struct ReductionTests {
    let start = nov19, end = nov19.addingTimeInterval(1000)

    func noisy(_ n: Int) -> [SeriesPoint<Double>] {
        var rng = SplitMix(seed: 42)
        return (0..<n).map { i in
            SeriesPoint(start.addingTimeInterval(Double(i) * 1000 / Double(n)), Double(rng.next() % 10_000))
        }
    }

    @Test func hundredThousandPointsShrinkToAFewPerColumn() {
        let points = noisy(100_000)
        let reduced = SeriesReduction.reduce(points, from: start, to: end, columns: 500)
        #expect(reduced.count <= 4 * 500)
        #expect(reduced.count >= 2 * 500)
        #expect(zip(reduced, reduced.dropFirst()).allSatisfy { $0.time <= $1.time })
    }

    @Test func keepsFirstLastAndEveryColumnsMinAndMax() {
        let points = noisy(20_000)
        let columns = 100
        let reduced = SeriesReduction.reduce(points, from: start, to: end, columns: columns)
        #expect(reduced.first == points.first)
        #expect(reduced.last == points.last)
        #expect(reduced.map(\.value).max() == points.map(\.value).max())
        #expect(reduced.map(\.value).min() == points.map(\.value).min())
        func column(_ p: SeriesPoint<Double>) -> Int {
            min(columns - 1, Int(p.time.timeIntervalSince(start) / 1000 * Double(columns)))
        }
        let original = Dictionary(grouping: points, by: column)
        let kept = Dictionary(grouping: reduced, by: column)
        #expect(Set(original.keys) == Set(kept.keys))
        for (c, pts) in original {
            let k = kept[c] ?? []
            #expect(k.map(\.value).max() == pts.map(\.value).max(), "column \(c) max")
            #expect(k.map(\.value).min() == pts.map(\.value).min(), "column \(c) min")
            #expect(k.first == pts.first && k.last == pts.last, "column \(c) ends")
            #expect(k.count <= 4)
        }
    }

    @Test func shortSeriesAreKeptWhole() {
        let points = noisy(50)
        #expect(SeriesReduction.reduce(points, from: start, to: end, columns: 400) == points)
        #expect(SeriesReduction.reduce([], from: start, to: end, columns: 400).isEmpty)
    }

    @Test func pointsOutsideTheRangeAreDroppedExceptTheNeighbours() {
        let inside = noisy(10)
        let outside = Array((1...5).map { SeriesPoint(start.addingTimeInterval(Double(-$0 * 10)), 1e6) }.reversed())
        let later = (1...5).map { SeriesPoint(end.addingTimeInterval(Double($0 * 10)), -1e6) }
        let reduced = SeriesReduction.reduce(outside + inside + later, from: start, to: end, columns: 400)
        #expect(reduced == [outside.last!] + inside + [later.first!])
    }

    @Test func gapsSurviveReduction() {
        var points = noisy(10_000)
        points[5_000].value = .nan
        let reduced = SeriesReduction.reduce(points, from: start, to: end, columns: 50)
        #expect(reduced.contains { $0.value.isNaN })
        #expect(reduced.filter { $0.value.isNaN }.count == 1)
        let allNaN = points.map { SeriesPoint($0.time, Double.nan) }
        #expect(SeriesReduction.reduce(allNaN, from: start, to: end, columns: 50).count == 50)
    }

    @Test func unsortedInputAndDegenerateRanges() {
        let points = noisy(1_000)
        let reduced = SeriesReduction.reduce(points.reversed(), from: start, to: end, columns: 100)
        #expect(reduced == SeriesReduction.reduce(points, from: start, to: end, columns: 100))
        let same = SeriesReduction.reduce(points, from: start, to: start, columns: 100)
        #expect(same == [points[0], points[1]])  // the point at `from`, then the first one after
        #expect(SeriesReduction.reduce(points, from: start, to: end, columns: 0).count <= 5)
    }
}

