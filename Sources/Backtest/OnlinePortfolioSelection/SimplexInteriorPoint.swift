import Foundation

/// The outcome of a simplex-constrained convex minimization (see ``SimplexInteriorPoint``).
public struct SimplexSolverReport: Sendable, Hashable, CustomStringConvertible {
    /// How the solver stopped.
    public enum Status: String, Sendable, Hashable, Codable {
        /// Duality gap and stationarity residual below the tolerance.
        case converged
        /// The iteration limit was reached first; the iterate is the best found.
        case maxIterations
        /// A Newton system was not positive definite or a value was not finite.
        case numericalFailure
    }
    /// How the solver stopped.
    public let status: Status
    /// Newton iterations taken.
    public let iterations: Int
    /// The objective at the solution.
    public let objective: Double
    /// Complementarity `bᵀz` (an upper bound on the objective's suboptimality for convex `f`).
    public let dualityGap: Double
    /// Stationarity residual `‖∇f(b) − z + ν1‖∞`.
    public let stationarity: Double

    /// The status in words.
    public var description: String {
        "\(status.rawValue) after \(iterations) iterations, gap \(dualityGap), stationarity \(stationarity)"
    }
}

/// A smooth convex objective on the simplex with its gradient and Hessian.
protocol SimplexObjective {
    /// `f(b)`; writes `∇f(b)` (length `m`) and `∇²f(b)` (`m × m`, row-major, both triangles).
    mutating func evaluate(_ b: UnsafeMutableBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>,
                           hessian: UnsafeMutableBufferPointer<Double>) -> Double
}

/// Primal–dual interior-point method with Mehrotra's predictor–corrector for
/// `minimize f(b) subject to b ≥ 0, Σ b = 1` with convex, twice differentiable `f`
/// (Nocedal & Wright 2006, *Numerical Optimization*, §19.3 and §14.2; Boyd & Vandenberghe 2004, §11.7).
///
/// Each iteration solves the reduced Newton system `(∇²f + Z B⁻¹) Δb + 1 Δν = r` by a Cholesky
/// factorization of order `m` (the simplex row handled by two triangular solves), so it is robust
/// whether the optimum is interior or on a face. All buffers are allocated once at `init`.
struct SimplexInteriorPoint {
    let m: Int
    private(set) var b: [Double]
    private var z, gradient, hessian, factor, u, v, db, dz, dbAffine, dzAffine, residual, complementarity: [Double]
    private var nu = 0.0

    init(assetCount m: Int) {
        self.m = m
        b = Array(repeating: 1 / Double(m), count: m)
        z = b; gradient = b; u = b; v = b; db = b; dz = b; dbAffine = b; dzAffine = b; residual = b; complementarity = b
        hessian = Array(repeating: 0, count: m * m)
        factor = hessian
    }

    /// Minimizes `objective` from the uniform portfolio; the solution is ``b``.
    mutating func minimize<F: SimplexObjective>(_ objective: inout F, tolerance: Double = 1e-13,
                                                 maxIterations: Int = 200) -> SimplexSolverReport {
        let m = self.m
        for i in 0..<m { b[i] = 1 / Double(m); z[i] = 1 }
        nu = 0
        var iterations = 0
        var value = 0.0, gap = 0.0, stationarity = 0.0
        var status = SimplexSolverReport.Status.maxIterations
        while true {
            value = b.withUnsafeMutableBufferPointer { bp in
                gradient.withUnsafeMutableBufferPointer { g in
                    hessian.withUnsafeMutableBufferPointer { h in objective.evaluate(bp, gradient: g, hessian: h) }
                }
            }
            if iterations == 0 {   // ν that makes the first dual residual orthogonal to 1
                var s = 0.0
                for i in 0..<m { s += gradient[i] - z[i] }
                nu = -s / Double(m)
            }
            gap = 0; stationarity = 0
            var gradientScale = 0.0, primal = -1.0
            for i in 0..<m {
                residual[i] = gradient[i] - z[i] + nu
                stationarity = max(stationarity, abs(residual[i]))
                gradientScale = max(gradientScale, abs(gradient[i]))
                gap += b[i] * z[i]
                primal += b[i]
            }
            guard value.isFinite, gap.isFinite, stationarity.isFinite else { status = .numericalFailure; break }
            if gap <= tolerance && stationarity <= tolerance * (1 + gradientScale) && abs(primal) <= 1e-13 {
                status = .converged
                break
            }
            if iterations >= maxIterations { break }
            iterations += 1
            // Factor K = ∇²f + diag(z/b).
            for k in 0..<(m * m) { factor[k] = hessian[k] }
            for i in 0..<m { factor[i * m + i] += z[i] / b[i] }
            guard choleskyInPlace() else { status = .numericalFailure; break }
            let mu = gap / Double(m)
            // Predictor (affine scaling): complementarity target 0.
            for i in 0..<m { complementarity[i] = b[i] * z[i] }
            _ = newtonDirection(primal: primal)
            for i in 0..<m { dbAffine[i] = db[i]; dzAffine[i] = dz[i] }
            let alphaAffine = min(stepToBoundary(b, dbAffine), stepToBoundary(z, dzAffine))
            var muAffine = 0.0
            for i in 0..<m { muAffine += (b[i] + alphaAffine * dbAffine[i]) * (z[i] + alphaAffine * dzAffine[i]) }
            muAffine /= Double(m)
            let sigma = min(1, pow(muAffine / mu, 3))
            // Corrector: centring plus the second-order term.
            for i in 0..<m { complementarity[i] = b[i] * z[i] + dbAffine[i] * dzAffine[i] - sigma * mu }
            let dnu = newtonDirection(primal: primal)
            let alpha = min(1, 0.995 * min(stepToBoundary(b, db), stepToBoundary(z, dz)))
            for i in 0..<m {
                b[i] += alpha * db[i]
                z[i] += alpha * dz[i]
            }
            nu += alpha * dnu
        }
        return SimplexSolverReport(status: status, iterations: iterations, objective: value, dualityGap: gap,
                                   stationarity: stationarity)
    }

