import Autodiff

/// Gradient clipping by global norm and by value, with PyTorch's semantics.
///
/// Clip gradients after computing them and before the optimizer update:
///
/// ```swift
/// var gradients = gradient(of: loss, wrt: parameters)
/// let norm = try GradientClipping.clipByGlobalNorm(&gradients, maxNorm: 1)
/// try optimizer.update(&parameters, gradients: gradients)
/// ```
///
/// Clipping by norm is from Pascanu, Mikolov & Bengio, "On the difficulty of
/// training recurrent neural networks", ICML 2013.
public enum GradientClipping {
    /// Scales all gradients together so that their global `p`-norm is at most `maxNorm`,
    /// as `torch.nn.utils.clip_grad_norm_`.
    ///
    /// The total norm is the `p`-norm of the per-tensor `p`-norms (for `p = ∞`, the
    /// largest absolute element). Every gradient is multiplied by
    /// `min(maxNorm/(total + 10⁻⁶), 1)`, computed in `Scalar`, so gradients below the
    /// limit are multiplied by exactly 1. Norms are accumulated in `Double`.
    ///
    /// Without `errorIfNonFinite`, a NaN or infinite total norm makes the
    /// gradients NaN, as in PyTorch (the input already held a non-finite value).
    ///
    /// - Parameters:
    ///   - gradients: modified in place (they become constants).
    ///   - maxNorm: the largest allowed total norm (≥ 0).
    ///   - normType: `p > 0`, or `.infinity` for the max-norm (default 2).
    ///   - errorIfNonFinite: throw instead of scaling when the total norm is NaN or infinite.
    /// - Returns: the total norm before clipping.
    /// - Throws: ``OptimizerError/nonFiniteGradientNorm(_:)`` when requested, and
    ///   ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative `maxNorm`
    ///   or a `normType` that is not positive. On error the gradients are unchanged.
    @discardableResult
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func clipByGlobalNorm<Scalar: TensorScalar>(_ gradients: inout [Tensor<Scalar>], maxNorm: Double,
                                                             normType: Double = 2,
                                                             errorIfNonFinite: Bool = false) throws -> Scalar {
        try require(maxNorm >= 0, "clipByGlobalNorm", "maxNorm", maxNorm, "must be ≥ 0")
        try require(normType > 0, "clipByGlobalNorm", "normType", normType, "must be > 0 or infinity")
        let norms = gradients.map { g in g.withUnsafeScalars { bufferNorm($0, normType) } }
        let total = Scalar(pNorm(norms.lazy.map { Double(Scalar($0)) }, normType))
        if errorIfNonFinite, !total.isFinite { throw OptimizerError.nonFiniteGradientNorm(Double(total)) }
        let ratio = Scalar(maxNorm) / (total + Scalar(1e-6))
        let coefficient = ratio.isNaN ? ratio : Swift.min(ratio, 1)
        for i in gradients.indices {
            gradients[i].withUnsafeMutableScalars { g in
                for j in g.indices { g[j] = g[j] * coefficient }
            }
        }
        return total
    }

    /// ``clipByGlobalNorm(_:maxNorm:normType:errorIfNonFinite:)-([Tensor<Scalar>],_,_,_)`` for gradients by
    /// name; the norm is taken over all of them (in sorted-key order).
    @discardableResult
    public static func clipByGlobalNorm<Scalar: TensorScalar>(_ gradients: inout [String: Tensor<Scalar>],
                                                             maxNorm: Double, normType: Double = 2,
                                                             errorIfNonFinite: Bool = false) throws -> Scalar {
        let names = gradients.keys.sorted()
        var list = names.map { gradients[$0]! }
        let total = try clipByGlobalNorm(&list, maxNorm: maxNorm, normType: normType,
                                         errorIfNonFinite: errorIfNonFinite)
        for (name, g) in zip(names, list) { gradients[name] = g }
        return total
    }

    /// Clamps every gradient element into `[−limit, limit]`, as `torch.nn.utils.clip_grad_value_`.
    ///
    /// NaN elements stay NaN.
    /// - Throws: ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` for a negative or NaN
    ///   limit.
    public static func clipByValue<Scalar: TensorScalar>(_ gradients: inout [Tensor<Scalar>], limit: Double) throws {
        try require(limit >= 0, "clipByValue", "limit", limit, "must be ≥ 0")
        let high = Scalar(limit), low = -Scalar(limit)
        for i in gradients.indices {
            gradients[i].withUnsafeMutableScalars { g in
                for j in g.indices where !g[j].isNaN { g[j] = Swift.min(Swift.max(g[j], low), high) }
            }
        }
    }

    /// ``clipByValue(_:limit:)-([Tensor<Scalar>],_)`` for gradients by name.
    public static func clipByValue<Scalar: TensorScalar>(_ gradients: inout [String: Tensor<Scalar>],
                                                        limit: Double) throws {
        try require(limit >= 0, "clipByValue", "limit", limit, "must be ≥ 0")
        for name in Array(gradients.keys) {
            var list = [gradients[name]!]
            try clipByValue(&list, limit: limit)
            gradients[name] = list[0]
        }
    }

    /// ``pNorm(_:_:)`` of one tensor's scalars, in the same order and arithmetic, as a plain loop: over a
    /// lazy generic sequence every element went through a runtime metadata check, and the norm took a
    /// sixth of a forecaster's training time.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func bufferNorm<Scalar: TensorScalar>(_ values: UnsafeBufferPointer<Scalar>, _ p: Double) -> Double {
        var accumulator = 0.0
        if p == .infinity {
            for value in values {
                let x = Double(value)
                accumulator = x.isNaN || accumulator.isNaN ? .nan : Swift.max(accumulator, Swift.abs(x))
            }
            return accumulator
        }
        if p == 2 {
            for value in values { let x = Double(value); accumulator += x * x }
            return accumulator.squareRoot()
        }
        if p == 1 {
            for value in values { accumulator += Swift.abs(Double(value)) }
            return accumulator
        }
        for value in values { accumulator += Double._pow(Swift.abs(Double(value)), p) }
        return Double._pow(accumulator, 1 / p)
    }

    /// `(Σ|x|ᵖ)^(1/p)`, the sum of squares' root for `p = 2`, the largest `|x|` for `p = ∞`.
    static func pNorm<C: Sequence<Double>>(_ values: C, _ p: Double) -> Double {
        if p == .infinity {
            return values.reduce(0) { m, x in x.isNaN || m.isNaN ? .nan : Swift.max(m, Swift.abs(x)) }
        }
        if p == 2 { return values.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        if p == 1 { return values.reduce(0) { $0 + Swift.abs($1) } }
        return Double._pow(values.reduce(0) { $0 + Double._pow(Swift.abs($1), p) }, 1 / p)
    }
}
