import Linalg

/// Finite-difference verification of reverse-mode gradients, for users' own models.
///
/// Both checks work in `Double` with central differences
/// `(f(x + εeᵢ) − f(x − εeᵢ))/(2ε)`, whose error is `O(ε²)` truncation plus
/// `O(δ/ε)` rounding. A function with a non-scalar output is reduced to the
/// scalar `L(x) = Σ f(x)·w` with a fixed random cotangent `w`, so every output
/// element is checked.
///
/// ```swift
/// let report = GradientCheck.firstOrder(at: [x, w]) { inputs in
///     (inputs[0].matmul(inputs[1])).tanh()
/// }
/// precondition(report.passed, "\(report)")
/// ```
public enum GradientCheck {
    /// The outcome of a check: the worst disagreement between analytic and numerical derivatives.
    public struct Report: Sendable, CustomStringConvertible {
        /// `true` when every element satisfied `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance·|numeric|`.
        public let passed: Bool
        /// The largest `|analytic − numeric|` over all elements.
        public let maxAbsoluteError: Double
        /// The largest `|analytic − numeric| / max(|numeric|, 1e-12)` among elements that failed (0 if none failed).
        public let maxRelativeErrorOfFailures: Double
        /// Input index and row-major element index of the worst element by the tolerance test.
        public let worst: (input: Int, element: Int)?
        /// Analytic derivatives, one array per input.
        public let analytic: [[Double]]
        /// Numerical derivatives, one array per input.
        public let numeric: [[Double]]

        /// A one-line summary.
        public var description: String {
            let location = worst.map { " at input \($0.input) element \($0.element)" } ?? ""
            return "GradientCheck \(passed ? "passed" : "FAILED"): max |analytic − numeric| = \(maxAbsoluteError)\(location)"
        }
    }

    /// Checks first derivatives of `f` at `inputs` against central differences.
    ///
    /// - Parameters:
    ///   - inputs: the point; each tensor is perturbed element by element (2 evaluations per element).
    ///   - epsilon: the difference step (default `1e-6`).
    ///   - absoluteTolerance: the absolute part of the pass rule: an element passes when
    ///     `|analytic − numeric| ≤ absoluteTolerance + relativeTolerance·|numeric|`.
    ///   - relativeTolerance: the relative part of the same rule.
    ///   - seed: seeds the random cotangent for non-scalar outputs.
    ///   - f: the function; it must be deterministic and use only recorded operations.
    public static func firstOrder(at inputs: [Tensor<Double>], epsilon: Double = 1e-6,
                                  absoluteTolerance: Double = 1e-6, relativeTolerance: Double = 1e-5,
                                  seed: UInt64 = 0x5EED,
                                  _ f: ([Tensor<Double>]) -> Tensor<Double>) -> Report {
        let cotangent = makeCotangent(for: withoutGradients { f(inputs.map { $0.detached() }) }, seed: seed)
        func loss(_ xs: [Tensor<Double>]) -> Tensor<Double> { (f(xs) * cotangent).sum() }
        let variables = inputs.map { $0.requiringGradient() }
        let analytic = gradient(of: loss(variables), wrt: variables).map(\.scalars)
        let numeric = numericalGradient(at: inputs, epsilon: epsilon) { xs in withoutGradients { loss(xs).scalar } }
        return compare(analytic, numeric, absoluteTolerance, relativeTolerance)
    }

