import Linalg
import Market
import Portfolio

/// Constant target weights, restored at every rebalance (a constant-mix portfolio: with an
/// every-period schedule this is the constantly rebalanced portfolio of Cover 1991).
public struct FixedWeightsStrategy: BacktestStrategy, FitPredictStrategy, Sendable {
    /// How the weights were given.
    private enum Target: Sendable {
        case vector([Double])
        case byAsset([String: Double])
    }

    /// A name for logs and results.
    public let name: String
    private let target: Target

    /// Weights for the panel's assets in order (the cash asset, if any, gets `1 − Σwᵢ`).
    public init(weights: [Double], name: String = "fixed weights") {
        self.name = name
        self.target = .vector(weights)
    }

    /// Weights by asset name; assets not named get zero.
    public init(weightsByAsset: [String: Double], name: String = "fixed weights") {
        self.name = name
        self.target = .byAsset(weightsByAsset)
    }

    /// The fixed weights, mapped onto the context's assets.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` naming an asset
    ///   that is not in the panel.
    public func targetWeights(_ context: DecisionContext) throws -> [Double] {
        switch target {
        case let .vector(weights): return weights
        case let .byAsset(byName):
            for name in byName.keys.sorted() where !context.assets.contains(name) {
                throw BacktestError.invalidArgument(operation: "FixedWeightsStrategy", parameter: "weightsByAsset",
                                                    message: "asset \(name) is not in the panel")
            }
            return context.assets.map { byName[$0] ?? 0 }
        }
    }

    /// Nothing to learn.
    public func fit(_ history: PricePanel) throws {}

    /// The fixed weights.
    public func predict(_ context: DecisionContext) throws -> [Double] { try targetWeights(context) }
}

/// Any `PortfolioOptimizer` as a backtest strategy: at each decision it estimates the covariance
/// (and, when given an estimator, the expected returns) from the simple returns of an estimation
/// window and allocates with the optimizer (the fit/predict pattern of skfolio's estimators).
///
/// Only assets available at every bar of the window take part; the others get zero weight. As a
/// ``BacktestStrategy`` the window is the last ``lookback`` returns before each decision; as a
/// ``FitPredictStrategy`` (walk-forward) it is the training window given to ``fit(_:)``, and
/// ``predict(_:)`` returns the weights of the last fit.
public struct OptimizerStrategy: BacktestStrategy, FitPredictStrategy, Sendable {
    /// A name for logs and results.
    public let name: String
    /// The allocation method.
    public let optimizer: any PortfolioOptimizer
    /// Returns in the estimation window (`lookback + 1` bars of prices).
    public let lookback: Int
    /// The covariance estimator (annualizes with its own factor; default sample covariance, 252).
    public let covarianceEstimator: CovarianceEstimator
    /// The expected-returns estimator, for objectives that need one (maximum Sharpe, utility …).
    public let expectedReturnsEstimator: ExpectedReturnsEstimator?
    /// The weights of the last fit, one per panel asset.
    public private(set) var fittedWeights: [Double]?

    /// Creates the strategy.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` when `lookback < 2`.
    public init(optimizer: any PortfolioOptimizer, lookback: Int,
                covarianceEstimator: CovarianceEstimator = CovarianceEstimator(),
                expectedReturnsEstimator: ExpectedReturnsEstimator? = nil, name: String? = nil) throws {
        guard lookback >= 2 else {
            throw BacktestError.invalidArgument(operation: "OptimizerStrategy", parameter: "lookback",
                                                message: "\(lookback) returns; at least 2 are needed to estimate a covariance")
        }
        self.optimizer = optimizer
        self.lookback = lookback
        self.covarianceEstimator = covarianceEstimator
        self.expectedReturnsEstimator = expectedReturnsEstimator
        self.name = name ?? "\(type(of: optimizer)) (\(lookback) periods)"
    }

    /// `lookback + 1` bars.
    public var requiredHistory: Int { lookback + 1 }

    /// Fits on the last `lookback` returns and allocates.
    ///
    /// - Throws: the errors of ``fit(_:)``.
    public mutating func targetWeights(_ context: DecisionContext) throws -> [Double] {
        try fit(context.history(lookback: requiredHistory))
        return fittedWeights!
    }

    /// Estimates on every return of `history` of the assets available at all its bars and allocates.
    ///
    /// - Throws: ``BacktestError/insufficientData(operation:observations:required:)`` for fewer than
    ///   two returns or no asset available throughout; the estimators' and the optimizer's
    ///   `PortfolioError`s.
    public mutating func fit(_ history: PricePanel) throws {
        let operation = "OptimizerStrategy.fit"
        let bars = history.timeCount
        guard bars >= 3 else { throw BacktestError.insufficientData(operation: operation, observations: Swift.max(bars - 1, 0), required: 2) }
        let members = (0..<history.assetCount).filter { a in (0..<bars).allSatisfy { history.mask[$0, a] } }
        guard !members.isEmpty else { throw BacktestError.insufficientData(operation: operation, observations: 0, required: 1) }
        let close = history.close
        var returns = Matrix(rows: bars - 1, columns: members.count)
        for t in 1..<bars {
            for (k, a) in members.enumerated() { returns[t - 1, k] = close[t, a] / close[t - 1, a] - 1 }
        }
        let observations = try ReturnObservations(assets: members.map { history.assets[$0] }, values: returns,
                                                  assetClasses: members.map { history.assetClasses[$0] })
        let covariance = try covarianceEstimator.fit(observations)
        let means = try expectedReturnsEstimator?.fit(observations)
        let allocation = try optimizer.fit(OptimizationInputs(expectedReturns: means, covariance: covariance))
        var weights = [Double](repeating: 0, count: history.assetCount)
        for (k, a) in members.enumerated() { weights[a] = allocation.weights[k] }
        fittedWeights = weights
    }

    /// The weights of the last fit.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` before any fit.
    public func predict(_ context: DecisionContext) throws -> [Double] {
        guard let weights = fittedWeights else {
            throw BacktestError.invalidArgument(operation: "OptimizerStrategy.predict", parameter: "fit",
                                                message: "predict called before fit")
        }
        return weights
    }
}
