import Autodiff
import Foundation
import Linalg
@testable import Strategies
import Testing

/// Seeded inputs `[n, 4, 2]` whose target is the last step's first feature plus noise.
private func plantedData(seed: UInt64 = 8, n: Int = 120) throws -> ForecastData {
    var g = Xoshiro256StarStar(seed: seed)
    let window = 4
    let x = (0..<(n * window * 2)).map { _ in g.nextNormal() }
    let y = (0..<n).map { i in x[(i * window + window - 1) * 2] + 0.1 * g.nextNormal() }
    return try ForecastData(inputs: try Tensor(shape: [n, window, 2], scalars: x), targets: try Tensor(shape: [n, 1], scalars: y), embargo: 2)
}

/// A fitted forecaster of `model` with a tiny configuration and `uncertainty`.
private func fitted(_ model: ForecastModel, seed: UInt64 = 1, ensembleSize: Int = 2, validationFraction: Double = 0.2,
                    uncertainty: ForecastUncertainty) throws -> any Forecaster {
    var forecaster = try model.makeForecaster(ForecasterConfiguration(hiddenSize: 4, headCount: 2, epochs: 2, batchSize: 32,
                                                                      ensembleSize: ensembleSize, seed: seed,
                                                                      validationFraction: validationFraction, uncertainty: uncertainty))
    try forecaster.fit(try plantedData())
    return forecaster
}

/// The parameter an `invalidArgument` error names.
private func parameterName(_ error: StrategiesError?) -> String? {
    guard case let .invalidArgument(_, parameter, _) = error else { return nil }
    return parameter
}

@Suite struct ForecastUncertaintyTests {
    @Test func monteCarloDropoutSameSeedSameBitsOtherSeedOtherVariances() throws {
        let dropout = ForecastUncertainty.monteCarloDropout(rate: 0.2, passes: 4)
        let inputs = try plantedData(seed: 9, n: 16).inputs
        for model in ForecastModel.allCases {
            let first = try fitted(model, uncertainty: dropout).predict(inputs)
            let second = try fitted(model, uncertainty: dropout).predict(inputs)
            #expect(first == second, "\(model.rawValue)")
            let other = try fitted(model, seed: 2, uncertainty: dropout).predict(inputs)
            #expect(other.variance != first.variance, "\(model.rawValue)")
        }
    }

    @Test func monteCarloDropoutWithRateZeroIsThePlainEnsemble() throws {
        let inputs = try plantedData(seed: 9, n: 16).inputs
        for model in ForecastModel.allCases {
            let plain = try fitted(model, uncertainty: .ensemble).predict(inputs)
            let dropout = try fitted(model, uncertainty: .monteCarloDropout(rate: 0, passes: 3)).predict(inputs)
            #expect(plain == dropout, "\(model.rawValue)")
        }
    }

    @Test func monteCarloDropoutVarianceIsPositive() throws {
        let inputs = try plantedData(seed: 9, n: 16).inputs
        // One member without validation rows: the plain variance is 0, MC dropout's is not.
        let plain = try fitted(.tcn, ensembleSize: 1, validationFraction: 0, uncertainty: .ensemble).predict(inputs)
        #expect(plain.variance.allSatisfy { $0 == [0] })
        for model in ForecastModel.allCases {
            let forecast = try fitted(model, ensembleSize: 1, validationFraction: 0,
                                      uncertainty: .monteCarloDropout(rate: 0.3, passes: 5)).predict(inputs)
            #expect(forecast.variance.allSatisfy { $0[0] > 0 && $0[0].isFinite }, "\(model.rawValue)")
        }
        // The explicit generator: the same state gives the same bits, another state other ones.
        let forecaster = try fitted(.tcn, uncertainty: .monteCarloDropout(rate: 0.3, passes: 2))
        let ensemble = try #require(forecaster as? EnsembleForecaster<TemporalConvolutionalRegressor<Double>>)
        var g1 = Xoshiro256StarStar(seed: 5), g2 = Xoshiro256StarStar(seed: 5), g3 = Xoshiro256StarStar(seed: 6)
        let a = try ensemble.predict(inputs, using: &g1), b = try ensemble.predict(inputs, using: &g2), c = try ensemble.predict(inputs, using: &g3)
        #expect(a == b && a.mean != c.mean)
    }

    @Test func monteCarloDropoutHasNoLookAhead() throws {
        try expectNoLookAhead { try smallEvaluation($0, uncertainty: .monteCarloDropout(rate: 0.2, passes: 3)) }
    }

