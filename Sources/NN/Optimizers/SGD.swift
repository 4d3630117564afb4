import Autodiff

/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay.
///
/// PyTorch's `torch.optim.SGD` rule, for gradient `g`, parameter `θ`,
/// momentum `μ`, dampening `τ`, weight decay `λ` and learning rate `γ`:
///
/// ```
/// g ← g + λ·θ                       (if λ ≠ 0)
/// b ← g on the first step, else μ·b + (1 − τ)·g     (if μ ≠ 0)
/// g ← g + μ·b if Nesterov, else b                    (if μ ≠ 0)
/// θ ← θ − γ·g
/// ```
///
/// Nesterov momentum follows Sutskever et al., "On the importance of
/// initialization and momentum in deep learning", ICML 2013, in PyTorch's form.
public struct SGD<Scalar: TensorScalar>: Optimizer {
    /// The momentum buffer of one parameter.
    public struct State: Sendable {
        /// `b`, shaped like the parameter; `nil` until the first update with non-zero momentum.
        public var momentumBuffer: Tensor<Scalar>?
    }

    /// `γ`, the step size (≥ 0).
    public var learningRate: Double
    /// `μ` (≥ 0); 0 disables the momentum buffer.
    public var momentum: Double
    /// `τ`, the fraction of the new gradient removed from the momentum buffer's increment.
    public var dampening: Double
    /// `λ`, the L2 penalty added to the gradient (≥ 0).
    public var weightDecay: Double
    /// Use Nesterov momentum (requires `momentum > 0` and `dampening == 0`).
    public var nesterov: Bool
    /// Ascend instead of descend (the gradient is negated).
    public var maximize: Bool
    /// Momentum buffers and step counts.
    public var state = OptimizerState<State>()

    /// Creates an SGD optimizer with PyTorch's defaults except the learning rate, which PyTorch also defaults to `1e-3`.
    ///
    /// - Throws: ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative or
    ///   non-finite value, or Nesterov momentum without momentum or with dampening.
    public init(learningRate: Double = 1e-3, momentum: Double = 0, dampening: Double = 0, weightDecay: Double = 0,
                nesterov: Bool = false, maximize: Bool = false) throws {
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.maximize = maximize
        try validateHyperparameters()
    }

    /// Checks the ranges PyTorch checks (see ``init(learningRate:momentum:dampening:weightDecay:nesterov:maximize:)``).
    public func validateHyperparameters() throws {
        try requireNonNegative(learningRate, "SGD", "learningRate")
        try requireNonNegative(momentum, "SGD", "momentum")
        try require(dampening.isFinite, "SGD", "dampening", dampening, "must be finite")
        try requireNonNegative(weightDecay, "SGD", "weightDecay")
        if nesterov {
            try require(momentum > 0, "SGD", "momentum", momentum, "Nesterov momentum requires momentum > 0")
            try require(dampening == 0, "SGD", "dampening", dampening, "Nesterov momentum requires zero dampening")
        }
    }

    /// No buffer until the first update with momentum.
    public func makeState(for parameter: Tensor<Scalar>) -> State { State(momentumBuffer: nil) }

    /// One SGD step (see the type's documentation for the rule).
    public func step(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, state: inout State, step: Int) {
        let count = parameter.scalarCount
        guard count > 0 else { return }
        let firstStep = momentum != 0 && state.momentumBuffer == nil
        if momentum == 0 {
            state.momentumBuffer = nil
        } else if firstStep {
            state.momentumBuffer = Tensor.zeros(like: parameter)
        }
        let c = SGDCoefficients<Scalar>(
            negativeLearningRate: Scalar(-learningRate), momentum: Scalar(momentum),
            dampeningComplement: Scalar(1 - dampening), weightDecay: Scalar(weightDecay),
            nesterov: nesterov, maximize: maximize)
        parameter.withUnsafeMutableScalars { p in
            gradient.withUnsafeScalars { g in
                withOptionalMutableScalars(&state.momentumBuffer) { b in
                    sgdKernel(p.baseAddress!, g.baseAddress!, b, firstStep: firstStep, count: count, c)
                }
            }
        }
    }
}
