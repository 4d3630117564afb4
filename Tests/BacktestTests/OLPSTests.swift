import Foundation
import Linalg
import Market
import Testing
@testable import Backtest

/// The universal-portfolios fixture written by Scripts/fixtures/olps.py.
struct OLPSWealthFixture: Decodable {
    struct DayZero: Decodable {
        let file_first_row: [Double]
        let universal_first_rows: [[Double]]
        let rows: Int
    }
    struct Late: Decodable {
        let start: Int
        let rows: [[Double]]
    }
    let exact: [String: [String: Double]]
    let approximate: [String: [String: Double]]
    let weights_prefix: [String: [[Double]]]
    let weights_late_olmar1: Late
    let day_zero: [String: DayZero]
}

/// The selectors configured as in the fixture script (universal-portfolios' parameters).
func paritySelector(_ key: String) throws -> any OnlinePortfolioSelector {
    switch key {
    case "ubah": return UniformBuyAndHold()
    case "ucrp": return try ConstantRebalanced()
    case "eg": return try ExponentiatedGradient(learningRate: 0.05)
    case "pamr": return try PassiveAggressiveMeanReversion(epsilon: 0.5, aggressiveness: 500, variant: .pamr, convention: .paper)
    case "pamr1": return try PassiveAggressiveMeanReversion(epsilon: 0.5, aggressiveness: 500, variant: .pamr1, convention: .paper)
    case "pamr2": return try PassiveAggressiveMeanReversion(epsilon: 0.5, aggressiveness: 500, variant: .pamr2, convention: .paper)
    case "olmar1": return try MovingAverageReversion(epsilon: 10, window: 5, variant: .simple, warmUp: .priceSinceStart, convention: .paper)
    case "rmr": return try RobustMedianReversion(epsilon: 10, window: 5, tolerance: 0.001, warmUp: .priceSinceStart, convention: .paper)
    default: throw FixtureError(description: "no selector for fixture key \(key)")
    }
}

private func wealthError(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-300) }

@Suite("OLPS parity with universal-portfolios")
struct OLPSParityTests {
    static let fixture: OLPSWealthFixture? = try? fixtures.load("olps_wealth")

