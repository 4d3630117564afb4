import Linalg
import RealModule

/// Fitted expected returns: annualized, one per asset.
public struct ExpectedReturnsEstimate: Sendable {
    /// Asset names, `n`.
    public let assets: [String]
    /// Annualized expected returns, `n`.
    public let values: [Double]
    /// The estimator that produced them.
    public let method: ExpectedReturnsEstimator.Method
    /// The shrinkage intensity in `[0, 1]` for James–Stein, `nil` otherwise.
    public let shrinkage: Double?
    /// CAPM betas against the market, `nil` for other methods.
    public let betas: [Double]?

    /// The estimate for `asset`.
    ///
    /// - Throws: ``PortfolioError/unknownAsset(operation:asset:)``.
    public func value(of asset: String) throws -> Double {
        guard let k = assets.firstIndex(of: asset) else {
            throw PortfolioError.unknownAsset(operation: "ExpectedReturnsEstimate.value", asset: asset)
        }
        return values[k]
    }
}

/// An expected-returns estimator configured by hyperparameters, then fitted on returns.
///
/// Per-period returns are annualized by ``annualizationFactor`` `A` (252 for daily data):
/// arithmetically (`A·m`) or, with ``compounding``, geometrically (`(1 + m)^A − 1` for the
/// EWMA and CAPM market means, `Π(1 + rₜ)^(A/T) − 1` for the historical mean).
///
/// ```swift
/// let mu = try ExpectedReturnsEstimator(method: .historicalMean).fit(returns)
/// ```
public struct ExpectedReturnsEstimator: Sendable {
    /// The shrinkage target of the James–Stein estimator.
    public enum ShrinkageTarget: Sendable, Hashable {
        /// The cross-sectional average of the sample means.
        case grandMean
        /// The mean return of the sample minimum-variance portfolio (Jorion's Bayes–Stein target).
        case minimumVariancePortfolio
    }

    /// The estimation method.
    public enum Method: Sendable, Hashable {
        /// The sample mean of each column.
        case historicalMean
        /// The exponentially weighted mean at the last row, weights `∝ (1 − α)^(T−1−t)`.
        case ewma(EWMADecay)
        /// The positive-part James–Stein estimator `μ₀ + (1 − φ)(m − μ₀)`, with
        /// `φ = min(1, (n − 2) / (T·(m − μ₀)ᵀS⁻¹(m − μ₀)))`, `S` the sample covariance.
        /// Reference: W. James and C. Stein (1961); P. Jorion, "Bayes–Stein estimation for portfolio
        /// analysis", J. Financial Quant. Anal. 21 (1986) 279–292.
        case jamesStein(target: ShrinkageTarget)
        /// CAPM: `r_f + βᵢ(E[r_m] − r_f)`, `βᵢ = cov(rᵢ, r_m)/var(r_m)`; the market is `marketReturns`
        /// (per period, length `T`) or, when `nil`, the equally weighted average of the assets.
        /// `riskFreeRate` is annual. Reference: W. F. Sharpe, J. Finance 19 (1964) 425–442.
        case capm(riskFreeRate: Double, marketReturns: [Double]?)
        /// Estimates made by another ``ExpectedReturnsEstimating`` type, named by it; not fitted by
        /// ``ExpectedReturnsEstimator``.
        case custom(String)
    }

    /// The method.
    public var method: Method
    /// Periods per year `A`. Default 252.
    public var annualizationFactor: Double
    /// Geometric instead of arithmetic annualization (see the type's discussion). Default `false`.
    public var compounding: Bool

    /// Creates an estimator.
    public init(method: Method = .historicalMean, annualizationFactor: Double = 252, compounding: Bool = false) {
        self.method = method
        self.annualizationFactor = annualizationFactor
        self.compounding = compounding
    }

