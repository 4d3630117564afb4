import Autodiff

/// The update rule of a differentiable inner loop, written in recorded tensor operations so that
/// second-order meta-gradients flow through it.
///
/// - ``sgd``: `θ ← θ − α ⊙ g` (MAML, Meta-SGD).
/// - ``adam(beta1:beta2:epsilon:)``: Adam (Kingma & Ba, ICLR 2015) without weight decay, PyTorch's
///   rule `m ← β₁m + (1 − β₁)g`, `v ← β₂v + (1 − β₂)g²`,
///   `θ ← θ − α (m/(1 − β₁ᵗ)) / (√(v/(1 − β₂ᵗ)) + ε)`, with fresh zero moments for every learner
///   (the differentiable optimizers of Grefenstette et al., "Generalized inner loop meta-learning",
///   arXiv:1910.01727, 2019). PyTorch's defaults are `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
///   Second order needs every gradient element non-zero (`√v` has an infinite derivative at 0);
///   a non-finite meta-gradient is reported as ``MetaLearnError/nonFiniteGradient(key:)``.
public enum InnerOptimizer: Sendable, Hashable {
    /// Plain gradient descent.
    case sgd
    /// Adam with the given betas (each in `[0, 1)`) and `epsilon` (> 0).
    case adam(beta1: Double, beta2: Double, epsilon: Double)

    /// Throws ``MetaLearnError/invalidHyperparameter(owner:name:value:requirement:)`` for betas outside `[0, 1)`
    /// or a non-positive epsilon.
    func validate() throws {
        guard case let .adam(beta1, beta2, epsilon) = self else { return }
        try require(beta1 >= 0 && beta1 < 1, "InnerOptimizer.adam", "beta1", beta1, "must be in [0, 1)")
        try require(beta2 >= 0 && beta2 < 1, "InnerOptimizer.adam", "beta2", beta2, "must be in [0, 1)")
        try require(epsilon.isFinite && epsilon > 0, "InnerOptimizer.adam", "epsilon", epsilon, "must be finite and > 0")
    }

    /// `θ` after step `step` (from 1) with gradient `g` and step size `rate`; `moments` is updated (Adam).
    func updated<Scalar: TensorScalar>(_ theta: Tensor<Scalar>, gradient g: Tensor<Scalar>, rate: Tensor<Scalar>,
                                       moments: inout (first: Tensor<Scalar>, second: Tensor<Scalar>)?, step: Int)
        -> Tensor<Scalar> {
        switch self {
        case .sgd:
            return theta - rate * g
        case let .adam(beta1, beta2, epsilon):
            let previous = moments ?? (Tensor.zeros(like: theta), Tensor.zeros(like: theta))
            let m = Scalar(beta1) * previous.first + Scalar(1 - beta1) * g
            let v = Scalar(beta2) * previous.second + Scalar(1 - beta2) * g.squared()
            moments = (m, v)
            let mHat = m / Scalar(1 - integerPower(beta1, step))
            let denominator = (v / Scalar(1 - integerPower(beta2, step))).sqrt() + Scalar(epsilon)
            return theta - rate * mHat / denominator
        }
    }
}

/// `xⁿ` for `n ≥ 0` by repeated multiplication (the bias corrections `1 − βᵗ`).
func integerPower(_ x: Double, _ n: Int) -> Double {
    var result = 1.0
    for _ in 0..<n { result *= x }
    return result
}
