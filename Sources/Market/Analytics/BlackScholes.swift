import Linalg
import RealModule

/// A European option's right: to buy (call) or to sell (put) the underlying at the strike.
public enum OptionKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// The right to buy at the strike; payoff `max(S_T − K, 0)`.
    case call
    /// The right to sell at the strike; payoff `max(K − S_T, 0)`.
    case put
}

/// Inputs of the Black–Scholes–Merton model for one European option.
///
/// ## Conventions
/// - `maturity` is the time to expiry in **years** (the overlays use calendar days / 365).
/// - `rate` and `dividendYield` are **continuously compounded annual** rates
///   (a simple or monthly rate must be converted first, for example
///   `12 · log(1 + RF/100)` for a Fama–French monthly RF in percent).
/// - `volatility` is the annualized standard deviation of log returns (0.2 = 20 %).
///
/// Validation happens once here, so every pricing function on a valid value is total.
public struct BlackScholesInputs: Sendable, Hashable, Codable {
    /// Spot price of the underlying, > 0.
    public let spot: Double
    /// Strike price, > 0.
    public let strike: Double
    /// Time to expiry in years, > 0.
    public let maturity: Double
    /// Continuously compounded risk-free rate per year (may be negative).
    public let rate: Double
    /// Continuously compounded dividend (or foreign-rate, or lease) yield per year (may be negative).
    public let dividendYield: Double
    /// Annualized volatility, > 0.
    public let volatility: Double

    /// Validated inputs.
    ///
    /// - Throws: ``MarketError/invalidParameter(operation:parameter:value:reason:)`` naming the first
    ///   non-positive or non-finite spot, strike, maturity or volatility, or a non-finite rate or yield.
    public init(spot: Double, strike: Double, maturity: Double, rate: Double, dividendYield: Double = 0,
                volatility: Double) throws {
        let operation = "BlackScholesInputs"
        try requirePositive(spot, "spot", operation)
        try requirePositive(strike, "strike", operation)
        try requirePositive(maturity, "maturity", operation)
        try requireFinite(rate, "rate", operation)
        try requireFinite(dividendYield, "dividendYield", operation)
        try requirePositive(volatility, "volatility", operation)
        self.spot = spot
        self.strike = strike
        self.maturity = maturity
        self.rate = rate
        self.dividendYield = dividendYield
        self.volatility = volatility
    }

    /// The same contract at another volatility (the caller guarantees `volatility > 0`).
    func with(volatility: Double) -> BlackScholesInputs {
        BlackScholesInputs(unchecked: spot, strike, maturity, rate, dividendYield, volatility)
    }

    /// Inputs already validated by the caller.
    init(unchecked spot: Double, _ strike: Double, _ maturity: Double, _ rate: Double, _ dividendYield: Double,
         _ volatility: Double) {
        self.spot = spot
        self.strike = strike
        self.maturity = maturity
        self.rate = rate
        self.dividendYield = dividendYield
        self.volatility = volatility
    }

    /// The forward price `S·e^{(r−q)T}`.
    public var forward: Double { spot * Double.exp((rate - dividendYield) * maturity) }
    /// The discounted spot `S·e^{−qT}`.
    public var discountedSpot: Double { spot * Double.exp(-dividendYield * maturity) }
    /// The discounted strike `K·e^{−rT}`.
    public var discountedStrike: Double { strike * Double.exp(-rate * maturity) }

    /// `d₁ = (ln(S/K) + (r − q + σ²/2)T) / (σ√T)`.
    public var d1: Double {
        let sd = volatility * maturity.squareRoot()
        return (Double.log(spot / strike) + (rate - dividendYield) * maturity) / sd + 0.5 * sd
    }

    /// `d₂ = d₁ − σ√T`.
    public var d2: Double { d1 - volatility * maturity.squareRoot() }
}

/// A Black–Scholes–Merton price with its first-order sensitivities and gamma.
///
/// Units: `delta` per unit of spot, `gamma` per unit of spot squared, `vega` per
/// unit of volatility (per 1.00, not per 1 %), `theta` per **year** of calendar
/// time (`∂V/∂t = −∂V/∂T`; divide by 365 for a daily theta), `rho` per unit of rate.
public struct OptionGreeks: Sendable, Hashable, Codable {
    /// The option value.
    public let price: Double
    /// `∂V/∂S`.
    public let delta: Double
    /// `∂²V/∂S²`.
    public let gamma: Double
    /// `∂V/∂σ`.
    public let vega: Double
    /// `∂V/∂t = −∂V/∂T`, per year.
    public let theta: Double
    /// `∂V/∂r`.
    public let rho: Double
}

