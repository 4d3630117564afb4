import Linalg
import Market
import RealModule

/// Baum–Welch (EM) settings for ``GaussianHMM`` with hmmlearn's update conventions.
///
/// One iteration runs forward–backward in log space at the current parameters (recording the
/// log-likelihood), then the M-step (Rabiner 1989, eqs. 40a–c and 53; hmmlearn `GaussianHMM._do_mstep`):
/// - `πₖ ∝ max(α_π − 1 + γ₀ₖ, 0)` and `Aᵢⱼ ∝ max(α_A − 1 + Σₜ ξₜ(i, j), 0)` (Dirichlet priors
///   ``startPrior`` and ``transitionPrior``; 1 means none; zeros of the current `π`, `A` stay zero);
/// - `μₖ = Σₜ γₜₖ xₜ / Σₜ γₜₖ`;
/// - full: `Σₖ = (c·I + Σₜ γₜₖ (xₜ−μₖ)(xₜ−μₖ)ᵀ) / Σₜ γₜₖ`; tied pools the scatters, adds `c·I` once and divides by `n`;
///   diagonal: `σ²ₖⱼ = (c + Σₜ γₜₖ (xₜⱼ−μₖⱼ)²) / max(Σₜ γₜₖ, 10⁻⁵)`; spherical averages the diagonal
///   (`c` = ``covariancePrior``, hmmlearn's `covars_prior` with `covars_weight = 1`, applied to the diagonal);
/// - finally every covariance eigenvalue (diagonal entry for diagonal/spherical) is raised to at
///   least the ``covarianceFloor``.
///
/// The run stops when the total log-likelihood gains less than ``tolerance`` (hmmlearn's `tol`) or
/// after ``maxIterations``. A state whose total posterior mass falls below `n·10⁻¹²` raises
/// ``RegimesError/emptyState(operation:state:iteration:)``; in ``fit(_:lengths:seed:)`` that restart is discarded.
public struct BaumWelch: Sendable, Hashable {
    /// Number of hidden states `K ≥ 1`.
    public var states: Int
    /// Covariance parameterization.
    public var covarianceType: CovarianceType
    /// Number of random restarts; the run with the highest final log-likelihood wins.
    public var restarts: Int
    /// Maximum EM iterations per restart.
    public var maxIterations: Int
    /// Stop when the total log-likelihood changes by less than this.
    public var tolerance: Double
    /// Dirichlet concentration of the start distribution (1 = maximum likelihood).
    public var startPrior: Double
    /// Dirichlet concentration of each transition row (1 = maximum likelihood).
    public var transitionPrior: Double
    /// Added to the covariance numerator's diagonal (squared data units); 0 = maximum likelihood.
    public var covariancePrior: Double
    /// Lower bound on covariance eigenvalues (squared data units). `nil` means `10⁻⁶ ×` the largest
    /// per-feature sample variance of the data being fitted.
    public var covarianceFloor: Double?
    /// Order of the returned states (default: ascending mean of feature 0).
    public var ordering: StateOrdering

    /// A configuration. Defaults: 5 restarts, 200 iterations, tolerance 1e−6, no priors, relative floor.
    public init(states: Int, covarianceType: CovarianceType = .full, restarts: Int = 5, maxIterations: Int = 200,
                tolerance: Double = 1e-6, startPrior: Double = 1, transitionPrior: Double = 1, covariancePrior: Double = 0,
                covarianceFloor: Double? = nil, ordering: StateOrdering = .byMean(feature: 0)) {
        self.states = states
        self.covarianceType = covarianceType
        self.restarts = restarts
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.startPrior = startPrior
        self.transitionPrior = transitionPrior
        self.covariancePrior = covariancePrior
        self.covarianceFloor = covarianceFloor
        self.ordering = ordering
    }

    /// A fitted HMM with its diagnostics.
    public struct Fit: Sendable, Hashable {
        /// The fitted model (states reordered by ``BaumWelch/ordering``).
        public let model: GaussianHMM
        /// Total log-likelihood at the returned parameters.
        public let logLikelihood: Double
        /// EM iterations (M-steps) of the winning restart.
        public let iterations: Int
        /// `true` when the winning restart met the tolerance before `maxIterations`.
        public let converged: Bool
        /// Log-likelihood before each M-step of the winning restart (non-decreasing up to rounding
        /// when the priors are 1 and the floor is inactive).
        public let history: [Double]
        /// Index of the winning restart.
        public let bestRestart: Int
        /// Final log-likelihood of each restart (`nil` for a restart that failed).
        public let restartLogLikelihoods: [Double?]
        /// BIC at the returned parameters.
        public let bic: Double
        /// AIC at the returned parameters.
        public let aic: Double
    }

