import Foundation
import Linalg
import Market
import Portfolio
import Testing
@testable import Backtest

/// The selectors of every online OLPS algorithm with toolbox defaults (the hindsight ones excluded).
private let onlineAlgorithms: [(OLPSAlgorithm, String?)] = [
    (.ubah, nil), (.ucrp, nil), (.eg, nil), (.ons, nil), (.up, nil), (.anticor, "single"), (.anticor, "bah"),
    (.pamr, "0"), (.pamr, "1"), (.pamr, "2"), (.cwmr, "var"), (.cwmr, "stdev"), (.olmar, "1"), (.olmar, "2"),
    (.rmr, nil), (.corn, nil),
]

@Suite("OLPS selectors inside the engine")
struct OLPSStrategyTests {
    /// The DJIA panel as loaded (with the day-0 row of ones, so its relatives are the full-history
    /// convention) and its relatives.
    static func djia() throws -> (PricePanel, PriceRelatives) {
        let panel = try Dataset.olpsDJIA.load()
        return (panel, try PriceRelatives(prices: panel))
    }

    /// Zero costs, every-period rebalancing at the decision close, no cash, first decision at bar 0:
    /// the engine's point `k + 1` is the runner's `S_k` and the final wealth agrees. Tolerance 1e-10
    /// relative (both do the same arithmetic in the same order; the measured error is ≤ 1e-15).
    @Test("zero costs: the engine's wealth path equals OLPSRunner's on DJIA (1e-10)")
    func parityWithoutCosts() throws {
        let (panel, relatives) = try Self.djia()
        let engine = try BacktestEngine(panel: panel)
        for (algorithm, variant) in onlineAlgorithms {
            let runner = try OLPSRunner.run(algorithm.makeSelector(variant: variant, relatives: relatives), on: relatives)
            let result = try engine.run(OLPSStrategy(algorithm: algorithm, variant: variant))
            #expect(result.periodCount == relatives.periodCount)
            #expect(relativeError(result.finalWealth, runner.finalWealth) <= 1e-10,
                    "\(runner.algorithm): engine \(result.finalWealth), runner \(runner.finalWealth)")
            let worst = runner.wealth.indices.map { relativeError(result.wealth[$0 + 1], runner.wealth[$0]) }.max()!
            #expect(worst <= 1e-10, "\(runner.algorithm): path error \(worst)")
        }
    }

    /// With the simple cost factor at rate `c` on buys and sells and no cash, the engine charges
    /// `1 − c·Σ|b − b̂|`, the runner's fee function under the paper convention (whose selectors are used here). The engine books the cost of the rebalance at
    /// bar `k + 1` in its point `k + 1` and the runner in `S_{k+1}`, so the runner's `S_k` is the
    /// engine's pre-trade wealth `wealth[k + 1] / (1 − cost[k])`; the final wealth is the same (no
    /// trade at the last bar). Turnover is compared too. Tolerance 1e-10 relative (1e-12 absolute on
    /// turnover).
    @Test("costs: the engine's path equals the runner's fee path (1e-10)", arguments: [0.001, 0.0025])
    func parityWithCosts(fee: Double) throws {
        let (panel, relatives) = try Self.djia()
        let costs = try TransactionCostModel(rate: fee, method: .simple)
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(costs: costs))
        for (algorithm, variant) in [(OLPSAlgorithm.olmar, "1"), (.pamr, "0"), (.rmr, nil), (.cwmr, "var"), (.ons, nil),
                                     (.anticor, "single"), (.ucrp, nil)] as [(OLPSAlgorithm, String?)] {
            let selector = try algorithm.makeSelector(variant: variant, relatives: relatives, convention: .paper)
            let runner = try OLPSRunner.run(selector, on: relatives, fee: fee, convention: .paper)
            let result = try engine.run(OLPSStrategy(selector))
            #expect(relativeError(result.finalWealth, runner.finalWealth) <= 1e-10, "\(runner.algorithm)")
            #expect(relativeError(result.wealth[0], 1 - fee) <= 1e-15, "the first purchase from cash pays the fee once")
            for k in 0..<(relatives.periodCount - 1) {
                let preTrade = result.wealth[k + 1] / (1 - result.transactionCosts[k])
                #expect(relativeError(preTrade, runner.wealth[k]) <= 1e-10, "\(runner.algorithm) period \(k)")
                #expect(abs(result.turnover[k] - runner.turnover[k + 1]) <= 1e-12, "\(runner.algorithm) turnover \(k)")
            }
        }
    }

    /// The adapter's decisions up to bar `k` do not depend on any price after bar `k`: the same run on
    /// a panel whose prices after bar `k` are scrambled makes bit-identical decisions up to `k`.
    @Test("no look-ahead: scrambling the prices after bar k leaves every decision up to k unchanged")
    func noLookAhead() throws {
        let (panel, _) = try Self.djia()
        let cut = 200
        var rng = SplitMix64(seed: 9)
        var scrambled = panel.close
        for t in (cut + 1)..<panel.timeCount {
            for a in 0..<panel.assetCount { scrambled[t, a] *= 0.5 + Double(rng.next() % 1000) / 1000 }
        }
        let other = try PricePanel(index: panel.index, assets: panel.assets, close: scrambled)
        for (algorithm, variant) in [(OLPSAlgorithm.olmar, "1"), (.pamr, "0"), (.anticor, "single"), (.corn, nil)]
            as [(OLPSAlgorithm, String?)] {
            for timing in ExecutionTiming.allCases {
                let configuration = BacktestConfiguration(execution: timing)
                let original = try BacktestEngine(panel: panel, configuration: configuration)
                    .run(OLPSStrategy(algorithm: algorithm, variant: variant))
                let changed = try BacktestEngine(panel: other, configuration: configuration)
                    .run(OLPSStrategy(algorithm: algorithm, variant: variant))
                let early = original.decisions.filter { $0.decisionBar <= cut }
                #expect(early.count == cut + 1)
                #expect(early.map(\.weightsAfter) == changed.decisions.prefix(early.count).map(\.weightsAfter),
                        "\(algorithm) \(timing)")
                #expect(original.decisions[cut + 1].weightsAfter != changed.decisions[cut + 1].weightsAfter,
                        "the scrambled prices do reach the next decision")
            }
        }
    }

    /// Monthly rebalancing: the selector still learns every period from the observed relatives, and
    /// trades to its current portfolio at each month end; a later first decision warms it up on the
    /// history before it. Both runs equal the every-period portfolios of the runner at those bars.
    @Test("a sparser schedule trades to the runner's portfolio of the decision bar (1e-12)")
    func sparseSchedule() throws {
        let (panel, relatives) = try Self.djia()
        let runner = try OLPSRunner.run(MovingAverageReversion(), on: relatives, recordWeights: true)
        for configuration in [BacktestConfiguration(schedule: .everyNPeriods(21)),
                              BacktestConfiguration(schedule: .everyNPeriods(5), firstDecisionBar: 50)] {
            let result = try BacktestEngine(panel: panel, configuration: configuration).run(OLPSStrategy(MovingAverageReversion()))
            #expect(result.decisions.count > 10)
            for decision in result.decisions {
                let expected = runner.portfolio(at: decision.decisionBar)
                let gap = zip(decision.weightsAfter, expected).map { abs($0 - $1) }.max()!
                #expect(gap <= 1e-12, "bar \(decision.decisionBar)")
            }
        }
    }

    /// Asset C lists at bar 30 of 60. OLMAR learns relative 1 for it before, the trade targets hold
    /// none of it while it has no price, and the run completes with weights summing to one.
    @Test("an asset listed halfway gets no weight before it has a price")
    func assetListedHalfway() throws {
        var rng = SplitMix64(seed: 4)
        var prices: [[Double]] = [[100, 100, .nan]]
        for t in 1..<60 {
            let previous = prices[t - 1]
            let moves = (0..<3).map { _ in 0.95 + Double(rng.next() % 1000) / 10_000 }
            prices.append([previous[0] * moves[0], previous[1] * moves[1], t < 30 ? .nan : (t == 30 ? 100 : previous[2] * moves[2])])
        }
        let panel = try makePanel(prices, assets: ["A", "B", "C"])
        let configuration = BacktestConfiguration(unavailableAssets: .redistribute)
        let result = try BacktestEngine(panel: panel, configuration: configuration).run(OLPSStrategy(MovingAverageReversion()))
        #expect(result.periodCount == 59)
        for decision in result.decisions where decision.executionBar < 30 {
            #expect(decision.weightsAfter[2] == 0, "bar \(decision.executionBar)")
        }
        #expect(result.decisions.contains { $0.weightsAfter[2] > 0 }, "C is bought once it trades")
        for row in result.weights { #expect(abs(row.reduce(0, +) - 1) <= 1e-12) }
    }

    @Test("hindsight benchmarks cannot run as causal strategies")
    func hindsightRejected() {
        #expect(throws: OLPSError.self) { try OLPSStrategy(algorithm: .bcrp) }
        #expect(throws: OLPSError.self) { try OLPSStrategy(algorithm: .best) }
    }
}

