import Autodiff
import Foundation
import Linalg
import MetaLearn
import NN
import Signals

/// Settings of the meta-learned return forecaster and of its two ablations.
///
/// The network is an MLP over the flattened causal feature window (`window × features → hidden → 1`,
/// ReLU) that forecasts the standardized forward log return of one horizon, trained on mean squared error.
public struct MetaReturnConfiguration: Sendable, Hashable {
    /// Network size, task lengths, meta-learning and conventional-training settings, shared with the slope
    /// classifier; its `horizon` is the forecast horizon and its `seed` seeds the networks and task draws.
    public var network: SlopeClassifierConfiguration
    /// The regime model whose dominant filtered state labels the regime tasks (its seed seeds the EM fits).
    public var regimes: RegimeFeatureConfiguration
    /// Whether the filtered regime probabilities are also appended to the inputs (of every line).
    public var regimeInputs: Bool

    /// A configuration: the slope classifier's defaults at horizon 5, a 3-state HMM, plain inputs.
    public init(network: SlopeClassifierConfiguration = SlopeClassifierConfiguration(),
                regimes: RegimeFeatureConfiguration = RegimeFeatureConfiguration(), regimeInputs: Bool = false) {
        self.network = network
        self.regimes = regimes
        self.regimeInputs = regimeInputs
    }
}

/// One meta-training task whose origins all share a dominant filtered regime: a support window, then,
/// after an embargo, a query window, in time order.
///
/// The support and query hold consecutive origins *of that regime* (possibly apart in time); every query
/// origin comes at least `embargo + 1 ≥ horizon + 1` periods after the last support origin, so no
/// support label overlaps the query.
public struct RegimeTask: Sendable, Hashable, Codable {
    /// The state (0 = calmest).
    public let regime: Int
    /// Support origins, ascending.
    public let support: [Int]
    /// Query origins, ascending, after `support` and the embargo.
    public let query: [Int]

    /// Tasks per regime, each regime's origins tiled from its newest backwards with a new query window
    /// every `stride` of them; all tasks sorted by their last query origin.
    ///
    /// - Parameters:
    ///   - origins: ascending origins.
    ///   - regimes: the dominant state of each origin (values in `0..<states`).
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a non-positive length
    ///   or stride, an embargo below `horizon`, mismatched counts or a state out of range;
    ///   ``StrategiesError/invalidData(component:message:)`` when no regime holds one task.
    public static func tiling(origins: [Int], regimes: [Int], states: Int, supportLength: Int, queryLength: Int,
                              embargo: Int, horizon: Int, stride: Int) throws -> [RegimeTask] {
        let c = "RegimeTask"
        try require(supportLength >= 1 && queryLength >= 1, c, "supportLength, queryLength",
                    "must be ≥ 1, not \(supportLength), \(queryLength)")
        try require(stride >= 1, c, "stride", "must be ≥ 1, not \(stride)")
        try require(horizon >= 1 && embargo >= horizon, c, "embargo", "must be ≥ horizon \(horizon) ≥ 1, not \(embargo)")
        try require(regimes.count == origins.count, c, "regimes", "has \(regimes.count) entries for \(origins.count) origins")
        try require(regimes.allSatisfy { (0..<states).contains($0) }, c, "regimes", "must lie in 0..<\(states)")
        try require(zip(origins, origins.dropFirst()).allSatisfy { $0 < $1 }, c, "origins", "must be ascending")
        var tasks: [RegimeTask] = []
        for state in 0..<states {
            let list = zip(origins, regimes).filter { $0.1 == state }.map(\.0)
            var queryEnd = list.count - 1
            while queryEnd - queryLength + 1 >= 0 {
                let queryStart = queryEnd - queryLength + 1
                // The newest origin of the regime whose label is known before the query starts.
                guard let supportEnd = list[..<queryStart].lastIndex(where: { $0 <= list[queryStart] - embargo - 1 }),
                      supportEnd - supportLength + 1 >= 0 else { break }
                tasks.append(RegimeTask(regime: state, support: Array(list[(supportEnd - supportLength + 1)...supportEnd]),
                                        query: Array(list[queryStart...queryEnd])))
                queryEnd -= stride
            }
        }
        guard !tasks.isEmpty else {
            throw StrategiesError.invalidData(component: c, message: "no regime of \(origins.count) origins holds a task of \(supportLength) "
                                              + "support, \(embargo) embargo and \(queryLength) query origins")
        }
        return tasks.sorted { ($0.query.last!, $0.regime) < ($1.query.last!, $1.regime) }
    }
}

