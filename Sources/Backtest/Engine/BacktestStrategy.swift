import Linalg
import Market

/// What a strategy may see when it decides: the market up to and including the decision bar.
///
/// The context wraps the whole panel but every accessor stops at ``bar``: asking for more history
/// than exists throws, and there is no accessor that reaches past the decision bar. This is how
/// the engine guarantees that no strategy sees a price it would not have had (see the look-ahead
/// tests). Weight vectors list the panel's assets in order, followed by the cash asset when the
/// backtest has one.
public struct DecisionContext: Sendable {
    /// The decision bar: a 0-based position in the panel.
    public let bar: Int
    /// The panel's label of the decision bar.
    public let label: TimeLabel
    /// The risky assets, in panel order.
    public let assets: [String]
    /// The cash asset's name, when the backtest holds cash.
    public let cashAsset: String?
    /// The cash asset's simple return per bar (0 without cash).
    public let cashReturnPerPeriod: Double
    /// The weights held now, drifted by the prices up to the decision bar: one per asset, then
    /// cash when present. Before the first trade everything is in cash (all zeros without cash).
    public let currentWeights: [Double]
    /// Portfolio value now, in units of the initial wealth.
    public let wealth: Double
    /// `true` for the first decision of the backtest.
    public let isInitial: Bool
    /// The bar at which the decision will be executed (the decision bar or the next one).
    public let executionBar: Int

    private let panel: PricePanel

    init(bar: Int, panel: PricePanel, cash: CashAsset?, currentWeights: [Double], wealth: Double,
         isInitial: Bool, executionBar: Int) {
        self.bar = bar
        self.label = panel.index.label(at: bar)
        self.assets = panel.assets
        self.cashAsset = cash?.name
        self.cashReturnPerPeriod = cash?.returnPerPeriod ?? 0
        self.currentWeights = currentWeights
        self.wealth = wealth
        self.isInitial = isInitial
        self.executionBar = executionBar
        self.panel = panel
    }

    /// The decision date, or `nil` for a period index.
    public var date: MarketDate? {
        if case let .date(date) = label { return date }
        return nil
    }

    /// Number of bars visible: `bar + 1`.
    public var availableHistory: Int { bar + 1 }

    /// Number of risky assets.
    public var assetCount: Int { assets.count }

    private func checkLookback(_ bars: Int, _ operation: String) throws {
        guard bars >= 1, bars <= availableHistory else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "lookback",
                                                message: "\(bars) bars requested at \(label) where 1…\(availableHistory) are visible")
        }
    }

    /// The closes of the last `bars` bars ending at the decision bar, `bars × assetCount` (oldest
    /// first; `NaN` where an asset has no price).
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` when `bars` is not
    ///   in `1…availableHistory`.
    public func closes(lookback bars: Int) throws -> Matrix {
        try checkLookback(bars, "DecisionContext.closes")
        return panel.close.rows((bar + 1 - bars)..<(bar + 1))
    }

    /// The close of `asset` (a panel position) at the decision bar (`NaN` when missing).
    public func lastClose(asset: Int) -> Double { panel.close[bar, asset] }

    /// Simple returns `pₜ/pₜ₋₁ − 1` of the last `periods` periods ending at the decision bar,
    /// `periods × assetCount` (`NaN` where either price is missing).
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` when `periods + 1`
    ///   bars are not visible.
    public func simpleReturns(lookback periods: Int) throws -> Matrix {
        try checkLookback(periods + 1, "DecisionContext.simpleReturns")
        let close = panel.close, n = assetCount
        var result = Matrix(rows: periods, columns: n)
        for k in 0..<periods {
            let t = bar - periods + 1 + k
            for a in 0..<n { result[k, a] = close[t, a] / close[t - 1, a] - 1 }
        }
        return result
    }

    /// Price relatives `pₜ/pₜ₋₁` of the last `periods` periods (the `x` vectors of online portfolio
    /// selection), `periods × assetCount`; `NaN` where either price is missing.
    ///
    /// - Throws: as ``simpleReturns(lookback:)``.
    public func priceRelatives(lookback periods: Int) throws -> Matrix {
        try simpleReturns(lookback: periods).map { $0 + 1 }
    }

    /// Whether `asset` (a panel position) is tradable at the decision bar.
    public func isAvailable(asset: Int) -> Bool { panel.mask[bar, asset] }

    /// For each asset, whether it was available at every one of the last `bars` bars.
    ///
    /// - Throws: as ``closes(lookback:)``.
    public func availableThroughout(lookback bars: Int) throws -> [Bool] {
        try checkLookback(bars, "DecisionContext.availableThroughout")
        return (0..<assetCount).map { a in ((bar + 1 - bars)...bar).allSatisfy { panel.mask[$0, a] } }
    }

    /// The panel restricted to the bars `range`, which must end at or before the decision bar
    /// (`range.upperBound ≤ bar + 1`): a training window that stops short of the decision, as a
    /// purged walk-forward split asks.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` for an empty range or
    ///   one reaching past the decision bar.
    public func history(bars range: Range<Int>) throws -> PricePanel {
        guard !range.isEmpty, range.lowerBound >= 0, range.upperBound <= bar + 1 else {
            throw BacktestError.invalidArgument(operation: "DecisionContext.history", parameter: "bars",
                                                message: "\(range) is empty or reaches past the decision bar \(bar)")
        }
        return panel.slicing(range)
    }

    /// The panel restricted to the last `bars` bars ending at the decision bar (all visible bars
    /// when `nil`): the training data of a fit/predict strategy.
    ///
    /// - Throws: as ``closes(lookback:)``.
    public func history(lookback bars: Int? = nil) throws -> PricePanel {
        let count = bars ?? availableHistory
        try checkLookback(count, "DecisionContext.history")
        return panel.slicing((bar + 1 - count)..<(bar + 1))
    }
}

