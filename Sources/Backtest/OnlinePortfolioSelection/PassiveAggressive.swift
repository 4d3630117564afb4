import Foundation
import Linalg

/// Passive–aggressive mean reversion (PAMR; Li, Zhao, Hoi & Gopalkrishnan 2012, "PAMR:
/// Passive aggressive mean reversion strategy for portfolio selection", Machine Learning 87(2)).
///
/// With the ε-insensitive loss `ℓ = max(0, b_t · x_t − ε)` and `x̄` the mean of `x_t`,
/// `b_{t+1} = Π_Δ(b_t − τ (x_t − x̄ 1))` where `τ = ℓ / ‖x_t − x̄‖²` (PAMR),
/// `min(C, ℓ / ‖x_t − x̄‖²)` (PAMR-1) or `ℓ / (‖x_t − x̄‖² + 1/(2C))` (PAMR-2); `τ = 0` when
/// `x_t` is constant up to rounding (``isRoundingNoise(spread:mean:count:)``). Under
/// ``OLPSConvention/toolbox`` with a fee the loss uses the net return of the last period, as
/// `pamr_run.m` does. Defaults `ε = 0.5`, `C = 500` (OLPS toolbox).
public struct PassiveAggressiveMeanReversion: OnlinePortfolioSelector, Sendable {
    /// The three update rules of the paper.
    public enum Variant: Int, Sendable, Hashable, CaseIterable, Codable {
        /// PAMR: no aggressiveness limit.
        case pamr = 0
        /// PAMR-1: step capped at `C`.
        case pamr1 = 1
        /// PAMR-2: `1/(2C)` added to the denominator.
        case pamr2 = 2
    }
    /// Sensitivity `ε ≥ 0`.
    public let epsilon: Double
    /// Aggressiveness `C > 0` (PAMR-1/2).
    public let aggressiveness: Double
    /// The update rule.
    public let variant: Variant
    /// Which return the loss uses under a fee (net: ``OLPSConvention/toolbox``; gross: ``OLPSConvention/paper``).
    public let convention: OLPSConvention
    private var scratch: [Double] = []

    /// PAMR of the given variant with sensitivity `ε` and aggressiveness `C` under `convention`.
    ///
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for `ε < 0` or `C ≤ 0`.
    public init(epsilon: Double = 0.5, aggressiveness: Double = 500, variant: Variant = .pamr,
                convention: OLPSConvention = .toolbox) throws {
        guard epsilon >= 0, epsilon.isFinite else {
            throw OLPSError.invalidParameter(algorithm: "PAMR", name: "epsilon", value: epsilon, requirement: "≥ 0")
        }
        guard aggressiveness > 0 else {
            throw OLPSError.invalidParameter(algorithm: "PAMR", name: "C", value: aggressiveness, requirement: "> 0")
        }
        self.epsilon = epsilon
        self.aggressiveness = aggressiveness
        self.variant = variant
        self.convention = convention
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String {
        switch variant {
        case .pamr: return "PAMR(ε=\(epsilon))"
        case .pamr1: return "PAMR-1(ε=\(epsilon), C=\(aggressiveness))"
        case .pamr2: return "PAMR-2(ε=\(epsilon), C=\(aggressiveness))"
        }
    }

    public mutating func reset(assetCount: Int) throws { scratch = Array(repeating: 0, count: assetCount) }

    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        guard step.period > 0 else { fillUniform(weights); return }
        let x = step.observed.last, b = step.previous, m = weights.count
        var mean = 0.0
        for i in 0..<m { mean += x[i] }
        mean /= Double(m)
        var spread = 0.0
        for i in 0..<m { spread += (x[i] - mean) * (x[i] - mean) }
        // The toolbox's loop feeds PAMR the period's net return (`daily_ret`, after the fee).
        let growth = convention == .toolbox ? (step.netReturn ?? dot(b, x)) : dot(b, x)
        let loss = max(0, growth - epsilon)
        var tau = 0.0
        if !isRoundingNoise(spread: spread, mean: mean, count: m) {
            switch variant {
            case .pamr: tau = loss / spread
            case .pamr1: tau = min(aggressiveness, loss / spread)
            case .pamr2: tau = loss / (spread + 0.5 / aggressiveness)
            }
        }
        for i in 0..<m { weights[i] = b[i] - tau * (x[i] - mean) }
        scratch.withUnsafeMutableBufferPointer { projectOntoSimplex(weights, scratch: $0) }
    }
}