    /// universal-portfolios computes relatives from the file's prices, so its first row is ones and the
    /// first day's relative (the file's first row) is lost; `.firstDayDropped` rebuilds its matrix
    /// exactly and `.fullHistory` keeps the first day. Tolerance: exact up to one rounding (1e-15 relative).
    @Test("day-0 convention: universal-portfolios drops the first day", arguments: ["olps-djia", "olps-msci"])
    func dayZeroConvention(dataset name: String) throws {
        let fixture = try #require(Self.fixture)
        let expected = try #require(fixture.day_zero[name])
        let dataset = try Dataset(named: name)
        let dropped = try PriceRelatives(dataset: dataset, dayZero: .firstDayDropped)
        let full = try PriceRelatives(dataset: dataset, dayZero: .fullHistory)
        #expect(dropped.periodCount == expected.rows)
        #expect(full.periodCount == expected.rows)
        for (t, row) in expected.universal_first_rows.enumerated() {
            for (i, v) in row.enumerated() { #expect(wealthError(dropped[t, i], v) <= 1e-15, "period \(t) asset \(i)") }
        }
        #expect(expected.universal_first_rows[0].allSatisfy { $0 == 1 })
        for (i, v) in expected.file_first_row.enumerated() { #expect(wealthError(full[0, i], v) <= 1e-15) }
        #expect(expected.file_first_row.contains { $0 != 1 })
    }

    /// Final wealth, no fee, on the first-day-dropped matrix. Tolerance 1e-9 relative.
    @Test("final wealth matches universal-portfolios",
          arguments: ["olps-nyse-o", "olps-nyse-n", "olps-djia", "olps-sp500", "olps-tse", "olps-msci"])
    func finalWealth(dataset name: String) throws {
        let fixture = try #require(Self.fixture)
        let expected = try #require(fixture.exact[name])
        let relatives = try PriceRelatives(dataset: Dataset(named: name), dayZero: .firstDayDropped)
        for (key, wealth) in expected.sorted(by: { $0.key < $1.key }) {
            let selector: any OnlinePortfolioSelector = key == "best" ? BestStock(hindsight: relatives) : try paritySelector(key)
            let result = try OLPSRunner.run(selector, on: relatives)
            #expect(wealthError(result.finalWealth, wealth) <= 1e-9, "\(name) \(key): \(result.finalWealth) vs \(wealth)")
        }
    }

    /// Portfolios b_0…b_11 on DJIA (and OLMAR-1's b_100…b_103). Tolerance 1e-9 absolute per weight.
    @Test("first portfolios match universal-portfolios")
    func weightsPrefix() throws {
        let fixture = try #require(Self.fixture)
        let relatives = try PriceRelatives(dataset: .olpsDJIA, dayZero: .firstDayDropped)
        for (key, rows) in fixture.weights_prefix.sorted(by: { $0.key < $1.key }) {
            let result = try OLPSRunner.run(try paritySelector(key), on: relatives.prefix(rows.count), recordWeights: true)
            for (t, row) in rows.enumerated() {
                let ours = result.portfolio(at: t)
                for i in row.indices { #expect(abs(ours[i] - row[i]) <= 1e-9, "\(key) period \(t) asset \(i)") }
            }
        }
        let late = fixture.weights_late_olmar1
        let result = try OLPSRunner.run(try paritySelector("olmar1"), on: relatives, recordWeights: true)
        for (k, row) in late.rows.enumerated() {
            let ours = result.portfolio(at: late.start + k)
            for i in row.indices { #expect(abs(ours[i] - row[i]) <= 1e-9, "olmar1 period \(late.start + k) asset \(i)") }
        }
    }

    /// BCRP: universal-portfolios optimizes with SLSQP, MetaFolio solves to optimality, so ours must be at
    /// least theirs (1e-9 relative slack) and close (1e-4 relative). ONS: the fixture runs cvxopt's QP
    /// projection at 1e-13 tolerances (its defaults, 1e-7, move the wealth by up to 7e-4); both sides are
    /// iterative solvers, so 1e-6 relative.
    @Test("BCRP and ONS agree with universal-portfolios' approximate solvers",
          arguments: ["olps-djia", "olps-sp500", "olps-msci", "olps-tse"])
    func approximateSolvers(dataset name: String) throws {
        let fixture = try #require(Self.fixture)
        let expected = try #require(fixture.approximate[name])
        let relatives = try PriceRelatives(dataset: Dataset(named: name), dayZero: .firstDayDropped)
        let bcrp = try BestConstantRebalanced(hindsight: relatives)
        #expect(bcrp.report.status == .converged)
        let wealth = try OLPSRunner.run(bcrp, on: relatives).finalWealth
        let reference = try #require(expected["bcrp"])
        #expect(wealth >= reference * (1 - 1e-9), "\(name) BCRP \(wealth) below SLSQP's \(reference)")
        #expect(wealthError(wealth, reference) <= 1e-4, "\(name) BCRP \(wealth) vs \(reference)")
        if let ons = expected["ons"] {
            let ours = try OLPSRunner.run(OnlineNewtonStep(), on: relatives).finalWealth
            #expect(wealthError(ours, ons) <= 1e-6, "\(name) ONS \(ours) vs \(ons)")
        }
    }
}

/// A two-asset market whose figures are worked out by hand in the tests.
func handMarket() throws -> PriceRelatives {
    try PriceRelatives(values: [2, 1, 1, 2, 0.5, 1.5], periodCount: 3, assets: ["A", "B"])
}

@Suite("OLPS runner, algorithms and errors")
struct OLPSRunnerTests {
    /// Exact: progress comes after each hundredth of the run, in order, ends at (T, T), and does not change the result.
    @Test("progress reports every hundredth of the periods and the end")
    func progressReports() throws {
        let relatives = try PriceRelatives(dataset: .olpsDJIA, dayZero: .firstDayDropped)
        var reports: [Int] = []
        let result = try OLPSRunner.run(ConstantRebalanced(), on: relatives) { done, total in
            #expect(total == relatives.periodCount)
            reports.append(done)
        }
        let stride = max(1, relatives.periodCount / 100)
        #expect(reports == Array(Swift.stride(from: stride, through: relatives.periodCount, by: stride))
                + (relatives.periodCount % stride == 0 ? [] : [relatives.periodCount]))
        #expect(result.wealth == (try OLPSRunner.run(ConstantRebalanced(), on: relatives)).wealth)
    }

    /// UCRP with fee 1% per unit traded (paper convention): period 0 buys from cash (turnover 1), later periods rebalance from the drifted
    /// portfolio. Hand computation: W₁ = 0.99·1.5; b̂ = (2/3, 1/3); W₂ = W₁·(1 − 0.01/3)·1.5;
    /// b̂ = (1/3, 2/3); W₃ = W₂·(1 − 0.01/3)·1.0. Tolerance 1e-14 relative.
    @Test("proportional fee on the drifted portfolio (hand-computed)")
    func feeByHand() throws {
        let result = try OLPSRunner.run(ConstantRebalanced(), on: handMarket(), fee: 0.01, convention: .paper)
        let w1 = 0.99 * 1.5, w2 = w1 * (1 - 0.01 / 3) * 1.5, w3 = w2 * (1 - 0.01 / 3) * 1.0
        #expect(wealthError(result.wealth[0], w1) <= 1e-14)
        #expect(wealthError(result.wealth[1], w2) <= 1e-14)
        #expect(wealthError(result.finalWealth, w3) <= 1e-14)
        #expect(abs(result.turnover[0] - 1) <= 1e-15)
        #expect(abs(result.turnover[1] - 1.0 / 3) <= 1e-15)
        // Without a fee, UCRP earns 1.5 · 1.5 · 1.0.
        #expect(wealthError(try OLPSRunner.run(ConstantRebalanced(), on: handMarket()).finalWealth, 2.25) <= 1e-15)
    }

    /// UBAH never trades: its wealth is the mean of the assets' wealths, (1 + 1.5)/2 here; Best Stock is
    /// asset B (1.5·… = 3 vs A's 1). Tolerance 1e-15 relative.
    @Test("UBAH and Best Stock by hand")
    func benchmarksByHand() throws {
        let market = try handMarket()
        let ubah = try OLPSRunner.run(UniformBuyAndHold(), on: market, fee: 0.002, convention: .paper)
        #expect(wealthError(ubah.finalWealth, (1 + 3) / 2 * (1 - 0.002)) <= 1e-15)
        #expect(ubah.turnover.dropFirst().allSatisfy { $0 < 1e-15 })
        let best = BestStock(hindsight: market)
        #expect(best.asset == 1)
        #expect(wealthError(try OLPSRunner.run(best, on: market).finalWealth, 3) <= 1e-15)
    }

    /// BCRP for two assets with relatives (2, 1) and (1, 2) in equal numbers is (½, ½) by symmetry, with
    /// wealth 1.5 per pair. With (4, 1), (1, 1): maximize log(1 + 3b) + 0 → b = 1 (a vertex): the solver
    /// must find a boundary optimum. Tolerances 1e-9 on weights, 1e-12 relative on wealth.
    @Test("BCRP interior and boundary optima")
    func bcrpKnownOptima() throws {
        let symmetric = try PriceRelatives(values: [2, 1, 1, 2, 2, 1, 1, 2], periodCount: 4, assets: ["A", "B"])
        let interior = try BestConstantRebalanced(hindsight: symmetric)
        #expect(interior.report.status == .converged)
        #expect(abs(interior.portfolio[0] - 0.5) <= 1e-9)
        #expect(wealthError(try OLPSRunner.run(interior, on: symmetric).finalWealth, pow(1.5, 4)) <= 1e-12)
        let corner = try PriceRelatives(values: [4, 1, 1, 1, 1, 1], periodCount: 2, assets: ["A", "B", "C"])
        let vertex = try BestConstantRebalanced(hindsight: corner)
        #expect(vertex.report.status == .converged)
        #expect(abs(vertex.portfolio[0] - 1) <= 1e-9)
        #expect(interior.report.dualityGap <= 1e-12)
    }

    /// Changing the relatives of the last period must not change any portfolio: a selector sees only the
    /// past (exact equality).
    @Test("no look-ahead: portfolios ignore the current and later relatives", arguments: OLPSAlgorithm.allCases.filter { $0 != .bcrp && $0 != .best })
    func noLookAhead(algorithm: OLPSAlgorithm) throws {
        let base = try PriceRelatives(dataset: .olpsDJIA).prefix(80)
        var changed = base.values
        let m = base.assetCount
        for i in 0..<m { changed[(base.periodCount - 1) * m + i] *= i.isMultiple(of: 2) ? 1.7 : 0.4 }
        let altered = try PriceRelatives(values: changed, periodCount: base.periodCount, assets: base.assets)
        let a = try OLPSRunner.run(algorithm.makeSelector(relatives: base), on: base, recordWeights: true)
        let b = try OLPSRunner.run(algorithm.makeSelector(relatives: altered), on: altered, recordWeights: true)
        #expect(a.weights == b.weights, "\(algorithm)")
        #expect(a.wealth.dropLast() == b.wealth.dropLast())
    }

    /// Every algorithm returns valid portfolios (the runner checks each) and positive wealth with a fee.
    @Test("every algorithm and variant runs with a fee", arguments: OLPSAlgorithm.allCases)
    func allAlgorithmsRun(algorithm: OLPSAlgorithm) throws {
        let relatives = try PriceRelatives(dataset: .olpsMSCI).prefix(120)
        for variant in algorithm.variants.isEmpty ? [nil] : algorithm.variants.map(Optional.some) {
            let free = try OLPSRunner.run(algorithm.makeSelector(variant: variant, relatives: relatives), on: relatives)
            let costly = try OLPSRunner.run(algorithm.makeSelector(variant: variant, relatives: relatives), on: relatives, fee: 0.001)
            #expect(costly.finalWealth > 0)
            #expect(costly.finalWealth < free.finalWealth, "\(algorithm) \(variant ?? "")")
        }
    }

    /// Cover's UP on two assets is the average CRP wealth ∫₀¹ Π_t (b x_t1 + (1−b) x_t2) db (a degree-6
    /// polynomial, integrated by Simpson's rule). 20 000 samples: Monte Carlo tolerance 1e-2 relative;
    /// the same seed gives the same wealth bit for bit.
    @Test("sampled UP approaches Cover's integral")
    func universalPortfolioIntegral() throws {
        let market = try PriceRelatives(values: [1.3, 0.8, 0.7, 1.2, 1.25, 0.9, 0.8, 1.1, 1.2, 0.95, 0.85, 1.15],
                                        periodCount: 6, assets: ["A", "B"])
        var exact = 0.0
        let panels = 2000
        for k in 0...panels {
            let b = Double(k) / Double(panels)
            var w = 1.0
            for t in 0..<market.periodCount { w *= b * market[t, 0] + (1 - b) * market[t, 1] }
            let coefficient = (k == 0 || k == panels) ? 1.0 : (k.isMultiple(of: 2) ? 2.0 : 4.0)
            exact += coefficient * w
        }
        exact /= 3 * Double(panels)
        let sampled = try OLPSRunner.run(UniversalPortfolio(sampleCount: 20_000, seed: 7, convention: .paper), on: market).finalWealth
        #expect(wealthError(sampled, exact) <= 1e-2)
        let again = try OLPSRunner.run(UniversalPortfolio(sampleCount: 20_000, seed: 7, convention: .paper), on: market).finalWealth
        #expect(sampled == again)
    }

    @Test("bad relatives, parameters and fees throw typed errors")
    func errors() throws {
        #expect(throws: OLPSError.invalidRelative(period: 1, asset: "B", value: -1)) {
            try PriceRelatives(values: [1, 1, 1, -1], periodCount: 2, assets: ["A", "B"])
        }
        #expect(throws: OLPSError.self) { try PriceRelatives(values: [1, .nan], periodCount: 1, assets: ["A", "B"]) }
        #expect(throws: OLPSError.shapeMismatch(expected: "2 × 2 = 4 values", found: "3 values")) {
            try PriceRelatives(values: [1, 1, 1], periodCount: 2, assets: ["A", "B"])
        }
        #expect(throws: OLPSError.empty(what: "no periods")) { try PriceRelatives(values: [], periodCount: 0, assets: ["A"]) }
        #expect(throws: OLPSError.invalidFee(value: 1.5)) { try OLPSRunner.run(UniformBuyAndHold(), on: handMarket(), fee: 1.5) }
        #expect(throws: OLPSError.self) { try ExponentiatedGradient(learningRate: 0) }
        #expect(throws: OLPSError.self) { try MovingAverageReversion(window: 1) }
        #expect(throws: OLPSError.self) { try ConfidenceWeightedMeanReversion(confidence: 0.3) }
        #expect(throws: OLPSError.self) { try PassiveAggressiveMeanReversion(epsilon: -1) }
        #expect(throws: OLPSError.self) { try ConstantRebalanced(portfolio: [0.7, 0.7]) }
        #expect(throws: OLPSError.unknownAlgorithm(name: "olmr", known: OLPSAlgorithm.allCases.map(\.rawValue))) {
            try OLPSAlgorithm(named: "olmr")
        }
        #expect(throws: OLPSError.self) { try OLPSAlgorithm.pamr.makeSelector(variant: "7", relatives: handMarket()) }
        #expect(throws: OLPSError.self) { try PriceRelatives(dataset: .vix) }
        let crp = try ConstantRebalanced(portfolio: [0.5, 0.25, 0.25])
        #expect(throws: OLPSError.self) { try OLPSRunner.run(crp, on: handMarket()) }
    }

