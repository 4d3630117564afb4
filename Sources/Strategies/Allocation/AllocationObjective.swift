import Autodiff
import Market
import MetaLearn
import NN

/// The differentiable objective the allocation policy is trained on, over a window of consecutive
/// periods:
///
/// `J = mean(rₜ) − λ·risk(r) − γ·mean(Σᵢ|wₜ,ᵢ − w′ₜ₋₁,ᵢ|)`, with `rₜ = log(μₜ · yₜ₊₁·wₜ)`
///
/// where `wₜ` is the portfolio chosen at row `t`, `yₜ₊₁` the next period's price relatives,
/// `w′ₜ₋₁` the previous row's portfolio drifted by its period (the first row of a window starts from
/// its own portfolio, so it pays nothing), and `μₜ` the transaction-remainder factor (first order
/// or exact, Jiang, Xu & Liang 2017, §2). The risk term is the variance of `r` or its downside
/// second moment `mean(min(rₜ, 0)²)`. Training minimizes `−J`.
///
/// The portfolio at each row is the policy's output turned into weights: the first `K` outputs are
/// softmax mixture weights `π` over the candidates' weights; with class budgets, the next `C`
/// outputs tilt the row's base budgets by `exp(τ·tanh(·))` (at most a factor `e^τ`, renormalized),
/// and each class's share of the mixture is rescaled to its tilted budget. Caps and leverage are
/// applied after the objective, by ``InvestorProfile``.
public struct AllocationObjective: Sendable {
    /// The risk measure of the objective.
    public enum Risk: String, Sendable, Hashable, Codable, CaseIterable {
        /// The variance of the period log returns.
        case variance
        /// The mean of `min(rₜ, 0)²`.
        case downside
    }

    /// `K`, the number of candidate allocations.
    public let candidateCount: Int
    /// `N`, the number of risky assets.
    public let assetCount: Int
    /// The budgeted classes of each asset (`nil` where an asset's class has no budget), or `nil`
    /// without class budgets.
    public let assetClassPositions: [Int?]?
    /// `C`, the number of budgeted classes (0 without class budgets).
    public let classCount: Int
    /// Commission per unit traded, on buys and sells.
    public var commission: Double
    /// First-order or exact `μ`.
    public var transactionRemainder: EIIETransactionRemainder
    /// `λ`.
    public var riskPenalty: Double
    /// The risk measure.
    public var risk: Risk
    /// `γ`.
    public var turnoverPenalty: Double
    /// `τ`: the largest log tilt of a class budget (0 fixes the budgets).
    public var maximumClassTilt: Double

    /// An objective over `candidateCount` candidates and `assetCount` assets; `assetClassPositions`
    /// gives each asset's position among the `classCount` budgeted classes.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for counts below 1, a
    ///   class position out of range, a commission outside `[0, 1)` or a negative penalty or tilt.
    public init(candidateCount: Int, assetCount: Int, assetClassPositions: [Int?]? = nil, classCount: Int = 0,
                commission: Double = 0.001, transactionRemainder: EIIETransactionRemainder = .firstOrder,
                riskPenalty: Double = 3, risk: Risk = .variance, turnoverPenalty: Double = 0.01,
                maximumClassTilt: Double = 0.5) throws {
        let component = "AllocationObjective"
        try require(candidateCount >= 1, component, "candidateCount", "\(candidateCount) must be ≥ 1")
        try require(assetCount >= 1, component, "assetCount", "\(assetCount) must be ≥ 1")
        if let positions = assetClassPositions {
            try require(positions.count == assetCount, component, "assetClassPositions", "has \(positions.count) entries for \(assetCount) assets")
            try require(classCount >= 1 && classCount <= assetCount + 1, component, "classCount", "\(classCount) must be in 1…\(assetCount + 1)")
            try require(positions.allSatisfy { $0.map { (0..<classCount).contains($0) } ?? true }, component, "assetClassPositions",
                        "must lie in 0..<\(classCount)")
        }
        try require(commission >= 0 && commission < 1, component, "commission", "\(commission) must be in [0, 1)")
        try require(riskPenalty >= 0 && riskPenalty.isFinite, component, "riskPenalty", "\(riskPenalty) must be ≥ 0")
        try require(turnoverPenalty >= 0 && turnoverPenalty.isFinite, component, "turnoverPenalty", "\(turnoverPenalty) must be ≥ 0")
        try require(maximumClassTilt >= 0 && maximumClassTilt.isFinite, component, "maximumClassTilt", "\(maximumClassTilt) must be ≥ 0")
        self.candidateCount = candidateCount
        self.assetCount = assetCount
        self.assetClassPositions = assetClassPositions
        self.classCount = assetClassPositions == nil ? 0 : classCount
        self.commission = commission
        self.transactionRemainder = transactionRemainder
        self.riskPenalty = riskPenalty
        self.risk = risk
        self.turnoverPenalty = turnoverPenalty
        self.maximumClassTilt = maximumClassTilt
    }

