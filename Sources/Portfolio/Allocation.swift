import Linalg
import Market

/// Which assets a ``GroupConstraint`` sums over.
public enum GroupMembers: Sendable, Hashable {
    /// The named assets.
    case assets([String])
    /// Every asset labelled with this class in the ``OptimizationInputs``.
    case assetClass(AssetClass)
}

/// A bound on the total weight of a group of assets: `lower ≤ Σ_{i∈group} wᵢ ≤ upper`.
public struct GroupConstraint: Sendable, Hashable {
    /// A name used in error messages and diagnostics.
    public var name: String
    /// The members of the group.
    public var members: GroupMembers
    /// Smallest total weight (`-∞` for none).
    public var lower: Double
    /// Largest total weight (`+∞` for none).
    public var upper: Double

    /// Creates a group bound.
    public init(name: String, members: GroupMembers, lower: Double = -.infinity, upper: Double = .infinity) {
        self.name = name
        self.members = members
        self.lower = lower
        self.upper = upper
    }
}

/// An upper bound on the annualized tracking error `√((w − b)ᵀΣ(w − b))` against benchmark weights `b`.
public struct TrackingErrorLimit: Sendable, Hashable {
    /// Benchmark weights by asset name (missing assets weigh 0).
    public var benchmark: [String: Double]
    /// The largest tracking error, in the units of the covariance's volatility (annualized).
    public var limit: Double

    /// Creates a limit.
    public init(benchmark: [String: Double], limit: Double) {
        self.benchmark = benchmark
        self.limit = limit
    }
}

/// The constraints shared by the mean-variance family (and later optimizers).
///
/// All weights are fractions of capital. Per-asset bounds override ``minimumWeight`` and
/// ``maximumWeight``. Non-smooth terms are lifted: `|wᵢ − w⁰ᵢ| ≤ tᵢ` for turnover and costs,
/// `|wᵢ| ≤ sᵢ` for gross leverage, which keeps the problem a QP (2n extra variables at most).
public struct PortfolioConstraints: Sendable, Hashable {
    /// `Σwᵢ = budget`; `nil` for no budget constraint. Default 1 (fully invested).
    public var budget: Double?
    /// Lower bound for every asset (0 = long-only; `-∞` for unlimited shorts). Default 0.
    public var minimumWeight: Double
    /// Upper bound for every asset (`+∞` for none). Default 1.
    public var maximumWeight: Double
    /// Per-asset lower bounds by name, overriding ``minimumWeight``.
    public var assetLowerBounds: [String: Double]
    /// Per-asset upper bounds by name, overriding ``maximumWeight``.
    public var assetUpperBounds: [String: Double]
    /// Bounds on the total weight of groups or asset classes.
    public var groups: [GroupConstraint]
    /// `Σ|wᵢ| ≤ L` (gross leverage, for example 1.5); `nil` for none.
    public var grossLeverage: Double?
    /// The weights held now, by name (missing assets hold 0); needed by turnover and costs.
    public var currentWeights: [String: Double]?
    /// `Σ|wᵢ − w⁰ᵢ| ≤ τ`; `nil` for none. Requires ``currentWeights``.
    public var turnoverLimit: Double?
    /// Proportional cost `c·Σ|wᵢ − w⁰ᵢ|` added to the minimized objective (in its units:
    /// return for utility and efficient risk, variance for minimum variance). Requires ``currentWeights``.
    public var transactionCost: Double
    /// L2 penalty `γ·‖w‖²` added to the minimized objective.
    public var l2Regularization: Double
    /// A tracking-error limit against a benchmark; `nil` for none.
    public var trackingError: TrackingErrorLimit?

    /// Creates constraints; the defaults are fully invested and long-only with weights in `[0, 1]`.
    public init(budget: Double? = 1, minimumWeight: Double = 0, maximumWeight: Double = 1,
                assetLowerBounds: [String: Double] = [:], assetUpperBounds: [String: Double] = [:],
                groups: [GroupConstraint] = [], grossLeverage: Double? = nil,
                currentWeights: [String: Double]? = nil, turnoverLimit: Double? = nil,
                transactionCost: Double = 0, l2Regularization: Double = 0,
                trackingError: TrackingErrorLimit? = nil) {
        self.budget = budget
        self.minimumWeight = minimumWeight
        self.maximumWeight = maximumWeight
        self.assetLowerBounds = assetLowerBounds
        self.assetUpperBounds = assetUpperBounds
        self.groups = groups
        self.grossLeverage = grossLeverage
        self.currentWeights = currentWeights
        self.turnoverLimit = turnoverLimit
        self.transactionCost = transactionCost
        self.l2Regularization = l2Regularization
        self.trackingError = trackingError
    }

    /// Fully invested, long-only, weights in `[0, 1]`.
    public static let longOnly = PortfolioConstraints()

    /// Fully invested with weights in `[minimum, maximum]` (e.g. `boxed(0, 0.1)` for 10% caps).
    public static func boxed(_ minimum: Double, _ maximum: Double) -> PortfolioConstraints {
        PortfolioConstraints(minimumWeight: minimum, maximumWeight: maximum)
    }
}