    /// A selector that returns a non-portfolio is reported with its name and the period.
    @Test("an invalid portfolio from a selector is reported")
    func invalidPortfolio() throws {
        struct Broken: OnlinePortfolioSelector {
            var name: String { "Broken" }
            mutating func reset(assetCount: Int) throws {}
            mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
                for i in 0..<weights.count { weights[i] = step.period == 2 ? 1 : 1 / Double(weights.count) }
            }
        }
        #expect(throws: OLPSError.invalidPortfolio(algorithm: "Broken", period: 2, reason: "weights sum to 2.0, not 1")) {
            try OLPSRunner.run(Broken(), on: handMarket())
        }
    }

    /// Φ⁻¹(0.95) = 1.6448536269514722 (scipy.stats.norm.ppf), Φ⁻¹(0.5) = 0, Φ⁻¹(0.01) = −2.3263478740408408.
    /// Tolerance 1e-14 absolute.
    @Test("normal quantile used by CWMR")
    func normalQuantile() throws {
        #expect(abs(try NormalDistribution.quantile(0.95) - 1.6448536269514722) <= 1e-14)
        #expect(abs(try NormalDistribution.quantile(0.5)) <= 1e-14)
        #expect(abs(try NormalDistribution.quantile(0.01) + 2.3263478740408408) <= 1e-14)
    }
}
