import Linalg
import Market

/// One Black–Litterman view: a portfolio of assets (a row `pₖ` of the picking matrix `P`) and
/// the annualized return the investor expects of it (`Qₖ`).
///
/// An absolute view picks one asset with weight 1 (`E[r_AAPL] = 10%`); a relative view is long
/// some assets and short others (`E[r_MSFT − r_AMD] = 2%`). The optional ``confidence`` in
/// `[0, 1]` is used by ``BlackLittermanModel/ViewUncertainty/idzorek``.
public struct BlackLittermanView: Sendable, Hashable {
    /// Picking weights by asset name (a row of `P`; assets not named weigh 0).
    public var weights: [String: Double]
    /// The expected annualized return of the view portfolio, `Qₖ`.
    public var expectedReturn: Double
    /// Confidence in the view, from 0 (ignore it) to 1 (hold it exactly); needed by Idzorek's method.
    public var confidence: Double?

    /// A view on the portfolio `weights`.
    public init(weights: [String: Double], expectedReturn: Double, confidence: Double? = nil) {
        self.weights = weights
        self.expectedReturn = expectedReturn
        self.confidence = confidence
    }

    /// An absolute view: `asset` returns `expectedReturn` a year.
    public static func absolute(_ asset: String, expectedReturn: Double, confidence: Double? = nil) -> BlackLittermanView {
        BlackLittermanView(weights: [asset: 1], expectedReturn: expectedReturn, confidence: confidence)
    }

    /// A relative view: `outperformer` returns `spread` a year more than `underperformer`.
    ///
    /// The same asset on both sides nets to a zero weight, which ``BlackLittermanModel`` rejects
    /// as a view that picks no asset (a dictionary literal would trap on the repeated key).
    public static func relative(_ outperformer: String, over underperformer: String, by spread: Double,
                                confidence: Double? = nil) -> BlackLittermanView {
        var weights = [outperformer: 1.0]
        weights[underperformer, default: 0] -= 1
        return BlackLittermanView(weights: weights, expectedReturn: spread, confidence: confidence)
    }
}

/// The Black–Litterman posterior: the prior, the views as matrices, and the posterior moments.
///
/// With `n` assets and `K` views: ``pickingMatrix`` is `K × n`, ``viewReturns`` and the diagonal
/// of ``viewUncertainty`` have `K` entries, ``returns`` `n` and ``covariance`` `n × n`, all annualized.
public struct BlackLittermanPosterior: Sendable {
    /// Asset names, `n`.
    public let assets: [String]
    /// The prior covariance `Σ`, `n × n`.
    public let priorCovariance: Matrix
    /// The prior (equilibrium) returns `π`, `n`.
    public let prior: [Double]
    /// The picking matrix `P`, `K × n` (row `k` is view `k`).
    public let pickingMatrix: Matrix
    /// The views' expected returns `Q`, `K`.
    public let viewReturns: [Double]
    /// The view uncertainty `Ω`, `K × K`.
    public let viewUncertainty: Matrix
    /// The weight-on-views scalar `τ`.
    public let tau: Double
    /// The risk aversion `δ` used for the prior and the implied weights.
    public let riskAversion: Double
    /// Posterior expected returns `μ = π + τΣPᵀ(PτΣPᵀ + Ω)⁻¹(Q − Pπ)`, `n`.
    public let returns: [Double]
    /// Posterior covariance `Σ + τΣ − τΣPᵀ(PτΣPᵀ + Ω)⁻¹PτΣ`, `n × n` (He and Litterman 1999).
    public let covariance: Matrix

