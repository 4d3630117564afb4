import Foundation

/// Correlation-driven nonparametric learning (CORN; Li, Hoi & Gopalkrishnan 2011, "CORN:
/// correlation-driven nonparametric learning approach for portfolio selection", ACM TIST 2(3)).
///
/// With `t` relatives known and `t > w`, the last window `X_{t−w+1..t}` (flattened, `w·m` values)
/// is compared by Pearson correlation with every earlier window `X_{i−w..i−1}`, `w < i ≤ t`
/// (1-based as in the paper); the days `i` whose preceding window correlates at least `ρ` form
/// the similarity set `C`, and `b_{t+1} = argmax_{b∈Δ} Σ_{i∈C} log(b · x_i)` (uniform when `C` is
/// empty or `t ≤ w`). The log-optimal problem is solved by ``SimplexInteriorPoint``; where that
/// iteration stalls (degenerate similar-day sets), Cover's multiplicative iteration finishes from its
/// iterate, re-solving on the support it finds, until `log max_i g_i ≤ 1e-12` (see
/// ``polishedSolves``). Defaults
/// `w = 5`, `ρ = 0.1` (OLPS toolbox, CORN-U's single expert). Under ``OLPSConvention/toolbox`` the
/// portfolio stays uniform while `t ≤ w + 1` (`corn_expert.m`), under ``OLPSConvention/paper``
/// while `t ≤ w`. Complexity per step `O(t·w·m)` for the correlations plus the solve, so a run is `O(T²)`.
public struct CORN: OnlinePortfolioSelector {
    /// Window `w ≥ 1`.
    public let window: Int
    /// Correlation threshold `ρ ∈ [−1, 1]`.
    public let threshold: Double
    /// When the first similarity search happens (``OLPSConvention``).
    public let convention: OLPSConvention
    /// Status of the last log-optimal solve (for diagnostics).
    public private(set) var lastSolve: SimplexSolverReport?
    /// Number of solves whose interior-point iteration stalled and was finished by Cover's
    /// multiplicative iteration (see ``unconvergedSolves``).
    public private(set) var polishedSolves = 0
    /// Number of solves that stayed more than 1e-12 in mean log growth from the optimum after both
    /// solvers (their last iterate was used).
    public private(set) var unconvergedSolves = 0
    private var m = 0
    private var windowMeans: [Double] = [], windowNorms: [Double] = [], similar: [Int] = [], ratios: [Double] = []
    private var solver = SimplexInteriorPoint(assetCount: 1)

    /// CORN with window `w` and correlation threshold `ρ` under `convention`.
    ///
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for `w < 1` or `ρ ∉ [−1, 1]`.
    public init(window: Int = 5, threshold: Double = 0.1, convention: OLPSConvention = .toolbox) throws {
        guard window >= 1 else {
            throw OLPSError.invalidParameter(algorithm: "CORN", name: "window", value: Double(window), requirement: "≥ 1")
        }
        guard threshold >= -1, threshold <= 1 else {
            throw OLPSError.invalidParameter(algorithm: "CORN", name: "rho", value: threshold, requirement: "in [-1, 1]")
        }
        self.window = window
        self.threshold = threshold
        self.convention = convention
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String { "CORN(w=\(window), ρ=\(threshold))" }

    public mutating func reset(assetCount: Int) throws {
        m = assetCount
        windowMeans = []
        windowNorms = []
        similar = []
        solver = SimplexInteriorPoint(assetCount: m)
        lastSolve = nil
        unconvergedSolves = 0
        polishedSolves = 0
        ratios = Array(repeating: 0, count: m)
    }

    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        let t = step.observed.count, w = window, m = self.m, length = w * m
        // Record the statistics of the window ending at the newest row (0-based end t − 1).
        if t >= w {
            let values = step.observed.rows((t - w)..<t)
            var sum = 0.0
            for k in 0..<length { sum += values[k] }
            let mean = sum / Double(length)
            var squares = 0.0
            for k in 0..<length { squares += (values[k] - mean) * (values[k] - mean) }
            if windowMeans.capacity < t { windowMeans.reserveCapacity(2 * t); windowNorms.reserveCapacity(2 * t) }
            windowMeans.append(mean)
            windowNorms.append(squares.squareRoot())
        }
        guard t > (convention == .toolbox ? w + 1 : w) else { fillUniform(weights); return }
        // Windows are indexed by end row e = w−1 … t−1 at position e − (w − 1).
        let current = step.observed.rows((t - w)..<t)
        let currentIndex = t - w
        let currentMean = windowMeans[currentIndex], currentNorm = windowNorms[currentIndex]
        similar.removeAll(keepingCapacity: true)
        if currentNorm > 0 {
            for end in (w - 1)..<(t - 1) {
                let index = end - (w - 1)
                let norm = windowNorms[index]
                guard norm > 0 else { continue }
                let candidate = step.observed.rows((end + 1 - w)..<(end + 1))
                var cross = 0.0
                for k in 0..<length { cross += candidate[k] * current[k] }
                let covariance = cross - Double(length) * windowMeans[index] * currentMean
                if covariance / (norm * currentNorm) >= threshold { similar.append(end + 1) }
            }
        }
        guard !similar.isEmpty else { fillUniform(weights); return }
        let report = similar.withUnsafeBufferPointer { rows in
            var objective = MeanLogGrowth(relatives: step.observed.rows(0..<t), rows: rows, assetCount: m)
            return solver.minimize(&objective)
        }
        for i in 0..<m { weights[i] = solver.b[i] }
        normalizeClamped(weights)
        lastSolve = report
        if report.status != .converged {
            // The interior-point iteration can stall on degenerate similar-day sets (an optimum at
            // or near a vertex with nearly tied relatives); finish from its iterate.
            let bound = polishLogOptimal(weights, relatives: step.observed.rows(0..<t), rows: similar)
            polishedSolves += 1
            if bound > Self.polishTolerance { unconvergedSolves += 1 }
        }
    }

