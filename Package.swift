// swift-tools-version:6.0
import PackageDescription
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// The module split follows the data flow:
// config -> sources -> model/analysis -> charts -> renderers -> output (ThreatReportKit) -> CLI.
// Policy semantics (ThreatPolicy) sit beside the model: sources load manifests into it, the
// `policy` commands edit and explain with it. docs/architecture.md draws the graph.
let package = Package(
    name: "threat-report",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "threat-report", targets: ["threat-report"]),
        .library(name: "ThreatReportKit", targets: ["ThreatReportKit"]),
        // For the micro-benchmarks in Benchmarks/ (a separate package).
        .library(name: "ThreatCharts", targets: ["ThreatCharts", "ThreatModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", exact: "2.1.1"),
        .package(url: "https://github.com/apple/swift-log", exact: "1.16.2"),
    ],
    targets: [
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        // Header only: a cache prefetch hint (Sources/CPrefetch/shim.h).
        .systemLibrary(name: "CPrefetch"),
        .target(name: "ThreatModel", dependencies: ["CCrypto", .product(name: "Yams", package: "Yams")]),
        .target(name: "ThreatConfig", dependencies: ["ThreatModel", .product(name: "Yams", package: "Yams")]),
        .target(name: "ThreatPolicy", dependencies: ["ThreatModel", .product(name: "Yams", package: "Yams")]),
        .target(name: "ThreatSources", dependencies: [
            "ThreatModel", "ThreatConfig", "ThreatPolicy", "CCurl", "CZlib", "CPrefetch", .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "ThreatAnalysis", dependencies: ["ThreatModel"]),
        .target(name: "ThreatCharts", dependencies: ["ThreatModel", "CCairo", "CZlib"]),
        // The default templates are compiled into the binary from templates/ (BuiltInTemplates is a
        // link to it), so an installed binary needs no files beside it.
        .target(name: "ThreatRender", dependencies: [
            "ThreatModel", "ThreatCharts", "CCairo", .product(name: "Mustache", package: "swift-mustache"),
        ], resources: [
            .embedInCode("BuiltInTemplates/report.html.mustache"),
            .embedInCode("BuiltInTemplates/report.md.mustache"),
        ]),
        .target(name: "ThreatReportKit", dependencies: [
            "ThreatModel", "ThreatConfig", "ThreatPolicy", "ThreatSources", "ThreatAnalysis", "ThreatCharts", "ThreatRender",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "threat-report", dependencies: [
            "ThreatModel", "ThreatConfig", "ThreatPolicy", "ThreatSources", "ThreatRender", "ThreatReportKit",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // What the test targets share (a seeded generator); built with them, in no product.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "ThreatModelTests", dependencies: ["ThreatModel", "TestSupport"]),
        .testTarget(name: "ThreatConfigTests", dependencies: ["ThreatConfig"]),
        .testTarget(name: "ThreatPolicyTests", dependencies: ["ThreatPolicy", "TestSupport"]),
        .testTarget(name: "ThreatSourcesTests", dependencies: ["ThreatSources", "ThreatPolicy", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "ThreatAnalysisTests", dependencies: ["ThreatAnalysis"]),
        .testTarget(name: "ThreatChartsTests", dependencies: ["ThreatCharts", "CCairo", "TestSupport"]),
        .testTarget(name: "ThreatRenderTests", dependencies: ["ThreatRender", "ThreatAnalysis"]),
        .testTarget(name: "ThreatReportKitTests", dependencies: ["ThreatReportKit", "ThreatPolicy"]),
        .testTarget(name: "EndToEndTests", dependencies: ["ThreatReportKit", "ThreatPolicy"]),
    ]
)

// libFuzzer targets (docs/fuzzing.md), only with THREAT_REPORT_FUZZ=1: they must be built with
// `-sanitize=fuzzer,address` (libFuzzer supplies `main`), so a plain `swift build` leaves them out.
// scripts/fuzz.sh builds and runs them.
// FuzzSupport runs decoded statistics on through the findings and the charts, as the report does.
if let flag = getenv("THREAT_REPORT_FUZZ"), String(cString: flag) == "1" {
    package.targets.append(.target(name: "FuzzSupport", dependencies: ["ThreatModel", "ThreatAnalysis", "ThreatCharts", "ThreatRender"],
                                   path: "Sources/Fuzz/FuzzSupport"))
    for name in ["FuzzAuditLine", "FuzzAccessLine", "FuzzHubbleLine", "FuzzPrometheusAnswer",
                 "FuzzMsearchAnswer", "FuzzPolicyYAML", "FuzzConfig", "FuzzErrorLine"] {
        package.targets.append(.executableTarget(
            name: name, dependencies: ["ThreatSources", "ThreatPolicy", "ThreatConfig", "ThreatModel", "FuzzSupport"], path: "Sources/Fuzz/\(name)"))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