    /// The weights implied by the posterior returns, `w ∝ (δΣ)⁻¹μ` normalized to sum to 1 (the
    /// unconstrained mean-variance optimum rescaled, as PyPortfolioOpt's `bl_weights`). Cost `O(n³)`.
    ///
    /// - Throws: ``PortfolioError/notPositiveSemidefinite(operation:minimumEigenvalue:)`` when `Σ` is
    ///   not positive definite, ``PortfolioError/invalidArgument(operation:message:)`` when the raw
    ///   weights sum to zero (no normalization exists).
    public func impliedWeights() throws -> [Double] {
        let operation = "BlackLittermanPosterior.impliedWeights"
        let raw = try choleskyFactor(priorCovariance, operation: operation).solve(returns).map { $0 / riskAversion }
        let total = raw.reduce(0, +)
        let scale = raw.reduce(0) { Swift.max($0, abs($1)) }
        guard abs(total) > 1e-12 * scale, total.isFinite else {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "the raw weights (δΣ)⁻¹μ sum to \(total); they cannot be normalized")
        }
        return raw.map { $0 / total }
    }

    /// The posterior as optimizer inputs (posterior returns and covariance), so any
    /// ``PortfolioOptimizer`` (for example a constrained ``MeanVarianceOptimizer``) can use the views.
    ///
    /// - Parameter assetClasses: one class per asset, in the order of ``assets`` (default unclassified).
    /// - Throws: the validation errors of ``OptimizationInputs``.
    public func optimizationInputs(assetClasses: [AssetClass]? = nil) throws -> OptimizationInputs {
        try OptimizationInputs(assets: assets, covariance: covariance, expectedReturns: returns, assetClasses: assetClasses)
    }
}

/// The Black–Litterman model (Black and Litterman, "Global portfolio optimization", Financial
/// Analysts Journal 48 (1992) 28–43), in the form of He and Litterman ("The intuition behind
/// Black–Litterman model portfolios", Goldman Sachs, 1999).
///
/// The prior is the market equilibrium `π = δΣw_mkt + r_f` (reverse optimization) or given
/// expected returns; views `Pμ = Q + ε`, `ε ~ N(0, Ω)`, update it to
/// `μ = π + τΣPᵀ(PτΣPᵀ + Ω)⁻¹(Q − Pπ)` with covariance `Σ + τΣ − τΣPᵀ(PτΣPᵀ + Ω)⁻¹PτΣ`.
/// ``fit(_:)`` returns the implied weights `w ∝ (δΣ)⁻¹μ` (summing to 1), with the measures computed
/// under the posterior moments. The numbers match PyPortfolioOpt's `BlackLittermanModel`.
///
/// ```swift
/// let delta = try BlackLittermanModel.marketImpliedRiskAversion(prices: index, riskFreeRate: 0.02)
/// let model = BlackLittermanModel(prior: .marketImplied(marketCapitalizations: caps, riskFreeRate: 0.02),
///                                 views: [.absolute("AAPL", expectedReturn: 0.10, confidence: 0.6),
///                                         .relative("MSFT", over: "AMD", by: 0.02, confidence: 0.3)],
///                                 riskAversion: delta, uncertainty: .idzorek)
/// let posterior = try model.posterior(inputs)
/// ```
///
/// Cost: `O(n²K + nK² + K³)` for the posterior, `O(n³)` more for the weights.
public struct BlackLittermanModel: PortfolioOptimizer {
    /// Where the prior returns `π` come from.
    public enum Prior: Sendable, Hashable {
        /// The market equilibrium `π = δΣw + r_f`, `w` the capitalizations normalized to sum to 1
        /// (every asset needs one); `riskFreeRate` is annual.
        case marketImplied(marketCapitalizations: [String: Double], riskFreeRate: Double)
        /// The expected returns of the ``OptimizationInputs``.
        case expectedReturns
    }

    /// How the view uncertainty `Ω` is set.
    public enum ViewUncertainty: Sendable, Hashable {
        /// `Ω = diag(τPΣPᵀ)`: each view as uncertain as the prior of its portfolio (He and Litterman 1999).
        case heLitterman
        /// `Ωₖₖ = τ·(1 − cₖ)/cₖ·pₖΣpₖᵀ` from each view's confidence `cₖ ∈ [0, 1]` (Idzorek, "A step-by-step
        /// guide to the Black–Litterman model", 2005, in the closed form of J. Walters, "The Black–Litterman
        /// model in detail", 2014, eqs. 41 and 44). A confidence of 0 gives `Ωₖₖ = 10⁶` (as PyPortfolioOpt).
        case idzorek
        /// A given `K × K` matrix (symmetric, non-negative diagonal), in annualized return² units.
        case given(Matrix)
    }

    /// The prior.
    public var prior: Prior
    /// The views, in order (view `k` is row `k` of `P`).
    public var views: [BlackLittermanView]
    /// The weight-on-views scalar `τ ∈ (0, 1]`. Default 0.05.
    public var tau: Double
    /// The market's risk aversion `δ > 0` (see ``marketImpliedRiskAversion(prices:annualizationFactor:riskFreeRate:)``).
    public var riskAversion: Double
    /// How `Ω` is set. Default ``ViewUncertainty/heLitterman``.
    public var uncertainty: ViewUncertainty
    /// The annual risk-free rate used for the reported Sharpe ratio.
    public var riskFreeRate: Double

