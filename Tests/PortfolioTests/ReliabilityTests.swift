import Foundation
import Linalg
import Market
import Testing
@testable import Portfolio

/// User-supplied values the optimizers cannot use throw typed errors instead of trapping or
/// returning NaN measures; sums over dictionaries run in a fixed order.
@Suite("Portfolio bad input")
struct PortfolioReliabilityTests {
    /// Two assets with a small positive-definite covariance and expected returns.
    func inputs() throws -> OptimizationInputs {
        try OptimizationInputs(assets: ["A", "B"], covariance: Matrix([[0.04, 0.01], [0.01, 0.09]]), expectedReturns: [0.05, 0.08])
    }

    @Test("a relative view with the same asset on both sides throws instead of trapping")
    func selfRelativeView() throws {
        let view = BlackLittermanView.relative("A", over: "A", by: 0.02)
        #expect(view.weights == ["A": 0])
        let model = BlackLittermanModel(prior: .expectedReturns, views: [view], riskAversion: 2)
        #expect(throws: PortfolioError.invalidArgument(operation: "BlackLittermanModel view 0",
                                                       message: "the view on A picks no asset (its weights net to 0)")) {
            try model.fit(try inputs())
        }
    }

    /// Every optimizer with a risk-free rate, given NaN.
    static let nanRate: [(String, any PortfolioOptimizer)] = [
        ("min-variance", MeanVarianceOptimizer(riskFreeRate: .nan)),
        ("max-utility", MeanVarianceOptimizer(objective: .maximumUtility(riskAversion: 1), riskFreeRate: .nan)),
        ("max-sharpe", MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: .nan))),
        ("equal", EqualWeight(riskFreeRate: .nan)),
        ("inverse-volatility", InverseVolatility(riskFreeRate: .infinity)),
        ("hrp", HierarchicalRiskParity(riskFreeRate: .nan)),
        ("herc", HierarchicalEqualRiskContribution(riskFreeRate: .nan)),
        ("risk-parity", RiskBudgeting(riskFreeRate: .nan)),
        ("hierarchical", AssetClassBudgeting(budgets: [.unclassified: 1], riskFreeRate: .nan)),
        ("black-litterman", BlackLittermanModel(prior: .expectedReturns, views: [], riskAversion: 2, riskFreeRate: .nan)),
    ]

    @Test("a NaN or infinite risk-free rate throws in every optimizer", arguments: nanRate.indices)
    func nanRiskFree(_ index: Int) throws {
        let (name, optimizer) = Self.nanRate[index]
        #expect(throws: PortfolioError.self, "\(name)") { try optimizer.fit(try inputs()) }
    }

    @Test("more assets than the covariance limit throw before the n × n allocation")
    func covarianceLimit() throws {
        let n = CovarianceEstimator.maximumAssets + 1
        let returns = try ReturnObservations(assets: (0..<n).map { "A\($0)" }, values: Matrix(rows: 3, columns: n, repeating: 0.01))
        #expect(throws: PortfolioError.self) { try CovarianceEstimator().fit(returns) }
    }

    @Test("renormalized class budgets sum in class-name order (the same bits in every process)")
    func renormalizedBudgets() {
        let budgets: [AssetClass: Double] = [.equity: 0.4, .bond: 0.3, .derivative: 0.2, .etf: 0.1]
        let present: Set<AssetClass> = [.equity, .bond, .derivative, .etf]
        let total = 0.3 + 0.2 + 0.4 + 0.1   // bond, derivative, equity, etf
        let result = AssetClassBudgeting.renormalized(budgets, over: present)
        for (assetClass, budget) in budgets { #expect(result[assetClass] == budget / total) }
        #expect(AssetClassBudgeting.renormalized(budgets, over: [.equity, .etf]) == [.equity: 0.4 / 0.5, .etf: 0.1 / 0.5])
    }
}
