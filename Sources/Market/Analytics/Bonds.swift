import Linalg
import RealModule

/// How a bond yield compounds.
public enum YieldCompounding: Sendable, Hashable, Codable {
    /// Compounded at the coupon frequency (the street convention; a semiannual
    /// yield is a "bond-equivalent yield"): a cash flow `m` coupon periods away is
    /// discounted by `(1 + y/f)^{−m}`.
    case periodic
    /// Continuously compounded (Hull's convention): a cash flow `t` years away is discounted by `e^{−yt}`.
    case continuous
}

/// Price, accrued interest and yield sensitivities of a bond at one yield.
///
/// Durations are in years. Convexity is `(1/P)·∂²P/∂y²` in years². The dirty
/// (full) price is the present value of the remaining cash flows; the clean
/// (quoted) price is the dirty price minus accrued interest. Durations and
/// convexity are taken with respect to the dirty price, as the Taylor expansion
/// of the value held needs.
public struct BondAnalytics: Sendable, Hashable, Codable {
    /// The yield (annual, decimal).
    public let yield: Double
    /// Present value of the remaining cash flows (per the bond's face value).
    public let dirtyPrice: Double
    /// Dirty price minus accrued interest.
    public let cleanPrice: Double
    /// Coupon accrued since the last coupon date.
    public let accruedInterest: Double
    /// PV-weighted mean time of the cash flows, `Σ tₖ PVₖ / P`, years.
    public let macaulayDuration: Double
    /// `−(1/P)·∂P/∂y`: Macaulay / (1 + y/f) for periodic yields, equal to Macaulay for continuous ones.
    public let modifiedDuration: Double
    /// `(1/P)·∂²P/∂y²`, years².
    public let convexity: Double
}

/// The result of a yield-from-price search.
public struct YieldSolution: Sendable, Hashable, Codable {
    /// The yield (annual, decimal) that reproduces the price.
    public let yield: Double
    /// Newton plus bisection steps taken (excluding the bracket search).
    public let iterations: Int
    /// `model dirty price − target dirty price` at ``yield``.
    public let residual: Double
}

/// A fixed-coupon bullet bond seen from a settlement date.
///
/// ## Schedule convention
/// Coupons of `face · couponRate / frequency` are paid every `1/frequency` years,
/// the last one with the face value at `maturity` (years from settlement). The
/// remaining cash flows are therefore at `tₖ = maturity − k/frequency`, and the
/// settlement date sits a fraction `1 − w` into the current coupon period, where
/// `w = frequency·t₀ ∈ (0, 1]` is the fraction of the period left to the next coupon.
/// Periods are treated as equal in length (an Actual/Actual-ICMA-style count with
/// the exact day count replaced by the year fraction), so:
/// - accrued interest `AI = face · c/f · (1 − w)`;
/// - with periodic compounding the `k`-th flow is discounted by `(1 + y/f)^{−(w + k)}`
///   (the street formula for a settlement between coupons; Fabozzi, *Bond Markets,
///   Analysis, and Strategies*, "Pricing a bond between coupon payments").
///
/// A bond exactly on a coupon date has `w = 1` and no accrued interest: the
/// classic whole-period formula.
public struct FixedCouponBond: Sendable, Hashable, Codable {
    /// Redemption (face) value, > 0.
    public let face: Double
    /// Annual coupon rate as a decimal (0.06 = 6 %), ≥ 0.
    public let couponRate: Double
    /// Coupons per year, ≥ 1 (2 = semiannual).
    public let frequency: Int
    /// Years from settlement to maturity, > 0.
    public let maturity: Double

    /// A validated bond.
    ///
    /// - Throws: ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for a non-positive face
    ///   or maturity, a negative or non-finite coupon rate, or a frequency below 1.
    public init(face: Double = 100, couponRate: Double, frequency: Int = 2, maturity: Double) throws {
        let operation = "FixedCouponBond"
        try requirePositive(face, "face", operation)
        guard couponRate.isFinite, couponRate >= 0 else {
            throw MarketError.invalidParameter(operation: operation, parameter: "couponRate", value: couponRate,
                                               reason: "must be finite and non-negative")
        }
        guard frequency >= 1 else {
            throw MarketError.invalidParameter(operation: operation, parameter: "frequency", value: Double(frequency),
                                               reason: "must be at least one coupon per year")
        }
        try requirePositive(maturity, "maturity", operation)
        self.face = face
        self.couponRate = couponRate
        self.frequency = frequency
        self.maturity = maturity
    }

