/// Proportional transaction costs and the factor by which a rebalance shrinks the portfolio.
///
/// Weights are fractions of the portfolio value just before the trade. Rebalancing from the
/// drifted weights `w′` to the target `w` leaves the value multiplied by the *transaction remainder
/// factor* `μ ∈ (0, 1]`. Trading the cash asset is free; every other asset pays ``buyRate`` on
/// purchases and ``sellRate`` on sales.
///
/// Two ways to compute `μ`:
/// - ``Method/simple``: `μ = 1 − Σᵢ [c_p (wᵢ − w′ᵢ)⁺ + c_s (w′ᵢ − wᵢ)⁺]` over non-cash assets, i.e.
///   `1 − c·Σ|w′ᵢ − wᵢ|` when both rates equal `c` (Jiang, Xu & Liang 2017, eq. 16). It charges the
///   cost on the trades toward `w` instead of toward the smaller post-cost portfolio, so it
///   slightly overstates the cost.
/// - ``Method/exact``: the fixed point of
///   `μ = [1 − c_p w′₀ − (c_s + c_p − c_s c_p) Σᵢ (w′ᵢ − μwᵢ)⁺] / (1 − c_p w₀)`
///   (Jiang, Xu & Liang 2017, "A Deep Reinforcement Learning Framework for the Financial Portfolio
///   Management Problem", arXiv:1706.10059, eq. 14 and Theorem 1; Ormos & Urbán 2013,
///   "Performance analysis of log-optimal portfolio strategies with transaction costs",
///   Quant. Finance 13), where index 0 is cash (`w₀ = w′₀ = 0` without a cash asset). After the
///   trade every asset holds exactly `μwᵢ` of the pre-trade value: sales fund purchases and costs.
public struct TransactionCostModel: Sendable, Hashable, Codable {
    /// How the transaction remainder factor is computed.
    public enum Method: String, Sendable, Hashable, Codable, CaseIterable {
        /// `1 − Σ c·|Δw|`: the first-order approximation.
        case simple
        /// The exact factor by fixed-point iteration.
        case exact
    }

    /// Cost per unit of value bought, in `[0, 1)` (0.0025 = 25 basis points).
    public let buyRate: Double
    /// Cost per unit of value sold, in `[0, 1)`.
    public let sellRate: Double
    /// The factor's computation.
    public let method: Method
    /// The iteration stops when two successive values of `μ` differ by at most this. Default 1e-15.
    public let tolerance: Double
    /// The iteration throws after this many steps. Default 200.
    public let maximumIterations: Int

    /// No costs: `μ = 1` always.
    public static let free = TransactionCostModel(uncheckedBuyRate: 0, sellRate: 0, method: .simple)

