import Autodiff

/// Computes the transaction-remainder factor `μₜ` of each batch row from the portfolio held before
/// rebalancing and the new target portfolio (Jiang, Xu & Liang 2017, §2).
///
/// `μₜ ∈ (0, 1]` is the fraction of portfolio value that survives the trades
/// turning `previousWeights` into `newWeights`. Implementations compose
/// `Tensor` operations so that gradients flow into the weights.
public protocol TransactionRemainderFactor: Sendable {
    /// `μ` for each row, shape `[batch]`.
    ///
    /// - Parameters:
    ///   - previousWeights: `w′ₜ₋₁`, `[batch, 1 + assets]`, cash first.
    ///   - newWeights: `wₜ`, the same shape.
    func remainder<Scalar: TensorScalar>(previousWeights: Tensor<Scalar>, newWeights: Tensor<Scalar>) -> Tensor<Scalar>
}

/// The first-order approximation `μₜ ≈ 1 − c·Σᵢ₌₁ᵐ |w′ₜ₋₁,ᵢ − wₜ,ᵢ|` over the non-cash assets, with one
/// commission rate `c` for buying and selling (Jiang, Xu & Liang 2017, §2; the paper uses
/// `c = 0.25%`).
public struct ProportionalCommission: TransactionRemainderFactor {
    /// `c`, the commission per unit of value traded, in `[0, 1)`.
    public let rate: Double

    /// - Throws: ``LossError/invalidOption(loss:name:value:requirement:)`` unless `0 ≤ rate < 1`.
    public init(rate: Double) throws {
        try requireOption(rate >= 0 && rate < 1, "ProportionalCommission", "rate", rate, "must be in [0, 1)")
        self.rate = rate
    }

    /// `1 − c·Σᵢ≥₁ |w′ᵢ − wᵢ|` per row.
    public func remainder<Scalar: TensorScalar>(previousWeights: Tensor<Scalar>,
                                                newWeights: Tensor<Scalar>) -> Tensor<Scalar> {
        let assets = previousWeights.shape[1]
        let traded = (previousWeights - newWeights).sliced(alongAxis: 1, from: 1, to: assets).abs()
        return 1 - Scalar(rate) * traded.sum(alongAxis: 1)
    }
}

/// The exact transaction-remainder factor with separate purchase and sale commissions, found by the
/// fixed-point iteration of Jiang, Xu & Liang 2017 (§2, Theorem 1):
///
/// `μ = [1 − c_p·w′₀ − (c_s + c_p − c_s·c_p)·Σᵢ₌₁ᵐ (w′ᵢ − μ·wᵢ)⁺] / (1 − c_p·w₀)`
///
/// The map is a contraction (its slope in `μ` is below 1), so the iteration from the
/// first-order approximation converges; it stops when `μ` changes by less than
/// `4·Scalar.ulpOfOne` (at least `1e-13`) or after ``maximumIterations``. Every iteration is
/// recorded, so gradients are those of the unrolled iteration, which converge to the
/// implicit-function gradients.
public struct IterativeCommission: TransactionRemainderFactor {
    /// `c_p`, the commission rate on purchases, in `[0, 1)`.
    public let purchaseRate: Double
    /// `c_s`, the commission rate on sales, in `[0, 1)`.
    public let saleRate: Double
    /// The most fixed-point iterations per call (≥ 1; default 50).
    public let maximumIterations: Int

    /// - Throws: ``LossError/invalidOption(loss:name:value:requirement:)`` for a rate outside `[0, 1)` or
    ///   fewer than one iteration.
    public init(purchaseRate: Double, saleRate: Double, maximumIterations: Int = 50) throws {
        let name = "IterativeCommission"
        try requireOption(purchaseRate >= 0 && purchaseRate < 1, name, "purchaseRate", purchaseRate, "must be in [0, 1)")
        try requireOption(saleRate >= 0 && saleRate < 1, name, "saleRate", saleRate, "must be in [0, 1)")
        try requireOption(maximumIterations >= 1, name, "maximumIterations", Double(maximumIterations), "must be ≥ 1")
        self.purchaseRate = purchaseRate
        self.saleRate = saleRate
        self.maximumIterations = maximumIterations
    }

    /// The fixed point `μ` per row, shape `[batch]`.
    public func remainder<Scalar: TensorScalar>(previousWeights: Tensor<Scalar>,
                                                newWeights: Tensor<Scalar>) -> Tensor<Scalar> {
        let assets = previousWeights.shape[1]
        let cp = Scalar(purchaseRate), combined = Scalar(saleRate + purchaseRate - saleRate * purchaseRate)
        let previousAssets = previousWeights.sliced(alongAxis: 1, from: 1, to: assets)
        let newAssets = newWeights.sliced(alongAxis: 1, from: 1, to: assets)
        let numeratorBase = 1 - cp * previousWeights.sliced(alongAxis: 1, from: 0, to: 1).squeezed(at: 1)
        let denominator = 1 - cp * newWeights.sliced(alongAxis: 1, from: 0, to: 1).squeezed(at: 1)
        let averageRate = Scalar((purchaseRate + saleRate) / 2)
        var mu = 1 - averageRate * (previousAssets - newAssets).abs().sum(alongAxis: 1)
        let tolerance = Swift.max(Scalar(1e-13), 4 * Scalar.ulpOfOne)
        for _ in 0..<maximumIterations {
            let sold = (previousAssets - mu.unsqueezed(at: 1) * newAssets).relu().sum(alongAxis: 1)
            let next = (numeratorBase - combined * sold) / denominator
            let change = zip(next.scalars, mu.scalars).reduce(Scalar(0)) { Swift.max($0, Swift.abs($1.0 - $1.1)) }
            mu = next
            if change <= tolerance { break }
        }
        return mu
    }
}

