import Autodiff
import NN

/// The loss of a model on labeled examples, such as `meanSquaredErrorLoss(model(data.inputs), data.targets)`.
///
/// It must return a scalar computed with recorded operations from `model`'s parameters.
public typealias TaskLoss<Model: Module> = (Model, TaskData<Model.Scalar>) throws -> Tensor<Model.Scalar>

/// Which parameters an inner loop adapts (the rest stay at their meta-learned values).
public enum ParameterSelection: Sendable, Hashable, CustomStringConvertible {
    /// Every trainable parameter (MAML, Meta-SGD).
    case all
    /// The parameters whose key is one of these prefixes or starts with one followed by `.`, such as
    /// `["head"]` to adapt only the output layer: ANIL (Raghu et al., "Rapid learning or feature reuse?
    /// Towards understanding the effectiveness of MAML", ICLR 2020).
    case prefixes([String])

    /// The selected keys among `keys`, in the order of `keys`.
    /// - Throws: ``MetaLearnError/noParametersSelected(selection:)`` when nothing matches, or a prefix matches nothing.
    public func select(from keys: [String]) throws -> [String] {
        switch self {
        case .all:
            guard !keys.isEmpty else { throw MetaLearnError.noParametersSelected(selection: description) }
            return keys
        case .prefixes(let prefixes):
            func matches(_ key: String, _ p: String) -> Bool { key == p || key.hasPrefix(p + ".") }
            if let unmatched = prefixes.first(where: { p in !keys.contains { matches($0, p) } }) {
                throw MetaLearnError.noParametersSelected(selection: "prefix '\(unmatched)'")
            }
            let selected = keys.filter { key in prefixes.contains { matches(key, $0) } }
            guard !selected.isEmpty else { throw MetaLearnError.noParametersSelected(selection: description) }
            return selected
        }
    }

    /// `all` or the prefixes.
    public var description: String {
        switch self {
        case .all: "all"
        case .prefixes(let p): "prefixes \(p)"
        }
    }
}

/// Gradients of a meta-objective with respect to the meta-parameters, by state-dict key.
public struct MetaGradients<Scalar: TensorScalar>: Sendable {
    /// `∂L/∂θ` for every meta-learned (trainable) model parameter.
    public var parameters: [String: Tensor<Scalar>]
    /// `∂L/∂α` for every learned inner learning rate (Meta-SGD); empty otherwise.
    public var learningRates: [String: Tensor<Scalar>]

    /// Gradients as given.
    public init(parameters: [String: Tensor<Scalar>], learningRates: [String: Tensor<Scalar>] = [:]) {
        self.parameters = parameters
        self.learningRates = learningRates
    }

    /// The Euclidean norm over all entries.
    public var norm: Double {
        var total = 0.0
        for g in parameters.values { for x in g.scalars { total += Double(x) * Double(x) } }
        for g in learningRates.values { for x in g.scalars { total += Double(x) * Double(x) } }
        return total.squareRoot()
    }

    /// `self + other`, key by key, as constants (to accumulate over a meta-batch).
    public func adding(_ other: MetaGradients) -> MetaGradients {
        withoutGradients {
            MetaGradients(parameters: parameters.merging(other.parameters, uniquingKeysWith: +),
                          learningRates: learningRates.merging(other.learningRates, uniquingKeysWith: +))
        }
    }

    /// Every entry times `factor`, as constants (`1/n` to average over `n` tasks).
    public func scaled(by factor: Double) -> MetaGradients {
        withoutGradients {
            MetaGradients(parameters: parameters.mapValues { $0 * Scalar(factor) },
                          learningRates: learningRates.mapValues { $0 * Scalar(factor) })
        }
    }
}

/// A copy of a meta-model connected to its meta-parameters, adapted by differentiable gradient steps:
/// learn2learn's `learner = maml.clone()`, `learner.adapt(loss)`.
///
/// Created by ``MAML/clone()`` or ``MetaSGD/clone()``. The meta-parameters are fresh variables; each
/// ``adapt(_:)`` replaces the adapted parameters `θ` by `θ − α ⊙ ∇θ L_support`, recorded on the tape.
/// With second order the gradient is itself recorded (`createGraph: true`), so
/// ``metaGradients(of:)`` differentiates the whole inner loop (Finn et al. 2017, eq. 1); with first
/// order `∇θ L_support` enters as a constant, which gives first-order MAML's update (§5.2).
///
/// A learner is a value: copy it to branch an adaptation. It is discarded after its meta-gradients
/// are taken (they free its graph).
public struct Learner<Model: Module>: Sendable {
    /// The element type.
    public typealias Scalar = Model.Scalar

    /// The module with the current (adapted) parameters; apply it to compute losses.
    public private(set) var module: Model
    /// Current values of the meta-learned parameters by key (adapted ones carry gradient history).
    public private(set) var parameters: [String: Tensor<Scalar>]
    /// The keys the inner loop adapts, in state-dict order.
    public let adaptedKeys: [String]
    /// `true`: inner gradients are treated as constants (first-order MAML).
    public let firstOrder: Bool
    /// Inner steps taken so far.
    public private(set) var stepCount = 0

