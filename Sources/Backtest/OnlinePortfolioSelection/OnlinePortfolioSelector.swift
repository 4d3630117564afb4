/// What an online portfolio selection algorithm sees when it decides the portfolio of one period.
public struct OLPSStep {
    /// The period being decided, `t` (0-based).
    public let period: Int
    /// The relatives of periods `0..<t` (none at `t = 0`).
    public let observed: ObservedRelatives
    /// The portfolio chosen for period `t − 1`, `b_{t−1}` (uniform at `t = 0`).
    public let previous: UnsafeBufferPointer<Double>
    /// `b_{t−1}` after the prices of period `t − 1` moved it,
    /// `b̂_{t−1} = b_{t−1} ⊙ x_{t−1} / (b_{t−1} · x_{t−1})` (uniform at `t = 0`), a portfolio under
    /// both conventions (the toolbox's fee uses the same vector divided by the net return instead).
    public let drifted: UnsafeBufferPointer<Double>
    /// The net return of period `t − 1` after its fee, `(b_{t−1} · x_{t−1}) · costFactor`, which
    /// the toolbox's PAMR loop uses; set by ``OLPSRunner`` under ``OLPSConvention/toolbox`` only
    /// (`nil` at `t = 0` and otherwise, meaning the gross return `b_{t−1} · x_{t−1}`).
    public var netReturn: Double? = nil
}

/// A stateful online portfolio selection algorithm (Li & Hoi 2014, §2): before each period it
/// returns the portfolio `b_t` on the simplex from the price relatives observed so far.
///
/// A selector is run once from ``reset(assetCount:)``; ``OLPSRunner`` calls
/// ``nextPortfolio(_:into:)`` for `t = 0, 1, …, T − 1` in order and computes the wealth.
/// Implementations keep their state in preallocated flat arrays so that a step allocates nothing.
public protocol OnlinePortfolioSelector {
    /// Short name with the parameters, for reports (for example `OLMAR-1(ε=10, w=5)`).
    var name: String { get }
    /// Prepares a run on `assetCount` assets, discarding any previous state.
    ///
    /// - Throws: ``OLPSError`` when the selector cannot handle `assetCount` assets (a
    ///   hindsight selector built on other data).
    mutating func reset(assetCount: Int) throws
    /// Writes `b_t` (length `m`, non-negative, summing to one) into `weights`.
    mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>)
}

/// The outcome of running an ``OnlinePortfolioSelector`` over a ``PriceRelatives`` matrix.
public struct OLPSResult: Sendable {
    /// The selector's ``OnlinePortfolioSelector/name``.
    public let algorithm: String
    /// Number of periods `T`.
    public let periodCount: Int
    /// Number of assets `m`.
    public let assetCount: Int
    /// The proportional fee used (see ``OLPSRunner/costFactor(fee:target:drifted:)``).
    public let fee: Double
    /// The convention the fee was charged under.
    public let convention: OLPSConvention
    /// Wealth after each period, starting from 1: `wealth[t] = S_t`, length `T`.
    public let wealth: [Double]
    /// Turnover `Σ_i |b_{t,i} − b̂_{t−1,i}|` of each period (period 0 counts the purchase from cash).
    public let turnover: [Double]
    /// The portfolios `b_t`, row-major `T × m`; empty unless requested.
    public let weights: [Double]

    /// Final cumulative wealth `S_T`.
    public var finalWealth: Double { wealth.last ?? 1 }

    /// `b_t` as an array (requires recorded weights).
    public func portfolio(at period: Int) -> [Double] {
        Array(weights[(period * assetCount)..<((period + 1) * assetCount)])
    }
}

/// Runs online portfolio selection: wealth of a selector over a price-relative matrix, with an
/// optional proportional fee.
public enum OLPSRunner {
    /// The multiplicative cost factor of one rebalance,
    /// `1 − fee · Σ_i |b_{t,i} − b̂_{t−1,i}|`, where `b̂_{t−1}` is the previous portfolio drifted by
    /// the last prices (`0` before the first period: the first purchase is from cash).
    ///
    /// `fee` is the rate paid on each unit of wealth bought or sold. It is the simple factor
    /// used in the OLPS literature: the survey's rate `γ` (charged as `γ/2` on the same sum, Li &
    /// Hoi 2014, §5) corresponds to `fee = γ/2`. This is the one place where OLPS charges costs.
    @inlinable
    public static func costFactor(fee: Double, target: UnsafeMutableBufferPointer<Double>,
                                  drifted: UnsafeMutableBufferPointer<Double>) -> Double {
        if fee == 0 { return 1 }
        return 1 - fee * turnover(target, drifted)
    }

    @inlinable
    static func turnover(_ a: UnsafeMutableBufferPointer<Double>, _ b: UnsafeMutableBufferPointer<Double>) -> Double {
        var sum = 0.0
        for i in 0..<a.count { sum += abs(a[i] - b[i]) }
        return sum
    }

    /// Tolerance on `|Σ b − 1|` and on negative entries when checking a selector's portfolio.
    public static let portfolioTolerance = 1e-8

    /// The fee charged per unit traded under `convention`: the toolbox's rate `tc` is charged as
    /// `tc/2` (`Strategy/*_run.m`: `1 − tc/2 · Σ|b − b_o|`), the paper convention charges `fee` itself.
    @inlinable
    public static func feePerUnit(_ fee: Double, convention: OLPSConvention) -> Double {
        convention == .toolbox ? fee / 2 : fee
    }