/// Confidence-weighted mean reversion (CWMR; Li, Hoi, Zhao & Gopalkrishnan 2013,
/// "Confidence weighted mean reversion strategy for online portfolio selection", ACM TKDD 7(1)).
///
/// The portfolio is modelled as `b ~ N(μ, Σ)`; each period `(μ, Σ)` moves to the closest
/// distribution (in KL divergence) under which the log growth on the last relatives is below
/// `ε` with probability `θ`. With `M = μᵀx`, `V = xᵀΣx`, `x̄ = Σ_i Σ_ii x_i / tr Σ` and
/// `W = xᵀΣ1`, the Lagrange multiplier `λ ≥ 0` is the largest root of a quadratic (variance or
/// standard-deviation form, Eqs. 7–8 of the paper), then
/// `μ ← μ − λ Σ (x − x̄ 1) / M`, `Σ⁻¹ ← Σ⁻¹ + 2λφ diag(x)²` (variance) or
/// `Σ⁻¹ ← Σ⁻¹ + λφ/√U diag(x)²` (stdev, `√U = (−λφV + √(λ²φ²V² + 4V))/2`), `μ` is projected on
/// the simplex and `Σ` rescaled to trace `1/m²`; `φ = Φ⁻¹(θ)`. Start `μ` uniform, `Σ = I/m²`.
/// This is ``OLPSConvention/paper``, defaults `ε = −0.5`, `θ = 0.95` (universal-portfolios'
/// parametrization).
///
/// Under ``OLPSConvention/toolbox`` (`cwmr_var_expert.m`, `cwmr_stdev_expert.m`) the constraint is
/// on the growth `M = μᵀx` itself: with `x̄ = 1ᵀΣx / 1ᵀΣ1`, `V = xᵀΣx`, `W = xᵀΣ1`, `λ` is the
/// largest non-negative root of `aλ² + bλ + c` where (variance)
/// `a = 2φV² − 2φx̄VW`, `b = 2φεV − 2φVM + V − x̄W`, `c = ε − M − φV`, or (standard deviation,
/// `g = V − x̄W + φ²V/2`) `a = g² − φ⁴V²/4`, `b = 2(ε − M)g`, `c = (ε − M)² − φ²V`; `λ = 0` when
/// the discriminant is not positive, `−c/b` when `a = 0`. Then `μ ← Π_Δ(μ − λΣ(x − x̄1))`,
/// `Σ ← (Σ⁻¹ + 2λφ diag(x)²)⁻¹` (variance) or `(Σ⁻¹ + λφ/√U diag(x)²)⁻¹` (standard deviation,
/// skipped when `√U = 0`, and `Σ + ε_mach I` when `det Σ ≤ ε_mach`), and `Σ ← Σ / (m · 1ᵀΣ1)`.
/// Defaults `φ = 2`, `ε = 0.5` (toolbox configuration). Under both conventions `λ = 0` when `x` is
/// constant up to rounding (``isRoundingNoise(spread:mean:count:)``).
public struct ConfidenceWeightedMeanReversion: OnlinePortfolioSelector, Sendable {
    /// The two forms of the constraint.
    public enum Variant: String, Sendable, Hashable, CaseIterable, Codable {
        /// CWMR-Var: the variance form.
        case variance = "var"
        /// CWMR-Stdev: the standard-deviation form.
        case standardDeviation = "stdev"
    }
    /// Mean-reversion threshold `ε` on the log growth (paper) or on the growth (toolbox).
    public let epsilon: Double
    /// Confidence `θ ∈ (0.5, 1)` (paper convention; `φ = Φ⁻¹(θ)` unless `φ` is given).
    public let confidence: Double
    /// The constraint form.
    public let variant: Variant
    /// The toolbox's or the published update.
    public let convention: OLPSConvention
    /// Confidence parameter `φ > 0`.
    public let phi: Double
    private var m = 0
    private var precision: [Double] = [], sigma: [Double] = [], factor: [Double] = []
    private var sigmaX: [Double] = [], rowSums: [Double] = [], scratch: [Double] = [], column: [Double] = []
    private var mean: [Double] = []   // the toolbox's μ, kept as its own state

