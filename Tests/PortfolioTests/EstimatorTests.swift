import Foundation
import Linalg
import Market
import Testing
@testable import Portfolio

/// `Fixtures/portfolio_estimators.json`, written by `Scripts/fixtures/portfolio.py`
/// (PyPortfolioOpt and scikit-learn on the 20-stock S&P 500 dataset).
struct EstimatorsFixture: Decodable {
    let assets: [String]
    let periods: Int
    let mean: [Double]
    let meanCompounded: [Double]
    let ewmaMeanSpan500: [Double]
    let capm: [Double]
    let capmRiskFree: Double
    let sample: [[Double]]
    let ewmaSpan180: [[Double]]
    let ledoitWolf: [[Double]]
    let ledoitWolfShrinkage: Double
    let oas: [[Double]]
    let oasShrinkage: Double
    let constantCorrelation: [[Double]]
    let constantCorrelationShrinkage: Double
}

@Suite("Estimators on the S&P 500 dataset")
struct EstimatorTests {
    let fixture: EstimatorsFixture
    let returns: ReturnObservations

    init() throws {
        fixture = try fixtures.load("portfolio_estimators")
        returns = try sp500Returns.get()
    }

    @Test("the embedded dataset gives the fixture's assets and periods")
    func shape() {
        #expect(returns.assets == fixture.assets)
        #expect(returns.periodCount == fixture.periods)
    }

    @Test("historical mean matches PyPortfolioOpt mean_historical_return(compounding=False)")
    func historicalMean() throws {
        let mu = try ExpectedReturnsEstimator(method: .historicalMean).fit(returns)
        // Tolerance 1e-13 scaled: a sum of 8312 terms in a different order (ours is refined by a second pass).
        let error = worstScaledError(mu.values, fixture.mean)
        #expect(error <= 1e-13, "worst \(error)")
    }

    @Test("compounded historical mean matches PyPortfolioOpt mean_historical_return(compounding=True)")
    func compoundedMean() throws {
        let mu = try ExpectedReturnsEstimator(method: .historicalMean, compounding: true).fit(returns)
        // Tolerance 1e-12 scaled: a product of 8312 growth factors (pandas) against a sum of log1p (ours),
        // raised to the power 252/8312.
        let error = worstScaledError(mu.values, fixture.meanCompounded)
        #expect(error <= 1e-12, "worst \(error)")
    }

    @Test("James–Stein toward the minimum-variance portfolio's mean stays between target and sample")
    func jamesSteinMinimumVariance() throws {
        let plain = try ExpectedReturnsEstimator().fit(returns).values
        let shrunk = try ExpectedReturnsEstimator(method: .jamesStein(target: .minimumVariancePortfolio)).fit(returns)
        let phi = try #require(shrunk.shrinkage)
        #expect(phi > 0 && phi <= 1)
        // m − ŝ = (1 − φ)(m − μ₀) is the same affine map for every asset: recover μ₀ from one asset and check all.
        let target = (shrunk.values[0] - (1 - phi) * plain[0]) / phi
        let expected = plain.map { target + (1 - phi) * ($0 - target) }
        #expect(worstScaledError(shrunk.values, expected) <= 1e-12)
    }

    @Test("EWMA mean matches PyPortfolioOpt ema_historical_return(span=500, compounding=False)")
    func ewmaMean() throws {
        let mu = try ExpectedReturnsEstimator(method: .ewma(.span(500))).fit(returns)
        // Tolerance 1e-12 scaled: pandas' recursive ewm mean and our direct weighted sum round differently.
        let error = worstScaledError(mu.values, fixture.ewmaMeanSpan500)
        #expect(error <= 1e-12, "worst \(error)")
    }

    @Test("CAPM returns match PyPortfolioOpt capm_return(compounding=False) with the equal-weight market")
    func capm() throws {
        let mu = try ExpectedReturnsEstimator(method: .capm(riskFreeRate: fixture.capmRiskFree, marketReturns: nil)).fit(returns)
        // Tolerance 1e-12 scaled: betas are ratios of sums over 8312 periods.
        let error = worstScaledError(mu.values, fixture.capm)
        #expect(error <= 1e-12, "worst \(error)")
        #expect(mu.betas?.count == 20)
    }

