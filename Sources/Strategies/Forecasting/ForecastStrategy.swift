import Autodiff
import Backtest
import Foundation
import Linalg
import Market
import Portfolio
import Signals

/// Where a ``ForecastStrategy`` gets its return forecasts.
public enum ForecastSource: Sendable, Hashable {
    /// A deep ensemble of one architecture per asset (``ForecastModel/makeForecaster(_:)``); the
    /// variance is the ensemble's predictive variance (set `validationFraction > 0` or `ensembleSize > 1`
    /// so that it is not 0).
    case network(ForecastModel, ForecasterConfiguration)
    /// A naive baseline per asset (the control); its variance is its mean squared residual on the training origins.
    case baseline(NaiveBaseline)

    /// The name used in the strategy's name (`tcn`, `ar1` …).
    public var name: String {
        switch self {
        case let .network(model, _): return model.rawValue
        case let .baseline(baseline): return baseline.rawValue
        }
    }

    /// The strategy's small network: width 8, 2 heads, 4 epochs, 2 members, batch 64, with the newest 20 % of
    /// the training origins held out for the residual variance (small, so that a monthly refit of every
    /// asset stays within seconds).
    public static func smallNetwork(_ model: ForecastModel, seed: UInt64) -> ForecastSource {
        .network(model, ForecasterConfiguration(hiddenSize: 8, headCount: 2, epochs: 4, batchSize: 64, ensembleSize: 2,
                                                seed: seed, validationFraction: 0.2))
    }
}

/// How a ``ForecastStrategy`` turns forecasts into weights. Both end in the same long-only,
/// capped maximum-utility problem `max μᵀw − (δ/2)wᵀΣw`; they differ in `μ` and `Σ`.
public enum ForecastAllocation: String, Sendable, Hashable, CaseIterable, Codable {
    /// `μ` = the forecast means, `Σ` = the historical sample covariance.
    case meanVariance = "mean-variance"
    /// The Black–Litterman posterior of an equal-weight equilibrium prior `π = δΣw_eq` with one
    /// absolute view per asset (the forecast mean, `Ω` = the forecast variance).
    case blackLitterman = "black-litterman"
}

/// Settings of a ``ForecastStrategy``. Periods are bars of the backtest panel.
public struct ForecastStrategyConfiguration: Sendable, Hashable {
    /// Forecast horizon `h` in bars (21 ≈ one month of trading days).
    public var horizon: Int
    /// Bars in each feature window of the networks.
    public var window: Int
    /// Training origins per refit (a rolling window ending `h` bars before the decision).
    public var trainingLength: Int
    /// Use every `trainingStride`-th training origin (the overlapping `h`-bar targets are nearly redundant).
    public var trainingStride: Int
    /// Refit every this many decisions (1 refits at every rebalance); forecasts in between use the last fit.
    public var refitInterval: Int
    /// Returns in the historical covariance window.
    public var covarianceLookback: Int
    /// Per-asset weight cap (long-only, fully invested, so `cap × assets ≥ 1` is needed).
    public var maximumWeight: Double
    /// Risk aversion `δ` of the utility objective and of the Black–Litterman equilibrium.
    public var riskAversion: Double
    /// Black–Litterman `τ`.
    public var tau: Double
    /// Mean-variance on the forecasts or Black–Litterman views.
    public var allocation: ForecastAllocation
    /// Bars per year, to annualize forecasts and covariance (252 for daily data).
    public var annualizationFactor: Double

    /// The defaults: monthly horizon, three years of origins at every fifth bar, a refit every third decision,
    /// a one-year covariance, 40 % caps, `δ = 2.5` and `τ = 0.05` (the usual textbook values, not tuned).
    public init(horizon: Int = 21, window: Int = 20, trainingLength: Int = 756, trainingStride: Int = 5, refitInterval: Int = 3,
                covarianceLookback: Int = 252, maximumWeight: Double = 0.4, riskAversion: Double = 2.5, tau: Double = 0.05,
                allocation: ForecastAllocation = .meanVariance, annualizationFactor: Double = 252) {
        self.horizon = horizon
        self.window = window
        self.trainingLength = trainingLength
        self.trainingStride = trainingStride
        self.refitInterval = refitInterval
        self.covarianceLookback = covarianceLookback
        self.maximumWeight = maximumWeight
        self.riskAversion = riskAversion
        self.tau = tau
        self.allocation = allocation
        self.annualizationFactor = annualizationFactor
    }

    /// Bars before the first feature row is complete (the 64-bar causal MRA and MACD warm-ups), with margin.
    static let featureWarmup = 100

    /// Bars of prices each decision looks at: warm-up, one window, the training origins and the horizon.
    var featureHistory: Int { Self.featureWarmup + window + trainingLength + horizon }
}

