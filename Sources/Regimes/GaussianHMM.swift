import Linalg
import Market
import RealModule

/// A Gaussian hidden Markov model: a Markov chain of `K` hidden states with start
/// probabilities `π`, transition matrix `A` (`A[i, j] = Pr(sₜ = j | sₜ₋₁ = i)`) and Gaussian
/// emissions `xₜ | sₜ = k ~ N(μₖ, Σₖ)` (Rabiner 1989; Hamilton 1989 for regime switching).
///
/// Every recursion runs in log space (forward, backward and Viterbi use log-sum-exp and
/// `log A`, with `log 0 = −∞` for structural zeros), so long series never underflow.
/// Each inference method costs O(n·K² + n·K·d²) for `n` observations of `d` features.
///
/// Covariances are stored as full `d × d` matrices for every ``CovarianceType``.
public struct GaussianHMM: Sendable, Hashable {
    /// Start probabilities `π`, length `K`, summing to 1.
    public let startProbabilities: [Double]
    /// Row-stochastic transition matrix, `K × K`.
    public let transition: Matrix
    /// State means, `K × d`.
    public let means: Matrix
    /// State covariances, `K` matrices of `d × d`.
    public let covariances: [Matrix]
    /// The covariance parameterization.
    public let covarianceType: CovarianceType

    /// Number of states `K`.
    public var states: Int { startProbabilities.count }
    /// Number of features `d`.
    public var features: Int { means.columns }

    /// A model from explicit parameters.
    ///
    /// - Throws: ``RegimesError/shapeMismatch(operation:what:expected:found:)`` for inconsistent shapes;
    ///   ``RegimesError/invalidArgument(operation:message:)`` when `π` or a row of `A` is negative or does
    ///   not sum to 1 (within 1e−10); ``RegimesError/notPositiveDefinite(operation:state:pivot:iteration:)``.
    public init(startProbabilities: [Double], transition: Matrix, means: Matrix, covariances: [Matrix],
                covarianceType: CovarianceType = .full) throws {
        let operation = "GaussianHMM.init"
        let k = startProbabilities.count, d = means.columns
        guard k >= 1, transition.rows == k, transition.columns == k else {
            throw RegimesError.shapeMismatch(operation: operation, what: "transition", expected: "\(k)×\(k)",
                                             found: "\(transition.rows)×\(transition.columns)")
        }
        guard means.rows == k, d >= 1 else {
            throw RegimesError.shapeMismatch(operation: operation, what: "means", expected: "\(k)×d with d ≥ 1", found: "\(means.rows)×\(d)")
        }
        guard covariances.count == k, covariances.allSatisfy({ $0.rows == d && $0.columns == d }) else {
            throw RegimesError.shapeMismatch(operation: operation, what: "covariances", expected: "\(k) × (\(d)×\(d))",
                                             found: covariances.map { "\($0.rows)×\($0.columns)" }.joined(separator: ","))
        }
        func check(_ p: [Double], _ what: String) throws {
            guard p.allSatisfy({ $0 >= 0 && $0.isFinite }), Swift.abs(p.reduce(0, +) - 1) <= 1e-10 else {
                throw RegimesError.invalidArgument(operation: operation, message: "\(what) must be non-negative and sum to 1, got \(p)")
            }
        }
        try check(startProbabilities, "start probabilities")
        for i in 0..<k { try check(transition.row(i), "transition row \(i)") }
        if let bad = means.firstNonFiniteIndex() {
            throw RegimesError.nonFinite(operation: operation, row: bad.row, column: bad.column)
        }
        _ = try GaussianBank(means: means, covariances: covariances, operation: operation, iteration: 0)
        self.init(unchecked: startProbabilities, transition: transition, means: means, covariances: covariances, covarianceType: covarianceType)
    }

    init(unchecked start: [Double], transition: Matrix, means: Matrix, covariances: [Matrix], covarianceType: CovarianceType) {
        startProbabilities = start
        self.transition = transition
        self.means = means
        self.covariances = covariances
        self.covarianceType = covarianceType
    }

    func checkFeatures(_ data: Matrix, _ operation: String) throws {
        try validateObservations(data, operation)
        guard data.columns == features else {
            throw RegimesError.shapeMismatch(operation: operation, what: "data", expected: "n×\(features)", found: "\(data.rows)×\(data.columns)")
        }
    }

    // MARK: Inference