    /// Creates a cost model.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` for a rate outside
    ///   `[0, 1)`, a non-positive tolerance or fewer than one iteration.
    public init(buyRate: Double, sellRate: Double, method: Method = .exact, tolerance: Double = 1e-15,
                maximumIterations: Int = 200) throws {
        let operation = "TransactionCostModel"
        for (name, rate) in [("buyRate", buyRate), ("sellRate", sellRate)] where !(rate >= 0 && rate < 1) {
            throw BacktestError.invalidArgument(operation: operation, parameter: name, message: "\(rate) is not in [0, 1)")
        }
        guard tolerance > 0, tolerance.isFinite else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "tolerance", message: "\(tolerance) must be positive")
        }
        guard maximumIterations >= 1 else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "maximumIterations",
                                                message: "\(maximumIterations) must be at least 1")
        }
        self.init(uncheckedBuyRate: buyRate, sellRate: sellRate, method: method, tolerance: tolerance,
                  maximumIterations: maximumIterations)
    }

    /// The same rate `rate` for purchases and sales.
    ///
    /// - Throws: as ``init(buyRate:sellRate:method:tolerance:maximumIterations:)``.
    public init(rate: Double, method: Method = .exact) throws {
        try self.init(buyRate: rate, sellRate: rate, method: method)
    }

    private init(uncheckedBuyRate buyRate: Double, sellRate: Double, method: Method, tolerance: Double = 1e-15,
                 maximumIterations: Int = 200) {
        self.buyRate = buyRate
        self.sellRate = sellRate
        self.method = method
        self.tolerance = tolerance
        self.maximumIterations = maximumIterations
    }

    /// `true` when both rates are zero.
    public var isFree: Bool { buyRate == 0 && sellRate == 0 }

    /// The transaction remainder factor of one rebalance and the iterations it took.
    public struct Remainder: Sendable, Hashable {
        /// `μ`: the post-trade value per unit of pre-trade value.
        public let factor: Double
        /// Fixed-point iterations (0 for ``Method/simple`` and for trades without cost).
        public let iterations: Int
    }

    /// The factor `μ` for a rebalance from `current` (drifted) to `target` weights.
    ///
    /// Both vectors have the same length and sum to 1; `cashIndex` names the free cash entry, if any.
    /// Cost `O(m)` per iteration; the exact iteration is a contraction (Jiang et al. 2017, Theorem 1)
    /// that typically converges in a handful of steps from the simple factor.
    ///
    /// When the iteration has not settled within ``maximumIterations`` (rates near 1 make it slow),
    /// Newton steps on the piecewise-linear equation finish the solve.
    ///
    /// - Throws: ``BacktestError/costIterationDidNotConverge(time:iterations:residual:)`` (with `time`
    ///   as given) when neither settles (weights outside the simplex).
    public func remainder(from current: [Double], to target: [Double], cashIndex: Int?, time: String = "") throws -> Remainder {
        var simpleCost = 0.0
        for i in current.indices where i != cashIndex {
            let delta = target[i] - current[i]
            simpleCost += delta > 0 ? buyRate * delta : -sellRate * delta
        }
        if method == .simple || simpleCost == 0 { return Remainder(factor: 1 - simpleCost, iterations: 0) }
        let cashBefore = cashIndex.map { current[$0] } ?? 0
        let cashAfter = cashIndex.map { target[$0] } ?? 0
        let combined = sellRate + buyRate - sellRate * buyRate
        let denominator = 1 - buyRate * cashAfter
        var mu = 1 - simpleCost
        var residual = Double.infinity
        for iteration in 1...maximumIterations {
            var sold = 0.0
            for i in current.indices where i != cashIndex {
                let excess = current[i] - mu * target[i]
                if excess > 0 { sold += excess }
            }
            let next = (1 - buyRate * cashBefore - combined * sold) / denominator
            residual = abs(next - mu)
            mu = next
            if residual <= tolerance { return Remainder(factor: mu, iterations: iteration) }
        }
        // With high rates the contraction factor nears the combined rate (0.99 at a 0.9 fee) and the
        // iteration crawls. The map is piecewise linear and concave in μ, so Newton's method on
        // μ − f(μ) reaches the root exactly, at most one step per breakpoint: it stops once a step
        // stays on the same linear piece.
        var previousSlope = -1.0
        for step in 1...(current.count + 2) {
            var sold = 0.0, slope = 0.0
            for i in current.indices where i != cashIndex {
                let excess = current[i] - mu * target[i]
                if excess > 0 { sold += excess; slope += target[i] }
            }
            let gap = (1 - buyRate * cashBefore - combined * sold) / denominator - mu
            residual = abs(gap)
            if slope == previousSlope || residual <= tolerance {
                return Remainder(factor: mu, iterations: maximumIterations + step)
            }
            let derivative = combined * slope / denominator - 1
            guard derivative < 0 else { break }
            mu -= gap / derivative
            previousSlope = slope
        }
        throw BacktestError.costIterationDidNotConverge(time: time, iterations: maximumIterations, residual: residual)
    }
}

extension TransactionCostModel {
    private enum CodingKeys: String, CodingKey { case buyRate, sellRate, method, tolerance, maximumIterations }

    /// Decodes `{"buyRate": …, "sellRate": …, "method": "exact"|"simple", "tolerance": …, "maximumIterations": …}`
    /// (the last three optional) and validates it as the initializer does.
    ///
    /// - Throws: `DecodingError` for a missing or mistyped key, or the initializer's
    ///   ``BacktestError/invalidArgument(operation:parameter:message:)``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(buyRate: container.decode(Double.self, forKey: .buyRate),
                      sellRate: container.decode(Double.self, forKey: .sellRate),
                      method: container.decodeIfPresent(Method.self, forKey: .method) ?? .exact,
                      tolerance: container.decodeIfPresent(Double.self, forKey: .tolerance) ?? 1e-15,
                      maximumIterations: container.decodeIfPresent(Int.self, forKey: .maximumIterations) ?? 200)
    }
}
