import Autodiff
import NN

/// Reptile: Nichol, Achiam & Schulman, "On first-order meta-learning algorithms", arXiv:1803.02999 (2018).
///
/// For a task, train a copy of the model for ``innerSteps`` steps of an ordinary optimizer on the
/// support set, giving `W`; then move the initialization towards it:
///
/// - serial (Algorithm 1): for each task in turn, `θ ← θ + ε (W − θ)`;
/// - batched (Algorithm 2): `θ ← θ + ε · (1/n) Σᵢ (Wᵢ − θ)`, every `Wᵢ` from the same `θ`;
/// - with a meta-optimizer: `(1/n) Σᵢ (θ − Wᵢ)` is fed to Adam as a gradient (§6 of the paper).
///
/// No second derivatives are needed; the inner optimizer is any NN `Optimizer` (SGD, Adam), started
/// from a fresh state for every task.
public struct Reptile<Model: Module>: Sendable {
    /// The element type.
    public typealias Scalar = Model.Scalar

    /// The meta-learned initialization.
    public private(set) var model: Model
    /// `k`, inner optimizer steps per task (≥ 1).
    public let innerSteps: Int
    /// `ε`, the outer step size of ``serialStep(on:innerOptimizer:loss:)`` and
    /// ``batchedStep(on:innerOptimizer:loss:)`` (the paper anneals it linearly to 0; set it between steps).
    public var outerStepSize: Double

    /// Wraps `model`.
    /// - Throws: ``MetaLearnError/invalidHyperparameter(owner:name:value:requirement:)`` for `k < 1` or a
    ///   non-finite or negative `ε`.
    public init(_ model: Model, innerSteps: Int = 5, outerStepSize: Double = 0.1) throws {
        try require(innerSteps >= 1, "Reptile", "innerSteps", Double(innerSteps), "must be ≥ 1")
        try require(outerStepSize.isFinite && outerStepSize >= 0, "Reptile", "outerStepSize", outerStepSize,
                    "must be finite and ≥ 0")
        let trainable = detachedTrainableParameters(model)
        self.model = model.substituting(Dictionary(uniqueKeysWithValues: trainable.map { ($0.key, $0.value) }))
        self.innerSteps = innerSteps
        self.outerStepSize = outerStepSize
    }

    /// `W`: the model after `steps` (default ``innerSteps``) updates of `innerOptimizer` (with its state
    /// reset) on `data`. Also the deployment call for a Reptile-trained model.
    /// - Throws: ``MetaLearnError/invalidWindow(name:value:requirement:)`` for negative steps, the errors of
    ///   `loss` and of the optimizer.
    public func adapted<O: Optimizer<Scalar>>(to data: TaskData<Scalar>, innerOptimizer: O, steps: Int? = nil,
                                              loss: TaskLoss<Model>) throws -> Model {
        var optimizer = innerOptimizer
        optimizer.state.reset()
        return try trainingSteps(model, data: data, steps: steps ?? innerSteps, optimizer: &optimizer, loss: loss).model
    }

    /// `(1/n) Σᵢ (θ − Wᵢ)` over `tasks` (the Reptile direction as a gradient) and the mean support loss
    /// before the first inner step.
    /// - Throws: ``MetaLearnError/noTasks(reason:)`` for no tasks, and the errors of ``adapted(to:innerOptimizer:steps:loss:)``.
    public func metaGradients<O: Optimizer<Scalar>>(on tasks: [MetaTask<Scalar>], innerOptimizer: O,
                                                    loss: TaskLoss<Model>) throws
        -> (gradients: MetaGradients<Scalar>, supportLoss: Double) {
        guard !tasks.isEmpty else { throw MetaLearnError.noTasks(reason: "the meta-batch is empty") }
        let theta = Dictionary(uniqueKeysWithValues: detachedTrainableParameters(model))
        var sum = MetaGradients<Scalar>(parameters: theta.mapValues { Tensor.zeros(like: $0) })
        var lossTotal = 0.0
        for task in tasks {
            var optimizer = innerOptimizer
            optimizer.state.reset()
            let result = try trainingSteps(model, data: task.support, steps: innerSteps, optimizer: &optimizer, loss: loss)
            lossTotal += result.firstLoss ?? 0
            let w = Dictionary(uniqueKeysWithValues: detachedTrainableParameters(result.model))
            let difference = withoutGradients { Dictionary(uniqueKeysWithValues: theta.map { key, t in (key, t - w[key]!) }) }
            sum = sum.adding(MetaGradients(parameters: difference))
        }
        return (sum.scaled(by: 1 / Double(tasks.count)), lossTotal / Double(tasks.count))
    }

