import Linalg
import Market

/// Hierarchical multi-asset allocation: fixed budgets across asset classes, then any
/// ``PortfolioOptimizer`` inside each class.
///
/// Each asset's class comes from ``OptimizationInputs/assetClasses`` (for example the labels of
/// `MultiAssetUniverse.standard()`: equity, etf, bond, derivative). For every budgeted class `c`
/// with budget `b_c`, the class's optimizer (``classOptimizers`` or the default ``optimizer``) runs
/// on the sub-universe of that class (its expected returns and covariance block); its weights `v`,
/// which must sum to 1, become `wᵢ = b_c·vᵢ/Σv`, so each class total equals its budget up to
/// rounding. This is the two-level scheme of strategic (class) and tactical (within-class)
/// allocation (G. Brinson, L. R. Hood and G. Beebower, "Determinants of portfolio performance",
/// Financial Analysts J. 42 (1986) 39–44).
///
/// Optional overall limits: per-asset caps (``maximumAssetWeight``, ``assetUpperBounds``) are
/// enforced inside a ``MeanVarianceOptimizer`` by passing `cap/b_c` as its upper bound, and checked
/// for every other optimizer; gross leverage `Σ|wᵢ| ≤ L` (default 1.5) is checked. A violation
/// throws, naming the asset or the leverage reached.
///
/// ```swift
/// let universe = try MultiAssetUniverse.standard()
/// let returns = try ReturnObservations(simpleReturnsOf: universe.panel)
/// let inputs = try OptimizationInputs(expectedReturns: nil,
///                                     covariance: CovarianceEstimator(annualizationFactor: 12).fit(returns))
/// let allocation = try AssetClassBudgeting(budgets: [.equity: 0.4, .etf: 0.3, .bond: 0.2, .derivative: 0.1],
///                                          optimizer: InverseVolatility(),
///                                          classOptimizers: [.equity: MeanVarianceOptimizer()]).fit(inputs)
/// ```
///
/// Cost: the inner optimizers' costs on the class blocks, plus `O(n²)` for the combined measures.
public struct AssetClassBudgeting: PortfolioOptimizer {
    /// Weight of each class (fractions of capital), summing to ``total``.
    public var budgets: [AssetClass: Double]
    /// The optimizer used inside a class without an override.
    public var optimizer: any PortfolioOptimizer
    /// Per-class optimizers overriding ``optimizer``.
    public var classOptimizers: [AssetClass: any PortfolioOptimizer]
    /// The sum the budgets must reach (1 = fully invested).
    public var total: Double
    /// A cap on every asset's overall weight; `nil` for none.
    public var maximumAssetWeight: Double?
    /// Per-asset caps on the overall weight, overriding ``maximumAssetWeight``.
    public var assetUpperBounds: [String: Double]
    /// The largest gross leverage `Σ|wᵢ|` allowed. Default 1.5.
    public var grossLeverageLimit: Double
    /// The annual risk-free rate of the reported Sharpe ratio.
    public var riskFreeRate: Double

    /// Creates the allocator.
    public init(budgets: [AssetClass: Double], optimizer: any PortfolioOptimizer = EqualWeight(),
                classOptimizers: [AssetClass: any PortfolioOptimizer] = [:], total: Double = 1,
                maximumAssetWeight: Double? = nil, assetUpperBounds: [String: Double] = [:],
                grossLeverageLimit: Double = 1.5, riskFreeRate: Double = 0) {
        self.budgets = budgets
        self.optimizer = optimizer
        self.classOptimizers = classOptimizers
        self.total = total
        self.maximumAssetWeight = maximumAssetWeight
        self.assetUpperBounds = assetUpperBounds
        self.grossLeverageLimit = grossLeverageLimit
        self.riskFreeRate = riskFreeRate
    }

    /// `budgets` kept for the classes in `present` and scaled to sum to 1.
    ///
    /// The sum runs in class-name order: a dictionary's order changes from process to process
    /// (Swift seeds hashing per process), and a sum in that order differs in the last bits, which
    /// made two identical runs write different reports.
    public static func renormalized(_ budgets: [AssetClass: Double], over present: Set<AssetClass>) -> [AssetClass: Double] {
        let kept = budgets.filter { present.contains($0.key) }
        let total = kept.sorted { $0.key.rawValue < $1.key.rawValue }.reduce(0) { $0 + $1.value }
        return kept.mapValues { $0 / total }
    }

