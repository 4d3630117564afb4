import Autodiff
import NN

/// A meta-learner whose inner loop is differentiable gradient descent from meta-learned parameters:
/// ``MAML`` (second or first order, ANIL through a ``ParameterSelection``) and ``MetaSGD``.
///
/// The learn2learn-style loop, written out:
///
/// ```swift
/// for _ in 0..<iterations {
///     var sum: MetaGradients<Double>? = nil
///     for task in try sampler.metaBatch(size: 25, using: &generator) {
///         var learner = maml.clone()                              // connected to the meta-parameters
///         try learner.adapt(on: task.support, steps: 1, loss: mse) // differentiable inner step
///         let queryLoss = try mse(learner.module, task.query)
///         let g = try learner.metaGradients(of: queryLoss)         // evaluation_loss.backward()
///         sum = sum.map { $0.adding(g) } ?? g
///     }
///     try maml.apply(sum!.scaled(by: 1.0 / 25), optimizer: &adam)  // optimizer.step()
/// }
/// ```
///
/// ``metaStep(on:optimizer:loss:)`` does exactly this; ``adapted(to:steps:loss:)`` is the
/// deployment call (trained meta-model + recent data → adapted module).
public protocol GradientBasedMetaLearner<Model>: Sendable {
    /// The network being meta-learned.
    associatedtype Model: Module

    /// The meta-learned model (its parameters are the initialization the inner loop starts from).
    var model: Model { get }
    /// Inner steps per task in ``metaStep(on:optimizer:loss:)`` and, by default, at deployment.
    var innerSteps: Int { get }
    /// The keys the inner loop adapts, in state-dict order.
    var adaptedKeys: [String] { get }
    /// The current inner step size of each adapted key: a scalar for ``MAML``, one per element for ``MetaSGD``.
    var innerLearningRates: [String: Tensor<Model.Scalar>] { get }
    /// The inner update rule (``InnerOptimizer/sgd`` unless a conformer says otherwise).
    var innerOptimizer: InnerOptimizer { get }

    /// A learner connected to fresh variables holding the meta-parameters (learn2learn's `clone()`).
    func clone() -> Learner<Model>

    /// One meta-optimizer step on averaged meta-gradients (learn2learn's `optimizer.step()`).
    ///
    /// - Throws: ``MetaLearnError/unknownParameter(key:)`` for a gradient key that is not meta-learned, and the
    ///   optimizer's errors; nothing changes on error.
    mutating func apply<O: Optimizer<Model.Scalar>>(_ gradients: MetaGradients<Model.Scalar>, optimizer: inout O) throws
}

/// What one meta-step saw, averaged over its tasks.
public struct MetaStepReport: Sendable, Hashable {
    /// Tasks in the meta-batch.
    public let taskCount: Int
    /// Mean support loss before adaptation; `nil` with zero inner steps.
    public let supportLossBeforeAdaptation: Double?
    /// Mean query loss after adaptation: the meta-objective.
    public let queryLossAfterAdaptation: Double
    /// Euclidean norm of the averaged meta-gradient.
    public let gradientNorm: Double
}

extension GradientBasedMetaLearner {
    /// The element type.
    public typealias Scalar = Model.Scalar

    /// Plain SGD.
    public var innerOptimizer: InnerOptimizer { .sgd }

    /// The averaged meta-gradient of the post-adaptation query loss over `tasks` (nothing is updated).
    ///
    /// For each task: clone, ``innerSteps`` adaptation steps on the support set, query loss, gradient
    /// with respect to the meta-parameters; then the mean over tasks.
    /// - Throws: ``MetaLearnError/noTasks(reason:)`` for an empty meta-batch, and the errors of `loss`,
    ///   ``Learner/adapt(_:)`` and ``Learner/metaGradients(of:)``.
    public func metaGradients(on tasks: [MetaTask<Scalar>], loss: TaskLoss<Model>) throws
        -> (gradients: MetaGradients<Scalar>, report: MetaStepReport) {
        guard !tasks.isEmpty else { throw MetaLearnError.noTasks(reason: "the meta-batch is empty") }
        var sum: MetaGradients<Scalar>? = nil
        var supportTotal = 0.0, queryTotal = 0.0
        for task in tasks {
            var learner = clone()
            let before = try learner.adapt(on: task.support, steps: innerSteps, loss: loss)
            supportTotal += before.first ?? 0
            let queryLoss = try loss(learner.module, task.query)
            let g = try learner.metaGradients(of: queryLoss)
            queryTotal += Double(queryLoss.scalars[0])
            sum = sum.map { $0.adding(g) } ?? g
        }
        let n = Double(tasks.count)
        let mean = sum!.scaled(by: 1 / n)
        return (mean, MetaStepReport(taskCount: tasks.count, supportLossBeforeAdaptation: innerSteps > 0 ? supportTotal / n : nil,
                                     queryLossAfterAdaptation: queryTotal / n, gradientNorm: mean.norm))
    }

    /// One meta-training iteration: ``metaGradients(on:loss:)`` then ``apply(_:optimizer:)``.
    /// - Throws: the errors of both.
    @discardableResult
    public mutating func metaStep<O: Optimizer<Scalar>>(on tasks: [MetaTask<Scalar>], optimizer: inout O,
                                                        loss: TaskLoss<Model>) throws -> MetaStepReport {
        let (gradients, report) = try metaGradients(on: tasks, loss: loss)
        try apply(gradients, optimizer: &optimizer)
        return report
    }