    /// Log-space lattices of one pass.
    struct Lattices {
        var logEmission: [Double]   // n × K
        var forward: [Double]       // n × K, log α
        var logLikelihood: Double
        var shiftedForward: [Double] // (n − 1) × K, exp(log αₜ(i) − maxᵢ log αₜ(i)) for t < n − 1
    }

    var logTransition: [Double] { transition.elements.map { Double.log($0) } }

    /// Log-space forward recursion. Each step shifts by `m = maxᵢ log αₜ₋₁(i)`, so
    /// `log αₜ(j) = m + log Σᵢ exp(log αₜ₋₁(i) − m)·Aᵢⱼ + log bⱼ(xₜ)`: K exponentials per step instead of K².
    func forwardPass(_ data: Matrix, _ operation: String, iteration: Int) throws -> Lattices {
        let bank = try GaussianBank(means: means, covariances: covariances, operation: operation, iteration: iteration)
        let logB = bank.logDensities(data)
        let n = data.rows, k = states
        let a = transition.elements
        var alpha = [Double](repeating: 0, count: n * k)
        var p = [Double](repeating: 0, count: Swift.max(n - 1, 0) * k)
        for s in 0..<k { alpha[s] = Double.log(startProbabilities[s]) + logB[s] }
        for t in 1..<Swift.max(n, 1) {
            var m = -Double.infinity
            for i in 0..<k { m = Swift.max(m, alpha[(t - 1) * k + i]) }
            for i in 0..<k { p[(t - 1) * k + i] = Double.exp(alpha[(t - 1) * k + i] - m) }
            for j in 0..<k {
                var sum = 0.0
                for i in 0..<k { sum += p[(t - 1) * k + i] * a[i * k + j] }
                alpha[t * k + j] = m + Double.log(sum) + logB[t * k + j]
            }
        }
        let last = Array(alpha[(n - 1) * k ..< n * k])
        return Lattices(logEmission: logB, forward: alpha, logLikelihood: logSumExp(last), shiftedForward: p)
    }

    /// Posteriors of one E-step: `γ` (`n × K`), the expected transition counts `Σₜ ξₜ` (`K × K`) and
    /// the log-likelihood.
    struct Posteriors {
        var gamma: [Double]
        var transitionCounts: [Double]
        var logLikelihood: Double
    }

    /// The E-step over independent sequences (`ranges` of rows): γ stacked, `Σξ` and the
    /// log-likelihood summed; each sequence takes the scaled recursions, or the log-space ones
    /// when a scale factor underflows.
    func sequencePosteriors(_ data: Matrix, ranges: [Range<Int>], _ operation: String, iteration: Int) throws -> Posteriors {
        let k = states
        let bank = try GaussianBank(means: means, covariances: covariances, operation: operation, iteration: iteration)
        let logB = bank.logDensities(data)
        var total = Posteriors(gamma: [], transitionCounts: [Double](repeating: 0, count: k * k), logLikelihood: 0)
        total.gamma.reserveCapacity(data.rows * k)
        for range in ranges {
            let part = try scaledPosteriors(Array(logB[(range.lowerBound * k)..<(range.upperBound * k)]), n: range.count)
                ?? logSpacePosteriors(data.rows(range), operation, iteration: iteration)
            total.gamma += part.gamma
            for index in 0..<(k * k) { total.transitionCounts[index] += part.transitionCounts[index] }
            total.logLikelihood += part.logLikelihood
        }
        return total
    }

    /// The E-step in log space (shifted per step): the fallback when a scale factor of
    /// ``scaledPosteriors(_:n:)`` underflows.
    func logSpacePosteriors(_ data: Matrix, _ operation: String, iteration: Int) throws -> Posteriors {
        let n = data.rows, k = states
        let lattices = try forwardPass(data, operation, iteration: iteration)
        let (beta, shiftedBackward) = backwardPassWithShifts(lattices, n: n)
        let logL = lattices.logLikelihood
        let alpha = lattices.forward, logB = lattices.logEmission, logA = logTransition
        var gamma = [Double](repeating: 0, count: n * k)
        for index in 0..<(n * k) { gamma[index] = Double.exp(alpha[index] + beta[index] - logL) }
        // ξₜ(i, j) ∝ exp(log αₜ(i) − maₜ)·Aᵢⱼ·exp(log bⱼ(xₜ₊₁) + log βₜ₊₁(j) − mbₜ), normalized to sum 1 over (i, j)
        // (the shifts cancel in the normalization, so nothing overflows or underflows); the plain
        // log-space formula is used for a step whose normalizer underflows.
        var xi = [Double](repeating: 0, count: k * k)
        let a = transition.elements
        let pa = lattices.shiftedForward, pb = shiftedBackward
        var term = [Double](repeating: 0, count: k * k)
        for t in 0..<Swift.max(n - 1, 0) {
            var total = 0.0
            for i in 0..<k { for j in 0..<k { let v = pa[t * k + i] * a[i * k + j] * pb[t * k + j]; term[i * k + j] = v; total += v } }
            if total > 0, total.isFinite {
                for index in 0..<(k * k) { xi[index] += term[index] / total }
            } else {
                for i in 0..<k {
                    for j in 0..<k {
                        xi[i * k + j] += Double.exp(alpha[t * k + i] - logL + logA[i * k + j] + logB[(t + 1) * k + j] + beta[(t + 1) * k + j])
                    }
                }
            }
        }
        return Posteriors(gamma: gamma, transitionCounts: xi, logLikelihood: logL)
    }