    /// The combined allocation (method `"hierarchical"`).
    ///
    /// - Throws: as ``allocate(_:)``, and for a risk-free rate that is not finite.
    public func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        try validateRiskFreeRate(riskFreeRate, operation: "AssetClassBudgeting")
        return try allocate(inputs).allocation
    }

    /// The combined allocation and its per-class breakdown, classes in order of first appearance.
    ///
    /// - Throws: ``PortfolioError/invalidArgument(operation:message:)`` naming the class for a budget
    ///   on a class with no assets, assets whose class has no budget, an override for a class without a
    ///   budget, a negative or non-finite budget, budgets not summing to ``total``, or an inner
    ///   allocation not summing to 1; ``PortfolioError/unknownAsset(operation:asset:)`` for a cap on an
    ///   unknown asset; ``PortfolioError/infeasible(operation:conflicting:detail:)`` naming the asset
    ///   whose cap is exceeded, the class whose caps cannot hold its budget, or the gross leverage
    ///   reached; and the inner optimizers' errors (with the class in the operation).
    public func allocate(_ inputs: OptimizationInputs) throws -> HierarchicalAllocation {
        let operation = "AssetClassBudgeting"
        let caps = try assetCaps(inputs, operation: operation)
        let order = classesInOrder(inputs)
        try validateBudgets(present: order, inputs: inputs, operation: operation)
        var weights = [Double](repeating: 0, count: inputs.count)
        var breakdown: [ClassAllocation] = []
        for assetClass in order {
            let members = inputs.assets.indices.filter { inputs.assetClasses[$0] == assetClass }
            let budget = budgets[assetClass] ?? 0
            let classCaps = members.map { caps[$0] }
            if budget > 0, classCaps.allSatisfy({ $0 != nil }) {
                let room = classCaps.reduce(0) { $0 + ($1 ?? 0) }
                if room < budget * (1 - 1e-12) {
                    throw PortfolioError.infeasible(operation: operation,
                                                    conflicting: ["class \(assetClass) budget \(budget)"] + members.map { "w[\(inputs.assets[$0])] ≤ \(caps[$0]!)" },
                                                    detail: "the caps of class \(assetClass) add up to \(room) < its budget \(budget)")
                }
            }
            let inner = try innerOptimizer(for: assetClass, budget: budget, caps: classCaps, members: members, inputs: inputs)
            let sub = try subInputs(inputs, members: members)
            let allocation: PortfolioAllocation
            do { allocation = try inner.fit(sub) } catch let error as PortfolioError {
                throw error.inClass(assetClass)
            }
            let innerSum = allocation.weights.reduce(0, +)
            guard abs(innerSum - 1) <= 1e-8 else {
                throw PortfolioError.invalidArgument(operation: operation,
                                                     message: "the \(allocation.method) weights of class \(assetClass) sum to \(innerSum), not 1")
            }
            let scaled = allocation.weights.map { budget * $0 / innerSum }
            for (k, i) in members.enumerated() { weights[i] = scaled[k] }
            breakdown.append(ClassAllocation(assetClass: assetClass, budget: budget, assets: sub.assets, weights: scaled,
                                             inner: allocation))
        }
        try checkLimits(weights, caps: caps, inputs: inputs, operation: operation)
        let combined = PortfolioAllocation(method: "hierarchical", weights: weights, inputs: inputs, riskFreeRate: riskFreeRate)
        return HierarchicalAllocation(allocation: combined, classes: breakdown)
    }

    /// The classes present in `inputs`, in order of first appearance.
    func classesInOrder(_ inputs: OptimizationInputs) -> [AssetClass] {
        var seen = Set<AssetClass>()
        return inputs.assetClasses.filter { seen.insert($0).inserted }
    }

    func validateBudgets(present: [AssetClass], inputs: OptimizationInputs, operation: String) throws {
        func fail(_ message: String) -> PortfolioError { .invalidArgument(operation: operation, message: message) }
        let presentSet = Set(present)
        for (assetClass, budget) in budgets.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            guard presentSet.contains(assetClass) else {
                throw fail("class \(assetClass) has a budget of \(budget) but no assets (classes present: \(present.map(\.rawValue).joined(separator: ", ")))")
            }
            guard budget.isFinite, budget >= 0 else { throw fail("the budget \(budget) of class \(assetClass) must be finite and ≥ 0") }
        }
        for assetClass in present where budgets[assetClass] == nil {
            let names = inputs.assets.indices.filter { inputs.assetClasses[$0] == assetClass }.map { inputs.assets[$0] }
            throw fail("class \(assetClass) (assets \(names.joined(separator: ", "))) has no budget")
        }
        for assetClass in classOptimizers.keys.sorted(by: { $0.rawValue < $1.rawValue }) where budgets[assetClass] == nil {
            throw fail("an optimizer is given for class \(assetClass), which has no budget")
        }
        let sum = budgets.sorted { $0.key.rawValue < $1.key.rawValue }.reduce(0) { $0 + $1.value }  // a reproducible order
        guard total.isFinite, abs(sum - total) <= 1e-12 * Swift.max(1, abs(total)) else {
            let listed = budgets.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            throw fail("the class budgets (\(listed)) sum to \(sum), not \(total)")
        }
        guard grossLeverageLimit >= abs(total), grossLeverageLimit.isFinite else {
            throw PortfolioError.infeasible(operation: operation, conflicting: ["gross leverage ≤ \(grossLeverageLimit)", "budgets sum to \(total)"],
                                            detail: "gross leverage is at least |Σw| = \(abs(total))")
        }
    }

    /// Each asset's overall cap (or `nil`), validated.
    func assetCaps(_ inputs: OptimizationInputs, operation: String) throws -> [Double?] {
        for name in assetUpperBounds.keys.sorted() where !inputs.assets.contains(name) {
            throw PortfolioError.unknownAsset(operation: operation + " asset caps", asset: name)
        }
        let caps = inputs.assets.map { assetUpperBounds[$0] ?? maximumAssetWeight }
        if let k = caps.firstIndex(where: { $0.map { !$0.isFinite || $0 < 0 } ?? false }) {
            throw PortfolioError.invalidArgument(operation: operation, message: "the cap \(caps[k]!) of asset \(inputs.assets[k]) must be finite and ≥ 0")
        }
        return caps
    }

    /// The class's optimizer; a ``MeanVarianceOptimizer`` gets the overall caps divided by the budget.
    func innerOptimizer(for assetClass: AssetClass, budget: Double, caps: [Double?], members: [Int],
                        inputs: OptimizationInputs) throws -> any PortfolioOptimizer {
        let chosen = classOptimizers[assetClass] ?? optimizer
        guard var meanVariance = chosen as? MeanVarianceOptimizer, budget > 0, caps.contains(where: { $0 != nil }) else {
            return chosen
        }
        for (k, i) in members.enumerated() {
            guard let cap = caps[k] else { continue }
            let name = inputs.assets[i]
            let own = meanVariance.constraints.assetUpperBounds[name] ?? meanVariance.constraints.maximumWeight
            meanVariance.constraints.assetUpperBounds[name] = Swift.min(own, cap / budget)
        }
        return meanVariance
    }

    /// The inputs restricted to `members` (their covariance block and expected returns).
    func subInputs(_ inputs: OptimizationInputs, members: [Int]) throws -> OptimizationInputs {
        let block = Matrix(rows: members.count, columns: members.count) { inputs.covariance[members[$0], members[$1]] }
        return try OptimizationInputs(assets: members.map { inputs.assets[$0] }, covariance: block,
                                      expectedReturns: inputs.expectedReturns.map { mu in members.map { mu[$0] } },
                                      assetClasses: members.map { inputs.assetClasses[$0] })
    }

    /// Checks the caps (for optimizers that could not enforce them) and the gross leverage.
    func checkLimits(_ weights: [Double], caps: [Double?], inputs: OptimizationInputs, operation: String) throws {
        for (i, w) in weights.enumerated() {
            guard let cap = caps[i], w > cap + 1e-9 * Swift.max(1, cap) else { continue }
            let assetClass = inputs.assetClasses[i]
            throw PortfolioError.infeasible(operation: operation,
                                            conflicting: ["w[\(inputs.assets[i])] ≤ \(cap)", "class \(assetClass) budget \(budgets[assetClass] ?? 0)"],
                                            detail: "the optimizer of class \(assetClass) gives \(inputs.assets[i]) an overall weight of \(w); use a MeanVarianceOptimizer there to enforce the cap")
        }
        let gross = weights.reduce(0) { $0 + abs($1) }
        if gross > grossLeverageLimit * (1 + 1e-12) {
            throw PortfolioError.infeasible(operation: operation, conflicting: ["gross leverage ≤ \(grossLeverageLimit)"],
                                            detail: "the combined weights have gross leverage Σ|w| = \(gross)")
        }
    }
}

