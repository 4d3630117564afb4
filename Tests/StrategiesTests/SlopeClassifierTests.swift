import Autodiff
import Foundation
import Linalg
import MetaLearn
import NN
import Signals
@testable import Strategies
import Testing

/// Small features (horizons 1 and 5, 8-day windows) of a 460-day synthetic series.
private func smallFeatures(_ prices: [Double]) throws -> ForecastFeatures {
    try ForecastFeatures(prices: prices, configuration: ForecastFeatureConfiguration(window: 8, horizons: [1, 5], waveletLevels: 2,
                                                                                     waveletWindow: 16))
}

/// A tiny configuration: hidden width 4, 20-day supports, 5 meta-iterations, one epoch.
private func tinyConfiguration(seed: UInt64 = 3, method: SlopeMetaMethod = .maml) -> SlopeClassifierConfiguration {
    SlopeClassifierConfiguration(horizon: 5, hiddenSize: 4, method: method, supportLength: 20, queryLength: 10, taskStride: 10,
                                 metaIterations: 5, metaBatchSize: 2, epochs: 1, batchSize: 32, seed: seed)
}

/// Two 40-day test blocks from origin 380, training on the last 200 labelled days.
private let tinyWalkForward = WalkForwardConfiguration(firstTestOrigin: 380, testBlockLength: 40, trainingLength: 200)

/// Random inputs `[rows, inputs]` and imbalanced class indices (class 2 three times as frequent).
private func classificationData(rows: Int, inputs: Int, seed: UInt64) throws -> TaskData<Double> {
    var g = Xoshiro256StarStar(seed: seed)
    let x = (0..<(rows * inputs)).map { _ in g.nextNormal() }
    let y = (0..<rows).map { Double([0, 1, 2, 2, 2, 3][$0 % 6]) }
    return try TaskData(inputs: Tensor(shape: [rows, inputs], scalars: x), targets: Tensor(y))
}

/// Central differences `(f(θ + εeᵢ) − f(θ − εeᵢ)) / 2ε` over every trainable scalar of `model`, by key.
private func centralDifferences(_ model: MLP<Double>, epsilon: Double,
                                _ f: (MLP<Double>) throws -> Double) throws -> [String: [Double]] {
    var result: [String: [Double]] = [:]
    for (key, value) in model.namedTrainableParameters() {
        var derivatives: [Double] = []
        for i in value.scalars.indices {
            func shifted(_ delta: Double) throws -> Double {
                var scalars = value.scalars
                scalars[i] += delta
                return try f(try model.replacingParameters([key: try Tensor(shape: value.shape.dimensions, scalars: scalars)]))
            }
            derivatives.append((try shifted(epsilon) - (try shifted(-epsilon))) / (2 * epsilon))
        }
        result[key] = derivatives
    }
    return result
}

@Suite struct SlopeClassifierTests {
    /// Tolerance: |analytic − numeric| ≤ 1e-6 · max(1, |numeric|), central differences with ε = 1e-6 in Double.
    @Test func classWeightedLossGradientMatchesCentralDifferences() throws {
        var g = Xoshiro256StarStar(seed: 5)
        let model = try SlopeNetwork.make(inputs: 6, hidden: 5, using: &g)
        let data = try classificationData(rows: 12, inputs: 6, seed: 6)
        let weights = SlopeNetwork.classWeights(data.targets.scalars.map { SlopeLabel(rawValue: Int($0))! })
        #expect(weights == [1.5, 1.5, 0.5, 1.5])   // inverse frequency 12 / (4 · count) for counts 2, 2, 6, 2
        let loss = SlopeNetwork.loss(classWeights: weights)
        let keyed = model.namedTrainableParameters()
        let variables = keyed.map { $0.value.requiringGradient() }
        let value = try loss(try model.replacingParameters(Dictionary(uniqueKeysWithValues: zip(keyed.map(\.key), variables))), data)
        let analytic = gradient(of: value, wrt: variables)
        let numeric = try centralDifferences(model, epsilon: 1e-6) { try loss($0, data).scalar }
        for (k, key) in keyed.map(\.key).enumerated() {
            for (a, n) in zip(analytic[k].scalars, numeric[key]!) {
                #expect(Swift.abs(a - n) <= 1e-6 * Swift.max(1, Swift.abs(n)), "\(key): \(a) against \(n)")
            }
        }
    }

