// The 4-class slope classifier meta-trained across periods against the same network trained
// conventionally and the majority class, over several seeds, on one embedded daily series.
//
// Protocol (the library's `SlopeClassifierEvaluation`): causal features, 20-day windows; test from
// --test-start to the end in 252-day blocks; before each block the network is meta-trained on period
// tasks (63 support days, an embargo of the horizon, 21 query days) over the last 1500 days whose labels
// are known, and trained conventionally on the same days pooled; at every test day both adapt one SGD
// step on the latest 63 days with known labels and predict the class. Prints accuracy and macro-F1,
// mean ± standard deviation over the seeds.
//
//     swift run -c release MetaSlopeClassifier [--asset SP500] [--horizon 5] [--method maml] [--seeds 5]
import ArgumentParser
import Foundation
import MetaFolio

extension SlopeMetaMethod: ExpressibleByArgument {}

@main
struct MetaSlopeClassifier: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Meta-trained against conventional slope classifier and the majority class, mean ± sd over seeds.")

    @Option(help: "SP500 (sp500-index) or a stock of sp500-stocks (e.g. AAPL).")
    var asset = "SP500"
    @Option(help: "Horizon in days whose slope class is predicted: 1, 5 or 20.")
    var horizon = 5
    @Option(help: "Meta-learning method: \(SlopeMetaMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: SlopeMetaMethod = .maml
    @Option(help: "Seeds 1…N.")
    var seeds = 5
    @Option(name: .customLong("test-start"), help: "First test year (January 1st).")
    var testStart = 2015

    func validate() throws {
        guard [1, 5, 20].contains(horizon) else { throw ValidationError("--horizon must be 1, 5 or 20, not \(horizon)") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be ≥ 1, not \(seeds)") }
    }

    func run() throws {
        let features = try ForecastFeatures.embeddedSP500(asset: asset)
        let first = try features.firstPeriod(inYear: testStart)
        try BLASThreading.setThreadCount(1)
        let clock = ContinuousClock.now
        let comparison = try SlopeClassifierComparison.run(
            features: features, configuration: SlopeClassifierConfiguration(horizon: horizon, method: method),
            walkForward: WalkForwardConfiguration(firstTestOrigin: first), seeds: (1...seeds).map { UInt64($0) },
            progress: { FileHandle.standardError.write(Data(("  " + $0 + "\n").utf8)) })
        print("\(asset), horizon \(horizon) days, \(comparison.count) test days from \(features.dates![first]), "
              + "\(comparison.folds) refits, seeds 1…\(seeds):\n")
        print(comparison.markdownTable)
        let elapsed = (ContinuousClock.now - clock).components
        print(String(format: "\nWall time %.1f s.", Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18))
    }
}