/// What one decision of a ``ForecastStrategy`` saw and chose (the decision log).
public struct ForecastDecision: Sendable, Hashable, Codable {
    /// The decision bar's label.
    public let date: String
    /// Whether the forecasters were refitted at this decision.
    public let refitted: Bool
    /// The assets that took part (available throughout the history used), in panel order.
    public let assets: [String]
    /// Forecast `h`-bar log returns, one per asset.
    public let forecastMean: [Double]
    /// Their predictive variances.
    public let forecastVariance: [Double]
    /// Annualized expected returns given to the allocation (`mean · A/h`).
    public let expectedReturns: [Double]
    /// Annualized view variances, the diagonal of `Ω` (`variance · A/h`).
    public let viewVariance: [Double]
    /// Target weights, one per panel asset (0 for the assets that did not take part).
    public let weights: [Double]
}

/// A walk-forward forecast-driven allocation: at each rebalance, forecast every asset's `h`-bar
/// return and its uncertainty, and allocate long-only under a per-asset cap.
///
/// One forecaster per asset (not pooled): each asset's series has its own scale and dynamics,
/// and ``ForecastFeatures`` describes one series. At a refit (every ``ForecastStrategyConfiguration/refitInterval``
/// decisions) each forecaster is trained on the last `trainingLength` origins `t` whose targets are
/// known at the decision bar `d` (`t + h ≤ d`), with the feature scaler fitted on those rows only; the
/// forecast is made at the origin `d`. Every input ends at the decision bar, so no decision sees a later price.
///
/// Views: the forecast mean `m` of the `h`-bar log return and its variance `v` become the annualized
/// expected return `m·A/h` and view variance `v·A/h` (`A` bars per year), the same scaling that
/// annualizes a covariance of `h`-bar returns. See ``ForecastAllocation`` for the two allocations.
/// Deterministic: each refit of each asset derives its seed from the configured seed, the refit count and the asset.
public struct ForecastStrategy: BacktestStrategy, Sendable {
    /// A name for results: `forecast <source> (<allocation>)`.
    public let name: String
    /// Where forecasts come from.
    public let source: ForecastSource
    /// The settings.
    public let configuration: ForecastStrategyConfiguration
    /// Called with a line after each refit (for a progress display).
    public let progress: (@Sendable (String) -> Void)?
    /// Every decision so far, oldest first (read it after running the strategy in place).
    public private(set) var decisionLog: [ForecastDecision] = []

    /// What one asset's last refit left: a trained network and its scaler, or a baseline's training origins.
    struct FittedAsset: Sendable {
        var forecaster: (any Forecaster)?
        var scaler: StandardScaler?
        var trainingOrigins: [Int] = []
        var residualVariance = 0.0
        /// The decision bar of the refit.
        var refitBar = 0
    }

    private var fitted: [String: FittedAsset] = [:]
    private var refits = 0

    /// A strategy.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` naming the setting out of
    ///   its domain: horizon, window, training length or stride (fewer than 2 training origins), refit interval,
    ///   covariance lookback, a cap outside `(0, 1]`, `δ`, `τ`, the annualization factor, or a network
    ///   configuration whose variance would be 0.
    public init(source: ForecastSource, configuration: ForecastStrategyConfiguration = ForecastStrategyConfiguration(),
                progress: (@Sendable (String) -> Void)? = nil) throws {
        let component = "ForecastStrategy", c = configuration
        try require(c.horizon >= 1, component, "horizon", "must be ≥ 1 bar, not \(c.horizon)")
        try require(c.window >= 1, component, "window", "must be ≥ 1, not \(c.window)")
        try require(c.trainingStride >= 1, component, "trainingStride", "must be ≥ 1, not \(c.trainingStride)")
        try require(c.trainingLength >= 2 * c.trainingStride, component, "trainingLength",
                    "\(c.trainingLength) origins at stride \(c.trainingStride) leave fewer than 2 to train on")
        try require(c.refitInterval >= 1, component, "refitInterval", "must be ≥ 1 decision, not \(c.refitInterval)")
        try require(c.covarianceLookback >= 2, component, "covarianceLookback", "must be ≥ 2 returns, not \(c.covarianceLookback)")
        try require(c.maximumWeight > 0 && c.maximumWeight <= 1, component, "maximumWeight", "must be in (0, 1], not \(c.maximumWeight)")
        try require(c.riskAversion.isFinite && c.riskAversion > 0, component, "riskAversion", "must be finite and > 0, not \(c.riskAversion)")
        try require(c.tau > 0 && c.tau <= 1, component, "tau", "must be in (0, 1], not \(c.tau)")
        try require(c.annualizationFactor.isFinite && c.annualizationFactor > 0, component, "annualizationFactor",
                    "must be finite and > 0, not \(c.annualizationFactor)")
        if case let .network(model, network) = source {
            try network.validate(model.rawValue)
            try require(network.ensembleSize > 1 || network.validationFraction > 0, component, "source",
                        "a one-member ensemble without validation rows has zero forecast variance; use ensembleSize > 1 or validationFraction > 0")
        }
        self.source = source
        self.configuration = configuration
        self.progress = progress
        name = "forecast \(source.name) (\(configuration.allocation.rawValue))"
    }

