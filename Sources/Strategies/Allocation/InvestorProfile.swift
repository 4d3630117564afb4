import Linalg
import Market
import Portfolio

/// Capital budgets per asset class, in a fixed order (so every sum runs in the same order in every
/// process).
public struct ClassBudgets: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The classes and their budgets, in order.
    public let entries: [Entry]

    /// One class's budget.
    public struct Entry: Sendable, Hashable, Codable {
        /// The class.
        public let assetClass: AssetClass
        /// Its share of capital, in `[0, 1]`.
        public let budget: Double
    }

    /// Budgets in the order given; they must be non-negative, name each class once and sum to 1
    /// within 1e-9.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` naming the class at fault.
    public init(_ budgets: KeyValuePairs<AssetClass, Double>) throws {
        try self.init(entries: budgets.map { Entry(assetClass: $0.key, budget: $0.value) })
    }

    /// Budgets from entries, checked as ``init(_:)``.
    public init(entries: [Entry]) throws {
        var seen = Set<AssetClass>()
        for entry in entries {
            try require(seen.insert(entry.assetClass).inserted, "ClassBudgets", entry.assetClass.rawValue, "is listed twice")
            try require(entry.budget.isFinite && entry.budget >= 0, "ClassBudgets", entry.assetClass.rawValue,
                        "budget \(entry.budget) must be finite and non-negative")
        }
        let total = entries.reduce(0) { $0 + $1.budget }
        try require(!entries.isEmpty && abs(total - 1) <= 1e-9, "ClassBudgets", "budgets", "sum to \(total); they must sum to 1")
        self.entries = entries
    }

    /// The design note's split: stocks 40 %, bonds 30 %, ETFs 20 %, derivatives 10 %.
    public static let designNote = try! ClassBudgets([.equity: 0.4, .bond: 0.3, .etf: 0.2, .derivative: 0.1])

    /// The classes, in order.
    public var classes: [AssetClass] { entries.map(\.assetClass) }

    /// The budgets renormalized over the classes for which `present` is true (all zero when none is).
    public func renormalized(present: (AssetClass) -> Bool) -> [Double] {
        let kept = entries.map { present($0.assetClass) ? $0.budget : 0 }
        let total = kept.reduce(0, +)
        return total > 0 ? kept.map { $0 / total } : kept
    }

    /// `"equity 40 %, bond 30 %, …"`.
    public var description: String {
        entries.map { "\($0.assetClass.rawValue) \(Int(($0.budget * 100).rounded())) %" }.joined(separator: ", ")
    }
}

/// Class budgets over the classes present in the inputs, renormalized, then `within` inside each
/// class: the hierarchical allocation can run before every class has listed (the factor ETFs of
/// the embedded universe enter in 2014).
public struct PresentClassBudgeting: PortfolioOptimizer {
    /// Budgets before renormalization.
    public let budgets: ClassBudgets
    /// The allocation inside each class.
    public let within: any PortfolioOptimizer

    /// Budgets and the within-class method.
    public init(budgets: ClassBudgets, within: any PortfolioOptimizer) {
        self.budgets = budgets
        self.within = within
    }

    /// The budgeted allocation.
    ///
    /// - Throws: the errors of `AssetClassBudgeting`, and ``StrategiesError/invalidData(component:message:)``
    ///   when no budgeted class is present.
    public func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        let present = Set(inputs.assetClasses)
        let shares = budgets.renormalized(present: present.contains)
        var kept: [AssetClass: Double] = [:]
        for (entry, share) in zip(budgets.entries, shares) where share > 0 { kept[entry.assetClass] = share }
        guard !kept.isEmpty else {
            throw StrategiesError.invalidData(component: "PresentClassBudgeting", message: "no budgeted class is among the inputs' assets")
        }
        return try AssetClassBudgeting(budgets: kept, optimizer: within).fit(inputs)
    }
}

