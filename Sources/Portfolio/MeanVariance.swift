import Linalg

/// The mean-variance family (Markowitz 1952) under ``PortfolioConstraints``, solved exactly by
/// ``ActiveSetQPSolver``.
///
/// Objectives, with `Σ` the covariance, `μ` the expected returns and `γ‖w‖²` the optional L2 term
/// (transaction costs `c·Σ|w − w⁰|` are added to the minimized objective):
/// - ``Objective/minimumVariance``: `min wᵀΣw`;
/// - ``Objective/maximumSharpe(riskFreeRate:)``: `max (μᵀw − r_f)/√(wᵀΣw)` by the standard
///   homogenization `min yᵀΣy` s.t. `(μ − r_f)ᵀy = 1`, every constraint's constants scaled by
///   `κ = Σy/B`, then `w = y/κ` (Cornuéjols and Tütüncü, *Optimization Methods in Finance*, 2007, §8.2);
/// - ``Objective/maximumUtility(riskAversion:)``: `max μᵀw − (δ/2)wᵀΣw`;
/// - ``Objective/efficientReturn(targetReturn:)``: `min wᵀΣw` s.t. `μᵀw ≥ r*`;
/// - ``Objective/efficientRisk(targetVolatility:)``: `max μᵀw` s.t. `√(wᵀΣw) ≤ σ*`, found by bisection
///   on the target return of the efficient-return problem (volatility grows with it along the frontier).
///
/// A tracking-error limit `√((w − b)ᵀΣ(w − b)) ≤ TE` is met by adding `η(w − b)ᵀΣ(w − b)` to the
/// objective, with `η ≥ 0` found by bisection (the Lagrangian of the quadratic constraint); it is
/// supported for the minimum-variance, utility and efficient-return objectives.
///
/// Cost: one QP per objective (`O(n³)` Cholesky plus `O(n²)` per active-set step); efficient risk
/// and tracking-error limits solve `O(60)` QPs.
public struct MeanVarianceOptimizer: PortfolioOptimizer {
    /// What to optimize.
    public enum Objective: Sendable, Hashable {
        /// Minimum variance.
        case minimumVariance
        /// Maximum Sharpe ratio over the annual `riskFreeRate`.
        case maximumSharpe(riskFreeRate: Double)
        /// Maximum quadratic utility with risk aversion `δ > 0`.
        case maximumUtility(riskAversion: Double)
        /// Minimum variance with expected return at least `targetReturn`.
        case efficientReturn(targetReturn: Double)
        /// Maximum expected return with volatility at most `targetVolatility`.
        case efficientRisk(targetVolatility: Double)

        /// A short name used as ``PortfolioAllocation/method``.
        public var name: String {
            switch self {
            case .minimumVariance: return "min-variance"
            case .maximumSharpe: return "max-sharpe"
            case .maximumUtility: return "max-utility"
            case .efficientReturn: return "efficient-return"
            case .efficientRisk: return "efficient-risk"
            }
        }
    }

    /// The objective.
    public var objective: Objective
    /// The constraints.
    public var constraints: PortfolioConstraints
    /// The QP solver and its tolerances.
    public var solver: ActiveSetQPSolver
    /// The annual risk-free rate used for the reported Sharpe ratio (the max-Sharpe objective uses its own).
    public var riskFreeRate: Double

    /// Creates an optimizer.
    public init(objective: Objective = .minimumVariance, constraints: PortfolioConstraints = .longOnly,
                solver: ActiveSetQPSolver = ActiveSetQPSolver(), riskFreeRate: Double = 0) {
        self.objective = objective
        self.constraints = constraints
        self.solver = solver
        self.riskFreeRate = riskFreeRate
    }

