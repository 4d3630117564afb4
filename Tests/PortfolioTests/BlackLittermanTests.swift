import Foundation
import Linalg
import Market
import Testing
@testable import Portfolio

/// `Fixtures/portfolio_black_litterman.json`, written by `Scripts/fixtures/portfolio_black_litterman.py`
/// from PyPortfolioOpt's `BlackLittermanModel` on the sample covariance of the 20-stock S&P 500 dataset.
struct BlackLittermanFixture: Decodable {
    struct View: Decodable {
        let weights: [String: Double]
        let value: Double
    }

    struct Case: Decodable {
        let name: String
        let tau: Double
        let views: [View]
        let P: [[Double]]
        let Q: [Double]
        let omega: [[Double]]
        let confidences: [Double]?
        let posteriorReturns: [Double]
        let posteriorCovariance: [[Double]]
        let weights: [Double]
    }

    let assets: [String]
    let riskFreeRate: Double
    let riskAversion: Double
    let marketCaps: [Double]
    let prior: [Double]
    let cases: [Case]
}

/// Peer agreement: `max|ours − peer| / max|peer|` over each array. Both sides do the same closed-form
/// algebra in double precision (LU in NumPy, Cholesky here), so only rounding separates them.
private let blTolerance = 1e-10

@Suite("Black–Litterman against PyPortfolioOpt")
struct BlackLittermanTests {
    let fixture: BlackLittermanFixture
    let inputs: OptimizationInputs

    init() throws {
        fixture = try fixtures.load("portfolio_black_litterman")
        let returns = try sp500Returns.get()
        inputs = try OptimizationInputs(expectedReturns: nil, covariance: try CovarianceEstimator().fit(returns))
    }

    var marketPrior: BlackLittermanModel.Prior {
        .marketImplied(marketCapitalizations: Dictionary(uniqueKeysWithValues: zip(fixture.assets, fixture.marketCaps)),
                       riskFreeRate: fixture.riskFreeRate)
    }

    func model(_ testCase: BlackLittermanFixture.Case) throws -> BlackLittermanModel {
        let views = testCase.views.enumerated().map { k, view in
            BlackLittermanView(weights: view.weights, expectedReturn: view.value, confidence: testCase.confidences?[k])
        }
        let uncertainty: BlackLittermanModel.ViewUncertainty
        if testCase.confidences != nil {
            uncertainty = .idzorek
        } else if testCase.name.hasPrefix("given-omega") {
            uncertainty = .given(try Matrix(testCase.omega))
        } else {
            uncertainty = .heLitterman
        }
        return BlackLittermanModel(prior: marketPrior, views: views, tau: testCase.tau, riskAversion: fixture.riskAversion,
                                   uncertainty: uncertainty)
    }

    @Test("market-implied risk aversion of the S&P 500 index and the equilibrium prior (1e-10 relative)")
    func priorAndRiskAversion() throws {
        let index = try Dataset.sp500Index.load()
        let delta = try BlackLittermanModel.marketImpliedRiskAversion(prices: try index.series("SP500"),
                                                                      riskFreeRate: fixture.riskFreeRate)
        #expect(abs(delta - fixture.riskAversion) <= blTolerance * fixture.riskAversion)
        #expect(inputs.assets == fixture.assets)
        let model = BlackLittermanModel(prior: marketPrior, views: [], riskAversion: fixture.riskAversion)
        let pi = try model.posterior(inputs).prior
        #expect(worstRelativeError(pi, fixture.prior) <= blTolerance)
    }

    @Test("posterior returns, covariance, Ω and weights (1e-10 relative)",
          arguments: ["absolute-he-litterman", "relative-idzorek", "given-omega-tau-0.1"])
    func parity(name: String) throws {
        let testCase = try #require(fixture.cases.first { $0.name == name })
        let bl = try model(testCase)
        let posterior = try bl.posterior(inputs)
        #expect(worstRelativeError(posterior.pickingMatrix.elements, testCase.P.flatMap { $0 }) == 0)
        #expect(posterior.viewReturns == testCase.Q)
        #expect(worstRelativeError(posterior.viewUncertainty.elements, testCase.omega.flatMap { $0 }) <= blTolerance)
        #expect(worstRelativeError(posterior.returns, testCase.posteriorReturns) <= blTolerance)
        #expect(worstRelativeError(posterior.covariance.elements, testCase.posteriorCovariance.flatMap { $0 }) <= blTolerance)
        let allocation = try bl.fit(inputs)
        #expect(allocation.method == "black-litterman")
        #expect(worstRelativeError(allocation.weights, testCase.weights) <= blTolerance)
        #expect(abs(allocation.weights.reduce(0, +) - 1) <= 1e-12)
    }

