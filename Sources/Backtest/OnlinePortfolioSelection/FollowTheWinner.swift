import Foundation
import Linalg

/// Exponentiated gradient (EG; Helmbold, Schapire, Singer & Warmuth 1998, "On-line portfolio
/// selection using multiplicative updates", Mathematical Finance 8(4)):
/// `b_{t+1,i} ∝ b_{t,i} · exp(η x_{t,i} / (b_t · x_t))`, starting uniform. Default `η = 0.05`
/// (OLPS toolbox, Li, Sahoo & Hoi 2016).
public struct ExponentiatedGradient: OnlinePortfolioSelector, Sendable {
    /// Learning rate `η > 0`.
    public let learningRate: Double

    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` unless `η > 0`.
    public init(learningRate: Double = 0.05) throws {
        guard learningRate > 0, learningRate.isFinite else {
            throw OLPSError.invalidParameter(algorithm: "EG", name: "eta", value: learningRate, requirement: "> 0")
        }
        self.learningRate = learningRate
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String { "EG(η=\(learningRate))" }
    public mutating func reset(assetCount: Int) throws {}
    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        guard step.period > 0 else { fillUniform(weights); return }
        let x = step.observed.last, b = step.previous
        let growth = dot(b, x)
        var sum = 0.0
        for i in 0..<weights.count {
            weights[i] = b[i] * exp(learningRate * x[i] / growth)
            sum += weights[i]
        }
        for i in 0..<weights.count { weights[i] /= sum }
    }
}

/// Online Newton step (ONS; Agarwal, Hazan, Kale & Schapire 2006, "Algorithms for portfolio
/// management based on the Newton method", ICML): with `∇_t = x_t / (b_t · x_t)`,
/// `A_t = I + Σ ∇∇ᵀ`, `p_t = (1 + 1/β) Σ ∇`, the next portfolio is
/// `(1 − η) Π_A(δ A⁻¹ p) + η/m`, where `Π_A` is the projection onto the simplex in the norm
/// induced by `A` (solved exactly by ``SimplexInteriorPoint``). Defaults `δ = 1/8`, `β = 1`,
/// `η = 0` (OLPS toolbox).
public struct OnlineNewtonStep: OnlinePortfolioSelector {
    /// Step parameter `δ`.
    public let delta: Double
    /// Gradient scale `β`.
    public let beta: Double
    /// Mixing weight `η ∈ [0, 1]` of the uniform portfolio.
    public let eta: Double
    /// Status of the last projection (for diagnostics).
    public private(set) var lastProjection: SimplexSolverReport?
    private var m = 0
    private var p: [Double] = [], target: [Double] = [], gradient: [Double] = [], factor: [Double] = []
    private var solver = SimplexInteriorPoint(assetCount: 1)
    private var objective = NormProjection(metric: [], target: [], m: 0, difference: [])

    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for `δ ≤ 0`,
    ///   `β ≤ 0` or `η ∉ [0, 1]`.
    public init(delta: Double = 0.125, beta: Double = 1, eta: Double = 0) throws {
        guard delta > 0, delta.isFinite else { throw OLPSError.invalidParameter(algorithm: "ONS", name: "delta", value: delta, requirement: "> 0") }
        guard beta > 0, beta.isFinite else { throw OLPSError.invalidParameter(algorithm: "ONS", name: "beta", value: beta, requirement: "> 0") }
        guard eta >= 0, eta <= 1 else { throw OLPSError.invalidParameter(algorithm: "ONS", name: "eta", value: eta, requirement: "in [0, 1]") }
        self.delta = delta
        self.beta = beta
        self.eta = eta
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String { "ONS(δ=\(delta), β=\(beta), η=\(eta))" }

    public mutating func reset(assetCount: Int) throws {
        m = assetCount
        var identity = [Double](repeating: 0, count: m * m)
        for i in 0..<m { identity[i * m + i] = 1 }
        p = Array(repeating: 0, count: m)
        target = p
        gradient = p
        factor = identity
        solver = SimplexInteriorPoint(assetCount: m)
        objective = NormProjection(metric: identity, target: p, m: m, difference: p)
        lastProjection = nil
    }

    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        guard step.period > 0 else { fillUniform(weights); return }
        let x = step.observed.last, b = step.previous
        let growth = dot(b, x)
        for i in 0..<m { gradient[i] = x[i] / growth }
        let scale = 1 + 1 / beta
        for i in 0..<m {
            p[i] += scale * gradient[i]
            for j in 0..<m { objective.metric[i * m + j] += gradient[i] * gradient[j] }
        }
        // target = δ A⁻¹ p (A is symmetric positive definite).
        solveSymmetricPositiveDefinite(objective.metric, p, into: &target, factor: &factor, order: m)
        for i in 0..<m { objective.target[i] = delta * target[i] }
        let report = solver.minimize(&objective)
        lastProjection = report
        let uniform = 1 / Double(m)
        for i in 0..<m { weights[i] = (1 - eta) * solver.b[i] + eta * uniform }
        normalizeClamped(weights)
    }
}

/// `f(y) = (y − c)ᵀ A (y − c)`: the squared `A`-norm distance minimized by ONS's projection.
struct NormProjection: SimplexObjective {
    var metric: [Double]
    var target: [Double]
    let m: Int
    var difference: [Double]

    mutating func evaluate(_ b: UnsafeMutableBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>,
                           hessian: UnsafeMutableBufferPointer<Double>) -> Double {
        for i in 0..<m { difference[i] = b[i] - target[i] }
        var value = 0.0
        for i in 0..<m {
            var s = 0.0
            for j in 0..<m { s += metric[i * m + j] * difference[j] }
            gradient[i] = 2 * s
            value += difference[i] * s
        }
        for k in 0..<(m * m) { hessian[k] = 2 * metric[k] }
        return value
    }
}

/// Solves `A y = r` for symmetric positive definite `A` (`order × order`, row-major) by Cholesky,
/// writing `y`; `factor` is caller-owned scratch of `order²` entries, so nothing is allocated.
func solveSymmetricPositiveDefinite(_ a: [Double], _ r: [Double], into y: inout [Double], factor: inout [Double], order m: Int) {
    for k in 0..<(m * m) { factor[k] = a[k] }
    for i in 0..<m { y[i] = r[i] }
    factor.withUnsafeMutableBufferPointer { f in
        _ = choleskyFactorInPlace(f, order: m)   // A = I + Σ∇∇ᵀ is positive definite
        y.withUnsafeMutableBufferPointer { choleskySolveInPlace(factor: UnsafeBufferPointer(f), $0, order: m) }
    }
}

/// Clamps tiny negative round-off to zero and rescales to sum one.
@inlinable
func normalizeClamped(_ b: UnsafeMutableBufferPointer<Double>) {
    var sum = 0.0
    for i in 0..<b.count { b[i] = max(b[i], 0); sum += b[i] }
    for i in 0..<b.count { b[i] /= sum }
}

/// Cover's universal portfolio (UP; Cover 1991, "Universal portfolios", Mathematical Finance
/// 1(1)), approximated by Monte Carlo: `N` portfolios `w_k` drawn uniformly on the simplex
/// (Dirichlet(1), from a seeded ``Xoshiro256StarStar``), and
/// `b_t = Σ_k S_{t−1}(w_k) w_k / Σ_k S_{t−1}(w_k)` with `S_{t−1}(w)` the wealth of the constant
/// rebalanced portfolio `w` so far. Its final wealth is the mean of the `N` CRP wealths.
/// This is ``OLPSConvention/paper``: default `N = 10 000` (universal-portfolios' evaluation points).
///
/// Under ``OLPSConvention/toolbox`` (`up_expert.m`, after Kalai & Vempala 2002, "Efficient
/// algorithms for universal portfolios", JMLR 3) each period's portfolio is the mean of 10
/// Metropolis random walks of 5 steps, each started at the uniform portfolio: a step moves
/// `±δ` (δ = 5e-3) between a random asset `j < m` and the last asset, is allowed only if both stay
/// at least `δ₀ = 4e-3`, and is accepted with probability `min(1, Q(b')/Q(b))`, where
/// `Q(b) = S_{t−1}(b) · min(1, exp((b_m − 2δ₀)/(mδ)))` and `S_{t−1}(b)` is the CRP wealth so far.
/// The toolbox draws from MATLAB's global random stream, which cannot be reproduced; MetaFolio draws
/// the same walk from its own seeded ``Xoshiro256StarStar``, so the two agree in distribution, not
/// bit for bit. Seed 1 by default under both conventions.
public struct UniversalPortfolio: OnlinePortfolioSelector, Sendable {
    /// Number of sampled portfolios `N` (paper convention).
    public let sampleCount: Int
    /// Seed of the sampler.
    public let seed: UInt64
    /// Dirichlet samples (paper) or the toolbox's random walk.
    public let convention: OLPSConvention
    private var m = 0
    private var samples: [Double] = [], wealth: [Double] = []
    private var generator = Xoshiro256StarStar(seed: 1)
    private var uniformGrowth: [Double] = [], chainGrowth: [Double] = [], chain: [Double] = []

    /// Random walks per period, steps per walk, grid spacing and minimum coordinate of the toolbox's sampler.
    static let walkCount = 10, walkSteps = 5, walkSpacing = 5e-3, walkMinimum = 4e-3

    /// The universal portfolio estimated from `N` portfolios drawn with `seed` (the toolbox's random walk or the paper's uniform samples, by `convention`).
    ///
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` unless `N ≥ 1`.
    public init(sampleCount: Int = 10_000, seed: UInt64 = 1, convention: OLPSConvention = .toolbox) throws {
        guard sampleCount >= 1 else {
            throw OLPSError.invalidParameter(algorithm: "UP", name: "samples", value: Double(sampleCount), requirement: "≥ 1")
        }
        self.sampleCount = sampleCount
        self.seed = seed
        self.convention = convention
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String {
        convention == .toolbox ? "UP(random walk 10×5, seed=\(seed))" : "UP(N=\(sampleCount), seed=\(seed))"
    }

    public mutating func reset(assetCount: Int) throws {
        m = assetCount
        generator = Xoshiro256StarStar(seed: seed)
        if convention == .toolbox {
            uniformGrowth = []
            chainGrowth = []
            chain = Array(repeating: 0, count: m)
            samples = []
            wealth = []
            return
        }
        samples = Array(repeating: 0, count: sampleCount * m)
        for k in 0..<sampleCount {   // normalized exponential spacings are uniform on the simplex
            var sum = 0.0
            for i in 0..<m {
                let e = -log(1 - generator.nextUniform())
                samples[k * m + i] = e
                sum += e
            }
            for i in 0..<m { samples[k * m + i] /= sum }
        }
        wealth = Array(repeating: 1, count: sampleCount)
    }

    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        if convention == .toolbox { randomWalkPortfolio(step, into: weights); return }
        let m = self.m
        let x: UnsafeBufferPointer<Double>? = step.period > 0 ? step.observed.last : nil
        for i in 0..<m { weights[i] = 0 }
        samples.withUnsafeBufferPointer { w in
            wealth.withUnsafeMutableBufferPointer { s in
                var largest = 0.0
                for k in 0..<sampleCount {
                    let row = k * m
                    if let x {
                        var growth = 0.0
                        for i in 0..<m { growth += w[row + i] * x[i] }
                        s[k] *= growth
                    }
                    largest = max(largest, s[k])
                    for i in 0..<m { weights[i] += s[k] * w[row + i] }
                }
                // Rescale the wealths so they never overflow; b_t is scale-free.
                for k in 0..<sampleCount { s[k] /= largest }
            }
        }
        normalizeClamped(weights)
    }

    /// The toolbox's sampler: the mean of the random walks' end points. The CRP growths
    /// `b · x_s` of the walk's current point are kept for every observed period, so a proposal costs
    /// `O(t)` and a period `O(t)` per walk step.
    private mutating func randomWalkPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        let m = self.m, t = step.observed.count
        fillUniform(weights)
        guard t > 0 else { return }
        let x = step.observed.last
        var mean = 0.0
        for i in 0..<m { mean += x[i] }
        uniformGrowth.append(mean / Double(m))
        guard m > 1 else { return }
        if chainGrowth.count < t { chainGrowth.append(0) }
        let delta = Self.walkSpacing, minimum = Self.walkMinimum, last = m - 1
        for i in 0..<m { weights[i] = 0 }
        for _ in 0..<Self.walkCount {
            for i in 0..<m { chain[i] = 1 / Double(m) }
            for s in 0..<t { chainGrowth[s] = uniformGrowth[s] }
            for _ in 0..<Self.walkSteps {
                let j = min(Int(generator.nextUniform() * Double(m - 1)), m - 2)
                let sign: Double = generator.nextUniform() < 0.5 ? 1 : -1
                let proposedJ = chain[j] + sign * delta, proposedLast = chain[last] - sign * delta
                guard proposedJ >= minimum && proposedLast >= minimum else { continue }
                // log Q(b') − log Q(b): the CRP log-wealth change plus the boundary factor's.
                var logRatio = 0.0
                for s in 0..<t {
                    let row = step.observed.row(s)
                    logRatio += log((chainGrowth[s] + sign * delta * (row[j] - row[last])) / chainGrowth[s])
                }
                logRatio += min(0, (proposedLast - 2 * minimum) / (Double(m) * delta))
                    - min(0, (chain[last] - 2 * minimum) / (Double(m) * delta))
                guard generator.nextUniform() < min(exp(logRatio), 1) else { continue }
                chain[j] = proposedJ
                chain[last] = proposedLast
                for s in 0..<t {
                    let row = step.observed.row(s)
                    chainGrowth[s] += sign * delta * (row[j] - row[last])
                }
            }
            for i in 0..<m { weights[i] += chain[i] / Double(Self.walkCount) }
        }
        normalizeClamped(weights)
    }
}
