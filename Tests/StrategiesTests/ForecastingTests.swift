import Autodiff
import Foundation
import Linalg
import MetaLearn
import NN
import Signals
@testable import Strategies
import Testing

/// A seeded random walk of `count` prices with a weak momentum, so models have something to fit (shared by the forecasting suites).
func syntheticPrices(_ count: Int, seed: UInt64) -> [Double] {
    var g = Xoshiro256StarStar(seed: seed)
    var prices = [100.0], previous = 0.0
    for _ in 1..<count {
        let r = 0.2 * previous + 0.01 * g.nextNormal()
        prices.append(prices.last! * Foundation.exp(r))
        previous = r
    }
    return prices
}

/// Small features and a two-fold walk-forward on `prices`, every model with a two-member ensemble.
func smallEvaluation(_ prices: [Double], seed: UInt64 = 3, uncertainty: ForecastUncertainty = .ensemble,
                     combination: ForecastCombination = .inverseVariance) throws -> ForecastEvaluation {
    let features = try ForecastFeatures(prices: prices, configuration: ForecastFeatureConfiguration(
        window: 6, horizons: [1, 3], waveletLevels: 2, waveletWindow: 16))
    let configuration = ForecasterConfiguration(hiddenSize: 4, headCount: 2, epochs: 2, batchSize: 32, ensembleSize: 2, seed: seed,
                                                validationFraction: 0.2, uncertainty: uncertainty)
    return try ForecastEvaluation.run(features: features, models: ForecastModel.allCases, forecaster: configuration,
                                      walkForward: WalkForwardConfiguration(firstTestOrigin: 300, testBlockLength: 40, trainingLength: 150,
                                                                            combination: combination))
}

/// Expects the reported ensemble weights to sum to 1 at every origin and to reproduce the `ensemble`
/// line (1e-12 relative).
func expectWeightsReproduceTheEnsemble(_ evaluation: ForecastEvaluation) throws {
    for k in evaluation.reports.indices {
        let weights = try evaluation.ensembleWeights(horizonIndex: k)
        for i in evaluation.origins.indices {
            #expect(Swift.abs(weights.reduce(0) { $0 + $1[i] } - 1) < 1e-12)
            let combined = zip(evaluation.models, weights).reduce(0.0) { $0 + $1.1[i] * evaluation.forecasts[$1.0]![i][k] }
            #expect(Swift.abs(combined - evaluation.forecasts["ensemble"]![i][k]) < 1e-12 * Swift.max(1, Swift.abs(combined)))
        }
    }
}

