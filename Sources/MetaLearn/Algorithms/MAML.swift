import Autodiff
import NN

/// Model-agnostic meta-learning: Finn, Abbeel & Levine, "Model-agnostic meta-learning for fast
/// adaptation of deep networks", ICML 2017.
///
/// Learns an initialization `θ` such that a few inner steps `θ' = θ − α∇θ L_support(θ)` give a low
/// query loss; the meta-gradient `∇θ L_query(θ')` is taken through the inner steps. Works through any
/// NN `Module` (MLP, LSTM, attention, …) because every Autodiff primitive has a differentiable
/// backward rule.
///
/// - Second order (default): the full meta-gradient, including the Hessian terms `(I − α∇²L_support)`.
/// - First order (`firstOrder: true`): the inner gradient is a constant, so the meta-gradient is
///   `∇θ' L_query(θ')` (FOMAML, §5.2 of the paper).
/// - ANIL (`adapting: .prefixes(["head"])`): only the selected parameters are adapted in the inner loop;
///   all trainable parameters are still meta-learned.
///
/// learn2learn's `l2l.algorithms.MAML(model, lr, first_order)` with ``clone()`` and
/// ``Learner/adapt(_:)``; see ``GradientBasedMetaLearner`` for the training loop.
public struct MAML<Model: Module>: GradientBasedMetaLearner {
    /// The meta-learned model; its trainable parameters are the meta-parameters.
    public private(set) var model: Model
    /// `α`, the inner step size (≥ 0).
    public let innerLearningRate: Double
    /// Inner steps per task (≥ 0).
    public let innerSteps: Int
    /// Treat inner gradients as constants (first-order MAML).
    public let firstOrder: Bool
    /// The trainable keys the inner loop adapts.
    public let adaptedKeys: [String]
    /// The differentiable inner update rule (SGD by default).
    public let innerOptimizer: InnerOptimizer

    /// Wraps `model` for meta-learning.
    ///
    /// - Parameters:
    ///   - model: the network; its frozen parameters are neither adapted nor meta-learned.
    ///   - innerLearningRate: `α` (paper: 0.01 for sinusoids).
    ///   - innerSteps: inner steps per task during meta-training (paper: 1).
    ///   - firstOrder: first-order MAML.
    ///   - selection: which trainable parameters the inner loop changes (``ParameterSelection/all``, or a head for ANIL).
    ///   - innerOptimizer: the differentiable inner update (``InnerOptimizer/sgd``, or Adam).
    /// - Throws: ``MetaLearnError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative or
    ///   non-finite `α` or negative steps, ``MetaLearnError/noParametersSelected(selection:)`` when the selection
    ///   matches no trainable parameter.
    public init(_ model: Model, innerLearningRate: Double = 0.01, innerSteps: Int = 1, firstOrder: Bool = false,
                adapting selection: ParameterSelection = .all, innerOptimizer: InnerOptimizer = .sgd) throws {
        try innerOptimizer.validate()
        try require(innerLearningRate.isFinite && innerLearningRate >= 0, "MAML", "innerLearningRate",
                    innerLearningRate, "must be finite and ≥ 0")
        try require(innerSteps >= 0, "MAML", "innerSteps", Double(innerSteps), "must be ≥ 0")
        let trainable = detachedTrainableParameters(model)
        self.adaptedKeys = try selection.select(from: trainable.map(\.key))
        self.model = model.substituting(Dictionary(uniqueKeysWithValues: trainable.map { ($0.key, $0.value) }))
        self.innerLearningRate = innerLearningRate
        self.innerSteps = innerSteps
        self.firstOrder = firstOrder
        self.innerOptimizer = innerOptimizer
    }

    /// `α` for every adapted key, as a scalar tensor.
    public var innerLearningRates: [String: Tensor<Model.Scalar>] {
        Dictionary(uniqueKeysWithValues: adaptedKeys.map { ($0, Tensor(Model.Scalar(innerLearningRate))) })
    }

    /// A learner connected to fresh variables holding the meta-parameters.
    public func clone() -> Learner<Model> {
        Learner(model: model, metaParameters: model.namedTrainableParameters().map { ($0.key, $0.value.requiringGradient()) },
                adaptedKeys: adaptedKeys, learningRates: innerLearningRates, learnsRates: false, firstOrder: firstOrder,
                innerOptimizer: innerOptimizer)
    }

    /// Updates the meta-parameters with `optimizer` (gradients for learning rates must be empty).
    /// - Throws: ``MetaLearnError/unknownParameter(key:)`` and the optimizer's errors; nothing changes on error.
    public mutating func apply<O: Optimizer<Model.Scalar>>(_ gradients: MetaGradients<Model.Scalar>, optimizer: inout O) throws {
        if let key = gradients.learningRates.keys.sorted().first { throw MetaLearnError.unknownParameter(key: key) }
        model = try optimizerUpdate(model, gradients: gradients.parameters, optimizer: &optimizer).model
    }
}