    func floorValue(_ data: Matrix) -> Double {
        if let covarianceFloor { return covarianceFloor }
        var largest = 0.0
        for j in 0..<data.columns {
            let column = data.column(j)
            if column.allSatisfy({ $0 == column[0] }) { continue }  // exactly constant: variance 0, not rounding noise
            let mean = column.reduce(0, +) / Double(data.rows)
            largest = Swift.max(largest, column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(data.rows))
        }
        return 1e-6 * largest
    }

    func validate(_ data: Matrix, _ operation: String) throws {
        try validateObservations(data, operation)
        guard states >= 1, restarts >= 1, maxIterations >= 1 else {
            throw RegimesError.invalidArgument(operation: operation,
                message: "states (\(states)), restarts (\(restarts)) and maxIterations (\(maxIterations)) must be ≥ 1")
        }
        try validateStateCount(states, "states", operation)
        guard startPrior.isFinite, transitionPrior.isFinite, covariancePrior >= 0, covariancePrior.isFinite, tolerance.isFinite,
              (covarianceFloor ?? 0) >= 0, (covarianceFloor ?? 0).isFinite else {
            throw RegimesError.invalidArgument(operation: operation, message: "priors, tolerance and floor must be finite; covariancePrior and floor ≥ 0")
        }
        guard data.rows >= 2 else {
            throw RegimesError.invalidArgument(operation: operation, message: "needs at least 2 observations, got \(data.rows)")
        }
        let distinct = distinctRowCount(data, limit: states)
        guard distinct >= states else {
            throw RegimesError.tooFewDistinctPoints(operation: operation, distinct: distinct, required: states)
        }
        if covariancePrior == 0, floorValue(data) == 0, let column = firstConstantColumn(data) {
            throw RegimesError.constantColumn(operation: operation, column: column)
        }
    }

    /// Fits by Baum–Welch from `restarts` initializations seeded from `seed`: means from k-means++
    /// (one Lloyd run), every covariance the sample covariance of the data (structured by type,
    /// floored), `π` uniform and `A` with 0.9 on the diagonal and the rest spread evenly (persistent regimes).
    ///
    /// - Parameters:
    ///   - data: observations, `n × d`.
    ///   - lengths: lengths of independent sequences stacked in `data` (hmmlearn's `lengths`): each
    ///     starts from `π` and no transition links one to the next. `nil` means one sequence.
    ///   - seed: seeds the k-means++ initialization of each restart.
    ///
    /// Complexity O(restarts · iterations · (n·K² + n·K·d²)).
    /// - Throws: ``RegimesError`` for bad data or configuration, including lengths below 1 or not
    ///   summing to `n`; ``RegimesError/tooFewDistinctPoints(operation:distinct:required:)`` for a
    ///   constant series with `K > 1`; ``RegimesError/allRestartsFailed(operation:restarts:lastError:)``.
    public func fit(_ data: Matrix, lengths: [Int]? = nil, seed: UInt64) throws -> Fit {
        let operation = "GaussianHMM.fit"
        try validate(data, operation)
        let ranges = try sequenceRanges(lengths, rows: data.rows, operation)
        let k = states, d = data.columns, floor = floorValue(data)
        var best: (Run, Int)?
        var finals: [Double?] = []
        var lastError = ""
        let globalMean = (0..<d).map { j in data.column(j).reduce(0, +) / Double(data.rows) }
        let global = weightedScatter(data, weights: Array(repeating: 1 / Double(data.rows), count: data.rows), mean: globalMean)
        let initialCovariance = flooredCovariance(structured(global, covarianceType), floor: floor, type: covarianceType)
        let stay = k == 1 ? 1.0 : 0.9
        let transition = Matrix(rows: k, columns: k) { i, j in i == j ? stay : (1 - stay) / Double(k - 1) }
        for r in 0..<restarts {
            do {
                let centers = try KMeans(clusters: k, restarts: 1, ordering: .none).fit(data, seed: restartSeed(seed, r)).centers
                let start = GaussianHMM(unchecked: Array(repeating: 1 / Double(k), count: k), transition: transition, means: centers,
                                        covariances: Array(repeating: initialCovariance, count: k), covarianceType: covarianceType)
                let run = try em(data, ranges: ranges, start, floor: floor, operation)
                finals.append(run.logLikelihood)
                if best == nil || run.logLikelihood > best!.0.logLikelihood { best = (run, r) }
            } catch let error as RegimesError {
                finals.append(nil)
                lastError = error.description
            }
        }
        guard let (run, restart) = best else {
            throw RegimesError.allRestartsFailed(operation: operation, restarts: restarts, lastError: lastError)
        }
        return finish(run, restart: restart, finals: finals, data)
    }

