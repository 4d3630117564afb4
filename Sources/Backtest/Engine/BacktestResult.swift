import Foundation
import Market

/// One rebalance: when, why, what was traded and what it cost.
///
/// Weights and trades are fractions of the portfolio value just before the trade; they list the
/// risky assets in panel order, then cash when the backtest holds it.
public struct RebalanceDecision: Sendable, Hashable, Codable {
    /// The bar at which the strategy decided (the availability exits use the execution bar).
    public let decisionBar: Int
    /// The bar at which the trade was executed (decision bar plus the execution lag).
    public let executionBar: Int
    /// Label of the decision bar (ISO date or period number).
    public let decisionDate: String
    /// Label of the execution bar.
    public let executionDate: String
    /// Why the rebalance happened.
    public let reason: RebalanceReason
    /// Drifted weights before the trade.
    public let weightsBefore: [Double]
    /// Target weights after the trade (after any availability adjustment).
    public let weightsAfter: [Double]
    /// `μ·wᵢ − w′ᵢ` per asset: value bought (positive) or sold (negative) per unit of pre-trade value.
    public let trades: [Double]
    /// `Σ|wᵢ − w′ᵢ|` over the non-cash assets.
    public let turnover: Double
    /// `1 − μ`: the fraction of value lost to costs.
    public let cost: Double
    /// Portfolio value before the trade, in units of the initial wealth.
    public let wealthBefore: Double
    /// Fixed-point iterations of the exact remainder factor (0 for the simple one).
    public let costIterations: Int
    /// What the strategy reported about this decision (for example that its optimizer failed and a
    /// fallback was held; see ``BacktestStrategy/decisionNote``), or `nil`.
    public var note: String? = nil

    /// Value lost to costs, in units of the initial wealth.
    public var costValue: Double { wealthBefore * cost }
}

/// The outcome of a backtest, as plain arrays that tabulate, plot and encode to JSON directly.
///
/// Time runs over the bars from the first trade (index 0) to the last bar of the backtest.
/// Point series (``dates``, ``wealth``) have `K + 1` entries; period series (``netReturns`` …) have
/// `K`, entry `k` describing the holding period from point `k` to point `k + 1`.
///
/// ## Conventions
/// Costs of a rebalance at bar `t` are charged to the period that ends at `t`, as in
/// `pₜ = pₜ₋₁·μₜ·(yₜ·wₜ₋₁)` (Jiang, Xu & Liang 2017, eq. 11); the initial trade's cost is charged
/// before point 0, so ``wealth``[0] is the initial wealth times the initial `μ`, and
/// ``initialCost`` records it.
public struct BacktestResult: Sendable, Codable {
    /// The strategy's name.
    public let strategy: String
    /// The risky assets in panel order, then the cash asset when present: the columns of ``weights``.
    public let assets: [String]
    /// The cash asset's name, if the backtest held cash.
    public let cashAsset: String?
    /// The schedule's name.
    public let schedule: String
    /// The cost model.
    public let costModel: TransactionCostModel
    /// Bars between decision and execution (0 or 1).
    public let executionLag: Int
    /// Periods per year of the panel's frequency (252 daily, 52 weekly, 12 monthly …), the metrics' default.
    public let periodsPerYear: Double
    /// Labels of the points, `K + 1`: ISO dates, or period numbers for a period index.
    public let dates: [String]
    /// Portfolio value at each point, `K + 1`, in units of the initial wealth (see the conventions).
    public let wealth: [Double]
    /// Returns before costs, `K`: `Σᵢ wᵢ yᵢ − 1` with the weights held over the period.
    public let grossReturns: [Double]
    /// Returns after costs, `K`: `wealth[k + 1] / wealth[k] − 1`.
    public let netReturns: [Double]
    /// Weights held over each period (after the rebalance at its start), `K × assets.count`.
    public let weights: [[Double]]
    /// Turnover `Σ|wᵢ − w′ᵢ|` (non-cash) of the rebalances at each period's end bar, `K`.
    public let turnover: [Double]
    /// `1 − μ` of the rebalances at each period's end bar, `K` (0 without a rebalance).
    public let transactionCosts: [Double]
    /// `1 − μ` of the initial trade.
    public let initialCost: Double
    /// Every rebalance, in order.
    public let decisions: [RebalanceDecision]

    /// Number of holding periods `K`.
    public var periodCount: Int { netReturns.count }
    /// The last value of ``wealth``.
    public var finalWealth: Double { wealth.last ?? 1 }
    /// Labels of the periods' end points, `K` (``dates`` without the first).
    public var returnDates: [String] { Array(dates.dropFirst()) }
    /// The points as dates, or `nil` for a period index.
    public var marketDates: [MarketDate]? {
        var result: [MarketDate] = []
        result.reserveCapacity(dates.count)
        for label in dates {
            guard let date = MarketDate(iso: label) else { return nil }
            result.append(date)
        }
        return result
    }
    /// Drawdown at each point, `K + 1`: `wealthₖ / maxⱼ≤ₖ wealthⱼ − 1` (≤ 0).
    public var drawdowns: [Double] {
        var peak = -Double.infinity
        return wealth.map { value in
            peak = Swift.max(peak, value)
            return value / peak - 1
        }
    }

    /// The result as pretty-printed, key-sorted JSON.
    ///
    /// - Throws: `EncodingError` for non-finite numbers (which the engine never produces).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(self)
    }
}
