import Linalg

/// A dense convex quadratic program
///
///     minimize ½ xᵀPx + qᵀx
///     subject to Ax = b,  l ≤ Cx ≤ u,  lb ≤ x ≤ ub
///
/// in `n` variables. `P` must be symmetric positive semidefinite. Infinite entries of `l`, `u`,
/// `lb`, `ub` switch a side off; a row with `l == u` (or a variable with `lb == ub`) is an
/// equality. Every constraint carries a label, which appears in infeasibility reports.
public struct QuadraticProgram: Sendable {
    /// The Hessian `P`, `n × n`, symmetric positive semidefinite.
    public var hessian: Matrix
    /// The linear term `q`, length `n`.
    public var linear: [Double]
    /// Equality rows `A`, `mₑ × n`.
    public var equalityMatrix: Matrix
    /// Equality right-hand side `b`, length `mₑ`.
    public var equalityVector: [Double]
    /// Labels of the equality rows.
    public var equalityLabels: [String]
    /// Inequality rows `C`, `mᵢ × n`.
    public var inequalityMatrix: Matrix
    /// Lower sides `l` of the inequality rows (`-∞` for none).
    public var inequalityLower: [Double]
    /// Upper sides `u` of the inequality rows (`+∞` for none).
    public var inequalityUpper: [Double]
    /// Labels of the inequality rows.
    public var inequalityLabels: [String]
    /// Lower bounds `lb` of the variables (`-∞` for none).
    public var lowerBounds: [Double]
    /// Upper bounds `ub` of the variables (`+∞` for none).
    public var upperBounds: [Double]
    /// Names of the variables, used in bound labels.
    public var variableNames: [String]

    /// Creates an unconstrained program in `P` and `q`; add constraints by setting the properties
    /// or with ``addEquality(_:_:label:)`` and ``addInequality(_:lower:upper:label:)``.
    public init(hessian: Matrix, linear: [Double], variableNames: [String]? = nil) {
        let n = linear.count
        self.hessian = hessian
        self.linear = linear
        equalityMatrix = Matrix(rows: 0, columns: n)
        equalityVector = []
        equalityLabels = []
        inequalityMatrix = Matrix(rows: 0, columns: n)
        inequalityLower = []
        inequalityUpper = []
        inequalityLabels = []
        lowerBounds = [Double](repeating: -.infinity, count: n)
        upperBounds = [Double](repeating: .infinity, count: n)
        self.variableNames = variableNames ?? (0..<n).map { "x[\($0)]" }
    }

    /// Number of variables `n`.
    public var variableCount: Int { linear.count }

    /// Appends the equality `rowᵀx = value`. Copies the matrix (`O(mₑ·n)`); for many rows assign
    /// ``equalityMatrix`` and the parallel arrays at once.
    ///
    /// - Precondition: `row.count == n`.
    public mutating func addEquality(_ row: [Double], _ value: Double, label: String) {
        precondition(row.count == variableCount, "addEquality: row of \(row.count) for \(variableCount) variables")
        equalityMatrix = Self.appending(row, to: equalityMatrix)
        equalityVector.append(value)
        equalityLabels.append(label)
    }

    /// Appends the inequality `lower ≤ rowᵀx ≤ upper`. Copies the matrix (`O(mᵢ·n)`); for many rows
    /// assign ``inequalityMatrix`` and the parallel arrays at once.
    ///
    /// - Precondition: `row.count == n`.
    public mutating func addInequality(_ row: [Double], lower: Double = -.infinity, upper: Double = .infinity,
                                       label: String) {
        precondition(row.count == variableCount, "addInequality: row of \(row.count) for \(variableCount) variables")
        inequalityMatrix = Self.appending(row, to: inequalityMatrix)
        inequalityLower.append(lower)
        inequalityUpper.append(upper)
        inequalityLabels.append(label)
    }

    private static func appending(_ row: [Double], to matrix: Matrix) -> Matrix {
        // The count matches by the callers' preconditions.
        try! Matrix(rows: matrix.rows + 1, columns: row.count, elements: matrix.elements + row)
    }

    /// The objective `½xᵀPx + qᵀx` at `x`.
    public func objective(at x: [Double]) -> Double {
        let px = hessian * x
        var value = 0.0
        for i in x.indices { value += x[i] * (0.5 * px[i] + linear[i]) }
        return value
    }

