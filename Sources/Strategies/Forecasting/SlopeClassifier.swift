import Autodiff
import Foundation
import Linalg
import MetaLearn
import NN
import Signals

/// How the slope classifier's initialization is learned across period tasks.
public enum SlopeMetaMethod: String, Sendable, Hashable, Codable, CaseIterable {
    /// MAML with the full second-order meta-gradient (Finn, Abbeel & Levine 2017).
    case maml
    /// First-order MAML: inner gradients treated as constants (§5.2 of the same paper).
    case firstOrderMAML = "fomaml"
    /// Batched Reptile (Nichol, Achiam & Schulman 2018) with plain SGD inner steps.
    case reptile
}

/// Settings of the meta-learned 4-class slope classifier and of its conventional ablation.
///
/// The network is an MLP over the flattened causal feature window (`window × features → hidden → 4`,
/// ReLU), trained with cross-entropy weighted by inverse class frequency on each fold's training labels.
public struct SlopeClassifierConfiguration: Sendable, Hashable {
    /// The horizon (periods) whose slope label is predicted; one of the features' horizons.
    public var horizon: Int
    /// Hidden units of the MLP.
    public var hiddenSize: Int
    /// Meta-learning algorithm.
    public var method: SlopeMetaMethod
    /// Origins per support window (during meta-training and at each forecast date).
    public var supportLength: Int
    /// Origins per query window of a meta-training task.
    public var queryLength: Int
    /// Origins between the starts of consecutive period tasks.
    public var taskStride: Int
    /// Meta-training iterations per fold.
    public var metaIterations: Int
    /// Period tasks per meta-iteration, drawn with replacement.
    public var metaBatchSize: Int
    /// Adam learning rate of the MAML meta-update.
    public var metaLearningRate: Double
    /// Reptile's outer step `ε`.
    public var reptileStepSize: Double
    /// SGD step size of the inner loop and of the adaptation at each forecast date.
    public var innerLearningRate: Double
    /// Inner steps `k` during meta-training and at each forecast date (≥ 1 for Reptile).
    public var adaptationSteps: Int
    /// Passes over the pooled training origins of the conventional network.
    public var epochs: Int
    /// Rows per Adam step of the conventional network.
    public var batchSize: Int
    /// Adam learning rate of the conventional network.
    public var learningRate: Double
    /// Seed of the initialization, the task draws and the shuffles (each fold derives its own).
    public var seed: UInt64

    /// A configuration; the defaults keep one 8-fold run on daily data near 10 s on one core.
    public init(horizon: Int = 5, hiddenSize: Int = 16, method: SlopeMetaMethod = .maml, supportLength: Int = 63,
                queryLength: Int = 21, taskStride: Int = 21, metaIterations: Int = 100, metaBatchSize: Int = 4,
                metaLearningRate: Double = 1e-3, reptileStepSize: Double = 0.1, innerLearningRate: Double = 0.05,
                adaptationSteps: Int = 1, epochs: Int = 10, batchSize: Int = 64, learningRate: Double = 1e-3, seed: UInt64 = 1) {
        self.horizon = horizon
        self.hiddenSize = hiddenSize
        self.method = method
        self.supportLength = supportLength
        self.queryLength = queryLength
        self.taskStride = taskStride
        self.metaIterations = metaIterations
        self.metaBatchSize = metaBatchSize
        self.metaLearningRate = metaLearningRate
        self.reptileStepSize = reptileStepSize
        self.innerLearningRate = innerLearningRate
        self.adaptationSteps = adaptationSteps
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
    }

    /// Throws unless every field is in its domain.
    func validate() throws {
        let c = "SlopeClassifier"
        try require(horizon >= 1, c, "horizon", "must be ≥ 1, not \(horizon)")
        try require(hiddenSize >= 1, c, "hiddenSize", "must be ≥ 1, not \(hiddenSize)")
        try require(supportLength >= 1, c, "supportLength", "must be ≥ 1, not \(supportLength)")
        try require(queryLength >= 1, c, "queryLength", "must be ≥ 1, not \(queryLength)")
        try require(taskStride >= 1, c, "taskStride", "must be ≥ 1, not \(taskStride)")
        try require(metaIterations >= 1, c, "metaIterations", "must be ≥ 1, not \(metaIterations)")
        try require(metaBatchSize >= 1, c, "metaBatchSize", "must be ≥ 1, not \(metaBatchSize)")
        for (name, value) in [("metaLearningRate", metaLearningRate), ("reptileStepSize", reptileStepSize),
                              ("innerLearningRate", innerLearningRate), ("learningRate", learningRate)] {
            try require(value.isFinite && value > 0, c, name, "must be finite and > 0, not \(value)")
        }
        try require(adaptationSteps >= (method == .reptile ? 1 : 0), c, "adaptationSteps",
                    "must be ≥ \(method == .reptile ? 1 : 0) for \(method.rawValue), not \(adaptationSteps)")
        try require(epochs >= 1, c, "epochs", "must be ≥ 1, not \(epochs)")
        try require(batchSize >= 1, c, "batchSize", "must be ≥ 1, not \(batchSize)")
    }
}

