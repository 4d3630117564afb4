import Portfolio

/// One rebalance of an ``InsuredStrategy``: the wealth, floor and exposure it used.
public struct InsuranceDecision: Sendable, Hashable, Codable {
    /// The decision bar (a panel position).
    public let bar: Int
    /// The engine's wealth at the decision, before the trade, in units of the initial wealth.
    public let wealth: Double
    /// The floor at the decision.
    public let floor: Double
    /// The exposure chosen: the fraction of wealth put in the risky sleeve.
    public let exposure: Double
}

/// A portfolio-insurance overlay (CPPI or TIPP, see `PortfolioInsurance`) on any strategy: the inner
/// strategy is the risky sleeve, scaled at each rebalance to the exposure
/// `e = clamp(m·max(V − F, 0)/V, e_min, e_max)` of the engine's wealth `V` and the floor `F`, the
/// rest `1 − e·Σwᵢ` in the engine's cash asset.
///
/// The floor starts at `f·V₀` (the engine's wealth at the first decision) and is updated once per
/// bar from the wealth the engine reports before that bar's trade: CPPI accrues it at the cash
/// rate, `F ← F·(1 + r_f)` per bar; TIPP ratchets it, `F ← max(F, f·V)`. The engine's schedule
/// decides when to rebalance (between rebalances the exposure drifts with prices); its cost model
/// charges the trades, so costs can carry wealth slightly below the floor. With every-period
/// rebalancing, no costs and no sleeve return below `−1/m` over a bar, wealth never falls below the
/// floor (Black & Jones 1987; Perold & Sharpe 1988); a larger gap can breach it.
///
/// The backtest needs a cash asset. An exposure above 1 borrows cash at its rate and needs a
/// configuration with ``BacktestConfiguration/maximumGrossLeverage`` of at least `e_max·Σ|wᵢ|`; a
/// long-only backtest rejects such a target (``BacktestError/weightsDoNotSumToOne(strategy:time:sum:)``).
/// `PortfolioInsurance/rebalancing` must be `.everyPeriod` (the schedule governs) and
/// `PortfolioInsurance/initialWealth` is not used (the engine's wealth is). Cost `O(n)` per
/// decision plus the sleeve's own work.
public struct InsuredStrategy: BacktestStrategy {
    /// The name (default `CPPI(f=0.8, m=3) on <sleeve>`).
    public let name: String
    /// The overlay's parameters.
    public let insurance: PortfolioInsurance
    /// The risky sleeve.
    public private(set) var sleeve: any BacktestStrategy
    /// The floor after the last update, in units of the initial wealth.
    public private(set) var floor = 0.0
    /// Every rebalance of the last run, in order.
    public private(set) var decisions: [InsuranceDecision] = []
    private var floorBar = 0
    /// The cash asset's return per bar, constant over a run.
    private var safeRate = 0.0

    /// Wraps `sleeve` in `insurance`.
    ///
    /// - Throws: the `PortfolioError` of `PortfolioInsurance.start()` for invalid parameters;
    ///   ``BacktestError/invalidArgument(operation:parameter:message:)`` for a tolerance-band
    ///   rebalancing rule.
    public init(sleeve: any BacktestStrategy, insurance: PortfolioInsurance, name: String? = nil) throws {
        _ = try insurance.start()
        guard insurance.rebalancing == .everyPeriod else {
            throw BacktestError.invalidArgument(operation: "InsuredStrategy", parameter: "rebalancing",
                                                message: "the backtest schedule decides when to rebalance; use .everyPeriod")
        }
        self.sleeve = sleeve
        self.insurance = insurance
        let method = insurance.method == .cppi ? "CPPI" : "TIPP"
        self.name = name ?? "\(method)(f=\(insurance.floorFraction), m=\(insurance.multiplier)) on \(sleeve.name)"
    }

    /// The sleeve's history.
    public var requiredHistory: Int { sleeve.requiredHistory }

    /// The sleeve's weights scaled by the insurance exposure.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` without a cash asset;
    ///   ``BacktestError/weightsDoNotSumToOne(strategy:time:sum:)`` when the sleeve's weights sum to
    ///   more than 1; the sleeve's own errors.
    public mutating func targetWeights(_ context: DecisionContext) throws -> [Double] {
        guard context.cashAsset != nil else {
            throw BacktestError.invalidArgument(operation: "InsuredStrategy", parameter: "cash",
                                                message: "portfolio insurance needs a cash asset in the backtest configuration")
        }
        if context.isInitial {
            floor = insurance.floorFraction * context.wealth
            floorBar = context.bar
            safeRate = context.cashReturnPerPeriod
            decisions = []
        } else {
            updateFloor(bar: context.bar, wealth: context.wealth)
        }
        let risky = try sleeve.targetWeights(context)
        let sum = risky.reduce(0, +)
        guard sum <= 1 + 1e-9 else {
            throw BacktestError.weightsDoNotSumToOne(strategy: sleeve.name, time: timeLabelText(context.label), sum: sum)
        }
        let exposure = insurance.targetExposure(wealth: context.wealth, floor: floor)
        decisions.append(InsuranceDecision(bar: context.bar, wealth: context.wealth, floor: floor, exposure: exposure))
        return risky.map { $0 * exposure }
    }

    /// Passes the outcome to the sleeve and updates the floor at bars without a decision.
    public mutating func observe(_ outcome: PeriodOutcome) throws {
        try sleeve.observe(outcome)
        updateFloor(bar: outcome.bar, wealth: outcome.wealth / (1 - outcome.cost))
    }

    /// Brings the floor to `bar`, where the pre-trade wealth is `wealth`.
    private mutating func updateFloor(bar: Int, wealth: Double) {
        guard bar > floorBar else { return }
        switch insurance.method {
        case .cppi:
            for _ in floorBar..<bar { floor *= 1 + safeRate }
        case .tipp:
            floor = Swift.max(floor, insurance.floorFraction * wealth)
        }
        floorBar = bar
    }
}
