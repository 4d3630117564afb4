import Foundation
import Linalg
import Market
import Testing
@testable import Portfolio

/// Monthly sample estimates (annualized by 12) of `MultiAssetUniverse.standard()`: 29 assets in the
/// classes equity (20), etf (5), bond (2) and derivative (2), 59 monthly returns.
func multiAssetInputs() throws -> OptimizationInputs {
    let returns = try ReturnObservations(simpleReturnsOf: MultiAssetUniverse.standard().panel)
    let mu = try ExpectedReturnsEstimator(annualizationFactor: 12).fit(returns)
    let sigma = try CovarianceEstimator(annualizationFactor: 12).fit(returns)
    return try OptimizationInputs(expectedReturns: mu, covariance: sigma)
}

/// An inner optimizer returning fixed weights (to test the checks on what optimizers return).
private struct FixedWeights: PortfolioOptimizer {
    let weights: [Double]
    func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        PortfolioAllocation(method: "fixed", weights: weights, inputs: inputs)
    }
}

@Suite("Hierarchical multi-asset allocation (asset-class budgets)")
struct AssetClassBudgetingTests {
    /// The design card's split over the classes of the standard universe.
    static let designBudgets: [AssetClass: Double] = [.equity: 0.4, .etf: 0.3, .bond: 0.2, .derivative: 0.1]

    let inputs: OptimizationInputs

    init() throws { inputs = try multiAssetInputs() }

    /// The inputs of the assets of `assetClass` alone, built directly from the full inputs.
    func standalone(_ assetClass: AssetClass) throws -> OptimizationInputs {
        let members = inputs.assets.indices.filter { inputs.assetClasses[$0] == assetClass }
        let block = Matrix(rows: members.count, columns: members.count) { inputs.covariance[members[$0], members[$1]] }
        return try OptimizationInputs(assets: members.map { inputs.assets[$0] }, covariance: block,
                                      expectedReturns: inputs.expectedReturns.map { mu in members.map { mu[$0] } })
    }

    @Test("40/30/20/10: class budgets met (1e-12) and inner weights equal the standalone optimizers' (1e-12)")
    func budgetsAndInnerWeights() throws {
        #expect(Set(inputs.assetClasses) == [.equity, .etf, .bond, .derivative])
        let minimumVariance = MeanVarianceOptimizer()
        let hierarchy = AssetClassBudgeting(budgets: Self.designBudgets, optimizer: InverseVolatility(),
                                            classOptimizers: [.equity: minimumVariance, .etf: EqualWeight()])
        let result = try hierarchy.allocate(inputs)
        #expect(result.allocation.method == "hierarchical")
        #expect(result.classes.map(\.assetClass) == [.equity, .etf, .bond, .derivative])
        #expect(abs(result.allocation.weights.reduce(0, +) - 1) <= 1e-12)
        let byAsset = result.allocation.weightsByAsset
        let standaloneOptimizers: [AssetClass: any PortfolioOptimizer] =
            [.equity: minimumVariance, .etf: EqualWeight(), .bond: InverseVolatility(), .derivative: InverseVolatility()]
        for (assetClass, budget) in Self.designBudgets {
            let sub = try standalone(assetClass)
            let classTotal = sub.assets.reduce(0) { $0 + byAsset[$1]! }
            #expect(abs(classTotal - budget) <= 1e-12, "class \(assetClass)")
            let alone = try standaloneOptimizers[assetClass]!.fit(sub)
            let inner = sub.assets.map { byAsset[$0]! / budget }
            #expect(worstScaledError(inner, alone.weights) <= 1e-12, "class \(assetClass)")
        }
        #expect(result.allocation.riskContributions.reduce(0, +) - result.allocation.volatility <= 1e-12)
    }

    @Test("6% caps on the equities are enforced inside a mean-variance class as cap/budget (1e-9)")
    func capsEnforced() throws {
        let equities = try standalone(.equity)
        let caps = Dictionary(uniqueKeysWithValues: equities.assets.map { ($0, 0.06) })
        let hierarchy = AssetClassBudgeting(budgets: Self.designBudgets, optimizer: EqualWeight(),
                                            classOptimizers: [.equity: MeanVarianceOptimizer()], assetUpperBounds: caps)
        let weights = try hierarchy.fit(inputs).weightsByAsset
        #expect(equities.assets.allSatisfy { weights[$0]! <= 0.06 + 1e-12 })
        // The same as a standalone minimum variance capped at 0.06/0.4 = 15%, where the cap binds.
        let alone = try MeanVarianceOptimizer(constraints: .boxed(0, 0.15)).fit(equities)
        let uncapped = try MeanVarianceOptimizer().fit(equities)
        #expect(uncapped.weights.max()! > 0.15 + 1e-3, "the cap must bind for this test to mean anything")
        #expect(worstScaledError(equities.assets.map { weights[$0]! / 0.4 }, alone.weights) <= 1e-9)
    }

