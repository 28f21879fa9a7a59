// swift-tools-version:6.1
import PackageDescription

// In-process micro-benchmarks (ordo-one/benchmark), kept in their own package so the normal
// `swift build` / `swift test` of threat-report never compiles the harness.
//
//   swift package --package-path Benchmarks benchmark            (or `make bench`)
//
// `traits: ["MallocInterposer"]` enables the malloc statistics backend and leaves the
// Linux/Swift 6.3 ARC runtime interposer trait off (that package is not needed here).
let package = Package(
    name: "threat-report-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(name: "threat-report", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "ChartRendering",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ThreatCharts", package: "threat-report"),
            ],
            path: "Benchmarks/ChartRendering",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