    /// Tolerance: |analytic − numeric| ≤ 1e-6 · max(1, |numeric|), central differences with ε = 1e-6 in Double,
    /// through one second-order inner SGD step (α = 0.5) on the support set.
    @Test func metaGradientThroughOneInnerStepMatchesCentralDifferences() throws {
        var g = Xoshiro256StarStar(seed: 7)
        let model = try SlopeNetwork.make(inputs: 4, hidden: 3, using: &g)
        let support = try classificationData(rows: 12, inputs: 4, seed: 8), query = try classificationData(rows: 6, inputs: 4, seed: 9)
        let loss = SlopeNetwork.loss(classWeights: [2, 2, 0.5, 2])
        let maml = try MAML(model, innerLearningRate: 0.5, innerSteps: 1)
        var learner = maml.clone()
        try learner.adapt(on: support, steps: 1, loss: loss)
        let analytic = try learner.metaGradients(of: try loss(learner.module, query)).parameters
        let numeric = try centralDifferences(model, epsilon: 1e-6) { perturbed in
            let adapted = try MAML(perturbed, innerLearningRate: 0.5, innerSteps: 1).adapted(to: support, loss: loss)
            return try loss(adapted, query).scalar
        }
        #expect(Set(analytic.keys) == Set(numeric.keys))
        for (key, values) in numeric {
            for (a, n) in zip(analytic[key]!.scalars, values) {
                #expect(Swift.abs(a - n) <= 1e-6 * Swift.max(1, Swift.abs(n)), "\(key): \(a) against \(n)")
            }
        }
    }

    /// Exact: scrambling every price after day 400 leaves every probability up to day 400 bit-identical.
    @Test(arguments: SlopeMetaMethod.allCases)
    func scramblingTheFutureLeavesEarlierPredictionsBitIdentical(method: SlopeMetaMethod) throws {
        let prices = syntheticPrices(460, seed: 21)
        let cut = 400   // inside the first test block (380…419); the second (420…459) refits on scrambled data
        var scrambled = prices
        var g = Xoshiro256StarStar(seed: 77)
        for t in (cut + 1)..<prices.count { scrambled[t] = prices[t] * Foundation.exp(0.05 * g.nextNormal()) }
        let configuration = tinyConfiguration(method: method)
        let original = try SlopeClassifierEvaluation.run(features: try smallFeatures(prices), configuration: configuration,
                                                         walkForward: tinyWalkForward)
        let changed = try SlopeClassifierEvaluation.run(features: try smallFeatures(scrambled), configuration: configuration,
                                                        walkForward: tinyWalkForward)
        #expect(original.origins == changed.origins)
        let upToCut = original.origins.indices.filter { original.origins[$0] <= cut }
        let later = original.origins.indices.filter { original.origins[$0] > cut }
        #expect(!upToCut.isEmpty && !later.isEmpty)
        for i in upToCut {
            #expect(original.metaProbabilities[i] == changed.metaProbabilities[i], "meta at \(original.origins[i])")
            #expect(original.conventionalProbabilities[i] == changed.conventionalProbabilities[i], "conventional at \(original.origins[i])")
            #expect(original.majorityPredictions[i] == changed.majorityPredictions[i])
        }
        #expect(later.contains { original.metaProbabilities[$0] != changed.metaProbabilities[$0] })
        #expect(later.contains { original.conventionalProbabilities[$0] != changed.conventionalProbabilities[$0] })
    }

    /// Exact: the same seed gives the same bits; another seed other probabilities.
    @Test func sameSeedSameBits() throws {
        let features = try smallFeatures(syntheticPrices(460, seed: 22))
        let first = try SlopeClassifierEvaluation.run(features: features, configuration: tinyConfiguration(seed: 4), walkForward: tinyWalkForward)
        let again = try SlopeClassifierEvaluation.run(features: features, configuration: tinyConfiguration(seed: 4), walkForward: tinyWalkForward)
        let other = try SlopeClassifierEvaluation.run(features: features, configuration: tinyConfiguration(seed: 5), walkForward: tinyWalkForward)
        #expect(first.metaProbabilities == again.metaProbabilities)
        #expect(first.conventionalProbabilities == again.conventionalProbabilities)
        #expect(first.meta == again.meta && first.conventional == again.conventional && first.majority == again.majority)
        #expect(first.metaProbabilities != other.metaProbabilities)
        // Probabilities are distributions (tolerance 1e-12 on the sum).
        #expect(first.metaProbabilities.allSatisfy { $0.count == 4 && Swift.abs($0.reduce(0, +) - 1) < 1e-12 && $0.allSatisfy { $0 >= 0 } })
        let comparison = try SlopeClassifierComparison.run(features: features, configuration: tinyConfiguration(),
                                                           walkForward: tinyWalkForward, seeds: [4, 5])
        #expect(comparison.runs.map(\.meta) == [first.meta, other.meta])
        #expect(comparison.rows.map(\.name) == ["meta-trained (maml)", "conventional", "majority class"])
        #expect(comparison.rows[2].accuracy.standardDeviation == 0)   // the majority class does not depend on the seed
    }