/// A walk-forward evaluation of a return forecaster meta-trained across regime tasks, the same network
/// meta-trained across period tasks, and the same network trained conventionally, beside the naive baselines.
///
/// Protocol per test block starting at origin `s` (as ``SlopeClassifierEvaluation``): the training origins
/// are the last `walkForward.trainingLength` with `t ≤ s − h`; the scaler, the target's mean and deviation
/// and the regime model (``ForecastRegimeModel``) are fitted on them. Each training origin's regime is the
/// most probable filtered state at that origin. From one initialization the network is
/// - meta-trained on ``RegimeTask``s, each meta-batch drawing a regime uniformly and then one of its tasks
///   (`<method>-regime`);
/// - meta-trained on ``SlopePeriodTask``s drawn uniformly (`<method>-period`);
/// - trained with Adam on all training origins pooled (`pooled`).
///
/// At each test origin `t` each network takes `adaptationSteps` SGD steps on the latest support window
/// (origins `t − h − support + 1 … t − h`, whose targets are known at `t`) and forecasts `t`; the pooled
/// network also forecasts without that step (`pooled-unadapted`), which separates what pooled training
/// does from what the test-time step does to a network not trained to take it. The baselines
/// are refitted on the training origins. No forecast uses a price after its origin.
public struct MetaReturnEvaluation: Sendable {
    /// The settings used.
    public let configuration: MetaReturnConfiguration
    /// The refits, in time order.
    public let folds: [ForecastEvaluation.Fold]
    /// Test origins, ascending (forecasts are made at each, also where the target is not yet known).
    public let origins: [Int]
    /// Forecasts of the forward `h`-period log return per line (``lineNames(_:)`` and the baselines), one per origin.
    public let forecasts: [String: [Double]]
    /// Scores of the four lines (kind `model`) and the baselines, with Diebold–Mariano tests against the best baseline.
    public let report: HorizonReport
    /// Regime tasks per fold and state.
    public let regimeTaskCounts: [[Int]]

    /// The four lines' names for `method`: `<method>-regime`, `<method>-period`, `pooled`, `pooled-unadapted`.
    public static func lineNames(_ method: SlopeMetaMethod) -> [String] {
        ["\(method.rawValue)-regime", "\(method.rawValue)-period", "pooled", "pooled-unadapted"]
    }