    /// - Parameters:
    ///   - epsilon: `ε`; `nil` takes the convention's default (toolbox 0.5, paper −0.5).
    ///   - confidence: `θ`, used for `φ = Φ⁻¹(θ)` under the paper convention.
    ///   - phi: `φ`; `nil` takes 2 (toolbox) or `Φ⁻¹(θ)` (paper).
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` unless `0.5 < θ < 1`,
    ///   `ε` is finite and `φ > 0`.
    public init(epsilon: Double? = nil, confidence: Double = 0.95, phi: Double? = nil,
                variant: Variant = .standardDeviation, convention: OLPSConvention = .toolbox) throws {
        let epsilon = epsilon ?? (convention == .toolbox ? 0.5 : -0.5)
        guard confidence > 0.5, confidence < 1 else {
            throw OLPSError.invalidParameter(algorithm: "CWMR", name: "confidence", value: confidence, requirement: "in (0.5, 1)")
        }
        guard epsilon.isFinite else {
            throw OLPSError.invalidParameter(algorithm: "CWMR", name: "epsilon", value: epsilon, requirement: "finite")
        }
        let phi = try phi ?? (convention == .toolbox ? 2 : NormalDistribution.quantile(confidence))
        guard phi > 0, phi.isFinite else {
            throw OLPSError.invalidParameter(algorithm: "CWMR", name: "phi", value: phi, requirement: "> 0")
        }
        self.epsilon = epsilon
        self.confidence = confidence
        self.variant = variant
        self.convention = convention
        self.phi = phi
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String {
        let form = variant == .variance ? "Var" : "Stdev"
        return convention == .toolbox ? "CWMR-\(form)(φ=\(phi), ε=\(epsilon))" : "CWMR-\(form)(ε=\(epsilon), θ=\(confidence))"
    }

    public mutating func reset(assetCount: Int) throws {
        m = assetCount
        let n = m * m
        sigma = Array(repeating: 0, count: n)
        precision = sigma
        factor = sigma
        for i in 0..<m {
            sigma[i * m + i] = 1 / Double(n)
            precision[i * m + i] = Double(n)
        }
        sigmaX = Array(repeating: 0, count: m)
        rowSums = sigmaX; scratch = sigmaX; column = sigmaX
        mean = Array(repeating: 1 / Double(m), count: m)
    }

    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        guard step.period > 0 else { fillUniform(weights); return }
        if convention == .toolbox { toolboxStep(step, into: weights); return }
        let x = step.observed.last, mu = step.previous, m = self.m
        var trace = 0.0, weightedX = 0.0
        for i in 0..<m {
            var sx = 0.0, rs = 0.0
            for j in 0..<m { sx += sigma[i * m + j] * x[j]; rs += sigma[i * m + j] }
            sigmaX[i] = sx
            rowSums[i] = rs
            trace += sigma[i * m + i]
            weightedX += sigma[i * m + i] * x[i]
        }
        let meanX = weightedX / trace
        let growth = dot(mu, x)
        var variance = 0.0, crossSum = 0.0
        for i in 0..<m { variance += x[i] * sigmaX[i]; crossSum += x[i] * rowSums[i] }
        let slack = epsilon - log(growth)
        let phi2 = phi * phi
        var lambda = 0.0
        switch variant {
        case .variance:
            let f = (variance - meanX * crossSum) / (growth * growth)
            let a = 2 * phi * variance * f
            let b = f + 2 * phi * variance * slack
            let c = slack - phi * variance
            lambda = largestNonNegativeRoot(a, b, c)
        case .standardDeviation:
            let f = (variance - meanX * crossSum) / (growth * growth) + variance * phi2 / 2
            let a = f * f - variance * variance * phi2 * phi2 / 4
            let b = 2 * slack * f
            let c = slack * slack - variance * phi2
            lambda = largestNonNegativeRoot(a, b, c)
        }
        lambda = min(lambda, 1e7)   // numerical safeguard of the reference implementations
        if isConstant(x) { lambda = 0 }
        // μ update: μ − λ Σ (x − x̄1) / M = μ − λ (Σx − x̄ Σ1) / M.
        for i in 0..<m { weights[i] = mu[i] - lambda * (sigmaX[i] - meanX * rowSums[i]) / growth }
        scratch.withUnsafeMutableBufferPointer { projectOntoSimplex(weights, scratch: $0) }
        // Σ update through the precision matrix, then Σ ← Σ / (m² tr Σ).
        let coefficient: Double
        switch variant {
        case .variance:
            coefficient = 2 * lambda * phi
        case .standardDeviation:
            let rootU = 0.5 * (-lambda * phi * variance + (lambda * lambda * phi2 * variance * variance + 4 * variance).squareRoot())
            coefficient = phi * lambda / rootU
        }
        guard coefficient > 0, coefficient.isFinite else { return }
        for i in 0..<m { precision[i * m + i] += coefficient * x[i] * x[i] }
        guard invertSymmetricPositiveDefinite(precision, into: &sigma, factor: &factor, column: &column, order: m) else { return }
        var newTrace = 0.0
        for i in 0..<m { newTrace += sigma[i * m + i] }
        let scale = 1 / (Double(m * m) * newTrace)
        for k in 0..<(m * m) {
            sigma[k] *= scale
            precision[k] /= scale
        }
    }

    /// Whether the last relatives are equal up to rounding.
    private func isConstant(_ x: UnsafeBufferPointer<Double>) -> Bool {
        var mean = 0.0
        for i in 0..<m { mean += x[i] }
        mean /= Double(m)
        var spread = 0.0
        for i in 0..<m { spread += (x[i] - mean) * (x[i] - mean) }
        return isRoundingNoise(spread: spread, mean: mean, count: m)
    }

    /// One step of the toolbox's CWMR (see the type's documentation); `sigma` holds `Σ`.
    private mutating func toolboxStep(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        let x = step.observed.last, m = self.m
        let mu = mean
        var total = 0.0
        for i in 0..<m {
            var sx = 0.0, rs = 0.0
            for j in 0..<m { sx += sigma[i * m + j] * x[j]; rs += sigma[i * m + j] }
            sigmaX[i] = sx
            rowSums[i] = rs
            total += rs
        }
        var oneSigmaX = 0.0, growth = 0.0, v = 0.0, w = 0.0
        for i in 0..<m {
            oneSigmaX += sigmaX[i]
            growth += x[i] * mu[i]
            v += x[i] * sigmaX[i]
            w += x[i] * rowSums[i]
        }
        let meanX = oneSigmaX / total
        let a: Double, b: Double, c: Double
        switch variant {
        case .variance:
            a = 2 * phi * v * v - 2 * phi * meanX * v * w
            b = 2 * phi * epsilon * v - 2 * phi * v * growth + v - meanX * w
            c = epsilon - growth - phi * v
        case .standardDeviation:
            let g = v - meanX * w + phi * phi * v / 2
            a = g * g - phi * phi * phi * phi * v * v / 4
            b = 2 * (epsilon - growth) * g
            c = (epsilon - growth) * (epsilon - growth) - phi * phi * v
        }
        var lambda = 0.0
        let discriminant = b * b - 4 * a * c
        if a != 0 && discriminant > 0 {
            let root = discriminant.squareRoot()
            lambda = max((-b + root) / (2 * a), (-b - root) / (2 * a), 0)
        } else if a == 0 && b != 0 {
            lambda = max(-c / b, 0)
        }
        if !lambda.isFinite || isConstant(x) { lambda = 0 }
        for i in 0..<m { weights[i] = mu[i] - lambda * (sigmaX[i] - meanX * rowSums[i]) }
        var coefficient = 0.0
        switch variant {
        case .variance:
            coefficient = 2 * lambda * phi
        case .standardDeviation:
            let rootU = 0.5 * (-lambda * phi * v + (lambda * lambda * v * v * phi * phi + 4 * v).squareRoot())
            if rootU != 0 { coefficient = lambda * phi / rootU }
        }
        if coefficient > 0, coefficient.isFinite,
           invertSymmetricPositiveDefinite(sigma, into: &precision, factor: &factor, column: &column, order: m) {
            for i in 0..<m { precision[i * m + i] += coefficient * x[i] * x[i] }
            _ = invertSymmetricPositiveDefinite(precision, into: &sigma, factor: &factor, column: &column, order: m)
        }
        if variant == .standardDeviation && !determinantExceedsEpsilon() {
            for i in 0..<m { sigma[i * m + i] += Double.ulpOfOne }
        }
        var sum = 0.0
        for k in 0..<(m * m) { sum += sigma[k] }
        let scale = 1 / (sum * Double(m))
        if scale.isFinite && scale > 0 { for k in 0..<(m * m) { sigma[k] *= scale } }
        scratch.withUnsafeMutableBufferPointer { projectOntoSimplex(weights, scratch: $0) }
        for i in 0..<m { mean[i] = weights[i] }
    }

    /// Whether `det Σ > ε_mach` (the toolbox's singularity test), from the Cholesky factor's log-determinant.
    private mutating func determinantExceedsEpsilon() -> Bool {
        let m = self.m
        for k in 0..<(m * m) { factor[k] = sigma[k] }
        guard factor.withUnsafeMutableBufferPointer({ choleskyFactorInPlace($0, order: m) }) else { return false }
        var logDeterminant = 0.0
        for i in 0..<m { logDeterminant += 2 * log(factor[i * m + i]) }
        return logDeterminant > log(Double.ulpOfOne)
    }
}

/// `out = a⁻¹` for a symmetric positive definite `order × order` matrix by Cholesky (factor, then
/// solve for each unit column); `factor` and `column` are caller-owned scratch. False (and `out`
/// untouched) if `a` is not positive definite.
func invertSymmetricPositiveDefinite(_ a: [Double], into out: inout [Double], factor: inout [Double], column: inout [Double],
                                     order m: Int) -> Bool {
    for k in 0..<(m * m) { factor[k] = a[k] }
    guard factor.withUnsafeMutableBufferPointer({ choleskyFactorInPlace($0, order: m) }) else { return false }
    for c in 0..<m {
        for i in 0..<m { column[i] = i == c ? 1 : 0 }
        factor.withUnsafeBufferPointer { f in
            column.withUnsafeMutableBufferPointer { choleskySolveInPlace(factor: f, $0, order: m) }
        }
        for i in 0..<m { out[i * m + c] = column[i] }
    }
    return true
}

/// The largest of `0` and the real roots of `a λ² + b λ + c` (NaN roots, from a negative
/// discriminant or `a = 0`, are ignored as in the reference implementations).
@inlinable
func largestNonNegativeRoot(_ a: Double, _ b: Double, _ c: Double) -> Double {
    let root = (b * b - 4 * a * c).squareRoot()
    let plus = (-b + root) / (2 * a), minus = (-b - root) / (2 * a)
    var best = 0.0
    if plus > best { best = plus }
    if minus > best { best = minus }
    return best
}
