import Backtest
import Linalg
import Market
import Portfolio
import Testing

/// A user's covariance estimator: the sample variances only (zero correlations), annualized monthly.
/// The same code is the example of the Backtest DocC article "Bringing your own estimator".
struct DiagonalCovariance: CovarianceEstimating {
    func fit(_ returns: ReturnObservations) throws -> CovarianceEstimate {
        let sample = try CovarianceEstimator(annualizationFactor: 12).fit(returns)
        let n = returns.assetCount
        let diagonal = Matrix(rows: n, columns: n) { i, j in i == j ? sample.matrix[i, i] : 0 }
        return try CovarianceEstimate(assets: returns.assets, assetClasses: returns.assetClasses, matrix: diagonal,
                                      method: "diagonal")
    }
}

@Suite("User estimators in the prior and the backtest")
struct UserEstimatorTests {
    /// Plugged into `OptimizerStrategy`, the user's estimator drives a minimum-variance backtest; with
    /// zero correlations, unconstrained minimum variance is inverse-variance weighting, which the
    /// first decision must equal (1e-9).
    @Test func diagonalCovarianceInTheEngine() throws {
        let panel = try Dataset.sp500Stocks.load().resampled(to: .monthly, aggregation: .last, label: .periodEnd)
            .selecting(assets: ["AAPL", "JNJ", "KO", "XOM"])
        let strategy = try OptimizerStrategy(optimizer: MeanVarianceOptimizer(), lookback: 36, covarianceEstimator: DiagonalCovariance())
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(firstDecisionBar: 36, lastBar: 48))
        let result = try engine.run(strategy)
        let returns = try ReturnObservations(simpleReturnsOf: panel.slicing(0..<37))
        let variances = try CovarianceEstimator(annualizationFactor: 12).fit(returns).matrix.diagonalElements
        let inverse = variances.map { 1 / $0 }, total = inverse.reduce(0, +)
        let first = try #require(result.decisions.first).weightsAfter
        for (w, expected) in zip(first, inverse.map { $0 / total }) { #expect(abs(w - expected) <= 1e-9) }
        // The composed prior gives the optimizer the same inputs outside the engine.
        let allocation = try MeanVarianceOptimizer().fit(returns, prior: EstimationPrior(covariance: DiagonalCovariance()))
        for (a, b) in zip(allocation.weights, first) { #expect(abs(a - b) <= 1e-9) }
    }

    @Test func customEstimatesAreChecked() throws {
        #expect(throws: PortfolioError.notSymmetric(operation: "CovarianceEstimate", row: "A", column: "B")) {
            try CovarianceEstimate(assets: ["A", "B"], matrix: Matrix(rows: 2, columns: 2, elements: [1, 0.5, 0.4, 1]), method: "x")
        }
        #expect(throws: PortfolioError.self) { try ExpectedReturnsEstimate(assets: ["A"], values: [.nan], method: "x") }
        var estimator = CovarianceEstimator()
        estimator.method = .custom("mine")
        let returns = try ReturnObservations(assets: ["A"], values: Matrix(rows: 3, columns: 1, elements: [0.01, 0.02, -0.01]))
        #expect(throws: PortfolioError.self) { try estimator.fit(returns) }
    }
}