    /// Runs the evaluation (see the type's protocol). `walkForward.trainingStride` is not used.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a bad setting or a
    ///   horizon the features lack; ``StrategiesError/invalidData(component:message:)`` when a fold has too
    ///   little training data for a task or the regime model, or fewer than 2 test origins have a known
    ///   target; ``StrategiesError/trainingDiverged(component:step:message:)`` for a non-finite loss.
    public static func run(features: ForecastFeatures, configuration: MetaReturnConfiguration, walkForward: WalkForwardConfiguration,
                           progress: (@Sendable (String) -> Void)? = nil) throws -> MetaReturnEvaluation {
        let component = "MetaReturnEvaluation"
        let settings = configuration.network
        try settings.validate()
        try configuration.regimes.validate()
        guard let k = features.configuration.horizons.firstIndex(of: settings.horizon) else {
            throw StrategiesError.invalidArgument(component: component, parameter: "horizon",
                                                  message: "\(settings.horizon) is not among the features' horizons \(features.configuration.horizons)")
        }
        let h = settings.horizon, n = features.count, targets = features.targets[k], window = features.configuration.window
        try require(walkForward.testBlockLength >= 1, component, "testBlockLength", "must be ≥ 1, not \(walkForward.testBlockLength)")
        try require(walkForward.testStride >= 1, component, "testStride", "must be ≥ 1, not \(walkForward.testStride)")
        try require(walkForward.trainingLength.map { $0 >= 2 } ?? true, component, "trainingLength", "must be ≥ 2")
        guard walkForward.firstTestOrigin < n, walkForward.firstTestOrigin - h >= features.firstOrigin + 1 else {
            throw StrategiesError.invalidData(component: component, message: "first test origin \(walkForward.firstTestOrigin) leaves no "
                                              + "training origin (first usable \(features.firstOrigin), horizon \(h), \(n) periods)")
        }
        let names = lineNames(settings.method), logPrices = features.prices.map { Foundation.log($0) }
        var folds: [ForecastEvaluation.Fold] = [], origins: [Int] = [], taskCounts: [[Int]] = []
        var forecasts: [String: [Double]] = [:], majority: [SlopeLabel] = []
        let loss: TaskLoss<MLP<Double>> = { model, data in try meanSquaredErrorLoss(model(data.inputs), data.targets) }
        for (foldIndex, blockStart) in stride(from: walkForward.firstTestOrigin, to: n, by: walkForward.testBlockLength).enumerated() {
            let blockOrigins = Array(stride(from: blockStart, to: Swift.min(blockStart + walkForward.testBlockLength, n), by: walkForward.testStride))
            let lastTraining = blockStart - h
            let firstTraining = walkForward.trainingLength.map { Swift.max(features.firstOrigin, lastTraining - $0 + 1) } ?? features.firstOrigin
            let training = Array(firstTraining...lastTraining)
            folds.append(ForecastEvaluation.Fold(trainingOrigins: firstTraining...lastTraining, testOrigins: blockOrigins.first!...blockOrigins.last!))
            let fitRows = (firstTraining - window + 1)..<(lastTraining + 1)
            var regimeSettings = configuration.regimes
            regimeSettings.seed = mixSeed(configuration.regimes.seed, 3_000 + foldIndex)
            let probabilities = try ForecastRegimeModel(fitting: features, rows: fitRows, configuration: regimeSettings).filteredProbabilities(features)
            let dominant = training.map { t in probabilities[t].indices.max { probabilities[t][$0] < probabilities[t][$1] }! }
            let regimeTasks = try RegimeTask.tiling(origins: training, regimes: dominant, states: regimeSettings.states,
                                                    supportLength: settings.supportLength, queryLength: settings.queryLength,
                                                    embargo: h, horizon: h, stride: settings.taskStride)
            let periodTasks = try SlopePeriodTask.tiling(firstTraining...lastTraining, supportLength: settings.supportLength,
                                                         queryLength: settings.queryLength, embargo: h, horizon: h, stride: settings.taskStride)
            let inputs = configuration.regimeInputs
                ? ForecastFeatures(features, appending: (1...regimeSettings.states).map { "regime\($0)" },
                                   columns: (0..<regimeSettings.states).map { s in probabilities.map { $0[s] } })
                : features
            // One scaled, flattened row per origin from the first training origin (or support start) to the block's end.
            let low = Swift.max(features.firstOrigin, Swift.min(firstTraining, blockStart - h - settings.supportLength + 1))
            let scaler = try inputs.scaler(fittedOn: fitRows)
            let windows = try inputs.windows(at: Array(low...blockOrigins.last!), scaler: scaler)
            let width = windows.shape[1] * windows.shape[2]
            let rows = windows.reshaped([windows.shape[0], width])
            let mean = training.reduce(0) { $0 + targets[$1] } / Double(training.count)
            let deviation = Swift.max((training.reduce(0) { $0 + (targets[$1] - mean) * (targets[$1] - mean) } / Double(training.count - 1)).squareRoot(), 1e-12)
            func data(_ selected: [Int], _ name: String) throws -> TaskData<Double> {
                try TaskData(inputs: rows.indexSelected(alongAxis: 0, indices: selected.map { $0 - low }),
                             targets: Tensor(shape: [selected.count, 1], scalars: selected.map { (targets[$0] - mean) / deviation }), name: name)
            }
            func metaTask(_ support: [Int], _ query: [Int], _ name: String) throws -> MetaTask<Double> {
                MetaTask(support: try data(support, "support of \(name)"), query: try data(query, "query of \(name)"), name: name)
            }
            var generator = Xoshiro256StarStar(seed: mixSeed(settings.seed, 2_000 + foldIndex))
            let initial = try MLP<Double>(sizes: [width, settings.hiddenSize, 1], activation: .relu, using: &generator)
            var regimeGenerator = Xoshiro256StarStar(seed: mixSeed(settings.seed, 4_000 + foldIndex))
            let groups = (0..<regimeSettings.states).map { s in regimeTasks.indices.filter { regimeTasks[$0].regime == s } }.filter { !$0.isEmpty }
            let regimeModel = try SlopeClassifierEvaluation.metaTrain(
                initial, tasks: try regimeTasks.enumerated().map { try metaTask($1.support, $1.query, "regime \($1.regime) task \($0)") },
                groups: groups, configuration: settings, component: component, loss: loss, generator: &regimeGenerator)
            var periodGenerator = Xoshiro256StarStar(seed: mixSeed(settings.seed, 5_000 + foldIndex))
            let periodModel = try SlopeClassifierEvaluation.metaTrain(
                initial, tasks: try periodTasks.enumerated().map { try metaTask(Array($1.support), Array($1.query), "period \($0)") },
                configuration: settings, component: component, loss: loss, generator: &periodGenerator)
            let pooledModel = try SlopeClassifierEvaluation.trainConventionally(initial, data: try data(training, "training"),
                                                                                configuration: settings, component: component, loss: loss,
                                                                                generator: &generator)
            for (name, model) in zip(names, [regimeModel, periodModel, pooledModel]) {
                let adapter = try MAML(model, innerLearningRate: settings.innerLearningRate, innerSteps: settings.adaptationSteps)
                forecasts[name, default: []] += try blockOrigins.map { t in
                    // Targets of origins ≤ t − h are known at t.
                    let supportEnd = t - h, supportStart = Swift.max(low, supportEnd - settings.supportLength + 1)
                    let adapted = try adapter.adapted(to: try data(Array(supportStart...supportEnd), "support at \(t)"), loss: loss)
                    let z = withoutGradients { adapted(rows.sliced(alongAxis: 0, from: t - low, to: t - low + 1)).scalars[0] }
                    return mean + deviation * z
                }
            }
            forecasts[names[3], default: []] += blockOrigins.map { t in
                mean + deviation * withoutGradients { pooledModel(rows.sliced(alongAxis: 0, from: t - low, to: t - low + 1)).scalars[0] }
            }
            for baseline in NaiveBaseline.allCases {
                forecasts[baseline.rawValue, default: []] += try baseline.forecasts(logPrices: logPrices, horizon: h, trainingOrigins: training,
                                                                                    origins: blockOrigins)
            }
            let mode = majorityClass(training.compactMap { features.slopeLabels[k][$0] })
            majority += blockOrigins.map { _ in mode }
            taskCounts.append((0..<regimeSettings.states).map { s in regimeTasks.filter { $0.regime == s }.count })
            origins += blockOrigins
            progress?("meta return forecaster fold \(foldIndex + 1) (test \(blockOrigins.first!)–\(blockOrigins.last!)): "
                      + "regime tasks \(taskCounts.last!.map(String.init).joined(separator: "/")), \(periodTasks.count) period tasks")
        }
        let scored = origins.indices.filter { origins[$0] + h < n }
        guard scored.count >= 2 else {
            throw StrategiesError.invalidData(component: component, message: "fewer than 2 test origins have a known \(h)-period target")
        }
        let report = try ForecastScoring.horizonReport(
            horizon: h, realized: scored.map { targets[origins[$0]] }, actualClasses: scored.map { features.slopeLabels[k][origins[$0]]! },
            models: names.map { name in (name, scored.map { forecasts[name]![$0] }) },
            baselines: NaiveBaseline.allCases.map { b in (b.rawValue, scored.map { forecasts[b.rawValue]![$0] }) },
            majority: scored.map { majority[$0] }, strongSlope: features.configuration.strongSlope)
        return MetaReturnEvaluation(configuration: configuration, folds: folds, origins: origins, forecasts: forecasts, report: report,
                                    regimeTaskCounts: taskCounts)
    }
}

