import Benchmark
import Foundation
import ThreatCharts
import ThreatModel

// Chart rendering: 2 series × 100,000 points (a 30-day window at ~26 s resolution) drawn to PNG
// and SVG in one `ChartRenderer.render` call, which thins each series to the plot's pixel
// columns first. The bound beside it is the same chart from 2 × 600 points, i.e. the cost of
// drawing alone; the difference is the reduction. Target: <= 40 ms per chart, SVG <= 200 KB.

let window = TimeWindow(from: Date(timeIntervalSince1970: 1_792_540_800),
                        to: Date(timeIntervalSince1970: 1_795_132_800), interval: .hour)

func series(_ count: Int, phase: Double) -> [SeriesPoint<Double>] {
    let start = window.from.timeIntervalSince1970
    let step = Double(window.seconds) / Double(count)
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &+ UInt64(count)
    return (0..<count).map { i in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let noise = Double(state >> 40) / Double(1 << 24)
        let v = 120 + 80 * sin(Double(i) / Double(count) * 60 + phase) + 40 * noise
        return SeriesPoint(Date(timeIntervalSince1970: start + Double(i) * step), v)
    }
}

func chart(points: Int) -> TimeSeriesChart {
    TimeSeriesChart(id: "bench-\(points)", title: "Flows per second", yLabel: "flows/s", window: window,
                    series: [
                        ChartSeries(name: "forwarded", color: RGB(r: 0.2, g: 0.5, b: 0.8), style: .area,
                                    points: series(points, phase: 0)),
                        ChartSeries(name: "dropped", color: RGB(r: 0.85, g: 0.3, b: 0.2), style: .line,
                                    points: series(points, phase: 1.3)),
                    ])
}

let big = chart(points: 100_000)
let small = chart(points: 600)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident],
                                           timeUnits: .microseconds,
                                           maxDuration: .seconds(4), maxIterations: 200)

    Benchmark("chart 2x100k points to PNG+SVG") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ChartRenderer.render(big))
        }
    }
    Benchmark("chart 2x600 points to PNG+SVG") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ChartRenderer.render(small))
        }
    }
    Benchmark("reduce 100k points to 1200 columns") { benchmark in
        let points = big.series[0].points
        for _ in benchmark.scaledIterations {
            blackHole(SeriesReduction.reduce(points, from: window.from, to: window.to, columns: 1200))
        }
    }
    // The SVG size is a property of the output, not a timing: written once for the bench table.
    if let path = ProcessInfo.processInfo.environment["BENCH_SVG_OUT"], let r = try? ChartRenderer.render(big) {
        try? Data(r.svg.utf8).write(to: URL(fileURLWithPath: path))
        try? Data(r.png).write(to: URL(fileURLWithPath: path + ".png"))
    }
}