/// Meta-SGD: Li, Zhou, Chen & Li, "Meta-SGD: Learning to learn quickly for few-shot learning", arXiv:1707.09835 (2017).
///
/// MAML with a learned inner learning rate per parameter element: the inner step is
/// `θ' = θ − α ⊙ ∇θ L_support(θ)` and both `θ` and `α` are meta-learned from the query loss.
/// learn2learn's `l2l.algorithms.MetaSGD`.
public struct MetaSGD<Model: Module>: GradientBasedMetaLearner {
    /// The meta-learned model.
    public private(set) var model: Model
    /// `α` per adapted key, shaped like its parameter.
    public private(set) var learningRates: [String: Tensor<Model.Scalar>]
    /// Inner steps per task (≥ 0).
    public let innerSteps: Int
    /// Treat inner gradients as constants (`α` still gets its gradient `−∇θL_support ⊙ ∇θ'L_query`).
    public let firstOrder: Bool
    /// The trainable keys the inner loop adapts.
    public let adaptedKeys: [String]

    /// Wraps `model`, with every element of `α` set to `initialLearningRate`.
    /// - Throws: as ``MAML/init(_:innerLearningRate:innerSteps:firstOrder:adapting:innerOptimizer:)``.
    public init(_ model: Model, initialLearningRate: Double = 0.01, innerSteps: Int = 1, firstOrder: Bool = false,
                adapting selection: ParameterSelection = .all) throws {
        try require(initialLearningRate.isFinite, "MetaSGD", "initialLearningRate", initialLearningRate, "must be finite")
        try require(innerSteps >= 0, "MetaSGD", "innerSteps", Double(innerSteps), "must be ≥ 0")
        let trainable = detachedTrainableParameters(model)
        let keys = try selection.select(from: trainable.map(\.key))
        var rates: [String: Tensor<Model.Scalar>] = [:]
        for (key, value) in trainable where keys.contains(key) {
            rates[key] = Tensor.full(value.shape, Model.Scalar(initialLearningRate))
        }
        self.model = model.substituting(Dictionary(uniqueKeysWithValues: trainable.map { ($0.key, $0.value) }))
        self.learningRates = rates
        self.innerSteps = innerSteps
        self.firstOrder = firstOrder
        self.adaptedKeys = keys
    }

    /// Wraps `model` with given per-element learning rates (for instance trained ones): their keys are the
    /// adapted keys and each has its parameter's shape.
    /// - Throws: ``MetaLearnError/unknownParameter(key:)`` for a key that is not a trainable parameter,
    ///   ``MetaLearnError/invalidHyperparameter(owner:name:value:requirement:)`` for a wrong shape, a non-finite
    ///   rate or negative steps, ``MetaLearnError/noParametersSelected(selection:)`` for no rates.
    public init(_ model: Model, learningRates: [String: Tensor<Model.Scalar>], innerSteps: Int = 1,
                firstOrder: Bool = false) throws {
        try require(innerSteps >= 0, "MetaSGD", "innerSteps", Double(innerSteps), "must be ≥ 0")
        let trainable = detachedTrainableParameters(model)
        let shapes = Dictionary(uniqueKeysWithValues: trainable.map { ($0.key, $0.value.shape) })
        for key in learningRates.keys.sorted() {
            guard let shape = shapes[key] else { throw MetaLearnError.unknownParameter(key: key) }
            let rate = learningRates[key]!
            try require(rate.shape == shape, "MetaSGD", "learningRates[\(key)]", Double(rate.scalarCount),
                        "must have the parameter's shape \(shape.dimensions), not \(rate.shape.dimensions)")
            if let bad = rate.scalars.first(where: { !$0.isFinite }) {
                try require(false, "MetaSGD", "learningRates[\(key)]", Double(bad), "must be finite")
            }
        }
        let keys = trainable.map(\.key).filter { learningRates[$0] != nil }
        guard !keys.isEmpty else { throw MetaLearnError.noParametersSelected(selection: "learning rates for no parameter") }
        self.model = model.substituting(Dictionary(uniqueKeysWithValues: trainable.map { ($0.key, $0.value) }))
        self.learningRates = learningRates.mapValues { $0.detached() }
        self.innerSteps = innerSteps
        self.firstOrder = firstOrder
        self.adaptedKeys = keys
    }

    /// The learned `α` of every adapted key.
    public var innerLearningRates: [String: Tensor<Model.Scalar>] { learningRates }

    /// A learner connected to fresh variables holding the meta-parameters and the learning rates.
    public func clone() -> Learner<Model> {
        Learner(model: model, metaParameters: model.namedTrainableParameters().map { ($0.key, $0.value.requiringGradient()) },
                adaptedKeys: adaptedKeys, learningRates: learningRates.mapValues { $0.requiringGradient() },
                learnsRates: true, firstOrder: firstOrder)
    }

    /// Updates parameters and learning rates with one `optimizer` (its state covers both).
    /// - Throws: ``MetaLearnError/unknownParameter(key:)`` and the optimizer's errors; nothing changes on error.
    public mutating func apply<O: Optimizer<Model.Scalar>>(_ gradients: MetaGradients<Model.Scalar>, optimizer: inout O) throws {
        let result = try optimizerUpdate(model, gradients: gradients.parameters, extra: learningRates,
                                         extraGradients: gradients.learningRates, optimizer: &optimizer)
        model = result.model
        learningRates = result.extra
    }
}
