import Linalg
import Market
import RealModule

/// k-means clustering by Lloyd's algorithm with greedy k-means++ seeding and `n_init` restarts.
///
/// Minimizes the inertia `Σₜ ‖xₜ − c_{label(t)}‖²` (Lloyd 1982; Arthur & Vassilvitskii 2007 for
/// k-means++, with scikit-learn's greedy variant drawing `2 + ⌊ln K⌋` candidates per centre).
/// Iteration stops when the labels no longer change ("strict convergence") or when the squared
/// centre shift `Σₖ ‖cₖ⁽ⁱ⁺¹⁾ − cₖ⁽ⁱ⁾‖²` is at most `tolerance × mean(per-feature variance)`;
/// these are scikit-learn's `KMeans(algorithm="lloyd")` conventions, including a final labelling
/// pass against the returned centres when convergence was not strict.
///
/// Empty clusters are recovered, as in scikit-learn: an empty cluster's centre moves to the point
/// farthest from its current centre, so no centre is ever NaN.
///
/// ```swift
/// let fit = try KMeans(clusters: 3).fit(returns, seed: 7)
/// fit.centers   // 3 × d, fit.labels[t] ∈ 0..<3
/// ```
public struct KMeans: Sendable, Hashable {
    /// Number of clusters `K ≥ 1`.
    public var clusters: Int
    /// Number of k-means++ restarts; the run with the lowest inertia wins (scikit-learn `n_init`).
    public var restarts: Int
    /// Maximum Lloyd iterations per restart.
    public var maxIterations: Int
    /// Relative tolerance on the squared centre shift (scikit-learn `tol`, scaled by the mean variance).
    public var tolerance: Double
    /// Order of the returned clusters (default: ascending mean of feature 0).
    public var ordering: StateOrdering

    /// A configuration; defaults follow scikit-learn (`n_init = 10`, `max_iter = 300`, `tol = 1e-4`).
    public init(clusters: Int, restarts: Int = 10, maxIterations: Int = 300, tolerance: Double = 1e-4,
                ordering: StateOrdering = .byMean(feature: 0)) {
        self.clusters = clusters
        self.restarts = restarts
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.ordering = ordering
    }

    /// A fitted clustering.
    public struct Fit: Sendable, Hashable {
        /// Cluster centres, `K × d`.
        public let centers: Matrix
        /// Cluster of each observation, length `n`.
        public let labels: [Int]
        /// Sum of squared distances of the observations to their centres.
        public let inertia: Double
        /// Lloyd iterations of the winning restart.
        public let iterations: Int
        /// `true` when the winning restart stopped by the convergence test, not by `maxIterations`.
        public let converged: Bool
        /// Index (0-based) of the winning restart.
        public let bestRestart: Int
        /// Inertia of every restart, in restart order.
        public let restartInertias: [Double]

        /// The nearest centre of each row of `data` (`n × d`). O(n·K·d).
        ///
        /// - Throws: ``RegimesError`` for empty or non-finite data or a feature-count mismatch.
        public func predict(_ data: Matrix) throws -> [Int] {
            try validateObservations(data, "KMeans.predict")
            guard data.columns == centers.columns else {
                throw RegimesError.shapeMismatch(operation: "KMeans.predict", what: "data", expected: "n×\(centers.columns)",
                                                 found: "\(data.rows)×\(data.columns)")
            }
            return KMeans.assign(data, centers).labels
        }
    }

    func validate(_ data: Matrix, _ operation: String) throws {
        try validateObservations(data, operation)
        guard clusters >= 1 else { throw RegimesError.invalidArgument(operation: operation, message: "clusters \(clusters) must be ≥ 1") }
        try validateStateCount(clusters, "clusters", operation)
        guard restarts >= 1 else { throw RegimesError.invalidArgument(operation: operation, message: "restarts \(restarts) must be ≥ 1") }
        guard maxIterations >= 1 else {
            throw RegimesError.invalidArgument(operation: operation, message: "maxIterations \(maxIterations) must be ≥ 1")
        }
        guard tolerance >= 0, tolerance.isFinite else {
            throw RegimesError.invalidArgument(operation: operation, message: "tolerance \(tolerance) must be finite and ≥ 0")
        }
        let distinct = distinctRowCount(data, limit: clusters)
        guard distinct >= clusters else {
            throw RegimesError.tooFewDistinctPoints(operation: operation, distinct: distinct, required: clusters)
        }
    }