/// One chronological meta-training task over forecast origins: a support window, an embargo of
/// unused origins, then a query window.
///
/// With an embargo of at least the horizon, the label of the last support origin `s` (which uses the
/// price at `s + h`) is known before the first query origin, so no support label overlaps the query.
public struct SlopePeriodTask: Sendable, Hashable, Codable {
    /// Support origins.
    public let support: ClosedRange<Int>
    /// Query origins, after `support` and the embargo.
    public let query: ClosedRange<Int>

    /// Tasks tiling `origins` from the newest backwards (so the latest data always forms a task), in time
    /// order: each query window ends `stride` origins after the previous one.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a non-positive
    ///   length or stride, or an embargo below `horizon`; ``StrategiesError/invalidData(component:message:)``
    ///   when `origins` is too short for one task.
    public static func tiling(_ origins: ClosedRange<Int>, supportLength: Int, queryLength: Int, embargo: Int,
                              horizon: Int, stride: Int) throws -> [SlopePeriodTask] {
        let c = "SlopePeriodTask"
        try require(supportLength >= 1 && queryLength >= 1, c, "supportLength, queryLength",
                    "must be ≥ 1, not \(supportLength), \(queryLength)")
        try require(stride >= 1, c, "stride", "must be ≥ 1, not \(stride)")
        try require(horizon >= 1 && embargo >= horizon, c, "embargo", "must be ≥ horizon \(horizon) ≥ 1, not \(embargo)")
        var tasks: [SlopePeriodTask] = []
        var queryEnd = origins.upperBound
        while queryEnd - queryLength - embargo - supportLength + 1 >= origins.lowerBound {
            let queryStart = queryEnd - queryLength + 1, supportEnd = queryStart - embargo - 1
            tasks.append(SlopePeriodTask(support: (supportEnd - supportLength + 1)...supportEnd, query: queryStart...queryEnd))
            queryEnd -= stride
        }
        guard !tasks.isEmpty else {
            throw StrategiesError.invalidData(component: c, message: "origins \(origins) hold no task of \(supportLength) support, "
                                              + "\(embargo) embargo and \(queryLength) query origins")
        }
        return tasks.reversed()
    }
}

/// The small classifier network and its class-weighted loss.
enum SlopeNetwork {
    /// An MLP `inputs → hidden → 4` drawn from `generator`.
    static func make(inputs: Int, hidden: Int, using generator: inout Xoshiro256StarStar) throws -> MLP<Double> {
        try MLP<Double>(sizes: [inputs, hidden, SlopeLabel.allCases.count], activation: .relu, using: &generator)
    }

    /// `n / (4 nᵢ)` for each class present in `labels` (inverse frequency, mean weight 1 over the
    /// examples), 1 for an absent class (it is never a target, so its weight is unused).
    static func classWeights(_ labels: [SlopeLabel]) -> [Double] {
        let n = Double(labels.count), k = Double(SlopeLabel.allCases.count)
        return SlopeLabel.allCases.map { c in
            let count = Double(labels.filter { $0 == c }.count)
            return count > 0 ? n / (k * count) : 1
        }
    }

    /// Weighted cross-entropy of `model` on `data` (targets hold class indices as values).
    static func loss(classWeights: [Double]) -> TaskLoss<MLP<Double>> {
        let weights = Tensor<Double>(classWeights)
        return { model, data in
            try crossEntropyLoss(logits: model(data.inputs), classIndices: data.targets.scalars.map { Int($0) }, classWeights: weights)
        }
    }

    /// The class probabilities (softmax of the logits) for one row per example.
    static func probabilities(_ model: MLP<Double>, _ inputs: Tensor<Double>) -> [[Double]] {
        let p = withoutGradients { model(inputs).softmax(alongAxis: 1).scalars }
        let k = SlopeLabel.allCases.count
        return (0..<(p.count / k)).map { Array(p[($0 * k)..<(($0 + 1) * k)]) }
    }

