import Foundation
import Market
import Testing
@testable import Backtest

/// A target that never changes, signed weights allowed.
private struct SignedWeights: BacktestStrategy {
    let name = "long-short"
    let weights: [Double]
    func targetWeights(_ context: DecisionContext) throws -> [Double] { weights }
}

@Suite("Backtest engine: shorts and gross leverage")
struct LeverageTests {
    /// A: 100 → 110 → 99, B: 50 → 45 → 54; 130/30 book (A 1.3, B −0.3, cash 0) rebalanced every bar.
    static let prices: [[Double]] = [[100, 50], [110, 45], [99, 54]]

    /// Growth 1.3·1.1 − 0.3·0.9 = 1.16, then 1.3·0.9 − 0.3·1.2 = 0.81. With a simple cost c the
    /// first trade buys |1.3| + |−0.3| = 1.6 from cash, and the bar-1 rebalance trades back from
    /// the drifted (1.43, −0.27)/1.16: Σ|Δw| = 0.156/1.16. Tolerance 1e-14 relative.
    @Test("a 130/30 book earns the hand-computed wealth, without and with simple costs (1e-14)")
    func handComputed() throws {
        let panel = try makePanel(Self.prices, assets: ["A", "B"])
        let free = BacktestConfiguration(cash: CashAsset(), maximumGrossLeverage: 1.6)
        let result = try BacktestEngine(panel: panel, configuration: free).run(SignedWeights(weights: [1.3, -0.3]))
        #expect(relativeError(result.finalWealth, 1.16 * 0.81) <= 1e-14)
        #expect(result.weights[0] == [1.3, -0.3, 0])
        let c = 0.001
        var costly = free
        costly.costs = try TransactionCostModel(rate: c, method: .simple)
        let charged = try BacktestEngine(panel: panel, configuration: costly).run(SignedWeights(weights: [1.3, -0.3]))
        let expected = (1 - c * 1.6) * 1.16 * (1 - c * 0.156 / 1.16) * 0.81
        #expect(relativeError(charged.finalWealth, expected) <= 1e-14)
        #expect(abs(charged.turnover[0] - 0.156 / 1.16) <= 1e-14)
    }

    /// A levered long book (A 1.5, cash −0.5) borrows at the cash rate r:
    /// growth 1.5·1.1 − 0.5·(1 + r). Tolerance 1e-14 relative.
    @Test("a levered book pays the cash rate on what it borrows (1e-14)")
    func borrowing() throws {
        let panel = try makePanel(Array(Self.prices.prefix(2)), assets: ["A", "B"])
        let configuration = BacktestConfiguration(cash: CashAsset(returnPerPeriod: 0.001), maximumGrossLeverage: 1.5)
        let result = try BacktestEngine(panel: panel, configuration: configuration).run(SignedWeights(weights: [1.5, 0]))
        #expect(relativeError(result.finalWealth, 1.5 * 1.1 - 0.5 * 1.001) <= 1e-14)
    }