    /// Exact: chronology and the embargo of the period tasks and the folds.
    @Test func tasksHonourChronologyAndEmbargo() throws {
        let tasks = try SlopePeriodTask.tiling(100...299, supportLength: 30, queryLength: 10, embargo: 5, horizon: 5, stride: 10)
        #expect(tasks.last!.query.upperBound == 299)
        #expect(tasks.first!.support.lowerBound >= 100)
        for task in tasks {
            #expect(task.support.count == 30 && task.query.count == 10)
            // The last support label uses the price at support end + horizon, before the first query origin.
            #expect(task.support.upperBound + 5 < task.query.lowerBound)
            #expect(task.query.lowerBound - task.support.upperBound - 1 == 5)
        }
        #expect(zip(tasks, tasks.dropFirst()).allSatisfy { $0.query.upperBound + 10 == $1.query.upperBound })
        let evaluation = try SlopeClassifierEvaluation.run(features: try smallFeatures(syntheticPrices(460, seed: 23)),
                                                           configuration: tinyConfiguration(), walkForward: tinyWalkForward)
        #expect(evaluation.folds.count == 2)
        for fold in evaluation.folds {
            #expect(fold.trainingOrigins.upperBound + 5 <= fold.testOrigins.lowerBound)
            #expect(fold.trainingOrigins.count <= 200)
        }
    }

    /// Typed errors for too little data, a bad horizon, an unknown method and bad settings.
    @Test func badInputThrowsTypedErrors() throws {
        let features = try smallFeatures(syntheticPrices(460, seed: 24))
        var configuration = tinyConfiguration()
        configuration.horizon = 3
        expectArgument("horizon") { _ = try SlopeClassifierEvaluation.run(features: features, configuration: configuration, walkForward: tinyWalkForward) }
        configuration.horizon = 0
        expectArgument("horizon") { _ = try SlopeClassifierEvaluation.run(features: features, configuration: configuration, walkForward: tinyWalkForward) }
        expectArgument("method") { _ = try SlopeMetaMethod.named("sgd") }
        #expect(try SlopeMetaMethod.named("FOMAML") == .firstOrderMAML)
        configuration = tinyConfiguration(method: .reptile)
        configuration.adaptationSteps = 0
        expectArgument("adaptationSteps") { _ = try SlopeClassifierEvaluation.run(features: features, configuration: configuration, walkForward: tinyWalkForward) }
        configuration = tinyConfiguration()
        configuration.innerLearningRate = .nan
        expectArgument("innerLearningRate") { _ = try SlopeClassifierEvaluation.run(features: features, configuration: configuration, walkForward: tinyWalkForward) }
        expectArgument("embargo") { _ = try SlopePeriodTask.tiling(0...99, supportLength: 10, queryLength: 5, embargo: 4, horizon: 5, stride: 5) }
        expectArgument("seeds") {
            _ = try SlopeClassifierComparison.run(features: features, configuration: tinyConfiguration(), walkForward: tinyWalkForward, seeds: [])
        }
        // Too little data: no task fits, no training origin, a series without a complete window.
        expectData { _ = try SlopePeriodTask.tiling(0...20, supportLength: 10, queryLength: 10, embargo: 5, horizon: 5, stride: 5) }
        expectData {
            _ = try SlopeClassifierEvaluation.run(features: features, configuration: tinyConfiguration(),
                                                  walkForward: WalkForwardConfiguration(firstTestOrigin: 380, testBlockLength: 40, trainingLength: 30))
        }
        expectData {
            _ = try SlopeClassifierEvaluation.run(features: features, configuration: tinyConfiguration(),
                                                  walkForward: WalkForwardConfiguration(firstTestOrigin: features.firstOrigin + 2))
        }
        expectData { _ = try smallFeatures(syntheticPrices(20, seed: 25)) }
    }
}
