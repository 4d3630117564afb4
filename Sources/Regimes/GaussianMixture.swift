import Linalg
import Market
import RealModule

/// A fitted (or given) Gaussian mixture `p(x) = Σₖ wₖ N(x | μₖ, Σₖ)`.
///
/// Fitting is EM in log space (Dempster, Laird & Rubin 1977; Bishop 2006, §9.2) with scikit-learn's
/// `GaussianMixture` conventions: responsibilities from `log wₖ + log N − logsumexp`; the M-step
/// `Nₖ = Σₜ rₜₖ + 10·ε`, `μₖ = Σₜ rₜₖ xₜ / Nₖ`, `Σₖ = Σₜ rₜₖ (xₜ−μₖ)(xₜ−μₖ)ᵀ / Nₖ + reg·I`
/// (`reg_covar` added to the diagonal after the division; tied pools the scatter over states and
/// divides by `n`; diagonal keeps the diagonal; spherical averages it), `wₖ = Nₖ / ΣNₖ`.
/// Convergence: the change of the mean per-sample log-likelihood is below `tolerance`.
///
/// Covariances are stored as full `d × d` matrices for every ``CovarianceType`` (diagonal ones
/// have zero off-diagonals; tied ones repeat the same matrix).
public struct GaussianMixture: Sendable, Hashable {
    /// Mixture weights, length `K`, summing to 1.
    public let weights: [Double]
    /// Component means, `K × d`.
    public let means: Matrix
    /// Component covariances, `K` matrices of `d × d`.
    public let covariances: [Matrix]
    /// The covariance parameterization.
    public let covarianceType: CovarianceType

    /// Number of components `K`.
    public var components: Int { weights.count }
    /// Number of features `d`.
    public var features: Int { means.columns }

    /// A mixture from explicit parameters.
    ///
    /// - Throws: ``RegimesError/shapeMismatch(operation:what:expected:found:)`` for inconsistent shapes,
    ///   ``RegimesError/invalidArgument(operation:message:)`` for weights that are negative or do not sum
    ///   to 1 (within 1e−10), and ``RegimesError/notPositiveDefinite(operation:state:pivot:iteration:)``.
    public init(weights: [Double], means: Matrix, covariances: [Matrix], covarianceType: CovarianceType = .full) throws {
        let operation = "GaussianMixture.init"
        let k = weights.count, d = means.columns
        guard k >= 1, means.rows == k, d >= 1 else {
            throw RegimesError.shapeMismatch(operation: operation, what: "means", expected: "\(k)×d with d ≥ 1",
                                             found: "\(means.rows)×\(d)")
        }
        guard covariances.count == k, covariances.allSatisfy({ $0.rows == d && $0.columns == d }) else {
            throw RegimesError.shapeMismatch(operation: operation, what: "covariances", expected: "\(k) × (\(d)×\(d))",
                                             found: covariances.map { "\($0.rows)×\($0.columns)" }.joined(separator: ","))
        }
        guard weights.allSatisfy({ $0 >= 0 && $0.isFinite }), Swift.abs(weights.reduce(0, +) - 1) <= 1e-10 else {
            throw RegimesError.invalidArgument(operation: operation, message: "weights must be non-negative and sum to 1, got \(weights)")
        }
        _ = try GaussianBank(means: means, covariances: covariances, operation: operation, iteration: 0)
        self.weights = weights
        self.means = means
        self.covariances = covariances
        self.covarianceType = covarianceType
    }

