import Autodiff
import Foundation
import Linalg
import Market
import NN
@testable import Strategies
import Testing

/// The EIIE trainer: its reward against a PyTorch fixture (Scripts/fixtures/strategies_eiie.py) and
/// finite differences, one Adam step derived by hand, the memory it writes, and the bars it may use.
@Suite struct EIIETrainerTests {
    struct TensorRecord: Decodable {
        let shape: [Int]
        let data: [Double]
    }

    struct RewardFixture: Decodable {
        let features, window, kernel, maps, evaluation, assets, bars: Int
        let commission: Double
        let times: [Int]
        let close, high, low, memory, weights: [Double]
        let state_dict: [String: TensorRecord]
        let reward_exact, reward_first_order: Double
        let gradients_exact, gradients_first_order: [String: [Double]]
    }

    /// A trainer loaded with the fixture's market, network and memory.
    static func fixtureTrainer(_ fixture: RewardFixture, remainder: EIIETransactionRemainder) throws -> EIIETrainer<Double> {
        func matrix(_ values: [Double]) throws -> Matrix { try Matrix(rows: fixture.bars, columns: fixture.assets, elements: values) }
        let panel = try PricePanel(index: TimeIndex(periodCount: fixture.bars), assets: (0..<fixture.assets).map { "A\($0)" },
                                   close: matrix(fixture.close), high: matrix(fixture.high), low: matrix(fixture.low))
        let market = try EIIEMarket(panel: panel)
        var g = Xoshiro256StarStar(seed: 1)
        let configuration = EIIEConfiguration(topology: .cnn, featureCount: fixture.features, window: fixture.window,
                                              kernelWidth: fixture.kernel, firstLayerMaps: fixture.maps,
                                              evaluationFeatures: fixture.evaluation, cashBias: .learnable(initialValue: 0))
        var network = try EIIENetwork<Double>(configuration: configuration, using: &g)
        try network.loadStateDict(fixture.state_dict.mapValues { try Tensor(shape: $0.shape, scalars: $0.data) })
        let training = EIIETrainingConfiguration(batchSize: fixture.times.count, commission: fixture.commission,
                                                 transactionRemainder: remainder)
        var trainer = try EIIETrainer(network: network, market: market, configuration: training, using: &g)
        var memory = try PortfolioVectorMemory(assetCount: fixture.assets, periods: fixture.bars)
        try memory.write(block: fixture.memory, startingAt: 0)
        try trainer.restore(network: network, memory: memory, path: "fixture")
        return trainer
    }

    /// Reward and gradients match PyTorch for the exact μ of Theorem 1 and for the first-order μ.
    /// Stated bar: `|swift − torch| ≤ 1e-12·(1 + |torch|)` for the reward, the weights and every
    /// gradient element (float64 on both sides; the exact μ is iterated to 1e-15 on both).
    @Test(arguments: [EIIETransactionRemainder.exact, .firstOrder])
    func rewardAndGradientsMatchPyTorch(remainder: EIIETransactionRemainder) throws {
        let fixture = try fixtures.load("eiie_reward", as: RewardFixture.self)
        let trainer = try Self.fixtureTrainer(fixture, remainder: remainder)
        let named = trainer.network.namedTrainableParameters()
        let variables = named.map { $0.value.requiringGradient() }
        let (reward, weights) = try trainer.rewardAndWeights(times: fixture.times, parameters: variables, training: true)
        let expectedReward = remainder == .exact ? fixture.reward_exact : fixture.reward_first_order
        let expectedGradients = remainder == .exact ? fixture.gradients_exact : fixture.gradients_first_order
        func close(_ a: Double, _ e: Double) -> Bool { Swift.abs(a - e) <= 1e-12 * (1 + Swift.abs(e)) }
        #expect(close(reward.value.scalar, expectedReward), "reward \(reward.value.scalar) vs \(expectedReward)")
        #expect(zip(weights.scalars, fixture.weights).allSatisfy { close($0, $1) })
        #expect(Set(expectedGradients.keys) == Set(named.map(\.key)))
        for (entry, g) in zip(named, reward.gradients) {
            let expected = try #require(expectedGradients[entry.key])
            // The reward's gradient, not the loss's: the trainer differentiates −R.
            let worst = zip(g.scalars, expected).map { Swift.abs(-$0 - $1) / (1 + Swift.abs($1)) }.max() ?? 0
            #expect(g.scalarCount == expected.count && worst <= 1e-12, "\(entry.key): worst scaled error \(worst)")
        }
    }

    /// The reward with the exact μ passes central differences in every parameter.
    /// Stated bar: `|analytic − numeric| ≤ 1e-8 + 1e-6·|numeric|` with ε = 1e-6.
    @Test func exactRewardPassesFiniteDifferences() throws {
        let fixture = try fixtures.load("eiie_reward", as: RewardFixture.self)
        let trainer = try Self.fixtureTrainer(fixture, remainder: .exact)
        let parameters = trainer.network.parameters(trainableOnly: true)
        let report = GradientCheck.firstOrder(at: parameters, absoluteTolerance: 1e-8, relativeTolerance: 1e-6) { variables in
            try! trainer.rewardAndWeights(times: fixture.times, parameters: variables, training: false).reward.value
        }
        #expect(report.passed, "\(report)")
    }

