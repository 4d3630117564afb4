import Autodiff
import Foundation
import Linalg
import MetaLearn
import Signals

/// How the walk-forward evaluation combines the models' forecasts into its `ensemble` line.
public enum ForecastCombination: String, Sendable, Hashable, CaseIterable, Codable {
    /// Weights `wᵢ ∝ 1/σᵢ²` per origin and horizon, variance `(Σ wᵢ σᵢ)²` (the default).
    ///
    /// The variance is that of perfectly correlated model errors, as for the other rules: the models'
    /// errors are nearly the same errors, and `1/Σ σᵢ⁻²` (independent errors) covered only about 0.7 of
    /// the realized returns with a 90 % interval.
    case inverseVariance = "inverse-variance"
    /// The plain mean of the models; variance `(Σ σᵢ / k)²`.
    case equal
    /// Stacking (Wolpert 1992; Breiman 1996): per fold and horizon, non-negative least squares without
    /// intercept of the realised targets of the validation window on the models' forecasts of it,
    /// `min_{w ≥ 0} ‖y − X w‖²` (Lawson & Hanson 1974), the weights then divided by their sum (equal
    /// weights if all are 0). The validation window is the newest `validationFraction` of the fold's
    /// training origins, held out of every model's fit, with targets known before the test block.
    /// Variance `(Σ wᵢ σᵢ)²`, the variance of `Σ wᵢ Xᵢ` under perfectly correlated errors (an upper
    /// bound for any correlation). Needs `validationFraction > 0`.
    case stacked
}

/// How the walk-forward evaluation splits time.
public struct WalkForwardConfiguration: Sendable, Hashable {
    /// The first forecast origin of the test period (a row of the features).
    public var firstTestOrigin: Int
    /// Origins per test block; every model is refitted before each block.
    public var testBlockLength: Int
    /// Training origins per fit (a rolling window), or `nil` for an expanding window from the first origin.
    public var trainingLength: Int?
    /// Use every `trainingStride`-th training origin (1 uses all; larger values trade data for speed).
    public var trainingStride: Int
    /// Forecast at every `testStride`-th origin of the test period.
    public var testStride: Int
    /// How the `ensemble` line combines the models (inverse-variance by default).
    public var combination: ForecastCombination

    /// A configuration.
    public init(firstTestOrigin: Int, testBlockLength: Int = 252, trainingLength: Int? = 1500, trainingStride: Int = 1,
                testStride: Int = 1, combination: ForecastCombination = .inverseVariance) {
        self.firstTestOrigin = firstTestOrigin
        self.testBlockLength = testBlockLength
        self.trainingLength = trainingLength
        self.trainingStride = trainingStride
        self.testStride = testStride
        self.combination = combination
    }
}

/// One model's or baseline's scores at one horizon over the whole test period.
public struct ForecastScore: Sendable, Hashable, Codable {
    /// What produced the forecasts.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A trained forecaster.
        case model
        /// The combination of the trained forecasters (``ForecastCombination``).
        case ensemble
        /// A naive baseline.
        case baseline
    }

    /// Model, ensemble or baseline name.
    public let name: String
    /// What produced the forecasts.
    public let kind: Kind
    /// Mean squared error of the log-return forecasts.
    public let mse: Double
    /// Mean absolute error.
    public let mae: Double
    /// Share of correct signs.
    public let directionAccuracy: Double
    /// Accuracy of the slope class implied by the forecast.
    public let slopeAccuracy: Double
    /// Macro-F1 of the implied slope class.
    public let slopeMacroF1: Double
    /// Diebold–Mariano test against the best naive baseline (`nil` for the baselines).
    public let dieboldMariano: DieboldMariano.Result?
    /// Mean predictive variance (`nil` for the baselines).
    public let meanVariance: Double?
    /// Share of realized returns inside the central 90 % Gaussian interval of the forecast and its
    /// predictive variance: about 0.90 when the variance is calibrated (`nil` for the baselines).
    public let intervalCoverage90: Double?
}

/// The scores at one horizon.
public struct HorizonReport: Sendable, Hashable, Codable {
    /// Periods ahead.
    public let horizon: Int
    /// Scored forecasts (test origins whose target is known).
    public let count: Int
    /// The baseline with the lowest test MSE, which the Diebold–Mariano tests compare against.
    public let bestBaseline: String
    /// Models, their ensemble, then the baselines.
    public let scores: [ForecastScore]
    /// The most frequent slope class of each fold's training window (the class a majority classifier predicts).
    public let majorityAccuracy: Double
    /// Macro-F1 of that majority classifier.
    public let majorityMacroF1: Double
}

