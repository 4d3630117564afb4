import Autodiff

/// Mean squared error `(x − y)²` per element, as `torch.nn.functional.mse_loss`.
///
/// - Parameters:
///   - predictions: any shape.
///   - targets: the same shape as `predictions`.
///   - reduction: `.mean` (default), `.sum` or `.none` (per-element losses, shaped like the inputs).
/// - Throws: ``LossError/shapeMismatch(loss:argument:expected:actual:)`` when the shapes differ
///   (PyTorch would broadcast with a warning; here a mismatch is an error).
public func meanSquaredErrorLoss<Scalar>(_ predictions: Tensor<Scalar>, _ targets: Tensor<Scalar>,
                                         reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    try requireShape(targets, predictions.shape, "meanSquaredErrorLoss", "targets")
    return (predictions - targets).squared().reduced(reduction)
}

/// Mean absolute error `|x − y|` per element, as `torch.nn.functional.l1_loss`.
///
/// The gradient at `x = y` is 0 (PyTorch's sign convention).
/// - Throws: ``LossError/shapeMismatch(loss:argument:expected:actual:)`` when the shapes differ.
public func meanAbsoluteErrorLoss<Scalar>(_ predictions: Tensor<Scalar>, _ targets: Tensor<Scalar>,
                                          reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    try requireShape(targets, predictions.shape, "meanAbsoluteErrorLoss", "targets")
    return (predictions - targets).abs().reduced(reduction)
}

/// The Huber loss (Huber, "Robust estimation of a location parameter", Ann. Math. Statist. 1964),
/// as `torch.nn.functional.huber_loss`.
///
/// Per element, with `d = |x − y|`: `d²/2` for `d < δ`, else `δ·(d − δ/2)`.
///
/// - Parameters:
///   - predictions: any shape.
///   - targets: the same shape as `predictions`.
///   - delta: `δ > 0`, where the loss turns from quadratic to linear (default 1).
///   - reduction: `.mean` (default), `.sum` or `.none` (shaped like the inputs).
/// - Throws: ``LossError/shapeMismatch(loss:argument:expected:actual:)`` when the shapes differ,
///   ``LossError/invalidOption(loss:name:value:requirement:)`` for `δ ≤ 0`.
public func huberLoss<Scalar>(_ predictions: Tensor<Scalar>, _ targets: Tensor<Scalar>, delta: Double = 1,
                              reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    try requireShape(targets, predictions.shape, "huberLoss", "targets")
    try requireOption(delta > 0 && delta.isFinite, "huberLoss", "delta", delta, "must be finite and > 0")
    return huberElements(predictions - targets, Scalar(delta)).reduced(reduction)
}

/// The smooth L1 loss of Girshick, "Fast R-CNN", ICCV 2015, as `torch.nn.functional.smooth_l1_loss`:
/// the Huber loss with `δ = β` divided by `β`.
///
/// Per element, with `d = |x − y|`: `d²/(2β)` for `d < β`, else `d − β/2`; `β = 0` gives the L1 loss.
///
/// - Throws: ``LossError/shapeMismatch(loss:argument:expected:actual:)`` when the shapes differ,
///   ``LossError/invalidOption(loss:name:value:requirement:)`` for a negative `β`.
public func smoothL1Loss<Scalar>(_ predictions: Tensor<Scalar>, _ targets: Tensor<Scalar>, beta: Double = 1,
                                 reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    try requireShape(targets, predictions.shape, "smoothL1Loss", "targets")
    try requireOption(beta >= 0 && beta.isFinite, "smoothL1Loss", "beta", beta, "must be finite and ≥ 0")
    let difference = predictions - targets
    guard beta > 0 else { return difference.abs().reduced(reduction) }
    let b = Scalar(beta)
    let d = difference.abs()
    let quadratic = Scalar(0.5) * difference.squared() / b
    return Tensor.where(d .< b, quadratic, d - Scalar(0.5) * b).reduced(reduction)
}

/// Huber's per-element loss of differences `r` with threshold `δ`.
private func huberElements<Scalar>(_ r: Tensor<Scalar>, _ delta: Scalar) -> Tensor<Scalar> {
    let d = r.abs()
    let quadratic = Scalar(0.5) * r.squared()
    let linear = delta * (d - Scalar(0.5) * delta)
    return Tensor.where(d .< delta, quadratic, linear)
}

/// The negative log-likelihood of a Gaussian with predicted mean and variance, as
/// `torch.nn.functional.gaussian_nll_loss` (Nix & Weigend, "Estimating the mean and variance of the
/// target probability distribution", ICNN 1994).
///
/// Per element: `½·(log max(σ², ε) + (x − y)²/max(σ², ε))`, plus `½·log 2π` when `full`.
/// As in PyTorch, the clamp at `ε` does not stop the gradient: `∂/∂σ²` is evaluated at the clamped
/// variance and passed through.
///
/// - Parameters:
///   - mean: predicted means `x`, any shape.
///   - targets: `y`, the shape of `mean`.
///   - variance: `σ²`, either the shape of `mean`, or that shape with the last extent 1 or the last
///     axis removed (one variance shared across the last axis).
///   - full: add the constant `½·log 2π`.
///   - epsilon: `ε > 0`, the variance floor (default `1e-6`).
///   - reduction: `.mean` (default), `.sum` or `.none` (shaped like `mean`).
/// - Throws: ``LossError/shapeMismatch(loss:argument:expected:actual:)``,
///   ``LossError/invalidValue(loss:argument:position:value:requirement:)`` for a negative (or NaN) variance,
///   ``LossError/invalidOption(loss:name:value:requirement:)`` for `ε ≤ 0`.
public func gaussianNegativeLogLikelihoodLoss<Scalar>(mean: Tensor<Scalar>, targets: Tensor<Scalar>,
                                                      variance: Tensor<Scalar>, full: Bool = false,
                                                      epsilon: Double = 1e-6,
                                                      reduction: LossReduction = .mean) throws -> Tensor<Scalar> {
    let name = "gaussianNegativeLogLikelihoodLoss"
    try requireShape(targets, mean.shape, name, "targets")
    try requireOption(epsilon > 0 && epsilon.isFinite, name, "epsilon", epsilon, "must be finite and > 0")
    var v = variance
    if v.shape != mean.shape {
        let leading = Array(mean.shape.dimensions.dropLast())
        if mean.rank >= 1, v.shape.dimensions == leading {
            v = v.unsqueezed(at: v.rank)
        } else if mean.rank >= 1, Array(v.shape.dimensions.dropLast()) == leading, v.shape.dimensions.last == 1 {
            // one variance per row, broadcast below
        } else {
            throw LossError.shapeMismatch(loss: name, argument: "variance", expected: mean.shape.dimensions,
                                          actual: variance.shape.dimensions)
        }
    }
    if let bad = variance.scalars.firstIndex(where: { !($0 >= 0) }) {
        throw LossError.invalidValue(loss: name, argument: "variance", position: bad,
                                     value: Double(variance.scalars[bad]), requirement: "must be ≥ 0")
    }
    // Clamp the value only: the gradient passes through unchanged, as PyTorch's in-place clamp under no_grad.
    let constantPart = v.detached()
    let clamped = v + (constantPart.clamped(lowerBound: Scalar(epsilon)) - constantPart)
    var loss = Scalar(0.5) * (clamped.log() + (mean - targets).squared() / clamped)
    if full { loss = loss + Scalar(0.5 * Double._log(2 * Double.pi)) }
    return loss.reduced(reduction)
}