    @Test func badUncertaintySettingsThrowNamingTheParameter() throws {
        for (rate, passes, parameter) in [(1.0, 3, "uncertainty.rate"), (-0.1, 3, "uncertainty.rate"), (.nan, 3, "uncertainty.rate"),
                                          (0.1, 0, "uncertainty.passes")] {
            let error = #expect(throws: StrategiesError.self) {
                try ForecastModel.tcn.makeForecaster(ForecasterConfiguration(uncertainty: .monteCarloDropout(rate: rate, passes: passes)))
            }
            #expect(parameterName(error) == parameter)
        }
        let features = try ForecastFeatures(prices: syntheticPrices(200, seed: 2), configuration: ForecastFeatureConfiguration(window: 6, horizons: [1]))
        let error = #expect(throws: StrategiesError.self) {
            try ForecastEvaluation.run(features: features, models: [.tcn], forecaster: ForecasterConfiguration(validationFraction: 0),
                                       walkForward: WalkForwardConfiguration(firstTestOrigin: 150, combination: .stacked))
        }
        #expect(parameterName(error) == "combination")
    }

    /// Hand-computed NNLS solutions, within 1e-12.
    @Test func stackingWeightsMatchHandComputations() throws {
        // Orthogonal columns: w = (Xᵀy)ᵢ/‖xᵢ‖² = (4/2, 2/2) = (2, 1), normalized (2/3, 1/3).
        let orthogonal = ForecastEvaluation.fitStackingWeights(forecasts: [[1, 0, 1, 0], [0, 1, 0, 1]], targets: [2, 1, 2, 1])
        #expect(Swift.abs(orthogonal[0] - 2.0 / 3) < 1e-12 && Swift.abs(orthogonal[1] - 1.0 / 3) < 1e-12)
        // Unconstrained least squares gives (2, −1); with w ≥ 0 the candidates are x₁ alone (w₁ = 1, residual 1)
        // and x₂ alone (w₂ = 0, residual 2), so w = (1, 0).
        let clamped = ForecastEvaluation.fitStackingWeights(forecasts: [[1, 0], [1, 1]], targets: [1, -1])
        #expect(Swift.abs(clamped[0] - 1) < 1e-12 && Swift.abs(clamped[1]) < 1e-12)
        // Three models, interior solution: x₁ = (1,0,0), x₂ = (0,1,0), x₃ = (1,1,1), y = (2,3,1).
        // X is square and invertible, so Xw = y exactly: w₃ = 1, w₁ = 2 − w₃ = 1, w₂ = 3 − w₃ = 2; normalized (1/4, 1/2, 1/4).
        let interior = ForecastEvaluation.fitStackingWeights(forecasts: [[1, 0, 0], [0, 1, 0], [1, 1, 1]], targets: [2, 3, 1])
        for (w, e) in zip(interior, [0.25, 0.5, 0.25]) { #expect(Swift.abs(w - e) < 1e-12) }
        // Every forecast anti-correlated with the target: NNLS gives 0, so equal weights.
        let none = ForecastEvaluation.fitStackingWeights(forecasts: [[1, 2], [2, 1]], targets: [-1, -1])
        #expect(none == [0.5, 0.5])
    }

    @Test func stackingWeightsAreNonNegativeSumToOneAndPickAPerfectModel() throws {
        var g = Xoshiro256StarStar(seed: 4)
        for _ in 0..<20 {
            let target = (0..<30).map { _ in g.nextNormal() }
            let forecasts = (0..<4).map { _ in (0..<30).map { _ in g.nextNormal() } }
            let weights = ForecastEvaluation.fitStackingWeights(forecasts: forecasts, targets: target)
            #expect(weights.allSatisfy { $0 >= 0 } && Swift.abs(weights.reduce(0, +) - 1) < 1e-12)
            // A model equal to the target gets weight 1 (within 1e-9).
            let perfect = ForecastEvaluation.fitStackingWeights(forecasts: [forecasts[0], target, forecasts[1]], targets: target)
            #expect(Swift.abs(perfect[1] - 1) < 1e-9 && Swift.abs(perfect[0]) < 1e-9 && Swift.abs(perfect[2]) < 1e-9)
        }
    }

    @Test func equalCombinationIsThePlainMean() throws {
        let evaluation = try smallEvaluation(syntheticPrices(380, seed: 5), combination: .equal)
        let models = ForecastModel.allCases.map { evaluation.forecasts[$0.rawValue]! }
        let combined = try #require(evaluation.forecasts["ensemble"])
        for i in combined.indices {
            for k in combined[i].indices {
                let mean = models.reduce(0) { $0 + $1[i][k] } / Double(models.count)
                #expect(Swift.abs(combined[i][k] - mean) <= 1e-15 * Swift.max(1, Swift.abs(mean)))
            }
        }
        // The default combination is unchanged: inverse-variance.
        let plain = try smallEvaluation(syntheticPrices(380, seed: 5))
        #expect(plain.forecasts["tcn"] == evaluation.forecasts["tcn"] && plain.forecasts["ensemble"] != combined)
        #expect(plain.stackingWeights.isEmpty)
    }

    @Test func stackingHasNoLookAheadAndValidWeights() throws {
        let (original, changed) = try expectNoLookAhead { try smallEvaluation($0, combination: .stacked) }
        #expect(original.stackingWeights.count == 2)
        // The first fold's weights are fitted before the cut; the second fold's see the scrambled prices.
        #expect(original.stackingWeights[0] == changed.stackingWeights[0])
        for fold in original.stackingWeights + changed.stackingWeights {
            for weights in fold {
                #expect(weights.count == ForecastModel.allCases.count)
                #expect(weights.allSatisfy { $0 >= 0 } && Swift.abs(weights.reduce(0, +) - 1) < 1e-12)
            }
        }
    }
}