    /// Checks shapes and finiteness of every part.
    func validate(_ operation: String) throws {
        let n = variableCount
        func same(_ name: String, _ count: Int, _ other: String, _ otherCount: Int) throws {
            guard count == otherCount else {
                throw PortfolioError.dimensionMismatch(operation: operation, lhs: name, lhsCount: count,
                                                       rhs: other, rhsCount: otherCount)
            }
        }
        try same("P rows", hessian.rows, "q", n)
        try same("P columns", hessian.columns, "q", n)
        try same("A columns", equalityMatrix.columns, "q", n)
        try same("A rows", equalityMatrix.rows, "b", equalityVector.count)
        try same("A rows", equalityMatrix.rows, "equality labels", equalityLabels.count)
        try same("C columns", inequalityMatrix.columns, "q", n)
        try same("C rows", inequalityMatrix.rows, "l", inequalityLower.count)
        try same("C rows", inequalityMatrix.rows, "u", inequalityUpper.count)
        try same("C rows", inequalityMatrix.rows, "inequality labels", inequalityLabels.count)
        try same("lower bounds", lowerBounds.count, "q", n)
        try same("upper bounds", upperBounds.count, "q", n)
        try same("variable names", variableNames.count, "q", n)
        func finite(_ values: [Double], _ what: String, names: [String]) throws {
            if let k = values.firstIndex(where: { !$0.isFinite }) {
                throw PortfolioError.nonFinite(operation: operation, what: what, asset: names[k], observation: nil)
            }
        }
        if let (i, _) = hessian.firstNonFiniteIndex() {
            throw PortfolioError.nonFinite(operation: operation, what: "P", asset: variableNames[i], observation: nil)
        }
        try finite(linear, "q", names: variableNames)
        if let (i, _) = equalityMatrix.firstNonFiniteIndex() {
            throw PortfolioError.nonFinite(operation: operation, what: "A", asset: equalityLabels[i], observation: nil)
        }
        try finite(equalityVector, "b", names: equalityLabels)
        if let (i, _) = inequalityMatrix.firstNonFiniteIndex() {
            throw PortfolioError.nonFinite(operation: operation, what: "C", asset: inequalityLabels[i], observation: nil)
        }
        for k in 0..<inequalityLower.count where inequalityLower[k].isNaN || inequalityUpper[k].isNaN
            || inequalityLower[k] == .infinity || inequalityUpper[k] == -.infinity {
            throw PortfolioError.nonFinite(operation: operation, what: "inequality side", asset: inequalityLabels[k],
                                           observation: nil)
        }
        for k in 0..<n where lowerBounds[k].isNaN || upperBounds[k].isNaN
            || lowerBounds[k] == .infinity || upperBounds[k] == -.infinity {
            throw PortfolioError.nonFinite(operation: operation, what: "bound", asset: variableNames[k], observation: nil)
        }
        // A reversed pair of sides is infeasible on its own: name it directly.
        for k in 0..<inequalityLower.count where inequalityLower[k] > inequalityUpper[k] {
            throw PortfolioError.infeasible(operation: operation, conflicting: [inequalityLabels[k] + " (lower)",
                                                                               inequalityLabels[k] + " (upper)"],
                                            detail: "lower side \(inequalityLower[k]) exceeds upper side \(inequalityUpper[k])")
        }
        for k in 0..<n where lowerBounds[k] > upperBounds[k] {
            throw PortfolioError.infeasible(operation: operation, conflicting: ["\(variableNames[k]) ≥ \(lowerBounds[k])",
                                                                               "\(variableNames[k]) ≤ \(upperBounds[k])"],
                                            detail: "lower bound exceeds upper bound")
        }
        guard hessian.isSymmetric(tolerance: 1e-12) else {
            throw PortfolioError.invalidArgument(operation: operation, message: "P is not symmetric")
        }
    }
}

/// The result of solving a ``QuadraticProgram``.
public struct QPSolution: Sendable {
    /// The minimizer `x`, length `n`.
    public let x: [Double]
    /// `½xᵀPx + qᵀx` at ``x``.
    public let objective: Double
    /// Multipliers `y` of the equality rows.
    public let equalityMultipliers: [Double]
    /// Signed multipliers of the inequality rows: `> 0` when the lower side is active, `< 0`
    /// when the upper side is active, `0` when inactive.
    public let inequalityMultipliers: [Double]
    /// Signed multipliers of the variable bounds, same sign convention.
    public let boundMultipliers: [Double]
    /// The termination status (always ``SolverStatus/optimal`` for a returned solution).
    public let status: SolverStatus
    /// Goldfarb–Idnani iterations (constraint additions and drops) summed over proximal passes, or the
    /// primal–dual active-set iterations of the bound fast path.
    public let iterations: Int
    /// Proximal-point passes (1 when `P` is positive definite, 0 when the bound fast path solved it).
    public let proximalPasses: Int
    /// KKT residuals of ``x`` and the multipliers, measured on the original problem.
    public let residuals: KKTResiduals
    /// Labels of the constraints active at the solution (an equality is always active).
    public let activeConstraints: [String]
}