    @Test("sample covariance matches PyPortfolioOpt sample_cov")
    func sample() throws {
        let sigma = try CovarianceEstimator(method: .sample(ddof: 1)).fit(returns)
        // Relative to the largest entry, 1e-13: sums of 8312 products in another order.
        let error = worstRelativeError(sigma.matrix.elements, fixture.sample.flatMap { $0 })
        #expect(error <= 1e-13, "worst \(error)")
    }

    @Test("EWMA covariance matches PyPortfolioOpt exp_cov(span=180)")
    func ewmaCovariance() throws {
        let sigma = try CovarianceEstimator(method: .ewma(.span(180), centering: .sampleMean)).fit(returns)
        // Relative to the largest entry, 1e-11: pandas' recursive ewm and our weighted dsyrk round differently.
        let error = worstRelativeError(sigma.matrix.elements, fixture.ewmaSpan180.flatMap { $0 })
        #expect(error <= 1e-11, "worst \(error)")
    }

    @Test("Ledoit–Wolf (identity target) matches scikit-learn LedoitWolf")
    func ledoitWolf() throws {
        let sigma = try CovarianceEstimator(method: .ledoitWolf(.identity)).fit(returns)
        // Shrinkage: 1e-10 absolute; it is a ratio of differences of fourth moments, which loses digits.
        #expect(abs(sigma.shrinkage! - fixture.ledoitWolfShrinkage) <= 1e-10,
                "shrinkage \(sigma.shrinkage!) vs \(fixture.ledoitWolfShrinkage)")
        let error = worstRelativeError(sigma.matrix.elements, fixture.ledoitWolf.flatMap { $0 })
        #expect(error <= 1e-12, "worst \(error)")
    }

    @Test("OAS matches scikit-learn OAS")
    func oas() throws {
        let sigma = try CovarianceEstimator(method: .oracleApproximating).fit(returns)
        #expect(abs(sigma.shrinkage! - fixture.oasShrinkage) <= 1e-12, "shrinkage \(sigma.shrinkage!) vs \(fixture.oasShrinkage)")
        // Relative to the largest entry, 1e-12.
        let error = worstRelativeError(sigma.matrix.elements, fixture.oas.flatMap { $0 })
        #expect(error <= 1e-12, "worst \(error)")
    }

    @Test("Ledoit–Wolf (constant correlation) agrees with PyPortfolioOpt up to its 1/(T−1) sample covariance")
    func constantCorrelation() throws {
        let sigma = try CovarianceEstimator(method: .ledoitWolf(.constantCorrelation)).fit(returns)
        // PyPortfolioOpt uses the 1/(T−1) covariance inside the estimator where the paper (and we) use 1/T,
        // so entries differ by a relative O(1/T) = 1.2e-4; tolerance 3/T.
        let tolerance = 3.0 / Double(returns.periodCount)
        let error = worstRelativeError(sigma.matrix.elements, fixture.constantCorrelation.flatMap { $0 })
        #expect(error <= tolerance, "worst \(error)")
        #expect(abs(sigma.shrinkage! - fixture.constantCorrelationShrinkage) <= tolerance * fixture.constantCorrelationShrinkage + 1e-12,
                "shrinkage \(sigma.shrinkage!) vs \(fixture.constantCorrelationShrinkage)")
    }

    @Test("James–Stein shrinks the sample means toward their grand mean by φ ∈ [0, 1]")
    func jamesStein() throws {
        let plain = try ExpectedReturnsEstimator().fit(returns).values
        let shrunk = try ExpectedReturnsEstimator(method: .jamesStein(target: .grandMean)).fit(returns)
        let phi = try #require(shrunk.shrinkage)
        #expect(phi > 0 && phi <= 1)
        let grand = plain.reduce(0, +) / Double(plain.count)
        // Each estimate is the convex combination grand + (1 − φ)(m − grand); tolerance 1e-14 scaled.
        let expected = plain.map { grand + (1 - phi) * ($0 - grand) }
        #expect(worstScaledError(shrunk.values, expected) <= 1e-14)
    }

    @Test("Equilibrium returns are r_f + δΣw")
    func equilibrium() throws {
        let sigma = try CovarianceEstimator().fit(returns)
        let weights = Dictionary(uniqueKeysWithValues: returns.assets.map { ($0, 0.05) })
        let pi = try ExpectedReturnsEstimator.equilibriumImplied(covariance: sigma, marketWeights: weights,
                                                                 riskAversion: 2.5, riskFreeRate: 0.01)
        let row0 = (0..<20).reduce(0) { $0 + sigma.matrix[0, $1] * 0.05 }
        #expect(abs(pi.values[0] - (0.01 + 2.5 * row0)) <= 1e-15)
        #expect(throws: PortfolioError.unknownAsset(operation: "ExpectedReturnsEstimator.equilibriumImplied", asset: "ZZZ")) {
            _ = try ExpectedReturnsEstimator.equilibriumImplied(covariance: sigma, marketWeights: ["ZZZ": 1], riskAversion: 1)
        }
    }

    @Test("Marchenko–Pastur denoising keeps variances, keeps the signal eigenvalues above λ₊ and improves conditioning")
    func denoising() throws {
        let sample = try CovarianceEstimator().fit(returns)
        let denoised = try CovarianceEstimator(method: .marchenkoPasturDenoised(.fixed(1))).fit(returns)
        let k = try #require(denoised.signalFactors)
        // With σ² = 1 the edge is λ₊ = (1 + √(n/T))²; the signal count is the number of sample
        // correlation eigenvalues above it.
        let sampleCorrelation = try Matrix.correlation(fromCovariance: sample.matrix)
        let sampleEigenvalues = try sampleCorrelation.symmetricEigenvalues()
        let edge = pow(1 + (20.0 / Double(returns.periodCount)).squareRoot(), 2)
        #expect(k == sampleEigenvalues.filter { $0 > edge }.count)
        #expect(k >= 1 && k < 20)
        // Variances are restored up to rounding (1e-14 scaled).
        #expect(worstScaledError(denoised.matrix.diagonalElements, sample.matrix.diagonalElements) <= 1e-14)
        let eigenvalues = try Matrix.correlation(fromCovariance: denoised.matrix).symmetricEigenvalues()
        #expect(eigenvalues[0] > 0)
        // Averaging the noise eigenvalues raises the smallest one, so the condition number drops.
        #expect(eigenvalues.last! / eigenvalues[0] < sampleEigenvalues.last! / sampleEigenvalues[0])
        let fitted = try CovarianceEstimator(method: .marchenkoPasturDenoised(.fitted(bandwidth: 0.01))).fit(returns)
        #expect((fitted.signalFactors ?? 0) >= 1)
    }

    @Test("nearest-PSD repair lifts a negative eigenvalue to the floor")
    func repair() throws {
        let bad = try Matrix([[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
        #expect(try bad.symmetricEigenvalues()[0] < 0)
        let estimate = CovarianceEstimate(assets: ["A", "B", "C"], assetClasses: [.equity, .equity, .equity], matrix: bad,
                                          method: .sample(ddof: 1), shrinkage: nil, signalFactors: nil, repaired: false)
        let fixed = try estimate.repairedToPositiveSemidefinite(minimumEigenvalue: 1e-6)
        // Floor 1e-6 met up to eigensolver rounding (1e-14).
        #expect(try fixed.matrix.symmetricEigenvalues()[0] >= 1e-6 - 1e-14)
        #expect(fixed.repaired)
    }

    @Test("a NaN return is reported with its asset and period")
    func nanReturn() throws {
        var values = try Matrix([[0.01, 0.02], [0.03, 0.01], [-0.01, 0.0]])
        values[1, 1] = .nan
        #expect(throws: PortfolioError.nonFinite(operation: "ReturnObservations", what: "return", asset: "B", observation: 1)) {
            _ = try ReturnObservations(assets: ["A", "B"], values: values)
        }
    }
}
