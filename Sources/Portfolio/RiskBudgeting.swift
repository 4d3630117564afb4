import Linalg
import RealModule

/// Risk budgeting (equal risk contribution when the budgets are equal): long-only, fully invested
/// weights whose relative risk contributions `RCᵢ/σ = wᵢ(Σw)ᵢ / wᵀΣw` equal the budgets `bᵢ`.
///
/// Solved by Newton's method on the strictly convex formulation of F. Spinu ("An Algorithm for
/// Computing Risk Parity Weights", SSRN 2297383, 2013):
/// `minimize f(y) = ½yᵀΣy − Σᵢ bᵢ log yᵢ` over `y > 0`, whose stationarity `yᵢ(Σy)ᵢ = bᵢ` gives
/// `w = y/Σⱼyⱼ` (Maillard, Roncalli and Teïletche, *J. Portfolio Management* 36(4), 2010). Each step
/// solves `(Σ + diag(b/y²))Δ = −∇f` by Cholesky and backtracks (Armijo) to stay in `y > 0`; the
/// start is the inverse-volatility portfolio scaled to minimize `f` along its ray.
///
/// ``PortfolioAllocation/diagnostics`` reports the status, the Newton iterations and
/// ``KKTResiduals`` with `primal = |Σwᵢ − 1|`, `dual = maxᵢ|RCᵢ/σ − bᵢ|` (the budget residual of
/// the returned weights) and `complementarity = 0` (the solution is interior).
///
/// Cost: `O(n³/3)` per iteration for the Cholesky factorization; quadratic convergence typically
/// takes 5–10 iterations.
public struct RiskBudgeting: PortfolioOptimizer {
    /// Risk budgets in the order of the inputs' assets, positive and summing to 1; `nil` for equal
    /// budgets `1/n` (equal risk contribution).
    public var budgets: [Double]?
    /// Newton stops once `maxᵢ|yᵢ(Σy)ᵢ − bᵢ|` is at most this (the budget residual at the optimum).
    public var tolerance: Double
    /// The largest number of Newton iterations.
    public var maximumIterations: Int
    /// The annual risk-free rate used for the reported Sharpe ratio.
    public var riskFreeRate: Double

    /// Creates the optimizer.
    public init(budgets: [Double]? = nil, tolerance: Double = 1e-12, maximumIterations: Int = 100, riskFreeRate: Double = 0) {
        self.budgets = budgets
        self.tolerance = tolerance
        self.maximumIterations = maximumIterations
        self.riskFreeRate = riskFreeRate
    }

