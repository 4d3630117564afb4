// swift-tools-version: 6.1
import PackageDescription

/// Library modules in layer order (see ARCHITECTURE.md). Each depends only on modules before it.
let libraryModules: [(name: String, dependencies: [String])] = [
    ("Linalg", []),
    ("Autodiff", ["Linalg", "CVectorMath"]),
    ("NN", ["Autodiff"]),
    ("MetaLearn", ["NN"]),
    ("Market", ["Linalg"]),
    ("Signals", ["Market"]),
    ("Regimes", ["Linalg", "Market"]),
    ("Portfolio", ["Linalg", "Market"]),
    ("Backtest", ["Portfolio", "Market"]),
    ("Strategies", ["Linalg", "Autodiff", "NN", "MetaLearn", "Market", "Signals", "Regimes", "Backtest"]),
]

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

var targets: [Target] = [
    .systemLibrary(
        name: "COpenBLAS",
        pkgConfig: "openblas",
        providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]
    ),
    // AVX2 + FMA exp/tanh/sigmoid, chosen at run time by Autodiff's vector kernels (plain C11; the
    // instruction set is enabled per function, so the package keeps the x86-64 baseline).
    .target(name: "CVectorMath"),
    .target(
        name: "Linalg",
        dependencies: ["COpenBLAS", .product(name: "RealModule", package: "swift-numerics")],
        swiftSettings: strictSettings
    ),
]
/// Modules that ship data files as SwiftPM resources, with the folder to copy.
let moduleResources: [String: String] = ["Market": "Datasets"]

for module in libraryModules.dropFirst() {
    targets.append(.target(
        name: module.name,
        dependencies: module.dependencies.map { .target(name: $0) },
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
        dependencies: [
            "MetaFolio",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        swiftSettings: strictSettings
    ),
    .executableTarget(
        name: "LinalgTour",
        dependencies: ["Linalg"],
        path: "Examples/LinalgTour",
        resources: [.copy("Resources")],
        swiftSettings: strictSettings
    ),
    .executableTarget(
        name: "BacktestReportDemo",
        dependencies: ["Backtest", "Market"],
        path: "Examples/BacktestReportDemo",
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "LinalgTests",
        dependencies: ["Linalg"],
        resources: [.copy("Fixtures")],
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "AutodiffTests",
        dependencies: ["Autodiff"],
        resources: [.copy("Fixtures")],
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "MarketTests",
        dependencies: ["Market"],
        resources: [.copy("Fixtures")],
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "SignalsTests",
        dependencies: ["Signals", "Market"],
        resources: [.copy("Fixtures")],
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "RegimesTests",
        dependencies: ["Regimes", "Market"],
        resources: [.copy("Fixtures")],
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "PortfolioTests",
        dependencies: ["Portfolio", "Market"],
        resources: [.copy("Fixtures")],
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "NNTests",
        dependencies: ["NN", "Autodiff"],
        resources: [.copy("Fixtures")],
        swiftSettings: strictSettings
    ),
    .executableTarget(
        name: "SinusoidMAML",
        dependencies: ["MetaLearn", "NN", "Autodiff", "Linalg"],
        path: "Examples/SinusoidMAML",
        swiftSettings: strictSettings
    ),
    .executableTarget(
        name: "MonthlyMetaForecast",
        dependencies: ["MetaLearn", "NN", "Autodiff", "Linalg", "Market", "Signals"],
        path: "Examples/MonthlyMetaForecast",
        swiftSettings: strictSettings
    ),
    .executableTarget(
        name: "MetaAllocation",
        dependencies: ["MetaFolio", .product(name: "ArgumentParser", package: "swift-argument-parser")],
        path: "Examples/MetaAllocation",
        swiftSettings: strictSettings
    ),
    .executableTarget(
        name: "EIIETrader",
        dependencies: ["MetaFolio", .product(name: "ArgumentParser", package: "swift-argument-parser")],
        path: "Examples/EIIETrader",
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "MetaLearnTests",
        dependencies: ["MetaLearn", "NN", "Autodiff", "Linalg"],
        resources: [.copy("Fixtures")],
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "BacktestTests",
        dependencies: ["Backtest", "Portfolio", "Market"],
        resources: [.copy("Fixtures")],
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "StrategiesTests",
        dependencies: ["Strategies", "Backtest", "Market", "NN", "Autodiff", "Linalg"],
        resources: [.copy("Fixtures")],
        swiftSettings: strictSettings
    ),
    .testTarget(
        name: "MetaFolioCLITests",
        dependencies: ["metafolio", "Market"],
        swiftSettings: strictSettings
    ),
]

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