/// A walk-forward evaluation of forecasters beside naive baselines.
///
/// Protocol: the test period is cut into blocks; before each block every model is refitted on the
/// training origins `t` whose targets are known at the block's first origin `s` (`t + h_max ≤ s`),
/// the feature pipeline (by default the scaler) is fitted on those rows only, and forecasts are made
/// for each origin of the block from its causal window. Forecasts at an origin therefore use data up to that origin only.
public struct ForecastEvaluation: Sendable {
    /// One refit: training origins and test origins.
    public struct Fold: Sendable, Hashable, Codable {
        /// The training origins used (after the stride).
        public let trainingOrigins: ClosedRange<Int>
        /// The test origins.
        public let testOrigins: ClosedRange<Int>
    }

    /// The refits, in time order.
    public let folds: [Fold]
    /// Test origins, ascending.
    public let origins: [Int]
    /// Forecasts `[name][origin position][horizon index]` of every model, the ensemble and the baselines
    /// (the decision log; also made at origins whose target is not yet known).
    public let forecasts: [String: [[Double]]]
    /// Predictive variances of the models and the ensemble, laid out as ``forecasts``.
    public let variances: [String: [[Double]]]
    /// Scores per horizon.
    public let reports: [HorizonReport]
    /// The LSTM-attention ensemble's attention of the last step over the window, per test origin
    /// (`[origin position][window position]`, averaged over heads and members; oldest day first),
    /// or `nil` when `lstm-attention` was not among the models.
    public let attention: [[Double]]?

    /// The trained models, in the order they were given.
    public var models: [String] { reports.first?.scores.filter { $0.kind == .model }.map(\.name) ?? [] }

    /// The weight of each model in the `ensemble` line at every test origin for horizon index `k`
    /// (`[model][origin position]`, in the order of ``models``), as ``combination`` set it: under
    /// inverse-variance `wᵢ = σᵢ⁻² / Σⱼ σⱼ⁻²`, or equal weights where some variance is 0, as in the
    /// combination itself; `1/k` under equal weights; the fold's ``stackingWeights`` under stacking.
    /// The weights at an origin sum to 1.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for `k` outside the horizons.
    public func ensembleWeights(horizonIndex k: Int) throws -> [[Double]] {
        let names = models
        try require(reports.indices.contains(k), "ForecastEvaluation", "horizonIndex", "must be in 0..<\(reports.count), not \(k)")
        var weights = names.map { _ in [Double](repeating: 1 / Double(names.count), count: origins.count) }
        switch combination {
        case .equal:
            break
        case .stacked:
            var fold = 0
            for (i, origin) in origins.enumerated() {
                while fold < folds.count - 1, !folds[fold].testOrigins.contains(origin) { fold += 1 }
                for j in names.indices { weights[j][i] = stackingWeights[fold][k][j] }
            }
        case .inverseVariance:
            for i in origins.indices {
                let vars = names.map { variances[$0]?[i][k] ?? 0 }
                let equal = !vars.allSatisfy { $0 > 0 }
                let precision = equal ? Double(vars.count) : vars.reduce(0) { $0 + 1 / $1 }
                for (j, variance) in vars.enumerated() { weights[j][i] = (equal ? 1 : 1 / variance) / precision }
            }
        }
        return weights
    }

    /// How the `ensemble` line combined the models.
    public let combination: ForecastCombination
    /// The stacking weights `[fold][horizon][model]` (models in the order given), empty unless the
    /// combination is ``ForecastCombination/stacked``.
    public let stackingWeights: [[[Double]]]