/// A dense convex QP solver: the dual active-set method of Goldfarb and Idnani.
///
/// For positive-definite `P` the method starts from the unconstrained minimum and adds violated
/// constraints one at a time, dropping those whose multiplier would turn negative, so every
/// iterate is dual feasible and the method stops after finitely many steps at the exact optimum
/// (up to rounding). The factorization `JᵀN = [R; 0]`, `J = L⁻ᵀQ`, is updated by Givens rotations,
/// so an iteration costs `O(n²)` and the initial Cholesky `O(n³)`. When a violated constraint is
/// linearly dependent on the active ones with multipliers of the wrong sign, the problem is
/// infeasible and the solver throws ``PortfolioError/infeasible(operation:conflicting:detail:)``
/// naming that constraint and the active ones it conflicts with (a Farkas certificate).
///
/// A merely semidefinite `P` (linear programs, lifted `|w|` variables) is handled by the proximal-
/// point method: each pass solves the strictly convex problem with `P + ρI` and linear term
/// `q − ρxₖ`; the stationarity residual of the original problem is `ρ‖xₖ₊₁ − xₖ‖`, and the passes stop
/// when it is below ``dualTolerance``. Polyhedral problems converge in finitely many passes, and each
/// pass after the first restarts from the previous active set and factorization (the Hessian is the
/// same), so it usually needs few or no further active-set steps.
///
/// Problems whose only inequalities are variable bounds (minimum variance with a budget and caps)
/// first try the primal–dual active-set method of Hintermüller, Ito and Kunisch, which settles in a
/// few reduced solves; its answer is kept only when its KKT residuals pass the same tolerances, and
/// the dual method runs otherwise (``usesBoundFastPath`` turns this off).
///
/// After the active set is found, the KKT system on it is re-solved by LU and kept when it lowers
/// the residuals (a polishing step), and the KKT residuals are measured on the original problem.
/// A solution is returned only when they are within tolerance; otherwise the solver throws
/// ``PortfolioError/solverFailed(operation:status:iterations:residuals:)``.
///
/// Reference: D. Goldfarb and A. Idnani, "A numerically stable dual method for solving strictly
/// convex quadratic programs", Math. Programming 27 (1983) 1–33; R. T. Rockafellar, "Monotone
/// operators and the proximal point algorithm", SIAM J. Control Optim. 14 (1976) 877–898.
public struct ActiveSetQPSolver: Sendable {
    /// Largest accepted constraint violation (absolute).
    public var primalTolerance: Double
    /// Largest accepted stationarity residual (absolute).
    public var dualTolerance: Double
    /// Largest accepted `|multiplier| · slack` (absolute).
    public var complementarityTolerance: Double
    /// Limit on Goldfarb–Idnani iterations per pass.
    public var maxIterations: Int
    /// Limit on proximal-point passes for a semidefinite `P`.
    public var maxProximalPasses: Int
    /// Try the primal–dual active-set fast path first when the only inequalities are bounds and
    /// `P` is positive definite (its result is accepted only with KKT residuals within tolerance).
    public var usesBoundFastPath: Bool

    /// Creates a solver; the defaults ask for residuals ≤ 1e-10.
    public init(primalTolerance: Double = 1e-10, dualTolerance: Double = 1e-10,
                complementarityTolerance: Double = 1e-10, maxIterations: Int = 10_000,
                maxProximalPasses: Int = 2_000, usesBoundFastPath: Bool = true) {
        self.primalTolerance = primalTolerance
        self.dualTolerance = dualTolerance
        self.complementarityTolerance = complementarityTolerance
        self.maxIterations = maxIterations
        self.maxProximalPasses = maxProximalPasses
        self.usesBoundFastPath = usesBoundFastPath
    }

    /// Solves `problem`.
    ///
    /// - Throws: ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` or
    ///   ``PortfolioError/nonFinite(operation:what:asset:observation:)`` for malformed input,
    ///   ``PortfolioError/notPositiveSemidefinite(operation:minimumEigenvalue:)`` when `P` has a
    ///   negative eigenvalue, ``PortfolioError/infeasible(operation:conflicting:detail:)`` with the
    ///   conflicting labels, ``PortfolioError/solverFailed(operation:status:iterations:residuals:)``
    ///   when the limits are reached or the residuals stay above tolerance.
    public func solve(_ problem: QuadraticProgram) throws -> QPSolution {
        let operation = "ActiveSetQPSolver.solve"
        try problem.validate(operation)
        let constraints = ConstraintSet(problem)
        let n = problem.variableCount
        if n == 0 {
            throw PortfolioError.invalidArgument(operation: operation, message: "the problem has no variables")
        }
        let p = problem.hessian
        if let factor = try? Cholesky(p) {
            if usesBoundFastPath, problem.inequalityMatrix.rows == 0,
               let fast = BoundConstrainedQP.solve(problem, constraints) {
                let residuals = constraints.residuals(problem, x: fast.x, multipliers: fast.multipliers)
                if residuals.primal <= primalTolerance, residuals.dual <= dualTolerance,
                   residuals.complementarity <= complementarityTolerance {
                    let split = constraints.split(fast.multipliers, problem: problem)
                    let active = (0..<constraints.count).filter {
                        constraints.constraints[$0].isEquality || constraints.slack($0, fast.x) == 0
                    }
                    return QPSolution(x: fast.x, objective: problem.objective(at: fast.x),
                                      equalityMultipliers: split.equality, inequalityMultipliers: split.inequality,
                                      boundMultipliers: split.bounds, status: .optimal, iterations: fast.iterations,
                                      proximalPasses: 0, residuals: residuals,
                                      activeConstraints: active.map { constraints.label($0) })
                }
            }
            // Strictly convex: one Goldfarb–Idnani pass. A nearly singular P can leave residuals above
            // tolerance; the proximal path below, which never inverts P itself, is the fallback.
            var state = DualActiveSet(inverseFactor: DualActiveSet.inverseFactor(factor), linear: problem.linear,
                                      constraints: constraints)
            do {
                try state.run(maxIterations: maxIterations, operation: operation)
                return try finish(problem, constraints, state: state, x: state.x, iterations: state.iterations,
                                  passes: 1, operation: operation)
            } catch PortfolioError.solverFailed {
                // Fall through to the proximal-point path.
            }
        } else {
            let smallest = try p.symmetricEigenvalues().first ?? 0
            let scale = Swift.max(p.maxAbs, 1e-300)
            if smallest < -1e-10 * scale {
                throw PortfolioError.notPositiveSemidefinite(operation: operation, minimumEigenvalue: smallest)
            }
        }
        // Proximal point on P + ρI; ρ small against the curvature present, positive when there is none.
        let diagonalScale = p.diagonalElements.map(abs).max() ?? 0
        let rho = Swift.max(diagonalScale, 1e-2) * 1e-5
        var regularized = p
        for i in 0..<n { regularized[i, i] += rho }
        let inverseFactor = DualActiveSet.inverseFactor(try Cholesky(regularized))
        var x = [Double](repeating: 0, count: n)
        var shifted = problem.linear
        var state = DualActiveSet(inverseFactor: inverseFactor, linear: shifted, constraints: constraints)
        var totalIterations = 0
        var passes = 0
        while passes < maxProximalPasses {
            for i in 0..<n { shifted[i] = problem.linear[i] - rho * x[i] }
            if passes == 0 {
                try state.run(maxIterations: maxIterations, operation: operation)
            } else {
                // Warm start from the previous pass's active set; a cold start is the fallback.
                var warm = state
                warm.warmStart(linear: shifted)
                do {
                    try warm.run(maxIterations: maxIterations, operation: operation)
                    state = warm
                } catch PortfolioError.solverFailed {
                    state = DualActiveSet(inverseFactor: inverseFactor, linear: shifted, constraints: constraints)
                    try state.run(maxIterations: maxIterations, operation: operation)
                }
            }
            totalIterations += state.iterations
            passes += 1
            var step = 0.0
            for i in 0..<n { step = Swift.max(step, abs(state.x[i] - x[i])) }
            x = state.x
            if rho * step <= 0.05 * dualTolerance {
                return try finish(problem, constraints, state: state, x: x, iterations: totalIterations, passes: passes,
                                  operation: operation)
            }
        }
        let residuals = constraints.residuals(problem, x: x, multipliers: state.multipliersByConstraint())
        throw PortfolioError.solverFailed(operation: operation, status: .iterationLimit,
                                          iterations: totalIterations, residuals: residuals)
    }

