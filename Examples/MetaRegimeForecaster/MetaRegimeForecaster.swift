// A return forecaster meta-trained across regime tasks against the same network meta-trained across
// period tasks and trained conventionally, beside the naive baselines, over several seeds.
//
// Protocol (the library's `MetaReturnEvaluation`): causal features, 20-day windows; test from
// --test-start to the end in 252-day blocks; before each block a regime model (HMM of the trailing
// 20-day return and log volatility) is fitted on the last 1500 days whose targets are known, each of
// those days takes its most probable filtered state, and the MLP is meta-trained on tasks of one regime
// (63 support days, an embargo of the horizon, 21 query days), on period tasks, or pooled; at every test
// day each network adapts on the latest 63 days with known targets and forecasts the forward log return
// (the pooled network is also scored without that step, as pooled-unadapted).
// Prints MSE, direction accuracy and the Diebold–Mariano test against the best baseline, mean ± sd over seeds.
//
//     swift run -c release MetaRegimeForecaster [--asset SP500] [--horizon 5] [--method maml] [--seeds 3]
import ArgumentParser
import Foundation
import MetaFolio

extension SlopeMetaMethod: ExpressibleByArgument {}
extension RegimeModelKind: ExpressibleByArgument {}

@main
struct MetaRegimeForecaster: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Regime-task against period-task meta-learning and pooled training of a return forecaster, mean ± sd over seeds.")

    @Option(help: "SP500 (sp500-index) or a stock of sp500-stocks (e.g. AAPL).")
    var asset = "SP500"
    @Option(help: "Forecast horizon in days: 1, 5 or 20.")
    var horizon = 5
    @Option(help: "Meta-learning method: \(SlopeMetaMethod.allCases.map(\.rawValue).joined(separator: ", ")).")
    var method: SlopeMetaMethod = .maml
    @Option(name: .customLong("regime-model"), help: "Regime model: hmm or gmm.")
    var regimeModel: RegimeModelKind = .hmm
    @Option(help: "Regime states, 2…6.")
    var states = 3
    @Option(name: .customLong("adaptation-steps"), help: "SGD steps in the inner loop and at each test day.")
    var adaptationSteps = 1
    @Flag(name: .customLong("regime-inputs"), help: "Also append the filtered regime probabilities to the inputs.")
    var regimeInputs = false
    @Option(help: "Seeds 1…N.")
    var seeds = 3
    @Option(name: .customLong("test-start"), help: "First test year (January 1st).")
    var testStart = 2015

    func validate() throws {
        guard [1, 5, 20].contains(horizon) else { throw ValidationError("--horizon must be 1, 5 or 20, not \(horizon)") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be ≥ 1, not \(seeds)") }
        guard (2...6).contains(states) else { throw ValidationError("--states must be in 2…6, not \(states)") }
        guard adaptationSteps >= 1 else { throw ValidationError("--adaptation-steps must be ≥ 1, not \(adaptationSteps)") }
    }

    func run() throws {
        let features = try ForecastFeatures.embeddedSP500(asset: asset)
        let first = try features.firstPeriod(inYear: testStart)
        try BLASThreading.setThreadCount(1)
        let clock = ContinuousClock.now
        let configuration = MetaReturnConfiguration(
            network: SlopeClassifierConfiguration(horizon: horizon, method: method, adaptationSteps: adaptationSteps),
            regimes: RegimeFeatureConfiguration(kind: regimeModel, states: states), regimeInputs: regimeInputs)
        let comparison = try MetaReturnComparison.run(
            features: features, configuration: configuration, walkForward: WalkForwardConfiguration(firstTestOrigin: first),
            seeds: (1...seeds).map { UInt64($0) }, progress: { FileHandle.standardError.write(Data(("  " + $0 + "\n").utf8)) })
        print("\(asset), horizon \(horizon) days, \(comparison.count) scored test days from \(features.dates![first]), "
              + "\(comparison.folds) refits, \(regimeModel.rawValue) with \(states) states\(regimeInputs ? " (also as inputs)" : ""), "
              + "seeds 1…\(seeds); DM against \(comparison.bestBaseline):\n")
        print(comparison.markdownTable)
        let elapsed = (ContinuousClock.now - clock).components
        print(String(format: "\nWall time %.1f s.", Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18))
    }
}
