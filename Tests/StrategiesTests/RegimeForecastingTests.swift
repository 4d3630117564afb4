import Foundation
import Linalg
import MetaLearn
@testable import Strategies
import Testing

/// Small features (horizons 1 and 5, 8-day windows) of a synthetic series.
private func regimeTestFeatures(_ prices: [Double]) throws -> ForecastFeatures {
    try ForecastFeatures(prices: prices, configuration: ForecastFeatureConfiguration(window: 8, horizons: [1, 5], waveletLevels: 2,
                                                                                     waveletWindow: 16))
}

/// `prices` with every price after `cut` multiplied by a seeded random factor.
private func scrambled(_ prices: [Double], after cut: Int) -> [Double] {
    var result = prices
    var g = Xoshiro256StarStar(seed: 99)
    for t in (cut + 1)..<prices.count { result[t] = prices[t] * Foundation.exp(0.05 * g.nextNormal()) }
    return result
}

/// A tiny meta-return configuration: width 4, 20-day supports, 5 meta-iterations, a 2-state HMM.
private func tinyMetaReturn(seed: UInt64 = 3, method: SlopeMetaMethod = .maml, regimeInputs: Bool = false) -> MetaReturnConfiguration {
    MetaReturnConfiguration(network: SlopeClassifierConfiguration(horizon: 5, hiddenSize: 4, method: method, supportLength: 20, queryLength: 10,
                                                                  taskStride: 10, metaIterations: 5, metaBatchSize: 2, epochs: 1,
                                                                  batchSize: 32, seed: seed),
                            regimes: RegimeFeatureConfiguration(kind: .hmm, states: 2, restarts: 2, seed: seed), regimeInputs: regimeInputs)
}

/// Two 40-day test blocks from origin 380, training on the last 200 labelled days.
private let tinyRegimeWalkForward = WalkForwardConfiguration(firstTestOrigin: 380, testBlockLength: 40, trainingLength: 200)

/// Expects `body` to throw ``StrategiesError/invalidArgument(component:parameter:message:)`` naming `parameter`
/// (shared by the forecasting suites).
func expectArgument(_ parameter: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    #expect(sourceLocation: sourceLocation) { try body() } throws: { error in
        guard case let StrategiesError.invalidArgument(_, name, _) = error else { return false }
        return name == parameter
    }
}

/// Expects `body` to throw ``StrategiesError/invalidData(component:message:)``.
func expectData(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    #expect(sourceLocation: sourceLocation) { try body() } throws: { error in
        guard case StrategiesError.invalidData = error else { return false }
        return true
    }
}

@Suite struct RegimeForecastingTests {
    /// Tolerance 1e-12 on each row's sum; rows before the first complete row are NaN.
    @Test(arguments: RegimeModelKind.allCases)
    func filteredProbabilitiesAreDistributions(kind: RegimeModelKind) throws {
        let features = try regimeTestFeatures(syntheticPrices(460, seed: 31))
        let model = try ForecastRegimeModel(fitting: features, rows: 100..<300, configuration: RegimeFeatureConfiguration(kind: kind, seed: 4))
        let p = try model.filteredProbabilities(features)
        #expect(p.count == features.count)
        for (t, row) in p.enumerated() {
            #expect(row.count == 3)
            if t < features.firstCompleteRow {
                #expect(row.allSatisfy { $0.isNaN })
            } else {
                #expect(Swift.abs(row.reduce(0, +) - 1) < 1e-12 && row.allSatisfy { $0 >= 0 }, "row \(t)")
            }
        }
    }

    /// Exact: the fit reads its rows only, and row `t` of the filter reads rows up to `t` only; the same seed gives the same bits.
    @Test(arguments: RegimeModelKind.allCases)
    func fitUsesTrainingRowsOnlyAndFilterIsCausal(kind: RegimeModelKind) throws {
        let prices = syntheticPrices(460, seed: 32), cut = 320
        let features = try regimeTestFeatures(prices), changed = try regimeTestFeatures(scrambled(prices, after: cut))
        let settings = RegimeFeatureConfiguration(kind: kind, states: 3, seed: 5)
        let model = try ForecastRegimeModel(fitting: features, rows: 100..<300, configuration: settings)
        let other = try ForecastRegimeModel(fitting: changed, rows: 100..<300, configuration: settings)
        // The same fitted model: identical probabilities on the same data.
        #expect(try model.filteredProbabilities(features).dropFirst(features.firstCompleteRow)
                == other.filteredProbabilities(features).dropFirst(features.firstCompleteRow))
        let p = try model.filteredProbabilities(features), q = try model.filteredProbabilities(changed)
        for t in features.firstCompleteRow...cut { #expect(p[t] == q[t], "row \(t)") }
        #expect(((cut + 1)..<features.count).contains { p[$0] != q[$0] })
        let again = try ForecastRegimeModel(fitting: features, rows: 100..<300, configuration: settings).filteredProbabilities(features)
        #expect(p.dropFirst(features.firstCompleteRow) == again.dropFirst(features.firstCompleteRow))
        // The appended columns are these probabilities.
        let augmented = try features.appendingRegimeProbabilities(settings, fittedOn: 100..<300, seed: 5)
        #expect(augmented.names == features.names + ["regime1", "regime2", "regime3"])
        #expect(augmented.rows[cut].suffix(3).elementsEqual(p[cut]))
        #expect(try features.appendingRegimeProbabilities(nil, fittedOn: 100..<300, seed: 5).names == features.names)
    }