    init(unchecked weights: [Double], means: Matrix, covariances: [Matrix], covarianceType: CovarianceType) {
        self.weights = weights
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

    /// `n × K` row-major `log wₖ + log N(xₜ | μₖ, Σₖ)`.
    func weightedLogDensities(_ data: Matrix, _ operation: String, iteration: Int) throws -> [Double] {
        let bank = try GaussianBank(means: means, covariances: covariances, operation: operation, iteration: iteration)
        var out = bank.logDensities(data)
        let k = components
        let logWeights = weights.map { Double.log($0) }
        for t in 0..<data.rows { for s in 0..<k { out[t * k + s] += logWeights[s] } }
        return out
    }

    /// E-step: per-sample log-likelihoods and log responsibilities (`n × K`, row-major).
    func expectation(_ data: Matrix, _ operation: String, iteration: Int) throws -> (total: Double, logResponsibilities: [Double]) {
        var w = try weightedLogDensities(data, operation, iteration: iteration)
        let k = components
        var total = 0.0
        w.withUnsafeMutableBufferPointer { p in
            for t in 0..<data.rows {
                let row = UnsafeMutableBufferPointer(rebasing: p[t * k ..< (t + 1) * k])
                let norm = logSumExp(UnsafeBufferPointer(row))
                total += norm
                for s in 0..<k { row[s] -= norm }
            }
        }
        return (total, w)
    }

    /// Total log-likelihood `Σₜ log p(xₜ)` of the rows of `data`. O(n·K·d²).
    ///
    /// - Throws: ``RegimesError`` for empty or non-finite data or a feature-count mismatch.
    public func logLikelihood(_ data: Matrix) throws -> Double {
        try checkFeatures(data, "GaussianMixture.logLikelihood")
        return try expectation(data, "GaussianMixture.logLikelihood", iteration: 0).total
    }

    /// Posterior component probabilities (responsibilities), `n × K`; rows sum to 1.
    ///
    /// - Throws: as ``logLikelihood(_:)``.
    public func responsibilities(_ data: Matrix) throws -> Matrix {
        try checkFeatures(data, "GaussianMixture.responsibilities")
        let r = try expectation(data, "GaussianMixture.responsibilities", iteration: 0).logResponsibilities
        return try Matrix(rows: data.rows, columns: components, elements: r.map { Double.exp($0) })
    }

    /// The most probable component of each row.
    ///
    /// - Throws: as ``logLikelihood(_:)``.
    public func predict(_ data: Matrix) throws -> [Int] {
        let r = try responsibilities(data)
        return (0..<r.rows).map { t in (0..<components).max { r[t, $0] < r[t, $1] }! }
    }

    /// Number of free parameters: `(K−1) + K·d +` the covariance count of ``CovarianceType``.
    public var parameterCount: Int {
        (components - 1) + components * features + covarianceType.parameterCount(states: components, features: features)
    }

    /// Draws `count` observations (`count × d`) and their components with a generator seeded by `seed`.
    ///
    /// - Throws: ``RegimesError/invalidArgument(operation:message:)`` when `count < 1`.
    public func sample(count: Int, seed: UInt64) throws -> (observations: Matrix, components: [Int]) {
        guard count >= 1 else { throw RegimesError.invalidArgument(operation: "GaussianMixture.sample", message: "count \(count) must be ≥ 1") }
        let bank = try GaussianBank(means: means, covariances: covariances, operation: "GaussianMixture.sample", iteration: 0)
        var rng = Xoshiro256StarStar(seed: seed)
        var labels: [Int] = []
        var out = Matrix(rows: count, columns: features)
        for t in 0..<count {
            let s = drawCategorical(weights, &rng)
            labels.append(s)
            try out.setRow(t, to: drawGaussian(mean: bank.means[s], lower: bank.lowers[s], &rng))
        }
        return (out, labels)
    }

    /// The M-step from responsibilities (`n × K`, row-major, probabilities), scikit-learn's formulas.
    static func maximization(_ data: Matrix, responsibilities r: [Double], components k: Int, type: CovarianceType,
                             regularization: Double, operation: String, iteration: Int) throws -> GaussianMixture {
        let n = data.rows, d = data.columns
        var nk = [Double](repeating: 0, count: k)
        var sums = [Double](repeating: 0, count: k * d)
        for t in 0..<n {
            for s in 0..<k {
                let w = r[t * k + s]
                nk[s] += w
                for j in 0..<d { sums[s * d + j] += w * data[t, j] }
            }
        }
        let epsilon = 10 * Double.ulpOfOne
        for s in 0..<k where nk[s] <= Double(n) * 1e-12 {
            throw RegimesError.emptyState(operation: operation, state: s, iteration: iteration)
        }
        nk = nk.map { $0 + epsilon }
        let means = Matrix(rows: k, columns: d) { s, j in sums[s * d + j] / nk[s] }
        var scatters: [Matrix] = []
        for s in 0..<k {
            let weights = (0..<n).map { r[$0 * k + s] }
            scatters.append(weightedScatter(data, weights: weights, mean: means.row(s)))
        }
        var covariances: [Matrix]
        let ridge = Matrix.identity(d).scaled(by: regularization)
        if type == .tied {
            var pooled = Matrix(rows: d, columns: d)
            for s in scatters { pooled = pooled + s }
            let shared = pooled.scaled(by: 1 / nk.reduce(0, +)) + ridge
            covariances = Array(repeating: shared, count: k)
        } else {
            covariances = (0..<k).map { s in structured(scatters[s].scaled(by: 1 / nk[s]), type) + ridge }
        }
        let total = nk.reduce(0, +)
        return GaussianMixture(unchecked: nk.map { $0 / total }, means: means, covariances: covariances, covarianceType: type)
    }
}

/// Expectation–maximization settings for ``GaussianMixture`` (scikit-learn's defaults).
public struct GaussianMixtureEstimator: Sendable, Hashable {
    /// Number of components `K ≥ 1`.
    public var components: Int
    /// Covariance parameterization.
    public var covarianceType: CovarianceType
    /// Added to every covariance diagonal after each M-step (`reg_covar`, default 1e−6); keeps a
    /// constant column's variance positive.
    public var regularization: Double
    /// Number of k-means initializations; the run with the highest final log-likelihood wins (`n_init`).
    public var restarts: Int
    /// Maximum EM iterations per restart (`max_iter`).
    public var maxIterations: Int
    /// Stop when the mean per-sample log-likelihood changes by less than this (`tol`).
    public var tolerance: Double
    /// Order of the returned components (default: ascending mean of feature 0).
    public var ordering: StateOrdering