/// An investor's risk settings: how the allocator trades return against risk and turnover, the
/// class budgets, the per-asset cap and the leverage it may take.
public struct InvestorProfile: Sendable, Hashable, Codable {
    /// A name for logs and reports.
    public var name: String
    /// `λ`: the weight of the risk term in the allocation objective.
    public var riskPenalty: Double
    /// `γ`: the weight of the one-way turnover term in the allocation objective.
    public var turnoverPenalty: Double
    /// Capital budgets per class.
    public var classBudgets: ClassBudgets
    /// The most any single name (equity or ETF) may weigh; bond indices and option overlays are
    /// diversified indices bounded by their class budget instead.
    public var maximumAssetWeight: Double
    /// The annualized volatility the book is scaled to, from the trailing covariance.
    public var volatilityTarget: Double
    /// The largest gross exposure `Σ|wᵢ|`; above 1 the difference is borrowed at the cash rate.
    public var maximumGrossLeverage: Double

    /// A profile; see the presets for typical values.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a negative
    ///   penalty, a cap outside `(0, 1]`, a non-positive volatility target, or leverage outside `[1, 1.5]`.
    public init(name: String, riskPenalty: Double, turnoverPenalty: Double, classBudgets: ClassBudgets,
                maximumAssetWeight: Double, volatilityTarget: Double, maximumGrossLeverage: Double) throws {
        let component = "InvestorProfile \(name)"
        try require(riskPenalty.isFinite && riskPenalty >= 0, component, "riskPenalty", "\(riskPenalty) must be ≥ 0")
        try require(turnoverPenalty.isFinite && turnoverPenalty >= 0, component, "turnoverPenalty", "\(turnoverPenalty) must be ≥ 0")
        try require(maximumAssetWeight > 0 && maximumAssetWeight <= 1, component, "maximumAssetWeight",
                    "\(maximumAssetWeight) must be in (0, 1]")
        try require(volatilityTarget > 0 && volatilityTarget.isFinite, component, "volatilityTarget", "\(volatilityTarget) must be > 0")
        try require(maximumGrossLeverage >= 1 && maximumGrossLeverage <= 1.5, component, "maximumGrossLeverage",
                    "\(maximumGrossLeverage) must be in [1, 1.5]")
        self.name = name
        self.riskPenalty = riskPenalty
        self.turnoverPenalty = turnoverPenalty
        self.classBudgets = classBudgets
        self.maximumAssetWeight = maximumAssetWeight
        self.volatilityTarget = volatilityTarget
        self.maximumGrossLeverage = maximumGrossLeverage
    }

    /// Half the book in bonds, 6 % volatility, no leverage.
    public static let conservative = try! InvestorProfile(
        name: "conservative", riskPenalty: 10, turnoverPenalty: 0.01,
        classBudgets: ClassBudgets([.equity: 0.25, .bond: 0.5, .etf: 0.15, .derivative: 0.1]),
        maximumAssetWeight: 0.1, volatilityTarget: 0.06, maximumGrossLeverage: 1)
    /// The design note's 40/30/20/10 split, 10 % volatility, no leverage.
    public static let moderate = try! InvestorProfile(
        name: "moderate", riskPenalty: 3, turnoverPenalty: 0.01, classBudgets: .designNote,
        maximumAssetWeight: 0.1, volatilityTarget: 0.10, maximumGrossLeverage: 1)
    /// Mostly equities, 15 % volatility, up to 150 % gross financed with cash.
    public static let aggressive = try! InvestorProfile(
        name: "aggressive", riskPenalty: 1, turnoverPenalty: 0.01,
        classBudgets: ClassBudgets([.equity: 0.5, .bond: 0.15, .etf: 0.25, .derivative: 0.1]),
        maximumAssetWeight: 0.1, volatilityTarget: 0.15, maximumGrossLeverage: 1.5)

    /// The three presets by name.
    public static let presets: [InvestorProfile] = [.conservative, .moderate, .aggressive]

    /// The classes whose assets are single names under ``maximumAssetWeight``.
    public static let cappedClasses: Set<AssetClass> = [.equity, .etf]
}

