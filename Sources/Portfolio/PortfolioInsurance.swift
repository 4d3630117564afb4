/// Portfolio insurance: a path-dependent overlay that splits wealth between a risky portfolio and
/// a safe asset so that wealth stays above a floor.
///
/// Each period `t` (returns `rₜ` of the risky portfolio, `r_fₜ` of the safe asset) starts with
/// wealth `Wₜ` and floor `Fₜ`. The cushion is `Cₜ = Wₜ − Fₜ` and the target exposure, a fraction of
/// wealth, is `e*ₜ = clamp(m·max(Cₜ, 0)/Wₜ, e_min, e_max)` (0 once `Wₜ ≤ 0`). The held exposure `eₜ`
/// is `e*ₜ` when the overlay rebalances, else the exposure the last period's returns drifted to.
/// Wealth grows as `Wₜ₊₁ = Wₜ(1 + eₜrₜ + (1 − eₜ)r_fₜ)`: an exposure above 1 borrows at the safe rate.
///
/// - ``Method/cppi``, constant proportion portfolio insurance (F. Black and R. Jones, "Simplifying
///   portfolio insurance", J. Portfolio Manag. 14 (1987) 48–51; A. Perold and W. Sharpe, "Dynamic
///   strategies for asset allocation", Financial Analysts J. 44 (1988) 16–27): the floor starts at
///   `f·W₀` and accrues at the safe rate, `Fₜ₊₁ = Fₜ(1 + r_fₜ)`.
/// - ``Method/tipp``, time-invariant portfolio protection (S. Estep and M. Kritzman, "TIPP: insurance
///   without complexity", J. Portfolio Manag. 14 (1988) 38–42): the floor ratchets up to a fraction
///   of the highest wealth reached, `Fₜ₊₁ = max(Fₜ, f·Wₜ₊₁)`.
///
/// Between rebalancing dates a fall of the risky asset larger than `1/m` can carry wealth below the
/// floor (gap risk); each such crossing is reported as a ``FloorBreach``. Cost `O(T)`.
///
/// ```swift
/// let insurance = PortfolioInsurance(method: .cppi, floorFraction: 0.8, multiplier: 4)
/// let path = try insurance.simulate(riskyReturns: r, safeRate: 0.0001)
/// ```
public struct PortfolioInsurance: Sendable, Hashable {
    /// How the floor evolves.
    public enum Method: String, Sendable, Hashable, Codable {
        /// Floor `f·W₀` accruing at the safe rate.
        case cppi
        /// Floor ratcheting to `f` times the highest wealth.
        case tipp
    }

    /// When the exposure is reset to its target.
    public enum Rebalancing: Sendable, Hashable {
        /// At the start of every period.
        case everyPeriod
        /// Only when the drifted exposure is more than `band` (a fraction of wealth) from the target.
        case toleranceBand(Double)
    }

    /// The floor rule.
    public var method: Method
    /// The floor as a fraction `f ∈ [0, 1)` of the initial (CPPI) or highest (TIPP) wealth.
    public var floorFraction: Double
    /// The multiplier `m > 0` of the cushion.
    public var multiplier: Double
    /// The largest exposure `e_max` (a leverage cap; default 1.5).
    public var maximumExposure: Double
    /// The smallest exposure `e_min ∈ [0, e_max]` (default 0).
    public var minimumExposure: Double
    /// When to rebalance. Default ``Rebalancing/everyPeriod``.
    public var rebalancing: Rebalancing
    /// The starting wealth `W₀ > 0`. Default 1.
    public var initialWealth: Double

    /// Creates an overlay.
    public init(method: Method = .cppi, floorFraction: Double, multiplier: Double, maximumExposure: Double = 1.5,
                minimumExposure: Double = 0, rebalancing: Rebalancing = .everyPeriod, initialWealth: Double = 1) {
        self.method = method
        self.floorFraction = floorFraction
        self.multiplier = multiplier
        self.maximumExposure = maximumExposure
        self.minimumExposure = minimumExposure
        self.rebalancing = rebalancing
        self.initialWealth = initialWealth
    }