/// Runs `evaluate` on a synthetic series and on the same series with every price after day 330 scrambled,
/// and expects every forecast and variance up to day 330 bit-identical and later ones changed.
/// Returns both evaluations.
@discardableResult
func expectNoLookAhead(_ evaluate: ([Double]) throws -> ForecastEvaluation) throws -> (original: ForecastEvaluation, changed: ForecastEvaluation) {
    let prices = syntheticPrices(380, seed: 11)
    let cut = 330   // inside the first test block (300…339); the second (340…379) refits on scrambled data
    var scrambled = prices
    var g = Xoshiro256StarStar(seed: 99)
    for t in (cut + 1)..<prices.count { scrambled[t] = prices[t] * Foundation.exp(0.05 * g.nextNormal()) }
    let original = try evaluate(prices), changed = try evaluate(scrambled)
    #expect(original.origins == changed.origins)
    let upToCut = original.origins.indices.filter { original.origins[$0] <= cut }
    let later = original.origins.indices.filter { original.origins[$0] > cut }
    #expect(!upToCut.isEmpty && !later.isEmpty)
    for (name, forecasts) in original.forecasts {
        let other = try #require(changed.forecasts[name])
        for i in upToCut { #expect(forecasts[i] == other[i], "\(name) at origin \(original.origins[i])") }
        // Forecasts after the cut see scrambled windows (and, in the next block, a refit); zero sees nothing.
        #expect(name == NaiveBaseline.zero.rawValue || later.contains { forecasts[$0] != other[$0] },
                "\(name) ignores the data after the cut")
    }
    for (name, variances) in original.variances {
        for i in upToCut { #expect(variances[i] == changed.variances[name]![i]) }
    }
    return (original, changed)
}

/// Decodes a fixture tensor `{shape, data}`.
private struct FixtureTensor: Decodable {
    let shape: [Int]
    let data: [Double]
    func tensor() throws -> Tensor<Double> { try Tensor(shape: shape, scalars: data) }
}

private struct ForecastingFixture: Decodable {
    struct Model: Decodable {
        let name: String
        let state: [String: FixtureTensor]
        let input: FixtureTensor
        let output: FixtureTensor
        /// With `gradients`: the cotangent `c` of `L = ⟨output, c⟩`.
        let cotangent: FixtureTensor?
        /// `∂L/∂θ` by state-dict key (the CNN-LSTM and U-Net cases).
        let gradients: [String: FixtureTensor]?
    }
    struct DM: Decodable {
        let horizon: Int
        let first: [Double]
        let second: [Double]
        let statistic: Double
        let pValue: Double
    }
    let models: [Model]
    let dieboldMariano: [DM]
}

@Suite struct ForecastingTests {
    @Test func scramblingTheFutureLeavesEarlierForecastsBitIdentical() throws {
        try expectNoLookAhead { try smallEvaluation($0) }
    }

    /// 1e-12 relative: under every combination rule, the reported weights sum to 1 and reproduce the `ensemble` line.
    @Test(arguments: [ForecastCombination.equal, .stacked])
    func ensembleWeightsReproduceTheCombination(combination: ForecastCombination) throws {
        let evaluation = try smallEvaluation(syntheticPrices(380, seed: 5), combination: combination)
        #expect(evaluation.combination == combination)
        try expectWeightsReproduceTheEnsemble(evaluation)
    }

    @Test func sameSeedSameBitsOtherSeedOtherForecasts() throws {
        let prices = syntheticPrices(380, seed: 5)
        let first = try smallEvaluation(prices), second = try smallEvaluation(prices)
        #expect(first.forecasts == second.forecasts && first.variances == second.variances)
        let other = try smallEvaluation(prices, seed: 4)
        #expect(other.forecasts["tcn"] != first.forecasts["tcn"])
        #expect(other.forecasts["zero"] == first.forecasts["zero"])
        // Every score is finite and the baselines carry no test.
        for report in first.reports {
            for score in report.scores {
                #expect(score.mse.isFinite && score.mae.isFinite)
                #expect((score.dieboldMariano == nil) == (score.kind == .baseline))
                #expect((score.intervalCoverage90 == nil) == (score.kind == .baseline))
                if let coverage = score.intervalCoverage90 { #expect((0...1).contains(coverage)) }
            }
        }
        // The ensemble weights reproduce the combined forecast; the attention has one distribution per origin.
        #expect(first.models == ForecastModel.allCases.map(\.rawValue))
        try expectWeightsReproduceTheEnsemble(first)
        #expect(throws: StrategiesError.self) { try first.ensembleWeights(horizonIndex: first.reports.count) }
        let attention = try #require(first.attention)
        #expect(attention.count == first.origins.count && attention.allSatisfy { $0.count == 6 && Swift.abs($0.reduce(0, +) - 1) < 1e-12 })
    }

    @Test func dieboldMarianoMatchesNumpy() throws {
        let fixture = try fixtures.load("forecasting", as: ForecastingFixture.self)
        for c in fixture.dieboldMariano {
            let result = try DieboldMariano.test(c.first, c.second, horizon: c.horizon)
            #expect(Swift.abs(result.statistic - c.statistic) <= 1e-10 * Swift.abs(c.statistic), "h = \(c.horizon)")
            #expect(Swift.abs(result.pValue - c.pValue) <= 1e-12 + 1e-9 * c.pValue, "h = \(c.horizon)")
        }
        // By hand, h = 1: d = 1, −3, 3; mean 1/3; γ₀ = (4 + 100 + 64)/9/3 = 56/9; statistic (1/3)/√(γ₀/3).
        let hand = try DieboldMariano.test([1, 1, 2], [0, 2, 1], horizon: 1)
        let expected = (1.0 / 3) / (56.0 / 27).squareRoot()
        #expect(Swift.abs(hand.statistic - expected) < 1e-14)
    }

    @Test func baselinesOnATinySeries() throws {
        let logPrices = [0, 0.1, 0.05, 0.2, 0.15, 0.3]
        func forecast(_ b: NaiveBaseline) throws -> Double {
            try b.forecasts(logPrices: logPrices, horizon: 1, trainingOrigins: [1, 2, 3], origins: [4])[0]
        }
        #expect(try forecast(.zero) == 0)
        // Forward returns at 1, 2, 3: −0.05, 0.15, −0.05.
        #expect(Swift.abs(try forecast(.historicalMean) - 0.05 / 3) < 1e-15)
        #expect(Swift.abs(try forecast(.lastValue) - (-0.05)) < 1e-15)
        // OLS of (−0.05, 0.15, −0.05) on the trailing (0.1, −0.05, 0.15): slope −0.0233…/0.02166…, at x = −0.05.
        let slope = -0.07 / 3 / (0.065 / 3), expected = 0.05 / 3 + slope * (-0.05 - 0.2 / 3)
        #expect(Swift.abs(try forecast(.ar1) - expected) < 1e-12)
        #expect(throws: StrategiesError.self) { try NaiveBaseline.zero.forecasts(logPrices: logPrices, horizon: 1, trainingOrigins: [5], origins: [5]) }
    }

    @Test func slopeScoresAndInverseVarianceCombination() throws {
        let scores = ForecastScoring.classification([.up, .up, .down, .upStrong], [.up, .down, .down, .up])
        #expect(scores.accuracy == 0.5)
        #expect(Swift.abs(scores.macroF1 - (0.5 + 2.0 / 3 + 0) / 3) < 1e-15)
        #expect(ForecastScoring.slopeClass(logReturn: Foundation.log(1.03), horizon: 5, strong: 0.005) == .upStrong)
        #expect(ForecastScoring.slopeClass(logReturn: -0.001, horizon: 1, strong: 0.002) == .down)
        // Exact: z₀.₉₅ = 1.6449, so with σ = 1 the errors 1.6 and −1.64 are inside, 1.65 and 3 outside, and a
        // zero variance covers only the exact hit.
        #expect(try ForecastScoring.intervalCoverage([0, 0, 0, 0, 1, 2], variance: [1, 1, 1, 1, 0, 0], [1.6, -1.64, 1.65, 3, 1, 2.1]) == 3.0 / 6)
        #expect(try ForecastScoring.intervalCoverage([0], variance: [4], [-3.28], level: 0.9) == 1)
        let combined = ForecastEvaluation.inverseVarianceCombination([try Forecast(mean: [[1]], variance: [[1]]), try Forecast(mean: [[4]], variance: [[2]])])
        // Weights (2/3, 1/3); σ = (1, √2): variance ((2 + √2)/3)², the perfectly correlated errors' variance.
        let sigma = (2 + 2.0.squareRoot()) / 3
        #expect(Swift.abs(combined.mean[0][0] - 2) < 1e-15 && Swift.abs(combined.variance[0][0] - sigma * sigma) < 1e-15)
    }

    /// Outputs within `1e-12 + 1e-10·|e|` of PyTorch's, parameter gradients (where the fixture has them)
    /// within `1e-11 + 1e-9·|e|`, and central differences over the input and every parameter.
    @Test func networksMatchPyTorchAndTheirGradientsFiniteDifferences() throws {
        let fixture = try fixtures.load("forecasting", as: ForecastingFixture.self)
        var g = Xoshiro256StarStar(seed: 0)
        #expect(Set(fixture.models.map(\.name)) == Set(ForecastModel.allCases.map(\.rawValue)))
        for case_ in fixture.models {
            let state = try case_.state.mapValues { try $0.tensor() }
            let input = try case_.input.tensor()
            /// The loaded network's output, its parameter gradients against the fixture's (`nil` when it has
            /// none) and a finite-difference check over the input and every parameter.
            func evaluate<M: UnaryModule>(_ blank: M) throws -> ([Double], Bool?, GradientCheck.Report) where M.Scalar == Double {
                var model = blank
                try model.loadStateDict(state)
                let loaded = model
                var gradientsMatch: Bool?
                if let expected = case_.gradients, let cotangent = try case_.cotangent?.tensor() {
                    let named = loaded.namedParameters()
                    let variables = named.map { $0.value.requiringGradient() }
                    let applied = try loaded.replacingParameters(variables)
                    let gradients = gradient(of: (applied(input) * cotangent).sum(), wrt: variables)
                    gradientsMatch = Set(named.map(\.key)) == Set(expected.keys) && zip(named, gradients).allSatisfy { entry, computed in
                        zip(computed.scalars, expected[entry.key]!.data).allSatisfy { Swift.abs($0 - $1) <= 1e-11 + 1e-9 * Swift.abs($1) }
                    }
                }
                return (loaded(input).scalars, gradientsMatch, GradientCheck.firstOrder(at: [input] + loaded.parameters()) { xs in
                    try! loaded.replacingParameters(Array(xs.dropFirst()))(xs[0])
                })
            }
            let (output, gradientsMatch, check) = switch case_.name {
            case "lstm-attention": try evaluate(RecurrentAttentionRegressor<Double>(inputSize: 3, hiddenSize: 4, headCount: 2, outputSize: 2, using: &g))
            case "tcn": try evaluate(TemporalConvolutionalRegressor<Double>(features: 3, channels: 4, outputs: 2, using: &g))
            case "cnn-lstm": try evaluate(CNNLSTM<Double>(inputSize: 3, convolutionChannels: [4], hiddenSize: 4, outputSize: 2, using: &g))
            case "unet": try evaluate(UNetRegressor<Double>(features: 3, window: 6, baseChannels: 2, channels: 4, outputs: 2, using: &g))
            default: try evaluate(TransformerRegressor<Double>(features: 3, modelDimension: 4, headCount: 2, outputs: 2, using: &g))
            }
            let expected = case_.output.data
            #expect(zip(output, expected).allSatisfy { Swift.abs($0 - $1) <= 1e-12 + 1e-10 * Swift.abs($1) }, "\(case_.name): \(output) vs \(expected)")
            #expect(gradientsMatch != false, "\(case_.name): parameter gradients differ from PyTorch's")
            #expect(["cnn-lstm", "unet"].contains(case_.name) == (gradientsMatch != nil), "\(case_.name): gradients expected in the fixture")
            #expect(check.passed, "\(case_.name): \(check)")
        }
    }

    @Test func anEnsembleLearnsAPlantedSignal() throws {
        // y = x₀ at the last step plus small noise: every architecture should beat the variance of y.
        var g = Xoshiro256StarStar(seed: 8)
        let n = 256, window = 4
        let x = (0..<(n * window * 2)).map { _ in g.nextNormal() }
        let y = (0..<n).map { i in x[(i * window + window - 1) * 2] + 0.1 * g.nextNormal() }
        let data = try ForecastData(inputs: try Tensor(shape: [n, window, 2], scalars: x), targets: try Tensor(shape: [n, 1], scalars: y))
        for model in ForecastModel.allCases {
            var forecaster = try model.makeForecaster(ForecasterConfiguration(hiddenSize: 8, epochs: 40, batchSize: 32, learningRate: 0.01,
                                                                              ensembleSize: 2, seed: 1))
            try forecaster.fit(data)
            let forecast = try forecaster.predict(data.inputs)
            let mse = zip(forecast.mean, y).reduce(0) { $0 + ($1.0[0] - $1.1) * ($1.0[0] - $1.1) } / Double(n)
            #expect(mse < 0.3, "\(model.rawValue): training MSE \(mse) (target variance ≈ 1)")
            #expect(forecast.variance.allSatisfy { $0[0] >= 0 && $0[0].isFinite })
        }
    }

    @Test func badInputThrowsTypedErrors() throws {
        let inputs = try Tensor(shape: [4, 2, 1], scalars: [Double](repeating: 0.5, count: 8))
        #expect(throws: StrategiesError.self) { try ForecastData(inputs: inputs, targets: try Tensor(shape: [3, 1], scalars: [0, 0, 0])) }
        #expect(throws: StrategiesError.self) {
            try ForecastData(inputs: inputs, targets: try Tensor(shape: [4, 1], scalars: [0, .nan, 0, 0]))
        }
        #expect(throws: StrategiesError.self) { try ForecastModel.tcn.makeForecaster(ForecasterConfiguration(epochs: 0)) }
        #expect(throws: StrategiesError.self) { try ForecastModel.transformer.makeForecaster(ForecasterConfiguration(hiddenSize: 5, headCount: 2)) }
        #expect(throws: StrategiesError.self) { try ForecastModel.tcn.makeForecaster(ForecasterConfiguration(validationFraction: 1)) }
        // A U-Net of depth 2 needs a window of at least 4 steps.
        var shortWindow = try ForecastModel.unet.makeForecaster(ForecasterConfiguration(epochs: 1, ensembleSize: 1))
        #expect(throws: StrategiesError.self) { try shortWindow.fit(try ForecastData(inputs: inputs, targets: try Tensor(shape: [4, 1], scalars: [0, 1, 0, 1]))) }
        var g = Xoshiro256StarStar(seed: 0)
        #expect(throws: StrategiesError.self) { try UNetRegressor<Double>(features: 1, window: 7, baseChannels: 2, depth: 3, channels: 2, outputs: 1, using: &g) }
        #expect(throws: NNError.self) { try UNetRegressor<Double>(features: 1, window: 8, baseChannels: 0, channels: 2, outputs: 1, using: &g) }
        let unfitted = try ForecastModel.tcn.makeForecaster(ForecasterConfiguration())
        #expect(throws: StrategiesError.self) { try unfitted.predict(inputs) }
        var tiny = try ForecastModel.tcn.makeForecaster(ForecasterConfiguration(epochs: 1, ensembleSize: 1, validationFraction: 0.5))
        #expect(throws: StrategiesError.self) {
            try tiny.fit(try ForecastData(inputs: inputs, targets: try Tensor(shape: [4, 1], scalars: [0, 1, 0, 1]), embargo: 2))
        }
        #expect(throws: StrategiesError.self) { try ForecastFeatures(prices: [100, 101, -1, 102]) }
        #expect(throws: StrategiesError.self) {
            try ForecastFeatures(prices: syntheticPrices(100, seed: 1), configuration: ForecastFeatureConfiguration(horizons: [5, 1]))
        }
        #expect(throws: StrategiesError.self) { try DieboldMariano.test([1, 2], [1, 2], horizon: 0) }
        #expect(throws: StrategiesError.self) { try Forecast(mean: [[0]], variance: [[-1]]) }
        #expect(throws: StrategiesError.self) { try DieboldMariano.test([1, 2], [1], horizon: 1) }
        let features = try ForecastFeatures(prices: syntheticPrices(200, seed: 2), configuration: ForecastFeatureConfiguration(window: 6, horizons: [1]))
        #expect(throws: StrategiesError.self) {
            try ForecastEvaluation.run(features: features, models: [.tcn], forecaster: ForecasterConfiguration(),
                                       walkForward: WalkForwardConfiguration(firstTestOrigin: features.firstOrigin))
        }
        #expect(throws: StrategiesError.self) {
            try ForecastEvaluation.run(features: features, models: [], forecaster: ForecasterConfiguration(),
                                       walkForward: WalkForwardConfiguration(firstTestOrigin: 150))
        }
    }
}