    /// Polishes the final active set, measures the KKT residuals on the original problem and
    /// returns the solution, or throws when they exceed the tolerances.
    private func finish(_ problem: QuadraticProgram, _ constraints: ConstraintSet, state: DualActiveSet, x start: [Double],
                        iterations: Int, passes: Int, operation: String) throws -> QPSolution {
        var x = start
        var multipliers = state.multipliersByConstraint()
        var residuals = constraints.residuals(problem, x: x, multipliers: multipliers)
        // Polish when the residuals are not already far inside the tolerances: solve the KKT system on
        // the active set directly (an O((n + q)³) LU) and keep the result if it is better.
        let comfortable = residuals.primal <= 1e-3 * primalTolerance && residuals.dual <= 1e-3 * dualTolerance
            && residuals.complementarity <= 1e-3 * complementarityTolerance
        if !comfortable, let (polishedX, polishedMultipliers) = constraints.polish(problem, active: state.active) {
            let polishedResiduals = constraints.residuals(problem, x: polishedX, multipliers: polishedMultipliers)
            if polishedResiduals.maximum < residuals.maximum {
                x = polishedX
                multipliers = polishedMultipliers
                residuals = polishedResiduals
            }
        }
        guard residuals.primal <= primalTolerance, residuals.dual <= dualTolerance,
              residuals.complementarity <= complementarityTolerance else {
            throw PortfolioError.solverFailed(operation: operation, status: .numericalFailure,
                                              iterations: iterations, residuals: residuals)
        }
        let split = constraints.split(multipliers, problem: problem)
        return QPSolution(x: x, objective: problem.objective(at: x), equalityMultipliers: split.equality,
                          inequalityMultipliers: split.inequality, boundMultipliers: split.bounds,
                          status: .optimal, iterations: iterations, proximalPasses: passes,
                          residuals: residuals, activeConstraints: state.active.map { constraints.label($0) })
    }
}

/// The constraints of a ``QuadraticProgram`` as one-sided rows `sᵢ·(nᵢᵀx) ≥ sᵢ·bᵢ`.
struct ConstraintSet {
    enum Source {
        case equality(Int)
        case row(Int)
        case bound(Int)
    }

    struct Constraint {
        let source: Source
        /// +1 for a lower side (`nᵀx ≥ b`), −1 for an upper side (`−nᵀx ≥ −b`).
        let sign: Double
        let value: Double
        let isEquality: Bool
    }

    /// The nonzeros of one constraint row.
    struct SparseRow {
        let indices: [Int]
        let values: [Double]

        init(_ matrix: Matrix, row: Int) {
            var indices: [Int] = [], values: [Double] = []
            for j in 0..<matrix.columns where matrix[row, j] != 0 {
                indices.append(j)
                values.append(matrix[row, j])
            }
            self.indices = indices
            self.values = values
        }

        @inline(__always)
        func dot(_ x: [Double]) -> Double {
            var s = 0.0
            for k in indices.indices { s += values[k] * x[indices[k]] }
            return s
        }
    }

