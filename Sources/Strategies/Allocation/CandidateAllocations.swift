import Backtest
import Linalg
import Market
import Portfolio

/// One of the classical allocations the meta-learned policy mixes: each is computed from the
/// trailing window of returns before a decision, over the assets available throughout the window.
public enum AllocationCandidate: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// Hierarchical risk parity (López de Prado 2016), single linkage on correlation distance.
    case hierarchicalRiskParity = "HRP"
    /// Equal risk contributions.
    case riskParity = "risk parity"
    /// Long-only minimum variance, at most 25 % per asset.
    case minimumVariance = "minimum variance"
    /// Long-only maximum Sharpe ratio (risk-free 0), at most 25 % per asset; minimum variance where
    /// no window mean is positive.
    case maximumSharpe = "maximum Sharpe"
    /// Equal weights on the third of the assets with the best return over the window's last twelve
    /// periods excluding the latest one (12–1 momentum).
    case momentum
    /// The investor's class budgets, HRP within each class.
    case classBudget = "class budget"
    /// Equal weights on the available assets.
    case equalWeight = "equal weight"

    /// The label used in reports.
    public var description: String { rawValue }
}

/// The candidate allocations' weights at each bar, computed once per bar from the window that
/// ends at the bar and kept: a bar's entry depends only on prices up to that bar, so the cache never
/// carries later information backwards.
struct CandidateBook: Sendable {
    let candidates: [AllocationCandidate]
    let lookback: Int
    let classBudgets: ClassBudgets
    private(set) var weights: [Int: [[Double]]] = [:]
    /// Candidates that failed at a bar and were replaced by their fallback, in bar order.
    private(set) var fallbacks: [(bar: Int, candidate: AllocationCandidate, reason: String)] = []
    private let covariance = CovarianceEstimator(method: .ledoitWolf(.constantCorrelation), annualizationFactor: 12)

    init(candidates: [AllocationCandidate], lookback: Int, classBudgets: ClassBudgets) {
        self.candidates = candidates
        self.lookback = lookback
        self.classBudgets = classBudgets
    }

    /// The first bar with a full window.
    var firstBar: Int { lookback }

    /// Fills the entries of `bars` missing from the cache from `context`'s history.
    mutating func fill(_ bars: ClosedRange<Int>, context: DecisionContext) throws {
        for bar in bars where weights[bar] == nil {
            let window = try context.history(bars: (bar - lookback)..<(bar + 1))
            weights[bar] = try candidates.map { try weightsOf($0, window: window, bar: bar) }
        }
    }

    private mutating func weightsOf(_ candidate: AllocationCandidate, window: PricePanel, bar: Int) throws -> [Double] {
        let members = (0..<window.assetCount).filter { a in (0..<window.timeCount).allSatisfy { window.mask[$0, a] } }
        guard !members.isEmpty else {
            throw StrategiesError.invalidData(component: "CandidateBook", message: "no asset has prices throughout the window ending at bar \(bar)")
        }
        func optimized(_ optimizer: any PortfolioOptimizer, returns: Bool = false) throws -> [Double] {
            // The candidate's own fallback below is logged here, so the strategy's generic one is off.
            var strategy = try OptimizerStrategy(optimizer: optimizer, lookback: lookback, covarianceEstimator: covariance,
                                                 expectedReturnsEstimator: returns ? ExpectedReturnsEstimator(annualizationFactor: 12) : nil,
                                                 fallback: .none)
            try strategy.fit(window)
            return strategy.fittedWeights!
        }
        let minimumVariance = MeanVarianceOptimizer(constraints: .boxed(0, 0.25))
        switch candidate {
        case .hierarchicalRiskParity: return try optimized(HierarchicalRiskParity())
        case .riskParity: return try optimized(RiskBudgeting())
        case .minimumVariance: return try optimized(minimumVariance)
        case .maximumSharpe:
            do {
                return try optimized(MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: 0), constraints: .boxed(0, 0.25)),
                                     returns: true)
            } catch {
                fallbacks.append((bar, candidate, "maximum Sharpe has no solution in this window (\(error)); minimum variance used"))
                return try optimized(minimumVariance)
            }
        case .momentum:
            let close = window.close, last = window.timeCount - 1
            let scores = members.map { a in (a, close[last - 1, a] / close[Swift.max(last - 12, 0), a]) }
                .sorted { ($0.1, -$0.0) > ($1.1, -$1.0) }
            let kept = scores.prefix(Swift.max(1, members.count / 3)).map(\.0)
            var weights = [Double](repeating: 0, count: window.assetCount)
            for a in kept { weights[a] = 1 / Double(kept.count) }
            return weights
        case .classBudget:
            return try optimized(PresentClassBudgeting(budgets: classBudgets, within: HierarchicalRiskParity()))
        case .equalWeight:
            var weights = [Double](repeating: 0, count: window.assetCount)
            for a in members { weights[a] = 1 / Double(members.count) }
            return weights
        }
    }
}