/// The result of an implied-volatility search.
public struct ImpliedVolatilityResult: Sendable, Hashable, Codable {
    /// The volatility that reproduces the price (annualized).
    public let volatility: Double
    /// Total iterations (Newton plus bisection steps, excluding the bracket search).
    public let iterations: Int
    /// Of which bisection steps (taken when a Newton step left the bracket or vega vanished).
    public let bisectionSteps: Int
    /// `model price − target price` at ``volatility``.
    public let residual: Double
}

/// The Black–Scholes–Merton model of a European option on an underlying with a
/// continuous dividend yield (Merton 1973; Hull, *Options, Futures, and Other
/// Derivatives*, chapters "The Black–Scholes–Merton model", "Options on stock
/// indices and currencies" and "The Greek letters").
///
/// With `d₁, d₂` as in ``BlackScholesInputs/d1``:
/// - call `c = S e^{−qT} Φ(d₁) − K e^{−rT} Φ(d₂)`, put `p = K e^{−rT} Φ(−d₂) − S e^{−qT} Φ(−d₁)`;
/// - put–call parity `c − p = S e^{−qT} − K e^{−rT}`.
///
/// Φ is evaluated with `erfc`, so far out-of-the-money prices keep their relative accuracy.
/// All functions are O(1).
public enum BlackScholes {
    /// The option value.
    public static func price(_ kind: OptionKind, _ inputs: BlackScholesInputs) -> Double {
        let d1 = inputs.d1, d2 = inputs.d2
        switch kind {
        case .call: return inputs.discountedSpot * NormalDistribution.cumulative(d1) - inputs.discountedStrike * NormalDistribution.cumulative(d2)
        case .put: return inputs.discountedStrike * NormalDistribution.cumulative(-d2) - inputs.discountedSpot * NormalDistribution.cumulative(-d1)
        }
    }

    /// The value and its Greeks in closed form (Hull, "The Greek letters", summary table with a dividend yield `q`):
    ///
    /// - delta: call `e^{−qT}Φ(d₁)`, put `−e^{−qT}Φ(−d₁)`;
    /// - gamma: `e^{−qT}φ(d₁) / (Sσ√T)` (both);
    /// - vega: `S e^{−qT} φ(d₁) √T` (both);
    /// - theta: call `−S e^{−qT}φ(d₁)σ/(2√T) + qS e^{−qT}Φ(d₁) − rK e^{−rT}Φ(d₂)`,
    ///   put `−S e^{−qT}φ(d₁)σ/(2√T) − qS e^{−qT}Φ(−d₁) + rK e^{−rT}Φ(−d₂)`;
    /// - rho: call `KT e^{−rT}Φ(d₂)`, put `−KT e^{−rT}Φ(−d₂)`.
    public static func greeks(_ kind: OptionKind, _ inputs: BlackScholesInputs) -> OptionGreeks {
        let d1 = inputs.d1, d2 = inputs.d2
        let sqrtT = inputs.maturity.squareRoot()
        let sq = inputs.discountedSpot, kr = inputs.discountedStrike
        let density = NormalDistribution.density(d1)
        let gamma = sq * density / (inputs.spot * inputs.spot * inputs.volatility * sqrtT)
        let vega = sq * density * sqrtT
        let decay = -sq * density * inputs.volatility / (2 * sqrtT)
        switch kind {
        case .call:
            let nd1 = NormalDistribution.cumulative(d1), nd2 = NormalDistribution.cumulative(d2)
            return OptionGreeks(price: sq * nd1 - kr * nd2, delta: sq / inputs.spot * nd1, gamma: gamma, vega: vega,
                                theta: decay + inputs.dividendYield * sq * nd1 - inputs.rate * kr * nd2,
                                rho: inputs.maturity * kr * nd2)
        case .put:
            let nd1 = NormalDistribution.cumulative(-d1), nd2 = NormalDistribution.cumulative(-d2)
            return OptionGreeks(price: kr * nd2 - sq * nd1, delta: -sq / inputs.spot * nd1, gamma: gamma, vega: vega,
                                theta: decay - inputs.dividendYield * sq * nd1 + inputs.rate * kr * nd2,
                                rho: -inputs.maturity * kr * nd2)
        }
    }

