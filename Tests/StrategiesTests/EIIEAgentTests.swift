import Backtest
import Foundation
import Linalg
import Market
import NN
@testable import Strategies
import Testing

/// The EIIE agent inside the backtest engine: no look-ahead, determinism, checkpoints, errors.
@Suite struct EIIEAgentTests {
    /// Records every decision of the wrapped strategy.
    struct Recording<Inner: BacktestStrategy>: BacktestStrategy {
        var inner: Inner
        var decisions: [(bar: Int, weights: [Double])] = []
        var name: String { inner.name }
        var requiredHistory: Int { inner.requiredHistory }
        mutating func targetWeights(_ context: DecisionContext) throws -> [Double] {
            let weights = try inner.targetWeights(context)
            decisions.append((context.bar, weights))
            return weights
        }
        mutating func observe(_ outcome: PeriodOutcome) throws { try inner.observe(outcome) }
    }

    static let network = EIIEConfiguration(window: 20)
    static let training = EIIETrainingConfiguration(learningRate: 3e-3, batchSize: 16, rollingSteps: 5, pretrainingSteps: 50)
    static let configuration = BacktestConfiguration(costs: try! TransactionCostModel(rate: 0.0025), cash: CashAsset(),
                                                     firstDecisionBar: 100)

    static func agent(seed: UInt64, network: EIIEConfiguration = network) throws -> EIIEAgent<Double> {
        var g = Xoshiro256StarStar(seed: seed)
        return try EIIEAgent<Double>(network: network, training: training, using: &g)
    }

    static func run(_ panel: PricePanel, seed: UInt64, topology: EIIETopology = .cnn)
        throws -> (result: BacktestResult, decisions: [(bar: Int, weights: [Double])]) {
        var network = Self.network
        network.topology = topology
        var strategy = Recording(inner: try agent(seed: seed, network: network))
        let result = try BacktestEngine(panel: panel, configuration: configuration).run(&strategy)
        return (result, strategy.decisions)
    }

    /// `panel` with every price after bar `t` replaced by an unrelated random walk.
    static func scrambled(_ panel: PricePanel, after t: Int, seed: UInt64) throws -> PricePanel {
        var g = Xoshiro256StarStar(seed: seed)
        var close = panel.close, high = panel.field(.high)!, low = panel.field(.low)!
        for bar in (t + 1)..<panel.timeCount {
            for a in 0..<panel.assetCount {
                close[bar, a] = close[bar - 1, a] * (1 + 0.1 * g.nextNormal())
                high[bar, a] = close[bar, a] * 1.05
                low[bar, a] = close[bar, a] * 0.95
            }
        }
        return try PricePanel(index: panel.index, assets: panel.assets, close: close, high: high, low: low)
    }

    /// Scrambling every price after bar t leaves every decision up to t bit-identical (pre-training,
    /// the online updates in `observe` and the memory included), for each topology; later
    /// decisions do change, so the check can fail.
    @Test(arguments: [EIIETopology.cnn, .rnn, .lstm])
    func noLookAhead(topology: EIIETopology) throws {
        let panel = try risingAssetMarket(seed: 21, bars: 140)
        let t = 120
        let original = try Self.run(panel, seed: 3, topology: topology).decisions
        let other = try Self.run(Self.scrambled(panel, after: t, seed: 99), seed: 3, topology: topology).decisions
        #expect(original.count == 139 - 100 && original.first?.bar == 100)
        for (a, b) in zip(original, other) where a.bar <= t {
            #expect(a.weights.map(\.bitPattern) == b.weights.map(\.bitPattern), "decision at bar \(a.bar) changed")
        }
        #expect(zip(original, other).contains { $0.bar > t && $0.weights != $1.weights })
    }

    @Test func sameSeedSameBitsAndWeightsAreValid() throws {
        let panel = try risingAssetMarket(seed: 22, bars: 130)
        let (a, decisions) = try Self.run(panel, seed: 5)
        let (b, _) = try Self.run(panel, seed: 5)
        let (c, _) = try Self.run(panel, seed: 6)
        #expect(a.wealth.map(\.bitPattern) == b.wealth.map(\.bitPattern))
        #expect(a.wealth != c.wealth)
        for decision in decisions {
            #expect(decision.weights.count == 4)                          // four assets; cash is the rest
            #expect(decision.weights.allSatisfy { $0 >= 0 && $0.isFinite })
            #expect(decision.weights.reduce(0, +) < 1)
        }
    }

