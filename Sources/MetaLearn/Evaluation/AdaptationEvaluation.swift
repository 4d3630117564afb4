import Autodiff
import NN

/// Query loss after a number of adaptation steps, averaged over held-out tasks.
public struct AdaptationCurve: Sendable, Hashable {
    /// The query loss after one number of steps.
    public struct Point: Sendable, Hashable {
        /// Adaptation steps taken on the support set.
        public let steps: Int
        /// Mean query loss over the tasks.
        public let meanLoss: Double
        /// Sample standard deviation of the per-task query losses (0 for one task).
        public let standardDeviation: Double
        /// Half-width of the normal-approximation 95% confidence interval of the mean, `1.96·s/√n`.
        public let confidenceHalfWidth: Double
    }

    /// One point per requested step count, in the order requested.
    public let points: [Point]
    /// Tasks evaluated.
    public let taskCount: Int

    /// The point for `steps`, if it was evaluated.
    public func point(steps: Int) -> Point? { points.first { $0.steps == steps } }
}

/// Evaluation of an initialization by fast adaptation on held-out tasks (Finn et al. 2017, Fig. 2 and
/// Table 1 protocol): adapt on each task's support set with plain gradient steps, score on its query set.
public enum AdaptationEvaluation {
    /// The query-loss curve of `model` adapted with step size `learningRate` on the `adapting` parameters.
    ///
    /// - Parameters:
    ///   - model: the initialization (meta-learned, pretrained or random).
    ///   - tasks: held-out tasks.
    ///   - learningRate: `α` of the plain gradient steps (≥ 0).
    ///   - steps: the step counts to report (each ≥ 0); one adaptation per task runs to the largest.
    ///   - adapting: the parameters adapted.
    ///   - loss: the task loss (used for adaptation and for the query score).
    /// - Throws: ``MetaLearnError/noTasks(reason:)``, ``MetaLearnError/invalidWindow(name:value:requirement:)``
    ///   for no or negative step counts, ``MetaLearnError/nonFiniteLoss(operation:value:)`` for a diverging
    ///   adaptation, and the errors of `loss`.
    public static func evaluate<Model: Module>(_ model: Model, on tasks: [MetaTask<Model.Scalar>], learningRate: Double,
                                               steps: [Int], adapting: ParameterSelection = .all,
                                               loss: TaskLoss<Model>) throws -> AdaptationCurve {
        try require(learningRate.isFinite && learningRate >= 0, "AdaptationEvaluation", "learningRate", learningRate,
                    "must be finite and ≥ 0")
        let keys = try adapting.select(from: model.namedTrainableParameters().map(\.key))
        let rates = Dictionary(uniqueKeysWithValues: keys.map { ($0, Tensor(Model.Scalar(learningRate))) })
        return try evaluate(model, keys: keys, learningRates: rates, on: tasks, steps: steps, loss: loss)
    }

    /// The query-loss curve of a meta-learner's model adapted with its own inner learning rates and keys
    /// (scalar `α` for ``MAML``, the learned `α` for ``MetaSGD``).
    /// - Throws: as ``evaluate(_:on:learningRate:steps:adapting:loss:)``.
    public static func evaluate<MetaLearner: GradientBasedMetaLearner>(
        _ learner: MetaLearner, on tasks: [MetaTask<MetaLearner.Model.Scalar>], steps: [Int], loss: TaskLoss<MetaLearner.Model>
    ) throws
        -> AdaptationCurve {
        try evaluate(learner.model, keys: learner.adaptedKeys, learningRates: learner.innerLearningRates,
                     optimizer: learner.innerOptimizer, on: tasks, steps: steps, loss: loss)
    }

    static func evaluate<Model: Module>(_ model: Model, keys: [String], learningRates: [String: Tensor<Model.Scalar>],
                                        optimizer: InnerOptimizer = .sgd, on tasks: [MetaTask<Model.Scalar>], steps: [Int], loss: TaskLoss<Model>) throws
        -> AdaptationCurve {
        guard !tasks.isEmpty else { throw MetaLearnError.noTasks(reason: "no tasks to evaluate") }
        guard let maxSteps = steps.max(), let minSteps = steps.min(), minSteps >= 0 else {
            throw MetaLearnError.invalidWindow(name: "steps", value: steps.min() ?? -1,
                                               requirement: "give at least one step count, each ≥ 0")
        }
        var losses = [[Double]](repeating: [], count: maxSteps + 1)
        let wanted = Set(steps)
        for task in tasks {
            _ = try gradientDescentAdaptation(of: model, keys: keys, learningRates: learningRates, optimizer: optimizer,
                                              data: task.support,
                                              steps: maxSteps, loss: loss) { step, adapted in
                guard wanted.contains(step) else { return }
                let value = try withoutGradients { Double(try loss(adapted, task.query).scalars[0]) }
                guard value.isFinite else {
                    throw MetaLearnError.nonFiniteLoss(operation: "query loss of \(task.name) after \(step) steps", value: value)
                }
                losses[step].append(value)
            }
        }
        let points = steps.map { s in
            let xs = losses[s], n = Double(xs.count)
            let mean = xs.reduce(0, +) / n
            let variance = xs.count > 1 ? xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1) : 0
            let sd = variance.squareRoot()
            return AdaptationCurve.Point(steps: s, meanLoss: mean, standardDeviation: sd,
                                         confidenceHalfWidth: 1.96 * sd / n.squareRoot())
        }
        return AdaptationCurve(points: points, taskCount: tasks.count)
    }
}