extension ForecastScoring {
    /// The scores of `models` (kind `model`, no variance) and `baselines` on `realized`, with Diebold–Mariano
    /// tests of each model against the baseline of lowest MSE, and the majority classifier's slope scores.
    static func horizonReport(horizon h: Int, realized: [Double], actualClasses: [SlopeLabel], models: [(String, [Double])],
                              baselines: [(String, [Double])], majority: [SlopeLabel], strongSlope: Double) throws -> HorizonReport {
        let best = baselines.min { mse($0.1, realized) < mse($1.1, realized) }!
        let bestErrors = zip(realized, best.1).map { $0 - $1 }
        let entries = models.map { ($0.0, $0.1, true) } + baselines.map { ($0.0, $0.1, false) }
        let scores = try entries.map { name, forecast, isModel in
            let classes = classification(forecast.map { slopeClass(logReturn: $0, horizon: h, strong: strongSlope) }, actualClasses)
            return ForecastScore(name: name, kind: isModel ? .model : .baseline, mse: mse(forecast, realized), mae: mae(forecast, realized),
                                 directionAccuracy: directionAccuracy(forecast, realized), slopeAccuracy: classes.accuracy,
                                 slopeMacroF1: classes.macroF1,
                                 dieboldMariano: isModel ? try DieboldMariano.test(zip(realized, forecast).map { $0 - $1 }, bestErrors, horizon: h) : nil,
                                 meanVariance: nil, intervalCoverage90: nil)
        }
        let majorityScores = classification(majority, actualClasses)
        return HorizonReport(horizon: h, count: realized.count, bestBaseline: best.0, scores: scores,
                             majorityAccuracy: majorityScores.accuracy, majorityMacroF1: majorityScores.macroF1)
    }
}