    /// The most probable class (the lower class on a tie).
    static func argmax(_ p: [Double]) -> SlopeLabel {
        SlopeLabel(rawValue: p.indices.max { p[$0] != p[$1] ? p[$0] < p[$1] : $0 > $1 }!)!
    }
}

/// The most frequent label, the lower class on a tie (`.up` when empty).
func majorityClass(_ labels: [SlopeLabel]) -> SlopeLabel {
    let counts = Dictionary(grouping: labels, by: { $0 }).mapValues(\.count)
    return counts.max { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }?.key ?? .up
}

/// A walk-forward evaluation of the meta-learned slope classifier, the same network trained
/// conventionally, and the majority class.
///
/// Protocol per test block starting at origin `s`: the training origins are those `t ≤ s − h` (their
/// labels are known at `s`), the last `walkForward.trainingLength` of them; the scaler and the class
/// weights are fitted on them. The meta-learner is trained on ``SlopePeriodTask``s tiling them (support,
/// embargo of `h`, query); the conventional network, from the same initialization, on all of them pooled.
/// At each test origin `t` both are adapted with `k` SGD steps on the latest support window (origins
/// `t − h − support + 1 … t − h`, whose labels are known at `t`) and predict the class of `t`. The
/// majority classifier predicts the most frequent training class. No prediction uses a price after its origin.
public struct SlopeClassifierEvaluation: Sendable {
    /// Accuracy and macro-F1 of one classifier over the scored test origins.
    public struct Scores: Sendable, Hashable, Codable {
        /// Share of correct classes.
        public let accuracy: Double
        /// Macro-F1 (scikit-learn's convention, see ``ForecastScoring/classification(_:_:)``).
        public let macroF1: Double
    }

    /// The settings used.
    public let configuration: SlopeClassifierConfiguration
    /// The refits, in time order.
    public let folds: [ForecastEvaluation.Fold]
    /// Test origins, ascending (predictions are made at each, also where the label is not yet known).
    public let origins: [Int]
    /// Realized classes at the test origins (`nil` in the last `h` periods).
    public let actual: [SlopeLabel?]
    /// Class probabilities `[origin][class]` of the meta-learned classifier after adaptation.
    public let metaProbabilities: [[Double]]
    /// Class probabilities of the conventionally trained network after the same adaptation.
    public let conventionalProbabilities: [[Double]]
    /// The majority class of each origin's fold.
    public let majorityPredictions: [SlopeLabel]
    /// Scores of the meta-learned classifier.
    public let meta: Scores
    /// Scores of the conventional network.
    public let conventional: Scores
    /// Scores of the majority class.
    public let majority: Scores

    /// Predicted classes of the meta-learned classifier.
    public var metaPredictions: [SlopeLabel] { metaProbabilities.map(SlopeNetwork.argmax) }
    /// Predicted classes of the conventional network.
    public var conventionalPredictions: [SlopeLabel] { conventionalProbabilities.map(SlopeNetwork.argmax) }