    /// The number of remaining coupon dates (rounding `maturity · frequency` up, with a 1e−9 period slack for
    /// maturities that are whole periods up to floating-point error).
    public var remainingCoupons: Int {
        Swift.max(1, Int((maturity * Double(frequency) - 1e-9).rounded(.up)))
    }

    /// The fraction `w ∈ (0, 1]` of a coupon period from settlement to the next coupon.
    public var fractionToNextCoupon: Double {
        let w = maturity * Double(frequency) - Double(remainingCoupons - 1)
        return Swift.min(1, Swift.max(w, 0))
    }

    /// One coupon payment, `face · couponRate / frequency`.
    public var couponPayment: Double { face * couponRate / Double(frequency) }

    /// Coupon accrued since the last coupon date, `face · c/f · (1 − w)`.
    public var accruedInterest: Double { couponPayment * (1 - fractionToNextCoupon) }

    /// The remaining cash flows: time in years and amount, earliest first.
    public var cashFlows: [(time: Double, amount: Double)] {
        let n = remainingCoupons, w = fractionToNextCoupon, f = Double(frequency)
        return (0..<n).map { k in
            ((w + Double(k)) / f, couponPayment + (k == n - 1 ? face : 0))
        }
    }

    /// Price, accrued interest, durations and convexity at `yield`.
    ///
    /// Complexity: O(remaining coupons).
    /// - Throws: ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for a non-finite yield,
    ///   or a periodic yield `≤ −frequency` (where `1 + y/f ≤ 0`).
    public func analytics(yield: Double, compounding: YieldCompounding = .periodic) throws -> BondAnalytics {
        try validate(yield: yield, compounding: compounding, operation: "FixedCouponBond.analytics")
        let f = Double(frequency)
        var value = 0.0, timeWeighted = 0.0, second = 0.0
        for flow in cashFlows {
            let pv = flow.amount * discountFactor(flow.time, yield, compounding)
            value += pv
            timeWeighted += flow.time * pv
            switch compounding {
            case .periodic: second += pv * flow.time * (flow.time + 1 / f)
            case .continuous: second += pv * flow.time * flow.time
            }
        }
        let macaulay = timeWeighted / value
        let modified: Double, convexity: Double
        switch compounding {
        case .periodic:
            let growth = 1 + yield / f
            modified = macaulay / growth
            convexity = second / (value * growth * growth)
        case .continuous:
            modified = macaulay
            convexity = second / value
        }
        return BondAnalytics(yield: yield, dirtyPrice: value, cleanPrice: value - accruedInterest,
                             accruedInterest: accruedInterest, macaulayDuration: macaulay,
                             modifiedDuration: modified, convexity: convexity)
    }

    /// The dirty (full) price at `yield`: the present value of the remaining cash flows.
    ///
    /// - Throws: as ``analytics(yield:compounding:)``.
    public func dirtyPrice(yield: Double, compounding: YieldCompounding = .periodic) throws -> Double {
        try validate(yield: yield, compounding: compounding, operation: "FixedCouponBond.dirtyPrice")
        return presentValue(yield, compounding)
    }

    /// The clean (quoted) price at `yield`: dirty price minus accrued interest.
    ///
    /// - Throws: as ``analytics(yield:compounding:)``.
    public func cleanPrice(yield: Double, compounding: YieldCompounding = .periodic) throws -> Double {
        try dirtyPrice(yield: yield, compounding: compounding) - accruedInterest
    }

    /// The yield to maturity that reproduces a clean price.
    ///
    /// - Throws: as ``yield(dirtyPrice:compounding:tolerance:maxIterations:)``.
    public func yield(cleanPrice: Double, compounding: YieldCompounding = .periodic, tolerance: Double? = nil,
                      maxIterations: Int = 200) throws -> YieldSolution {
        try requirePositive(cleanPrice, "cleanPrice", "FixedCouponBond.yield(cleanPrice:)")
        return try yield(dirtyPrice: cleanPrice + accruedInterest, compounding: compounding, tolerance: tolerance,
                         maxIterations: maxIterations)
    }