    /// Runs the walk-forward evaluation of `models` (each a deep ensemble with `forecaster`) on `features`.
    ///
    /// - Parameters:
    ///   - features: the causal features and targets; their horizons are the evaluated ones.
    ///   - models: the architectures, each trained as a deep ensemble.
    ///   - forecaster: training settings; each fold derives its own seed from `forecaster.seed`.
    ///   - walkForward: the split.
    ///   - pipeline: the feature stages, refitted on each fold's training rows (``ForecastFeaturePipeline/standard`` by default).
    ///   - regimeFeatures: when set, each fold fits this regime model on its training rows and appends its
    ///     filtered state probabilities to the features (``ForecastFeatures/appendingRegimeProbabilities(_:fittedOn:seed:)``).
    ///   - progress: called with a line after each fit (for a command-line progress display).
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a bad split or
    ///   no model, ``StrategiesError/invalidData(component:message:)`` when the first fold has no training
    ///   origin or no forecast can be scored, and the forecasters' and the regime model's errors.
    public static func run(features: ForecastFeatures, models: [ForecastModel], forecaster: ForecasterConfiguration,
                           walkForward: WalkForwardConfiguration, pipeline: ForecastFeaturePipeline = .standard,
                           regimeFeatures: RegimeFeatureConfiguration? = nil,
                           progress: (@Sendable (String) -> Void)? = nil) throws -> ForecastEvaluation {
        let component = "ForecastEvaluation"
        let horizons = features.configuration.horizons, maxHorizon = horizons.last!, n = features.count
        try require(!models.isEmpty && Set(models).count == models.count, component, "models", "must be distinct and not empty")
        try require(walkForward.testBlockLength >= 1, component, "testBlockLength", "must be ≥ 1, not \(walkForward.testBlockLength)")
        try require(walkForward.trainingStride >= 1, component, "trainingStride", "must be ≥ 1, not \(walkForward.trainingStride)")
        try require(walkForward.testStride >= 1, component, "testStride", "must be ≥ 1, not \(walkForward.testStride)")
        try require((walkForward.trainingLength ?? 2) >= 2, component, "trainingLength", "must be ≥ 2")
        try require(walkForward.combination != .stacked || forecaster.validationFraction > 0, component, "combination",
                    "stacked fits its weights on the validation window and needs forecaster.validationFraction > 0")
        let firstUsable = Swift.max(pipeline.firstOrigin(of: features), maxHorizon)
        try require(walkForward.firstTestOrigin - maxHorizon >= firstUsable + 1 && walkForward.firstTestOrigin < n, component,
                    "firstTestOrigin", "\(walkForward.firstTestOrigin) leaves no training origin (first usable \(firstUsable), horizon \(maxHorizon), \(n) periods)")

        var folds: [Fold] = [], origins: [Int] = []
        var means: [String: [[Double]]] = [:], variances: [String: [[Double]]] = [:]
        var majority: [[SlopeLabel]] = horizons.map { _ in [] }
        var attention: [[Double]]? = models.contains(.lstmAttention) ? [] : nil
        var foldWeights: [[[Double]]] = []
        let logPrices = features.prices.map { Foundation.log($0) }
        for (foldIndex, blockStart) in stride(from: walkForward.firstTestOrigin, to: n, by: walkForward.testBlockLength).enumerated() {
            let blockOrigins = Array(stride(from: blockStart, to: Swift.min(blockStart + walkForward.testBlockLength, n), by: walkForward.testStride))
            guard !blockOrigins.isEmpty else { continue }
            let lastTraining = blockStart - maxHorizon
            let firstTraining = walkForward.trainingLength.map { Swift.max(firstUsable, lastTraining - $0 + 1) } ?? firstUsable
            // Counted back from the newest origin so the most recent data is always used.
            let trainingOrigins = Array(stride(from: lastTraining, through: firstTraining, by: -walkForward.trainingStride).reversed())
            folds.append(Fold(trainingOrigins: trainingOrigins.first!...trainingOrigins.last!,
                              testOrigins: blockOrigins.first!...blockOrigins.last!))
            let fitRows = (firstTraining - features.configuration.window + 1)..<(lastTraining + 1)
            let foldFeatures = try features.appendingRegimeProbabilities(regimeFeatures, fittedOn: fitRows,
                                                                         seed: mixSeed(regimeFeatures?.seed ?? 0, 3_000 + foldIndex))
            var fittedPipeline = pipeline
            try fittedPipeline.fit(foldFeatures, rows: fitRows, seed: mixSeed(forecaster.seed, 2_000 + foldIndex))
            let trainingInputs = try fittedPipeline.windows(foldFeatures, at: trainingOrigins)
            let targets = trainingOrigins.flatMap { t in horizons.indices.map { features.targets[$0][t] } }
            let data = try ForecastData(inputs: trainingInputs, targets: try Tensor(shape: [trainingOrigins.count, horizons.count], scalars: targets),
                                        embargo: maxHorizon)
            let testInputs = try fittedPipeline.windows(foldFeatures, at: blockOrigins)
            var blockForecasts: [Forecast] = [], validationForecasts: [Forecast] = []
            let validationRows = forecaster.validationRowCount(trainingOrigins.count)
            for model in models {
                var configuration = forecaster
                configuration.seed = mixSeed(forecaster.seed, 1_000 + foldIndex)
                var fitted = try model.makeForecaster(configuration)
                let start = Date()
                try fitted.fit(data)
                let forecast = try fitted.predict(testInputs)
                blockForecasts.append(forecast)
                if let recurrent = fitted as? EnsembleForecaster<RecurrentAttentionRegressor<Double>> {
                    attention? += try recurrent.attentionWeights(testInputs)
                }
                if walkForward.combination == .stacked {
                    validationForecasts.append(try fitted.predict(trainingInputs.sliced(alongAxis: 0, from: trainingOrigins.count - validationRows,
                                                                                        to: trainingOrigins.count)))
                }
                means[model.rawValue, default: []] += forecast.mean
                variances[model.rawValue, default: []] += forecast.variance
                progress?(String(format: "fold %d (test %d–%d): %@ fitted on %d origins in %.1f s", foldIndex + 1,
                                 blockOrigins.first!, blockOrigins.last!, model.rawValue, trainingOrigins.count, Date().timeIntervalSince(start)))
            }
            let combined: Forecast
            switch walkForward.combination {
            case .inverseVariance:
                combined = inverseVarianceCombination(blockForecasts)
            case .equal:
                combined = weightedCombination(blockForecasts, weights: horizons.map { _ in
                    [Double](repeating: 1 / Double(models.count), count: models.count)
                })
            case .stacked:
                let validationOrigins = trainingOrigins.suffix(validationRows)
                let weights = horizons.indices.map { k in
                    fitStackingWeights(forecasts: validationForecasts.map { f in f.mean.map { $0[k] } },
                                       targets: validationOrigins.map { features.targets[k][$0] })
                }
                foldWeights.append(weights)
                combined = weightedCombination(blockForecasts, weights: weights)
            }
            means["ensemble", default: []] += combined.mean
            variances["ensemble", default: []] += combined.variance
            for baseline in NaiveBaseline.allCases {
                let columns = try horizons.map { h in
                    try baseline.forecasts(logPrices: logPrices, horizon: h, trainingOrigins: trainingOrigins.filter { $0 + h <= blockStart },
                                           origins: blockOrigins)
                }
                means[baseline.rawValue, default: []] += blockOrigins.indices.map { i in columns.map { $0[i] } }
            }
            for (k, labels) in features.slopeLabels.enumerated() {
                let training = trainingOrigins.compactMap { labels[$0] }
                let counts = Dictionary(grouping: training, by: { $0 }).mapValues(\.count)
                let mode = counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? .up
                majority[k] += blockOrigins.map { _ in mode }
            }
            origins += blockOrigins
        }

        var reports: [HorizonReport] = []
        for (k, h) in horizons.enumerated() {
            let scored = origins.indices.filter { origins[$0] + h < n }
            guard scored.count >= 2 else {
                throw StrategiesError.invalidData(component: component, message: "fewer than 2 test origins have a known \(h)-period target")
            }
            let realized = scored.map { features.targets[k][origins[$0]] }
            let actualClasses = scored.map { features.slopeLabels[k][origins[$0]]! }
            func column(_ name: String) -> [Double] { scored.map { means[name]![$0][k] } }
            func errors(_ name: String) -> [Double] { zip(realized, column(name)).map { $0 - $1 } }
            let best = NaiveBaseline.allCases.map(\.rawValue).min { ForecastScoring.mse(column($0), realized) < ForecastScoring.mse(column($1), realized) }!
            var scores: [ForecastScore] = []
            for (name, kind) in models.map({ ($0.rawValue, ForecastScore.Kind.model) }) + [("ensemble", .ensemble)]
                + NaiveBaseline.allCases.map({ ($0.rawValue, ForecastScore.Kind.baseline) }) {
                let forecast = column(name)
                let classes = ForecastScoring.classification(
                    forecast.map { ForecastScoring.slopeClass(logReturn: $0, horizon: h, strong: features.configuration.strongSlope) }, actualClasses)
                let variance = kind == .baseline ? nil : scored.reduce(0) { $0 + variances[name]![$1][k] } / Double(scored.count)
                scores.append(ForecastScore(name: name, kind: kind, mse: ForecastScoring.mse(forecast, realized),
                                            mae: ForecastScoring.mae(forecast, realized),
                                            directionAccuracy: ForecastScoring.directionAccuracy(forecast, realized),
                                            slopeAccuracy: classes.accuracy, slopeMacroF1: classes.macroF1,
                                            dieboldMariano: kind == .baseline ? nil : try DieboldMariano.test(errors(name), errors(best), horizon: h),
                                            meanVariance: variance,
                                            intervalCoverage90: kind == .baseline ? nil : try ForecastScoring.intervalCoverage(
                                                forecast, variance: scored.map { variances[name]![$0][k] }, realized)))
            }
            let majorityScores = ForecastScoring.classification(scored.map { majority[k][$0] }, actualClasses)
            reports.append(HorizonReport(horizon: h, count: scored.count, bestBaseline: best, scores: scores,
                                         majorityAccuracy: majorityScores.accuracy, majorityMacroF1: majorityScores.macroF1))
        }
        return ForecastEvaluation(folds: folds, origins: origins, forecasts: means, variances: variances, reports: reports,
                                  attention: attention, combination: walkForward.combination, stackingWeights: foldWeights)
    }