/// The NumPy recursion fixture written by Scripts/fixtures/backtest_insurance.py.
private struct InsuranceFixture: Decodable {
    struct Decision: Decodable {
        let bar: Int
        let wealth: Double
        let floor: Double
        let exposure: Double
    }
    struct Case: Decodable {
        let name: String
        let method: String
        let floor_fraction: Double
        let multiplier: Double
        let cash_rate: Double
        let cost: Double
        let every: Int
        let maximum_exposure: Double
        let wealth: [Double]
        let decisions: [Decision]
    }
    let assets: [String]
    let prices: [[Double]]
    let sleeve: [Double]
    let cases: [Case]
}

@Suite("Portfolio insurance overlay in the engine")
struct InsuredStrategyTests {
    /// CPPI and TIPP on a fixed-weight sleeve with every-period and every-5-bar rebalancing, with and
    /// without simple costs, and a levered CPPI (exposure up to 1.5, cash borrowed, gross limit 1.5),
    /// against an independent NumPy recursion: wealth at every bar, and the wealth, floor and exposure
    /// of every decision, to 1e-12 relative (1e-12 absolute on exposure).
    @Test("engine-driven CPPI/TIPP equals the NumPy recursion (1e-12)")
    func matchesNumPy() throws {
        let fixture: InsuranceFixture = try fixtures.load("backtest_insurance")
        let panel = try makePanel(fixture.prices, assets: fixture.assets)
        for item in fixture.cases {
            let costs = item.cost == 0 ? TransactionCostModel.free : try TransactionCostModel(rate: item.cost, method: .simple)
            let configuration = BacktestConfiguration(schedule: item.every == 1 ? .everyPeriod : .everyNPeriods(item.every),
                                                      costs: costs, cash: CashAsset(returnPerPeriod: item.cash_rate),
                                                      maximumGrossLeverage: item.maximum_exposure > 1 ? item.maximum_exposure : nil)
            let insurance = PortfolioInsurance(method: item.method == "cppi" ? .cppi : .tipp, floorFraction: item.floor_fraction,
                                               multiplier: item.multiplier, maximumExposure: item.maximum_exposure)
            var strategy = try InsuredStrategy(sleeve: FixedWeightsStrategy(weights: fixture.sleeve), insurance: insurance)
            let result = try BacktestEngine(panel: panel, configuration: configuration).run(&strategy)
            #expect(result.wealth.count == item.wealth.count, "\(item.name)")
            for (k, expected) in item.wealth.enumerated() {
                #expect(relativeError(result.wealth[k], expected) <= 1e-12, "\(item.name) bar \(k)")
            }
            #expect(strategy.decisions.count == item.decisions.count, "\(item.name)")
            for (mine, theirs) in zip(strategy.decisions, item.decisions) {
                #expect(mine.bar == theirs.bar)
                #expect(relativeError(mine.wealth, theirs.wealth) <= 1e-12, "\(item.name) bar \(mine.bar)")
                #expect(relativeError(mine.floor, theirs.floor) <= 1e-12, "\(item.name) bar \(mine.bar)")
                #expect(abs(mine.exposure - theirs.exposure) <= 1e-12, "\(item.name) bar \(mine.bar)")
            }
            #expect(item.decisions.contains { $0.exposure < 0.5 }, "the cushion shrinks in the crash")
        }
    }