    /// Serial Reptile (Algorithm 1): for each task in order, `θ ← θ + ε (W − θ)`. Returns the mean support
    /// loss before adaptation.
    /// - Throws: the errors of ``adapted(to:innerOptimizer:steps:loss:)``; the model is unchanged on error.
    @discardableResult
    public mutating func serialStep<O: Optimizer<Scalar>>(on tasks: [MetaTask<Scalar>], innerOptimizer: O,
                                                          loss: TaskLoss<Model>) throws -> Double {
        guard !tasks.isEmpty else { throw MetaLearnError.noTasks(reason: "the meta-batch is empty") }
        var copy = self
        var total = 0.0
        for task in tasks {
            let (g, supportLoss) = try copy.metaGradients(on: [task], innerOptimizer: innerOptimizer, loss: loss)
            copy.move(by: g, stepSize: outerStepSize)
            total += supportLoss
        }
        self = copy
        return total / Double(tasks.count)
    }

    /// Batched Reptile (Algorithm 2): `θ ← θ + ε · (1/n) Σᵢ (Wᵢ − θ)`. Returns the mean support loss before adaptation.
    /// - Throws: the errors of ``metaGradients(on:innerOptimizer:loss:)``; the model is unchanged on error.
    @discardableResult
    public mutating func batchedStep<O: Optimizer<Scalar>>(on tasks: [MetaTask<Scalar>], innerOptimizer: O,
                                                           loss: TaskLoss<Model>) throws -> Double {
        let (g, supportLoss) = try metaGradients(on: tasks, innerOptimizer: innerOptimizer, loss: loss)
        move(by: g, stepSize: outerStepSize)
        return supportLoss
    }

    /// Batched Reptile with `metaOptimizer` applied to `(1/n) Σᵢ (θ − Wᵢ)` instead of the plain step `ε`.
    /// - Throws: the errors of ``metaGradients(on:innerOptimizer:loss:)`` and of the meta-optimizer.
    @discardableResult
    public mutating func metaStep<Inner: Optimizer<Scalar>, Outer: Optimizer<Scalar>>(
        on tasks: [MetaTask<Scalar>], innerOptimizer: Inner, metaOptimizer: inout Outer, loss: TaskLoss<Model>
    ) throws -> Double {
        let (g, supportLoss) = try metaGradients(on: tasks, innerOptimizer: innerOptimizer, loss: loss)
        model = try optimizerUpdate(model, gradients: g.parameters, optimizer: &metaOptimizer).model
        return supportLoss
    }

    /// `θ ← θ − stepSize · g`.
    private mutating func move(by g: MetaGradients<Scalar>, stepSize: Double) {
        let updated = withoutGradients {
            Dictionary(uniqueKeysWithValues: detachedTrainableParameters(model).map { key, theta in
                (key, theta - Scalar(stepSize) * g.parameters[key]!)
            })
        }
        model = model.substituting(updated)
    }
}

/// `steps` updates of `optimizer` on the trainable parameters of `model` with `loss(model, data)`;
/// returns the model and the loss before the first update (`nil` for zero steps).
func trainingSteps<Model: Module, O: Optimizer<Model.Scalar>>(
    _ model: Model, data: TaskData<Model.Scalar>, steps: Int, optimizer: inout O, loss: TaskLoss<Model>
) throws -> (model: Model, firstLoss: Double?) {
    guard steps >= 0 else { throw MetaLearnError.invalidWindow(name: "steps", value: steps, requirement: "must be ≥ 0") }
    var current = model
    var firstLoss: Double? = nil
    for step in 0..<steps {
        let (value, gradients) = try lossAndGradients(current, operation: "training step \(step + 1)") { try loss($0, data) }
        if firstLoss == nil { firstLoss = value }
        current = try optimizerUpdate(current, gradients: gradients, optimizer: &optimizer).model
    }
    return (current, firstLoss)
}

/// The value of `loss(model)` and its gradients with respect to the trainable parameters of `model`.
func lossAndGradients<Model: Module>(_ model: Model, operation: String, _ loss: (Model) throws -> Tensor<Model.Scalar>)
    throws -> (value: Double, gradients: [String: Tensor<Model.Scalar>]) {
    let parameters = detachedTrainableParameters(model)
    let variables = parameters.map { $0.value.requiringGradient() }
    let keys = parameters.map(\.key)
    let value = try loss(model.substituting(Dictionary(uniqueKeysWithValues: zip(keys, variables))))
    try validateLoss(value, operation)
    let gradients = gradient(of: value, wrt: variables)
    return (Double(value.scalars[0]), Dictionary(uniqueKeysWithValues: zip(keys, gradients)))
}