    /// Optimizes the weights.
    ///
    /// - Throws: ``PortfolioError/notPositiveSemidefinite(operation:minimumEigenvalue:)`` for an indefinite
    ///   covariance; ``PortfolioError/infeasible(operation:conflicting:detail:)`` naming conflicting
    ///   constraints; ``PortfolioError/invalidArgument(operation:message:)`` when expected returns are
    ///   needed but absent or a parameter is out of range; ``PortfolioError/unsupported(operation:message:)``
    ///   for combinations without a convex QP form; ``PortfolioError/solverFailed(operation:status:iterations:residuals:)``.
    public func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        try validateRiskFreeRate(riskFreeRate, operation: "MeanVarianceOptimizer")
        var context = try Context(inputs: inputs, optimizer: self)
        let weights = try context.solve(objective)
        let reportedRate: Double
        if case let .maximumSharpe(rate) = objective { reportedRate = rate } else { reportedRate = riskFreeRate }
        return PortfolioAllocation(method: objective.name, weights: weights, inputs: inputs, riskFreeRate: reportedRate,
                                   currentWeights: constraints.currentWeights, diagnostics: context.diagnostics())
    }

    /// `points` efficient-return portfolios with targets evenly spaced from the minimum-variance
    /// portfolio's return to the largest feasible return.
    ///
    /// - Throws: as ``fit(_:)``, and ``PortfolioError/invalidArgument(operation:message:)`` for `points < 2`.
    public func efficientFrontier(_ inputs: OptimizationInputs, points: Int) throws -> [PortfolioAllocation] {
        guard points >= 2 else {
            throw PortfolioError.invalidArgument(operation: "MeanVarianceOptimizer.efficientFrontier",
                                                 message: "need at least 2 points, got \(points)")
        }
        var context = try Context(inputs: inputs, optimizer: self)
        let mu = try context.requireReturns("efficientFrontier")
        let minimum = try context.solve(.minimumVariance)
        let low = dot(mu, minimum)
        let high = try context.maximumReturn()
        var result: [PortfolioAllocation] = []
        for k in 0..<points {
            let target = k == points - 1 ? high : low + (high - low) * Double(k) / Double(points - 1)
            let weights = try context.solve(.efficientReturn(targetReturn: target))
            result.append(PortfolioAllocation(method: "efficient-frontier", weights: weights, inputs: inputs,
                                              riskFreeRate: riskFreeRate, currentWeights: constraints.currentWeights,
                                              diagnostics: context.diagnostics()))
        }
        return result
    }

    /// The state of one optimization: the constraint model and solver bookkeeping.
    struct Context {
        let inputs: OptimizationInputs
        let optimizer: MeanVarianceOptimizer
        let model: ConstraintModel
        let operation: String
        var iterations = 0
        var solves = 0
        var last: QPSolution?

        init(inputs: OptimizationInputs, optimizer: MeanVarianceOptimizer) throws {
            operation = "MeanVarianceOptimizer(\(optimizer.objective.name))"
            self.inputs = inputs
            self.optimizer = optimizer
            model = try ConstraintModel(inputs: inputs, constraints: optimizer.constraints, operation: operation)
            // Positive semidefiniteness is checked by the QP solver on its Hessian (a multiple of Σ plus
            // 2γI); `run` restates a failure in terms of Σ's own smallest eigenvalue.
        }

        func diagnostics() -> SolverDiagnostics? {
            guard let last else { return nil }
            return SolverDiagnostics(status: last.status, iterations: iterations, solves: solves,
                                     proximalPasses: last.proximalPasses, residuals: last.residuals,
                                     activeConstraints: last.activeConstraints)
        }

        func requireReturns(_ what: String) throws -> [Double] {
            guard let mu = inputs.expectedReturns else {
                throw PortfolioError.invalidArgument(operation: operation, message: "\(what) needs expected returns")
            }
            return mu
        }

        mutating func run(_ program: QuadraticProgram) throws -> [Double] {
            do {
                let solution = try optimizer.solver.solve(program)
                iterations += solution.iterations
                solves += 1
                last = solution
                return solution.x
            } catch let PortfolioError.infeasible(_, conflicting, detail) {
                throw PortfolioError.infeasible(operation: operation, conflicting: conflicting, detail: detail)
            } catch PortfolioError.notPositiveSemidefinite {
                let smallest = try inputs.covariance.symmetricEigenvalues().first ?? 0
                throw PortfolioError.notPositiveSemidefinite(operation: operation, minimumEigenvalue: smallest)
            } catch let PortfolioError.solverFailed(_, status, iterations, residuals) {
                throw PortfolioError.solverFailed(operation: operation, status: status, iterations: iterations, residuals: residuals)
            }
        }

        var twiceSigma: Matrix { inputs.covariance.scaled(by: 2) }

        func volatility(_ w: [Double]) -> Double {
            let sw = inputs.covariance * Array(w[0..<model.n])
            return Swift.max(dot(Array(w[0..<model.n]), sw), 0).squareRoot()
        }

        /// Minimizes `½wᵀQw + cᵀw` (plus L2 and costs) under the constraints and the tracking-error limit.
        mutating func minimize(quadratic: Matrix, linear: [Double], extraRows: [ConstraintModel.Row] = []) throws -> [Double] {
            guard let te = optimizer.constraints.trackingError else {
                return try run(model.program(quadratic: quadratic, linear: linear, extraRows: extraRows))
            }
            for name in te.benchmark.keys where !inputs.assets.contains(name) {
                throw PortfolioError.unknownAsset(operation: operation, asset: name)
            }
            guard te.limit >= 0, te.limit.isFinite else {
                throw PortfolioError.invalidArgument(operation: operation, message: "tracking-error limit \(te.limit) must be finite and ≥ 0")
            }
            let b = inputs.assets.map { te.benchmark[$0] ?? 0 }
            let sigmaB = inputs.covariance * b
            func trackingError(_ w: [Double]) -> Double {
                let d = zip(w[0..<model.n], b).map { $0 - $1 }
                return Swift.max(dot(d, inputs.covariance * d), 0).squareRoot()
            }
            func penalized(_ eta: Double) -> (Matrix, [Double]) {
                let q = quadratic + inputs.covariance.scaled(by: 2 * eta)
                let c = zip(linear, sigmaB).map { $0 - 2 * eta * $1 }
                return (q, c)
            }
            var w = try run(model.program(quadratic: quadratic, linear: linear, extraRows: extraRows))
            if trackingError(w) <= te.limit { return w }
            // The smallest tracking error the other constraints allow.
            let closest = try run(model.program(quadratic: twiceSigma, linear: sigmaB.map { -2 * $0 }, extraRows: extraRows))
            let smallest = trackingError(closest)
            if smallest > te.limit * (1 + 1e-9) {
                throw PortfolioError.infeasible(operation: operation,
                                                conflicting: ["tracking error ≤ \(te.limit)", "the other weight constraints"],
                                                detail: "the smallest attainable tracking error is \(smallest)")
            }
            var low = 0.0, high = 1.0
            var best = closest
            while true {
                let (q, c) = penalized(high)
                w = try run(model.program(quadratic: q, linear: c, extraRows: extraRows))
                if trackingError(w) <= te.limit { best = w; break }
                low = high
                high *= 4
                if high > 1e12 { return closest }
            }
            for _ in 0..<200 {
                let mid = low == 0 ? high / 2 : (low * high).squareRoot()
                let (q, c) = penalized(mid)
                w = try run(model.program(quadratic: q, linear: c, extraRows: extraRows))
                if trackingError(w) <= te.limit { high = mid; best = w } else { low = mid }
                if high - low <= 1e-13 * high { break }
            }
            // Re-solve at the feasible end so the diagnostics describe the returned weights.
            let (q, c) = penalized(high)
            best = try run(model.program(quadratic: q, linear: c, extraRows: extraRows))
            return best
        }

        /// The largest expected return the constraints allow (a linear program, solved by the
        /// proximal-point path of the QP solver).
        mutating func maximumReturn() throws -> Double {
            let mu = try requireReturns("the maximum return")
            let zero = Matrix(rows: model.n, columns: model.n)
            let w = try run(model.program(quadratic: zero, linear: mu.map { -$0 }))
            return dot(mu, Array(w[0..<model.n]))
        }

        mutating func solve(_ objective: Objective) throws -> [Double] {
            let n = model.n
            let zeros = [Double](repeating: 0, count: n)
            switch objective {
            case .minimumVariance:
                return Array(try minimize(quadratic: twiceSigma, linear: zeros)[0..<n])
            case let .maximumUtility(delta):
                guard delta > 0, delta.isFinite else {
                    throw PortfolioError.invalidArgument(operation: operation, message: "risk aversion \(delta) must be positive")
                }
                let mu = try requireReturns("maximum utility")
                return Array(try minimize(quadratic: inputs.covariance.scaled(by: delta), linear: mu.map { -$0 })[0..<n])
            case let .efficientReturn(target):
                let mu = try requireReturns("efficient return")
                guard target.isFinite else {
                    throw PortfolioError.invalidArgument(operation: operation, message: "target return must be finite")
                }
                var row = [Double](repeating: 0, count: model.variableCount)
                for i in 0..<n { row[i] = mu[i] }
                let extra = ConstraintModel.Row(coefficients: row, lower: target, upper: .infinity,
                                                label: "target return μᵀw ≥ \(target)")
                return Array(try minimize(quadratic: twiceSigma, linear: zeros, extraRows: [extra])[0..<n])
            case let .efficientRisk(targetVolatility):
                let mu = try requireReturns("efficient risk")
                guard targetVolatility > 0, targetVolatility.isFinite else {
                    throw PortfolioError.invalidArgument(operation: operation, message: "target volatility must be positive")
                }
                if optimizer.constraints.trackingError != nil {
                    throw PortfolioError.unsupported(operation: operation, message: "efficient risk with a tracking-error limit")
                }
                let minimum = try solve(.minimumVariance)
                let minimumVolatility = volatility(minimum)
                if minimumVolatility > targetVolatility {
                    throw PortfolioError.infeasible(operation: operation,
                                                    conflicting: ["volatility ≤ \(targetVolatility)", "the weight constraints"],
                                                    detail: "the minimum attainable volatility is \(minimumVolatility)")
                }
                var low = dot(mu, minimum)
                var high = try maximumReturn()
                var best = minimum
                let top = try solve(.efficientReturn(targetReturn: high))
                if volatility(top) <= targetVolatility { return top }
                for _ in 0..<200 {
                    let mid = 0.5 * (low + high)
                    let w = try solve(.efficientReturn(targetReturn: mid))
                    if volatility(w) <= targetVolatility { low = mid; best = w } else { high = mid }
                    if high - low <= 1e-14 * Swift.max(1, abs(high)) { break }
                }
                best = try solve(.efficientReturn(targetReturn: low))
                return best
            case let .maximumSharpe(rate):
                let mu = try requireReturns("maximum Sharpe")
                guard rate.isFinite else {
                    throw PortfolioError.invalidArgument(operation: operation, message: "risk-free rate must be finite")
                }
                guard let budget = optimizer.constraints.budget, budget > 0 else {
                    throw PortfolioError.unsupported(operation: operation, message: "maximum Sharpe needs a positive budget")
                }
                if optimizer.constraints.transactionCost != 0 {
                    throw PortfolioError.unsupported(operation: operation,
                                                     message: "transaction costs break the homogenization of the Sharpe ratio")
                }
                if optimizer.constraints.trackingError != nil {
                    throw PortfolioError.unsupported(operation: operation, message: "maximum Sharpe with a tracking-error limit")
                }
                let excess = mu.map { $0 - rate }
                let program = model.homogeneousProgram(quadratic: twiceSigma, excess: excess, budget: budget)
                let y: [Double]
                do {
                    y = try run(program)
                } catch let PortfolioError.infeasible(op, conflicting, detail) {
                    throw PortfolioError.infeasible(operation: op, conflicting: conflicting,
                                                    detail: detail + "; no feasible portfolio earns more than the risk-free rate \(rate)")
                }
                let kappa = y[0..<n].reduce(0, +) / budget
                guard kappa > 1e-14 else {
                    throw PortfolioError.unsupported(operation: operation,
                                                     message: "the Sharpe ratio is unbounded (κ = \(kappa)); add bounds")
                }
                return y[0..<n].map { $0 / kappa }
            }
        }
    }
}