    /// Every bar the sleeve falls 30 % (just under 1/m = 1/3) or rises 10 %; CPPI with every-period
    /// rebalancing, no costs and cash at 0 keeps wealth at or above the floor 0.8 at every bar. One
    /// 40 % gap (more than 1/m) breaks it, so the check can fail.
    @Test("the floor holds when no gap exceeds 1/m, and a larger gap breaches it")
    func floorHolds() throws {
        func run(worstMove: Double) throws -> (BacktestResult, InsuredStrategy) {
            var price = 100.0
            var closes: [[Double]] = [[price]]
            for t in 1..<60 {
                price *= t % 3 == 0 ? 1 + worstMove : 1.1
                closes.append([price])
            }
            let panel = try makePanel(closes, assets: ["RISKY"])
            let configuration = BacktestConfiguration(cash: CashAsset())
            var strategy = try InsuredStrategy(sleeve: FixedWeightsStrategy(weights: [1]),
                                               insurance: PortfolioInsurance(floorFraction: 0.8, multiplier: 3, maximumExposure: 1))
            return (try BacktestEngine(panel: panel, configuration: configuration).run(&strategy), strategy)
        }
        let (safe, insured) = try run(worstMove: -0.3)
        #expect(insured.floor == 0.8)
        #expect(safe.wealth.allSatisfy { $0 >= 0.8 - 1e-12 }, "min wealth \(safe.wealth.min()!)")
        #expect(insured.decisions.contains { $0.exposure < 1 && $0.exposure > 0 })
        let (gapped, _) = try run(worstMove: -0.4)
        #expect(gapped.wealth.contains { $0 < 0.8 }, "a 40 % gap with m = 3 must breach the floor")
    }