    /// Runs `selector` over every period of `relatives`.
    ///
    /// Period `t` uses the portfolio decided from periods `0..<t`:
    /// `S_t = S_{t−1} · costFactor · (b_t · x_t)`, then `b̂_t = b_t ⊙ x_t / r_t`, where `r_t` is the
    /// gross return `b_t · x_t` (``OLPSConvention/paper``) or the net return
    /// `costFactor · (b_t · x_t)` (``OLPSConvention/toolbox``, as its run loops do). Without a fee
    /// the two conventions give the same run.
    ///
    /// - Parameters:
    ///   - fee: proportional fee in `[0, 1)`, default 0 (the literature's no-cost figures); the
    ///     toolbox's `tc` under ``OLPSConvention/toolbox`` (charged as `tc/2` per unit traded), the
    ///     rate per unit traded under ``OLPSConvention/paper``.
    ///   - convention: how the fee is charged (default ``OLPSConvention/toolbox``).
    ///   - recordWeights: keep every `b_t` in ``OLPSResult/weights`` (`T × m` doubles).
    ///   - progress: called with the periods done and the total after each hundredth of the run and
    ///     at its end (a progress line for long runs such as CORN or UP on hundreds of assets).
    /// - Throws: ``OLPSError/invalidFee(value:)``; ``OLPSError/invalidPortfolio(algorithm:period:reason:)``
    ///   when the selector returns a non-finite, negative or unnormalized vector; errors of
    ///   ``OnlinePortfolioSelector/reset(assetCount:)``.
    ///   Complexity: `T` selector steps plus `O(T·m)`.
    public static func run<S: OnlinePortfolioSelector>(_ selector: inout S, on relatives: PriceRelatives,
                                                       fee: Double = 0, convention: OLPSConvention = .toolbox,
                                                       recordWeights: Bool = false,
                                                       progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> OLPSResult {
        guard fee >= 0, fee < 1, fee.isFinite else { throw OLPSError.invalidFee(value: fee) }
        let progressStride = Swift.max(1, relatives.periodCount / 100)
        let unitFee = feePerUnit(fee, convention: convention)
        let m = relatives.assetCount, periods = relatives.periodCount
        try selector.reset(assetCount: m)
        var wealth = [Double](repeating: 0, count: periods)
        var turnovers = [Double](repeating: 0, count: periods)
        var recorded = [Double](repeating: 0, count: recordWeights ? periods * m : 0)
        var target = [Double](repeating: 1 / Double(m), count: m)
        var previous = target, drifted = target
        var held = [Double](repeating: 0, count: m)   // b̂_{t−1}; zero before the first purchase
        var current = 1.0
        var lastNet: Double?
        var failure: OLPSError?
        relatives.values.withUnsafeBufferPointer { x in
            target.withUnsafeMutableBufferPointer { b in
                previous.withUnsafeMutableBufferPointer { prev in
                    drifted.withUnsafeMutableBufferPointer { drift in
                        held.withUnsafeMutableBufferPointer { hat in
                            for t in 0..<periods {
                                let step = OLPSStep(period: t, observed: ObservedRelatives(base: x, count: t, assetCount: m),
                                                    previous: UnsafeBufferPointer(prev), drifted: UnsafeBufferPointer(drift),
                                                    netReturn: lastNet)
                                selector.nextPortfolio(step, into: b)
                                if let reason = invalidity(of: b) {
                                    failure = .invalidPortfolio(algorithm: selector.name, period: t, reason: reason)
                                    return
                                }
                                turnovers[t] = turnover(b, hat)
                                let cost = costFactor(fee: unitFee, target: b, drifted: hat)
                                var growth = 0.0
                                for i in 0..<m { growth += b[i] * x[t * m + i] }
                                let net = cost * growth
                                current *= net
                                wealth[t] = current
                                if convention == .toolbox { lastNet = net }
                                if let progress, (t + 1) % progressStride == 0 || t + 1 == periods { progress(t + 1, periods) }
                                let divisor = convention == .toolbox ? net : growth
                                for i in 0..<m {
                                    prev[i] = b[i]
                                    hat[i] = b[i] * x[t * m + i] / divisor
                                    drift[i] = b[i] * x[t * m + i] / growth
                                }
                                if recordWeights { for i in 0..<m { recorded[t * m + i] = b[i] } }
                            }
                        }
                    }
                }
            }
        }
        if let failure { throw failure }
        return OLPSResult(algorithm: selector.name, periodCount: periods, assetCount: m, fee: fee, convention: convention, wealth: wealth,
                          turnover: turnovers, weights: recorded)
    }

    /// Runs a copy of `selector` (the argument is not mutated); see ``run(_:on:fee:convention:recordWeights:progress:)``.
    public static func run<S: OnlinePortfolioSelector>(_ selector: S, on relatives: PriceRelatives, fee: Double = 0,
                                                       convention: OLPSConvention = .toolbox,
                                                       recordWeights: Bool = false,
                                                       progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> OLPSResult {
        var copy = selector
        return try run(&copy, on: relatives, fee: fee, convention: convention, recordWeights: recordWeights, progress: progress)
    }

    static func invalidity(of b: UnsafeMutableBufferPointer<Double>) -> String? {
        var sum = 0.0
        for i in 0..<b.count {
            guard b[i].isFinite else { return "weight \(i) is \(b[i])" }
            guard b[i] >= -portfolioTolerance else { return "weight \(i) is negative (\(b[i]))" }
            sum += b[i]
        }
        return abs(sum - 1) <= portfolioTolerance ? nil : "weights sum to \(sum), not 1"
    }
}