    /// Fits the estimator. Cost `O(T·n)` (James–Stein adds an `O(T·n² + n³)` covariance solve).
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` for a bad decay or factor,
    ///   ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` when the market
    ///   series has the wrong length, ``PortfolioError/nonFinite(operation:what:asset:observation:)``
    ///   for a NaN in it, ``PortfolioError/insufficientData(operation:observations:required:)``
    ///   when James–Stein has fewer than 3 assets or the covariance is singular.
    public func fit(_ returns: ReturnObservations) throws -> ExpectedReturnsEstimate {
        let operation = "ExpectedReturnsEstimator.fit"
        let a = annualizationFactor
        guard a > 0, a.isFinite else {
            throw PortfolioError.invalidArgument(operation: operation, message: "annualization factor \(a) must be positive")
        }
        let x = returns.values
        let (t, n) = (x.rows, x.columns)
        let means = try x.columnMeans()
        func annualize(_ m: Double) -> Double { compounding ? Double.pow(1 + m, a) - 1 : m * a }
        switch method {
        case let .custom(name):
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "method \(name) is computed by its own estimator, not by ExpectedReturnsEstimator")
        case .historicalMean:
            var values = means.map { $0 * a }
            if compounding {
                values = (0..<n).map { j in
                    var logGrowth = 0.0
                    for row in 0..<t { logGrowth += Double.log(onePlus: x[row, j]) }
                    return Double.exp(logGrowth * a / Double(t)) - 1
                }
            }
            return ExpectedReturnsEstimate(assets: returns.assets, values: values, method: method, shrinkage: nil, betas: nil)
        case let .ewma(decay):
            let alpha: Double
            do { alpha = try decay.smoothingFactor() } catch {
                throw PortfolioError.invalidArgument(operation: operation, message: "\(error)")
            }
            var weights = [Double](repeating: 0, count: t)
            var w = 1.0
            for row in stride(from: t - 1, through: 0, by: -1) {
                weights[row] = w
                w *= 1 - alpha
            }
            let total = weights.reduce(0, +)
            var m = [Double](repeating: 0, count: n)
            for row in 0..<t {
                let weight = weights[row] / total
                for j in 0..<n { m[j] += weight * x[row, j] }
            }
            return ExpectedReturnsEstimate(assets: returns.assets, values: m.map(annualize), method: method,
                                           shrinkage: nil, betas: nil)
        case let .jamesStein(target):
            guard n >= 3 else { throw PortfolioError.insufficientData(operation: operation, observations: n, required: 3) }
            let s = try x.covariance(ddof: 1)
            let chol: Cholesky
            do { chol = try Cholesky(s) } catch {
                throw PortfolioError.insufficientData(operation: operation + " (sample covariance is singular)",
                                                      observations: t, required: n + 1)
            }
            let mu0: Double
            switch target {
            case .grandMean:
                mu0 = means.reduce(0, +) / Double(n)
            case .minimumVariancePortfolio:
                let raw = try chol.solve([Double](repeating: 1, count: n))
                let sum = raw.reduce(0, +)
                mu0 = zip(raw, means).reduce(0) { $0 + $1.0 * $1.1 } / sum
            }
            let deviation = means.map { $0 - mu0 }
            let solved = try chol.solve(deviation)
            let quadratic = zip(deviation, solved).reduce(0) { $0 + $1.0 * $1.1 }
            let phi = quadratic > 0 ? Swift.min(1, Double(n - 2) / (Double(t) * quadratic)) : 1
            let shrunk = means.map { mu0 + (1 - phi) * ($0 - mu0) }
            return ExpectedReturnsEstimate(assets: returns.assets, values: shrunk.map { $0 * a }, method: method,
                                           shrinkage: phi, betas: nil)
        case let .capm(riskFreeRate, marketReturns):
            let market: [Double]
            if let given = marketReturns {
                guard given.count == t else {
                    throw PortfolioError.dimensionMismatch(operation: operation, lhs: "market returns", lhsCount: given.count,
                                                           rhs: "return periods", rhsCount: t)
                }
                if let k = given.firstIndex(where: { !$0.isFinite }) {
                    throw PortfolioError.nonFinite(operation: operation, what: "market return", asset: "market", observation: k)
                }
                market = given
            } else {
                market = (0..<t).map { row in (0..<n).reduce(0) { $0 + x[row, $1] } / Double(n) }
            }
            let marketMean = market.reduce(0, +) / Double(t)
            var marketVariance = 0.0
            for value in market { marketVariance += (value - marketMean) * (value - marketMean) }
            guard marketVariance > 0 else {
                throw PortfolioError.invalidArgument(operation: operation, message: "the market returns have zero variance")
            }
            var betas = [Double](repeating: 0, count: n)
            for j in 0..<n {
                var c = 0.0
                for row in 0..<t { c += (x[row, j] - means[j]) * (market[row] - marketMean) }
                betas[j] = c / marketVariance
            }
            let marketReturn = annualize(marketMean)
            let values = betas.map { riskFreeRate + $0 * (marketReturn - riskFreeRate) }
            return ExpectedReturnsEstimate(assets: returns.assets, values: values, method: method, shrinkage: nil, betas: betas)
        }
    }

    /// Equilibrium (reverse-optimized) returns `Π = r_f + δ·Σ·w_mkt` implied by market weights.
    ///
    /// `δ` is the market's risk aversion (excess return over variance), `Σ` annualized, `n × n`.
    /// Cost `O(n²)`. Reference: W. F. Sharpe, "Imputing expected security returns from portfolio
    /// composition", J. Financial Quant. Anal. 9 (1974) 463–472; Black and Litterman (1992).
    ///
    /// - Throws: ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` naming
    ///   the covariance and the weights, ``PortfolioError/nonFinite(operation:what:asset:observation:)``.
    public static func equilibriumImplied(covariance: CovarianceEstimate, marketWeights: [String: Double],
                                          riskAversion: Double, riskFreeRate: Double = 0) throws -> ExpectedReturnsEstimate {
        let operation = "ExpectedReturnsEstimator.equilibriumImplied"
        for name in marketWeights.keys where !covariance.assets.contains(name) {
            throw PortfolioError.unknownAsset(operation: operation, asset: name)
        }
        let w = covariance.assets.map { marketWeights[$0] ?? 0 }
        if let k = w.firstIndex(where: { !$0.isFinite }) {
            throw PortfolioError.nonFinite(operation: operation, what: "market weight", asset: covariance.assets[k], observation: nil)
        }
        guard riskAversion.isFinite else {
            throw PortfolioError.invalidArgument(operation: operation, message: "risk aversion must be finite")
        }
        let pi = (covariance.matrix * w).map { riskFreeRate + riskAversion * $0 }
        return ExpectedReturnsEstimate(assets: covariance.assets, values: pi, method: .historicalMean, shrinkage: nil, betas: nil)
    }
}

extension ExpectedReturnsEstimate {
    /// Estimates made by a user's own ``ExpectedReturnsEstimating`` type: annualized, finite, one per
    /// asset, recorded as method ``ExpectedReturnsEstimator/Method/custom(_:)``.
    ///
    /// - Throws: ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` and
    ///   ``PortfolioError/nonFinite(operation:what:asset:observation:)``.
    public init(assets: [String], values: [Double], method name: String) throws {
        guard values.count == assets.count else {
            throw PortfolioError.dimensionMismatch(operation: "ExpectedReturnsEstimate", lhs: "assets", lhsCount: assets.count,
                                                   rhs: "values", rhsCount: values.count)
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw PortfolioError.nonFinite(operation: "ExpectedReturnsEstimate", what: "expected return", asset: assets[bad], observation: nil)
        }
        self.init(assets: assets, values: values, method: .custom(name), shrinkage: nil, betas: nil)
    }
}