    /// The E-step by the scaled forward–backward recursions (Rabiner 1989, §V.A) on emissions
    /// shifted by their row maximum, `b̂ₜⱼ = exp(log bⱼ(xₜ) − maxⱼ log bⱼ(xₜ))`: `n·K` exponentials and
    /// `O(n/100)` logarithms per pass instead of the log-space recursions' `4·n·K`. Returns `nil` when
    /// a scale factor underflows (an observation all states find impossible under the transition
    /// structure) so the caller falls back to the log-space passes.
    func scaledPosteriors(_ logB: [Double], n: Int) -> Posteriors? {
        let k = states, a = transition.elements
        var emission = [Double](repeating: 0, count: n * k)
        var shift = 0.0                              // Σₜ maxⱼ log bⱼ(xₜ)
        for t in 0..<n {
            var m = -Double.infinity
            for j in 0..<k { m = Swift.max(m, logB[t * k + j]) }
            guard m.isFinite else { return nil }
            shift += m
            for j in 0..<k { emission[t * k + j] = Double.exp(logB[t * k + j] - m) }
        }
        var alpha = [Double](repeating: 0, count: n * k)
        var scales = [Double](repeating: 0, count: n)
        var logScaleSum = 0.0, product = 1.0         // Σ log cₜ, taken in blocks to avoid one log per step
        for t in 0..<n {
            var total = 0.0
            for j in 0..<k {
                var predicted = 0.0
                if t == 0 {
                    predicted = startProbabilities[j]
                } else {
                    for i in 0..<k { predicted += alpha[(t - 1) * k + i] * a[i * k + j] }
                }
                let v = predicted * emission[t * k + j]
                alpha[t * k + j] = v
                total += v
            }
            guard total > 1e-280, total.isFinite else { return nil }
            scales[t] = total
            let inverse = 1 / total
            for j in 0..<k { alpha[t * k + j] *= inverse }
            product *= total
            if product < 1e-200 || product > 1e200 { logScaleSum += Double.log(product); product = 1 }
        }
        logScaleSum += Double.log(product)
        var beta = [Double](repeating: 1, count: n * k)
        var weighted = [Double](repeating: 0, count: k)          // b̂ₜ₊₁ⱼ β̂ₜ₊₁ⱼ
        var counts = [Double](repeating: 0, count: k * k)
        var term = [Double](repeating: 0, count: k * k)
        if n >= 2 {
            for t in stride(from: n - 2, through: 0, by: -1) {
                for j in 0..<k { weighted[j] = emission[(t + 1) * k + j] * beta[(t + 1) * k + j] }
                let inverse = 1 / scales[t + 1]
                var total = 0.0
                for i in 0..<k {
                    var sum = 0.0
                    let ai = alpha[t * k + i]
                    for j in 0..<k {
                        let v = a[i * k + j] * weighted[j]
                        sum += v
                        term[i * k + j] = ai * v
                        total += ai * v
                    }
                    beta[t * k + i] = sum * inverse
                }
                // ξₜ(i, j) normalized over (i, j), as the log-space path does.
                guard total > 0, total.isFinite else { return nil }
                let normalizer = 1 / total
                for index in 0..<(k * k) { counts[index] += term[index] * normalizer }
            }
        }
        var gamma = alpha
        for index in 0..<(n * k) { gamma[index] *= beta[index] }
        guard gamma.allSatisfy(\.isFinite) else { return nil }
        return Posteriors(gamma: gamma, transitionCounts: counts, logLikelihood: shift + logScaleSum)
    }

