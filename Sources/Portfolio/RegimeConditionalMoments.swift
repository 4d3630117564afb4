import Linalg
import Market

/// Means and covariances of returns conditional on each regime, each period weighted by the
/// probability that it belongs to the regime (for example filtered HMM probabilities), and their
/// mixture at given current probabilities.
///
/// For state `s` with weights `pₜₛ`: the weighted mean `μₛ = Σₜ pₜₛ rₜ / V₁` and the covariance with
/// reliability weights `Σₛ = Σₜ pₜₛ (rₜ − μₛ)(rₜ − μₛ)ᵀ / (V₁ − V₂/V₁)`, `V₁ = Σₜ pₜₛ`, `V₂ = Σₜ pₜₛ²`
/// (NumPy's `np.cov(..., aweights=p)`), both annualized. With current probabilities `q` the
/// posterior-weighted moments are those of the mixture: `μ = Σₛ qₛ μₛ` and
/// `Σ = Σₛ qₛ (Σₛ + μₛ μₛᵀ) − μ μᵀ` (the law of total covariance).
public struct RegimeConditionalMoments: Sendable {
    /// Asset names.
    public let assets: [String]
    /// Asset classes.
    public let assetClasses: [AssetClass]
    /// Annualized mean return of each state, `states × assets`.
    public let means: Matrix
    /// Annualized covariance of each state.
    public let covariances: [Matrix]
    /// `V₁` of each state: its expected number of periods.
    public let effectiveObservations: [Double]

    /// Moments of `returns` (per period) under the state weights `probabilities` (`periods × states`,
    /// rows summing to 1), annualized by `annualizationFactor`.
    ///
    /// - Throws: ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` when the
    ///   probabilities do not have one row per period; ``PortfolioError/invalidArgument(operation:message:)``
    ///   for a negative or non-finite weight, a row not summing to 1 (within 1e-6), a non-positive
    ///   annualization, or a state whose weights leave no degree of freedom (`V₁ − V₂/V₁ ≤ 0`, e.g.
    ///   a state seen in one period only).
    public init(returns: ReturnObservations, probabilities: Matrix, annualizationFactor: Double = 252) throws {
        let operation = "RegimeConditionalMoments"
        let n = returns.assetCount, periods = returns.periodCount, states = probabilities.columns
        guard probabilities.rows == periods else {
            throw PortfolioError.dimensionMismatch(operation: operation, lhs: "return periods", lhsCount: periods,
                                                   rhs: "probability rows", rhsCount: probabilities.rows)
        }
        guard annualizationFactor > 0, annualizationFactor.isFinite, states >= 1 else {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "needs at least one state and a positive annualization, not \(annualizationFactor)")
        }
        for t in 0..<periods {
            let row = (0..<states).map { probabilities[t, $0] }
            if let bad = row.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
                throw PortfolioError.invalidArgument(operation: operation, message: "probability of state \(bad) in period \(t) is \(row[bad])")
            }
            let total = row.reduce(0, +)
            guard abs(total - 1) <= 1e-6 else {
                throw PortfolioError.invalidArgument(operation: operation, message: "probabilities of period \(t) sum to \(total), not 1")
            }
        }
        var means = Matrix(rows: states, columns: n)
        var covariances: [Matrix] = []
        var effective: [Double] = []
        let r = returns.values
        for s in 0..<states {
            let weights = (0..<periods).map { probabilities[$0, s] }
            let v1 = weights.reduce(0, +), v2 = weights.reduce(0) { $0 + $1 * $1 }
            let denominator = v1 - (v1 > 0 ? v2 / v1 : 0)
            guard v1 > 0, denominator > 1e-12 else {
                throw PortfolioError.invalidArgument(operation: operation,
                                                     message: "state \(s) has weight \(v1) over the periods, too little for a covariance")
            }
            var mean = [Double](repeating: 0, count: n)
            for t in 0..<periods where weights[t] > 0 {
                for a in 0..<n { mean[a] += weights[t] * r[t, a] }
            }
            mean = mean.map { $0 / v1 }
            var covariance = Matrix(rows: n, columns: n)
            for t in 0..<periods where weights[t] > 0 {
                for i in 0..<n {
                    let di = r[t, i] - mean[i]
                    for j in i..<n { covariance[i, j] += weights[t] * di * (r[t, j] - mean[j]) }
                }
            }
            for i in 0..<n {
                for j in i..<n {
                    covariance[i, j] *= annualizationFactor / denominator
                    covariance[j, i] = covariance[i, j]
                }
                means[s, i] = mean[i] * annualizationFactor
            }
            covariances.append(covariance)
            effective.append(v1)
        }
        self.assets = returns.assets
        self.assetClasses = returns.assetClasses
        self.means = means
        self.covariances = covariances
        self.effectiveObservations = effective
    }

    /// Number of states.
    public var stateCount: Int { covariances.count }

    /// The posterior-weighted mean and covariance at current state probabilities `current`.
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` for a wrong count, a negative
    ///   or non-finite probability, or a sum other than 1 (within 1e-6).
    public func blended(_ current: [Double]) throws -> (expectedReturns: [Double], covariance: Matrix) {
        let operation = "RegimeConditionalMoments.blended"
        guard current.count == stateCount, current.allSatisfy({ $0.isFinite && $0 >= 0 }),
              abs(current.reduce(0, +) - 1) <= 1e-6 else {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "probabilities \(current) must be \(stateCount) non-negative values summing to 1")
        }
        let n = assets.count
        var mean = [Double](repeating: 0, count: n)
        for s in 0..<stateCount { for a in 0..<n { mean[a] += current[s] * means[s, a] } }
        var covariance = Matrix(rows: n, columns: n)
        for s in 0..<stateCount where current[s] > 0 {
            for i in 0..<n {
                for j in 0..<n {
                    covariance[i, j] += current[s] * (covariances[s][i, j] + means[s, i] * means[s, j])
                }
            }
        }
        for i in 0..<n { for j in 0..<n { covariance[i, j] -= mean[i] * mean[j] } }
        return (mean, covariance)
    }

    /// Optimizer inputs with the posterior-weighted moments at `current`.
    ///
    /// - Throws: the errors of ``blended(_:)`` and of `OptimizationInputs`.
    public func inputs(at current: [Double]) throws -> OptimizationInputs {
        let (mean, covariance) = try blended(current)
        return try OptimizationInputs(assets: assets, covariance: covariance, expectedReturns: mean, assetClasses: assetClasses)
    }
}