    /// Per origin and output, `Σ wᵢ μᵢ` with `wᵢ ∝ 1/σᵢ²` and variance `(Σ wᵢ σᵢ)²`; equal weights and the
    /// mean variance where some variance is 0 (a one-member ensemble without validation residuals).
    static func inverseVarianceCombination(_ forecasts: [Forecast]) -> Forecast {
        let rows = forecasts[0].mean.count, outputs = forecasts[0].mean[0].count
        var mean = [[Double]](repeating: [Double](repeating: 0, count: outputs), count: rows), variance = mean
        for i in 0..<rows {
            for j in 0..<outputs {
                let mus = forecasts.map { $0.mean[i][j] }, vars = forecasts.map { $0.variance[i][j] }
                if vars.allSatisfy({ $0 > 0 }) {
                    let precision = vars.reduce(0) { $0 + 1 / $1 }
                    mean[i][j] = zip(mus, vars).reduce(0) { $0 + $1.0 / $1.1 } / precision
                    let sigma = vars.reduce(0) { $0 + $1.squareRoot() / $1 } / precision
                    variance[i][j] = sigma * sigma
                } else {
                    mean[i][j] = mus.reduce(0, +) / Double(mus.count)
                    variance[i][j] = vars.reduce(0, +) / Double(vars.count)
                }
            }
        }
        return Forecast(checkedMean: mean, variance: variance)
    }