    /// The feature history, or the covariance window when it is longer.
    public var requiredHistory: Int { Swift.max(configuration.featureHistory, configuration.covarianceLookback + 1) }

    /// Annualized expected returns `m·A/h` and view variances `v·A/h` of `h`-bar forecasts (means `m`,
    /// variances `v`), with `A` = `annualizationFactor` bars per year.
    public static func views(means: [Double], variances: [Double], horizon: Int,
                             annualizationFactor: Double) -> (expectedReturns: [Double], viewVariance: [Double]) {
        let scale = annualizationFactor / Double(horizon)
        return (means.map { $0 * scale }, variances.map { $0 * scale })
    }

    /// Forecasts each available asset, refitting when due, and allocates.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` naming the date when no asset has a full
    ///   history or the cap cannot be met by the available assets; the forecasters', estimators' and
    ///   optimizer's errors.
    public mutating func targetWeights(_ context: DecisionContext) throws -> [Double] {
        let c = configuration, component = "ForecastStrategy", date = context.label.description
        let history = requiredHistory
        let available = try context.availableThroughout(lookback: history)
        let members = (0..<context.assetCount).filter { available[$0] }
        guard !members.isEmpty else {
            throw StrategiesError.invalidData(component: component, message: "no asset has a price at each of the \(history) bars up to \(date)")
        }
        guard Double(members.count) * c.maximumWeight >= 1 - 1e-12 else {
            throw StrategiesError.invalidData(component: component,
                                              message: "at \(date) \(members.count) assets under a cap of \(c.maximumWeight) cannot be fully invested")
        }
        let refit = refits == 0 || decisionLog.count % c.refitInterval == 0
            || members.contains { fitted[context.assets[$0]] == nil }
        let closes = try context.closes(lookback: history)
        var means: [Double] = [], variances: [Double] = []
        for a in members {
            let asset = context.assets[a]
            let prices = (0..<history).map { closes[$0, a] }
            var state = fitted[asset] ?? FittedAsset()
            if refit { state = try fit(prices: prices, bar: context.bar, asset: asset, index: a, seedOffset: refits) }
            let forecast = try predict(prices: prices, bar: context.bar, state: state)
            fitted[asset] = state
            means.append(forecast.mean)
            variances.append(forecast.variance)
        }
        if refit {
            refits += 1
            progress?("refit \(refits) at \(date): \(members.count) assets")
        }
        let (mu, omega) = Self.views(means: means, variances: variances, horizon: c.horizon, annualizationFactor: c.annualizationFactor)
        let allocated = try allocate(context: context, members: members, expectedReturns: mu, viewVariance: omega)
        var weights = [Double](repeating: 0, count: context.assetCount)
        for (k, a) in members.enumerated() { weights[a] = allocated[k] }
        decisionLog.append(ForecastDecision(date: date, refitted: refit, assets: members.map { context.assets[$0] },
                                            forecastMean: means, forecastVariance: variances, expectedReturns: mu,
                                            viewVariance: omega, weights: weights))
        return weights
    }

