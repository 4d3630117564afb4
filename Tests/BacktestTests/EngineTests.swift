import Foundation
import Linalg
import Market
import Portfolio
import Testing
@testable import Backtest

/// A dated panel of closes (rows = bars) on consecutive calendar days from `start`; `nan` = missing.
func makePanel(_ closes: [[Double]], assets: [String], start: MarketDate? = nil) throws -> PricePanel {
    let first = try start ?? MarketDate(year: 2024, month: 1, day: 1)
    let dates = (0..<closes.count).map { first.adding(days: $0) }
    return try PricePanel(index: TimeIndex(dates: dates), assets: assets, close: Matrix(closes))
}

/// Relative error `|a − b| / max(|b|, tiny)`.
func relativeError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

/// Records what it could see at each decision.
struct RecordingStrategy: BacktestStrategy {
    let name = "recorder"
    var weights: [Double]
    var decisionBars: [Int] = []
    var lastVisibleClose: [Double] = []
    var tooLongLookbackThrew: [Bool] = []
    var observedBars: [Int] = []
    var observedNetReturns: [Double] = []

    mutating func targetWeights(_ context: DecisionContext) throws -> [Double] {
        decisionBars.append(context.bar)
        let everything = try context.closes(lookback: context.availableHistory)
        lastVisibleClose.append(everything[everything.rows - 1, 0])
        tooLongLookbackThrew.append((try? context.closes(lookback: context.availableHistory + 1)) == nil)
        return weights
    }

    mutating func observe(_ outcome: PeriodOutcome) throws {
        observedBars.append(outcome.bar)
        observedNetReturns.append(outcome.netReturn)
    }
}

/// Buys the asset whose latest visible return is highest: it profits only if it sees the next bar.
struct LastWinnerStrategy: BacktestStrategy {
    let name = "last winner"
    var requiredHistory: Int { 2 }
    func targetWeights(_ context: DecisionContext) throws -> [Double] {
        let r = try context.simpleReturns(lookback: 1)
        let best = (0..<context.assetCount).max { r[0, $0] < r[0, $1] }!
        return (0..<context.assetCount).map { $0 == best ? 1 : 0 }
    }
}

struct FailingStrategy: BacktestStrategy {
    struct Failure: Error, CustomStringConvertible { var description: String { "model not trained" } }
    let name = "failing"
    func targetWeights(_ context: DecisionContext) throws -> [Double] { throw Failure() }
}

@Suite("Backtest engine")
struct EngineTests {
    /// Prices of the three-period example: A ×1.1, ×0.95, ×1.05; B ×0.9, ×1.2, ×1.0.
    static let threePeriodPrices: [[Double]] = [[100, 50], [110, 45], [104.5, 54], [109.725, 54]]