    /// The no-arbitrage bounds of a European option price, independent of volatility
    /// (Hull, "Properties of stock options"): call `max(S e^{−qT} − K e^{−rT}, 0) < c < S e^{−qT}`,
    /// put `max(K e^{−rT} − S e^{−qT}, 0) < p < K e^{−rT}`. The lower bound is the
    /// limit σ → 0, the upper the limit σ → ∞.
    public static func noArbitrageBounds(_ kind: OptionKind, spot: Double, strike: Double, maturity: Double,
                                         rate: Double, dividendYield: Double = 0) -> (lower: Double, upper: Double) {
        let sq = spot * Double.exp(-dividendYield * maturity), kr = strike * Double.exp(-rate * maturity)
        switch kind {
        case .call: return (Swift.max(sq - kr, 0), sq)
        case .put: return (Swift.max(kr - sq, 0), kr)
        }
    }

    /// The volatility at which the model reproduces `price`.
    ///
    /// The model price is strictly increasing in σ from the lower to the upper
    /// no-arbitrage bound, so the root is unique. The solver first brackets it
    /// (`[0, 1]`, doubling the upper end), starts Newton–Raphson at the
    /// Manaster–Koehler point `σ₀ = √(2|ln(F/K)|/T)` (or 0.2 at the money), and
    /// replaces any Newton step that leaves the current bracket, or meets a vega
    /// below 1e−300, by a bisection step, shrinking the bracket with every
    /// evaluation. It stops when `|model − price| ≤ priceTolerance` or the bracket
    /// is narrower than 4 ulps of σ (the price then cannot resolve σ further).
    ///
    /// - Parameters:
    ///   - priceTolerance: absolute price tolerance; default `1e−12 · max(1, price)`.
    ///   - maxIterations: cap on Newton plus bisection steps (default 200; bisection alone halves the bracket each step).
    /// - Throws: ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for a non-positive
    ///   or non-finite spot, strike, maturity or price, or a non-finite rate or yield;
    ///   ``MarketError/priceOutsideNoArbitrageBounds(operation:price:lower:upper:)`` when `price` is not
    ///   strictly inside ``noArbitrageBounds(_:spot:strike:maturity:rate:dividendYield:)``;
    ///   ``MarketError/noConvergence(operation:iterations:residual:)`` if the cap is reached.
    public static func impliedVolatility(_ kind: OptionKind, price: Double, spot: Double, strike: Double,
                                         maturity: Double, rate: Double, dividendYield: Double = 0,
                                         priceTolerance: Double? = nil,
                                         maxIterations: Int = 200) throws -> ImpliedVolatilityResult {
        let operation = "BlackScholes.impliedVolatility"
        try requirePositive(price, "price", operation)
        try requirePositive(spot, "spot", operation)
        try requirePositive(strike, "strike", operation)
        try requirePositive(maturity, "maturity", operation)
        try requireFinite(rate, "rate", operation)
        try requireFinite(dividendYield, "dividendYield", operation)
        let bounds = noArbitrageBounds(kind, spot: spot, strike: strike, maturity: maturity, rate: rate,
                                       dividendYield: dividendYield)
        guard price > bounds.lower, price < bounds.upper else {
            throw MarketError.priceOutsideNoArbitrageBounds(operation: operation, price: price, lower: bounds.lower,
                                                            upper: bounds.upper)
        }
        let tolerance = priceTolerance ?? 1e-12 * Swift.max(1, price)
        let base = BlackScholesInputs(unchecked: spot, strike, maturity, rate, dividendYield, 1)
        func excess(_ sigma: Double) -> Double { BlackScholes.price(kind, base.with(volatility: sigma)) - price }

        // Bracket: f(0⁺) = lower − price < 0; f(σ) → upper − price > 0 as σ → ∞.
        var low = 0.0, high = 1.0
        var doublings = 0
        while excess(high) < 0 {
            low = high
            high *= 2
            doublings += 1
            guard doublings <= 60 else {
                throw MarketError.noConvergence(operation: operation, iterations: 0, residual: excess(high))
            }
        }
        let moneyness = Swift.abs(Double.log(base.forward / strike))
        var sigma = moneyness > 0 ? (2 * moneyness / maturity).squareRoot() : 0.2
        if !(sigma > low && sigma < high) { sigma = 0.5 * (low + high) }
        var bisections = 0
        for iteration in 1...Swift.max(1, maxIterations) {
            let inputs = base.with(volatility: sigma)
            let value = BlackScholes.price(kind, inputs) - price
            if Swift.abs(value) <= tolerance || high - low <= 4 * sigma.ulp {
                return ImpliedVolatilityResult(volatility: sigma, iterations: iteration, bisectionSteps: bisections,
                                               residual: value)
            }
            if value < 0 { low = sigma } else { high = sigma }
            let vega = inputs.discountedSpot * NormalDistribution.density(inputs.d1) * maturity.squareRoot()
            let step = vega > 1e-300 ? sigma - value / vega : .nan
            if step > low && step < high {
                sigma = step
            } else {
                sigma = 0.5 * (low + high)
                bisections += 1
            }
        }
        throw MarketError.noConvergence(operation: operation, iterations: maxIterations,
                                        residual: excess(sigma))
    }
}

