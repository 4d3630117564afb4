import Autodiff

// Element loops of the optimizer updates, pre-specialized for Float and Double.
// Each follows the operation order of PyTorch's single-tensor algorithm
// (torch/optim/{sgd,adam,rmsprop}.py) so that rounding agrees as far as possible:
// `add(x, alpha=a)` is `p + a·x`, `addcmul(x, y, value=a)` is `p + (a·x)·y`,
// `addcdiv(x, y, value=a)` is `p + (a·x)/y`.

/// ATen's `lerp(start, end, w)`: `start + w·(end − start)` for `|w| < ½`, else `end − (end − start)·(1 − w)`.
@inline(__always)
func lerp<S: TensorScalar>(_ start: S, _ end: S, _ weight: S) -> S {
    Swift.abs(weight) < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight)
}

/// Calls `body` with the element pointer of an optional tensor (`nil` when the tensor is `nil`).
@inline(__always)
func withOptionalMutableScalars<S: TensorScalar, R>(_ tensor: inout Tensor<S>?,
                                                    _ body: (UnsafeMutablePointer<S>?) -> R) -> R {
    guard tensor != nil else { return body(nil) }
    return tensor!.withUnsafeMutableScalars { body($0.baseAddress) }
}

/// The gradient as the update sees it: negated when maximizing, plus coupled L2 weight decay.
@inline(__always)
func effectiveGradient<S: TensorScalar>(_ g: S, _ p: S, maximize: Bool, weightDecay: S) -> S {
    let d = maximize ? -g : g
    return weightDecay != 0 ? d + weightDecay * p : d
}

/// Coefficients of one SGD update, rounded to the scalar type.
struct SGDCoefficients<S: TensorScalar> {
    var negativeLearningRate: S
    var momentum: S
    var dampeningComplement: S
    var weightDecay: S
    var nesterov: Bool
    var maximize: Bool
}

@_specialize(where S == Float)
@_specialize(where S == Double)
func sgdKernel<S: TensorScalar>(_ p: UnsafeMutablePointer<S>, _ g: UnsafePointer<S>,
                                _ buffer: UnsafeMutablePointer<S>?, firstStep: Bool, count: Int,
                                _ c: SGDCoefficients<S>) {
    for i in 0..<count {
        var d = effectiveGradient(g[i], p[i], maximize: c.maximize, weightDecay: c.weightDecay)
        if let buffer {
            let b = firstStep ? d : buffer[i] * c.momentum + c.dampeningComplement * d
            buffer[i] = b
            d = c.nesterov ? d + c.momentum * b : b
        }
        p[i] = p[i] + c.negativeLearningRate * d
    }
}

/// Coefficients of one Adam/AdamW update, rounded to the scalar type.
struct AdamCoefficients<S: TensorScalar> {
    var oneMinusBeta1: S
    var beta2: S
    var oneMinusBeta2: S
    /// `√(1 − β₂ᵗ)`.
    var biasCorrection2Root: S
    /// `−lr/(1 − β₁ᵗ)`.
    var negativeStepSize: S
    var epsilon: S
    /// Coupled (L2) decay added to the gradient; 0 for AdamW.
    var weightDecay: S
    /// `1 − lr·λ` for AdamW's decoupled decay; 1 for Adam.
    var decayFactor: S
    var decoupled: Bool
    var maximize: Bool
}

@_specialize(where S == Float)
@_specialize(where S == Double)
func adamKernel<S: TensorScalar>(_ p: UnsafeMutablePointer<S>, _ g: UnsafePointer<S>,
                                 _ m: UnsafeMutablePointer<S>, _ v: UnsafeMutablePointer<S>,
                                 _ vMax: UnsafeMutablePointer<S>?, count: Int, _ c: AdamCoefficients<S>) {
    for i in 0..<count {
        if c.decoupled { p[i] = p[i] * c.decayFactor }
        let d = effectiveGradient(g[i], p[i], maximize: c.maximize, weightDecay: c.weightDecay)
        m[i] = lerp(m[i], d, c.oneMinusBeta1)
        v[i] = v[i] * c.beta2 + (c.oneMinusBeta2 * d) * d
        var second = v[i]
        if let vMax {
            vMax[i] = Swift.max(vMax[i], v[i])
            second = vMax[i]
        }
        let denominator = second.squareRoot() / c.biasCorrection2Root + c.epsilon
        p[i] = p[i] + (c.negativeStepSize * m[i]) / denominator
    }
}

/// Coefficients of one RMSProp update, rounded to the scalar type.
struct RMSPropCoefficients<S: TensorScalar> {
    var negativeLearningRate: S
    var alpha: S
    var oneMinusAlpha: S
    var epsilon: S
    var momentum: S
    var weightDecay: S
    var maximize: Bool
}

@_specialize(where S == Float)
@_specialize(where S == Double)
func rmsPropKernel<S: TensorScalar>(_ p: UnsafeMutablePointer<S>, _ g: UnsafePointer<S>,
                                    _ squareAverage: UnsafeMutablePointer<S>,
                                    _ gradientAverage: UnsafeMutablePointer<S>?,
                                    _ buffer: UnsafeMutablePointer<S>?, count: Int, _ c: RMSPropCoefficients<S>) {
    for i in 0..<count {
        let d = effectiveGradient(g[i], p[i], maximize: c.maximize, weightDecay: c.weightDecay)
        squareAverage[i] = squareAverage[i] * c.alpha + (c.oneMinusAlpha * d) * d
        var average: S
        if let gradientAverage {
            gradientAverage[i] = lerp(gradientAverage[i], d, c.oneMinusAlpha)
            average = (squareAverage[i] + (-gradientAverage[i]) * gradientAverage[i]).squareRoot()
        } else {
            average = squareAverage[i].squareRoot()
        }
        average = average + c.epsilon
        if let buffer {
            buffer[i] = buffer[i] * c.momentum + d / average
            p[i] = p[i] + c.negativeLearningRate * buffer[i]
        } else {
            p[i] = p[i] + (c.negativeLearningRate * d) / average
        }
    }
}