/// The mean logarithmic return of a portfolio over a batch of periods, the reward that Jiang, Xu &
/// Liang maximize ("A deep reinforcement learning framework for the financial portfolio management
/// problem", arXiv:1706.10059, 2017, §4):
///
/// `R = (1/B)·Σₜ log(μₜ · yₜ·wₜ)`
///
/// Differentiable in the weights (and in anything the transaction-remainder factor uses); train by
/// minimizing `−R`.
///
/// - Parameters:
///   - weights: `wₜ`, `[batch, 1 + assets]`, cash first; each row is the portfolio chosen for period `t`.
///   - priceRelatives: `yₜ`, the same shape: closing price over the previous close (1 for cash).
///     Must be finite and positive.
///   - previousWeights: `w′ₜ₋₁`, the same shape: the portfolio held just before rebalancing (the previous
///     weights drifted by the last period's prices, see ``driftedWeights(_:priceRelatives:)``).
///   - transactionRemainder: computes `μₜ` from previous and new weights.
/// - Returns: the rank-0 reward `R`.
/// - Throws: ``LossError/rankMismatch(loss:argument:expected:actual:)`` and
///   ``LossError/shapeMismatch(loss:argument:expected:actual:)`` for inputs that are not
///   `[batch, 1 + assets]` with at least one asset, or a factor not shaped `[batch]`;
///   ``LossError/invalidValue(loss:argument:position:value:requirement:)`` for a price relative that is
///   not finite and positive; ``LossError/nonPositiveGrowth(row:value:)`` when some `μₜ·yₜ·wₜ ≤ 0`.
public func portfolioLogReturnReward<Scalar>(weights: Tensor<Scalar>, priceRelatives: Tensor<Scalar>,
                                             previousWeights: Tensor<Scalar>,
                                             transactionRemainder: some TransactionRemainderFactor)
    throws -> Tensor<Scalar> {
    try portfolioLogReturnReward(weights: weights, priceRelatives: priceRelatives, previousWeights: previousWeights) {
        transactionRemainder.remainder(previousWeights: $0, newWeights: $1)
    }
}

/// ``portfolioLogReturnReward(weights:priceRelatives:previousWeights:transactionRemainder:)-(_,_,_,TransactionRemainderFactor)``
/// with the transaction-remainder factor given as a closure `(previousWeights, newWeights) → μ` of shape `[batch]`.
public func portfolioLogReturnReward<Scalar>(
    weights: Tensor<Scalar>, priceRelatives: Tensor<Scalar>, previousWeights: Tensor<Scalar>,
    transactionRemainder: (_ previousWeights: Tensor<Scalar>, _ newWeights: Tensor<Scalar>) throws -> Tensor<Scalar>
) throws -> Tensor<Scalar> {
    let name = "portfolioLogReturnReward"
    try requirePortfolioShape(weights, name, "weights")
    try requireShape(priceRelatives, weights.shape, name, "priceRelatives")
    try requireShape(previousWeights, weights.shape, name, "previousWeights")
    if let bad = priceRelatives.scalars.firstIndex(where: { !($0 > 0 && $0.isFinite) }) {
        throw LossError.invalidValue(loss: name, argument: "priceRelatives", position: bad,
                                     value: Double(priceRelatives.scalars[bad]), requirement: "must be finite and > 0")
    }
    let mu = try transactionRemainder(previousWeights, weights)
    try requireShape(mu, [weights.shape[0]], name, "transaction remainder factor")
    let growth = mu * (weights * priceRelatives).sum(alongAxis: 1)
    if let row = growth.scalars.firstIndex(where: { !($0 > 0) }) {
        throw LossError.nonPositiveGrowth(row: row, value: Double(growth.scalars[row]))
    }
    return growth.log().mean()
}

/// The weights at the end of each period after prices moved: `w′ₜ = (yₜ ⊙ wₜ)/(yₜ·wₜ)`
/// (Jiang, Xu & Liang 2017, §2). Differentiable.
///
/// - Parameters:
///   - weights: `[batch, 1 + assets]`, cash first.
///   - priceRelatives: the same shape.
/// - Throws: ``LossError/rankMismatch(loss:argument:expected:actual:)`` and
///   ``LossError/shapeMismatch(loss:argument:expected:actual:)`` as
///   ``portfolioLogReturnReward(weights:priceRelatives:previousWeights:transactionRemainder:)-(_,_,_,TransactionRemainderFactor)``.
public func driftedWeights<Scalar>(_ weights: Tensor<Scalar>, priceRelatives: Tensor<Scalar>) throws -> Tensor<Scalar> {
    try requirePortfolioShape(weights, "driftedWeights", "weights")
    try requireShape(priceRelatives, weights.shape, "driftedWeights", "priceRelatives")
    let grown = weights * priceRelatives
    return grown / grown.sum(alongAxis: 1, keepingDimensions: true)
}

private func requirePortfolioShape<Scalar>(_ weights: Tensor<Scalar>, _ loss: String, _ argument: String) throws {
    guard weights.rank == 2 else {
        throw LossError.rankMismatch(loss: loss, argument: argument, expected: "2 ([batch, 1 + assets])",
                                     actual: weights.rank)
    }
    guard weights.shape[1] >= 2 else {
        throw LossError.shapeMismatch(loss: loss, argument: argument, expected: [weights.shape[0], 2],
                                      actual: weights.shape.dimensions)
    }
}