    /// Clusters the rows of `data` (`n × d`), seeding restart `r` from a stream derived from `seed`.
    ///
    /// Complexity O(restarts · iterations · n · K · d).
    /// - Throws: ``RegimesError/emptyData(operation:)``, ``RegimesError/nonFinite(operation:row:column:)``,
    ///   ``RegimesError/invalidArgument(operation:message:)`` for a bad configuration, and
    ///   ``RegimesError/tooFewDistinctPoints(operation:distinct:required:)`` when fewer than `K`
    ///   distinct rows exist (a constant series with `K > 1`).
    public func fit(_ data: Matrix, seed: UInt64) throws -> Fit {
        try validate(data, "KMeans.fit")
        var best: (run: Run, restart: Int)?
        var inertias: [Double] = []
        for r in 0..<restarts {
            var rng = Xoshiro256StarStar(seed: restartSeed(seed, r))
            let initial = KMeans.plusPlus(data, clusters: clusters, &rng)
            let run = lloyd(data, initial)
            inertias.append(run.inertia)
            if best == nil || run.inertia < best!.run.inertia { best = (run, r) }
        }
        return finish(best!.run, restart: best!.restart, inertias: inertias, data)
    }

    /// Runs Lloyd's iterations from the given centres (`K × d`), with no restarts; the parity
    /// entry point matching scikit-learn `KMeans(init=centers, n_init=1)`.
    ///
    /// - Throws: as ``fit(_:seed:)``, plus ``RegimesError/shapeMismatch(operation:what:expected:found:)``
    ///   when `initialCenters` is not `K × d`.
    public func refine(_ data: Matrix, initialCenters: Matrix) throws -> Fit {
        try validate(data, "KMeans.refine")
        guard initialCenters.rows == clusters, initialCenters.columns == data.columns else {
            throw RegimesError.shapeMismatch(operation: "KMeans.refine", what: "initialCenters", expected: "\(clusters)×\(data.columns)",
                                             found: "\(initialCenters.rows)×\(initialCenters.columns)")
        }
        if let bad = initialCenters.firstNonFiniteIndex() {
            throw RegimesError.nonFinite(operation: "KMeans.refine", row: bad.row, column: bad.column)
        }
        let run = lloyd(data, initialCenters)
        return finish(run, restart: 0, inertias: [run.inertia], data)
    }

    struct Run { var centers: Matrix; var labels: [Int]; var inertia: Double; var iterations: Int; var converged: Bool }

    func finish(_ run: Run, restart: Int, inertias: [Double], _ data: Matrix) -> Fit {
        let perm = orderingPermutation(ordering, means: run.centers,
                                       covariances: KMeans.clusterVariances(data, run))
        var inverse = [Int](repeating: 0, count: perm.count)
        for (newIndex, old) in perm.enumerated() { inverse[old] = newIndex }
        let centers = Matrix(rows: run.centers.rows, columns: run.centers.columns) { i, j in run.centers[perm[i], j] }
        return Fit(centers: centers, labels: run.labels.map { inverse[$0] }, inertia: run.inertia,
                   iterations: run.iterations, converged: run.converged, bestRestart: restart, restartInertias: inertias)
    }

    /// Per-cluster population variances of each feature, as diagonal matrices (for ordering by variance);
    /// 0 for a cluster with one point.
    static func clusterVariances(_ data: Matrix, _ run: Run) -> [Matrix] {
        let k = run.centers.rows, d = run.centers.columns
        var sums = [Double](repeating: 0, count: k * d), counts = [Int](repeating: 0, count: k)
        for (t, label) in run.labels.enumerated() {
            counts[label] += 1
            for j in 0..<d { let v = data[t, j] - run.centers[label, j]; sums[label * d + j] += v * v }
        }
        return (0..<k).map { s in Matrix.diagonal((0..<d).map { sums[s * d + $0] / Double(Swift.max(counts[s], 1)) }) }
    }

    /// Nearest-centre labels and inertia. O(n·K·d).
    static func assign(_ data: Matrix, _ centers: Matrix) -> (labels: [Int], inertia: Double, distances: [Double]) {
        let n = data.rows, d = data.columns, k = centers.rows
        var labels = [Int](repeating: 0, count: n)
        var distances = [Double](repeating: 0, count: n)
        var inertia = 0.0
        data.withUnsafeBufferPointer { x in
            centers.withUnsafeBufferPointer { c in
                for t in 0..<n {
                    var bestDistance = Double.infinity, bestIndex = 0
                    for s in 0..<k {
                        var dist = 0.0
                        for j in 0..<d { let v = x[t * d + j] - c[s * d + j]; dist += v * v }
                        if dist < bestDistance { bestDistance = dist; bestIndex = s }
                    }
                    labels[t] = bestIndex
                    distances[t] = bestDistance
                    inertia += bestDistance
                }
            }
        }
        return (labels, inertia, distances)
    }