    /// Creates a model.
    public init(prior: Prior, views: [BlackLittermanView], tau: Double = 0.05, riskAversion: Double,
                uncertainty: ViewUncertainty = .heLitterman, riskFreeRate: Double = 0) {
        self.prior = prior
        self.views = views
        self.tau = tau
        self.riskAversion = riskAversion
        self.uncertainty = uncertainty
        self.riskFreeRate = riskFreeRate
    }

    /// The market-implied risk aversion `δ = (A·mean(r) − r_f) / (A·var(r))` of simple returns `r`
    /// of the market's prices (sample variance, `ddof = 1`), as PyPortfolioOpt's
    /// `market_implied_risk_aversion`. Cost `O(T)`.
    ///
    /// - Parameters:
    ///   - prices: the market's prices (for example the S&P 500 index), oldest first, at least 3.
    ///   - annualizationFactor: periods per year `A`. Default 252.
    ///   - riskFreeRate: annual.
    /// - Throws: ``PortfolioError/nonFinite(operation:what:asset:observation:)`` naming the first
    ///   non-finite or non-positive price, ``PortfolioError/insufficientData(operation:observations:required:)``,
    ///   ``PortfolioError/invalidArgument(operation:message:)`` for zero variance.
    public static func marketImpliedRiskAversion(prices: [Double], annualizationFactor: Double = 252,
                                                 riskFreeRate: Double = 0) throws -> Double {
        let operation = "BlackLittermanModel.marketImpliedRiskAversion"
        if let k = prices.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            throw PortfolioError.nonFinite(operation: operation, what: "positive price (got \(prices[k]))", asset: "market",
                                           observation: k)
        }
        guard prices.count >= 3 else { throw PortfolioError.insufficientData(operation: operation, observations: prices.count, required: 3) }
        let returns = (1..<prices.count).map { prices[$0] / prices[$0 - 1] - 1 }
        return try marketImpliedRiskAversion(returns: returns, annualizationFactor: annualizationFactor, riskFreeRate: riskFreeRate)
    }

    /// The market-implied risk aversion from the market's per-period simple returns (see
    /// ``marketImpliedRiskAversion(prices:annualizationFactor:riskFreeRate:)``).
    ///
    /// - Throws: ``PortfolioError/nonFinite(operation:what:asset:observation:)`` naming the period,
    ///   ``PortfolioError/insufficientData(operation:observations:required:)`` for fewer than 2 returns,
    ///   ``PortfolioError/invalidArgument(operation:message:)`` for zero variance or a bad factor.
    public static func marketImpliedRiskAversion(returns: [Double], annualizationFactor: Double = 252,
                                                 riskFreeRate: Double = 0) throws -> Double {
        let operation = "BlackLittermanModel.marketImpliedRiskAversion"
        if let k = returns.firstIndex(where: { !$0.isFinite }) {
            throw PortfolioError.nonFinite(operation: operation, what: "market return", asset: "market", observation: k)
        }
        guard returns.count >= 2 else { throw PortfolioError.insufficientData(operation: operation, observations: returns.count, required: 2) }
        guard annualizationFactor > 0, annualizationFactor.isFinite, riskFreeRate.isFinite else {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "annualization factor \(annualizationFactor) must be positive and the risk-free rate finite")
        }
        let mean = returns.reduce(0, +) / Double(returns.count)
        let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1)
        guard variance > 0 else {
            throw PortfolioError.invalidArgument(operation: operation, message: "the market returns have zero variance")
        }
        return (mean * annualizationFactor - riskFreeRate) / (variance * annualizationFactor)
    }

    /// The posterior returns and covariance. Cost `O(n²K + nK² + K³)`.
    ///
    /// - Throws: ``PortfolioError/unknownAsset(operation:asset:)`` for a view or capitalization on an asset
    ///   not in `inputs` (the operation names the view index);
    ///   ``PortfolioError/invalidArgument(operation:message:)`` naming the view for an empty view, a
    ///   confidence outside `[0, 1]` or missing under Idzorek's method, a bad `Ω` entry, or a singular
    ///   `PτΣPᵀ + Ω` (the view that depends on earlier ones with no uncertainty), and for `τ ∉ (0, 1]`,
    ///   `δ ≤ 0`, a missing capitalization or expected returns;
    ///   ``PortfolioError/nonFinite(operation:what:asset:observation:)`` for a non-finite view value.
    public func posterior(_ inputs: OptimizationInputs) throws -> BlackLittermanPosterior {
        let operation = "BlackLittermanModel"
        guard tau > 0, tau <= 1 else {
            throw PortfolioError.invalidArgument(operation: operation, message: "τ = \(tau) must be in (0, 1]")
        }
        guard riskAversion > 0, riskAversion.isFinite else {
            throw PortfolioError.invalidArgument(operation: operation, message: "risk aversion δ = \(riskAversion) must be positive and finite")
        }
        let n = inputs.count, k = views.count
        let sigma = inputs.covariance
        let pi = try priorReturns(inputs, operation: operation)
        var picking = Matrix(rows: k, columns: n)
        var q = [Double](repeating: 0, count: k)
        let position = Dictionary(uniqueKeysWithValues: inputs.assets.enumerated().map { ($1, $0) })
        for (v, view) in views.enumerated() {
            let viewOperation = "\(operation) view \(v)"
            guard view.expectedReturn.isFinite else {
                throw PortfolioError.nonFinite(operation: viewOperation, what: "view return", asset: view.weights.keys.sorted().joined(separator: ","),
                                               observation: nil)
            }
            for (asset, weight) in view.weights {
                guard let j = position[asset] else { throw PortfolioError.unknownAsset(operation: viewOperation, asset: asset) }
                guard weight.isFinite else { throw PortfolioError.nonFinite(operation: viewOperation, what: "picking weight", asset: asset, observation: nil) }
                picking[v, j] = weight
            }
            guard view.weights.values.contains(where: { $0 != 0 }) else {
                let names = view.weights.keys.sorted().joined(separator: ", ")
                throw PortfolioError.invalidArgument(operation: viewOperation,
                                                     message: "the view on \(names) picks no asset (its weights net to 0)")
            }
            if let c = view.confidence, !(c >= 0 && c <= 1) {
                throw PortfolioError.invalidArgument(operation: viewOperation, message: "confidence \(c) is outside [0, 1]")
            }
            q[v] = view.expectedReturn
        }
        let tauSigma = sigma.scaled(by: tau)
        guard k > 0 else {
            // No views: the posterior is the prior with the parameter uncertainty τΣ added.
            return BlackLittermanPosterior(assets: inputs.assets, priorCovariance: sigma, prior: pi, pickingMatrix: picking,
                                           viewReturns: q, viewUncertainty: Matrix(rows: 0, columns: 0), tau: tau,
                                           riskAversion: riskAversion, returns: pi, covariance: sigma + tauSigma)
        }
        let tauSigmaPT = tauSigma * picking.transposed()          // n × K
        let viewCovariance = picking * tauSigmaPT                  // K × K, PτΣPᵀ
        let omega = try viewUncertainty(viewCovariance: viewCovariance, operation: operation)
        let a = viewCovariance + omega
        let factor: Cholesky
        do { factor = try Cholesky(a) } catch let LinalgError.notPositiveDefinite(_, pivot) {
            throw PortfolioError.invalidArgument(
                operation: "\(operation) view \(pivot - 1)",
                message: "PτΣPᵀ + Ω is singular: the view is a combination of earlier views (or has zero variance) and Ω gives it no uncertainty")
        }
        let surprise = (0..<k).map { q[$0] - dot(picking.row($0), pi) }
        let returns = zip(pi, tauSigmaPT * (try factor.solve(surprise))).map { $0 + $1 }
        let correction = tauSigmaPT * (try factor.solve(tauSigmaPT.transposed()))
        var covariance = sigma + tauSigma - correction
        covariance.symmetrize()
        return BlackLittermanPosterior(assets: inputs.assets, priorCovariance: sigma, prior: pi, pickingMatrix: picking,
                                       viewReturns: q, viewUncertainty: omega, tau: tau, riskAversion: riskAversion,
                                       returns: returns, covariance: covariance)
    }

    /// The implied weights `w ∝ (δΣ)⁻¹μ` of the posterior, with expected return, volatility and Sharpe
    /// ratio under the posterior moments (method `"black-litterman"`).
    ///
    /// - Throws: the errors of ``posterior(_:)`` and ``BlackLittermanPosterior/impliedWeights()``.
    public func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        try validateRiskFreeRate(riskFreeRate, operation: "BlackLittermanModel")
        let posterior = try posterior(inputs)
        let weights = try posterior.impliedWeights()
        let measured = try OptimizationInputs(assets: inputs.assets, covariance: posterior.covariance,
                                              expectedReturns: posterior.returns, assetClasses: inputs.assetClasses)
        return PortfolioAllocation(method: "black-litterman", weights: weights, inputs: measured, riskFreeRate: riskFreeRate)
    }

    /// `π`: the market equilibrium or the inputs' expected returns.
    func priorReturns(_ inputs: OptimizationInputs, operation: String) throws -> [Double] {
        switch prior {
        case .expectedReturns:
            guard let mu = inputs.expectedReturns else {
                throw PortfolioError.invalidArgument(operation: operation, message: "the prior .expectedReturns needs expected returns in the inputs")
            }
            return mu
        case let .marketImplied(caps, rate):
            for name in caps.keys.sorted() where !inputs.assets.contains(name) {
                throw PortfolioError.unknownAsset(operation: "\(operation) market capitalizations", asset: name)
            }
            var w = [Double](repeating: 0, count: inputs.count)
            for (j, asset) in inputs.assets.enumerated() {
                guard let cap = caps[asset] else {
                    throw PortfolioError.invalidArgument(operation: operation, message: "no market capitalization for asset \(asset)")
                }
                guard cap.isFinite, cap >= 0 else {
                    throw PortfolioError.invalidArgument(operation: operation, message: "market capitalization \(cap) of asset \(asset) must be finite and ≥ 0")
                }
                w[j] = cap
            }
            let total = w.reduce(0, +)
            guard total > 0, rate.isFinite else {
                throw PortfolioError.invalidArgument(operation: operation, message: "market capitalizations must not all be 0 and the risk-free rate must be finite")
            }
            return (inputs.covariance * w.map { $0 / total }).map { riskAversion * $0 + rate }
        }
    }

    /// `Ω` by the configured method, validated.
    func viewUncertainty(viewCovariance: Matrix, operation: String) throws -> Matrix {
        let k = views.count
        switch uncertainty {
        case .heLitterman:
            return Matrix.diagonal(viewCovariance.diagonalElements)
        case .idzorek:
            var diagonal = [Double](repeating: 0, count: k)
            for (v, view) in views.enumerated() {
                guard let c = view.confidence else {
                    throw PortfolioError.invalidArgument(operation: "\(operation) view \(v)", message: "Idzorek's method needs a confidence")
                }
                diagonal[v] = c == 0 ? 1e6 : (1 - c) / c * viewCovariance[v, v]
            }
            return Matrix.diagonal(diagonal)
        case let .given(omega):
            guard omega.rows == k, omega.columns == k else {
                throw PortfolioError.dimensionMismatch(operation: operation, lhs: "views", lhsCount: k,
                                                       rhs: "Ω rows×columns \(omega.rows)×\(omega.columns)", rhsCount: omega.rows)
            }
            for i in 0..<k {
                guard omega[i, i].isFinite, omega[i, i] >= 0 else {
                    throw PortfolioError.invalidArgument(operation: "\(operation) view \(i)", message: "Ω[\(i), \(i)] = \(omega[i, i]) must be finite and ≥ 0")
                }
                for j in 0..<i where !(omega[i, j].isFinite && omega[i, j] == omega[j, i]) {
                    throw PortfolioError.invalidArgument(operation: "\(operation) view \(i)", message: "Ω is not symmetric (or not finite) at (\(i), \(j))")
                }
            }
            return omega
        }
    }
}

/// The Cholesky factor of a covariance, or a ``PortfolioError/notPositiveSemidefinite(operation:minimumEigenvalue:)``
/// naming its smallest eigenvalue.
func choleskyFactor(_ covariance: Matrix, operation: String) throws -> Cholesky {
    do { return try Cholesky(covariance) } catch {
        let smallest = (try? covariance.symmetricEigenvalues().first) ?? .nan
        throw PortfolioError.notPositiveSemidefinite(operation: operation + " (needs a positive-definite covariance)",
                                                     minimumEigenvalue: smallest)
    }
}