    let n: Int
    let constraints: [Constraint]
    let rows: Matrix
    let equalities: Matrix
    /// Rows of `C` and `A` by their nonzeros: lifted constraints touch two variables, so slacks and
    /// `Jᵀn` cost `O(nnz)` and `O(n·nnz)` instead of `O(n)` and `O(n²)`.
    let sparseRows: [SparseRow]
    let sparseEqualities: [SparseRow]
    let labels: (equality: [String], row: [String], variable: [String])

    init(_ problem: QuadraticProgram) {
        n = problem.variableCount
        rows = problem.inequalityMatrix
        equalities = problem.equalityMatrix
        sparseRows = (0..<problem.inequalityMatrix.rows).map { SparseRow(problem.inequalityMatrix, row: $0) }
        sparseEqualities = (0..<problem.equalityMatrix.rows).map { SparseRow(problem.equalityMatrix, row: $0) }
        labels = (problem.equalityLabels, problem.inequalityLabels, problem.variableNames)
        var list: [Constraint] = []
        for k in 0..<problem.equalityVector.count {
            list.append(Constraint(source: .equality(k), sign: 1, value: problem.equalityVector[k], isEquality: true))
        }
        for k in 0..<problem.inequalityLower.count {
            let (l, u) = (problem.inequalityLower[k], problem.inequalityUpper[k])
            if l == u {
                list.append(Constraint(source: .row(k), sign: 1, value: l, isEquality: true))
                continue
            }
            if l.isFinite { list.append(Constraint(source: .row(k), sign: 1, value: l, isEquality: false)) }
            if u.isFinite { list.append(Constraint(source: .row(k), sign: -1, value: -u, isEquality: false)) }
        }
        for k in 0..<n {
            let (l, u) = (problem.lowerBounds[k], problem.upperBounds[k])
            if l == u {
                list.append(Constraint(source: .bound(k), sign: 1, value: l, isEquality: true))
                continue
            }
            if l.isFinite { list.append(Constraint(source: .bound(k), sign: 1, value: l, isEquality: false)) }
            if u.isFinite { list.append(Constraint(source: .bound(k), sign: -1, value: -u, isEquality: false)) }
        }
        constraints = list
    }

    var count: Int { constraints.count }

    func label(_ k: Int) -> String {
        let c = constraints[k]
        switch c.source {
        case let .equality(i): return labels.equality[i]
        case let .row(i): return c.isEquality ? labels.row[i] : labels.row[i] + (c.sign > 0 ? " (lower)" : " (upper)")
        case let .bound(i):
            let name = labels.variable[i]
            if c.isEquality { return "\(name) = \(c.value)" }
            return c.sign > 0 ? "\(name) ≥ \(c.value)" : "\(name) ≤ \(-c.value)"
        }
    }

    /// The dense normal `sᵢ·nᵢ`.
    func normal(_ k: Int) -> [Double] {
        let c = constraints[k]
        switch c.source {
        case let .equality(i): return equalities.row(i).map { c.sign * $0 }
        case let .row(i): return rows.row(i).map { c.sign * $0 }
        case let .bound(i):
            var e = [Double](repeating: 0, count: n)
            e[i] = c.sign
            return e
        }
    }

    /// `sᵢ·nᵢᵀx − sᵢ·bᵢ`, nonnegative when satisfied.
    func slack(_ k: Int, _ x: [Double]) -> Double {
        let c = constraints[k]
        switch c.source {
        case let .equality(i): return c.sign * sparseEqualities[i].dot(x) - c.value
        case let .row(i): return c.sign * sparseRows[i].dot(x) - c.value
        case let .bound(i): return c.sign * x[i] - c.value
        }
    }

    /// The scale `1 + |b| + ‖n‖·‖x‖∞` against which a slack is judged.
    func scale(_ k: Int, xNorm: Double) -> Double {
        let c = constraints[k]
        switch c.source {
        case .bound: return 1 + abs(c.value) + xNorm
        case let .equality(i): return 1 + abs(c.value) + rowNorm(equalities, i) * xNorm
        case let .row(i): return 1 + abs(c.value) + rowNorm(rows, i) * xNorm
        }
    }

    private func rowNorm(_ m: Matrix, _ i: Int) -> Double {
        m.withUnsafeBufferPointer { p in
            var s = 0.0
            let base = i * m.columns
            for j in 0..<m.columns { s = Swift.max(s, abs(p[base + j])) }
            return s
        }
    }

    /// KKT residuals of `x` with multipliers `u` (one per one-sided constraint, `≥ 0` for inequalities).
    func residuals(_ problem: QuadraticProgram, x: [Double], multipliers u: [Double]) -> KKTResiduals {
        var gradient = problem.hessian * x
        for i in 0..<n { gradient[i] += problem.linear[i] }
        var primal = 0.0, complementarity = 0.0, signViolation = 0.0
        for k in 0..<count {
            let s = slack(k, x)
            if constraints[k].isEquality {
                primal = Swift.max(primal, abs(s))
            } else {
                primal = Swift.max(primal, Swift.max(0, -s))
                signViolation = Swift.max(signViolation, Swift.max(0, -u[k]))
                complementarity = Swift.max(complementarity, abs(u[k] * s))
            }
            if u[k] != 0 {
                if case let .bound(i) = constraints[k].source {
                    gradient[i] -= u[k] * constraints[k].sign
                } else {
                    let normal = self.normal(k)
                    for i in 0..<n { gradient[i] -= u[k] * normal[i] }
                }
            }
        }
        let dual = gradient.reduce(0) { Swift.max($0, abs($1)) } + signViolation
        return KKTResiduals(primal: primal, dual: dual, complementarity: complementarity)
    }