/// Equal weights `wᵢ = 1/n` (the 1/N portfolio of DeMiguel, Garlappi and Uppal, Rev. Financ. Stud. 22 (2009)).
public struct EqualWeight: PortfolioOptimizer {
    /// The annual risk-free rate used for the reported Sharpe ratio.
    public var riskFreeRate: Double

    /// Creates the allocator.
    public init(riskFreeRate: Double = 0) { self.riskFreeRate = riskFreeRate }

    /// `1/n` for every asset. Cost `O(n²)` for the reported measures.
    public func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        try validateRiskFreeRate(riskFreeRate, operation: "EqualWeight")
        let n = inputs.count
        return PortfolioAllocation(method: "equal", weights: [Double](repeating: 1 / Double(n), count: n), inputs: inputs,
                                   riskFreeRate: riskFreeRate)
    }
}

/// Inverse-volatility weights `wᵢ = (1/σᵢ) / Σⱼ(1/σⱼ)` with `σᵢ = √Σᵢᵢ` (naive risk parity).
public struct InverseVolatility: PortfolioOptimizer {
    /// The annual risk-free rate used for the reported Sharpe ratio.
    public var riskFreeRate: Double

    /// Creates the allocator.
    public init(riskFreeRate: Double = 0) { self.riskFreeRate = riskFreeRate }

    /// The inverse-volatility weights. Cost `O(n²)` for the reported measures.
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` naming an asset with zero variance.
    public func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        try validateRiskFreeRate(riskFreeRate, operation: "InverseVolatility")
        let variances = inputs.covariance.diagonalElements
        if let k = variances.firstIndex(where: { !($0 > 0) }) {
            throw PortfolioError.invalidArgument(operation: "InverseVolatility.fit",
                                                 message: "asset \(inputs.assets[k]) has variance \(variances[k])")
        }
        let raw = variances.map { 1 / $0.squareRoot() }
        let total = raw.reduce(0, +)
        return PortfolioAllocation(method: "inverse-volatility", weights: raw.map { $0 / total }, inputs: inputs,
                                   riskFreeRate: riskFreeRate)
    }
}

func dot(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices { s += a[i] * b[i] }
    return s
}