    /// Checks second derivatives: the gradient of `h(x) = Σᵢ ⟨∇ᵢL(x), vᵢ⟩` for random directions `vᵢ`.
    ///
    /// The analytic side differentiates the recorded backward pass
    /// (`createGraph: true`); the numerical side takes central differences of
    /// `h` evaluated with first-order analytic gradients. Together with
    /// ``firstOrder(at:epsilon:absoluteTolerance:relativeTolerance:seed:_:)`` this
    /// verifies Hessian–vector products.
    public static func secondOrder(at inputs: [Tensor<Double>], epsilon: Double = 1e-6,
                                   absoluteTolerance: Double = 1e-6, relativeTolerance: Double = 1e-5,
                                   seed: UInt64 = 0x5EED,
                                   _ f: ([Tensor<Double>]) -> Tensor<Double>) -> Report {
        let cotangent = makeCotangent(for: withoutGradients { f(inputs.map { $0.detached() }) }, seed: seed)
        var generator = Xoshiro256StarStar(seed: seed &+ 1)
        let directions = inputs.map { Tensor<Double>.normal($0.shape, using: &generator) }
        /// `h` at variables (tensors that already require gradients).
        func h(_ variables: [Tensor<Double>], createGraph: Bool) -> Tensor<Double> {
            let l = (f(variables) * cotangent).sum()
            let grads = gradient(of: l, wrt: variables, createGraph: createGraph)
            var total = Tensor<Double>(0)
            for (g, v) in zip(grads, directions) { total = total + (g * v).sum() }
            return total
        }
        let variables = inputs.map { $0.requiringGradient() }
        let analytic = gradient(of: h(variables, createGraph: true), wrt: variables).map(\.scalars)
        let numeric = numericalGradient(at: inputs, epsilon: epsilon) { xs in
            h(xs.map { $0.requiringGradient() }, createGraph: false).scalar
        }
        return compare(analytic, numeric, absoluteTolerance, relativeTolerance)
    }

    /// Central-difference gradient of a scalar function of several tensors.
    public static func numericalGradient(at inputs: [Tensor<Double>], epsilon: Double = 1e-6,
                                         _ f: ([Tensor<Double>]) -> Double) -> [[Double]] {
        var result: [[Double]] = []
        for i in inputs.indices {
            var row = [Double](repeating: 0, count: inputs[i].scalarCount)
            for e in 0..<inputs[i].scalarCount {
                var xs = inputs.map { $0.detached() }
                var plus = inputs[i].scalars, minus = inputs[i].scalars
                plus[e] += epsilon
                minus[e] -= epsilon
                xs[i] = Tensor(shape: inputs[i].shape, storage: plus)
                let fp = f(xs)
                xs[i] = Tensor(shape: inputs[i].shape, storage: minus)
                let fm = f(xs)
                row[e] = (fp - fm) / (2 * epsilon)
            }
            result.append(row)
        }
        return result
    }

    static func makeCotangent(for output: Tensor<Double>, seed: UInt64) -> Tensor<Double> {
        if output.scalarCount == 1 { return Tensor(shape: output.shape, repeating: 1) }
        var generator = Xoshiro256StarStar(seed: seed)
        return Tensor.normal(output.shape, using: &generator)
    }

    static func compare(_ analytic: [[Double]], _ numeric: [[Double]], _ atol: Double, _ rtol: Double) -> Report {
        var passed = true, maxAbs = 0.0, maxRel = 0.0
        var worst: (Int, Int)? = nil
        var worstExcess = -Double.infinity
        for (i, (a, n)) in zip(analytic, numeric).enumerated() {
            for (e, (x, y)) in zip(a, n).enumerated() {
                let err = Swift.abs(x - y)
                maxAbs = Swift.max(maxAbs, err.isNaN ? .infinity : err)
                let bound = atol + rtol * Swift.abs(y)
                let excess = err.isNaN ? .infinity : err - bound
                if excess > worstExcess { worstExcess = excess; worst = (i, e) }
                if !(err <= bound) {
                    passed = false
                    maxRel = Swift.max(maxRel, err / Swift.max(Swift.abs(y), 1e-12))
                }
            }
        }
        return Report(passed: passed, maxAbsoluteError: maxAbs, maxRelativeErrorOfFailures: maxRel,
                      worst: worst.map { (input: $0.0, element: $0.1) }, analytic: analytic, numeric: numeric)
    }
}