    /// Outputs the policy must produce per row: `K + C`.
    public var outputCount: Int { candidateCount + classCount }

    /// Packs one row's targets: the candidates' weights (`K` vectors over the assets), the next
    /// period's price relatives (assets, then the cash relative), and the row's base class budgets
    /// (`C` values, renormalized over the classes present). Cash goes first in the packed layout.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for wrong lengths or a relative
    ///   that is not finite and positive.
    public func packRow(candidates: [[Double]], priceRelatives: [Double], cashRelative: Double,
                        baseBudgets: [Double]) throws -> [Double] {
        let width = assetCount + 1
        guard candidates.count == candidateCount, candidates.allSatisfy({ $0.count == assetCount }),
              priceRelatives.count == assetCount, baseBudgets.count == classCount else {
            throw StrategiesError.invalidData(component: "AllocationObjective.packRow",
                                              message: "expected \(candidateCount) candidates and \(assetCount) relatives and \(classCount) budgets")
        }
        guard let bad = (priceRelatives + [cashRelative]).firstIndex(where: { !($0 > 0 && $0.isFinite) }) else {
            var row: [Double] = []
            row.reserveCapacity((candidateCount + 2) * width)
            for weights in candidates { row += [0] + weights }
            row += [cashRelative] + priceRelatives
            row += baseBudgets + [Double](repeating: 0, count: width - classCount)
            return row
        }
        throw StrategiesError.invalidData(component: "AllocationObjective.packRow",
                                          message: "price relative \(bad) is \(bad < assetCount ? priceRelatives[bad] : cashRelative); it must be finite and > 0")
    }

    /// Task data from feature rows and packed target rows (``packRow(candidates:priceRelatives:cashRelative:baseBudgets:)``).
    ///
    /// - Throws: the errors of `TaskData`.
    public func taskData(features: [[Double]], packedRows: [[Double]], name: String) throws -> TaskData<Double> {
        let width = assetCount + 1
        return try TaskData(inputs: Tensor(shape: [features.count, features.first?.count ?? 0], scalars: features.flatMap { $0 }),
                            targets: Tensor(shape: [packedRows.count, candidateCount + 2, width], scalars: packedRows.flatMap { $0 }),
                            name: name)
    }

    /// The portfolio of each row, `[n, 1 + N]` with cash first, from the policy outputs `[n, K + C]`
    /// and packed targets `[n, K + 2, 1 + N]`. Differentiable in the outputs.
    public func portfolios(outputs: Tensor<Double>, targets: Tensor<Double>) -> Tensor<Double> {
        let n = outputs.shape[0], k = candidateCount, width = assetCount + 1
        let mixture = outputs.sliced(alongAxis: 1, from: 0, to: k).softmax(alongAxis: 1)
        let candidates = targets.sliced(alongAxis: 1, from: 0, to: k)
        let mixed = (mixture.reshaped([n, k, 1]) * candidates).sum(alongAxis: 1)
        guard let positions = assetClassPositions else { return mixed }
        let membership = classMembership(positions)
        let base = targets.sliced(alongAxis: 1, from: k + 1, to: k + 2).reshaped([n, width]).sliced(alongAxis: 1, from: 0, to: classCount)
        let tilt = outputs.sliced(alongAxis: 1, from: k, to: k + classCount).tanh() * maximumClassTilt
        let raw = base * tilt.exp()
        let budgets = raw / raw.sum(alongAxis: 1, keepingDimensions: true)
        let filled = mixed + classFill(mixed: mixed, candidates: candidates, positions: positions)
        let classTotals = filled.matmul(membership).clamped(lowerBound: 1e-12)
        return filled * (budgets / classTotals).matmul(membership, transposingOther: true)
    }