    /// Re-solves `[P −N; Nᵀ 0][x; u] = [−q; b]` on the active set by LU; `nil` when singular.
    func polish(_ problem: QuadraticProgram, active: [Int]) -> ([Double], [Double])? {
        let q = active.count
        let size = n + q
        var kkt = Matrix(rows: size, columns: size)
        var rhs = [Double](repeating: 0, count: size)
        for i in 0..<n {
            for j in 0..<n { kkt[i, j] = problem.hessian[i, j] }
            rhs[i] = -problem.linear[i]
        }
        for (column, k) in active.enumerated() {
            let normal = self.normal(k)
            for i in 0..<n {
                kkt[i, n + column] = -normal[i]
                kkt[n + column, i] = normal[i]
            }
            rhs[n + column] = constraints[k].value
        }
        guard let lu = try? LUDecomposition(kkt), lu.firstZeroPivot == nil,
              var solution = try? lu.solve(rhs), solution.allSatisfy(\.isFinite) else { return nil }
        // One step of iterative refinement.
        let residual = zip(kkt * solution, rhs).map { $1 - $0 }
        if let correction = try? lu.solve(residual) {
            for i in 0..<size { solution[i] += correction[i] }
        }
        var u = [Double](repeating: 0, count: count)
        for (column, k) in active.enumerated() { u[k] = solution[n + column] }
        return (Array(solution[0..<n]), u)
    }

    /// Folds one-sided multipliers back into the signed per-constraint form of ``QPSolution``.
    func split(_ u: [Double], problem: QuadraticProgram) -> (equality: [Double], inequality: [Double], bounds: [Double]) {
        var equality = [Double](repeating: 0, count: problem.equalityVector.count)
        var inequality = [Double](repeating: 0, count: problem.inequalityLower.count)
        var bounds = [Double](repeating: 0, count: n)
        for k in 0..<count {
            let c = constraints[k]
            switch c.source {
            case let .equality(i): equality[i] += c.sign * u[k]
            case let .row(i): inequality[i] += c.sign * u[k]
            case let .bound(i): bounds[i] += c.sign * u[k]
            }
        }
        return (equality, inequality, bounds)
    }
}

/// The working state of the Goldfarb–Idnani method for `min ½xᵀGx + aᵀx`, `G = LLᵀ`.
///
/// `J = L⁻ᵀQ` is stored transposed (`jt`, row `k` = column `k` of `J`), so the column operations the
/// method needs (the primal step `z = J₂d₂`, Givens rotations of column pairs) run on contiguous memory.
struct DualActiveSet {
    let n: Int
    let constraints: ConstraintSet
    /// `Jᵀ`, `n × n` row-major (initially `L⁻¹`).
    var jt: [Double]
    /// Upper-triangular `R` (`n × n` storage, the leading `q × q` block used).
    var r: [Double]
    var x: [Double]
    var active: [Int] = []
    var u: [Double] = []
    var isActive: [Bool]
    var iterations = 0
    /// −1 for equalities made active with flipped orientation.
    var orientations: [Int: Double] = [:]
    /// Constraints found redundant (implied by the active set and satisfied): never selected again.
    var implied: [Bool]

    /// `L⁻¹` (row-major, lower triangular) for the Cholesky factor `L`, by forward substitution
    /// on whole rows: `O(n³/3)`.
    static func inverseFactor(_ cholesky: Cholesky) -> [Double] {
        let l = cholesky.lower
        let n = l.rows
        var inverse = [Double](repeating: 0, count: n * n)
        l.withUnsafeBufferPointer { lp in
            inverse.withUnsafeMutableBufferPointer { xp in
                guard let x = xp.baseAddress else { return }
                for k in 0..<n {
                    // Row k of X: (e_k − Σ_{m<k} L[k,m]·X[m,:]) / L[k,k]; X[m,:] vanishes beyond column m.
                    let row = x + k * n
                    row[k] = 1
                    for m in 0..<k {
                        let factor = lp[k * n + m]
                        if factor == 0 { continue }
                        let source = x + m * n
                        for c in 0...m { row[c] -= factor * source[c] }
                    }
                    let pivot = 1 / lp[k * n + k]
                    for c in 0...k { row[c] *= pivot }
                }
            }
        }
        return inverse
    }

    init(inverseFactor jm: [Double], linear a: [Double], constraints: ConstraintSet) {
        n = a.count
        self.constraints = constraints
        isActive = [Bool](repeating: false, count: constraints.count)
        implied = [Bool](repeating: false, count: constraints.count)
        jt = jm
        r = [Double](repeating: 0, count: n * n)
        // x = −G⁻¹a = −J·(Jᵀa).
        let n = self.n
        var x0 = [Double](repeating: 0, count: n)
        jm.withUnsafeBufferPointer { j in
            for k in 0..<n {
                var dotProduct = 0.0
                for row in 0..<n { dotProduct += j[k * n + row] * a[row] }
                if dotProduct == 0 { continue }
                for row in 0..<n { x0[row] -= dotProduct * j[k * n + row] }
            }
        }
        x = x0
    }

