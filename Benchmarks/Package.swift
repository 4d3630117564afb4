// swift-tools-version: 6.1
import PackageDescription

// Benchmarks for MetaFolio, kept in a nested package so the benchmark dependency
// (ordo-one/benchmark and its malloc interposer) never reaches the main package's users.
//
// The root package is referenced by path; `name:` fixes the identity used below, so the
// package resolves whatever the checkout folder is called.

let strictSettings: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "MetaFolioBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "MetaFolio", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // The two CSV packages of the local mirror, timed against MetaFolio's reader in compare/csv.py.
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
        .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    ],
    targets: [
        .target(
            name: "COpenBLASThreads",
            linkerSettings: [.linkedLibrary("openblas")]
        ),
        .target(
            name: "BenchmarkSupport",
            dependencies: ["COpenBLASThreads", .product(name: "Linalg", package: "MetaFolio")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "LinalgBenchmarks",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Linalg", package: "MetaFolio"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/LinalgBenchmarks",
            swiftSettings: strictSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "LinalgTimings",
            dependencies: ["BenchmarkSupport", .product(name: "Linalg", package: "MetaFolio")],
            path: "Sources/LinalgTimings",
            swiftSettings: strictSettings
        ),
        .target(
            name: "AutodiffWorkloads",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Linalg", package: "MetaFolio"),
                .product(name: "Autodiff", package: "MetaFolio"),
                .product(name: "NN", package: "MetaFolio"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "AutodiffBenchmarks",
            dependencies: [
                "AutodiffWorkloads",
                .product(name: "Autodiff", package: "MetaFolio"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/AutodiffBenchmarks",
            swiftSettings: strictSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "AutodiffTimings",
            dependencies: ["AutodiffWorkloads", "BenchmarkSupport", .product(name: "Autodiff", package: "MetaFolio")],
            path: "Sources/AutodiffTimings",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "NNModelTimings",
            dependencies: [
                "AutodiffWorkloads",
                "BenchmarkSupport",
                .product(name: "Autodiff", package: "MetaFolio"),
                .product(name: "NN", package: "MetaFolio"),
            ],
            path: "Sources/NNModelTimings",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "NNTimings",
            dependencies: [
                "AutodiffWorkloads",
                "BenchmarkSupport",
                .product(name: "Linalg", package: "MetaFolio"),
                .product(name: "Autodiff", package: "MetaFolio"),
                .product(name: "NN", package: "MetaFolio"),
            ],
            path: "Sources/NNTimings",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "SignalsRegimesTimings",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Linalg", package: "MetaFolio"),
                .product(name: "Signals", package: "MetaFolio"),
                .product(name: "Regimes", package: "MetaFolio"),
            ],
            path: "Sources/SignalsRegimesTimings",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "PortfolioTimings",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Linalg", package: "MetaFolio"),
                .product(name: "Portfolio", package: "MetaFolio"),
            ],
            path: "Sources/PortfolioTimings",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "BacktestTimings",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Linalg", package: "MetaFolio"),
                .product(name: "Market", package: "MetaFolio"),
                .product(name: "Portfolio", package: "MetaFolio"),
                .product(name: "Backtest", package: "MetaFolio"),
            ],
            path: "Sources/BacktestTimings",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "OLPSTimings",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Backtest", package: "MetaFolio"),
                .product(name: "Market", package: "MetaFolio"),
            ],
            path: "Sources/OLPSTimings",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "MetaLearnTimings",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Linalg", package: "MetaFolio"),
                .product(name: "Autodiff", package: "MetaFolio"),
                .product(name: "NN", package: "MetaFolio"),
                .product(name: "MetaLearn", package: "MetaFolio"),
            ],
            path: "Sources/MetaLearnTimings",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "StrategiesTimings",
            dependencies: [
                "BenchmarkSupport",
                .product(name: "Linalg", package: "MetaFolio"),
                .product(name: "Autodiff", package: "MetaFolio"),
                .product(name: "NN", package: "MetaFolio"),
                .product(name: "Market", package: "MetaFolio"),
                .product(name: "Strategies", package: "MetaFolio"),
            ],
            path: "Sources/StrategiesTimings",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "CSVTimings",
            dependencies: [
                .product(name: "Market", package: "MetaFolio"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
                .product(name: "CSV", package: "CSV.swift"),
            ],
            path: "Sources/CSVTimings",
            swiftSettings: strictSettings
        ),
    ]
)