    /// `−J` for policy outputs `[n, K + C]` on packed targets: the training loss.
    ///
    /// - Throws: the errors of the portfolio reward (a non-positive growth) and
    ///   ``StrategiesError/invalidData(component:message:)`` for mismatched shapes.
    public func loss(outputs: Tensor<Double>, targets: Tensor<Double>) throws -> Tensor<Double> {
        let n = outputs.shape[0], width = assetCount + 1
        guard outputs.rank == 2, outputs.shape[1] == outputCount, targets.shape.dimensions == [n, candidateCount + 2, width] else {
            throw StrategiesError.invalidData(component: "AllocationObjective.loss",
                                              message: "outputs \(outputs.shape.dimensions) and targets \(targets.shape.dimensions) do not match [n, \(outputCount)] and [n, \(candidateCount + 2), \(width)]")
        }
        let weights = portfolios(outputs: outputs, targets: targets)
        let relatives = targets.sliced(alongAxis: 1, from: candidateCount, to: candidateCount + 1).reshaped([n, width])
        var previous = weights.sliced(alongAxis: 0, from: 0, to: 1)
        if n > 1 {
            let drifted = try driftedWeights(weights.sliced(alongAxis: 0, from: 0, to: n - 1),
                                             priceRelatives: relatives.sliced(alongAxis: 0, from: 0, to: n - 1))
            previous = Tensor.concatenate([previous, drifted], alongAxis: 0)
        }
        let remainder: Tensor<Double>
        switch transactionRemainder {
        case .firstOrder: remainder = try ProportionalCommission(rate: commission).remainder(previousWeights: previous, newWeights: weights)
        case .exact:
            remainder = try IterativeCommission(purchaseRate: commission, saleRate: commission)
                .remainder(previousWeights: previous, newWeights: weights)
        }
        let growth = remainder * (weights * relatives).sum(alongAxis: 1)
        if let row = growth.scalars.firstIndex(where: { !($0 > 0) }) {
            throw StrategiesError.invalidData(component: "AllocationObjective.loss",
                                              message: "row \(row) loses everything (growth \(growth.scalars[row]))")
        }
        let logReturns = growth.log()
        let mean = logReturns.mean()
        let riskTerm: Tensor<Double>
        switch risk {
        case .variance: riskTerm = (logReturns - mean).squared().mean()
        case .downside: riskTerm = (-logReturns).relu().squared().mean()
        }
        let turnover = (weights - previous).sliced(alongAxis: 1, from: 1, to: width).abs().sum(alongAxis: 1).mean()
        return -mean + riskTerm * riskPenalty + turnover * turnoverPenalty
    }

    /// The training loss of `model` on `data`, for MetaLearn's loops.
    public func taskLoss<Model: UnaryModule>(_ model: Model, _ data: TaskData<Double>) throws -> Tensor<Double>
        where Model.Scalar == Double {
        try loss(outputs: model(data.inputs), targets: data.targets)
    }

    /// A constant `[n, 1 + N]` that gives a class the mixture leaves (almost) empty equal weights on
    /// the class's assets some candidate holds, so its budget is still invested there; zero elsewhere.
    /// It only acts when a near one-hot mixture picks a candidate without that class.
    private func classFill(mixed: Tensor<Double>, candidates: Tensor<Double>, positions: [Int?]) -> Tensor<Double> {
        let n = mixed.shape[0], k = candidateCount, width = assetCount + 1
        let mixedValues = mixed.scalars, candidateValues = candidates.scalars
        var fill = [Double](repeating: 0, count: n * width)
        for r in 0..<n {
            for c in 0..<classCount {
                let members = positions.indices.filter { positions[$0] == c }
                let total = members.reduce(0) { $0 + mixedValues[r * width + $1 + 1] }
                guard total < 1e-9 else { continue }
                let held = members.filter { i in (0..<k).contains { candidateValues[(r * k + $0) * width + i + 1] > 0 } }
                for i in held { fill[r * width + i + 1] = 1 / Double(held.count) }
            }
        }
        return try! Tensor(shape: [n, width], scalars: fill)
    }

    /// `[1 + N, C]`: row `1 + i` is the one-hot class of asset `i`; the cash row is zero.
    private func classMembership(_ positions: [Int?]) -> Tensor<Double> {
        var scalars = [Double](repeating: 0, count: (assetCount + 1) * classCount)
        for (asset, position) in positions.enumerated() {
            if let position { scalars[(asset + 1) * classCount + position] = 1 }
        }
        return try! Tensor(shape: [assetCount + 1, classCount], scalars: scalars)
    }
}
