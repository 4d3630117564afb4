import Linalg
import Testing
@testable import Portfolio

/// Recomputes the KKT residuals of a solution from its signed multipliers, independently of the solver.
func independentResiduals(_ problem: QuadraticProgram, _ solution: QPSolution) -> KKTResiduals {
    let n = problem.variableCount
    let x = solution.x
    var gradient = problem.hessian * x
    for i in 0..<n { gradient[i] += problem.linear[i] }
    var primal = 0.0, complementarity = 0.0, sign = 0.0
    let ax = problem.equalityMatrix.rows > 0 ? problem.equalityMatrix * x : []
    for k in 0..<problem.equalityVector.count {
        primal = max(primal, abs(ax[k] - problem.equalityVector[k]))
        let row = problem.equalityMatrix.row(k)
        for i in 0..<n { gradient[i] -= solution.equalityMultipliers[k] * row[i] }
    }
    let cx = problem.inequalityMatrix.rows > 0 ? problem.inequalityMatrix * x : []
    func side(_ value: Double, _ lower: Double, _ upper: Double, _ lambda: Double) {
        primal = max(primal, lower - value, value - upper, 0)
        if lower == upper { return }
        if lambda > 0 { complementarity = max(complementarity, lambda * (value - lower)) }
        if lambda < 0 { complementarity = max(complementarity, -lambda * (upper - value)) }
        if lambda > 0 && lower == -.infinity { sign = max(sign, lambda) }
        if lambda < 0 && upper == .infinity { sign = max(sign, -lambda) }
    }
    for k in 0..<problem.inequalityLower.count {
        let lambda = solution.inequalityMultipliers[k]
        side(cx[k], problem.inequalityLower[k], problem.inequalityUpper[k], lambda)
        let row = problem.inequalityMatrix.row(k)
        for i in 0..<n { gradient[i] -= lambda * row[i] }
    }
    for i in 0..<n {
        let lambda = solution.boundMultipliers[i]
        side(x[i], problem.lowerBounds[i], problem.upperBounds[i], lambda)
        gradient[i] -= lambda
    }
    let dual = gradient.reduce(0) { max($0, abs($1)) } + sign
    return KKTResiduals(primal: primal, dual: dual, complementarity: complementarity)
}

/// A seeded SplitMix64 stream of uniforms in [0, 1).
struct SplitMix {
    var state: UInt64
    mutating func next() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) * 0x1p-53
    }
}

@Suite("Goldfarb–Idnani QP solver")
struct QuadraticProgramTests {
    let solver = ActiveSetQPSolver()

    @Test("projection onto the simplex by hand: min ½‖x − c‖² with Σx = 1, x ≥ 0")
    func simplexProjection() throws {
        // c = (0.9, 0.5, −0.4): the projection is (0.7, 0.3, 0) with threshold τ = 0.2.
        let c = [0.9, 0.5, -0.4]
        var problem = QuadraticProgram(hessian: .identity(3), linear: c.map { -$0 })
        problem.addEquality([1, 1, 1], 1, label: "sum")
        problem.lowerBounds = [0, 0, 0]
        let solution = try solver.solve(problem)
        // Tolerance 1e-15: the active set is found exactly and the KKT solve is 3×3.
        #expect(worstScaledError(solution.x, [0.7, 0.3, 0]) <= 1e-15)
        #expect(abs(solution.equalityMultipliers[0] - (-0.2)) <= 1e-15)
        #expect(solution.activeConstraints.contains("x[2] ≥ 0.0"))
        #expect(solution.residuals.maximum <= 1e-15)
    }

    @Test("two-sided rows and equality rows: the multipliers carry the documented signs")
    func signs() throws {
        // min ½(x₁² + x₂²) − 2x₁ − 2x₂ with x₁ + x₂ ≤ 1 (upper side active), x₁ − x₂ = 0.2.
        var problem = QuadraticProgram(hessian: .identity(2), linear: [-2, -2])
        problem.addInequality([1, 1], lower: -5, upper: 1, label: "sum")
        problem.addEquality([1, -1], 0.2, label: "spread")
        let solution = try solver.solve(problem)
        #expect(worstScaledError(solution.x, [0.6, 0.4]) <= 1e-15)
        #expect(solution.inequalityMultipliers[0] < 0)   // the upper side is active
        let independent = independentResiduals(problem, solution)
        #expect(independent.maximum <= 1e-14, "\(independent)")
    }