    /// The state at the start of the first period, for driving the overlay period by period (for
    /// example from a backtest that computes the risky portfolio's return itself).
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` for `m ≤ 0`, `f ∉ [0, 1)`,
    ///   exposure bounds outside `0 ≤ e_min ≤ e_max`, a negative band or `W₀ ≤ 0`.
    public func start() throws -> PortfolioInsuranceState {
        let operation = "PortfolioInsurance"
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw PortfolioError.invalidArgument(operation: operation, message: message) }
        }
        try check(multiplier > 0 && multiplier.isFinite, "multiplier m = \(multiplier) must be positive and finite")
        try check(floorFraction >= 0 && floorFraction < 1, "floor fraction \(floorFraction) must be in [0, 1)")
        try check(minimumExposure >= 0 && minimumExposure <= maximumExposure && maximumExposure.isFinite,
                  "exposure bounds [\(minimumExposure), \(maximumExposure)] must satisfy 0 ≤ minimum ≤ maximum < ∞")
        if case let .toleranceBand(band) = rebalancing {
            try check(band >= 0 && band.isFinite, "tolerance band \(band) must be finite and ≥ 0")
        }
        try check(initialWealth > 0 && initialWealth.isFinite, "initial wealth \(initialWealth) must be positive and finite")
        return PortfolioInsuranceState(insurance: self, wealth: initialWealth, floor: floorFraction * initialWealth)
    }

    /// The target exposure `clamp(m·max(W − F, 0)/W, e_min, e_max)` for wealth `W` and floor `F`, or
    /// 0 once wealth is not positive: the rule ``PortfolioInsuranceState`` applies, for callers
    /// (such as a backtest) that track wealth and floor themselves.
    public func targetExposure(wealth: Double, floor: Double) -> Double {
        guard wealth > 0 else { return 0 }
        let raw = multiplier * Swift.max(wealth - floor, 0) / wealth
        return Swift.min(Swift.max(raw, minimumExposure), maximumExposure)
    }

    /// Runs the overlay over `riskyReturns` with one safe rate per period.
    ///
    /// - Parameters:
    ///   - riskyReturns: simple returns of the risky portfolio, `T`, each finite and `≥ −1`.
    ///   - safeRates: simple returns of the safe asset over the same periods, `T`, each finite and `> −1`.
    /// - Throws: the errors of ``start()``; ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)``;
    ///   ``PortfolioError/nonFinite(operation:what:asset:observation:)`` naming the period of a
    ///   non-finite or impossible (`< −1`) return.
    public func simulate(riskyReturns: [Double], safeRates: [Double]) throws -> InsurancePath {
        guard riskyReturns.count == safeRates.count else {
            throw PortfolioError.dimensionMismatch(operation: "PortfolioInsurance.simulate", lhs: "risky returns",
                                                   lhsCount: riskyReturns.count, rhs: "safe rates", rhsCount: safeRates.count)
        }
        var state = try start()
        var path = InsurancePath(wealth: [state.wealth], floors: [state.floor])
        for t in riskyReturns.indices {
            let rebalances = state.rebalance()
            path.exposures.append(state.exposure)
            path.rebalanced.append(rebalances)
            if let breach = try state.advance(riskyReturn: riskyReturns[t], safeRate: safeRates[t]) {
                path.breaches.append(breach)
            }
            path.wealth.append(state.wealth)
            path.floors.append(state.floor)
        }
        return path
    }

    /// Runs the overlay with the same safe rate in every period.
    ///
    /// - Throws: as ``simulate(riskyReturns:safeRates:)``.
    public func simulate(riskyReturns: [Double], safeRate: Double) throws -> InsurancePath {
        try simulate(riskyReturns: riskyReturns, safeRates: [Double](repeating: safeRate, count: riskyReturns.count))
    }

    /// A risky portfolio's weights scaled by `exposure`, the rest in the safe asset: `eᵢ·wᵢ` and cash
    /// `1 − e·Σwᵢ` (negative when the exposure is levered). Cost `O(n)`.
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` for a non-finite exposure,
    ///   ``PortfolioError/nonFinite(operation:what:asset:observation:)`` naming a non-finite weight.
    public static func insuredWeights(_ allocation: PortfolioAllocation, exposure: Double) throws -> InsuredWeights {
        let operation = "PortfolioInsurance.insuredWeights"
        guard exposure.isFinite else {
            throw PortfolioError.invalidArgument(operation: operation, message: "exposure \(exposure) must be finite")
        }
        if let k = allocation.weights.firstIndex(where: { !$0.isFinite }) {
            throw PortfolioError.nonFinite(operation: operation, what: "weight", asset: allocation.assets[k], observation: nil)
        }
        let scaled = allocation.weights.map { $0 * exposure }
        return InsuredWeights(assets: allocation.assets, weights: scaled, cash: 1 - scaled.reduce(0, +), exposure: exposure)
    }
}

/// A risky portfolio scaled by an insurance exposure, the rest in the safe asset.
public struct InsuredWeights: Sendable, Hashable {
    /// Asset names, `n`.
    public let assets: [String]
    /// Scaled risky weights `e·wᵢ`, `n`.
    public let weights: [Double]
    /// Weight of the safe asset, `1 − Σ e·wᵢ`.
    public let cash: Double
    /// The exposure `e` applied.
    public let exposure: Double
}