/// Annualized estimates the optimizers work on: asset names, classes, expected returns and covariance.
///
/// Validated on creation: shapes agree, every entry is finite (the error names the asset), and the
/// covariance is symmetric. Positive semidefiniteness is checked by the optimizers that need it.
public struct OptimizationInputs: Sendable {
    /// Asset names, `n`.
    public let assets: [String]
    /// Asset classes, `n` (``AssetClass/unclassified`` when not given).
    public let assetClasses: [AssetClass]
    /// Expected (annualized) returns, `n`, when known.
    public let expectedReturns: [Double]?
    /// Annualized covariance, `n × n`.
    public let covariance: Matrix

    /// Creates inputs.
    ///
    /// - Throws: ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` naming both
    ///   sides, ``PortfolioError/nonFinite(operation:what:asset:observation:)`` naming the asset,
    ///   ``PortfolioError/notSymmetric(operation:row:column:)``, or
    ///   ``PortfolioError/invalidArgument(operation:message:)`` for duplicate or no assets.
    public init(assets: [String], covariance: Matrix, expectedReturns: [Double]? = nil,
                assetClasses: [AssetClass]? = nil) throws {
        let operation = "OptimizationInputs"
        let n = assets.count
        guard n > 0 else { throw PortfolioError.invalidArgument(operation: operation, message: "no assets") }
        guard Set(assets).count == n else {
            throw PortfolioError.invalidArgument(operation: operation, message: "duplicate asset names")
        }
        guard covariance.rows == n, covariance.columns == n else {
            throw PortfolioError.dimensionMismatch(operation: operation, lhs: "assets", lhsCount: n,
                                                   rhs: "covariance rows×columns \(covariance.rows)×\(covariance.columns)",
                                                   rhsCount: covariance.rows)
        }
        if let (i, _) = covariance.firstNonFiniteIndex() {
            throw PortfolioError.nonFinite(operation: operation, what: "covariance", asset: assets[i], observation: nil)
        }
        for i in 0..<n {
            for j in (i + 1)..<Swift.max(i + 1, n) {
                let a = covariance[i, j], b = covariance[j, i]
                if abs(a - b) > 1e-12 * Swift.max(abs(a), abs(b), 1e-300) && abs(a - b) > 0 {
                    throw PortfolioError.notSymmetric(operation: operation, row: assets[i], column: assets[j])
                }
            }
        }
        if let mu = expectedReturns {
            guard mu.count == n else {
                throw PortfolioError.dimensionMismatch(operation: operation, lhs: "assets", lhsCount: n,
                                                       rhs: "expected returns", rhsCount: mu.count)
            }
            if let k = mu.firstIndex(where: { !$0.isFinite }) {
                throw PortfolioError.nonFinite(operation: operation, what: "expected return", asset: assets[k], observation: nil)
            }
        }
        if let classes = assetClasses, classes.count != n {
            throw PortfolioError.dimensionMismatch(operation: operation, lhs: "assets", lhsCount: n,
                                                   rhs: "asset classes", rhsCount: classes.count)
        }
        self.assets = assets
        var symmetric = covariance
        symmetric.symmetrize()
        self.covariance = symmetric
        self.expectedReturns = expectedReturns
        self.assetClasses = assetClasses ?? [AssetClass](repeating: .unclassified, count: n)
    }

