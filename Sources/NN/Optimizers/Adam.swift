import Autodiff

/// The moments of one parameter kept by ``Adam`` and ``AdamW``, each shaped like the parameter.
public struct AdamState<Scalar: TensorScalar>: Sendable {
    /// `m`, the running average of gradients.
    public var firstMoment: Tensor<Scalar>
    /// `v`, the running average of squared gradients.
    public var secondMoment: Tensor<Scalar>
    /// `v̂ₘₐₓ`, the running maximum of `v`; `nil` unless AMSGrad is on.
    public var maxSecondMoment: Tensor<Scalar>?
}

/// Adam (Kingma & Ba, "Adam: A method for stochastic optimization", ICLR 2015), with
/// coupled L2 weight decay and the AMSGrad variant (Reddi, Kale & Kumar, ICLR 2018).
///
/// PyTorch's `torch.optim.Adam` rule at step `t`, with learning rate `γ`,
/// betas `(β₁, β₂)`, weight decay `λ`:
///
/// ```
/// g ← g + λ·θ                          (if λ ≠ 0)
/// m ← lerp(m, g, 1 − β₁)
/// v ← β₂·v + (1 − β₂)·g²
/// v̂ₘₐₓ ← max(v̂ₘₐₓ, v), used instead of v below   (AMSGrad)
/// θ ← θ − (γ/(1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// For weight decay decoupled from the gradient use ``AdamW`` (or set ``decoupledWeightDecay``).
public struct Adam<Scalar: TensorScalar>: Optimizer {
    /// `γ`, the step size (≥ 0; PyTorch's default `1e-3`).
    public var learningRate: Double
    /// `(β₁, β₂)`, each in `[0, 1)` (default `(0.9, 0.999)`).
    public var betas: (Double, Double)
    /// `ε`, added to the denominator (≥ 0; default `1e-8`).
    public var epsilon: Double
    /// `λ`, the L2 penalty added to the gradient (≥ 0; default 0).
    public var weightDecay: Double
    /// Use the running maximum of the second moment (AMSGrad).
    public var amsgrad: Bool
    /// Ascend instead of descend (the gradient is negated).
    public var maximize: Bool
    /// Decay the parameters by `1 − γ·λ` before the update instead of adding `λ·θ` to the gradient
    /// (the ``AdamW`` rule; PyTorch's `decoupled_weight_decay`).
    public var decoupledWeightDecay: Bool
    /// Moments and step counts.
    public var state = OptimizerState<AdamState<Scalar>>()

    /// Creates an Adam optimizer with PyTorch's defaults.
    ///
    /// - Throws: ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative
    ///   learning rate, epsilon or weight decay, or a beta outside `[0, 1)`.
    public init(learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), epsilon: Double = 1e-8,
                weightDecay: Double = 0, amsgrad: Bool = false, maximize: Bool = false,
                decoupledWeightDecay: Bool = false) throws {
        self.learningRate = learningRate
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.amsgrad = amsgrad
        self.maximize = maximize
        self.decoupledWeightDecay = decoupledWeightDecay
        try validateHyperparameters()
    }

    /// Checks the ranges PyTorch checks (errors name the owner `Adam`, or `AdamW` when decoupled).
    public func validateHyperparameters() throws {
        let owner = decoupledWeightDecay ? "AdamW" : "Adam"
        try requireNonNegative(learningRate, owner, "learningRate")
        try requireNonNegative(epsilon, owner, "epsilon")
        try require(betas.0 >= 0 && betas.0 < 1, owner, "betas.0", betas.0, "must be in [0, 1)")
        try require(betas.1 >= 0 && betas.1 < 1, owner, "betas.1", betas.1, "must be in [0, 1)")
        try requireNonNegative(weightDecay, owner, "weightDecay")
    }

    /// Zero moments.
    public func makeState(for parameter: Tensor<Scalar>) -> AdamState<Scalar> {
        AdamState(firstMoment: .zeros(like: parameter), secondMoment: .zeros(like: parameter),
                  maxSecondMoment: amsgrad ? .zeros(like: parameter) : nil)
    }

    /// One Adam step (see the type's documentation for the rule).
    public func step(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, state: inout AdamState<Scalar>,
                     step: Int) {
        adamStep(&parameter, gradient, &state, step: step, learningRate: learningRate, betas: betas,
                 epsilon: epsilon, weightDecay: weightDecay, decoupled: decoupledWeightDecay, amsgrad: amsgrad,
                 maximize: maximize)
    }
}

/// AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, "Decoupled weight decay
/// regularization", ICLR 2019).
///
/// PyTorch's `torch.optim.AdamW` rule: first `θ ← θ·(1 − γ·λ)`, then the ``Adam``
/// update without the L2 term in the gradient. PyTorch's default `λ` is `1e-2`.
/// The hyperparameters live in ``adam``, an ``Adam`` with
/// ``Adam/decoupledWeightDecay`` set.
public struct AdamW<Scalar: TensorScalar>: Optimizer {
    /// The optimizer doing the work: Adam with decoupled weight decay, holding every hyperparameter.
    public var adam: Adam<Scalar>

    /// `γ`, the step size (≥ 0; default `1e-3`).
    public var learningRate: Double {
        get { adam.learningRate }
        set { adam.learningRate = newValue }
    }

    /// Moments and step counts.
    public var state: OptimizerState<AdamState<Scalar>> {
        get { adam.state }
        _modify { yield &adam.state }
    }

    /// Creates an AdamW optimizer with PyTorch's defaults.
    ///
    /// The parameters are those of ``Adam``; `weightDecay` is the decoupled rate `λ` (≥ 0, default `1e-2`):
    /// each step multiplies `θ` by `1 − γ·λ`.
    /// - Throws: ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative
    ///   learning rate, epsilon or weight decay, or a beta outside `[0, 1)`.
    public init(learningRate: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999), epsilon: Double = 1e-8,
                weightDecay: Double = 1e-2, amsgrad: Bool = false, maximize: Bool = false) throws {
        adam = try Adam(learningRate: learningRate, betas: betas, epsilon: epsilon, weightDecay: weightDecay,
                        amsgrad: amsgrad, maximize: maximize, decoupledWeightDecay: true)
    }

    /// Checks the ranges PyTorch checks.
    public func validateHyperparameters() throws { try adam.validateHyperparameters() }

    /// Zero moments.
    public func makeState(for parameter: Tensor<Scalar>) -> AdamState<Scalar> { adam.makeState(for: parameter) }

    /// One AdamW step (see the type's documentation for the rule).
    public func step(_ parameter: inout Tensor<Scalar>, gradient: Tensor<Scalar>, state: inout AdamState<Scalar>,
                     step: Int) {
        adam.step(&parameter, gradient: gradient, state: &state, step: step)
    }
}

/// The shared Adam/AdamW step; bias corrections in `Double` as PyTorch computes them in Python.
func adamStep<Scalar>(_ parameter: inout Tensor<Scalar>, _ gradient: Tensor<Scalar>, _ state: inout AdamState<Scalar>,
                      step: Int, learningRate: Double, betas: (Double, Double), epsilon: Double, weightDecay: Double,
                      decoupled: Bool, amsgrad: Bool, maximize: Bool) {
    let count = parameter.scalarCount
    guard count > 0 else { return }
    if amsgrad, state.maxSecondMoment == nil { state.maxSecondMoment = .zeros(like: parameter) }
    if !amsgrad { state.maxSecondMoment = nil }
    let t = Double(step)
    let biasCorrection1 = 1 - Double._pow(betas.0, t)
    let biasCorrection2 = 1 - Double._pow(betas.1, t)
    let c = AdamCoefficients<Scalar>(
        oneMinusBeta1: Scalar(1 - betas.0), beta2: Scalar(betas.1), oneMinusBeta2: Scalar(1 - betas.1),
        biasCorrection2Root: Scalar(Double._pow(biasCorrection2, 0.5)),
        negativeStepSize: Scalar(-(learningRate / biasCorrection1)), epsilon: Scalar(epsilon),
        weightDecay: decoupled ? 0 : Scalar(weightDecay), decayFactor: Scalar(1 - learningRate * weightDecay),
        decoupled: decoupled && weightDecay != 0, maximize: maximize)
    parameter.withUnsafeMutableScalars { p in
        gradient.withUnsafeScalars { g in
            state.firstMoment.withUnsafeMutableScalars { m in
                state.secondMoment.withUnsafeMutableScalars { v in
                    withOptionalMutableScalars(&state.maxSecondMoment) { vMax in
                        adamKernel(p.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!, vMax,
                                   count: count, c)
                    }
                }
            }
        }
    }
}
