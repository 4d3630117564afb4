/// Any ``OnlinePortfolioSelector`` (OLMAR, PAMR, RMR, CWMR, ONS, Anticor, …) as a backtest strategy,
/// so online portfolio selection runs with the engine's schedules, costs, cash and availability.
///
/// The selector starts at the panel's first bar and is stepped once per period, in order, exactly
/// as ``OLPSRunner`` steps it: the portfolio of period `(t, t+1]` is decided from the relatives of
/// the periods ending at bars `1…t`. Relatives reach the selector in two ways, both of past bars
/// only: ``observe(_:)`` records each holding period's relatives as the engine realises them, and
/// ``targetWeights(_:)`` first reads from the ``DecisionContext`` any period not yet observed (the
/// history before the first decision, and the decision bar's own period, which the engine reports
/// after the rebalance). Between the schedule's rebalances the selector keeps learning every period
/// on its own virtual portfolio; at a rebalance the engine trades to the selector's current `b_t`.
///
/// With every-period rebalancing, execution at the decision close, no cash, and the first decision
/// at bar 0, the engine's wealth equals ``OLPSRunner``'s on `PriceRelatives(prices:)` of the same
/// panel; with ``TransactionCostModel`` `(rate: fee, method: .simple)` it equals the runner's path
/// with `fee` (see the tests). An asset without a price at either end of a period gets relative 1
/// (it did not move for the learner). The trade target leaves out assets without a price at the
/// decision bar (the selector's weight on them is spread pro rata over the others, or uniformly
/// when it held only those), while the selector keeps learning on its own portfolio; an asset that
/// cannot be held over the next period follows the engine's ``UnavailableAssetPolicy``. Cost per
/// period: one selector step plus `O(m)`.
public struct OLPSStrategy: BacktestStrategy {
    /// The name: the selector's name unless given.
    public let name: String
    private var selector: any OnlinePortfolioSelector
    private var assetCount = 0
    /// Observed relatives, row-major, one row per period from the panel's first bar.
    private var relatives: [Double] = []
    /// Periods the selector has decided (`b_0 … b_{decided−1}`).
    private var decided = 0
    private var portfolio: [Double] = [], previous: [Double] = [], drifted: [Double] = []

    /// Wraps `selector`, which is reset on the first decision.
    public init(_ selector: any OnlinePortfolioSelector, name: String? = nil) {
        self.selector = selector
        self.name = name ?? selector.name
    }

    /// A selector from the toolbox defaults of `algorithm` (see ``OLPSAlgorithm/makeSelector(variant:relatives:)``).
    /// Hindsight benchmarks (`bcrp`, `best`) are rejected: they would see the whole panel.
    ///
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for `bcrp` and
    ///   `best`; the errors of `makeSelector`.
    public init(algorithm: OLPSAlgorithm, variant: String? = nil, name: String? = nil) throws {
        guard algorithm != .bcrp, algorithm != .best else {
            throw OLPSError.invalidParameter(algorithm: algorithm.rawValue, name: "algorithm", value: .nan,
                                             requirement: "an online algorithm; hindsight benchmarks cannot run causally")
        }
        // Online selectors ignore the relatives they are built with; one row of ones is enough.
        let placeholder = PriceRelatives(unchecked: [1], periodCount: 1, assets: ["placeholder"])
        self.init(try algorithm.makeSelector(variant: variant, relatives: placeholder), name: name)
    }

    /// The selector's portfolio for the period after the decision bar.
    ///
    /// - Throws: the selector's ``OLPSError`` from `reset`; ``OLPSError/invalidPortfolio(algorithm:period:reason:)``
    ///   when it returns a non-finite, negative or unnormalized vector.
    public mutating func targetWeights(_ context: DecisionContext) throws -> [Double] {
        if context.isInitial || assetCount != context.assetCount { try start(assetCount: context.assetCount) }
        let known = relatives.count / assetCount
        if known < context.bar {
            let missing = try context.priceRelatives(lookback: context.bar - known)
            for k in 0..<missing.rows { append(row: (0..<assetCount).map { missing[k, $0] }) }
        }
        while decided <= context.bar { try step() }
        return tradable(portfolio, context)
    }

    /// `weights` without the assets unavailable at the decision bar, renormalized.
    private func tradable(_ weights: [Double], _ context: DecisionContext) -> [Double] {
        let available = (0..<assetCount).map { context.isAvailable(asset: $0) }
        if !available.contains(false) { return weights }
        let kept = (0..<assetCount).map { available[$0] ? weights[$0] : 0 }
        let total = kept.reduce(0, +)
        if total > 0 { return kept.map { $0 / total } }
        let count = Double(available.filter { $0 }.count)
        return available.map { $0 && count > 0 ? 1 / count : 0 }
    }

    /// Records the period's relatives when the decision has not already read them.
    public mutating func observe(_ outcome: PeriodOutcome) throws {
        guard assetCount == outcome.priceRelatives.count, relatives.count / assetCount == outcome.bar - 1 else { return }
        append(row: outcome.priceRelatives)
    }

    private mutating func start(assetCount m: Int) throws {
        try selector.reset(assetCount: m)
        assetCount = m
        relatives = []
        decided = 0
        portfolio = [Double](repeating: 1 / Double(m), count: m)
        previous = portfolio
        drifted = portfolio
    }

    private mutating func append(row: [Double]) {
        for value in row { relatives.append(value.isFinite && value > 0 ? value : 1) }
    }

    /// Decides `b_decided` from the relatives of periods `0..<decided`, then drifts it by the next
    /// period's relatives when they are known (the runner's `b̂`).
    private mutating func step() throws {
        let m = assetCount, t = decided
        if t > 0 {
            previous = portfolio
            var growth = 0.0
            for i in 0..<m { growth += portfolio[i] * relatives[(t - 1) * m + i] }
            for i in 0..<m { drifted[i] = portfolio[i] * relatives[(t - 1) * m + i] / growth }
        }
        relatives.withUnsafeBufferPointer { x in
            previous.withUnsafeBufferPointer { prev in
                drifted.withUnsafeBufferPointer { drift in
                    portfolio.withUnsafeMutableBufferPointer { b in
                        let step = OLPSStep(period: t, observed: ObservedRelatives(base: x, count: t, assetCount: m),
                                            previous: prev, drifted: drift)
                        selector.nextPortfolio(step, into: b)
                    }
                }
            }
        }
        let invalid = portfolio.withUnsafeMutableBufferPointer { OLPSRunner.invalidity(of: $0) }
        if let invalid { throw OLPSError.invalidPortfolio(algorithm: selector.name, period: t, reason: invalid) }
        decided += 1
    }
}
