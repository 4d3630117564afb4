// swift-tools-version: 6.1
import PackageDescription

/// Library modules in layer order (see Docs/ARCHITECTURE.md), each with exactly the modules its
/// sources import (`Scripts/check_dependencies.py`, run by `make test`, keeps the two equal). Each
/// depends only on modules before it.
let libraryModules: [(name: String, dependencies: [String])] = [
    ("Linalg", ["COpenBLAS", "RealModule"]),
    ("Autodiff", ["Linalg", "CVectorMath", "COpenBLAS"]),
    ("NN", ["Autodiff", "Linalg"]),
    ("MetaLearn", ["NN", "Autodiff", "Linalg"]),
    ("Market", ["Linalg", "RealModule"]),
    ("Signals", ["Market", "COpenBLAS", "RealModule"]),
    ("Regimes", ["Linalg", "Market", "RealModule"]),
    ("Portfolio", ["Linalg", "Market", "RealModule"]),
    ("Backtest", ["Portfolio", "Market", "Linalg"]),
    ("Strategies", ["Linalg", "Autodiff", "NN", "MetaLearn", "Market", "Signals", "Regimes", "Portfolio", "Backtest"]),
]

/// Test targets: the modules they import, and whether they ship `Fixtures/` (peer outputs as JSON);
/// those that do also get the shared `FixtureSupport`.
let testModules: [(name: String, dependencies: [String], fixtures: Bool)] = [
    ("LinalgTests", ["Linalg"], true),
    ("AutodiffTests", ["Autodiff", "Linalg"], true),
    ("MarketTests", ["Market", "Linalg"], true),
    ("SignalsTests", ["Signals", "Market", "Linalg"], true),
    ("RegimesTests", ["Regimes", "Market", "Linalg"], true),
    ("PortfolioTests", ["Portfolio", "Market", "Linalg"], true),
    ("NNTests", ["NN", "Autodiff", "Linalg"], true),
    ("MetaLearnTests", ["MetaLearn", "NN", "Autodiff", "Linalg"], true),
    ("BacktestTests", ["Backtest", "Portfolio", "Market", "Linalg"], true),
    ("StrategiesTests", ["Strategies", "Backtest", "Portfolio", "MetaLearn", "Market", "Signals", "NN", "Autodiff", "Linalg"], true),
    // Runs the built `metafolio` executable as a child process.
    ("MetaFolioCLITests", ["metafolio", "Market"], false),
]

/// Example executables (`Examples/<name>`) and the modules they import.
let examples: [(name: String, dependencies: [String], resources: Bool)] = [
    ("LinalgTour", ["Linalg"], true),
    ("BacktestReportDemo", ["Backtest", "Market"], false),
    ("SinusoidMAML", ["MetaLearn", "NN", "Autodiff", "Linalg", "ArgumentParser"], false),
    ("MonthlyMetaForecast", ["MetaLearn", "NN", "Autodiff", "Linalg", "Market", "Signals", "ArgumentParser"], false),
    ("MetaAllocation", ["MetaFolio", "ArgumentParser"], false),
    ("EIIETrader", ["MetaFolio", "ArgumentParser"], false),
    ("MetaSlopeClassifier", ["MetaFolio", "ArgumentParser"], false),
    ("ForecastWeights", ["MetaFolio", "ArgumentParser"], false),
    ("MetaRegimeForecaster", ["MetaFolio", "ArgumentParser"], false),
]

/// Modules provided by external packages, by the name sources import.
let externalModules: [String: Target.Dependency] = [
    "RealModule": .product(name: "RealModule", package: "swift-numerics"),
    "ArgumentParser": .product(name: "ArgumentParser", package: "swift-argument-parser"),
]

func dependencies(_ names: [String]) -> [Target.Dependency] {
    names.map { externalModules[$0] ?? .byName(name: $0) }
}

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

/// Modules that ship data files as SwiftPM resources, with the folder to copy.
let moduleResources: [String: String] = ["Market": "Datasets"]

var targets: [Target] = [
    .systemLibrary(
        name: "COpenBLAS",
        pkgConfig: "openblas",
        providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
    ),
    // AVX2 + FMA exp/tanh/sigmoid, chosen at run time by Autodiff's vector kernels (plain C11; the
    // instruction set is enabled per function, so the package keeps the x86-64 baseline).
    .target(name: "CVectorMath"),
]
for module in libraryModules {
    targets.append(.target(
        name: module.name,
        dependencies: dependencies(module.dependencies),
        resources: moduleResources[module.name].map { [.copy($0)] },
        swiftSettings: strictSettings
    ))
}
targets += [
    .target(
        name: "MetaFolio",
        dependencies: libraryModules.map { .target(name: $0.name) },
        swiftSettings: strictSettings
    ),
    .executableTarget(
        name: "metafolio",
        dependencies: dependencies(["MetaFolio", "Backtest", "ArgumentParser"]),
        swiftSettings: strictSettings
    ),
    // Shared by every test target: fixture loading and its error (Tests/FixtureSupport).
    .target(
        name: "FixtureSupport",
        path: "Tests/FixtureSupport",
        swiftSettings: strictSettings
    ),
]
for example in examples {
    targets.append(.executableTarget(
        name: example.name,
        dependencies: dependencies(example.dependencies),
        path: "Examples/\(example.name)",
        resources: example.resources ? [.copy("Resources")] : nil,
        swiftSettings: strictSettings
    ))
}
for test in testModules {
    targets.append(.testTarget(
        name: test.name,
        dependencies: dependencies(test.dependencies + (test.fixtures ? ["FixtureSupport"] : [])),
        resources: test.fixtures ? [.copy("Fixtures")] : nil,
        swiftSettings: strictSettings
    ))
}

// The fuzz targets' functions (see Fuzz/README.md): built with the package, so the test suite
// replays the committed corpora through them.
targets.append(.target(
    name: "FuzzTargets",
    dependencies: ["MetaFolio", "Market", "NN", "Backtest"],
    path: "Fuzz/Targets",
    swiftSettings: strictSettings
))
targets.append(.testTarget(
    name: "FuzzCorpusTests",
    dependencies: ["FuzzTargets"],
    swiftSettings: strictSettings
))
// libFuzzer entry points: they have no `main` (libFuzzer's), so they exist only in the build
// `Fuzz/fuzz.sh` makes with METAFOLIO_FUZZ=1 and `--sanitize=fuzzer --sanitize=address`.
if Context.environment["METAFOLIO_FUZZ"] != nil {
    for name in ["FuzzCSV", "FuzzSafeTensors", "FuzzConfig", "FuzzReportFormat"] {
        targets.append(.executableTarget(
            name: name,
            dependencies: ["FuzzTargets"],
            path: "Fuzz/Entries/\(name)",
            swiftSettings: strictSettings
        ))
    }
}

let package = Package(
    name: "MetaFolio",
    products: libraryModules.map { .library(name: $0.name, targets: [$0.name]) } + [
        .library(name: "MetaFolio", targets: ["MetaFolio"]),
        .executable(name: "metafolio", targets: ["metafolio"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: targets
)