    /// `Jᵀ·normal(k)`.
    func jTransposeNormal(_ k: Int) -> [Double] {
        let c = constraints.constraints[k]
        var d = [Double](repeating: 0, count: n)
        let n = self.n
        if case let .bound(i) = c.source {
            jt.withUnsafeBufferPointer { j in
                for m in 0..<n { d[m] = c.sign * j[m * n + i] }
            }
            return d
        }
        let sparse: ConstraintSet.SparseRow
        switch c.source {
        case let .equality(i): sparse = constraints.sparseEqualities[i]
        case let .row(i): sparse = constraints.sparseRows[i]
        case .bound: return d
        }
        jt.withUnsafeBufferPointer { j in
            for (index, value) in zip(sparse.indices, sparse.values) {
                let v = c.sign * value
                for m in 0..<n { d[m] += j[m * n + index] * v }
            }
        }
        return d
    }

    mutating func run(maxIterations: Int, operation: String) throws {
        let count = constraints.count
        // Equalities first, in order, then the most violated inequality each round.
        var pendingEqualities = (0..<count).filter {
            constraints.constraints[$0].isEquality && !isActive[$0] && !implied[$0]
        }
        while true {
            var p: Int? = nil
            if !pendingEqualities.isEmpty {
                p = pendingEqualities.removeFirst()
            } else {
                var worst = 0.0
                let xNorm = x.reduce(0) { Swift.max($0, abs($1)) }
                for k in 0..<count where !isActive[k] && !implied[k] && !constraints.constraints[k].isEquality {
                    let s = constraints.slack(k, x)
                    if s >= 0 { continue }
                    let scaled = s / constraints.scale(k, xNorm: xNorm)
                    if scaled < -1e-14 && scaled < worst { worst = scaled; p = k }
                }
            }
            guard let p else { return }
            try add(p, maxIterations: maxIterations, operation: operation)
        }
    }

    /// Restarts from the current active set and factorization with a new linear term `a` (same `G`):
    /// `x = J₁R⁻ᵀb_A − J₂(Jᵀa)₂` and `u = R⁻¹(R⁻ᵀb_A + (Jᵀa)₁)` solve the problem with the active
    /// constraints as equalities; inequalities with negative multipliers are dropped until the point
    /// is dual feasible, which is where the dual method may continue. Used between proximal passes.
    mutating func warmStart(linear a: [Double]) {
        let n = self.n
        iterations = 0
        implied = [Bool](repeating: false, count: constraints.count)
        while true {
            let q = active.count
            var jta = [Double](repeating: 0, count: n)
            jt.withUnsafeBufferPointer { j in
                for m in 0..<n {
                    var sum = 0.0
                    for row in 0..<n { sum += j[m * n + row] * a[row] }
                    jta[m] = sum
                }
            }
            // w = R⁻ᵀ b_A (forward substitution with Rᵀ lower triangular).
            var w = [Double](repeating: 0, count: q)
            for i in 0..<q {
                let k = active[i]
                var value = constraints.constraints[k].value * (orientations[k] ?? 1)
                for l in 0..<i { value -= r[l * n + i] * w[l] }
                w[i] = value / r[i * n + i]
            }
            // u = R⁻¹(w + (Jᵀa)₁).
            var multipliers = [Double](repeating: 0, count: q)
            var i = q - 1
            while i >= 0 {
                var value = w[i] + jta[i]
                for l in (i + 1)..<q { value -= r[i * n + l] * multipliers[l] }
                multipliers[i] = value / r[i * n + i]
                i -= 1
            }
            var worst = 0.0, drop = -1
            for k in 0..<q where !constraints.constraints[active[k]].isEquality && multipliers[k] < worst {
                worst = multipliers[k]
                drop = k
            }
            if drop >= 0 {
                u = multipliers
                removeActive(at: drop)
                continue
            }
            u = multipliers
            var point = [Double](repeating: 0, count: n)
            jt.withUnsafeBufferPointer { j in
                for m in 0..<n {
                    let coefficient = m < q ? w[m] : -jta[m]
                    if coefficient == 0 { continue }
                    for row in 0..<n { point[row] += coefficient * j[m * n + row] }
                }
            }
            x = point
            return
        }
    }