    /// Target 50% A, 30% B, 20% cash rebalanced every period, buy 1%, sell 2%.
    func threePeriod(_ method: TransactionCostModel.Method) throws -> BacktestResult {
        let panel = try makePanel(Self.threePeriodPrices, assets: ["A", "B"])
        let costs = try TransactionCostModel(buyRate: 0.01, sellRate: 0.02, method: method)
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(costs: costs, cash: CashAsset()))
        return try engine.run(FixedWeightsStrategy(weights: [0.5, 0.3]))
    }

    // Hand computation (the arithmetic is in Scripts/fixtures/backtest_engine_hand.py). Gross
    // returns 2%, 3.5%, 2.5%. Simple factor μ = 1 − Σ[c_p(w−w′)⁺ + c_s(w′−w)⁺]: initial trade
    // 1 − 0.01·0.8 = 0.992; bar 1 drifts to (0.55, 0.27, 0.2)/1.02, A is sold, B bought.
    // Exact factor, solved in closed form once the sold set S is known (A at bar 1, B at bar 2):
    // μ = (1 − c_p w′₀ − k Σ_S w′ᵢ) / (1 − c_p w₀ − k Σ_S wᵢ), k = c_s + c_p − c_s c_p;
    // initial μ = 0.99 / 0.998. No trade at the last bar.
    @Test("three-period example, simple cost factor (tolerance 1e-14 relative)")
    func threePeriodSimple() throws {
        let result = try threePeriod(.simple)
        let wealth = [0.992, 1.01068928, 1.0446332794688, 1.0707491114555199]
        let costs = [0.0011372549019608158, 0.0013671497584540893, 0]
        for k in 0..<4 { #expect(relativeError(result.wealth[k], wealth[k]) < 1e-14) }
        for k in 0..<3 { #expect(abs(result.transactionCosts[k] - costs[k]) < 1e-15) }
        #expect(abs(result.initialCost - 0.008) < 1e-15)
        for (k, g) in [0.02, 0.035, 0.025].enumerated() { #expect(abs(result.grossReturns[k] - g) < 1e-14) }
        #expect(result.decisions.count == 3)
        #expect(result.decisions.allSatisfy { $0.costIterations == 0 })
    }

    @Test("three-period example, exact transaction remainder factor (tolerance 1e-14 relative)")
    func threePeriodExact() throws {
        let result = try threePeriod(.exact)
        let wealth = [0.9919839679358717, 1.0106612370300565, 1.0445985927053867, 1.0707135575230213]
        let costs = [0.0011488269399916318, 0.001372600793746459, 0]
        for k in 0..<4 { #expect(relativeError(result.wealth[k], wealth[k]) < 1e-14) }
        for k in 0..<3 { #expect(abs(result.transactionCosts[k] - costs[k]) < 1e-15) }
        #expect(relativeError(result.initialCost, 1 - 0.99 / 0.998) < 1e-12)
        // After the trade every asset holds exactly μ·wᵢ of the pre-trade value.
        let first = result.decisions[1]
        let mu = 1 - first.cost
        for i in 0..<3 { #expect(abs(first.trades[i] - (mu * first.weightsAfter[i] - first.weightsBefore[i])) < 1e-15) }
        #expect(first.reason == .schedule && result.decisions[0].reason == .initial)
        #expect(first.costIterations > 0)
        // Net returns are wealth ratios; the exact factor costs less than the simple one here.
        for k in 0..<3 { #expect(relativeError(result.netReturns[k] + 1, wealth[k + 1] / wealth[k]) < 1e-14) }
    }

    @Test("remainder factors against their closed forms (1e-15): free, simple, and exact with A sold")
    func remainderProperties() throws {
        let current = [0.4, 0.35, 0.25], target = [0.2, 0.5, 0.3]
        let free = try TransactionCostModel.free.remainder(from: current, to: target, cashIndex: 2)
        #expect(free.factor == 1)
        let exact = try TransactionCostModel(rate: 0.0025).remainder(from: current, to: target, cashIndex: 2)
        let simple = try TransactionCostModel(rate: 0.0025, method: .simple).remainder(from: current, to: target, cashIndex: 2)
        #expect(simple.factor == 1 - 0.0025 * 0.35)
        // A is sold (0.4 > μ·0.2), so eq. 14 is linear in μ: μ = (1 − c·0.25 − k·0.4)/(1 − c·0.3 − k·0.2).
        let k = 2 * 0.0025 - 0.0025 * 0.0025
        #expect(abs(exact.factor - (1 - 0.0025 * 0.25 - k * 0.4) / (1 - 0.0025 * 0.3 - k * 0.2)) < 1e-15)
        #expect(throws: BacktestError.self) { try TransactionCostModel(buyRate: -0.1, sellRate: 0) }
        #expect(throws: BacktestError.self) { try TransactionCostModel(buyRate: 0.1, sellRate: 1) }
    }

    @Test("a strategy sees prices up to its decision bar and no further, with either execution lag")
    func noLookAhead() throws {
        let closes = (0..<12).map { t in [100 + Double(t), 50 - Double(t)] }
        let panel = try makePanel(closes, assets: ["A", "B"])
        for timing in ExecutionTiming.allCases {
            let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(execution: timing))
            var strategy = RecordingStrategy(weights: [0.5, 0.5])
            let result = try engine.run(&strategy)
            #expect(strategy.decisionBars.count == 11 - timing.lag)
            for (k, bar) in strategy.decisionBars.enumerated() {
                #expect(strategy.lastVisibleClose[k] == closes[bar][0])
                #expect(strategy.tooLongLookbackThrew[k])
            }
            for decision in result.decisions { #expect(decision.executionBar == decision.decisionBar + timing.lag) }
            // observe runs once per holding period, in order.
            #expect(strategy.observedBars == Array((1 + timing.lag)...11))
            #expect(strategy.observedNetReturns == result.netReturns)
        }
    }

    @Test("a strategy that would profit only by peeking loses: wealth 0.5^K exactly")
    func peekingDoesNotPay() throws {
        // A and B alternate between doubling and halving: yesterday's winner always halves next.
        let closes = (0..<10).map { t in t % 2 == 0 ? [1.0, 2.0] : [2.0, 1.0] }
        let panel = try makePanel(closes, assets: ["A", "B"])
        let result = try BacktestEngine(panel: panel).run(LastWinnerStrategy())
        #expect(result.periodCount == 8)
        #expect(result.finalWealth == pow(0.5, 8))
        let lagged = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(execution: .nextClose))
            .run(LastWinnerStrategy())
        // With a one-bar lag the order decided at t fills at t + 1, after the reversal, and is held
        // over (t + 1, t + 2], where that asset doubles: 7 periods from bar 2 to bar 9.
        #expect(lagged.periodCount == 7)
        #expect(lagged.finalWealth == pow(2, 7))
    }
}

@Suite("Backtest engine: schedules, availability and errors")
struct EngineScheduleTests {
    @Test("monthly calendar schedule decides at the last bar of each month")
    func monthlyCalendar() throws {
        // Daily bars from 2024-01-25 to 2024-04-05 (calendar days).
        let start = try MarketDate(year: 2024, month: 1, day: 25)
        let closes = (0..<72).map { t in [100 * pow(1.001, Double(t)), 100 * pow(0.999, Double(t))] }
        let panel = try makePanel(closes, assets: ["A", "B"], start: start)
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(schedule: .calendar(.monthly)))
        let result = try engine.run(FixedWeightsStrategy(weights: [0.5, 0.5]))
        #expect(result.decisions.map(\.decisionDate) == ["2024-01-25", "2024-01-31", "2024-02-29", "2024-03-31"])
        #expect(result.decisions.map(\.reason) == [.initial, .schedule, .schedule, .schedule])
        // Between rebalances the weights drift with prices.
        #expect(result.weights[1][0] > 0.5)
        let weekly = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(schedule: .calendar(.weekly)))
            .run(FixedWeightsStrategy(weights: [0.5, 0.5]))
        // Sundays: 2024-01-28 is the first; weeks run Monday to Sunday.
        #expect(weekly.decisions.dropFirst().allSatisfy { MarketDate(iso: $0.decisionDate)!.weekday == .sunday })
    }

    @Test("threshold schedule rebalances only when a weight drifts past the limit")
    func threshold() throws {
        // A doubles over 10 bars, B is flat; from 50/50 A's weight passes 0.55 when A/B > 11/9.
        let closes = (0..<11).map { t in [pow(2, Double(t) / 10), 1] }
        let panel = try makePanel(closes, assets: ["A", "B"])
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(schedule: .threshold(maximumDrift: 0.05)))
        let result = try engine.run(FixedWeightsStrategy(weights: [0.5, 0.5]))
        // Drift after k bars since the last rebalance: 2^(k/10)/(2^(k/10)+1) − 0.5 > 0.05 ⇔ k ≥ 3 (k = 3: 0.5518).
        #expect(result.decisions.map(\.decisionBar) == [0, 3, 6, 9])
        #expect(result.decisions.dropFirst().allSatisfy { $0.reason == .threshold })
        #expect(throws: BacktestError.self) {
            try BacktestEngine(panel: panel, configuration: BacktestConfiguration(schedule: .threshold(maximumDrift: -1)))
        }
    }

    @Test("every-n-periods and a calendar schedule on a period index")
    func everyNAndPeriodIndex() throws {
        let closes = (0..<9).map { t in [1 + Double(t), 2.0] }
        let panel = try PricePanel(index: TimeIndex(periodCount: 9), assets: ["A", "B"], close: Matrix(closes))
        let result = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(schedule: .everyNPeriods(3)))
            .run(FixedWeightsStrategy(weights: [0.5, 0.5]))
        #expect(result.decisions.map(\.decisionBar) == [0, 3, 6])
        #expect(result.dates.first == "0")
        #expect(throws: BacktestError.calendarScheduleNeedsDates(schedule: "monthly")) {
            try BacktestEngine(panel: panel, configuration: BacktestConfiguration(schedule: .calendar(.monthly)))
        }
    }

    /// A and B over 8 bars; B has no price before bar 4 (it lists halfway).
    func listingHalfway() throws -> PricePanel {
        let nan = Double.nan
        return try makePanel([[10, nan], [11, nan], [12, nan], [11, nan], [12, 20], [13, 21], [12, 22], [13, 23]],
                             assets: ["A", "B"])
    }

    @Test("an asset listed halfway: a weight on it is an error, or is renormalised onto the others")
    func assetAppearsHalfway() throws {
        let panel = try listingHalfway()
        let strict = try BacktestEngine(panel: panel)
        #expect(throws: BacktestError.weightOnUnavailableAsset(strategy: "fixed weights", time: "2024-01-01", asset: "B", weight: 0.5)) {
            try strict.run(FixedWeightsStrategy(weights: [0.5, 0.5]))
        }
        let lenient = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(unavailableAssets: .redistribute))
        let result = try lenient.run(FixedWeightsStrategy(weights: [0.5, 0.5]))
        // Until bar 4 B cannot be held (its first return is over (4, 5]): all in A. From bar 4 on 50/50.
        for k in 0..<4 { #expect(result.weights[k] == [1, 0]) }
        for k in 4..<7 { #expect(result.weights[k] == [0.5, 0.5]) }
        #expect(relativeError(result.finalWealth, (12.0 / 10) * (0.5 * 13 / 12 + 0.5 * 21 / 20) * (0.5 * 12 / 13 + 0.5 * 22 / 21)
                                 * (0.5 * 13 / 12 + 0.5 * 23 / 22)) < 1e-14)
        // With cash and nothing else to hold, the freed weight goes to cash.
        let withCash = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(cash: CashAsset(), unavailableAssets: .redistribute))
            .run(FixedWeightsStrategy(weights: [0, 0.6]))
        #expect(withCash.weights[0] == [0, 0, 1])
        #expect(withCash.weights[5] == [0, 0.6, 0.4])
        // A strategy that only sees availability can avoid the asset itself.
        #expect(try lenient.run(FixedWeightsStrategy(weights: [1, 0])).decisions.count == 7)
    }

    @Test("a holding that is delisted is sold at its last price into cash, logged as an availability exit")
    func delisting() throws {
        let nan = Double.nan
        let panel = try makePanel([[10, 20], [11, 21], [12, 22], [13, nan], [14, nan]], assets: ["A", "B"])
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(
            schedule: .everyNPeriods(10), costs: TransactionCostModel(rate: 0.01, method: .simple), cash: CashAsset()))
        let result = try engine.run(FixedWeightsStrategy(weights: [0.5, 0.5]))
        let exit = try #require(result.decisions.last)
        #expect(exit.reason == .availability && exit.executionDate == "2024-01-03")
        #expect(exit.weightsAfter[1] == 0 && exit.weightsAfter[2] == exit.weightsBefore[1])
        #expect(abs(exit.cost - 0.01 * exit.weightsBefore[1]) < 1e-16)
        #expect(result.weights.last![1] == 0)
    }

    @Test("bad weights and bad configurations throw typed errors naming strategy, bar and asset")
    func errors() throws {
        let panel = try makePanel([[1, 2], [1.1, 2.1], [1.2, 2.0]], assets: ["A", "B"])
        let engine = try BacktestEngine(panel: panel)
        #expect(throws: BacktestError.weightCountMismatch(strategy: "fixed weights", time: "2024-01-01", expected: 2, found: 3)) {
            try engine.run(FixedWeightsStrategy(weights: [0.2, 0.3, 0.5]))
        }
        #expect(throws: BacktestError.negativeWeight(strategy: "fixed weights", time: "2024-01-01", asset: "B", weight: -0.5)) {
            try engine.run(FixedWeightsStrategy(weights: [1.5, -0.5]))
        }
        #expect(throws: BacktestError.weightsDoNotSumToOne(strategy: "fixed weights", time: "2024-01-01", sum: 0.5)) {
            try engine.run(FixedWeightsStrategy(weights: [0.25, 0.25]))
        }
        #expect(throws: BacktestError.nonFiniteWeight(strategy: "fixed weights", time: "2024-01-01", asset: "A")) {
            try engine.run(FixedWeightsStrategy(weights: [.nan, 1]))
        }
        #expect(throws: BacktestError.strategyFailed(strategy: "failing", time: "2024-01-01", message: "model not trained")) {
            try engine.run(FailingStrategy())
        }
        #expect(throws: BacktestError.self) { try engine.run(FixedWeightsStrategy(weightsByAsset: ["C": 1])) }
        #expect(throws: BacktestError.insufficientHistory(strategy: "last winner", firstTradeBar: 2, lastBar: 2)) {
            try BacktestEngine(panel: panel, configuration: BacktestConfiguration(execution: .nextClose)).run(LastWinnerStrategy())
        }
        #expect(throws: BacktestError.self) { try BacktestEngine(panel: panel, configuration: BacktestConfiguration(cash: CashAsset(name: "A"))) }
        #expect(throws: BacktestError.self) { try BacktestEngine(panel: panel, configuration: BacktestConfiguration(firstDecisionBar: 2)) }
        #expect(throws: BacktestError.self) { try BacktestEngine(panel: panel, configuration: BacktestConfiguration(lastBar: 3)) }
        #expect(throws: BacktestError.self) { try BacktestEngine(panel: panel, configuration: BacktestConfiguration(initialWealth: 0)) }
        #expect(throws: BacktestError.self) { try OptimizerStrategy(optimizer: EqualWeight(), lookback: 1) }
    }

    @Test("OptimizerStrategy fits on the lookback window of assets available throughout it")
    func optimizerStrategy() throws {
        var generator = SplitMix64(seed: 7)
        var closes: [[Double]] = [[100, 100, 100]]
        for _ in 1..<80 {
            let last = closes.last!
            closes.append(last.map { $0 * (1 + 0.02 * (Double(generator.next() % 1000) / 1000 - 0.5)) })
        }
        for t in 0..<40 { closes[t][2] = .nan }   // C lists at bar 40
        let panel = try makePanel(closes, assets: ["A", "B", "C"])
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(schedule: .everyNPeriods(20)))
        let strategy = try OptimizerStrategy(optimizer: MeanVarianceOptimizer(), lookback: 30)
        let result = try engine.run(strategy)
        #expect(result.decisions.map(\.decisionBar) == [30, 50, 70])
        #expect(result.decisions[0].weightsAfter[2] == 0)            // C not available over bars 0…30
        #expect(result.decisions[2].weightsAfter[2] > 0)             // available over bars 40…70
        // Minimum variance on the window agrees with fitting the optimizer directly.
        let window = try ReturnObservations(simpleReturnsOf: panel.slicing(0..<31).selecting(assets: ["A", "B"]))
        let direct = try MeanVarianceOptimizer().fit(OptimizationInputs(expectedReturns: nil, covariance: CovarianceEstimator().fit(window)))
        #expect(abs(result.decisions[0].weightsAfter[0] - direct.weights[0]) < 1e-12)
        #expect(strategy.requiredHistory == 31)
    }

    @Test("BacktestResult round-trips through JSON")
    func jsonRoundTrip() throws {
        let panel = try makePanel(EngineTests.threePeriodPrices, assets: ["A", "B"])
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(
            costs: TransactionCostModel(buyRate: 0.01, sellRate: 0.02), cash: CashAsset()))
        let result = try engine.run(FixedWeightsStrategy(weights: [0.5, 0.3]))
        let decoded = try JSONDecoder().decode(BacktestResult.self, from: result.jsonData())
        #expect(decoded.wealth == result.wealth && decoded.decisions == result.decisions && decoded.assets == ["A", "B", "CASH"])
        #expect(decoded.costModel == result.costModel && decoded.marketDates?.count == 4)
        #expect(result.drawdowns.allSatisfy { $0 <= 0 })
        // The report adapter keeps wealth and dates, shows one-way turnover and puts cash last.
        let series = try ReportSeries(result: result)
        #expect(series.wealth == result.wealth && series.dates == result.marketDates!)
        #expect(series.turnover == [0.4, result.turnover[0] / 2, result.turnover[1] / 2, 0])
        #expect(series.weights?.assets == ["A", "B", "CASH"] && series.weights?.rows.count == 4)
        let table = PerformanceMetrics.reportTable([try PerformanceMetrics(result: result)])
        #expect(table.rows.count == 26 && table.columns == ["fixed weights"])
    }
}
