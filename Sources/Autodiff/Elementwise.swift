// Elementwise functions and activations. Each pullback is written in Tensor
// operations, so it is recorded (and differentiable again) under createGraph.

extension Tensor {
    /// A constant mask or derivative computed elementwise from this tensor's values.
    @inline(__always)
    func constantMap(_ op: UnaryOp, _ p: Scalar = 0, _ q: Scalar = 0) -> Tensor {
        Tensor(shape: shape, storage: unaryKernel(op, storage, p, q))
    }

    /// A pullback's value computed by one fused kernel of the incoming gradient `g` and the saved
    /// output `y` (same shape): used when the backward pass is not recorded, where it gives the
    /// same elementwise arithmetic, in the same order, as the Tensor-operation form.
    @inline(__always)
    static func fusedGradient(_ op: BinaryOp, _ g: Tensor, _ y: TensorStorage<Scalar>) -> Tensor {
        Tensor(shape: g.shape, storage: binaryKernel(op, g.storage, g.shape, y, g.shape, g.shape))
    }

    /// `eˣ`. Pullback `g·y`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func exp() -> Tensor {
        let y = unaryKernel(.exp, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        let shape = self.shape
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, node in
            g * Tensor(shape: shape, storage: y, node: node)
        }
    }

    /// Natural logarithm (NaN below 0, −∞ at 0). Pullback `g/x`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func log() -> Tensor {
        let y = unaryKernel(.log, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, _ in g / self }
    }

    /// `log(1 + x)`, accurate near 0. Pullback `g/(1 + x)`.
    public func log1p() -> Tensor {
        let y = unaryKernel(.log1p, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, _ in g / (self + 1) }
    }

    /// Square root. Pullback `g/(2y)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sqrt() -> Tensor {
        let y = unaryKernel(.sqrt, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        let shape = self.shape
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, node in
            g / (Tensor(shape: shape, storage: y, node: node) * 2)
        }
    }

    /// Absolute value. Pullback `g·sign(x)` (0 at 0, as PyTorch).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func abs() -> Tensor {
        let y = unaryKernel(.abs, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, _ in g * self.constantMap(.sign) }
    }

    /// `−1`, `0` or `1` by the sign of each element; a constant.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sign() -> Tensor { constantMap(.sign) }

    /// Hyperbolic tangent. Pullback `g·(1 − y²)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func tanh() -> Tensor {
        let y = unaryKernel(.tanh, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        let shape = self.shape
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, node in
            // Not recording (a first-order pass): the same arithmetic in one fused loop.
            if !isRecordingGradients { return Tensor.fusedGradient(.tanhGradient, g, y) }
            let t = Tensor(shape: shape, storage: y, node: node)
            return g * (1 - t * t)
        }
    }

    /// Logistic sigmoid `1/(1 + e⁻ˣ)`, computed without overflow. Pullback `g·y·(1 − y)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sigmoid() -> Tensor {
        let y = unaryKernel(.sigmoid, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        let shape = self.shape
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, node in
            if !isRecordingGradients { return Tensor.fusedGradient(.sigmoidGradient, g, y) }
            let s = Tensor(shape: shape, storage: y, node: node)
            return g * s * (1 - s)
        }
    }

    /// `max(x, 0)`. Pullback `g·[x > 0]` (0 at 0, as PyTorch).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func relu() -> Tensor {
        let y = unaryKernel(.relu, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, _ in g * self.constantMap(.stepAbove) }
    }

    /// `x > 0 ? x : slope·x` (PyTorch's default slope is 0.01). Pullback `g·(x > 0 ? 1 : slope)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func leakyRelu(negativeSlope slope: Scalar = 0.01) -> Tensor {
        let y = unaryKernel(.leakyRelu, storage, slope)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, _ in
            g * self.constantMap(.stepAbove).constantMap(.affine, 1 - slope, slope)
        }
    }

    /// The error function. Pullback `g·(2/√π)·e^{−x²}`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func erf() -> Tensor {
        let y = unaryKernel(.erf, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, _ in
            g * (-(self * self)).exp() * (2 / Scalar.pi.squareRoot())
        }
    }

    /// GELU in its exact form `x·Φ(x) = x·(1 + erf(x/√2))/2` (PyTorch's default, `approximate='none'`).
    ///
    /// Pullback `g·(Φ(x) + x·φ(x))` with `φ(x) = e^{−x²/2}/√(2π)`, in Tensor operations.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gelu() -> Tensor {
        let y = unaryKernel(.gelu, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, _ in
            let cdf = ((self * (1 / Scalar(2).squareRoot())).erf() + 1) * 0.5
            let pdf = (self * self * -0.5).exp() * (1 / (2 * Scalar.pi).squareRoot())
            return g * (cdf + self * pdf)
        }
    }

    /// `log(1 + eˣ)`, computed as `max(x, 0) + log1p(e^{−|x|})` (no overflow). Pullback `g·sigmoid(x)`.
    ///
    /// PyTorch's `softplus` returns `x` itself above its `threshold = 20`; this
    /// function is the exact softplus there (they differ by less than `e⁻²⁰`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func softplus() -> Tensor {
        let y = unaryKernel(.softplus, storage)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, _ in g * self.sigmoid() }
    }

    /// Clamps every element into `[lowerBound, upperBound]`.
    ///
    /// Pullback `g·[lowerBound ≤ x ≤ upperBound]` (the gradient passes at the bounds, as PyTorch).
    /// Pass `-.infinity` or `.infinity` for a one-sided clamp.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func clamped(lowerBound: Scalar = -.infinity, upperBound: Scalar = .infinity) -> Tensor {
        precondition(lowerBound <= upperBound, "clamped: lowerBound \(lowerBound) > upperBound \(upperBound)")
        let y = unaryKernel(.clamp, storage, lowerBound, upperBound)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, _ in
            g * self.constantMap(.inside, lowerBound, upperBound)
        }
    }

    /// `x·x`, differentiable (a convenience for `self * self`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func squared() -> Tensor { self * self }
}