    /// Saving after a backtest and restoring gives the same network and memory bit for bit; a
    /// restored agent decides as the saved one would have.
    @Test func checkpointRoundTripIsBitExact() throws {
        let panel = try risingAssetMarket(seed: 23, bars: 130)
        var agent = try Self.agent(seed: 7)
        _ = try BacktestEngine(panel: panel, configuration: Self.configuration).run(&agent)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("eiie-checkpoint-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try agent.saveCheckpoint(to: directory)
        try agent.saveCheckpoint(to: directory)                           // replacing an existing checkpoint
        var g = Xoshiro256StarStar(seed: 1)
        let reloaded = try EIIEAgent<Double>(restoringFrom: directory, using: &g)
        #expect(reloaded.networkConfiguration == agent.networkConfiguration)
        #expect(reloaded.trainingConfiguration == agent.trainingConfiguration)
        // Frozen (no rolling steps), so the state after one decision is the saved state.
        var frozen = Self.training
        frozen.rollingSteps = 0
        var restored = try EIIEAgent<Double>(restoringFrom: directory, training: frozen, using: &g)
        // The restored agent's first decision over the same bars rebuilds the market and uses the
        // saved network and memory as they are.
        var config = Self.configuration
        config.firstDecisionBar = 129 - 1
        _ = try BacktestEngine(panel: panel, configuration: config).run(&restored)
        let saved = try #require(agent.trainer), loaded = try #require(restored.trainer)
        for ((k1, v1), (k2, v2)) in zip(saved.network.stateDict(), loaded.network.stateDict()) {
            #expect(k1 == k2 && v1.scalars.map(\.bitPattern) == v2.scalars.map(\.bitPattern), "\(k1)")
        }
        // Row 128 is the restored agent's own decision; every other row is the saved memory.
        #expect(saved.memory.periodCount == loaded.memory.periodCount)
        for t in 0..<saved.memory.periodCount where t != 128 {
            #expect(saved.memory[t].map(\.bitPattern) == loaded.memory[t].map(\.bitPattern), "row \(t)")
        }
        // A damaged memory file is refused whole.
        try Data("{\"assetCount\":4,\"weights\":[[1,0]]}".utf8).write(to: directory.appendingPathComponent(EIIECheckpointFile.memory))
        #expect(throws: StrategiesError.self) { try EIIEAgent<Double>(restoringFrom: directory, using: &g) }
        #expect(throws: StrategiesError.self) { try EIIEAgent<Double>(restoringFrom: directory.appendingPathComponent("missing"), using: &g) }
    }

    @Test func badInputIsATypedError() throws {
        let panel = try risingAssetMarket(seed: 24, bars: 130)
        var noCash = Self.configuration
        noCash.cash = nil
        #expect(throws: (any Error).self) { try BacktestEngine(panel: panel, configuration: noCash).run(Self.agent(seed: 1)) }
        var g = Xoshiro256StarStar(seed: 1)
        #expect(throws: StrategiesError.self) {
            try EIIEAgent<Double>(network: EIIEConfiguration(featureCount: 1), features: [.close, .high], using: &g)
        }
        // One asset: nothing to allocate between.
        let single = try PricePanel(index: TimeIndex(periodCount: 130), assets: ["A0"], close: Matrix(rows: 130, columns: 1, elements: (0..<130).map { panel.close[$0, 0] }))
        #expect(throws: StrategiesError.self) { try EIIEMarket(panel: single, features: [.close]) }
        // A NaN price names the asset and the bar.
        var close = panel.close
        close[10, 2] = .nan
        let holed = try PricePanel(index: panel.index, assets: panel.assets, close: close, high: panel.field(.high), low: panel.field(.low))
        do {
            _ = try EIIEMarket(panel: holed)
            Issue.record("a NaN close was accepted")
        } catch let error as StrategiesError {
            #expect(error.description.contains("A2") && error.description.contains("period 10"), "\(error)")
        }
        #expect(throws: NNError.self) { try EIIEAgent<Double>(network: EIIEConfiguration(window: 0), using: &g) }
    }
}