/// A period in which wealth crossed from at or above the floor to below it (the gap risk of
/// portfolio insurance). Later periods spent below the floor are not listed again.
public struct FloorBreach: Sendable, Hashable, Codable {
    /// The period (0-based index into the returns) at whose end wealth was below the floor.
    public let period: Int
    /// Wealth at the end of the period.
    public let wealth: Double
    /// Floor at the end of the period.
    public let floor: Double

    /// `floor − wealth > 0`.
    public var shortfall: Double { floor - wealth }
}

/// The path of an insurance overlay over `T` periods.
public struct InsurancePath: Sendable, Hashable {
    /// The exposure held during each period (fraction of wealth in the risky portfolio), `T`.
    public var exposures: [Double] = []
    /// Whether the exposure was reset to its target at the start of each period, `T`.
    public var rebalanced: [Bool] = []
    /// Wealth at the start of each period and after the last, `T + 1`.
    public var wealth: [Double]
    /// Floor at the same dates, `T + 1`.
    public var floors: [Double]
    /// Periods in which wealth crossed below the floor, in order.
    public var breaches: [FloorBreach] = []

    /// Cushion `Wₜ − Fₜ` at each date, `T + 1` (negative after a breach).
    public var cushions: [Double] { zip(wealth, floors).map { $0 - $1 } }
}

/// The running state of a ``PortfolioInsurance`` overlay, advanced one period at a time.
///
/// Each period: call ``rebalance()`` to fix the exposure held over it, then
/// ``advance(riskyReturn:safeRate:)`` with the period's realized returns.
public struct PortfolioInsuranceState: Sendable, Hashable {
    /// The overlay's parameters.
    public let insurance: PortfolioInsurance
    /// Current wealth.
    public private(set) var wealth: Double
    /// Current floor.
    public private(set) var floor: Double
    /// The exposure currently held (after ``rebalance()``, the one for the coming period).
    public private(set) var exposure: Double = 0
    /// Periods advanced so far.
    public private(set) var period = 0

    init(insurance: PortfolioInsurance, wealth: Double, floor: Double) {
        self.insurance = insurance
        self.wealth = wealth
        self.floor = floor
    }

    /// `clamp(m·max(W − F, 0)/W, e_min, e_max)`, or 0 once wealth is not positive.
    public var targetExposure: Double { insurance.targetExposure(wealth: wealth, floor: floor) }

    /// Sets the exposure for the coming period: the target on the first period, at every period under
    /// ``PortfolioInsurance/Rebalancing/everyPeriod``, and under a tolerance band when the drifted
    /// exposure is more than the band away from the target (or wealth is not positive). Returns
    /// whether it rebalanced.
    @discardableResult
    public mutating func rebalance() -> Bool {
        let target = targetExposure
        let reset: Bool
        switch insurance.rebalancing {
        case .everyPeriod: reset = true
        case let .toleranceBand(band): reset = period == 0 || wealth <= 0 || abs(exposure - target) > band
        }
        if reset { exposure = target }
        return reset
    }

    /// Applies one period's returns at the held exposure: updates wealth, the floor and the drifted
    /// exposure, and returns the breach when wealth started the period at or above the floor and
    /// ended it below.
    ///
    /// - Throws: ``PortfolioError/nonFinite(operation:what:asset:observation:)`` naming the period when
    ///   a return is not finite, the risky return is below −1 or the safe rate is not above −1.
    public mutating func advance(riskyReturn: Double, safeRate: Double) throws -> FloorBreach? {
        let operation = "PortfolioInsurance"
        guard riskyReturn.isFinite, riskyReturn >= -1 else {
            throw PortfolioError.nonFinite(operation: operation, what: "risky return (finite, ≥ −1; got \(riskyReturn))",
                                           asset: "risky portfolio", observation: period)
        }
        guard safeRate.isFinite, safeRate > -1 else {
            throw PortfolioError.nonFinite(operation: operation, what: "safe rate (finite, > −1; got \(safeRate))",
                                           asset: "safe asset", observation: period)
        }
        let startedAboveFloor = wealth >= floor
        let risky = wealth * exposure * (1 + riskyReturn)
        let grown = wealth * (1 + exposure * riskyReturn + (1 - exposure) * safeRate)
        exposure = grown > 0 ? risky / grown : 0
        wealth = grown
        switch insurance.method {
        case .cppi: floor *= 1 + safeRate
        case .tipp: floor = Swift.max(floor, insurance.floorFraction * wealth)
        }
        defer { period += 1 }
        return startedAboveFloor && wealth < floor ? FloorBreach(period: period, wealth: wealth, floor: floor) : nil
    }
}