    @Test("errors name the class: budget on a class with no assets, unbudgeted class, override without budget, bad sum")
    func budgetErrors() throws {
        func message(_ hierarchy: AssetClassBudgeting) -> String? {
            do { _ = try hierarchy.fit(inputs); return nil } catch { return "\(error)" }
        }
        var withCommodity = Self.designBudgets
        withCommodity[.equity] = 0.3
        withCommodity[.commodity] = 0.1
        let noAssets = try #require(message(AssetClassBudgeting(budgets: withCommodity)))
        #expect(noAssets.contains("class commodity") && noAssets.contains("no assets"), "\(noAssets)")
        var missingBond = Self.designBudgets
        missingBond[.bond] = nil
        missingBond[.equity] = 0.6
        let unbudgeted = try #require(message(AssetClassBudgeting(budgets: missingBond)))
        #expect(unbudgeted.contains("class bond") && unbudgeted.contains("AAA-TR"), "\(unbudgeted)")
        let override = try #require(message(AssetClassBudgeting(budgets: Self.designBudgets,
                                                                classOptimizers: [AssetClass(rawValue: "crypto"): EqualWeight()])))
        #expect(override.contains("class crypto"), "\(override)")
        var over = Self.designBudgets
        over[.equity] = 0.5
        let badSum = try #require(message(AssetClassBudgeting(budgets: over)))
        #expect(badSum.contains("equity 0.5") && badSum.contains("not 1.0"), "\(badSum)")
        var negative = Self.designBudgets
        negative[.equity] = -0.1
        negative[.etf] = 0.8
        #expect(message(AssetClassBudgeting(budgets: negative))?.contains("class equity") == true)
    }

    @Test("caps and gross leverage: infeasible class caps, a cap an optimizer breaks, leverage over the limit")
    func limitErrors() throws {
        func failure(_ hierarchy: AssetClassBudgeting, _ on: OptimizationInputs) -> PortfolioError? {
            do { _ = try hierarchy.fit(on); return nil } catch { return error as? PortfolioError }
        }
        // Two bonds capped at 6.5% cannot hold a 20% budget (the 5 ETFs can hold 30%).
        if case let .infeasible(_, conflicting, detail)? = failure(AssetClassBudgeting(budgets: Self.designBudgets, maximumAssetWeight: 0.065), inputs) {
            #expect(conflicting == ["class bond budget 0.2", "w[AAA-TR] ≤ 0.065", "w[BAA-TR] ≤ 0.065"] && detail.contains("bond"), "\(conflicting)")
        } else {
            Issue.record("class caps below the budget must be infeasible")
        }
        // Equal weight cannot enforce an 8% cap on one ETF (0.3/5 = 6% each is fine, so cap MTUM at 5%).
        if case let .infeasible(_, conflicting, _)? = failure(AssetClassBudgeting(budgets: Self.designBudgets, assetUpperBounds: ["MTUM": 0.05]), inputs) {
            #expect(conflicting.first == "w[MTUM] ≤ 0.05")
        } else {
            Issue.record("a cap broken by equal weight must throw")
        }
        #expect(failure(AssetClassBudgeting(budgets: Self.designBudgets, assetUpperBounds: ["TSLA": 0.1]), inputs)
                == .unknownAsset(operation: "AssetClassBudgeting asset caps", asset: "TSLA"))
        // A long-short inner allocation with gross 1.6 + 0.4 = 2.0 > 1.5.
        let small = try OptimizationInputs(assets: ["A", "B", "C"], covariance: Matrix.diagonal([0.04, 0.09, 0.01]),
                                           assetClasses: [.equity, .equity, .bond])
        let longShort = AssetClassBudgeting(budgets: [.equity: 0.5, .bond: 0.5],
                                            classOptimizers: [.equity: FixedWeights(weights: [2.5, -1.5])])
        if case let .infeasible(_, conflicting, detail)? = failure(longShort, small) {
            #expect(conflicting == ["gross leverage ≤ 1.5"] && detail.contains("2.5"), "\(detail)")
        } else {
            Issue.record("gross leverage above 1.5 must throw")
        }
        var allowed = longShort
        allowed.grossLeverageLimit = 3
        #expect(try allowed.fit(small).weights == [1.25, -0.75, 0.5])
        let notSummingToOne = AssetClassBudgeting(budgets: [.equity: 0.5, .bond: 0.5],
                                                  classOptimizers: [.equity: FixedWeights(weights: [0.5, 0.2])])
        #expect(failure(notSummingToOne, small) != nil)
    }
}