    /// Bound on the suboptimality (mean log growth) at which ``polishLogOptimal(_:relatives:rows:)`` stops.
    static let polishTolerance = 1e-12

    /// Cover's (1984) multiplicative iteration for the log-optimal portfolio on `rows`,
    /// `b_i ← b_i · g_i` with `g_i = (1/n) Σ_r x_{r,i} / (b · x_r)`, which keeps `Σ b = 1` and
    /// increases the mean log growth; `log max_i g_i` bounds the suboptimality (Cover 1984, "An
    /// algorithm for maximizing expected log investment return", IEEE Trans. Inf. Theory 30(2)).
    /// Every 500 iterations the assets still above 1e-6 are taken as the support and the problem
    /// restricted to them is solved by the interior-point method; its solution is kept when the
    /// bound on the whole problem is at most ``polishTolerance``. Otherwise the iteration goes on,
    /// for at most 20 000 iterations. Returns the last bound.
    private mutating func polishLogOptimal(_ b: UnsafeMutableBufferPointer<Double>, relatives: UnsafeBufferPointer<Double>,
                                           rows: [Int]) -> Double {
        let m = self.m
        if ratios.count != m { ratios = Array(repeating: 0, count: m) }
        var bound = Double.infinity
        for iteration in 1...20_000 {
            bound = coverStep(b, relatives: relatives, rows: rows, update: true)
            if bound <= Self.polishTolerance { break }
            if iteration % 500 == 0, let support = restrictedSolve(b, relatives: relatives, rows: rows) {
                bound = support
                if bound <= Self.polishTolerance { break }
            }
        }
        return bound
    }

    /// One Cover step (`update`) or only its ratios `g` (into `ratios`); returns `log max_i g_i`.
    private mutating func coverStep(_ b: UnsafeMutableBufferPointer<Double>, relatives: UnsafeBufferPointer<Double>,
                                    rows: [Int], update: Bool) -> Double {
        let m = self.m, n = Double(rows.count)
        for i in 0..<m { ratios[i] = 0 }
        for r in rows {
            var growth = 0.0
            for i in 0..<m { growth += b[i] * relatives[r * m + i] }
            for i in 0..<m { ratios[i] += relatives[r * m + i] / (growth * n) }
        }
        var largest = 0.0
        for i in 0..<m { largest = max(largest, ratios[i]) }
        if update {
            var sum = 0.0
            for i in 0..<m { b[i] *= ratios[i]; sum += b[i] }
            for i in 0..<m { b[i] /= sum }
        }
        return log(largest)
    }

    /// Solves the log-optimal problem on the assets with `b_i > 1e-6` by the interior-point method;
    /// when it converges and the bound on the whole problem is at most ``polishTolerance``, writes the
    /// solution into `b` and returns the bound, else leaves `b` and returns nil.
    private mutating func restrictedSolve(_ b: UnsafeMutableBufferPointer<Double>, relatives: UnsafeBufferPointer<Double>,
                                          rows: [Int]) -> Double? {
        let m = self.m
        let support = (0..<m).filter { b[$0] > 1e-6 }
        guard !support.isEmpty, support.count < m else { return nil }
        var compact = [Double](repeating: 0, count: rows.count * support.count)
        for (k, r) in rows.enumerated() {
            for (j, i) in support.enumerated() { compact[k * support.count + j] = relatives[r * m + i] }
        }
        var reduced = SimplexInteriorPoint(assetCount: support.count)
        let indices = Array(0..<rows.count)
        let report = compact.withUnsafeBufferPointer { x in
            indices.withUnsafeBufferPointer { r in
                var objective = MeanLogGrowth(relatives: x, rows: r, assetCount: support.count)
                return reduced.minimize(&objective)
            }
        }
        guard report.status == .converged else { return nil }
        var candidate = [Double](repeating: 0, count: m)
        for (j, i) in support.enumerated() { candidate[i] = max(reduced.b[j], 0) }
        let total = candidate.reduce(0, +)
        for i in 0..<m { candidate[i] /= total }
        let bound = candidate.withUnsafeMutableBufferPointer { coverStep($0, relatives: relatives, rows: rows, update: false) }
        guard bound <= Self.polishTolerance else { return nil }
        for i in 0..<m { b[i] = candidate[i] }
        return bound
    }
}
