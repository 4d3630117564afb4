import Foundation
import Linalg
import Market
import Testing
@testable import Portfolio

/// `Fixtures/portfolio_mean_variance.json`, written by `Scripts/fixtures/portfolio.py`
/// (PyPortfolioOpt 1.6 and cvxpy with Clarabel at gap/feasibility tolerance 1e-10 unless stated).
struct MeanVarianceFixture: Decodable {
    struct UtilityTurnover: Decodable {
        let tolerance: Double
        let riskAversion: Double
        let turnover: Double
        let cost: Double
        let l2: Double
        let maxWeight: Double
        let group: [String]
        let groupLower: Double
        let weights: [Double]
    }

    let assets: [String]
    let riskFreeRate: Double
    let minVarianceLongOnly: [Double]
    let minVarianceBoxed: [Double]
    let maxSharpeLongOnly: [Double]
    let maxSharpeBoxed: [Double]
    let maxUtilityDelta2: [Double]
    let efficientReturn20: [Double]
    let efficientRisk20: [Double]
    let inverseVolatility: [Double]
    let minVarianceGross110: [Double]
    let minVarianceGross110Tolerance: Double
    let utilityTurnover: UtilityTurnover
    let minVarianceTracking4: [Double]
    let minVarianceTracking4Tolerance: Double
    let efficientRisk20Cone: [Double]
    let maxSharpeGross130: [Double]
    let maxSharpeGross130Tolerance: Double
}

/// Peer agreement tolerance: Clarabel stops at a relative duality gap and feasibility of 1e-10, so its
/// weights carry errors up to about 1e-8 (the gap over the curvature of the objective along the
/// active face); 1e-6 is the issue's acceptance bound and leaves two orders of margin.
let peerTolerance = 1e-6
/// Our own KKT residuals (absolute, infinity norm) on every QP test.
let kktTolerance = 1e-9

@Suite("Mean-variance family on the S&P 500 dataset")
struct MeanVarianceTests {
    let fixture: MeanVarianceFixture
    let inputs: OptimizationInputs

    init() throws {
        fixture = try fixtures.load("portfolio_mean_variance")
        inputs = try sp500Inputs()
    }