    /// The meta-parameters this learner was cloned from (leaf variables), by key.
    let metaParameters: [String: Tensor<Scalar>]
    /// The inner step size of each adapted key: a scalar constant (MAML) or a per-element variable (Meta-SGD).
    let learningRates: [String: Tensor<Scalar>]
    /// `true` when `learningRates` are variables whose meta-gradients are wanted.
    let learnsRates: Bool
    /// The differentiable update rule of ``adapt(_:)``.
    public let innerOptimizer: InnerOptimizer
    /// Adam's moments per adapted key (empty for SGD), carrying gradient history.
    var moments: [String: (first: Tensor<Scalar>, second: Tensor<Scalar>)] = [:]

    init(model: Model, metaParameters: [(key: String, value: Tensor<Scalar>)], adaptedKeys: [String],
         learningRates: [String: Tensor<Scalar>], learnsRates: Bool, firstOrder: Bool,
         innerOptimizer: InnerOptimizer = .sgd) {
        let dictionary = Dictionary(uniqueKeysWithValues: metaParameters.map { ($0.key, $0.value) })
        self.module = model.substituting(dictionary)
        self.parameters = dictionary
        self.metaParameters = dictionary
        self.adaptedKeys = adaptedKeys
        self.learningRates = learningRates
        self.learnsRates = learnsRates
        self.firstOrder = firstOrder
        self.innerOptimizer = innerOptimizer
    }

    /// One inner step on `loss`, a scalar computed from ``module``: `θ ← θ − α ⊙ ∇θ loss` for the adapted keys
    /// (or Adam's step, see ``InnerOptimizer``).
    ///
    /// - Throws: ``MetaLearnError/lossNotScalar(operation:shape:)``,
    ///   ``MetaLearnError/nonFiniteLoss(operation:value:)`` and
    ///   ``MetaLearnError/lossDetachedFromParameters(operation:)`` (a loss computed from another module).
    public mutating func adapt(_ loss: Tensor<Scalar>) throws {
        try validateLoss(loss, "Learner.adapt")
        let current = adaptedKeys.map { parameters[$0]! }
        // The graph must survive this pass: the query loss is differentiated through it later.
        let gradients = gradient(of: loss, wrt: current, createGraph: !firstOrder, retainGraph: true)
        var updated: [String: Tensor<Scalar>] = [:]
        for (key, (theta, g)) in zip(adaptedKeys, zip(current, gradients)) {
            var state = moments[key]
            updated[key] = innerOptimizer.updated(theta, gradient: g, rate: learningRates[key]!, moments: &state,
                                                  step: stepCount + 1)
            moments[key] = state
        }
        parameters.merge(updated) { _, new in new }
        module = module.substituting(updated)
        stepCount += 1
    }

    /// One inner step on `loss(module, data)`.
    /// - Throws: the errors of `loss` and of ``adapt(_:)``.
    public mutating func adapt(on data: TaskData<Scalar>, loss: TaskLoss<Model>) throws {
        try adapt(loss(module, data))
    }

    /// `steps` inner steps on the same data; returns the loss before each step.
    /// - Throws: the errors of `loss` and of ``adapt(_:)``.
    @discardableResult
    public mutating func adapt(on data: TaskData<Scalar>, steps: Int, loss: TaskLoss<Model>) throws -> [Double] {
        var losses: [Double] = []
        for _ in 0..<steps {
            let value = try loss(module, data)
            try adapt(value)
            losses.append(Double(value.scalars[0]))
        }
        return losses
    }

    /// The gradient of `loss` (typically the query loss of the adapted ``module``) with respect to the
    /// meta-parameters the learner was cloned from, and to the learned learning rates (Meta-SGD).
    ///
    /// Frees the learner's graph: call it once per learner (learn2learn's `evaluation_loss.backward()`).
    /// - Throws: ``MetaLearnError/lossNotScalar(operation:shape:)``,
    ///   ``MetaLearnError/nonFiniteLoss(operation:value:)``, ``MetaLearnError/lossDetachedFromParameters(operation:)``
    ///   and ``MetaLearnError/nonFiniteGradient(key:)``.
    public func metaGradients(of loss: Tensor<Scalar>) throws -> MetaGradients<Scalar> {
        try validateLoss(loss, "Learner.metaGradients")
        let keys = metaParameters.keys.sorted()
        let rateKeys = learnsRates ? adaptedKeys : []
        let gradients = gradient(of: loss, wrt: keys.map { metaParameters[$0]! } + rateKeys.map { learningRates[$0]! })
        for (key, g) in zip(keys + rateKeys, gradients) where g.scalars.contains(where: { !$0.isFinite }) {
            throw MetaLearnError.nonFiniteGradient(key: key)
        }
        return MetaGradients(
            parameters: Dictionary(uniqueKeysWithValues: zip(keys, gradients.prefix(keys.count))),
            learningRates: Dictionary(uniqueKeysWithValues: zip(rateKeys, gradients.suffix(rateKeys.count))))
    }
}

extension Module {
    /// A copy with the parameters named in `values` replaced (keys known to exist, shapes unchanged).
    func substituting(_ values: [String: Tensor<Scalar>]) -> Self {
        var copy = self
        copy.forEachEntry { entry in
            if entry.kind == .parameter, let value = values[entry.key] { entry.value = value }
        }
        return copy
    }
}