    /// Runs Baum–Welch from the given model with no restarts: the parity entry point matching
    /// hmmlearn `GaussianHMM(init_params="")` with the same `startprob_`, `transmat_`, `means_`, `covars_`.
    ///
    /// `lengths` splits `data` into independent sequences as in ``fit(_:lengths:seed:)``.
    ///
    /// - Throws: as ``fit(_:lengths:seed:)``, failures thrown directly.
    public func refine(_ data: Matrix, lengths: [Int]? = nil, from initial: GaussianHMM) throws -> Fit {
        let operation = "GaussianHMM.refine"
        try validate(data, operation)
        let ranges = try sequenceRanges(lengths, rows: data.rows, operation)
        guard initial.states == states, initial.features == data.columns else {
            throw RegimesError.shapeMismatch(operation: operation, what: "initial model", expected: "\(states) states × \(data.columns) features",
                                             found: "\(initial.states) × \(initial.features)")
        }
        let run = try em(data, ranges: ranges, initial, floor: floorValue(data), operation)
        return finish(run, restart: 0, finals: [run.logLikelihood], data)
    }

    /// Fits one model per candidate state count and returns all fits with the one of lowest BIC.
    ///
    /// - Throws: ``RegimesError/invalidArgument(operation:message:)`` for an empty candidate list, else as ``fit(_:lengths:seed:)``.
    public func selectByBIC(_ data: Matrix, lengths: [Int]? = nil, candidates: [Int], seed: UInt64) throws -> (best: Fit, fits: [Int: Fit]) {
        guard !candidates.isEmpty else {
            throw RegimesError.invalidArgument(operation: "GaussianHMM.selectByBIC", message: "no candidate state counts")
        }
        var fits: [Int: Fit] = [:]
        for k in candidates {
            var config = self
            config.states = k
            fits[k] = try config.fit(data, lengths: lengths, seed: seed)
        }
        let best = fits.min { ($0.value.bic, $0.key) < ($1.value.bic, $1.key) }!.value
        return (best, fits)
    }

    struct Run { var model: GaussianHMM; var logLikelihood: Double; var iterations: Int; var converged: Bool; var history: [Double] }

    func em(_ data: Matrix, ranges: [Range<Int>], _ start: GaussianHMM, floor: Double, _ operation: String) throws -> Run {
        var model = start
        var history: [Double] = []
        var previous = -Double.infinity
        var converged = false
        var iterations = 0
        for iteration in 1...maxIterations {
            let (logLikelihood, next) = try step(data, ranges: ranges, model, floor: floor, operation, iteration: iteration)
            history.append(logLikelihood)
            model = next
            iterations = iteration
            if logLikelihood - previous < tolerance { converged = true; break }
            previous = logLikelihood
        }
        let final = try model.totalLogLikelihood(data, ranges: ranges, operation, iteration: iterations)
        return Run(model: model, logLikelihood: final, iterations: iterations, converged: converged, history: history)
    }