    /// Per origin and output `j`, `Σ wⱼᵢ μᵢ` with variance `(Σ wⱼᵢ σᵢ)²` (`weights[output][model]`).
    static func weightedCombination(_ forecasts: [Forecast], weights: [[Double]]) -> Forecast {
        let rows = forecasts[0].mean.count, outputs = forecasts[0].mean[0].count
        var mean = [[Double]](repeating: [Double](repeating: 0, count: outputs), count: rows), variance = mean
        for i in 0..<rows {
            for j in 0..<outputs {
                var mu = 0.0, sigma = 0.0
                for (w, forecast) in zip(weights[j], forecasts) {
                    mu += w * forecast.mean[i][j]
                    sigma += w * forecast.variance[i][j].squareRoot()
                }
                mean[i][j] = mu
                variance[i][j] = sigma * sigma
            }
        }
        return Forecast(checkedMean: mean, variance: variance)
    }

    /// Stacking weights: the non-negative least-squares solution `min_{w ≥ 0} ‖y − X w‖²` (no intercept;
    /// `X[r][i] = forecasts[i][r]`, `y = targets`) divided by its sum, or equal weights if it is 0.
    ///
    /// Exact for the few models here: the NNLS solution is the unconstrained least-squares solution on its
    /// support (Lawson & Hanson 1974, ch. 23), so every support's normal equations are solved and the
    /// feasible (all weights ≥ 0) solution with the smallest residual is kept; supports whose Gram matrix
    /// is not positive definite (collinear forecasts) are skipped.
    static func fitStackingWeights(forecasts: [[Double]], targets: [Double]) -> [Double] {
        let k = forecasts.count
        func dot(_ u: [Double], _ v: [Double]) -> Double { zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } }
        func residual(_ w: [Double]) -> Double {
            targets.indices.reduce(0) { sum, r in
                let e = targets[r] - (0..<k).reduce(0) { $0 + w[$1] * forecasts[$1][r] }
                return sum + e * e
            }
        }
        var best = [Double](repeating: 0, count: k), bestResidual = residual(best)   // w = 0 is always feasible
        for support in 1..<(1 << k) {
            let columns = (0..<k).filter { support & (1 << $0) != 0 }
            guard let gram = try? Matrix(columns.map { a in columns.map { dot(forecasts[a], forecasts[$0]) } }),
                  let solution = try? Cholesky(gram).solve(columns.map { dot(forecasts[$0], targets) }),
                  solution.allSatisfy({ $0.isFinite && $0 >= 0 }) else { continue }
            var w = [Double](repeating: 0, count: k)
            for (p, a) in columns.enumerated() { w[a] = solution[p] }
            let candidate = residual(w)
            if candidate < bestResidual {
                bestResidual = candidate
                best = w
            }
        }
        let total = best.reduce(0, +)
        return total > 0 ? best.map { $0 / total } : [Double](repeating: 1 / Double(k), count: k)
    }
}