    /// Fast adaptation at deployment: the meta-model after `steps` inner steps on `data` (recent
    /// observations), with constant parameters (no graph is kept between steps).
    ///
    /// - Parameters:
    ///   - data: the recent observations to adapt on.
    ///   - steps: inner steps; ``innerSteps`` when `nil`.
    ///   - loss: the task loss used by the inner steps.
    /// - Throws: ``MetaLearnError/invalidWindow(name:value:requirement:)`` for negative steps, and the
    ///   errors of `loss` (see ``Learner/adapt(_:)``).
    public func adapted(to data: TaskData<Scalar>, steps: Int? = nil, loss: TaskLoss<Model>) throws -> Model {
        try gradientDescentAdaptation(of: model, keys: adaptedKeys, learningRates: innerLearningRates,
                                      optimizer: innerOptimizer, data: data, steps: steps ?? innerSteps, loss: loss)
    }

    /// The parameters by key of ``adapted(to:steps:loss:)``.
    /// - Throws: the errors of ``adapted(to:steps:loss:)``.
    public func adaptedParameters(to data: TaskData<Scalar>, steps: Int? = nil, loss: TaskLoss<Model>) throws
        -> [String: Tensor<Scalar>] {
        Dictionary(uniqueKeysWithValues: try adapted(to: data, steps: steps, loss: loss).namedParameters()
            .map { ($0.key, $0.value) })
    }
}

/// `steps` plain gradient steps `θ ← θ − α ⊙ ∇θ loss(model, data)` (or Adam's) on `keys`, each on fresh variables,
/// calling `observe(step, model)` after 0, 1, …, `steps` steps. Used at deployment and in evaluation.
func gradientDescentAdaptation<Model: Module>(
    of model: Model, keys: [String], learningRates: [String: Tensor<Model.Scalar>], optimizer: InnerOptimizer = .sgd,
    data: TaskData<Model.Scalar>,
    steps: Int, loss: TaskLoss<Model>, observe: (Int, Model) throws -> Void = { _, _ in }
) throws -> Model {
    guard steps >= 0 else { throw MetaLearnError.invalidWindow(name: "steps", value: steps, requirement: "must be ≥ 0") }
    var current = model
    var values = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.key, $0.value.detached()) })
    var moments: [String: (first: Tensor<Model.Scalar>, second: Tensor<Model.Scalar>)] = [:]
    try observe(0, current)
    for step in 0..<steps {
        let variables = keys.map { values[$0]!.requiringGradient() }
        let value = try loss(current.substituting(Dictionary(uniqueKeysWithValues: zip(keys, variables))), data)
        try validateLoss(value, "adaptation step \(step + 1)")
        let gradients = gradient(of: value, wrt: variables)
        withoutGradients {
            for (key, g) in zip(keys, gradients) {
                var state = moments[key]
                values[key] = optimizer.updated(values[key]!, gradient: g, rate: learningRates[key]!.detached(),
                                                moments: &state, step: step + 1)
                moments[key] = state
            }
        }
        current = current.substituting(values)
        try observe(step + 1, current)
    }
    return current
}

/// The trainable parameters of `model` as constants, in state-dict order.
func detachedTrainableParameters<Model: Module>(_ model: Model) -> [(key: String, value: Tensor<Model.Scalar>)] {
    model.namedTrainableParameters().map { ($0.key, $0.value.detached()) }
}

/// Applies `optimizer` to the trainable parameters of `model` with `gradients` (keys must be trainable parameters).
func optimizerUpdate<Model: Module, O: Optimizer<Model.Scalar>>(
    _ model: Model, gradients: [String: Tensor<Model.Scalar>], extra: [String: Tensor<Model.Scalar>] = [:],
    extraGradients: [String: Tensor<Model.Scalar>] = [:], optimizer: inout O
) throws -> (model: Model, extra: [String: Tensor<Model.Scalar>]) {
    let current = Dictionary(uniqueKeysWithValues: detachedTrainableParameters(model))
    if let unknown = gradients.keys.sorted().first(where: { current[$0] == nil }) {
        throw MetaLearnError.unknownParameter(key: unknown)
    }
    if let unknown = extraGradients.keys.sorted().first(where: { extra[$0] == nil }) {
        throw MetaLearnError.unknownParameter(key: unknown)
    }
    // One dictionary, so one optimizer keeps the state of both groups; extra keys get a prefix no state-dict key has.
    var combined = current
    var combinedGradients = gradients
    for (key, value) in extra { combined[extraPrefix + key] = value.detached() }
    for (key, g) in extraGradients { combinedGradients[extraPrefix + key] = g }
    try optimizer.update(&combined, gradients: combinedGradients.mapValues { $0.detached() })
    var updatedExtra: [String: Tensor<Model.Scalar>] = [:]
    for key in extra.keys { updatedExtra[key] = combined.removeValue(forKey: extraPrefix + key)!.detached() }
    return (model.substituting(combined.mapValues { $0.detached() }), updatedExtra)
}

/// Prefix of the non-model entries (learned learning rates) in a shared optimizer dictionary.
private let extraPrefix = "learningRate:"