    /// The risk-budgeting weights.
    ///
    /// - Throws: ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` for budgets
    ///   of the wrong length; ``PortfolioError/invalidArgument(operation:message:)`` naming the asset
    ///   whose budget is not positive, budgets not summing to 1, an asset with zero variance (the
    ///   problem is then unbounded), or bad solver settings;
    ///   ``PortfolioError/notPositiveSemidefinite(operation:minimumEigenvalue:)`` for an indefinite
    ///   covariance; ``PortfolioError/solverFailed(operation:status:iterations:residuals:)`` when
    ///   Newton stops short of ``tolerance``.
    public func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        let method = budgets == nil ? "risk-parity" : "risk-budgeting"
        let operation = "RiskBudgeting(\(method))"
        try validateRiskFreeRate(riskFreeRate, operation: operation)
        let n = inputs.count
        let b = try validatedBudgets(inputs, operation: operation)
        guard tolerance > 0, tolerance.isFinite, maximumIterations >= 1 else {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "tolerance \(tolerance) must be positive and iterations \(maximumIterations) ≥ 1")
        }
        let sigma = inputs.covariance
        let variances = sigma.diagonalElements
        if let k = variances.firstIndex(where: { !($0 > 0) }) {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "asset \(inputs.assets[k]) has variance \(variances[k]); its risk budget cannot be met")
        }
        if (try? Cholesky(sigma)) == nil {
            let eigenvalues = try sigma.symmetricEigenvalues()
            let smallest = eigenvalues.first ?? 0, largest = eigenvalues.last ?? 0
            if smallest < -1e-12 * Swift.max(abs(largest), 1e-300) {
                throw PortfolioError.notPositiveSemidefinite(operation: operation, minimumEigenvalue: smallest)
            }
        }

        func objective(_ y: [Double]) -> Double {
            let sy = sigma * y
            var value = 0.0
            for i in 0..<n { value += 0.5 * y[i] * sy[i] - b[i] * Double.log(y[i]) }
            return value
        }
        var y = variances.map { 1 / $0.squareRoot() }
        let start = 1 / dot(y, sigma * y).squareRoot()
        y = y.map { $0 * start }
        var iterations = 0
        var status = SolverStatus.iterationLimit
        var value = objective(y)
        while true {
            let sy = sigma * y
            var residual = 0.0
            for i in 0..<n { residual = Swift.max(residual, abs(y[i] * sy[i] - b[i])) }
            if residual <= tolerance { status = .optimal; break }
            if iterations >= maximumIterations { break }
            iterations += 1
            var hessian = sigma
            var gradient = [Double](repeating: 0, count: n)
            for i in 0..<n {
                gradient[i] = sy[i] - b[i] / y[i]
                hessian[i, i] += b[i] / (y[i] * y[i])
            }
            guard let step = try? Cholesky(hessian).solve(gradient.map { -$0 }) else { status = .numericalFailure; break }
            let slope = dot(gradient, step)
            var t = 1.0
            for i in 0..<n where step[i] < 0 { t = Swift.min(t, -0.99 * y[i] / step[i]) }
            var accepted = false
            while t > 1e-16 {
                let trial = zip(y, step).map { $0 + t * $1 }
                let trialValue = objective(trial)
                if trialValue <= value + 1e-4 * t * slope || abs(trialValue - value) <= 1e-15 * abs(value) {
                    y = trial
                    value = trialValue
                    accepted = true
                    break
                }
                t *= 0.5
            }
            if !accepted { status = .numericalFailure; break }
        }

        let total = y.reduce(0, +)
        let weights = y.map { $0 / total }
        let sw = sigma * weights
        let variance = dot(weights, sw)
        var budgetResidual = 0.0
        for i in 0..<n { budgetResidual = Swift.max(budgetResidual, abs(weights[i] * sw[i] / variance - b[i])) }
        let residuals = KKTResiduals(primal: abs(weights.reduce(0, +) - 1), dual: budgetResidual, complementarity: 0)
        guard status == .optimal else {
            throw PortfolioError.solverFailed(operation: operation, status: status, iterations: iterations, residuals: residuals)
        }
        let diagnostics = SolverDiagnostics(status: status, iterations: iterations, solves: 1, proximalPasses: 0,
                                            residuals: residuals, activeConstraints: [])
        return PortfolioAllocation(method: method, weights: weights, inputs: inputs, riskFreeRate: riskFreeRate,
                                   diagnostics: diagnostics)
    }

    private func validatedBudgets(_ inputs: OptimizationInputs, operation: String) throws -> [Double] {
        let n = inputs.count
        guard let budgets else { return [Double](repeating: 1 / Double(n), count: n) }
        guard budgets.count == n else {
            throw PortfolioError.dimensionMismatch(operation: operation, lhs: "assets", lhsCount: n,
                                                   rhs: "risk budgets", rhsCount: budgets.count)
        }
        if let k = budgets.firstIndex(where: { !($0 > 0) || !$0.isFinite }) {
            throw PortfolioError.invalidArgument(operation: operation,
                                                 message: "risk budget \(budgets[k]) of asset \(inputs.assets[k]) must be positive and finite")
        }
        let sum = budgets.reduce(0, +)
        guard abs(sum - 1) <= 1e-10 else {
            throw PortfolioError.invalidArgument(operation: operation, message: "risk budgets sum to \(sum), not 1")
        }
        return budgets
    }
}