    /// A configuration; defaults follow scikit-learn (`reg_covar = 1e-6`, `n_init = 1`, `max_iter = 100`, `tol = 1e-3`).
    public init(components: Int, covarianceType: CovarianceType = .full, regularization: Double = 1e-6, restarts: Int = 1,
                maxIterations: Int = 100, tolerance: Double = 1e-3, ordering: StateOrdering = .byMean(feature: 0)) {
        self.components = components
        self.covarianceType = covarianceType
        self.regularization = regularization
        self.restarts = restarts
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.ordering = ordering
    }

    /// A fitted mixture with its diagnostics.
    public struct Fit: Sendable, Hashable {
        /// The fitted mixture (states already reordered by ``GaussianMixtureEstimator/ordering``).
        public let model: GaussianMixture
        /// Total log-likelihood `Σₜ log p(xₜ)` at the returned parameters.
        public let logLikelihood: Double
        /// EM iterations (M-steps) of the winning restart.
        public let iterations: Int
        /// `true` when the winning restart met the tolerance before `maxIterations`.
        public let converged: Bool
        /// Total log-likelihood before each M-step of the winning restart.
        public let history: [Double]
        /// Index of the winning restart.
        public let bestRestart: Int
        /// BIC at the returned parameters.
        public let bic: Double
        /// AIC at the returned parameters.
        public let aic: Double
    }

    func validate(_ data: Matrix, _ operation: String) throws {
        try validateObservations(data, operation)
        guard components >= 1, restarts >= 1, maxIterations >= 1 else {
            throw RegimesError.invalidArgument(operation: operation,
                message: "components (\(components)), restarts (\(restarts)) and maxIterations (\(maxIterations)) must be ≥ 1")
        }
        try validateStateCount(components, "components", operation)
        guard regularization >= 0, regularization.isFinite, tolerance.isFinite else {
            throw RegimesError.invalidArgument(operation: operation, message: "regularization \(regularization) must be finite and ≥ 0")
        }
        let distinct = distinctRowCount(data, limit: components)
        guard distinct >= components else {
            throw RegimesError.tooFewDistinctPoints(operation: operation, distinct: distinct, required: components)
        }
        if regularization == 0, let column = firstConstantColumn(data) {
            throw RegimesError.constantColumn(operation: operation, column: column)
        }
    }

