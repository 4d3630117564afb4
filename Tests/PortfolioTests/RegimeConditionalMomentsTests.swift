import Linalg
import Market
@testable import Portfolio
import Testing

private struct RegimeMomentsFixture: Decodable {
    let returns: [[Double]]
    let probabilities: [[Double]]
    let annualization: Double
    let means: [[Double]]
    let covariances: [[[Double]]]
    let current: [Double]
    let blendedMean: [Double]
    let blendedCovariance: [[Double]]
}

@Suite("Regime-conditional moments")
struct RegimeConditionalMomentsTests {
    /// Each state's weighted mean and reliability-weighted covariance, and the law-of-total-covariance
    /// mixture, against NumPy (`np.average`, `np.cov(aweights=)`; Scripts/fixtures/portfolio_regime_moments.py).
    /// Tolerance 1e-13 absolute: sums of 40 terms of order 1e-3 in the same formula.
    @Test func matchesNumPy() throws {
        let f = try fixtures.load("portfolio_regime_moments", as: RegimeMomentsFixture.self)
        let returns = try ReturnObservations(assets: ["A", "B", "C"], values: Matrix(rows: f.returns.count, columns: 3,
                                                                                     elements: f.returns.flatMap { $0 }))
        let probabilities = try Matrix(rows: f.probabilities.count, columns: 2, elements: f.probabilities.flatMap { $0 })
        let moments = try RegimeConditionalMoments(returns: returns, probabilities: probabilities, annualizationFactor: f.annualization)
        for s in 0..<2 {
            for i in 0..<3 {
                #expect(abs(moments.means[s, i] - f.means[s][i]) <= 1e-13)
                for j in 0..<3 { #expect(abs(moments.covariances[s][i, j] - f.covariances[s][i][j]) <= 1e-13) }
            }
        }
        let (mean, covariance) = try moments.blended(f.current)
        for i in 0..<3 {
            #expect(abs(mean[i] - f.blendedMean[i]) <= 1e-13)
            for j in 0..<3 { #expect(abs(covariance[i, j] - f.blendedCovariance[i][j]) <= 1e-13) }
        }
        let inputs = try moments.inputs(at: f.current)
        #expect(inputs.assets == ["A", "B", "C"])
        // A one-hot current state gives that state's own moments.
        let pure = try moments.blended([1, 0])
        #expect(pure.expectedReturns == (0..<3).map { moments.means[0, $0] })
        for i in 0..<3 { for j in 0..<3 { #expect(abs(pure.covariance[i, j] - moments.covariances[0][i, j]) <= 1e-15) } }
    }

    @Test func badProbabilitiesAreNamed() throws {
        let returns = try ReturnObservations(assets: ["A"], values: Matrix(rows: 3, columns: 1, elements: [0.01, -0.02, 0.03]))
        #expect(throws: PortfolioError.self) {
            try RegimeConditionalMoments(returns: returns, probabilities: Matrix(rows: 2, columns: 2, repeating: 0.5))
        }
        #expect(throws: PortfolioError.invalidArgument(operation: "RegimeConditionalMoments",
                                                       message: "probabilities of period 1 sum to 0.9, not 1")) {
            try RegimeConditionalMoments(returns: returns, probabilities: Matrix(rows: 3, columns: 1, elements: [1, 0.9, 1]))
        }
        // A state seen in a single period has no degree of freedom for a covariance.
        #expect(throws: PortfolioError.self) {
            try RegimeConditionalMoments(returns: returns, probabilities: Matrix(rows: 3, columns: 2, elements: [1, 0, 0, 1, 1, 0]))
        }
        let fine = try RegimeConditionalMoments(returns: returns, probabilities: Matrix(rows: 3, columns: 1, repeating: 1))
        #expect(throws: PortfolioError.self) { try fine.blended([0.5]) }
    }
}