    /// Makes constraint `p` active (the inner loop of step 2 of the method).
    mutating func add(_ p: Int, maxIterations: Int, operation: String) throws {
        let isEquality = constraints.constraints[p].isEquality
        // An equality whose slack is positive is approached from above: flip its orientation.
        var orientation = 1.0
        if isEquality && constraints.slack(p, x) > 0 { orientation = -1 }
        var uNew = 0.0
        let n = self.n
        while true {
            iterations += 1
            if iterations > maxIterations {
                throw PortfolioError.solverFailed(
                    operation: operation, status: .iterationLimit, iterations: iterations,
                    residuals: KKTResiduals(primal: abs(constraints.slack(p, x)), dual: .nan, complementarity: .nan))
            }
            let q = active.count
            var d = jTransposeNormal(p)
            if orientation < 0 { for m in 0..<n { d[m] = -d[m] } }
            // z = J₂ d₂ (primal direction), rVec = R⁻¹ d₁ (change of the active multipliers).
            var z = [Double](repeating: 0, count: n)
            var tail = 0.0, total = 0.0
            for m in 0..<n { total += d[m] * d[m] }
            jt.withUnsafeBufferPointer { j in
                z.withUnsafeMutableBufferPointer { zp in
                    for m in q..<n where d[m] != 0 {
                        let dm = d[m]
                        tail += dm * dm
                        let column = j.baseAddress! + m * n
                        for row in 0..<n { zp[row] += column[row] * dm }
                    }
                }
            }
            var rVec = [Double](repeating: 0, count: q)
            var i = q - 1
            while i >= 0 {
                var s = d[i]
                for k in (i + 1)..<q { s -= r[i * n + k] * rVec[k] }
                rVec[i] = s / r[i * n + i]
                i -= 1
            }
            // Partial step: the first active inequality whose multiplier reaches zero.
            var t1 = Double.infinity
            var drop = -1
            for k in 0..<q where !constraints.constraints[active[k]].isEquality && rVec[k] > 0 {
                let ratio = u[k] / rVec[k]
                if ratio < t1 { t1 = ratio; drop = k }
            }
            let slack = orientation * constraints.slack(p, x)
            let dependent = tail <= 1e-24 * Swift.max(total, 1e-300)
            let t2 = dependent ? Double.infinity : -slack / tail
            if t1 == .infinity && t2 == .infinity {
                // A constraint implied by the active ones and met up to rounding is redundant (a repeated
                // budget row, a group spanning every asset): skip it rather than report a conflict.
                let xNorm = x.reduce(0) { Swift.max($0, abs($1)) }
                if abs(slack) <= 1e-12 * constraints.scale(p, xNorm: xNorm) {
                    implied[p] = true
                    return
                }
                // nₚ lies in the span of the active normals with multipliers of the wrong sign.
                var conflicting = [constraints.label(p)]
                let scale = rVec.reduce(0) { Swift.max($0, abs($1)) }
                for k in 0..<q where abs(rVec[k]) > 1e-9 * scale { conflicting.append(constraints.label(active[k])) }
                throw PortfolioError.infeasible(
                    operation: operation, conflicting: conflicting,
                    detail: "\(constraints.label(p)) is violated by \(-slack) and is implied away by the others")
            }
            let t = Swift.min(t1, t2)
            if t2 < .infinity {
                for row in 0..<n { x[row] += t * z[row] }
            }
            for k in 0..<q { u[k] -= t * rVec[k] }
            uNew += t
            if t2 <= t1 {
                if orientation < 0 { orientations[p] = -1 }
                appendActive(p, d: d, multiplier: uNew)
                return
            }
            removeActive(at: drop)
        }
    }

    /// Rotates rows `a` and `b` of `jt` (columns of `J`): `(a, b) ← (c·a + s·b, −s·a + c·b)`.
    @inline(__always)
    mutating func rotateColumns(_ a: Int, _ b: Int, c: Double, s: Double) {
        let n = self.n
        jt.withUnsafeMutableBufferPointer { j in
            let first = j.baseAddress! + a * n, second = j.baseAddress! + b * n
            for row in 0..<n {
                let left = first[row], right = second[row]
                first[row] = c * left + s * right
                second[row] = -s * left + c * right
            }
        }
    }

    mutating func appendActive(_ p: Int, d dIn: [Double], multiplier: Double) {
        var d = dIn
        let q = active.count
        var k = n - 1
        while k > q {
            let a = d[k - 1], b = d[k]
            if b != 0 {
                let h = (a * a + b * b).squareRoot()
                let c = a / h, s = b / h
                d[k - 1] = h
                d[k] = 0
                rotateColumns(k - 1, k, c: c, s: s)
            }
            k -= 1
        }
        for row in 0...q { r[row * n + q] = d[row] }
        active.append(p)
        u.append(multiplier)
        isActive[p] = true
    }

    mutating func removeActive(at position: Int) {
        let q = active.count
        isActive[active[position]] = false
        active.remove(at: position)
        u.remove(at: position)
        // Delete column `position` of R, then restore the triangle with Givens rotations on rows.
        for column in position..<(q - 1) {
            for row in 0..<q { r[row * n + column] = r[row * n + column + 1] }
        }
        for row in 0..<q { r[row * n + q - 1] = 0 }
        for i in position..<Swift.max(position, q - 1) {
            let a = r[i * n + i], b = r[(i + 1) * n + i]
            if b == 0 { continue }
            let h = (a * a + b * b).squareRoot()
            let c = a / h, s = b / h
            for column in i..<(q - 1) {
                let top = r[i * n + column], bottom = r[(i + 1) * n + column]
                r[i * n + column] = c * top + s * bottom
                r[(i + 1) * n + column] = -s * top + c * bottom
            }
            r[(i + 1) * n + i] = 0
            rotateColumns(i, i + 1, c: c, s: s)
        }
    }

    /// Multipliers indexed by constraint (zero for inactive ones); an equality's sign follows
    /// the orientation it was added with.
    func multipliersByConstraint() -> [Double] {
        var result = [Double](repeating: 0, count: constraints.count)
        for (position, k) in active.enumerated() {
            // An equality added with flipped orientation has normal −n: its multiplier on +n is −u.
            result[k] = u[position] * (orientations[k] ?? 1)
        }
        return result
    }
}