    func lloyd(_ data: Matrix, _ initial: Matrix) -> Run {
        let n = data.rows, d = data.columns, k = clusters
        // scikit-learn scales tol by the mean per-feature variance (population, ddof 0).
        var meanVariance = 0.0
        for j in 0..<d {
            let column = data.column(j)
            let mean = column.reduce(0, +) / Double(n)
            meanVariance += column.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
        }
        let threshold = tolerance * meanVariance / Double(d)
        var centers = initial
        var labels = KMeans.assign(data, centers).labels
        var previous: [Int]? = nil
        var iterations = 0
        var strict = false, converged = false
        for _ in 0..<maxIterations {
            iterations += 1
            let assignment = KMeans.assign(data, centers)
            labels = assignment.labels
            var sums = [Double](repeating: 0, count: k * d)
            var counts = [Int](repeating: 0, count: k)
            for t in 0..<n {
                counts[labels[t]] += 1
                for j in 0..<d { sums[labels[t] * d + j] += data[t, j] }
            }
            var distances = assignment.distances
            for s in 0..<k where counts[s] == 0 {
                // Recovery: move the empty cluster to the farthest point from its centre.
                let far = distances.indices.max { distances[$0] < distances[$1] } ?? 0
                distances[far] = -1
                for j in 0..<d { sums[s * d + j] = data[far, j] }
                counts[s] = 1
            }
            var newCenters = centers
            var shift = 0.0
            for s in 0..<k {
                for j in 0..<d {
                    let v = sums[s * d + j] / Double(counts[s])
                    shift += (v - centers[s, j]) * (v - centers[s, j])
                    newCenters[s, j] = v
                }
            }
            centers = newCenters
            if let previous, previous == labels { strict = true; converged = true; break }
            previous = labels
            if shift <= threshold { converged = true; break }
        }
        var final = KMeans.assign(data, centers)
        if strict { final.labels = labels }
        return Run(centers: centers, labels: final.labels, inertia: final.inertia, iterations: iterations, converged: converged)
    }

    /// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007): the first centre uniformly, then for
    /// each next centre `2 + ⌊ln K⌋` candidates drawn with probability ∝ D(x)², keeping the one that
    /// lowers the potential most. O(n·K·d·log K).
    static func plusPlus(_ data: Matrix, clusters k: Int, _ rng: inout Xoshiro256StarStar) -> Matrix {
        let n = data.rows, d = data.columns
        let trials = 2 + Int(Double.log(Double(k)))
        var centers = Matrix(rows: k, columns: d)
        func squaredDistance(_ t: Int, _ row: [Double]) -> Double {
            var s = 0.0
            for j in 0..<d { let v = data[t, j] - row[j]; s += v * v }
            return s
        }
        let first = Swift.min(Int(rng.nextUniform() * Double(n)), n - 1)
        var row = data.row(first)
        try! centers.setRow(0, to: row)
        var closest = (0..<n).map { squaredDistance($0, row) }
        var potential = closest.reduce(0, +)
        for c in 1..<Swift.max(k, 1) {
            var bestCandidate = -1, bestPotential = Double.infinity, bestClosest = closest
            for _ in 0..<trials {
                var candidate = n - 1
                if potential > 0 {
                    let target = rng.nextUniform() * potential
                    var cumulative = 0.0
                    for t in 0..<n {
                        cumulative += closest[t]
                        if target < cumulative { candidate = t; break }
                    }
                } else {
                    candidate = Swift.min(Int(rng.nextUniform() * Double(n)), n - 1)
                }
                row = data.row(candidate)
                let updated = (0..<n).map { Swift.min(closest[$0], squaredDistance($0, row)) }
                let p = updated.reduce(0, +)
                // The first candidate always counts, so a NaN potential cannot leave none chosen.
                if bestCandidate < 0 || p < bestPotential { bestPotential = p; bestCandidate = candidate; bestClosest = updated }
            }
            try! centers.setRow(c, to: data.row(bestCandidate))
            closest = bestClosest
            potential = bestPotential
        }
        return centers
    }
}