extension ForecastingTests {
    @Test func lstmAttentionWeightsAreDistributionsOverTheWindow() throws {
        var g = Xoshiro256StarStar(seed: 2)
        let x = (0..<(32 * 5 * 2)).map { _ in g.nextNormal() }
        let data = try ForecastData(inputs: try Tensor(shape: [32, 5, 2], scalars: x), targets: try Tensor(shape: [32, 1], scalars: Array(x.prefix(32))))
        var forecaster = try EnsembleForecaster(name: "lstm-attention", configuration: ForecasterConfiguration(hiddenSize: 4, epochs: 1, ensembleSize: 2)) {
            features, _, outputs, generator in
            try RecurrentAttentionRegressor<Double>(inputSize: features, hiddenSize: 4, headCount: 2, outputSize: outputs, using: &generator)
        }
        try forecaster.fit(data)
        let weights = try forecaster.attentionWeights(data.inputs)
        #expect(weights.count == 32 && weights.allSatisfy { $0.count == 5 && Swift.abs($0.reduce(0, +) - 1) < 1e-12 && $0.allSatisfy { $0 > 0 } })
    }
}

@Suite struct EmbeddedForecastFeaturesTests {
    /// Exact: the first period of 2015 is the first trading day dated in 2015; a year after the data throws.
    @Test func firstPeriodOfAYear() throws {
        let features = try ForecastFeatures.embeddedSP500(asset: "SP500")
        let first = try features.firstPeriod(inYear: 2015)
        let dates = try #require(features.dates)
        #expect(dates[first].description.hasPrefix("2015-01-"))
        #expect(dates[first - 1].description.hasPrefix("2014-12-"))
        #expect(throws: StrategiesError.self) { try features.firstPeriod(inYear: 2100) }
        let stock = try ForecastFeatures.embeddedSP500(asset: "AAPL")
        #expect(stock.count > 1000 && stock.prices != features.prices)
    }
}