    /// Runs the evaluation (see the type's protocol). `walkForward.trainingStride` is not used: every
    /// training origin feeds the tasks and the pooled fit.
    ///
    /// - Parameters:
    ///   - features: causal features and slope labels; `configuration.horizon` must be one of their horizons.
    ///   - configuration: network, meta-learning and training settings.
    ///   - walkForward: the test period, its blocks and the training length.
    ///   - progress: called with a line after each fold.
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a bad setting or a
    ///   horizon the features lack; ``StrategiesError/invalidData(component:message:)`` when a fold has too
    ///   little training data for one period task or no test origin has a known label;
    ///   ``StrategiesError/trainingDiverged(component:step:message:)`` for a non-finite loss.
    public static func run(features: ForecastFeatures, configuration: SlopeClassifierConfiguration,
                           walkForward: WalkForwardConfiguration,
                           progress: (@Sendable (String) -> Void)? = nil) throws -> SlopeClassifierEvaluation {
        let component = "SlopeClassifierEvaluation"
        try configuration.validate()
        guard let k = features.configuration.horizons.firstIndex(of: configuration.horizon) else {
            throw StrategiesError.invalidArgument(component: component, parameter: "horizon",
                                                  message: "\(configuration.horizon) is not among the features' horizons \(features.configuration.horizons)")
        }
        let h = configuration.horizon, n = features.count, labels = features.slopeLabels[k]
        try require(walkForward.testBlockLength >= 1, component, "testBlockLength", "must be ≥ 1, not \(walkForward.testBlockLength)")
        try require(walkForward.testStride >= 1, component, "testStride", "must be ≥ 1, not \(walkForward.testStride)")
        try require(walkForward.trainingLength.map { $0 >= 1 } ?? true, component, "trainingLength", "must be ≥ 1")
        guard walkForward.firstTestOrigin < n, walkForward.firstTestOrigin - h >= features.firstOrigin else {
            throw StrategiesError.invalidData(component: component, message: "first test origin \(walkForward.firstTestOrigin) leaves no "
                                              + "training origin (first usable \(features.firstOrigin), horizon \(h), \(n) periods)")
        }
        var folds: [ForecastEvaluation.Fold] = [], origins: [Int] = []
        var metaProbabilities: [[Double]] = [], conventionalProbabilities: [[Double]] = [], majorityPredictions: [SlopeLabel] = []
        for (foldIndex, blockStart) in stride(from: walkForward.firstTestOrigin, to: n, by: walkForward.testBlockLength).enumerated() {
            let blockOrigins = Array(stride(from: blockStart, to: Swift.min(blockStart + walkForward.testBlockLength, n), by: walkForward.testStride))
            let lastTraining = blockStart - h
            let firstTraining = walkForward.trainingLength.map { Swift.max(features.firstOrigin, lastTraining - $0 + 1) } ?? features.firstOrigin
            let training = firstTraining...lastTraining
            let tasks = try SlopePeriodTask.tiling(training, supportLength: configuration.supportLength, queryLength: configuration.queryLength,
                                                   embargo: h, horizon: h, stride: configuration.taskStride)
            folds.append(ForecastEvaluation.Fold(trainingOrigins: training, testOrigins: blockOrigins.first!...blockOrigins.last!))
            // One scaled, flattened row per origin from the first training origin (or support start) to the block's end.
            let low = Swift.max(features.firstOrigin, Swift.min(firstTraining, blockStart - h - configuration.supportLength + 1))
            let scaler = try features.scaler(fittedOn: (firstTraining - features.configuration.window + 1)..<(lastTraining + 1))
            let windows = try features.windows(at: Array(low...blockOrigins.last!), scaler: scaler)
            let width = windows.shape[1] * windows.shape[2]
            let rows = windows.reshaped([windows.shape[0], width])
            func data(_ range: ClosedRange<Int>, _ name: String) throws -> TaskData<Double> {
                try TaskData(inputs: rows.sliced(alongAxis: 0, from: range.lowerBound - low, to: range.upperBound - low + 1),
                             targets: Tensor(range.map { Double(labels[$0]!.rawValue) }), name: name)
            }
            let trainingLabels = training.map { labels[$0]! }
            let loss = SlopeNetwork.loss(classWeights: SlopeNetwork.classWeights(trainingLabels))
            var generator = Xoshiro256StarStar(seed: mixSeed(configuration.seed, 2_000 + foldIndex))
            let initial = try SlopeNetwork.make(inputs: width, hidden: configuration.hiddenSize, using: &generator)
            let metaTasks = try tasks.enumerated().map { i, task in
                MetaTask(support: try data(task.support, "support \(i)"), query: try data(task.query, "query \(i)"), name: "period \(i)")
            }
            let metaModel = try metaTrain(initial, tasks: metaTasks, configuration: configuration, loss: loss, generator: &generator)
            let pooled = try data(training, "training")
            let conventionalModel = try trainConventionally(initial, data: pooled, configuration: configuration, loss: loss, generator: &generator)
            let mode = majorityClass(trainingLabels)
            func adaptedProbabilities(_ model: MLP<Double>) throws -> [[Double]] {
                let adapter = try MAML(model, innerLearningRate: configuration.innerLearningRate, innerSteps: configuration.adaptationSteps)
                return try blockOrigins.flatMap { t in
                    // Labels of origins ≤ t − h are known at t.
                    let supportEnd = t - h, supportStart = Swift.max(features.firstOrigin, supportEnd - configuration.supportLength + 1)
                    let adapted = try adapter.adapted(to: try data(supportStart...supportEnd, "support at \(t)"), loss: loss)
                    return SlopeNetwork.probabilities(adapted, rows.sliced(alongAxis: 0, from: t - low, to: t - low + 1))
                }
            }
            metaProbabilities += try adaptedProbabilities(metaModel)
            conventionalProbabilities += try adaptedProbabilities(conventionalModel)
            majorityPredictions += blockOrigins.map { _ in mode }
            origins += blockOrigins
            progress?("slope classifier fold \(foldIndex + 1) (test \(blockOrigins.first!)–\(blockOrigins.last!)): "
                      + "\(tasks.count) period tasks, \(training.count) training origins")
        }
        let actual = origins.map { labels[$0] }
        let scored = actual.indices.filter { actual[$0] != nil }
        guard !scored.isEmpty else {
            throw StrategiesError.invalidData(component: component, message: "no test origin has a known \(h)-period label")
        }
        func scores(_ predicted: [SlopeLabel]) -> Scores {
            let s = ForecastScoring.classification(scored.map { predicted[$0] }, scored.map { actual[$0]! })
            return Scores(accuracy: s.accuracy, macroF1: s.macroF1)
        }
        return SlopeClassifierEvaluation(
            configuration: configuration, folds: folds, origins: origins, actual: actual, metaProbabilities: metaProbabilities,
            conventionalProbabilities: conventionalProbabilities, majorityPredictions: majorityPredictions,
            meta: scores(metaProbabilities.map(SlopeNetwork.argmax)),
            conventional: scores(conventionalProbabilities.map(SlopeNetwork.argmax)), majority: scores(majorityPredictions))
    }

