import Backtest
import Linalg
import Market
import NN
@testable import Strategies
import Testing

/// The EIIE comparison's line-up, checked against values derived by hand from the prices.
@Suite struct EIIEComparisonTests {
    static func configuration(testStart: Int, commission: Double, topologies: [EIIETopology] = [.cnn], seeds: [UInt64] = [1, 2])
        -> EIIEComparison.Configuration {
        EIIEComparison.Configuration(testStart: testStart, topologies: topologies, seeds: seeds,
                                     network: EIIEConfiguration(window: 10),
                                     training: EIIETrainingConfiguration(learningRate: 1e-3, batchSize: 8, commission: commission,
                                                                         rollingSteps: 1, pretrainingSteps: 10),
                                     includeOnlineAlgorithms: false)
    }

    /// Without costs, Best Stock's fAPV is the best price ratio over the test and UBAH's the mean
    /// ratio; with a commission c both pay the first trade out of cash, μ = (1 − c)/(1 + c)·… for
    /// the exact factor, which the engine's tests cover; here: fAPV = ratio·μ₀ with μ₀ < 1.
    @Test func benchmarksMatchThePriceRatios() throws {
        let panel = try risingAssetMarket(seed: 31, bars: 60)
        let start = 40, end = 59
        let outcome = try EIIEComparison.run(panel: panel, configuration: Self.configuration(testStart: start, commission: 0))
        let ratios = (0..<4).map { panel.close[end, $0] / panel.close[start, $0] }
        #expect(outcome.lines.map(\.name) == ["EIIE CNN (seed 1)", "EIIE CNN (seed 2)", "Best Stock (A0, hindsight)", "UCRP", "UBAH"])
        let best = try #require(outcome.lines.first { $0.name.hasPrefix("Best Stock") })
        #expect(Swift.abs(best.finalValue - ratios.max()!) <= 1e-12 * ratios.max()!)
        let ubah = try #require(outcome.lines.first { $0.name == "UBAH" })
        let mean = ratios.reduce(0, +) / 4
        #expect(Swift.abs(ubah.finalValue - mean) <= 1e-12 * mean)
        // The benchmarks are fully invested; the agents' cash share is a fraction.
        #expect(outcome.lines.filter { $0.kind == .benchmark }.allSatisfy { Swift.abs($0.meanCashWeight) < 1e-12 })
        #expect(outcome.lines.filter { $0.kind == .agent }.allSatisfy { $0.meanCashWeight > 0 && $0.meanCashWeight < 1 })
        // Best Stock held A0, which rose every bar: no drawdown.
        #expect(best.maximumDrawdown == 0)
        // The spread over the two agent seeds is their mean and sample standard deviation.
        let agents = outcome.lines.filter { $0.kind == .agent }.map(\.finalValue)
        let spread = try #require(outcome.spreads.first)
        #expect(spread.count == 2 && Swift.abs(spread.finalValue.mean - (agents[0] + agents[1]) / 2) < 1e-15)
        #expect(Swift.abs(spread.finalValue.standardDeviation - Swift.abs(agents[0] - agents[1]) / 2.0.squareRoot()) < 1e-15)
        // With a commission every line pays for its first trade out of cash.
        let costly = try EIIEComparison.run(panel: panel, configuration: Self.configuration(testStart: start, commission: 0.01, topologies: []))
        let costlyBest = try #require(costly.lines.first { $0.name.hasPrefix("Best Stock") })
        #expect(costlyBest.finalValue < best.finalValue && costlyBest.finalValue > best.finalValue * 0.98)
        #expect(costly.lines.allSatisfy { $0.kind != .agent })
    }

    @Test func rejectsATestThatCannotRun() throws {
        let panel = try risingAssetMarket(seed: 32, bars: 60)
        #expect(throws: StrategiesError.self) { try EIIEComparison.validate(Self.configuration(testStart: 59, commission: 0), panel: panel) }
        // Window 10 and batch 8 need 9 + 8 + 1 = 18 bars of history.
        #expect(throws: StrategiesError.self) { try EIIEComparison.validate(Self.configuration(testStart: 16, commission: 0), panel: panel) }
        try EIIEComparison.validate(Self.configuration(testStart: 17, commission: 0), panel: panel)
        #expect(throws: StrategiesError.self) {
            try EIIEComparison.validate(Self.configuration(testStart: 30, commission: 0, seeds: []), panel: panel)
        }
    }
}