/// One class of a ``HierarchicalAllocation``.
public struct ClassAllocation: Sendable {
    /// The class.
    public let assetClass: AssetClass
    /// Its budget (the sum of ``weights``).
    public let budget: Double
    /// The class's assets, in input order.
    public let assets: [String]
    /// Their overall weights, `budget × inner weight`.
    public let weights: [Double]
    /// The inner optimizer's allocation on the class alone (weights summing to 1).
    public let inner: PortfolioAllocation
}

/// The result of ``AssetClassBudgeting``: the combined allocation and the per-class breakdown.
public struct HierarchicalAllocation: Sendable {
    /// The combined allocation over every asset (method `"hierarchical"`).
    public let allocation: PortfolioAllocation
    /// The classes, in order of first appearance in the inputs.
    public let classes: [ClassAllocation]
}

extension PortfolioError {
    /// The same error with `in class <c>` appended to its operation, so an inner optimizer's failure names the class.
    func inClass(_ assetClass: AssetClass) -> PortfolioError {
        let suffix = " in class \(assetClass)"
        switch self {
        case let .notPositiveSemidefinite(op, value): return .notPositiveSemidefinite(operation: op + suffix, minimumEigenvalue: value)
        case let .infeasible(op, conflicting, detail): return .infeasible(operation: op + suffix, conflicting: conflicting, detail: detail)
        case let .solverFailed(op, status, iterations, residuals):
            return .solverFailed(operation: op + suffix, status: status, iterations: iterations, residuals: residuals)
        case let .insufficientData(op, observations, required):
            return .insufficientData(operation: op + suffix, observations: observations, required: required)
        case let .unsupported(op, message): return .unsupported(operation: op + suffix, message: message)
        case let .invalidArgument(op, message): return .invalidArgument(operation: op + suffix, message: message)
        default: return self  // the other cases already name the asset
        }
    }
}