    @Test("random strictly convex QPs: independently recomputed KKT residuals ≤ 1e-9", arguments: [1, 2, 3, 4, 5, 6])
    func randomProblems(seed: Int) throws {
        var rng = SplitMix(state: UInt64(seed))
        let n = 15 + seed * 5, m = 8
        let g = Matrix(rows: n + 3, columns: n) { _, _ in rng.next() - 0.5 }
        var p = g.gram()
        for i in 0..<n { p[i, i] += 1e-3 }
        let q = (0..<n).map { _ in rng.next() - 0.5 }
        var problem = QuadraticProgram(hessian: p, linear: q)
        problem.addEquality([Double](repeating: 1, count: n), 1, label: "budget")
        for k in 0..<m {
            let row = (0..<n).map { _ in rng.next() - 0.5 }
            problem.addInequality(row, lower: -0.05 * Double(k + 1), upper: 0.05 * Double(k + 1), label: "row \(k)")
        }
        problem.lowerBounds = [Double](repeating: -0.1, count: n)
        problem.upperBounds = [Double](repeating: 0.3, count: n)
        let solution = try solver.solve(problem)
        let independent = independentResiduals(problem, solution)
        #expect(independent.primal <= 1e-9 && independent.dual <= 1e-9 && independent.complementarity <= 1e-9,
                "\(independent)")
        // Optimality check independent of multipliers: no feasible random perturbation lowers the objective.
        #expect(solution.objective <= problem.objective(at: solution.x) + 1e-15)
    }

    @Test("the bound fast path and the dual method agree on minimum variance with caps", arguments: [0.06, 0.1, 1.0])
    func fastPathAgreement(cap: Double) throws {
        let inputs = try sp500Inputs()
        var problem = QuadraticProgram(hessian: inputs.covariance.scaled(by: 2), linear: [Double](repeating: 0, count: 20))
        problem.addEquality([Double](repeating: 1, count: 20), 1, label: "budget")
        problem.lowerBounds = [Double](repeating: 0, count: 20)
        problem.upperBounds = [Double](repeating: cap, count: 20)
        let fast = try ActiveSetQPSolver().solve(problem)
        let dual = try ActiveSetQPSolver(usesBoundFastPath: false).solve(problem)
        #expect(fast.proximalPasses == 0 && dual.proximalPasses == 1)
        // Both are exact active-set answers: they agree to rounding (1e-12) and pass independent KKT checks.
        #expect(worstScaledError(fast.x, dual.x) <= 1e-12)
        #expect(independentResiduals(problem, fast).maximum <= 1e-9)
        #expect(independentResiduals(problem, dual).maximum <= 1e-9)
        #expect(Set(fast.activeConstraints) == Set(dual.activeConstraints))
    }

    @Test("a linear program (P = 0) is solved by the proximal-point path")
    func linearProgram() throws {
        // max x₁ + 2x₂ s.t. x₁ + x₂ ≤ 1, x ≥ 0  →  x = (0, 1).
        var problem = QuadraticProgram(hessian: Matrix(rows: 2, columns: 2), linear: [-1, -2])
        problem.addInequality([1, 1], upper: 1, label: "capacity")
        problem.lowerBounds = [0, 0]
        let solution = try solver.solve(problem)
        #expect(worstScaledError(solution.x, [0, 1]) <= 1e-12)
        #expect(solution.proximalPasses >= 1)
        #expect(independentResiduals(problem, solution).maximum <= 1e-9)
    }

    @Test("redundant constraints (a repeated budget, a group of every variable) are skipped, not reported")
    func redundant() throws {
        // min ½‖x − c‖² with Σx = 1 twice, 1 ≤ Σx ≤ 1 as a row, and x ≥ 0: the simplex projection again.
        let c = [0.9, 0.5, -0.4]
        var problem = QuadraticProgram(hessian: .identity(3), linear: c.map { -$0 })
        problem.addEquality([1, 1, 1], 1, label: "budget")
        problem.addEquality([2, 2, 2], 2, label: "budget again")
        problem.addInequality([1, 1, 1], lower: 1, upper: 1, label: "group of all")
        problem.lowerBounds = [0, 0, 0]
        problem.addInequality([1, 0, 0], lower: 0, label: "x₀ ≥ 0 as a row")
        let solution = try ActiveSetQPSolver(usesBoundFastPath: false).solve(problem)
        #expect(worstScaledError(solution.x, [0.7, 0.3, 0]) <= 1e-15)
        #expect(independentResiduals(problem, solution).maximum <= 1e-14)
    }

    @Test("infeasible constraints throw and name the conflicting ones")
    func infeasible() throws {
        // x₁ + x₂ = 1 with x₁ ≤ 0.3 and x₂ ≤ 0.3.
        var problem = QuadraticProgram(hessian: .identity(2), linear: [0, 0], variableNames: ["a", "b"])
        problem.addEquality([1, 1], 1, label: "budget")
        problem.upperBounds = [0.3, 0.3]
        do {
            _ = try solver.solve(problem)
            Issue.record("expected an infeasibility error")
        } catch let PortfolioError.infeasible(_, conflicting, _) {
            #expect(Set(conflicting) == ["budget", "a ≤ 0.3", "b ≤ 0.3"], "\(conflicting)")
        }
    }

    @Test("an indefinite P is rejected with its smallest eigenvalue")
    func indefinite() throws {
        let p = try Matrix([[1, 2], [2, 1]])   // eigenvalues −1 and 3
        let problem = QuadraticProgram(hessian: p, linear: [0, 0])
        do {
            _ = try solver.solve(problem)
            Issue.record("expected notPositiveSemidefinite")
        } catch let PortfolioError.notPositiveSemidefinite(_, smallest) {
            #expect(abs(smallest + 1) <= 1e-14)
        }
    }

    @Test("mismatched shapes name both sides")
    func shapes() throws {
        let problem = QuadraticProgram(hessian: .identity(3), linear: [0, 0])
        #expect(throws: PortfolioError.dimensionMismatch(operation: "ActiveSetQPSolver.solve", lhs: "P rows", lhsCount: 3,
                                                         rhs: "q", rhsCount: 2)) {
            _ = try solver.solve(problem)
        }
    }
}