/// What the constraints did to one decision's weights.
public struct ConstraintActivity: Sendable, Hashable, Codable {
    /// The leverage factor applied for the volatility target (below 1 de-levers into cash).
    public let leverage: Double
    /// The book's predicted annualized volatility before scaling.
    public let predictedVolatility: Double
    /// Assets held at the per-asset cap.
    public let cappedAssets: [String]
    /// Weight moved to cash because a class could not hold its budget under the caps.
    public let cappedToCash: Double

    /// One line for the decision log.
    public var summary: String {
        var parts = ["leverage \(rounded(leverage))", "predicted vol \(rounded(predictedVolatility))"]
        if !cappedAssets.isEmpty { parts.append("at cap: \(cappedAssets.joined(separator: " "))") }
        if cappedToCash > 1e-12 { parts.append("\(rounded(cappedToCash)) to cash under caps") }
        return parts.joined(separator: "; ")
    }

    private func rounded(_ value: Double) -> String { String(Double(Int((value * 1000).rounded())) / 1000) }
}

extension InvestorProfile {
    /// Scales `weights` (long-only, summing to 1) to the volatility target within the leverage
    /// limit, then caps single names, moving what a class cannot hold to cash.
    ///
    /// - Parameters:
    ///   - weights: one per asset.
    ///   - assets, assetClasses: names and classes of the assets.
    ///   - covariance: the annualized covariance of the assets (zero rows for unavailable ones).
    /// - Returns: the final weights (their sum is the gross exposure; cash holds the rest) and what
    ///   the constraints did.
    func constrain(_ weights: [Double], assets: [String], assetClasses: [AssetClass],
                   covariance: Matrix) -> (weights: [Double], activity: ConstraintActivity) {
        let n = weights.count
        var variance = 0.0
        for i in 0..<n where weights[i] != 0 {
            for j in 0..<n where weights[j] != 0 { variance += weights[i] * covariance[i, j] * weights[j] }
        }
        let volatility = Swift.max(variance, 0).squareRoot()
        let leverage = volatility > 0 ? Swift.min(maximumGrossLeverage, volatilityTarget / volatility) : 1
        var scaled = weights.map { $0 * leverage }
        var capped: [String] = []
        var toCash = 0.0
        for assetClass in orderedClasses(assetClasses) where Self.cappedClasses.contains(assetClass) {
            let members = (0..<n).filter { assetClasses[$0] == assetClass }
            let (fitted, excess) = cappedWithinClass(members.map { scaled[$0] }, cap: maximumAssetWeight)
            for (k, a) in members.enumerated() {
                scaled[a] = fitted[k]
                if fitted[k] >= maximumAssetWeight - 1e-12 { capped.append(assets[a]) }
            }
            toCash += excess
        }
        return (scaled, ConstraintActivity(leverage: leverage, predictedVolatility: volatility, cappedAssets: capped,
                                           cappedToCash: toCash))
    }
}

/// The classes of `assetClasses` in order of first appearance.
func orderedClasses(_ assetClasses: [AssetClass]) -> [AssetClass] {
    var seen = Set<AssetClass>()
    return assetClasses.filter { seen.insert($0).inserted }
}

/// Caps each weight at `cap` and spreads the excess over the uncapped weights of the same class in
/// proportion to their size (water filling); returns the new weights and what no member could take.
func cappedWithinClass(_ weights: [Double], cap: Double) -> (weights: [Double], excess: Double) {
    var result = weights
    var excess = 0.0
    for _ in 0..<weights.count + 1 {
        excess = 0
        for i in result.indices where result[i] > cap {
            excess += result[i] - cap
            result[i] = cap
        }
        let room = result.indices.filter { result[$0] < cap - 1e-15 && result[$0] > 0 }
        let base = room.reduce(0) { $0 + result[$1] }
        guard excess > 1e-15, base > 0 else { break }
        for i in room { result[i] += excess * result[i] / base }
        excess = 0
    }
    for i in result.indices where result[i] > cap {
        excess += result[i] - cap
        result[i] = cap
    }
    return (result, excess)
}