    /// One E-step at `model` and the M-step; returns the log-likelihood at `model` and the update.
    func step(_ data: Matrix, ranges: [Range<Int>], _ model: GaussianHMM, floor: Double, _ operation: String,
              iteration: Int) throws -> (Double, GaussianHMM) {
        let n = data.rows, k = states, d = data.columns
        let posteriors = try model.sequencePosteriors(data, ranges: ranges, operation, iteration: iteration - 1)
        let logL = posteriors.logLikelihood, gamma = posteriors.gamma, xi = posteriors.transitionCounts
        // Start and transition with Dirichlet priors; structural zeros stay zero.
        // Each sequence contributes its first posterior to the start counts (hmmlearn's `stats["start"]`).
        var start = (0..<k).map { s in
            model.startProbabilities[s] == 0 ? 0 : Swift.max(startPrior - 1 + ranges.reduce(0) { $0 + gamma[$1.lowerBound * k + s] }, 0)
        }
        let startTotal = start.reduce(0, +)
        if startTotal > 0 { start = start.map { $0 / startTotal } }
        var transition = Matrix(rows: k, columns: k)
        for i in 0..<k {
            var row = (0..<k).map { j in model.transition[i, j] == 0 ? 0 : Swift.max(transitionPrior - 1 + xi[i * k + j], 0) }
            let total = row.reduce(0, +)
            if total > 0 { row = row.map { $0 / total } } else { row = model.transition.row(i) }
            try transition.setRow(i, to: row)
        }
        // Means and covariances.
        var post = [Double](repeating: 0, count: k)
        var sums = [Double](repeating: 0, count: k * d)
        data.withUnsafeBufferPointer { x in
            for t in 0..<n {
                for s in 0..<k {
                    let g = gamma[t * k + s]
                    post[s] += g
                    for j in 0..<d { sums[s * d + j] += g * x[t * d + j] }
                }
            }
        }
        for s in 0..<k where post[s] <= Double(n) * 1e-12 {
            throw RegimesError.emptyState(operation: operation, state: s, iteration: iteration)
        }
        let means = Matrix(rows: k, columns: d) { s, j in sums[s * d + j] / post[s] }
        // All states' weighted scatters Σₜ γₜₛ (xₜ − μₛ)(xₜ − μₛ)ᵀ in one pass (lower triangles, then mirrored).
        var scatter = [Double](repeating: 0, count: k * d * d)
        var diff = [Double](repeating: 0, count: d)
        let mu = means.elements
        data.withUnsafeBufferPointer { x in
            for t in 0..<n {
                for s in 0..<k {
                    let g = gamma[t * k + s]
                    for i in 0..<d { diff[i] = x[t * d + i] - mu[s * d + i] }
                    for i in 0..<d {
                        let gi = g * diff[i]
                        for j in 0...i { scatter[(s * d + i) * d + j] += gi * diff[j] }
                    }
                }
            }
        }
        let scatters = (0..<k).map { s in
            Matrix(rows: d, columns: d) { i, j in i >= j ? scatter[(s * d + i) * d + j] : scatter[(s * d + j) * d + i] }
        }
        let prior = Matrix.identity(d).scaled(by: covariancePrior)
        var covariances: [Matrix]
        switch covarianceType {
        case .full:
            covariances = (0..<k).map { s in (prior + scatters[s]).scaled(by: 1 / post[s]) }
        case .tied:
            var pooled = prior
            for s in scatters { pooled = pooled + s }
            covariances = Array(repeating: pooled.scaled(by: 1 / post.reduce(0, +)), count: k)
        case .diagonal, .spherical:
            covariances = (0..<k).map { s in
                structured(Matrix.diagonal(scatters[s].diagonalElements.map { ($0 + covariancePrior) / Swift.max(post[s], 1e-5) }), covarianceType)
            }
        }
        covariances = covariances.map { flooredCovariance($0, floor: floor, type: covarianceType) }
        return (logL, GaussianHMM(unchecked: start, transition: transition, means: means, covariances: covariances,
                                  covarianceType: covarianceType))
    }

    func finish(_ run: Run, restart: Int, finals: [Double?], _ data: Matrix) -> Fit {
        let perm = orderingPermutation(ordering, means: run.model.means, covariances: run.model.covariances)
        let model = run.model.permuted(perm)
        let p = Double(model.parameterCount)
        return Fit(model: model, logLikelihood: run.logLikelihood, iterations: run.iterations, converged: run.converged,
                   history: run.history, bestRestart: restart, restartLogLikelihoods: finals,
                   bic: -2 * run.logLikelihood + p * Double.log(Double(data.rows)), aic: -2 * run.logLikelihood + 2 * p)
    }
}