    /// One step, derived by hand: the memory's rows for the batch become the pre-step outputs, the
    /// recorded reward is R computed before the update, and Adam's first step moves each parameter by
    /// `lr·g/(|g| + ε)` up the reward's gradient `g` (bias-corrected moments are `g` and `g²`).
    /// Stated bar: the weight rows and the reward to 1e-15 relative; each parameter's move to 1e-12.
    @Test func oneStepWritesTheMemoryAndTakesAnAdamSignStep() throws {
        let fixture = try fixtures.load("eiie_reward", as: RewardFixture.self)
        var trainer = try Self.fixtureTrainer(fixture, remainder: .firstOrder)
        let before = trainer.network.parameters(trainableOnly: true)
        let (reward, weights) = try trainer.rewardAndWeights(times: fixture.times, parameters: before.map { $0.requiringGradient() },
                                                             training: true)
        try trainer.step(times: fixture.times)
        #expect(trainer.stepCount == 1 && trainer.lastReward == reward.value.scalar)
        let m1 = fixture.assets + 1
        for (r, t) in fixture.times.enumerated() {
            let row = Array(trainer.memory[t])
            let expected = (0..<m1).map { weights.scalars[r * m1 + $0] }
            let sum = expected.reduce(0, +)
            #expect(zip(row, expected).allSatisfy { Swift.abs($0 - $1 / sum) <= 1e-15 })
        }
        // Rows outside the batch are untouched.
        #expect(Array(trainer.memory[fixture.times[0] - 1]) == Array(fixture.memory[((fixture.times[0] - 1) * m1)..<(fixture.times[0] * m1)]))
        let after = trainer.network.parameters(trainableOnly: true)
        let lr = trainer.configuration.learningRate
        for ((p0, p1), g) in zip(zip(before, after), reward.gradients) {
            for ((a, b), loss) in zip(zip(p0.scalars, p1.scalars), g.scalars) {
                // g here is ∂(−R)/∂θ; the L2 term adds λθ (λ = 1e-8) to it.
                let total = loss + trainer.configuration.l2Penalty * a
                let expected = a - lr * total / (Swift.abs(total) + 1e-8)
                #expect(Swift.abs(b - expected) <= 1e-12, "moved \(b - a), expected \(expected - a)")
            }
        }
    }

    /// Training through bar k draws batches whose decision bars are all ≤ k: the memory rows after
    /// k keep their starting value (uniform), the rows before the first decision bar too.
    @Test func trainingStaysWithinTheAllowedBars() throws {
        let panel = try risingAssetMarket(seed: 5, bars: 60)
        var g = Xoshiro256StarStar(seed: 9)
        let network = try EIIENetwork<Double>(configuration: EIIEConfiguration(window: 8), using: &g)
        var trainer = try EIIETrainer(network: network, market: EIIEMarket(panel: panel),
                                      configuration: EIIETrainingConfiguration(learningRate: 1e-3, batchSize: 10, sampleBias: 0.05),
                                      using: &g)
        #expect(trainer.firstDecisionBar == 7)
        try trainer.train(steps: 40, through: 30)
        let uniform = [Double](repeating: 0.2, count: 5)
        for t in 31..<60 { #expect(Array(trainer.memory[t]) == uniform, "row \(t) was written") }
        for t in 0..<7 { #expect(Array(trainer.memory[t]) == uniform, "row \(t) was written") }
        #expect((7...30).contains { Array(trainer.memory[$0]) != uniform })
        // Fewer trainable bars than a batch: nothing happens.
        let steps = trainer.stepCount
        try trainer.train(steps: 5, through: 15)
        #expect(trainer.stepCount == steps)
    }

    @Test func sameSeedSameBits() throws {
        let panel = try risingAssetMarket(seed: 6, bars: 80)
        func run(_ seed: UInt64) throws -> [UInt64] {
            var g = Xoshiro256StarStar(seed: seed)
            let network = try EIIENetwork<Double>(configuration: EIIEConfiguration(window: 8), using: &g)
            var trainer = try EIIETrainer(network: network, market: EIIEMarket(panel: panel),
                                          configuration: EIIETrainingConfiguration(learningRate: 1e-3, batchSize: 10), using: &g)
            try trainer.train(steps: 20)
            return trainer.network.parameters().flatMap(\.scalars).map(\.bitPattern) + trainer.memory.storage.map(\.bitPattern)
        }
        #expect(try run(3) == run(3))
        #expect(try run(3) != run(4))
    }

    @Test func rejectsMismatchedInputs() throws {
        let panel = try risingAssetMarket(seed: 5, bars: 12)
        var g = Xoshiro256StarStar(seed: 9)
        let wide = try EIIENetwork<Double>(configuration: EIIEConfiguration(window: 12), using: &g)
        #expect(throws: StrategiesError.self) { try EIIETrainer(network: wide, market: EIIEMarket(panel: panel), using: &g) }
        let oneFeature = try EIIENetwork<Double>(configuration: EIIEConfiguration(featureCount: 1, window: 5), using: &g)
        #expect(throws: StrategiesError.self) { try EIIETrainer(network: oneFeature, market: EIIEMarket(panel: panel), using: &g) }
        #expect(throws: StrategiesError.self) {
            try EIIETrainingConfiguration(learningRate: 0).validate()
        }
        #expect(throws: StrategiesError.self) { try EIIETrainingConfiguration(commission: 1).validate() }
        #expect(throws: StrategiesError.self) { try EIIETrainingConfiguration(rollingSteps: -1).validate() }
    }
}