    func check(_ allocation: PortfolioAllocation, _ expected: [Double], tolerance: Double = peerTolerance,
               _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = worstScaledError(allocation.weights, expected, sourceLocation: sourceLocation)
        #expect(error <= tolerance, "\(what): worst weight error \(error)", sourceLocation: sourceLocation)
        if let diagnostics = allocation.diagnostics {
            #expect(diagnostics.status == .optimal, sourceLocation: sourceLocation)
            #expect(diagnostics.residuals.maximum <= kktTolerance, "\(what): KKT \(diagnostics.residuals)",
                    sourceLocation: sourceLocation)
        }
    }

    func checkBudgetAndBounds(_ allocation: PortfolioAllocation, lower: Double, upper: Double,
                              sourceLocation: SourceLocation = #_sourceLocation) {
        // Tolerance 1e-12: the solver's primal residual bound (1e-10) is far looser than what it reaches.
        #expect(abs(allocation.weights.reduce(0, +) - 1) <= 1e-12, sourceLocation: sourceLocation)
        for w in allocation.weights {
            #expect(w >= lower - 1e-12 && w <= upper + 1e-12, "weight \(w) outside [\(lower), \(upper)]",
                    sourceLocation: sourceLocation)
        }
    }

    @Test("minimum variance, long-only, matches PyPortfolioOpt min_volatility")
    func minVarianceLongOnly() throws {
        let allocation = try MeanVarianceOptimizer(objective: .minimumVariance).fit(inputs)
        check(allocation, fixture.minVarianceLongOnly, "min variance long-only")
        checkBudgetAndBounds(allocation, lower: 0, upper: 1)
        #expect(allocation.assets == fixture.assets)
    }

    @Test("minimum variance boxed in [0, 0.1] matches PyPortfolioOpt")
    func minVarianceBoxed() throws {
        let allocation = try MeanVarianceOptimizer(objective: .minimumVariance, constraints: .boxed(0, 0.1)).fit(inputs)
        check(allocation, fixture.minVarianceBoxed, "min variance boxed")
        checkBudgetAndBounds(allocation, lower: 0, upper: 0.1)
    }

    @Test("maximum Sharpe (long-only and boxed) matches PyPortfolioOpt max_sharpe")
    func maxSharpe() throws {
        let rf = fixture.riskFreeRate
        let longOnly = try MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: rf)).fit(inputs)
        check(longOnly, fixture.maxSharpeLongOnly, "max Sharpe long-only")
        checkBudgetAndBounds(longOnly, lower: 0, upper: 1)
        let boxed = try MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: rf), constraints: .boxed(0, 0.1)).fit(inputs)
        check(boxed, fixture.maxSharpeBoxed, "max Sharpe boxed")
        checkBudgetAndBounds(boxed, lower: 0, upper: 0.1)
        // No other feasible portfolio tested has a higher Sharpe ratio.
        let minimum = try MeanVarianceOptimizer(objective: .minimumVariance).fit(inputs)
        #expect(longOnly.sharpeRatio! > minimum.sharpeRatio!)
    }

    @Test("maximum utility, efficient return and efficient risk match PyPortfolioOpt")
    func otherObjectives() throws {
        check(try MeanVarianceOptimizer(objective: .maximumUtility(riskAversion: 2)).fit(inputs),
              fixture.maxUtilityDelta2, "max utility δ = 2")
        let efficientReturn = try MeanVarianceOptimizer(objective: .efficientReturn(targetReturn: 0.2)).fit(inputs)
        check(efficientReturn, fixture.efficientReturn20, "efficient return 20%")
        #expect(efficientReturn.expectedReturn! >= 0.2 - 1e-12)
        let efficientRisk = try MeanVarianceOptimizer(objective: .efficientRisk(targetVolatility: 0.2)).fit(inputs)
        check(efficientRisk, fixture.efficientRisk20, "efficient risk 20% (PyPortfolioOpt)")
        // PyPortfolioOpt's variance-constrained form and the cone form solved at a 1e-11 gap differ by
        // 1.3e-6 along the flat volatility boundary; ours must be within 1e-6 of the tighter cone solution.
        check(efficientRisk, fixture.efficientRisk20Cone, "efficient risk 20% (cvxpy cone form)")
        // The volatility target is met to the bisection's precision (1e-10 relative).
        #expect(abs(efficientRisk.volatility - 0.2) <= 2e-11)
    }

    @Test("inverse volatility matches 1/σ normalized")
    func inverseVolatility() throws {
        let allocation = try InverseVolatility().fit(inputs)
        // Tolerance 1e-14 scaled: closed form, same arithmetic.
        check(allocation, fixture.inverseVolatility, tolerance: 1e-14, "inverse volatility")
        let equal = try EqualWeight().fit(inputs)
        #expect(equal.weights.allSatisfy { $0 == 0.05 })
    }

    @Test("gross leverage ≤ 1.1 with shorts in [−0.2, 0.3] matches cvxpy")
    func grossLeverage() throws {
        let constraints = PortfolioConstraints(minimumWeight: -0.2, maximumWeight: 0.3, grossLeverage: 1.1)
        let allocation = try MeanVarianceOptimizer(objective: .minimumVariance, constraints: constraints).fit(inputs)
        check(allocation, fixture.minVarianceGross110, "gross leverage 1.1")
        checkBudgetAndBounds(allocation, lower: -0.2, upper: 0.3)
        // The leverage limit binds (tolerance 1e-12).
        #expect(abs(allocation.weights.reduce(0) { $0 + abs($1) } - 1.1) <= 1e-12)
        #expect(allocation.diagnostics!.activeConstraints.contains("gross leverage Σ|w| ≤ 1.1 (upper)"))
    }

    @Test("maximum Sharpe with shorts and gross leverage ≤ 1.3 matches cvxpy's hand-homogenized problem")
    func maxSharpeGross() throws {
        let constraints = PortfolioConstraints(minimumWeight: -0.2, maximumWeight: 0.3, grossLeverage: 1.3)
        let allocation = try MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: fixture.riskFreeRate),
                                                   constraints: constraints).fit(inputs)
        check(allocation, fixture.maxSharpeGross130, "max Sharpe gross 1.3")
        checkBudgetAndBounds(allocation, lower: -0.2, upper: 0.3)
        #expect(abs(allocation.weights.reduce(0) { $0 + abs($1) } - 1.3) <= 1e-12)
    }

    @Test("utility with turnover limit, transaction cost, group bound and L2 matches cvxpy")
    func turnoverAndCosts() throws {
        let spec = fixture.utilityTurnover
        let current = Dictionary(uniqueKeysWithValues: inputs.assets.map { ($0, 1.0 / 20) })
        let constraints = PortfolioConstraints(
            maximumWeight: spec.maxWeight,
            groups: [GroupConstraint(name: "tech", members: .assets(spec.group), lower: spec.groupLower)],
            currentWeights: current, turnoverLimit: spec.turnover, transactionCost: spec.cost, l2Regularization: spec.l2)
        let allocation = try MeanVarianceOptimizer(objective: .maximumUtility(riskAversion: spec.riskAversion),
                                                   constraints: constraints).fit(inputs)
        check(allocation, spec.weights, "utility with turnover")
        checkBudgetAndBounds(allocation, lower: 0, upper: spec.maxWeight)
        let turnover = try #require(allocation.turnover)
        #expect(turnover <= spec.turnover + 1e-12)
        let tech = spec.group.map { inputs.assets.firstIndex(of: $0)! }.reduce(0) { $0 + allocation.weights[$1] }
        #expect(tech >= spec.groupLower - 1e-12)
    }

    @Test("tracking error ≤ 4% against equal weights matches cvxpy")
    func trackingError() throws {
        let benchmark = Dictionary(uniqueKeysWithValues: inputs.assets.map { ($0, 1.0 / 20) })
        let constraints = PortfolioConstraints(trackingError: TrackingErrorLimit(benchmark: benchmark, limit: 0.04))
        let allocation = try MeanVarianceOptimizer(objective: .minimumVariance, constraints: constraints).fit(inputs)
        // The peer solves the second-order-cone form at a 1e-10 gap (see the fixture script); the weights
        // differ by 4e-7 along the flat boundary, where ours meet TE = 0.04 to 3e-16 with a lower
        // variance (0.02923311423579) than the peer's (0.02923311423623, TE short by 3e-12).
        check(allocation, fixture.minVarianceTracking4, "tracking error 4%")
        let d = zip(allocation.weights, [Double](repeating: 0.05, count: 20)).map { $0 - $1 }
        let te = dot(d, inputs.covariance * d).squareRoot()
        #expect(te <= 0.04 + 1e-12 && te >= 0.04 - 1e-9, "tracking error \(te)")
    }

    @Test("the efficient frontier runs from minimum variance to maximum return with rising volatility")
    func frontier() throws {
        let points = try MeanVarianceOptimizer().efficientFrontier(inputs, points: 6)
        #expect(points.count == 6)
        for (a, b) in zip(points, points.dropFirst()) {
            #expect(b.expectedReturn! > a.expectedReturn!)
            #expect(b.volatility >= a.volatility - 1e-12)
        }
        let minimum = try MeanVarianceOptimizer().fit(inputs)
        #expect(abs(points[0].volatility - minimum.volatility) <= 1e-12)
    }

    @Test("risk contributions sum to the volatility")
    func riskContributions() throws {
        let allocation = try MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: 0.02)).fit(inputs)
        #expect(abs(allocation.riskContributions.reduce(0, +) - allocation.volatility) <= 1e-14)
        #expect(abs(allocation.relativeRiskContributions.reduce(0, +) - 1) <= 1e-13)
        #expect(allocation.weightsByAsset["AAPL"] == allocation.weights[0])
    }

    @Test("bounds that cannot reach the budget are reported with both constraints")
    func infeasibleBounds() throws {
        do {
            _ = try MeanVarianceOptimizer(constraints: .boxed(0, 0.04)).fit(inputs)
            Issue.record("expected infeasible")
        } catch let PortfolioError.infeasible(_, conflicting, _) {
            #expect(conflicting.first == "budget Σw = 1.0")
            #expect(conflicting.count == 2)
        }
    }

    @Test("a group floor that the caps cannot meet is named by the solver's certificate")
    func infeasibleGroup() throws {
        let constraints = PortfolioConstraints(maximumWeight: 0.1,
                                               groups: [GroupConstraint(name: "tech", members: .assets(["AAPL", "AMD", "MSFT"]),
                                                                        lower: 0.5)])
        do {
            _ = try MeanVarianceOptimizer(constraints: constraints).fit(inputs)
            Issue.record("expected infeasible")
        } catch let PortfolioError.infeasible(_, conflicting, _) {
            #expect(conflicting.contains("group tech in [0.5, inf] (lower)"), "\(conflicting)")
            #expect(conflicting.contains("w[AAPL] ≤ 0.1") && conflicting.contains("w[MSFT] ≤ 0.1"), "\(conflicting)")
        }
    }

    @Test("max Sharpe with no asset beating the risk-free rate is infeasible, not garbage")
    func noPositiveExcess() throws {
        do {
            _ = try MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: 5)).fit(inputs)
            Issue.record("expected infeasible")
        } catch let PortfolioError.infeasible(_, conflicting, detail) {
            #expect(conflicting.contains("excess-return normalization (μ − r_f)ᵀy = 1"), "\(conflicting)")
            #expect(detail.contains("risk-free rate"))
        }
    }

    @Test("a covariance that is not PSD is rejected with its smallest eigenvalue")
    func notPSD() throws {
        let bad = try Matrix([[0.04, 0.05, 0], [0.05, 0.04, 0], [0, 0, 0.04]])
        let small = try OptimizationInputs(assets: ["A", "B", "C"], covariance: bad, expectedReturns: [0.1, 0.1, 0.1])
        do {
            _ = try MeanVarianceOptimizer().fit(small)
            Issue.record("expected notPositiveSemidefinite")
        } catch let PortfolioError.notPositiveSemidefinite(_, smallest) {
            #expect(abs(smallest - (-0.01)) <= 1e-15)
        }
    }

    @Test("permuting the assets permutes the minimum-variance weights")
    func permutation() throws {
        let order = Array((0..<20).reversed().map { ($0 * 7) % 20 })
        let permuted = try OptimizationInputs(
            assets: order.map { inputs.assets[$0] },
            covariance: Matrix(rows: 20, columns: 20) { inputs.covariance[order[$0], order[$1]] },
            expectedReturns: order.map { inputs.expectedReturns![$0] })
        let constraints = PortfolioConstraints.boxed(0, 0.1)
        let base = try MeanVarianceOptimizer(constraints: constraints).fit(inputs).weightsByAsset
        let other = try MeanVarianceOptimizer(constraints: constraints).fit(permuted).weightsByAsset
        // Tolerance 1e-12: the active set is the same; only the elimination order differs.
        for (name, w) in base { #expect(abs(w - other[name]!) <= 1e-12, "\(name)") }
    }

    @Test("a singular sample covariance (fewer periods than assets) still gives a KKT-certified minimum")
    func singularCovariance() throws {
        let returns = try sp500Returns.get()
        let short = try ReturnObservations(assets: returns.assets, values: returns.values.rows(0..<12))
        let sigma = try CovarianceEstimator().fit(short)
        let singular = try OptimizationInputs(expectedReturns: nil, covariance: sigma)
        let allocation = try MeanVarianceOptimizer(constraints: .boxed(0, 0.1)).fit(singular)
        checkBudgetAndBounds(allocation, lower: 0, upper: 0.1)
        #expect(allocation.diagnostics!.residuals.maximum <= kktTolerance, "\(allocation.diagnostics!.residuals)")
    }

    @Test("asset-class group bounds use the classes carried by the inputs")
    func assetClassGroups() throws {
        let classes = (0..<20).map { $0 < 10 ? AssetClass.equity : AssetClass.bond }
        let labelled = try OptimizationInputs(assets: inputs.assets, covariance: inputs.covariance,
                                              expectedReturns: inputs.expectedReturns, assetClasses: classes)
        let constraints = PortfolioConstraints(groups: [GroupConstraint(name: "bonds", members: .assetClass(.bond), upper: 0.3)])
        let free = try MeanVarianceOptimizer(objective: .minimumVariance).fit(labelled)
        #expect(free.weights[10...].reduce(0, +) > 0.3)   // the bound binds
        let allocation = try MeanVarianceOptimizer(objective: .minimumVariance, constraints: constraints).fit(labelled)
        // The group total sits on its bound (1e-12) and the solution is KKT-certified.
        #expect(abs(allocation.weights[10...].reduce(0, +) - 0.3) <= 1e-12)
        #expect(allocation.diagnostics!.residuals.maximum <= kktTolerance)
        #expect(allocation.diagnostics!.activeConstraints.contains("group bonds in [-inf, 0.3] (upper)"))
    }

    @Test("a turnover limit too small to reach the caps from the current weights names the turnover constraint")
    func infeasibleTurnover() throws {
        // Everything is in AAPL; a 10% cap forces selling 0.9 and buying 0.9 (turnover 1.8 > 0.5).
        let constraints = PortfolioConstraints(maximumWeight: 0.1, currentWeights: ["AAPL": 1], turnoverLimit: 0.5)
        do {
            _ = try MeanVarianceOptimizer(constraints: constraints).fit(inputs)
            Issue.record("expected infeasible")
        } catch let PortfolioError.infeasible(_, conflicting, _) {
            #expect(conflicting.contains("turnover Σ|w − w0| ≤ 0.5 (upper)"), "\(conflicting)")
        }
    }

    @Test("the allocation encodes weights keyed by asset name")
    func json() throws {
        let allocation = try MeanVarianceOptimizer(constraints: .boxed(0, 0.1)).fit(inputs)
        let data = try JSONEncoder().encode(allocation)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let weights = try #require(object["weights"] as? [String: Double])
        // Within 2 ulp: Foundation's JSONSerialization on Linux does not always parse to the nearest double.
        #expect(abs(weights["AAPL"]! - allocation.weights[0]) <= 2 * allocation.weights[0].ulp)
        #expect(object["method"] as? String == "min-variance")
        #expect((object["diagnostics"] as? [String: Any])?["status"] as? String == "optimal")
    }

    @Test("misconfigured constraints are reported, not ignored")
    func misconfigured() throws {
        #expect(throws: PortfolioError.unknownAsset(operation: "MeanVarianceOptimizer(min-variance)", asset: "ZZZ")) {
            _ = try MeanVarianceOptimizer(constraints: PortfolioConstraints(assetUpperBounds: ["ZZZ": 0.1])).fit(inputs)
        }
        #expect(throws: PortfolioError.invalidArgument(operation: "MeanVarianceOptimizer(min-variance)",
                                                       message: "a turnover limit or transaction cost needs currentWeights")) {
            _ = try MeanVarianceOptimizer(constraints: PortfolioConstraints(turnoverLimit: 0.2)).fit(inputs)
        }
        let costly = PortfolioConstraints(currentWeights: ["AAPL": 1], transactionCost: 0.001)
        do {
            _ = try MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: 0), constraints: costly).fit(inputs)
            Issue.record("expected unsupported")
        } catch PortfolioError.unsupported {}
        let noReturns = try OptimizationInputs(assets: inputs.assets, covariance: inputs.covariance)
        do {
            _ = try MeanVarianceOptimizer(objective: .maximumUtility(riskAversion: 1)).fit(noReturns)
            Issue.record("expected invalidArgument")
        } catch PortfolioError.invalidArgument {}
        do {
            _ = try MeanVarianceOptimizer(objective: .efficientRisk(targetVolatility: 0.01)).fit(inputs)
            Issue.record("expected infeasible")
        } catch let PortfolioError.infeasible(_, conflicting, _) {
            #expect(conflicting.first == "volatility ≤ 0.01")
        }
    }

    @Test("inputs validation names the asset and both sizes")
    func inputValidation() throws {
        var sigma = Matrix.identity(2)
        sigma[1, 1] = .nan
        #expect(throws: PortfolioError.nonFinite(operation: "OptimizationInputs", what: "covariance", asset: "B", observation: nil)) {
            _ = try OptimizationInputs(assets: ["A", "B"], covariance: sigma)
        }
        #expect(throws: PortfolioError.dimensionMismatch(operation: "OptimizationInputs", lhs: "assets", lhsCount: 2,
                                                         rhs: "expected returns", rhsCount: 3)) {
            _ = try OptimizationInputs(assets: ["A", "B"], covariance: .identity(2), expectedReturns: [1, 2, 3])
        }
    }
}
