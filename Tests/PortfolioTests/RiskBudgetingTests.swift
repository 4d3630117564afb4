import Foundation
import Linalg
import Market
import Testing
@testable import Portfolio

/// The Spinu log-barrier problem solved by cvxpy/Clarabel at a 1e-12 gap: its budget residual is
/// 8e-11 (equal) and 9e-10 (ramp), so its weights carry errors of about 1e-9; 1e-8 bounds the gap.
let spinuTolerance = 1e-8
/// Riskfolio-Lib's `rp_optimization` stops at Clarabel's default tolerances (budget residual 8.5e-7).
let riskfolioRiskParityTolerance = 2e-6

@Suite("Risk budgeting (Spinu Newton)")
struct RiskBudgetingTests {
    let fixture: HierarchicalFixture.RiskBudgeting
    let inputs: OptimizationInputs

    init() throws {
        fixture = try fixtures.load("portfolio_hierarchical", as: HierarchicalFixture.self).riskBudgeting
        inputs = try sp500Inputs()
    }

    func expectBudgetsMet(_ allocation: PortfolioAllocation, _ budgets: [Double],
                          sourceLocation: SourceLocation = #_sourceLocation) throws {
        let diagnostics = try #require(allocation.diagnostics, sourceLocation: sourceLocation)
        #expect(diagnostics.status == .optimal, sourceLocation: sourceLocation)
        #expect(diagnostics.iterations <= 20, sourceLocation: sourceLocation)
        #expect(diagnostics.residuals.dual <= 1e-12, sourceLocation: sourceLocation)
        #expect(diagnostics.residuals.primal <= 1e-14, sourceLocation: sourceLocation)
        // Recomputed here, independently of the reported residual.
        #expect(maxAbsDifference(allocation.relativeRiskContributions, budgets) <= 1e-12, sourceLocation: sourceLocation)
        #expect(allocation.weights.allSatisfy { $0 > 0 }, sourceLocation: sourceLocation)
    }

    @Test("Equal risk contribution matches cvxpy (1e-8) and Riskfolio-Lib (2e-6)")
    func equalRiskContribution() throws {
        let allocation = try RiskBudgeting().fit(inputs)
        #expect(allocation.method == "risk-parity")
        #expect(maxAbsDifference(allocation.weights, fixture.equalBudgets) <= spinuTolerance)
        #expect(maxAbsDifference(allocation.weights, fixture.riskfolioEqual) <= riskfolioRiskParityTolerance)
        try expectBudgetsMet(allocation, [Double](repeating: 0.05, count: 20))
    }

    @Test("Budgets proportional to 1…20 match cvxpy (1e-8)")
    func rampBudgets() throws {
        let allocation = try RiskBudgeting(budgets: fixture.rampBudgets).fit(inputs)
        #expect(allocation.method == "risk-budgeting")
        #expect(maxAbsDifference(allocation.weights, fixture.ramp) <= spinuTolerance)
        try expectBudgetsMet(allocation, fixture.rampBudgets)
    }

    @Test("Small cases: one asset, two assets (wᵢ ∝ 1/σᵢ whatever ρ), identical assets")
    func smallCases() throws {
        let one = try OptimizationInputs(assets: ["X"], covariance: Matrix([[0.04]]))
        #expect(try RiskBudgeting().fit(one).weights == [1])
        let two = try OptimizationInputs(assets: ["X", "Y"], covariance: Matrix([[0.04, -0.018], [-0.018, 0.09]]))
        #expect(maxAbsDifference(try RiskBudgeting().fit(two).weights, [0.6, 0.4]) <= 1e-14)
        // Y and Y′ are the same asset: the covariance is singular but the problem is still bounded.
        let copies = try OptimizationInputs(assets: ["X", "Y", "Y′"],
                                            covariance: Matrix([[0.04, 0.01, 0.01], [0.01, 0.09, 0.09], [0.01, 0.09, 0.09]]))
        let allocation = try RiskBudgeting().fit(copies)
        try expectBudgetsMet(allocation, [Double](repeating: 1.0 / 3, count: 3))
        #expect(abs(allocation.weights[1] - allocation.weights[2]) <= 1e-14)
    }

    @Test("Bad budgets and covariances throw typed errors naming the asset")
    func errors() throws {
        #expect(throws: PortfolioError.dimensionMismatch(operation: "RiskBudgeting(risk-budgeting)", lhs: "assets",
                                                          lhsCount: 20, rhs: "risk budgets", rhsCount: 3)) {
            try RiskBudgeting(budgets: [0.2, 0.3, 0.5]).fit(inputs)
        }
        var budgets = [Double](repeating: 0.05, count: 20)
        budgets[3] = 0
        budgets[4] = 0.1
        #expect { try RiskBudgeting(budgets: budgets).fit(inputs) } throws: { error in
            guard case let PortfolioError.invalidArgument(_, message) = error else { return false }
            return message.contains(inputs.assets[3])
        }
        budgets[3] = 0.05
        #expect { try RiskBudgeting(budgets: budgets).fit(inputs) } throws: { error in
            guard case let PortfolioError.invalidArgument(_, message) = error else { return false }
            return message.contains("sum to 1.05")
        }
        budgets[4] = .nan
        #expect { try RiskBudgeting(budgets: budgets).fit(inputs) } throws: { error in
            guard case let PortfolioError.invalidArgument(_, message) = error else { return false }
            return message.contains(inputs.assets[4])
        }
        let flat = try OptimizationInputs(assets: ["X", "Flat"], covariance: Matrix([[0.04, 0], [0, 0]]))
        #expect { try RiskBudgeting().fit(flat) } throws: { error in
            guard case let PortfolioError.invalidArgument(_, message) = error else { return false }
            return message.contains("Flat")
        }
        let indefinite = try OptimizationInputs(assets: ["X", "Y"], covariance: Matrix([[0.04, 0.1], [0.1, 0.09]]))
        #expect { try RiskBudgeting().fit(indefinite) } throws: { error in
            guard case let PortfolioError.notPositiveSemidefinite(_, smallest) = error else { return false }
            return smallest < 0
        }
        #expect { try RiskBudgeting(maximumIterations: 1).fit(inputs) } throws: { error in
            guard case let PortfolioError.solverFailed(_, status, iterations, _) = error else { return false }
            return status == .iterationLimit && iterations == 1
        }
    }
}