/// What happened over one holding period, reported to the strategy after the period's rebalance.
public struct PeriodOutcome: Sendable {
    /// The bar that ends the period (a panel position).
    public let bar: Int
    /// Its label.
    public let label: TimeLabel
    /// Price relatives `pₜ/pₜ₋₁` of the risky assets over the period (`NaN` where unavailable).
    public let priceRelatives: [Double]
    /// The weights held over the period (after the previous rebalance), assets then cash.
    public let heldWeights: [Double]
    /// The weights drifted by the period's prices, before this bar's rebalance.
    public let driftedWeights: [Double]
    /// The weights after this bar's rebalance (equal to ``driftedWeights`` without one).
    public let weightsAfter: [Double]
    /// `Σ heldᵢ·relativeᵢ − 1`: the period's return before costs.
    public let grossReturn: Double
    /// The return after this bar's transaction costs.
    public let netReturn: Double
    /// `1 − μ` of this bar's rebalance (0 without one).
    public let cost: Double
    /// Portfolio value after the rebalance, in units of the initial wealth.
    public let wealth: Double
}

/// A strategy the engine can run: it produces target weights when asked and may learn after
/// each period.
///
/// Rule-based strategies implement ``targetWeights(_:)`` only. Online learners (OLPS, the EIIE agent
/// with online stochastic batch learning, a meta-learned allocator adapting at test time) also
/// implement ``observe(_:)``, which the engine calls once per holding period, in order, after the
/// period's rebalance. Methods are `mutating` so value-type strategies can keep state; run them
/// with `BacktestEngine.run(_:)`, on a copy or (passing `&strategy`)
/// in place to keep the trained state.
public protocol BacktestStrategy {
    /// A name for logs, results and errors.
    var name: String { get }
    /// Bars of history (including the decision bar) needed before the first decision; default 1.
    var requiredHistory: Int { get }
    /// Target weights of the risky assets, in panel order, non-negative (or signed within the
    /// configuration's gross-leverage limit). With a cash asset the remainder `1 − Σwᵢ` is held in
    /// cash; without one they must sum to 1.
    mutating func targetWeights(_ context: DecisionContext) throws -> [Double]
    /// Called after each holding period with its outcome; default does nothing.
    mutating func observe(_ outcome: PeriodOutcome) throws
    /// A plain-words note on the latest ``targetWeights(_:)`` (a fallback taken), recorded with
    /// the decision in ``RebalanceDecision/note``; default `nil`.
    var decisionNote: String? { get }
}

extension BacktestStrategy {
    /// One bar.
    public var requiredHistory: Int { 1 }
    /// Does nothing.
    public mutating func observe(_ outcome: PeriodOutcome) throws {}
    /// No note.
    public var decisionNote: String? { nil }
}

/// A strategy trained on a window of history and then applied: the interface walk-forward
/// validation drives (``WalkForwardStrategy``). Any `PortfolioOptimizer` plugs in through
/// ``OptimizerStrategy``; learned models implement the same two calls.
public protocol FitPredictStrategy {
    /// A name for logs, results and errors.
    var name: String { get }
    /// Trains on `history`: the panel up to and including the decision bar (never later).
    mutating func fit(_ history: PricePanel) throws
    /// Target weights as in ``BacktestStrategy/targetWeights(_:)``, from the last fit.
    mutating func predict(_ context: DecisionContext) throws -> [Double]
}
