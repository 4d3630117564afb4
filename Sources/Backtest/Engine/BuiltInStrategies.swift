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
    /// The longest estimation window accepted, in returns: far beyond any price history, and small
    /// enough that `lookback + 1` cannot overflow.
    public static let maximumLookback = 1_000_000

    /// What the strategy holds when its optimizer fails on a window (an infeasible maximum-Sharpe
    /// problem when no asset is expected to beat the risk-free rate, a solver that stalls).
    public enum Fallback: Sendable, Hashable {
        /// Rethrow: the backtest stops with the optimizer's error.
        case none
        /// Minimum variance (long-only, fully invested) on the same window; if that fails too, the
        /// previous fit's weights; before any fit, equal weights over the window's assets.
        case minimumVarianceThenPrevious
    }

    /// One window on which the optimizer failed, and what was held instead.
    public struct FallbackEvent: Sendable, Hashable, Codable, CustomStringConvertible {
        /// The label of the window's last bar (the decision date).
        public let date: String
        /// Why the optimizer failed, in plain words.
        public let reason: String
        /// What was held instead: `minimum variance`, `previous weights` or `equal weights`.
        public let replacement: String

        /// `2009-01-31: <reason>; held <replacement> instead`.
        public var description: String { "\(date): \(reason); held \(replacement) instead" }
    }

    /// A name for logs and results.
    public let name: String
    /// The allocation method.
    public let optimizer: any PortfolioOptimizer
    /// Returns in the estimation window (`lookback + 1` bars of prices).
    public let lookback: Int
    /// The covariance estimator (annualizes with its own factor; default sample covariance, 252):
    /// ``CovarianceEstimator`` or any user type conforming to `CovarianceEstimating`.
    public let covarianceEstimator: any CovarianceEstimating
    /// The expected-returns estimator, for objectives that need one (maximum Sharpe, utility …).
    public let expectedReturnsEstimator: (any ExpectedReturnsEstimating)?
    /// What to hold when the optimizer fails on a window.
    public let fallback: Fallback
    /// The weights of the last fit, one per panel asset.
    public private(set) var fittedWeights: [Double]?
    /// Every fallback taken so far, oldest first (read it after running the strategy in place).
    public private(set) var fallbackLog: [FallbackEvent] = []
    /// The fallback of the latest fit, if it took one: the engine records it with the decision.
    public private(set) var decisionNote: String?

    /// Creates the strategy.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` when `lookback` is
    ///   not in `2…maximumLookback`.
    public init(optimizer: any PortfolioOptimizer, lookback: Int,
                covarianceEstimator: any CovarianceEstimating = CovarianceEstimator(),
                expectedReturnsEstimator: (any ExpectedReturnsEstimating)? = nil, name: String? = nil,
                fallback: Fallback = .minimumVarianceThenPrevious) throws {
        guard lookback >= 2 else {
            throw BacktestError.invalidArgument(operation: "OptimizerStrategy", parameter: "lookback",
                                                message: "\(lookback) returns; at least 2 are needed to estimate a covariance")
        }
        guard lookback <= OptimizerStrategy.maximumLookback else {
            throw BacktestError.invalidArgument(operation: "OptimizerStrategy", parameter: "lookback",
                                                message: "\(lookback) returns exceed the limit of \(OptimizerStrategy.maximumLookback)")
        }
        self.optimizer = optimizer
        self.lookback = lookback
        self.covarianceEstimator = covarianceEstimator
        self.expectedReturnsEstimator = expectedReturnsEstimator
        self.fallback = fallback
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
    /// When the optimizer throws a `PortfolioError` and ``fallback`` allows, the weights come from
    /// the fallback instead and the event is appended to ``fallbackLog``.
    ///
    /// - Throws: ``BacktestError/insufficientData(operation:observations:required:)`` for fewer than
    ///   two returns or no asset available throughout; the estimators' `PortfolioError`s, and the
    ///   optimizer's when ``fallback`` is ``Fallback/none``.
    public mutating func fit(_ history: PricePanel) throws {
        let operation = "OptimizerStrategy.fit"
        decisionNote = nil
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
        let inputs = try EstimationPrior(covariance: covarianceEstimator, expectedReturns: expectedReturnsEstimator).inputs(observations)
        let allocated: [Double]
        do {
            allocated = try optimizer.fit(inputs).weights
        } catch let error as PortfolioError where fallback == .minimumVarianceThenPrevious {
            let date = timeLabelText(history.index.label(at: bars - 1))
            let replacement: String
            if let weights = try? MeanVarianceOptimizer().fit(inputs).weights {
                allocated = weights
                replacement = "minimum variance"
            } else if let previous = fittedWeights, case let kept = members.map({ previous[$0] }),
                      case let sum = kept.reduce(0, +), sum > 0 {
                // Assets that left the window drop out: the rest is rescaled to the full budget.
                allocated = kept.map { $0 / sum }
                replacement = "previous weights"
            } else {
                allocated = members.map { _ in 1 / Double(members.count) }
                replacement = "equal weights"
            }
            let event = FallbackEvent(date: date, reason: OptimizerStrategy.plainReason(error), replacement: replacement)
            fallbackLog.append(event)
            decisionNote = "\(event.reason); held \(replacement) instead"
        }
        var weights = [Double](repeating: 0, count: history.assetCount)
        for (k, a) in members.enumerated() { weights[a] = allocated[k] }
        fittedWeights = weights
    }

    /// An optimizer failure in words a user can act on.
    static func plainReason(_ error: PortfolioError) -> String {
        switch error {
        case .infeasible:
            return "no portfolio met the optimizer's constraints (for maximum Sharpe: no asset was expected to beat the risk-free rate)"
        case .solverFailed:
            return "the optimizer's solver did not reach a solution"
        case .notPositiveSemidefinite, .notSymmetric:
            return "the estimated covariance was not usable"
        default:
            return "the optimizer failed (\(error))"
        }
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