    /// Log-space backward recursion with the same per-step shift as ``forwardPass``.
    func backwardPass(_ lattices: Lattices, n: Int) -> [Double] { backwardPassWithShifts(lattices, n: n).beta }

    /// Log β and, for `t < n − 1`, `exp(uⱼ − maxⱼ uⱼ)` with `uⱼ = log bⱼ(xₜ₊₁) + log βₜ₊₁(j)` (`(n − 1) × K`).
    func backwardPassWithShifts(_ lattices: Lattices, n: Int) -> (beta: [Double], shifted: [Double]) {
        let k = states, a = transition.elements, logB = lattices.logEmission
        var beta = [Double](repeating: 0, count: n * k)
        var q = [Double](repeating: 0, count: Swift.max(n - 1, 0) * k)
        if n >= 2 {
            for t in stride(from: n - 2, through: 0, by: -1) {
                var m = -Double.infinity
                for j in 0..<k { m = Swift.max(m, logB[(t + 1) * k + j] + beta[(t + 1) * k + j]) }
                for j in 0..<k { q[t * k + j] = Double.exp(logB[(t + 1) * k + j] + beta[(t + 1) * k + j] - m) }
                for i in 0..<k {
                    var sum = 0.0
                    for j in 0..<k { sum += a[i * k + j] * q[t * k + j] }
                    beta[t * k + i] = m + Double.log(sum)
                }
            }
        }
        return (beta, q)
    }

    /// Total log-likelihood `log p(x₁…xₙ)` by the forward algorithm. O(n·K² + n·K·d²).
    ///
    /// `lengths` splits `data` into independent sequences (hmmlearn's `lengths`); their
    /// log-likelihoods are summed.
    /// - Throws: ``RegimesError`` for empty or non-finite data, a feature-count mismatch, or lengths
    ///   below 1 or not summing to `n`.
    public func logLikelihood(_ data: Matrix, lengths: [Int]? = nil) throws -> Double {
        let operation = "GaussianHMM.logLikelihood"
        try checkFeatures(data, operation)
        return try totalLogLikelihood(data, ranges: sequenceRanges(lengths, rows: data.rows, operation), operation, iteration: 0)
    }

    func totalLogLikelihood(_ data: Matrix, ranges: [Range<Int>], _ operation: String, iteration: Int) throws -> Double {
        try ranges.reduce(0) { $0 + (try forwardPass(data.rows($1), operation, iteration: iteration).logLikelihood) }
    }

    /// Smoothed posteriors `Pr(sₜ = k | x₁…xₙ)` by forward–backward, `n × K` (rows sum to 1).
    /// These use the whole series and are **not causal**; see ``filteredProbabilities(_:lengths:)``.
    /// `lengths` splits `data` into independent sequences, each smoothed on its own.
    ///
    /// - Throws: as ``logLikelihood(_:lengths:)``.
    public func posteriors(_ data: Matrix, lengths: [Int]? = nil) throws -> Matrix {
        let operation = "GaussianHMM.posteriors"
        try checkFeatures(data, operation)
        var values: [Double] = []
        for range in try sequenceRanges(lengths, rows: data.rows, operation) {
            let part = data.rows(range)
            let lattices = try forwardPass(part, operation, iteration: 0)
            let beta = backwardPass(lattices, n: part.rows)
            values += zip(lattices.forward, beta).map { Double.exp($0 + $1 - lattices.logLikelihood) }
        }
        return try Matrix(rows: data.rows, columns: states, elements: values)
    }

    /// Filtered (causal) probabilities `Pr(sₜ = k | x₁…xₜ)`, `n × K`: row `t` uses observations up
    /// to and including `t` only, so it is safe as a trading feature (Hamilton 1989's filter).
    /// With `lengths`, each independent sequence is filtered from `π`.
    ///
    /// - Throws: as ``logLikelihood(_:lengths:)``.
    public func filteredProbabilities(_ data: Matrix, lengths: [Int]? = nil) throws -> Matrix {
        let operation = "GaussianHMM.filteredProbabilities"
        try checkFeatures(data, operation)
        let k = states
        var values: [Double] = []
        for range in try sequenceRanges(lengths, rows: data.rows, operation) {
            let alpha = try forwardPass(data.rows(range), operation, iteration: 0).forward
            for t in 0..<range.count {
                let norm = logSumExp(Array(alpha[t * k ..< (t + 1) * k]))
                for s in 0..<k { values.append(Double.exp(alpha[t * k + s] - norm)) }
            }
        }
        return try Matrix(rows: data.rows, columns: k, elements: values)
    }