    @Test("bad overlays are rejected: a tolerance band, no cash asset, a sleeve over 100 %, leverage in a long-only backtest")
    func errors() throws {
        let sleeve = FixedWeightsStrategy(weights: [0.6, 0.6])
        #expect(throws: BacktestError.self) {
            try InsuredStrategy(sleeve: sleeve, insurance: PortfolioInsurance(floorFraction: 0.8, multiplier: 3, maximumExposure: 1,
                                                                              rebalancing: .toleranceBand(0.05)))
        }
        #expect(throws: PortfolioError.self) {
            try InsuredStrategy(sleeve: sleeve, insurance: PortfolioInsurance(floorFraction: 1.2, multiplier: 3, maximumExposure: 1))
        }
        let panel = try makePanel([[1, 1], [1.1, 0.9], [1.2, 1.0]], assets: ["A", "B"])
        let overlay = try InsuredStrategy(sleeve: sleeve, insurance: PortfolioInsurance(floorFraction: 0.8, multiplier: 3, maximumExposure: 1))
        #expect(throws: BacktestError.self) { try BacktestEngine(panel: panel).run(overlay) }
        let withCash = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(cash: CashAsset()))
        let error = #expect(throws: BacktestError.self) { try withCash.run(overlay) }
        #expect(error == .weightsDoNotSumToOne(strategy: "fixed weights", time: "2024-01-01", sum: 1.2))
        // m·(1 − f) = 6·0.2 = 1.2 > 1 at the start: the levered target needs a gross-leverage limit.
        let levered = try InsuredStrategy(sleeve: FixedWeightsStrategy(weights: [0.5, 0.5]),
                                          insurance: PortfolioInsurance(floorFraction: 0.8, multiplier: 6))
        let longOnly = #expect(throws: BacktestError.self) { try withCash.run(levered) }
        guard case let .weightsDoNotSumToOne(_, _, sum)? = longOnly else {
            Issue.record("expected weightsDoNotSumToOne, got \(String(describing: longOnly))")
            return
        }
        #expect(abs(sum - 1.2) <= 1e-12)
    }
}