    /// Meta-trains `initial` on `tasks` with the configured method; each iteration draws a meta-batch
    /// with replacement from `generator`: uniformly over `tasks`, or, with `groups` (non-empty lists of
    /// task indices), a group uniformly and then a task of it, so that every group weighs the same.
    /// A non-finite loss throws naming `component`.
    static func metaTrain(_ initial: MLP<Double>, tasks: [MetaTask<Double>], groups: [[Int]]? = nil,
                          configuration: SlopeClassifierConfiguration, component: String = "SlopeClassifier",
                          loss: TaskLoss<MLP<Double>>, generator: inout Xoshiro256StarStar) throws -> MLP<Double> {
        func draw(_ count: Int) -> Int { Int(generator.next() % UInt64(count)) }
        func batch() -> [MetaTask<Double>] {
            (0..<configuration.metaBatchSize).map { _ in
                guard let groups else { return tasks[draw(tasks.count)] }
                let group = groups[draw(groups.count)]
                return tasks[group[draw(group.count)]]
            }
        }
        func check(_ value: Double, _ step: Int) throws {
            guard value.isFinite else {
                throw StrategiesError.trainingDiverged(component: component, step: step, message: "meta-training loss is \(value)")
            }
        }
        switch configuration.method {
        case .maml, .firstOrderMAML:
            var maml = try MAML(initial, innerLearningRate: configuration.innerLearningRate, innerSteps: configuration.adaptationSteps,
                                firstOrder: configuration.method == .firstOrderMAML)
            var adam = try Adam<Double>(learningRate: configuration.metaLearningRate)
            for step in 0..<configuration.metaIterations {
                try check(try maml.metaStep(on: batch(), optimizer: &adam, loss: loss).queryLossAfterAdaptation, step)
            }
            return maml.model
        case .reptile:
            var reptile = try Reptile(initial, innerSteps: configuration.adaptationSteps, outerStepSize: configuration.reptileStepSize)
            let inner = try SGD<Double>(learningRate: configuration.innerLearningRate)
            for step in 0..<configuration.metaIterations {
                try check(try reptile.batchedStep(on: batch(), innerOptimizer: inner, loss: loss), step)
            }
            return reptile.model
        }
    }

    /// Trains `initial` with Adam on mini-batches of `data` (the ablation without meta-learning).
    static func trainConventionally(_ initial: MLP<Double>, data: TaskData<Double>, configuration: SlopeClassifierConfiguration,
                                    component: String = "SlopeClassifier",
                                    loss: TaskLoss<MLP<Double>>, generator: inout Xoshiro256StarStar) throws -> MLP<Double> {
        var parameters = initial.parameters()
        var optimizer = try Adam<Double>(learningRate: configuration.learningRate)
        var order = Array(0..<data.count), step = 0
        for _ in 0..<configuration.epochs {
            shuffle(&order, using: &generator)
            for start in stride(from: 0, to: order.count, by: configuration.batchSize) {
                let rows = Array(order[start..<Swift.min(start + configuration.batchSize, order.count)])
                let batch = try TaskData(inputs: data.inputs.indexSelected(alongAxis: 0, indices: rows),
                                         targets: data.targets.indexSelected(alongAxis: 0, indices: rows), name: "batch")
                let variables = parameters.map { $0.requiringGradient() }
                let value = try loss(try initial.replacingParameters(variables), batch)
                guard value.scalar.isFinite else {
                    throw StrategiesError.trainingDiverged(component: component, step: step, message: "training loss is \(value.scalar)")
                }
                try optimizer.update(&parameters, gradients: gradient(of: value, wrt: variables))
                step += 1
            }
        }
        return try initial.replacingParameters(parameters)
    }
}