    /// The yield to maturity that reproduces a dirty price.
    ///
    /// The price is strictly decreasing in the yield, from +∞ (as `y → −f`, or `−∞`
    /// when continuous) to 0, so every positive price has exactly one yield. The
    /// solver brackets it, then takes Newton steps `y − (P − target)/P′` from the
    /// current yield `c`, falling back to bisection whenever a step leaves the bracket.
    /// It stops when `|P − target| ≤ tolerance` (default `1e−12 · face`) or the bracket
    /// is 4 ulps wide.
    ///
    /// - Throws: ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for a non-positive or
    ///   non-finite price; ``MarketError/noConvergence(operation:iterations:residual:)`` if the cap is reached.
    public func yield(dirtyPrice target: Double, compounding: YieldCompounding = .periodic, tolerance: Double? = nil,
                      maxIterations: Int = 200) throws -> YieldSolution {
        let operation = "FixedCouponBond.yield"
        try requirePositive(target, "dirtyPrice", operation)
        let tol = tolerance ?? 1e-12 * face
        let f = Double(frequency)
        // P(0) is the undiscounted sum of flows: a price above it means a negative yield.
        var high = 1.0, low = 0.0, steps = 0
        while presentValue(high, compounding) > target {
            low = high
            high *= 2
            steps += 1
            guard steps <= 60 else { throw MarketError.noConvergence(operation: operation, iterations: 0, residual: .nan) }
        }
        steps = 0
        while presentValue(low, compounding) < target {
            high = low
            switch compounding {
            case .periodic: low = low <= 0 ? -f * (1 - Double.pow(0.5, Double(steps + 1))) : 0
            case .continuous: low = low <= 0 ? -Double.pow(2, Double(steps)) : 0
            }
            steps += 1
            guard steps <= 1000 else { throw MarketError.noConvergence(operation: operation, iterations: 0, residual: .nan) }
        }
        var y = couponRate
        if !(y > low && y < high) { y = 0.5 * (low + high) }
        for iteration in 1...Swift.max(1, maxIterations) {
            var value = 0.0, slope = 0.0
            for flow in cashFlows {
                let pv = flow.amount * discountFactor(flow.time, y, compounding)
                value += pv
                switch compounding {
                case .periodic: slope -= flow.time * pv / (1 + y / f)
                case .continuous: slope -= flow.time * pv
                }
            }
            let excess = value - target
            if Swift.abs(excess) <= tol || high - low <= 4 * Swift.max(Swift.abs(y), 1e-300).ulp {
                return YieldSolution(yield: y, iterations: iteration, residual: excess)
            }
            if excess > 0 { low = y } else { high = y }   // price too high → yield too low
            let step = slope < 0 ? y - excess / slope : .nan
            y = step > low && step < high ? step : 0.5 * (low + high)
        }
        throw MarketError.noConvergence(operation: operation, iterations: maxIterations,
                                        residual: presentValue(y, compounding) - target)
    }

    /// The discount factor of a flow `time` years away.
    func discountFactor(_ time: Double, _ yield: Double, _ compounding: YieldCompounding) -> Double {
        switch compounding {
        case .periodic: return Double.pow(1 + yield / Double(frequency), -time * Double(frequency))
        case .continuous: return Double.exp(-yield * time)
        }
    }

    /// Σ amount · discount factor.
    func presentValue(_ yield: Double, _ compounding: YieldCompounding) -> Double {
        cashFlows.reduce(0) { $0 + $1.amount * discountFactor($1.time, yield, compounding) }
    }

    private func validate(yield: Double, compounding: YieldCompounding, operation: String) throws {
        try requireFinite(yield, "yield", operation)
        if compounding == .periodic && yield <= -Double(frequency) {
            throw MarketError.invalidParameter(operation: operation, parameter: "yield", value: yield,
                                               reason: "a periodic yield must exceed −frequency")
        }
    }
}

/// A constant-maturity bond total-return index built from a yield series.
///
/// Each period the index holds a newly issued **par** bond of maturity
/// ``maturity`` whose coupon equals the current yield, and sells it one period
/// later at the new yield; the period return is then:
///
/// - ``Method/taylor``: the second-order approximation
///   `rₜ ≈ yₜ₋₁·Δt − D_mod·Δyₜ + ½·C·Δyₜ²`, with `Δyₜ = yₜ − yₜ₋₁` and the modified
///   duration `D_mod` and convexity `C` of the par bond at `yₜ₋₁`: carry plus the
///   duration and convexity terms of the Taylor expansion of price in yield
///   (Fabozzi, *Bond Markets, Analysis, and Strategies*, the chapter on measuring
///   interest-rate risk: `ΔP/P ≈ −D_mod·Δy + ½·C·Δy²`). This is the approximation used
///   to build long bond-return histories from yield series, e.g. Swinkels (2019),
///   "Treasury bond return data starting in 1962", *Data* 4(3), 91.
/// - ``Method/repricing``: the exact return of that strategy, `P_dirty(yₜ) / face − 1`
///   where the bond (coupon `yₜ₋₁`) now has `maturity − Δt` years left and its
///   dirty price includes the coupon accrued over the period.
///
/// Yields are annual decimals compounded at ``frequency`` (bond-equivalent for
/// semiannual). Complexity: O(periods × maturity × frequency).
public struct ConstantMaturityBondIndex: Sendable, Hashable, Codable {
    /// How each period's return is computed.
    public enum Method: String, Sendable, Hashable, CaseIterable, Codable {
        /// Carry + duration + convexity approximation.
        case taylor
        /// Exact repricing of the par bond after one period.
        case repricing
    }