    /// Trains one asset's forecaster on the origins of `prices` (ending at the decision bar) whose targets are known.
    func fit(prices: [Double], bar: Int, asset: String, index: Int, seedOffset: Int) throws -> FittedAsset {
        let c = configuration, last = prices.count - 1
        switch source {
        case let .baseline(baseline):
            // Absolute positions within `prices`; the forward returns of these origins end at or before the decision bar.
            let origins = Array(stride(from: last - c.horizon, through: Swift.max(c.horizon, last - c.horizon - c.trainingLength + 1),
                                       by: -c.trainingStride).reversed())
            let logPrices = prices.map { Foundation.log($0) }
            let fitted = try baseline.forecasts(logPrices: logPrices, horizon: c.horizon, trainingOrigins: origins, origins: origins)
            let residual = zip(origins, fitted).reduce(0.0) {
                let e = logPrices[$1.0 + c.horizon] - logPrices[$1.0] - $1.1
                return $0 + e * e
            } / Double(origins.count)
            return FittedAsset(forecaster: nil, scaler: nil, trainingOrigins: origins, residualVariance: residual, refitBar: bar)
        case let .network(model, network):
            let features = try ForecastFeatures(prices: prices, configuration: featureConfiguration)
            let lastTraining = last - c.horizon
            let firstTraining = Swift.max(features.firstOrigin, lastTraining - c.trainingLength + 1)
            let origins = Array(stride(from: lastTraining, through: firstTraining, by: -c.trainingStride).reversed())
            guard origins.count >= 2 else {
                throw StrategiesError.invalidData(component: "ForecastStrategy",
                                                  message: "\(asset): \(origins.count) training origins in \(prices.count) bars; need ≥ 2")
            }
            let scaler = try features.scaler(fittedOn: (firstTraining - c.window + 1)..<(lastTraining + 1))
            let inputs = try features.windows(at: origins, scaler: scaler)
            let data = try ForecastData(inputs: inputs, targets: try Tensor(shape: [origins.count, 1], scalars: origins.map { features.targets[0][$0] }),
                                        embargo: c.horizon)
            var settings = network
            settings.seed = mixSeed(mixSeed(network.seed, 2_000 + seedOffset), index)
            var forecaster = try model.makeForecaster(settings)
            try forecaster.fit(data)
            return FittedAsset(forecaster: forecaster, scaler: scaler, refitBar: bar)
        }
    }

    /// The `h`-bar forecast at the last bar of `prices` from one asset's last fit.
    func predict(prices: [Double], bar: Int, state: FittedAsset) throws -> (mean: Double, variance: Double) {
        let c = configuration, last = prices.count - 1
        if let forecaster = state.forecaster, let scaler = state.scaler {
            let features = try ForecastFeatures(prices: prices, configuration: featureConfiguration)
            let forecast = try forecaster.predict(try features.windows(at: [last], scaler: scaler))
            return (forecast.mean[0][0], forecast.variance[0][0])
        }
        guard case let .baseline(baseline) = source else {
            throw StrategiesError.invalidData(component: "ForecastStrategy", message: "forecast requested before a fit")
        }
        // The training origins were stored as positions in the refit's window; shift them to this one.
        let shift = bar - state.refitBar
        let logPrices = prices.map { Foundation.log($0) }
        let origins = state.trainingOrigins.map { $0 - shift }.filter { $0 >= c.horizon }
        let mean = try baseline.forecasts(logPrices: logPrices, horizon: c.horizon, trainingOrigins: origins, origins: [last])[0]
        return (mean, state.residualVariance)
    }

    /// Features of one series: the strategy's window and its single horizon.
    private var featureConfiguration: ForecastFeatureConfiguration {
        ForecastFeatureConfiguration(window: configuration.window, horizons: [configuration.horizon])
    }

    /// Long-only capped maximum utility on the forecast means (with the historical covariance) or on the
    /// Black–Litterman posterior; weights of `members`, in order.
    func allocate(context: DecisionContext, members: [Int], expectedReturns mu: [Double], viewVariance omega: [Double]) throws -> [Double] {
        let c = configuration, names = members.map { context.assets[$0] }
        let returns = try context.simpleReturns(lookback: c.covarianceLookback)
        var values = Matrix(rows: c.covarianceLookback, columns: members.count)
        for t in 0..<c.covarianceLookback {
            for (k, a) in members.enumerated() { values[t, k] = returns[t, a] }
        }
        let observations = try ReturnObservations(assets: names, values: values)
        let sigma = try CovarianceEstimator(annualizationFactor: c.annualizationFactor).fit(observations).matrix
        let inputs: OptimizationInputs
        switch c.allocation {
        case .meanVariance:
            inputs = try OptimizationInputs(assets: names, covariance: sigma, expectedReturns: mu)
        case .blackLitterman:
            var omegaMatrix = Matrix(rows: names.count, columns: names.count)
            for k in names.indices { omegaMatrix[k, k] = omega[k] }
            let model = BlackLittermanModel(prior: .marketImplied(marketCapitalizations: Dictionary(uniqueKeysWithValues: names.map { ($0, 1.0) }),
                                                                  riskFreeRate: 0),
                                            views: zip(names, mu).map { BlackLittermanView.absolute($0, expectedReturn: $1) },
                                            tau: c.tau, riskAversion: c.riskAversion, uncertainty: .given(omegaMatrix))
            let posterior = try model.posterior(try OptimizationInputs(assets: names, covariance: sigma))
            inputs = try OptimizationInputs(assets: names, covariance: posterior.covariance, expectedReturns: posterior.returns)
        }
        let optimizer = MeanVarianceOptimizer(objective: .maximumUtility(riskAversion: c.riskAversion),
                                              constraints: .boxed(0, c.maximumWeight))
        return try optimizer.fit(inputs).weights
    }
}