    /// Solves for (Δb, Δz, Δν) with the current factor, residual and complementarity target:
    /// writes Δb and Δz into `db`, `dz` and returns Δν.
    private mutating func newtonDirection(primal: Double) -> Double {
        let m = self.m
        for i in 0..<m {
            u[i] = -residual[i] - complementarity[i] / b[i]
            v[i] = 1
        }
        choleskySolve(&u)
        choleskySolve(&v)
        var su = 0.0, sv = 0.0
        for i in 0..<m { su += u[i]; sv += v[i] }
        let dnu = (su + primal) / sv
        for i in 0..<m {
            db[i] = u[i] - dnu * v[i]
            dz[i] = (-complementarity[i] - z[i] * db[i]) / b[i]
        }
        return dnu
    }

    /// Largest `α ∈ (0, 1]` with `x + α·dx ≥ 0` (1 when no component decreases).
    private func stepToBoundary(_ x: [Double], _ dx: [Double]) -> Double {
        var alpha = 1.0
        for i in 0..<x.count where dx[i] < 0 { alpha = min(alpha, -x[i] / dx[i]) }
        return alpha
    }

    /// Lower Cholesky factor of `factor` in place; false if not positive definite.
    private mutating func choleskyInPlace() -> Bool {
        let m = self.m
        return factor.withUnsafeMutableBufferPointer { choleskyFactorInPlace($0, order: m) }
    }

    /// Solves `L Lᵀ y = r` in place with the factor from ``choleskyInPlace()``.
    private func choleskySolve(_ r: inout [Double]) {
        let m = self.m
        factor.withUnsafeBufferPointer { a in r.withUnsafeMutableBufferPointer { choleskySolveInPlace(factor: a, $0, order: m) } }
    }
}

/// `f(b) = −(1/n) Σ_{r∈rows} log(b · x_r)`: the negative mean log growth of a constant
/// rebalanced portfolio over selected rows of a flat relatives matrix (BCRP and CORN).
struct MeanLogGrowth: SimplexObjective {
    /// Flat row-major relatives.
    var relatives: UnsafeBufferPointer<Double>
    /// Rows to use (indices into `relatives`).
    var rows: UnsafeBufferPointer<Int>
    let m: Int
    /// Scratch `m × m` upper triangle accumulator.
    var scaled: [Double]

    init(relatives: UnsafeBufferPointer<Double>, rows: UnsafeBufferPointer<Int>, assetCount: Int) {
        self.relatives = relatives
        self.rows = rows
        self.m = assetCount
        self.scaled = Array(repeating: 0, count: assetCount)
    }

    mutating func evaluate(_ b: UnsafeMutableBufferPointer<Double>, gradient: UnsafeMutableBufferPointer<Double>,
                           hessian: UnsafeMutableBufferPointer<Double>) -> Double {
        let m = self.m
        for i in 0..<m { gradient[i] = 0 }
        for k in 0..<(m * m) { hessian[k] = 0 }
        var value = 0.0
        let x = relatives
        scaled.withUnsafeMutableBufferPointer { y in
            for r in rows {
                let row = r * m
                var growth = 0.0
                for i in 0..<m { growth += b[i] * x[row + i] }
                value += log(growth)
                let inverse = 1 / growth
                for i in 0..<m { y[i] = x[row + i] * inverse; gradient[i] += y[i] }
                for i in 0..<m {
                    let yi = y[i]
                    let h = i * m
                    for j in i..<m { hessian[h + j] += yi * y[j] }
                }
            }
        }
        let n = Double(rows.count)
        for i in 0..<m {
            gradient[i] = -gradient[i] / n
            for j in i..<m {
                let h = hessian[i * m + j] / n
                hessian[i * m + j] = h
                hessian[j * m + i] = h
            }
        }
        return -value / n
    }
}