    /// The constant maturity, years (default 20: Moody's seasoned corporate yields
    /// are averages over bonds with 20 years or more to maturity).
    public var maturity: Double
    /// Coupons per year of the notional par bond (default 2).
    public var frequency: Int
    /// The holding period `Δt` in years (default 1/12, a month).
    public var periodLength: Double
    /// The return formula.
    public var method: Method

    /// An index definition.
    public init(maturity: Double = 20, frequency: Int = 2, periodLength: Double = 1.0 / 12, method: Method = .taylor) {
        self.maturity = maturity
        self.frequency = frequency
        self.periodLength = periodLength
        self.method = method
    }

    /// Period returns from `yields` (annual decimals): `yields.count − 1` values, the
    /// `t`-th (0-based) from `yields[t]` to `yields[t + 1]`.
    ///
    /// - Throws: ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for a non-finite or
    ///   non-positive yield (a par bond at a zero yield has no defined carry here), for a maturity,
    ///   period or frequency out of range, or for a period not shorter than the maturity.
    public func returns(yields: [Double]) throws -> [Double] {
        let operation = "ConstantMaturityBondIndex.returns"
        try requirePositive(maturity, "maturity", operation)
        try requirePositive(periodLength, "periodLength", operation)
        guard periodLength < maturity else {
            throw MarketError.invalidParameter(operation: operation, parameter: "periodLength", value: periodLength,
                                               reason: "must be shorter than the maturity \(maturity)")
        }
        for (t, y) in yields.enumerated() {
            try requirePositive(y, "yields[\(t)]", operation)
        }
        guard yields.count >= 2 else { return [] }
        var result = [Double]()
        result.reserveCapacity(yields.count - 1)
        for t in 1..<yields.count {
            let previous = yields[t - 1], change = yields[t] - previous
            let bond = try FixedCouponBond(face: 100, couponRate: previous, frequency: frequency, maturity: maturity)
            switch method {
            case .taylor:
                let a = try bond.analytics(yield: previous)
                result.append(previous * periodLength - a.modifiedDuration * change + 0.5 * a.convexity * change * change)
            case .repricing:
                let aged = try FixedCouponBond(face: 100, couponRate: previous, frequency: frequency,
                                               maturity: maturity - periodLength)
                result.append(try aged.dirtyPrice(yield: yields[t]) / 100 - 1)
            }
        }
        return result
    }

    /// Index levels starting at `base`: `levels[0] = base`, `levels[t] = levels[t−1]·(1 + rₜ)`.
    ///
    /// - Throws: as ``returns(yields:)``.
    public func levels(yields: [Double], base: Double = 100) throws -> [Double] {
        var levels = [base]
        for r in try returns(yields: yields) { levels.append(levels[levels.count - 1] * (1 + r)) }
        return levels
    }

    /// Total-return indices of Moody's seasoned AAA and BAA corporate yields (`corporate-yields`),
    /// as a price panel `AAA-TR`, `BAA-TR` of class ``AssetClass/bond``, monthly at month ends
    /// 1919-01-31 – 2018-12-31, starting at 100. The yields (percent) are divided by 100
    /// and read as bond-equivalent (semiannual) yields.
    ///
    /// - Throws: errors of ``Dataset/load()`` or ``returns(yields:)``.
    public func corporateBondIndices() throws -> PricePanel {
        let yields = try Dataset.corporateYields.load()
        var columns: [[Double]] = []
        for asset in yields.assets {
            columns.append(try levels(yields: try yields.series(asset).map { $0 / 100 }))
        }
        return try PricePanel(index: yields.index, assets: yields.assets.map { "\($0)-TR" },
                              close: Matrix(columnArrays: columns), assetClasses: [.bond, .bond])
    }
}