/// Futures and forward pricing by cost of carry (Hull, "Determination of forward and futures prices").
///
/// With continuously compounded annual rates and `T` in years, the fair value is
/// `F₀ = (S₀ − I) · e^{(r + u − q − y)T}` where `I` is the present value of known
/// cash income, `q` a continuous income or dividend yield, `u` a storage cost
/// proportional to the price and `y` a convenience yield. The **basis** is
/// `spot − futures` (Hull's definition in "Hedging strategies using futures").
public enum CostOfCarry {
    /// The fair futures (forward) price.
    ///
    /// - Throws: ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for a non-positive spot,
    ///   a negative maturity, a non-finite rate, or income `I` that is negative or not below the spot.
    public static func fairValue(spot: Double, maturity: Double, rate: Double, dividendYield: Double = 0,
                                 storageCost: Double = 0, convenienceYield: Double = 0,
                                 incomePresentValue: Double = 0) throws -> Double {
        let operation = "CostOfCarry.fairValue"
        try requirePositive(spot, "spot", operation)
        guard maturity.isFinite, maturity >= 0 else {
            throw MarketError.invalidParameter(operation: operation, parameter: "maturity", value: maturity,
                                               reason: "must be finite and non-negative")
        }
        try requireFinite(rate, "rate", operation)
        try requireFinite(dividendYield, "dividendYield", operation)
        try requireFinite(storageCost, "storageCost", operation)
        try requireFinite(convenienceYield, "convenienceYield", operation)
        guard incomePresentValue.isFinite, incomePresentValue >= 0, incomePresentValue < spot else {
            throw MarketError.invalidParameter(operation: operation, parameter: "incomePresentValue",
                                               value: incomePresentValue, reason: "must be in [0, spot)")
        }
        return (spot - incomePresentValue) * Double.exp((rate + storageCost - dividendYield - convenienceYield) * maturity)
    }

    /// The basis `spot − futures`.
    ///
    /// - Throws: ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for a non-positive price.
    public static func basis(spot: Double, futures: Double) throws -> Double {
        try requirePositive(spot, "spot", "CostOfCarry.basis")
        try requirePositive(futures, "futures", "CostOfCarry.basis")
        return spot - futures
    }

    /// The net carry rate implied by a futures price, `ln(F/S)/T` (equals `r + u − q − y` at fair value).
    ///
    /// - Throws: ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for a non-positive price or maturity.
    public static func impliedCarry(spot: Double, futures: Double, maturity: Double) throws -> Double {
        try requirePositive(spot, "spot", "CostOfCarry.impliedCarry")
        try requirePositive(futures, "futures", "CostOfCarry.impliedCarry")
        try requirePositive(maturity, "maturity", "CostOfCarry.impliedCarry")
        return Double.log(futures / spot) / maturity
    }
}