    /// Inputs from fitted estimates; the asset lists must agree.
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` when the assets differ, and the
    ///   errors of ``init(assets:covariance:expectedReturns:assetClasses:)``.
    public init(expectedReturns: ExpectedReturnsEstimate?, covariance: CovarianceEstimate,
                assetClasses: [AssetClass]? = nil) throws {
        if let mu = expectedReturns, mu.assets != covariance.assets {
            throw PortfolioError.invalidArgument(operation: "OptimizationInputs",
                                                 message: "expected returns and covariance list different assets")
        }
        try self.init(assets: covariance.assets, covariance: covariance.matrix,
                      expectedReturns: expectedReturns?.values, assetClasses: assetClasses ?? covariance.assetClasses)
    }

    /// Number of assets.
    public var count: Int { assets.count }
}

/// How an optimizer reached its weights.
public struct SolverDiagnostics: Sendable, Hashable, Codable {
    /// The final status.
    public let status: SolverStatus
    /// Active-set iterations over all QP solves.
    public let iterations: Int
    /// QP solves performed (more than one for efficient risk, tracking-error limits and frontiers).
    public let solves: Int
    /// Proximal-point passes of the last QP (1 when its Hessian is positive definite; more for the
    /// semidefinite Hessians of lifted turnover and leverage variables).
    public let proximalPasses: Int
    /// KKT residuals of the last QP solved (the one giving the weights).
    public let residuals: KKTResiduals
    /// Labels of the constraints active at the solution.
    public let activeConstraints: [String]
}

/// The result of an allocation: weights plus every measure of them.
///
/// Volatility is `√(wᵀΣw)` with the covariance the optimizer was given (annualized when the
/// estimates are), the expected return `μᵀw`, and the Sharpe ratio `(μᵀw − r_f)/σ`.
/// Risk contributions `RCᵢ = wᵢ(Σw)ᵢ/σ` sum to the volatility (Euler allocation).
public struct PortfolioAllocation: Sendable {
    /// The method that produced the weights (e.g. `"min-variance"`).
    public let method: String
    /// Asset names, in the order of ``weights``.
    public let assets: [String]
    /// Weights as an ordered vector, `n`.
    public let weights: [Double]
    /// `μᵀw`, when expected returns were given.
    public let expectedReturn: Double?
    /// `√(wᵀΣw)`.
    public let volatility: Double
    /// The risk-free rate used for ``sharpeRatio``.
    public let riskFreeRate: Double
    /// `(μᵀw − r_f)/σ`, when expected returns were given and `σ > 0`.
    public let sharpeRatio: Double?
    /// `wᵢ(Σw)ᵢ/σ`, summing to ``volatility``.
    public let riskContributions: [Double]
    /// `Σ|wᵢ − w⁰ᵢ|` against the current weights, when they were given.
    public let turnover: Double?
    /// Solver diagnostics; `nil` for closed-form allocations.
    public let diagnostics: SolverDiagnostics?

    /// Weights keyed by asset name.
    public var weightsByAsset: [String: Double] {
        Dictionary(uniqueKeysWithValues: zip(assets, weights))
    }

    /// Risk contributions as fractions of the volatility (summing to 1 when `σ > 0`).
    public var relativeRiskContributions: [Double] {
        volatility > 0 ? riskContributions.map { $0 / volatility } : riskContributions.map { _ in 0 }
    }

    /// Computes every measure of `weights` under `inputs`.
    public init(method: String, weights: [Double], inputs: OptimizationInputs, riskFreeRate: Double = 0,
                currentWeights: [String: Double]? = nil, diagnostics: SolverDiagnostics? = nil) {
        self.method = method
        self.assets = inputs.assets
        self.weights = weights
        let sigmaW = inputs.covariance * weights
        var variance = 0.0
        for i in weights.indices { variance += weights[i] * sigmaW[i] }
        let volatility = Swift.max(variance, 0).squareRoot()
        self.volatility = volatility
        self.riskFreeRate = riskFreeRate
        if let mu = inputs.expectedReturns {
            let r = zip(mu, weights).reduce(0) { $0 + $1.0 * $1.1 }
            expectedReturn = r
            sharpeRatio = volatility > 0 ? (r - riskFreeRate) / volatility : nil
        } else {
            expectedReturn = nil
            sharpeRatio = nil
        }
        riskContributions = weights.indices.map { volatility > 0 ? weights[$0] * sigmaW[$0] / volatility : 0 }
        if let current = currentWeights {
            turnover = inputs.assets.indices.reduce(0) { $0 + abs(weights[$1] - (current[inputs.assets[$1]] ?? 0)) }
        } else {
            turnover = nil
        }
        self.diagnostics = diagnostics
    }
}

/// Throws when `rate` is NaN or infinite: it would make every Sharpe ratio of the allocation NaN
/// with no error, so the optimizers check it before fitting.
func validateRiskFreeRate(_ rate: Double, operation: String) throws {
    guard rate.isFinite else {
        throw PortfolioError.invalidArgument(operation: operation, message: "the risk-free rate \(rate) is not a finite number")
    }
}

extension PortfolioAllocation: Encodable {
    private enum CodingKeys: String, CodingKey {
        case method, assets, weights, expectedReturn, volatility, riskFreeRate, sharpeRatio, riskContributions
        case turnover, diagnostics
    }

    /// Encodes `"weights"` and `"riskContributions"` as objects keyed by asset name (the CLI's
    /// `--json` shape), `"assets"` as the ordered names, and the other measures as numbers
    /// (absent when `nil`).
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(method, forKey: .method)
        try container.encode(assets, forKey: .assets)
        try container.encode(weightsByAsset, forKey: .weights)
        try container.encodeIfPresent(expectedReturn, forKey: .expectedReturn)
        try container.encode(volatility, forKey: .volatility)
        try container.encode(riskFreeRate, forKey: .riskFreeRate)
        try container.encodeIfPresent(sharpeRatio, forKey: .sharpeRatio)
        try container.encode(Dictionary(uniqueKeysWithValues: zip(assets, riskContributions)), forKey: .riskContributions)
        try container.encodeIfPresent(turnover, forKey: .turnover)
        try container.encodeIfPresent(diagnostics, forKey: .diagnostics)
    }
}

/// An allocation method: configured by hyperparameters, then fitted on ``OptimizationInputs``.
///
/// The mean-variance family, the naive allocators, HRP, HERC, risk budgeting and Black–Litterman
/// conform, so a hierarchical allocation can run any of them inside each asset class.
public protocol PortfolioOptimizer: Sendable {
    /// Computes the weights and every measure of them.
    ///
    /// - Throws: ``PortfolioError`` describing what prevents an allocation.
    func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation
}