    @Test("beyond the gross limit, shorts without a limit, a limit without cash, and ruin are typed errors")
    func errors() throws {
        let panel = try makePanel(Self.prices, assets: ["A", "B"])
        let limited = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(cash: CashAsset(), maximumGrossLeverage: 1.5))
        let over = #expect(throws: BacktestError.self) { try limited.run(SignedWeights(weights: [1.3, -0.3])) }
        guard case let .grossLeverageExceeded(strategy, time, gross, limit)? = over else {
            Issue.record("expected grossLeverageExceeded, got \(String(describing: over))")
            return
        }
        #expect(strategy == "long-short" && time == "2024-01-01" && abs(gross - 1.6) <= 1e-15 && limit == 1.5)
        let longOnly = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(cash: CashAsset()))
        let negative = #expect(throws: BacktestError.self) { try longOnly.run(SignedWeights(weights: [1.3, -0.3])) }
        #expect(negative == .negativeWeight(strategy: "long-short", time: "2024-01-01", asset: "B", weight: -0.3))
        #expect(throws: BacktestError.self) {
            try BacktestEngine(panel: panel, configuration: BacktestConfiguration(maximumGrossLeverage: 1.5))
        }
        #expect(throws: BacktestError.self) {
            try BacktestEngine(panel: panel, configuration: BacktestConfiguration(cash: CashAsset(), maximumGrossLeverage: 0.5))
        }
        // Short 1.5 of an asset that doubles: growth −1.5·2 + 2.5 = −0.5, the book is wiped out.
        let doubling = try makePanel([[1], [2], [2]], assets: ["X"])
        let ruin = try BacktestEngine(panel: doubling, configuration: BacktestConfiguration(cash: CashAsset(), maximumGrossLeverage: 1.5))
        let exhausted = #expect(throws: BacktestError.self) { try ruin.run(SignedWeights(weights: [-1.5])) }
        #expect(exhausted == .wealthExhausted(strategy: "long-short", time: "2024-01-02", growth: -0.5))
    }

    /// The exact transaction-remainder factor on a long–short book: every rebalance satisfies the
    /// self-financing budget it is derived from (Jiang, Xu & Liang 2017, eq. 14): the cash left
    /// after sales (net of the sell rate) buys the purchases at the buy rate,
    /// `(1 − c_p)(w′₀ + (1 − c_s)S − μw₀) = B` with `S = Σ(w′ᵢ − μwᵢ)⁺`, `B = Σ(μwᵢ − w′ᵢ)⁺`.
    /// Tolerance 1e-14 absolute (fractions of the pre-trade value).
    @Test("exact costs on a long–short book satisfy the self-financing budget (1e-14)")
    func exactCostsBalance() throws {
        let panel = try makePanel(Self.prices, assets: ["A", "B"])
        let costs = try TransactionCostModel(buyRate: 0.002, sellRate: 0.003, method: .exact)
        let configuration = BacktestConfiguration(costs: costs, cash: CashAsset(), maximumGrossLeverage: 1.6)
        let result = try BacktestEngine(panel: panel, configuration: configuration).run(SignedWeights(weights: [1.3, -0.3]))
        #expect(result.decisions.count == 2)
        for decision in result.decisions {
            let mu = 1 - decision.cost
            let before = decision.weightsBefore, after = decision.weightsAfter
            var sold = 0.0, bought = 0.0
            for i in 0..<2 {
                let change = mu * after[i] - before[i]
                if change > 0 { bought += change } else { sold -= change }
            }
            let cashForPurchases = before[2] + (1 - 0.003) * sold - mu * after[2]
            #expect(abs((1 - 0.002) * cashForPurchases - bought) <= 1e-14, "bar \(decision.executionBar)")
            #expect(decision.costIterations > 0 && mu < 1)
        }
    }

    /// A short position in an asset that is delisted is bought back into cash at its last price.
    @Test("a short holding of a delisted asset is closed into cash")
    func delistedShort() throws {
        let nan = Double.nan
        let panel = try makePanel([[100, 50], [110, 45], [99, nan], [100, nan]], assets: ["A", "B"])
        let configuration = BacktestConfiguration(schedule: .everyNPeriods(10), cash: CashAsset(), maximumGrossLeverage: 1.6)
        let result = try BacktestEngine(panel: panel, configuration: configuration).run(SignedWeights(weights: [1.3, -0.3]))
        let exit = try #require(result.decisions.first { $0.reason == .availability })
        // Drifted to (1.43, −0.27, 0)/1.16 at bar 1; buying B back is paid from cash. Tolerance 1e-15.
        #expect(exit.executionBar == 1 && exit.weightsAfter[1] == 0)
        #expect(abs(exit.weightsAfter[2] - -0.27 / 1.16) <= 1e-15)
        #expect(abs(exit.weightsAfter.reduce(0, +) - 1) <= 1e-15)
        #expect(result.weights.last![1] == 0)
    }
}
