/// Uniform buy-and-hold (UBAH, "the market"): buy `1/m` of each asset at the start and never
/// trade, so `b_t` is the drifted `b̂_{t−1}` (Li & Hoi 2014, §3.1).
public struct UniformBuyAndHold: OnlinePortfolioSelector, Sendable {
    /// Creates the strategy.
    public init() {}
    /// The algorithm and its parameters, for logs and tables.
    public var name: String { "UBAH" }
    public mutating func reset(assetCount: Int) throws {}
    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        if step.period == 0 { fillUniform(weights) } else { copyWeights(step.drifted, into: weights) }
    }
}

/// A constant rebalanced portfolio (CRP): the same `b` every period; uniform (UCRP) by default
/// (Cover 1991, "Universal portfolios", Mathematical Finance 1(1)).
public struct ConstantRebalanced: OnlinePortfolioSelector, Sendable {
    /// The fixed portfolio, or `nil` for uniform weights.
    public let portfolio: [Double]?
    private let label: String

    /// A CRP with weights `portfolio` (non-negative, summing to one), or UCRP when `nil`.
    ///
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for a vector that
    ///   is not a portfolio.
    public init(portfolio: [Double]? = nil) throws {
        if let p = portfolio {
            for (i, w) in p.enumerated() where !(w.isFinite && w >= 0) {
                throw OLPSError.invalidParameter(algorithm: "CRP", name: "b[\(i)]", value: w, requirement: "finite and ≥ 0")
            }
            let sum = p.reduce(0, +)
            guard abs(sum - 1) <= 1e-9 else {
                throw OLPSError.invalidParameter(algorithm: "CRP", name: "Σb", value: sum, requirement: "weights sum to 1")
            }
        }
        self.portfolio = portfolio
        self.label = portfolio == nil ? "UCRP" : "CRP"
    }

    init(hindsight portfolio: [Double], label: String) {
        self.portfolio = portfolio
        self.label = label
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String { label }
    public mutating func reset(assetCount: Int) throws {
        if let p = portfolio, p.count != assetCount {
            throw OLPSError.shapeMismatch(expected: "\(p.count) assets (\(label) weights)", found: "\(assetCount)")
        }
    }
    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        if let p = portfolio { for i in 0..<weights.count { weights[i] = p[i] } } else { fillUniform(weights) }
    }
}

/// Best stock in hindsight: all wealth in the asset with the largest final wealth `Π_t x_{t,i}`
/// (Li & Hoi 2014, §3.1). A hindsight benchmark, not an online strategy.
public struct BestStock: OnlinePortfolioSelector, Sendable {
    /// Column of the best asset.
    public let asset: Int
    private var inner: ConstantRebalanced

    /// The best asset of `relatives` (the first one on ties).
    public init(hindsight relatives: PriceRelatives) {
        let wealth = relatives.assetWealth
        var best = 0
        for i in 1..<wealth.count where wealth[i] > wealth[best] { best = i }
        asset = best
        var b = [Double](repeating: 0, count: relatives.assetCount)
        b[best] = 1
        inner = ConstantRebalanced(hindsight: b, label: "Best Stock")
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String { "Best Stock" }
    public mutating func reset(assetCount: Int) throws { try inner.reset(assetCount: assetCount) }
    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        inner.nextPortfolio(step, into: weights)
    }
}

/// The best constant rebalanced portfolio in hindsight (BCRP; Cover 1991):
/// `b* = argmax_{b ∈ Δ} Σ_t log(b · x_t)`, solved to optimality by ``logOptimalPortfolio(rows:of:)``.
public struct BestConstantRebalanced: OnlinePortfolioSelector, Sendable {
    /// The optimal portfolio `b*`.
    public let portfolio: [Double]
    /// Solver status, iterations and residuals.
    public let report: SimplexSolverReport
    private var inner: ConstantRebalanced

    /// Solves the hindsight problem on `relatives`.
    ///
    /// - Throws: ``OLPSError/solverFailed(algorithm:report:)`` when the solver does not converge.
    ///   Complexity: about 10–30 Newton iterations of `O(T·m² + m³)`.
    public init(hindsight relatives: PriceRelatives) throws {
        let solution = logOptimalPortfolio(rows: Array(0..<relatives.periodCount), of: relatives)
        guard solution.report.status == .converged else {
            throw OLPSError.solverFailed(algorithm: "BCRP", report: solution.report.description)
        }
        portfolio = solution.portfolio
        report = solution.report
        inner = ConstantRebalanced(hindsight: solution.portfolio, label: "BCRP")
    }

    /// The algorithm and its parameters, for logs and tables.
    public var name: String { "BCRP" }
    public mutating func reset(assetCount: Int) throws { try inner.reset(assetCount: assetCount) }
    public mutating func nextPortfolio(_ step: OLPSStep, into weights: UnsafeMutableBufferPointer<Double>) {
        inner.nextPortfolio(step, into: weights)
    }
}

/// The log-optimal constant portfolio over the given rows,
/// `argmax_{b ∈ Δ} Σ_{t ∈ rows} log(b · x_t)` (Cover 1991; Li & Hoi 2014, Eq. 3), by the
/// primal–dual interior-point method of ``SimplexInteriorPoint``.
///
/// - Returns: the portfolio and the solver report (status, iterations, duality gap, stationarity).
public func logOptimalPortfolio(rows: [Int], of relatives: PriceRelatives) -> (portfolio: [Double], report: SimplexSolverReport) {
    var solver = SimplexInteriorPoint(assetCount: relatives.assetCount)
    let report = relatives.values.withUnsafeBufferPointer { x in
        rows.withUnsafeBufferPointer { r in
            var objective = MeanLogGrowth(relatives: x, rows: r, assetCount: relatives.assetCount)
            return solver.minimize(&objective)
        }
    }
    return (solver.b, report)
}
