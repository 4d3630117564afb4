import Autodiff

/// RMSProp (Tieleman & Hinton, Coursera lecture 6.5, 2012), with PyTorch's centered and momentum variants.
///
/// PyTorch's `torch.optim.RMSprop` rule, for gradient `g`, smoothing
/// constant `α`, weight decay `λ`, momentum `μ` and learning rate `γ`:
///
/// ```
/// g ← g + λ·θ                                (if λ ≠ 0)
/// v ← α·v + (1 − α)·g²
/// ḡ ← lerp(ḡ, g, 1 − α);  ṽ ← v − ḡ²         (if centered, Graves 2013), else ṽ ← v
/// a ← √ṽ + ε
/// b ← μ·b + g/a;  θ ← θ − γ·b                (if μ > 0)
/// θ ← θ − γ·g/a                              (otherwise)
/// ```
///
/// The centered form is from Graves, "Generating sequences with recurrent
/// neural networks", arXiv:1308.0850 (2013). ε is added *after* the square
/// root, as in PyTorch (TensorFlow adds it inside).
public struct RMSProp<Scalar: TensorScalar>: Optimizer {
    /// One parameter's running averages, each shaped like the parameter.
    public struct State: Sendable {
        /// `v`, the running average of squared gradients.
        public var squareAverage: Tensor<Scalar>
        /// `ḡ`, the running average of gradients; `nil` unless centered.
        public var gradientAverage: Tensor<Scalar>?
        /// `b`; `nil` unless momentum is positive.
        public var momentumBuffer: Tensor<Scalar>?
    }

    /// `γ`, the step size (≥ 0). PyTorch's default is `1e-2`.
    public var learningRate: Double
    /// `α`, the smoothing constant (≥ 0; PyTorch's default 0.99).
    public var alpha: Double
    /// `ε`, added to the root-mean-square (≥ 0; default `1e-8`).
    public var epsilon: Double
    /// `λ`, the L2 penalty added to the gradient (≥ 0).
    public var weightDecay: Double
    /// `μ` (≥ 0).
    public var momentum: Double
    /// Normalize by the estimated variance instead of the raw second moment.
    public var centered: Bool
    /// Ascend instead of descend (the gradient is negated).
    public var maximize: Bool
    /// Running averages and step counts.
    public var state = OptimizerState<State>()

    /// Creates an RMSProp optimizer with PyTorch's defaults.
    ///
    /// - Throws: ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative or
    ///   non-finite value.
    public init(learningRate: Double = 1e-2, alpha: Double = 0.99, epsilon: Double = 1e-8, weightDecay: Double = 0,
                momentum: Double = 0, centered: Bool = false, maximize: Bool = false) throws {
        self.learningRate = learningRate
        self.alpha = alpha
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.momentum = momentum
        self.centered = centered
        self.maximize = maximize
        try validateHyperparameters()
    }

    /// Checks the ranges PyTorch checks: every hyperparameter finite and ≥ 0.
    public func validateHyperparameters() throws {
        try requireNonNegative(learningRate, "RMSProp", "learningRate")
        try requireNonNegative(alpha, "RMSProp", "alpha")
        try requireNonNegative(epsilon, "RMSProp", "epsilon")
        try requireNonNegative(weightDecay, "RMSProp", "weightDecay")
        try requireNonNegative(momentum, "RMSProp", "momentum")
    }

    /// Zero averages (and buffers for the enabled variants).
    public func makeState(for parameter: Tensor<Scalar>) -> State {
        State(squareAverage: .zeros(like: parameter),
              gradientAverage: centered ? .zeros(like: parameter) : nil,
              momentumBuffer: momentum > 0 ? .zeros(like: parameter) : nil)
    }

    /// One RMSProp step (see the type's documentation for the rule).
    public func step(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, state: inout State, step: Int) {
        let count = parameter.scalarCount
        guard count > 0 else { return }
        // A variant switched on after the first step starts from zeros (PyTorch creates state only once);
        // switching it off drops its buffer.
        if centered, state.gradientAverage == nil { state.gradientAverage = .zeros(like: parameter) }
        if !centered { state.gradientAverage = nil }
        if momentum > 0, state.momentumBuffer == nil { state.momentumBuffer = .zeros(like: parameter) }
        if momentum <= 0 { state.momentumBuffer = nil }
        let c = RMSPropCoefficients<Scalar>(
            negativeLearningRate: Scalar(-learningRate), alpha: Scalar(alpha), oneMinusAlpha: Scalar(1 - alpha),
            epsilon: Scalar(epsilon), momentum: Scalar(momentum), weightDecay: Scalar(weightDecay), maximize: maximize)
        parameter.withUnsafeMutableScalars { p in
            gradient.withUnsafeScalars { g in
                state.squareAverage.withUnsafeMutableScalars { v in
                    withOptionalMutableScalars(&state.gradientAverage) { a in
                        withOptionalMutableScalars(&state.momentumBuffer) { b in
                            rmsPropKernel(p.baseAddress!, g.baseAddress!, v.baseAddress!, a, b, count: count, c)
                        }
                    }
                }
            }
        }
    }
}