    /// Exact: scrambling every price after day 330 leaves every forecast (models, combination, baselines)
    /// and variance up to day 330 bit-identical with regime-probability inputs.
    @Test(arguments: RegimeModelKind.allCases)
    func regimeFeaturesAddNoLookAhead(kind: RegimeModelKind) throws {
        try expectNoLookAhead { prices in
            let features = try ForecastFeatures(prices: prices, configuration: ForecastFeatureConfiguration(
                window: 6, horizons: [1, 3], waveletLevels: 2, waveletWindow: 16))
            return try ForecastEvaluation.run(
                features: features, models: [.lstmAttention, .tcn],
                forecaster: ForecasterConfiguration(hiddenSize: 4, headCount: 2, epochs: 2, batchSize: 32, ensembleSize: 1, seed: 3),
                walkForward: WalkForwardConfiguration(firstTestOrigin: 300, testBlockLength: 40, trainingLength: 150),
                regimeFeatures: RegimeFeatureConfiguration(kind: kind, states: 2, restarts: 2, seed: 6))
        }
    }

    /// Exact: scrambling every price after day 400 leaves every line's forecast up to day 400 bit-identical.
    @Test(arguments: [SlopeMetaMethod.maml, .reptile])
    func metaReturnForecastsHaveNoLookAhead(method: SlopeMetaMethod) throws {
        let prices = syntheticPrices(460, seed: 33), cut = 400
        let configuration = tinyMetaReturn(method: method, regimeInputs: method == .maml)
        let original = try MetaReturnEvaluation.run(features: try regimeTestFeatures(prices), configuration: configuration,
                                                    walkForward: tinyRegimeWalkForward)
        let changed = try MetaReturnEvaluation.run(features: try regimeTestFeatures(scrambled(prices, after: cut)), configuration: configuration,
                                                   walkForward: tinyRegimeWalkForward)
        #expect(original.origins == changed.origins)
        let upToCut = original.origins.indices.filter { original.origins[$0] <= cut }
        let later = original.origins.indices.filter { original.origins[$0] > cut }
        #expect(!upToCut.isEmpty && !later.isEmpty)
        #expect(Set(original.forecasts.keys) == Set(MetaReturnEvaluation.lineNames(method) + NaiveBaseline.allCases.map(\.rawValue)))
        for (name, values) in original.forecasts {
            for i in upToCut { #expect(values[i] == changed.forecasts[name]![i], "\(name) at \(original.origins[i])") }
            #expect(name == NaiveBaseline.zero.rawValue || later.contains { values[$0] != changed.forecasts[name]![$0] }, "\(name)")
        }
    }

    /// Exact: the same seed gives the same bits, another seed other network forecasts; the report lists the
    /// three lines then the baselines.
    @Test func metaReturnIsDeterministicPerSeed() throws {
        let features = try regimeTestFeatures(syntheticPrices(460, seed: 34))
        let first = try MetaReturnEvaluation.run(features: features, configuration: tinyMetaReturn(seed: 4), walkForward: tinyRegimeWalkForward)
        let again = try MetaReturnEvaluation.run(features: features, configuration: tinyMetaReturn(seed: 4), walkForward: tinyRegimeWalkForward)
        let other = try MetaReturnEvaluation.run(features: features, configuration: tinyMetaReturn(seed: 5), walkForward: tinyRegimeWalkForward)
        #expect(first.forecasts == again.forecasts && first.report == again.report)
        for name in MetaReturnEvaluation.lineNames(.maml) { #expect(first.forecasts[name] != other.forecasts[name], "\(name)") }
        #expect(first.report.scores.map(\.name) == MetaReturnEvaluation.lineNames(.maml) + NaiveBaseline.allCases.map(\.rawValue))
        #expect(first.report.scores.allSatisfy { $0.mse.isFinite && ($0.dieboldMariano != nil) == ($0.kind == .model) })
        #expect(first.regimeTaskCounts.count == 2 && first.regimeTaskCounts.allSatisfy { $0.reduce(0, +) > 0 })
        let comparison = try MetaReturnComparison.run(features: features, configuration: tinyMetaReturn(), walkForward: tinyRegimeWalkForward,
                                                      seeds: [4, 5])
        #expect(comparison.rows.map(\.name) == first.report.scores.map(\.name))
        #expect(comparison.rows[0].pValues.count == 2 && comparison.rows.last!.pValues.isEmpty)
        #expect(comparison.rows.last!.mse.standardDeviation == 0)   // a baseline does not depend on the seed
    }

    /// Exact: every regime task keeps one regime, its lengths, time order and an embargo of the horizon.
    @Test func regimeTasksHonourRegimeChronologyAndEmbargo() throws {
        let origins = Array(100..<400)
        let regimes = origins.map { ($0 / 37) % 3 == 2 ? 1 : 0 }   // alternating runs of two regimes
        let tasks = try RegimeTask.tiling(origins: origins, regimes: regimes, states: 2, supportLength: 30, queryLength: 10,
                                          embargo: 5, horizon: 5, stride: 10)
        #expect(Set(tasks.map(\.regime)) == [0, 1])
        for task in tasks {
            #expect(task.support.count == 30 && task.query.count == 10)
            #expect((task.support + task.query).allSatisfy { regimes[$0 - 100] == task.regime })
            #expect(task.support == task.support.sorted() && task.query == task.query.sorted())
            #expect(task.support.last! + 5 < task.query.first!)
        }
        #expect(zip(tasks, tasks.dropFirst()).allSatisfy { $0.query.last! <= $1.query.last! })
    }

    /// Typed errors naming the parameter for bad settings; invalid data for too little of it.
    @Test func badSettingsThrowTypedErrors() throws {
        let features = try regimeTestFeatures(syntheticPrices(460, seed: 35))
        expectArgument("regimeFeatures") { _ = try RegimeFeatureConfiguration.kind(named: "kmeans") }
        #expect(try RegimeFeatureConfiguration.kind(named: "NONE") == nil && RegimeFeatureConfiguration.kind(named: "Gmm") == .gmm)
        expectArgument("regimeStates") {
            _ = try ForecastRegimeModel(fitting: features, rows: 100..<300, configuration: RegimeFeatureConfiguration(states: 1))
        }
        expectArgument("restarts") {
            _ = try ForecastRegimeModel(fitting: features, rows: 100..<300, configuration: RegimeFeatureConfiguration(restarts: 0))
        }
        expectData { _ = try ForecastRegimeModel(fitting: features, rows: 100..<120, configuration: RegimeFeatureConfiguration()) }
        expectData { _ = try ForecastRegimeModel(fitting: features, rows: 0..<100, configuration: RegimeFeatureConfiguration()) }
        expectArgument("regimeStates") {
            _ = try ForecastEvaluation.run(features: features, models: [.tcn], forecaster: ForecasterConfiguration(ensembleSize: 1),
                                           walkForward: tinyRegimeWalkForward, regimeFeatures: RegimeFeatureConfiguration(states: 7))
        }
        var configuration = tinyMetaReturn()
        configuration.network.horizon = 3
        expectArgument("horizon") { _ = try MetaReturnEvaluation.run(features: features, configuration: configuration, walkForward: tinyRegimeWalkForward) }
        configuration = tinyMetaReturn()
        configuration.regimes.states = 9
        expectArgument("regimeStates") { _ = try MetaReturnEvaluation.run(features: features, configuration: configuration, walkForward: tinyRegimeWalkForward) }
        configuration = tinyMetaReturn()
        configuration.network.innerLearningRate = -1
        expectArgument("innerLearningRate") { _ = try MetaReturnEvaluation.run(features: features, configuration: configuration, walkForward: tinyRegimeWalkForward) }
        expectArgument("seeds") {
            _ = try MetaReturnComparison.run(features: features, configuration: tinyMetaReturn(), walkForward: tinyRegimeWalkForward, seeds: [])
        }
        expectArgument("embargo") {
            _ = try RegimeTask.tiling(origins: Array(0..<100), regimes: Array(repeating: 0, count: 100), states: 1, supportLength: 10,
                                      queryLength: 5, embargo: 4, horizon: 5, stride: 5)
        }
        expectArgument("regimes") {
            _ = try RegimeTask.tiling(origins: Array(0..<100), regimes: Array(repeating: 2, count: 100), states: 2, supportLength: 10,
                                      queryLength: 5, embargo: 5, horizon: 5, stride: 5)
        }
        expectData {
            _ = try RegimeTask.tiling(origins: Array(0..<30), regimes: Array(repeating: 0, count: 30), states: 1, supportLength: 20,
                                      queryLength: 10, embargo: 5, horizon: 5, stride: 5)
        }
        expectData {
            _ = try MetaReturnEvaluation.run(features: features, configuration: tinyMetaReturn(),
                                             walkForward: WalkForwardConfiguration(firstTestOrigin: 380, testBlockLength: 40, trainingLength: 30))
        }
    }
}
