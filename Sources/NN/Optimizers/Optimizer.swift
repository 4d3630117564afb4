import Autodiff

/// A first-order optimizer: updates parameters in place from their gradients.
///
/// A conforming type implements only the update of one parameter
/// (``step(_:gradient:state:step:)``) and the creation of its per-parameter
/// state; this protocol's extension validates the inputs, keeps the state
/// (moments, momentum buffers, step counts, each shaped like its parameter)
/// and loops over the parameters. The design follows mlx-swift's
/// `MLXOptimizers`; the update rules are PyTorch's (`torch.optim`, the
/// single-tensor algorithms), so the same gradients give the same parameters.
///
/// ```swift
/// var optimizer = try Adam<Double>(learningRate: 1e-3)
/// for _ in 0..<steps {
///     let (loss, gradients) = valueWithGradient(at: parameters) { p in model(p) }
///     try optimizer.update(&parameters, gradients: gradients)
/// }
/// ```
///
/// Updates never record on the autodiff tape: they run as raw element loops.
/// A parameter that required gradients before an update is a fresh leaf
/// variable (`requiringGradient()`) after it.
///
/// Hyperparameters are `Double`; coefficients such as `1 − β₁` are computed in
/// `Double` and rounded to `Scalar` once, as PyTorch does with Python floats.
public protocol Optimizer<Scalar>: Sendable {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar
    /// What the optimizer remembers about one parameter between updates.
    associatedtype ParameterState: Sendable

    /// The step size of the next update. Schedules set it between updates
    /// (see ``LearningRateSchedule``).
    var learningRate: Double { get set }
    /// The per-parameter state, created on a parameter's first update.
    var state: OptimizerState<ParameterState> { get set }

    /// Throws ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)``
    /// when a hyperparameter (including the current learning rate) is out of range.
    func validateHyperparameters() throws
    /// The state of a parameter before its first update (zeros shaped like it, usually).
    func makeState(for parameter: Tensor<Scalar>) -> ParameterState
    /// Applies one update to `parameter` (a constant tensor, modified in place).
    ///
    /// - Parameters:
    ///   - parameter: the values to update; same shape as `gradient`.
    ///   - gradient: `∂loss/∂parameter`.
    ///   - state: this parameter's state, updated in place.
    ///   - step: the number of this update for this parameter, starting at 1.
    func step(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, state: inout ParameterState, step: Int)
}

/// The state an ``Optimizer`` keeps, one entry per parameter.
///
/// Parameters updated as a list are identified by position, parameters
/// updated as a dictionary by name; the two never share entries.
public struct OptimizerState<ParameterState: Sendable>: Sendable {
    /// One parameter's state with the number of updates applied to it and the shape it belongs to.
    public struct Entry: Sendable {
        /// Updates applied so far (PyTorch's `state['step']`).
        public var step: Int
        /// The shape of the parameter the state was created for.
        public var shape: TensorShape
        /// The optimizer-specific state (moments, buffers).
        public var values: ParameterState
    }

    /// State of parameters updated as a list, by position.
    public var indexed: [Entry] = []
    /// State of parameters updated as a dictionary, by name.
    public var named: [String: Entry] = [:]

    /// An empty state: every parameter starts afresh.
    public init() {}

    /// Forgets all state, as a freshly created optimizer.
    public mutating func reset() { self = OptimizerState() }

    /// The state entry of `key`, if that parameter was updated before.
    public func entry(_ key: ParameterKey) -> Entry? {
        switch key {
        case .index(let i): i < indexed.count ? indexed[i] : nil
        case .name(let n): named[n]
        }
    }
}

extension Optimizer {
    /// Updates every parameter from the gradient at the same position.
    ///
    /// All inputs are validated before any parameter changes, so a thrown
    /// error leaves parameters and state as they were.
    ///
    /// - Parameters:
    ///   - parameters: the parameters, in a fixed order (the order must be the same on every call,
    ///     because state is matched by position).
    ///   - gradients: one gradient per parameter, with its shape.
    /// - Throws: ``OptimizerError/gradientCountMismatch(parameters:gradients:)``,
    ///   ``OptimizerError/gradientShapeMismatch(parameter:parameterShape:gradientShape:)``,
    ///   ``OptimizerError/stateShapeMismatch(parameter:stateShape:parameterShape:)`` and
    ///   ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)``.
    public mutating func update(_ parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>]) throws {
        try validateHyperparameters()
        guard parameters.count == gradients.count else {
            throw OptimizerError.gradientCountMismatch(parameters: parameters.count, gradients: gradients.count)
        }
        for i in parameters.indices {
            try checkShapes(.index(i), parameters[i], gradients[i], state.entry(.index(i)))
        }
        for i in parameters.indices {
            if i == state.indexed.count {
                state.indexed.append(.init(step: 0, shape: parameters[i].shape, values: makeState(for: parameters[i])))
            }
            apply(to: &parameters[i], gradient: gradients[i], entry: &state.indexed[i])
        }
    }

    /// Updates the parameters that have a gradient of the same name, as PyTorch skips parameters
    /// whose `grad` is `None` (frozen ones, for instance).
    ///
    /// All inputs are validated before any parameter changes.
    ///
    /// - Parameters:
    ///   - parameters: parameters by name (PyTorch state-dict keys).
    ///   - gradients: gradients by name; a parameter without one is left unchanged and its state
    ///     (including its step count) does not advance.
    /// - Throws: ``OptimizerError/gradientWithoutParameter(name:)`` for a gradient whose name is not a
    ///   parameter, and the shape and hyperparameter errors of ``update(_:gradients:)-([Tensor<Self.Scalar>],_)``.
    public mutating func update(_ parameters: inout [String: Tensor<Scalar>], gradients: [String: Tensor<Scalar>]) throws {
        try validateHyperparameters()
        let names = gradients.keys.sorted()
        for name in names {
            guard let parameter = parameters[name] else { throw OptimizerError.gradientWithoutParameter(name: name) }
            try checkShapes(.name(name), parameter, gradients[name]!, state.named[name])
        }
        for name in names {
            var parameter = parameters.removeValue(forKey: name)!
            var entry = state.named.removeValue(forKey: name)
                ?? .init(step: 0, shape: parameter.shape, values: makeState(for: parameter))
            apply(to: &parameter, gradient: gradients[name]!, entry: &entry)
            state.named[name] = entry
            parameters[name] = parameter
        }
    }

    private func checkShapes(_ key: ParameterKey, _ parameter: Tensor<Scalar>, _ gradient: Tensor<Scalar>,
                             _ entry: OptimizerState<ParameterState>.Entry?) throws {
        guard parameter.shape == gradient.shape else {
            throw OptimizerError.gradientShapeMismatch(parameter: key, parameterShape: parameter.shape.dimensions,
                                                       gradientShape: gradient.shape.dimensions)
        }
        if let entry, entry.shape != parameter.shape {
            throw OptimizerError.stateShapeMismatch(parameter: key, stateShape: entry.shape.dimensions,
                                                    parameterShape: parameter.shape.dimensions)
        }
    }

    private func apply(to parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>,
                       entry: inout OptimizerState<ParameterState>.Entry) {
        let wasVariable = parameter.requiresGradient
        parameter = parameter.detached()
        entry.step += 1
        step(&parameter, gradient: gradient, state: &entry.values, step: entry.step)
        if wasVariable { parameter = parameter.requiringGradient() }
    }
}