    /// Fits by EM from `restarts` k-means initializations (hard k-means responsibilities, then one
    /// M-step, as scikit-learn's `init_params="kmeans"`), seeded from `seed`.
    ///
    /// Complexity O(restarts · iterations · n · K · d²).
    /// - Throws: ``RegimesError`` for bad data or configuration; ``RegimesError/allRestartsFailed(operation:restarts:lastError:)``
    ///   when every restart hit an empty component or a non-positive-definite covariance.
    public func fit(_ data: Matrix, seed: UInt64) throws -> Fit {
        let operation = "GaussianMixture.fit"
        try validate(data, operation)
        var best: (Run, Int)?
        var lastError = ""
        for r in 0..<restarts {
            do {
                let clustering = try KMeans(clusters: components, restarts: 1, ordering: .none).fit(data, seed: restartSeed(seed, r))
                var resp = [Double](repeating: 0, count: data.rows * components)
                for (t, label) in clustering.labels.enumerated() { resp[t * components + label] = 1 }
                let start = try GaussianMixture.maximization(data, responsibilities: resp, components: components, type: covarianceType,
                                                             regularization: regularization, operation: operation, iteration: 0)
                let run = try em(data, start, operation)
                if best == nil || run.logLikelihood > best!.0.logLikelihood { best = (run, r) }
            } catch let error as RegimesError {
                lastError = error.description
            }
        }
        guard let (run, restart) = best else {
            throw RegimesError.allRestartsFailed(operation: operation, restarts: restarts, lastError: lastError)
        }
        return try finish(run, restart: restart, data)
    }

    /// Runs EM from the given parameters with no restarts: the parity entry point matching
    /// scikit-learn `GaussianMixture(weights_init=, means_init=, precisions_init=)`.
    ///
    /// - Throws: as ``fit(_:seed:)`` (a failure is thrown directly, not wrapped).
    public func refine(_ data: Matrix, from initial: GaussianMixture) throws -> Fit {
        let operation = "GaussianMixture.refine"
        try validate(data, operation)
        guard initial.components == components, initial.features == data.columns else {
            throw RegimesError.shapeMismatch(operation: operation, what: "initial model", expected: "\(components) components × \(data.columns) features",
                                             found: "\(initial.components) × \(initial.features)")
        }
        return try finish(em(data, initial, operation), restart: 0, data)
    }

    struct Run { var model: GaussianMixture; var logLikelihood: Double; var iterations: Int; var converged: Bool; var history: [Double] }

    func em(_ data: Matrix, _ start: GaussianMixture, _ operation: String) throws -> Run {
        var model = start
        var previous = -Double.infinity
        var history: [Double] = []
        var converged = false
        var iterations = 0
        let n = Double(data.rows)
        for iteration in 1...maxIterations {
            let (total, logResp) = try model.expectation(data, operation, iteration: iteration - 1)
            history.append(total)
            model = try GaussianMixture.maximization(data, responsibilities: logResp.map { Double.exp($0) }, components: components,
                                                     type: covarianceType, regularization: regularization,
                                                     operation: operation, iteration: iteration)
            iterations = iteration
            if Swift.abs(total / n - previous / n) < tolerance { converged = true; break }
            previous = total
        }
        let final = try model.expectation(data, operation, iteration: iterations).total
        return Run(model: model, logLikelihood: final, iterations: iterations, converged: converged, history: history)
    }

    func finish(_ run: Run, restart: Int, _ data: Matrix) throws -> Fit {
        let m = run.model
        let perm = orderingPermutation(ordering, means: m.means, covariances: m.covariances)
        let model = GaussianMixture(unchecked: perm.map { m.weights[$0] },
                                    means: Matrix(rows: m.components, columns: m.features) { i, j in m.means[perm[i], j] },
                                    covariances: perm.map { m.covariances[$0] }, covarianceType: m.covarianceType)
        let p = Double(model.parameterCount)
        return Fit(model: model, logLikelihood: run.logLikelihood, iterations: run.iterations, converged: run.converged,
                   history: run.history, bestRestart: restart,
                   bic: -2 * run.logLikelihood + p * Double.log(Double(data.rows)), aic: -2 * run.logLikelihood + 2 * p)
    }
}
