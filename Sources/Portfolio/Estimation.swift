import Linalg
import Market

/// Anything that turns per-period returns into an annualized covariance estimate: the built-in
/// ``CovarianceEstimator``, or a user's own type (build its result with
/// ``CovarianceEstimate/init(assets:assetClasses:matrix:method:)``). Optimizers, the backtest's
/// `OptimizerStrategy` and ``EstimationPrior`` take any conformer.
public protocol CovarianceEstimating: Sendable {
    /// The annualized covariance of `returns`.
    func fit(_ returns: ReturnObservations) throws -> CovarianceEstimate
}

/// Anything that turns per-period returns into annualized expected returns: the built-in
/// ``ExpectedReturnsEstimator`` or a user's own type.
public protocol ExpectedReturnsEstimating: Sendable {
    /// The annualized expected return of each asset of `returns`.
    func fit(_ returns: ReturnObservations) throws -> ExpectedReturnsEstimate
}

extension CovarianceEstimator: CovarianceEstimating {}
extension ExpectedReturnsEstimator: ExpectedReturnsEstimating {}

/// The composed prior: returns → covariance (and, when an objective needs them, expected returns)
/// → ``OptimizationInputs``. The one path every caller takes from data to an optimizer.
///
/// ```swift
/// let prior = EstimationPrior(covariance: CovarianceEstimator(method: .ledoitWolf(.identity), annualizationFactor: 12))
/// let allocation = try HierarchicalRiskParity().fit(returns, prior: prior)
/// ```
public struct EstimationPrior: Sendable {
    /// The covariance estimator.
    public var covariance: any CovarianceEstimating
    /// The expected-returns estimator, for objectives that need one (maximum Sharpe, utility, …).
    public var expectedReturns: (any ExpectedReturnsEstimating)?

    /// A prior from its estimators.
    public init(covariance: any CovarianceEstimating = CovarianceEstimator(),
                expectedReturns: (any ExpectedReturnsEstimating)? = nil) {
        self.covariance = covariance
        self.expectedReturns = expectedReturns
    }

    /// The optimizer inputs of `returns`.
    ///
    /// - Throws: the estimators' errors and those of ``OptimizationInputs``.
    public func inputs(_ returns: ReturnObservations) throws -> OptimizationInputs {
        try OptimizationInputs(expectedReturns: expectedReturns?.fit(returns), covariance: covariance.fit(returns))
    }
}

extension PortfolioOptimizer {
    /// Estimates `prior` on `returns` and allocates.
    ///
    /// - Throws: the errors of ``EstimationPrior/inputs(_:)`` and of ``fit(_:)``.
    public func fit(_ returns: ReturnObservations, prior: EstimationPrior) throws -> PortfolioAllocation {
        try fit(prior.inputs(returns))
    }
}
