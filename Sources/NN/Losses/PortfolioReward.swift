import Autodiff

/// Computes the transaction-remainder factor `μₜ` of each batch row from the portfolio held before
/// rebalancing and the new target portfolio (Jiang, Xu & Liang 2017, §2.3).
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
/// commission rate `c` for buying and selling (Jiang, Xu & Liang 2017, eq. 16; the paper uses
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

/// The mean logarithmic return of a portfolio over a batch of periods, the reward that Jiang, Xu &
/// Liang maximize ("A deep reinforcement learning framework for the financial portfolio management
/// problem", arXiv:1706.10059, 2017, eq. 22):
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

/// ``portfolioLogReturnReward(weights:priceRelatives:previousWeights:transactionRemainder:)`` with the
/// transaction-remainder factor given as a closure `(previousWeights, newWeights) → μ` of shape `[batch]`.
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
/// (Jiang, Xu & Liang 2017, eq. 7). Differentiable.
///
/// - Parameters:
///   - weights: `[batch, 1 + assets]`, cash first.
///   - priceRelatives: the same shape.
/// - Throws: ``LossError/rankMismatch(loss:argument:expected:actual:)`` and
///   ``LossError/shapeMismatch(loss:argument:expected:actual:)`` as
///   ``portfolioLogReturnReward(weights:priceRelatives:previousWeights:transactionRemainder:)``.
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