    /// The most likely state sequence (Viterbi 1967) and its joint log-probability `log p(x, s*)`.
    /// Ties go to the lowest state index. With `lengths`, each independent sequence is decoded on
    /// its own; the paths are concatenated and the log-probabilities summed (hmmlearn's `decode`). O(n·K²).
    ///
    /// - Throws: as ``logLikelihood(_:lengths:)``.
    public func viterbi(_ data: Matrix, lengths: [Int]? = nil) throws -> (states: [Int], logProbability: Double) {
        let operation = "GaussianHMM.viterbi"
        try checkFeatures(data, operation)
        let bank = try GaussianBank(means: means, covariances: covariances, operation: operation, iteration: 0)
        let logB = bank.logDensities(data)
        var path: [Int] = [], total = 0.0
        for range in try sequenceRanges(lengths, rows: data.rows, operation) {
            let part = viterbiPath(Array(logB[(range.lowerBound * states)..<(range.upperBound * states)]), n: range.count)
            path += part.states
            total += part.logProbability
        }
        return (path, total)
    }

    func viterbiPath(_ logB: [Double], n: Int) -> (states: [Int], logProbability: Double) {
        let k = states, logA = logTransition
        var delta = (0..<k).map { Double.log(startProbabilities[$0]) + logB[$0] }
        var back = [Int](repeating: 0, count: n * k)
        for t in 1..<Swift.max(n, 1) {
            var next = delta
            for j in 0..<k {
                var best = -Double.infinity, arg = 0
                for i in 0..<k {
                    let v = delta[i] + logA[i * k + j]
                    if v > best { best = v; arg = i }
                }
                next[j] = best + logB[t * k + j]
                back[t * k + j] = arg
            }
            delta = next
        }
        var state = (0..<k).max { (delta[$0], -$0) < (delta[$1], -$1) }!
        let logProbability = delta[state]
        var path = [Int](repeating: 0, count: n)
        for t in stride(from: n - 1, through: 0, by: -1) {
            path[t] = state
            if t > 0 { state = back[t * k + state] }
        }
        return (path, logProbability)
    }

    /// Number of free parameters (hmmlearn's count): `(K−1) + K(K−1) + K·d +` covariance parameters.
    public var parameterCount: Int {
        (states - 1) + states * (states - 1) + states * features + covarianceType.parameterCount(states: states, features: features)
    }

    /// Simulates `count` steps (`count × d` observations and their states) from a generator seeded by `seed`:
    /// per step one uniform for the state, then `d` standard normals (Box–Muller) for the emission.
    ///
    /// - Throws: ``RegimesError/invalidArgument(operation:message:)`` when `count < 1`.
    public func sample(count: Int, seed: UInt64) throws -> (observations: Matrix, states: [Int]) {
        guard count >= 1 else { throw RegimesError.invalidArgument(operation: "GaussianHMM.sample", message: "count \(count) must be ≥ 1") }
        let bank = try GaussianBank(means: means, covariances: covariances, operation: "GaussianHMM.sample", iteration: 0)
        var rng = Xoshiro256StarStar(seed: seed)
        var path: [Int] = []
        var out = Matrix(rows: count, columns: features)
        var state = drawCategorical(startProbabilities, &rng)
        for t in 0..<count {
            if t > 0 { state = drawCategorical(transition.row(state), &rng) }
            path.append(state)
            try out.setRow(t, to: drawGaussian(mean: bank.means[state], lower: bank.lowers[state], &rng))
        }
        return (out, path)
    }

    /// The same model with states relabelled: new state `i` is old state `permutation[i]`.
    public func permuted(_ permutation: [Int]) -> GaussianHMM {
        let k = states
        precondition(permutation.sorted() == Array(0..<k), "GaussianHMM.permuted: \(permutation) is not a permutation of 0..<\(k)")
        return GaussianHMM(unchecked: permutation.map { startProbabilities[$0] },
                           transition: Matrix(rows: k, columns: k) { i, j in transition[permutation[i], permutation[j]] },
                           means: Matrix(rows: k, columns: features) { i, j in means[permutation[i], j] },
                           covariances: permutation.map { covariances[$0] }, covarianceType: covarianceType)
    }
}