    @Test("a view held with confidence 1 holds exactly in the posterior (1e-12 absolute)")
    func certainView() throws {
        let testCase = try #require(fixture.cases.first { $0.name == "relative-idzorek" })
        let posterior = try model(testCase).posterior(inputs)
        let certain = try #require(testCase.confidences?.firstIndex(of: 1))
        let implied = zip(posterior.pickingMatrix.row(certain), posterior.returns).reduce(0) { $0 + $1.0 * $1.1 }
        #expect(abs(implied - testCase.Q[certain]) <= 1e-12)
    }

    @Test("no views: posterior returns are the prior, covariance (1 + τ)Σ, weights the market weights (1e-10)")
    func noViews() throws {
        // With r_f = 0 the prior is δΣw, so (δΣ)⁻¹π recovers the market weights w.
        let caps = Dictionary(uniqueKeysWithValues: zip(fixture.assets, fixture.marketCaps))
        let posterior = try BlackLittermanModel(prior: .marketImplied(marketCapitalizations: caps, riskFreeRate: 0), views: [],
                                                riskAversion: fixture.riskAversion).posterior(inputs)
        #expect(posterior.returns == posterior.prior)
        let expected = inputs.covariance.scaled(by: 1.05)
        #expect(worstRelativeError(posterior.covariance.elements, expected.elements) <= 1e-15)
        let total = fixture.marketCaps.reduce(0, +)
        #expect(worstRelativeError(try posterior.impliedWeights(), fixture.marketCaps.map { $0 / total }) <= blTolerance)
    }

    @Test("bad views and parameters throw errors naming the view")
    func errors() throws {
        func failure(_ views: [BlackLittermanView], uncertainty: BlackLittermanModel.ViewUncertainty = .heLitterman,
                     tau: Double = 0.05) -> PortfolioError? {
            let model = BlackLittermanModel(prior: marketPrior, views: views, tau: tau, riskAversion: fixture.riskAversion,
                                            uncertainty: uncertainty)
            do { _ = try model.posterior(inputs); return nil } catch { return error as? PortfolioError }
        }
        let aapl = BlackLittermanView.absolute("AAPL", expectedReturn: 0.1, confidence: 0.5)
        #expect(failure([aapl, .absolute("TSLA", expectedReturn: 0.2)]) == .unknownAsset(operation: "BlackLittermanModel view 1", asset: "TSLA"))
        let badConfidence = failure([.relative("MSFT", over: "AMD", by: 0.02, confidence: 1.5)], uncertainty: .idzorek)
        #expect(badConfidence == .invalidArgument(operation: "BlackLittermanModel view 0", message: "confidence 1.5 is outside [0, 1]"))
        if case let .invalidArgument(operation, message)? = failure([aapl, .absolute("XOM", expectedReturn: 0.05)], uncertainty: .idzorek) {
            #expect(operation == "BlackLittermanModel view 1" && message.contains("confidence"))
        } else {
            Issue.record("Idzorek without a confidence must throw")
        }
        // Two copies of one view held with certainty: PτΣPᵀ + Ω is singular at the second.
        let certain = BlackLittermanView.absolute("AAPL", expectedReturn: 0.1, confidence: 1)
        if case let .invalidArgument(operation, message)? = failure([aapl, certain, certain], uncertainty: .idzorek) {
            #expect(operation == "BlackLittermanModel view 2" && message.contains("singular"))
        } else {
            Issue.record("a singular PτΣPᵀ + Ω must throw")
        }
        if case let .invalidArgument(operation, _)? = failure([aapl], uncertainty: .given(Matrix.diagonal([-1]))) {
            #expect(operation == "BlackLittermanModel view 0")
        } else {
            Issue.record("a negative Ω entry must throw")
        }
        if case .dimensionMismatch? = failure([aapl], uncertainty: .given(Matrix.identity(2))) {} else {
            Issue.record("a 2×2 Ω for one view must throw")
        }
        if case .invalidArgument? = failure([aapl], tau: 0) {} else { Issue.record("τ = 0 must throw") }
        if case .invalidArgument? = failure([BlackLittermanView(weights: ["AAPL": 0], expectedReturn: 0.1)]) {} else {
            Issue.record("an empty view must throw")
        }
        let missingCap = BlackLittermanModel(prior: .marketImplied(marketCapitalizations: ["AAPL": 1], riskFreeRate: 0),
                                             views: [], riskAversion: 2)
        #expect(throws: PortfolioError.self) { try missingCap.posterior(inputs) }
        #expect(throws: PortfolioError.self) {
            try BlackLittermanModel.marketImpliedRiskAversion(prices: [100, 101, .nan, 102])
        }
    }
}
