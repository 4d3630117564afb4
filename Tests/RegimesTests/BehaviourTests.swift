import Linalg
import Market
import Testing
@testable import Regimes

/// A 3-regime, 2-asset Markov-switching market with well separated volatilities (calm, normal, crisis).
func threeRegimeMarket() throws -> RegimeSwitchingMarket {
    func regime(_ mean: [Double], _ vols: [Double], _ rho: Double) -> RegimeSwitchingMarket.Regime {
        let cov = try! Matrix([[vols[0] * vols[0], rho * vols[0] * vols[1]], [rho * vols[0] * vols[1], vols[1] * vols[1]]])
        return RegimeSwitchingMarket.Regime(mean: mean, covariance: cov)
    }
    return try RegimeSwitchingMarket(
        regimes: [regime([0.001, 0.0005], [0.005, 0.004], 0.2), regime([0.0, 0.0], [0.012, 0.010], 0.5),
                  regime([-0.004, -0.002], [0.035, 0.025], 0.8)],
        transition: Matrix([[0.97, 0.02, 0.01], [0.03, 0.95, 0.02], [0.02, 0.05, 0.93]]))
}

@Suite struct HMMBehaviourTests {
    /// Recovery threshold: Viterbi agrees with the true regimes on ≥ 90 % of 1500 days (states ordered
    /// by the variance of asset 1, as the true regimes are); BIC over K ∈ {1, 2, 3, 4} picks 3.
    @Test func recoversSyntheticRegimesAndBICPicksTrueK() throws {
        let path = try threeRegimeMarket().simulate(steps: 1500, seed: 11)
        let config = BaumWelch(states: 3, restarts: 3, ordering: .byVariance(feature: 0))
        let selection = try config.selectByBIC(path.logReturns, candidates: [1, 2, 3, 4], seed: 5)
        #expect(selection.best.model.states == 3, "BIC: \(selection.fits.mapValues(\.bic))")
        let fit = try #require(selection.fits[3])
        let decoded = try fit.model.viterbi(path.logReturns).states
        let accuracy = agreement(decoded, path.regimes)
        #expect(accuracy >= 0.90, "Viterbi accuracy \(accuracy)")
        let filtered = try fit.model.filteredProbabilities(path.logReturns)
        let filteredLabels = (0..<filtered.rows).map { t in (0..<3).max { filtered[t, $0] < filtered[t, $1] }! }
        #expect(agreement(filteredLabels, path.regimes) >= 0.85, "filtered accuracy \(agreement(filteredLabels, path.regimes))")
        // Variances come out ascending under .byVariance.
        let variances = fit.model.covariances.map { $0[0, 0] }
        #expect(variances == variances.sorted())
    }

    /// Filtered probabilities are causal: row t is bit-identical when rows after t change.
    @Test func filteredProbabilitiesAreCausal() throws {
        let path = try threeRegimeMarket().simulate(steps: 300, seed: 3)
        let model = try BaumWelch(states: 3, restarts: 1, maxIterations: 30).fit(path.logReturns, seed: 1).model
        let full = try model.filteredProbabilities(path.logReturns)
        let cut = 150
        var altered = path.logReturns
        for t in (cut + 1)..<altered.rows { for j in 0..<2 { altered[t, j] = -altered[t, j] * 3 + 0.01 } }
        let other = try model.filteredProbabilities(altered)
        #expect(full.rows(0..<(cut + 1)) == other.rows(0..<(cut + 1)))
        #expect(full.rows((cut + 1)..<full.rows) != other.rows((cut + 1)..<other.rows))
        // The last filtered row equals the last smoothed row (tolerance 1e-12).
        let smoothed = try model.posteriors(path.logReturns)
        for s in 0..<3 { #expect(Swift.abs(full[full.rows - 1, s] - smoothed[smoothed.rows - 1, s]) < 1e-12) }
    }

    /// Maximum-likelihood Baum–Welch (no prior, inactive floor) never lowers the likelihood (1e-9 relative).
    @Test func likelihoodIsMonotone() throws {
        let path = try threeRegimeMarket().simulate(steps: 400, seed: 8)
        let fit = try BaumWelch(states: 3, restarts: 1, maxIterations: 60, tolerance: -1e300, covarianceFloor: 0).fit(path.logReturns, seed: 2)
        #expect(fit.history.count == 60)
        for (a, b) in zip(fit.history, fit.history.dropFirst()) { #expect(b >= a - 1e-9 * Swift.abs(a)) }
    }

    /// The scaled E-step (used by Baum–Welch) and the log-space one agree: two independent
    /// recursions of the same quantities. Log-likelihood and Σξ to 1e-12 relative; γ to 1e-11
    /// absolute, because the log-space `exp(log α + log β − log L)` carries rounding of order |log L|·ε.
    @Test func scaledAndLogSpaceEStepsAgree() throws {
        let path = try threeRegimeMarket().simulate(steps: 600, seed: 3)
        let model = try BaumWelch(states: 3, restarts: 1, maxIterations: 5).fit(path.logReturns, seed: 1).model
        let bank = try GaussianBank(means: model.means, covariances: model.covariances, operation: "test", iteration: 0)
        let scaled = try #require(model.scaledPosteriors(bank.logDensities(path.logReturns), n: path.logReturns.rows))
        let logSpace = try model.logSpacePosteriors(path.logReturns, "test", iteration: 0)
        #expect(Swift.abs(scaled.logLikelihood - logSpace.logLikelihood) <= 1e-12 * Swift.abs(logSpace.logLikelihood))
        #expect(Swift.abs(scaled.logLikelihood - (try model.logLikelihood(path.logReturns))) <= 1e-12 * Swift.abs(logSpace.logLikelihood))
        for (a, b) in zip(scaled.gamma, logSpace.gamma) { #expect(Swift.abs(a - b) <= 1e-11) }
        for (a, b) in zip(scaled.transitionCounts, logSpace.transitionCounts) { #expect(Swift.abs(a - b) <= 1e-12 * Swift.max(1, Swift.abs(b))) }
    }

    /// An observation that only a state reached with probability 1e-300 explains underflows the
    /// scale factor; Baum–Welch then takes the log-space E-step and still returns a finite fit.
    @Test func underflowingStepFallsBackToLogSpace() throws {
        let model = try GaussianHMM(startProbabilities: [1, 0], transition: Matrix([[1.0, 1e-300], [0.5, 0.5]]),
                                    means: Matrix([[0.0], [1000.0]]), covariances: [Matrix([[1.0]]), Matrix([[1.0]])])
        let data = try Matrix([[0.1], [-0.3], [1000.2], [0.4], [999.7], [0.2]])
        let bank = try GaussianBank(means: model.means, covariances: model.covariances, operation: "test", iteration: 0)
        #expect(model.scaledPosteriors(bank.logDensities(data), n: data.rows) == nil)
        let fit = try BaumWelch(states: 2, maxIterations: 3, covarianceFloor: 1e-6).refine(data, from: model)
        #expect(fit.logLikelihood.isFinite)
        #expect(fit.history.allSatisfy { $0.isFinite })
        #expect(Swift.abs(fit.history[0] - (try model.logLikelihood(data))) <= 1e-12 * Swift.abs(fit.history[0]))
    }

    /// Sampling is reproducible and a fit on a long sample recovers the generating means (0.05 absolute).
    @Test func sampleIsSeededAndRefitRecoversParameters() throws {
        let model = try GaussianHMM(startProbabilities: [0.5, 0.5], transition: Matrix([[0.95, 0.05], [0.1, 0.9]]),
                                    means: Matrix([[-1.0], [1.0]]), covariances: [Matrix([[0.25]]), Matrix([[0.5]])])
        let a = try model.sample(count: 3000, seed: 42), b = try model.sample(count: 3000, seed: 42)
        #expect(a.observations == b.observations && a.states == b.states)
        #expect(try model.sample(count: 10, seed: 43).observations != a.observations.rows(0..<10))
        let fit = try BaumWelch(states: 2, restarts: 2).fit(a.observations, seed: 0)
        #expect(Swift.abs(fit.model.means[0, 0] + 1) < 0.05 && Swift.abs(fit.model.means[1, 0] - 1) < 0.05)
        #expect(Swift.abs(fit.model.transition[0, 0] - 0.95) < 0.02)
        #expect(fit.converged)
    }

    @Test func badInputThrowsTypedErrors() throws {
        let constant = Matrix(rows: 50, columns: 1, repeating: 0.3)
        #expect(throws: RegimesError.tooFewDistinctPoints(operation: "GaussianHMM.fit", distinct: 1, required: 2)) {
            try BaumWelch(states: 2).fit(constant, seed: 0)
        }
        #expect(throws: RegimesError.constantColumn(operation: "GaussianHMM.fit", column: 0)) {
            try BaumWelch(states: 1).fit(constant, seed: 0)
        }
        var withNaN = Matrix(rows: 10, columns: 2) { i, j in Double(i * 2 + j) }
        withNaN[4, 1] = .nan
        #expect(throws: RegimesError.nonFinite(operation: "GaussianHMM.fit", row: 4, column: 1)) {
            try BaumWelch(states: 2).fit(withNaN, seed: 0)
        }
        #expect(throws: RegimesError.emptyData(operation: "GaussianHMM.fit")) {
            try BaumWelch(states: 2).fit(Matrix(rows: 0, columns: 2), seed: 0)
        }
        #expect(throws: RegimesError.self) {
            try GaussianHMM(startProbabilities: [0.5, 0.6], transition: Matrix.identity(2), means: Matrix(rows: 2, columns: 1),
                            covariances: [Matrix.identity(1), Matrix.identity(1)])
        }
        #expect(throws: RegimesError.notPositiveDefinite(operation: "GaussianHMM.init", state: 1, pivot: 1, iteration: 0)) {
            try GaussianHMM(startProbabilities: [0.5, 0.5], transition: Matrix.identity(2), means: Matrix(rows: 2, columns: 1),
                            covariances: [Matrix.identity(1), Matrix([[-1.0]])])
        }
    }

    /// A state placed far from every observation gets no mass: a typed error naming it, not NaN.
    @Test func emptyStateIsReported() throws {
        let data = Matrix(rows: 100, columns: 1) { i, _ in Double(i % 7) * 0.1 }
        let initial = try GaussianHMM(startProbabilities: [0.5, 0.5], transition: Matrix([[0.9, 0.1], [0.1, 0.9]]),
                                      means: Matrix([[0.3], [1e6]]), covariances: [Matrix([[1.0]]), Matrix([[1.0]])])
        #expect(throws: RegimesError.emptyState(operation: "GaussianHMM.refine", state: 1, iteration: 1)) {
            try BaumWelch(states: 2, restarts: 1).refine(data, from: initial)
        }
    }
}

@Suite struct MixtureAndKMeansBehaviourTests {
    static func blobs(seed: UInt64) throws -> (Matrix, [Int]) {
        let gmm = try GaussianMixture(weights: [0.3, 0.3, 0.4], means: Matrix([[-3.0, 0.0], [0.0, 3.0], [3.0, 0.0]]),
                                      covariances: [Matrix.identity(2).scaled(by: 0.5), Matrix([[1.0, 0.3], [0.3, 0.6]]),
                                                    Matrix.identity(2).scaled(by: 0.8)])
        let s = try gmm.sample(count: 900, seed: seed)
        return (s.observations, s.components)
    }

    /// On three separated blobs: every covariance type's BIC prefers K = 3 over 1, 2, 4 (full);
    /// k-means labels agree with the truth on ≥ 95 % of points.
    @Test func mixtureBICPicksTrueKAndKMeansRecoversBlobs() throws {
        let (data, truth) = try Self.blobs(seed: 9)
        var bics: [Int: Double] = [:]
        for k in 1...4 { bics[k] = try GaussianMixtureEstimator(components: k, restarts: 2).fit(data, seed: 4).bic }
        #expect(bics.min { $0.value < $1.value }?.key == 3, "BIC \(bics)")
        let km = try KMeans(clusters: 3).fit(data, seed: 1)
        #expect(agreement(km.labels, truth) >= 0.95, "k-means accuracy \(agreement(km.labels, truth))")
        // Seeded: the same seed gives the same clustering.
        #expect(try KMeans(clusters: 3).fit(data, seed: 1) == km)
        for type in CovarianceType.allCases {
            let fit = try GaussianMixtureEstimator(components: 3, covarianceType: type).fit(data, seed: 2)
            #expect(fit.model.weights.allSatisfy { $0 > 0.2 }, "\(type) weights \(fit.model.weights)")
            #expect(fit.logLikelihood.isFinite)
        }
    }

    /// A constant column is recovered by reg_covar (variance exactly the regularization, 1e-15 relative);
    /// with no regularization it is a typed error. Fewer distinct points than K is a typed error.
    @Test func degenerateData() throws {
        let data = Matrix(rows: 60, columns: 2) { i, j in j == 0 ? Double(i % 2) * 5 + Double(i % 3) * 0.1 : 1.5 }
        let fit = try GaussianMixtureEstimator(components: 2, covarianceType: .diagonal).fit(data, seed: 0)
        for c in fit.model.covariances { #expect(Swift.abs(c[1, 1] - 1e-6) <= 1e-15 * 1e-6 + 1e-20) }
        #expect(throws: RegimesError.constantColumn(operation: "GaussianMixture.fit", column: 1)) {
            try GaussianMixtureEstimator(components: 2, regularization: 0).fit(data, seed: 0)
        }
        let constant = Matrix(rows: 20, columns: 1, repeating: 2)
        #expect(throws: RegimesError.tooFewDistinctPoints(operation: "KMeans.fit", distinct: 1, required: 3)) {
            try KMeans(clusters: 3).fit(constant, seed: 0)
        }
        #expect(throws: RegimesError.tooFewDistinctPoints(operation: "GaussianMixture.fit", distinct: 1, required: 2)) {
            try GaussianMixtureEstimator(components: 2).fit(constant, seed: 0)
        }
        #expect(throws: RegimesError.shapeMismatch(operation: "KMeans.refine", what: "initialCenters", expected: "3×2", found: "2×2")) {
            try KMeans(clusters: 3).refine(data, initialCenters: Matrix.identity(2))
        }
        #expect(throws: RegimesError.invalidArgument(operation: "KMeans.fit", message: "clusters 0 must be ≥ 1")) {
            try KMeans(clusters: 0).fit(data, seed: 0)
        }
    }

    /// k-means recovers from an empty cluster: a centre placed far away is moved onto the data.
    @Test func kmeansEmptyClusterRecovery() throws {
        let (data, _) = try Self.blobs(seed: 3)
        let fit = try KMeans(clusters: 3, restarts: 1).refine(data, initialCenters: Matrix([[-3.0, 0.0], [0.0, 3.0], [100.0, 100.0]]))
        #expect(fit.centers.elements.allSatisfy { $0.isFinite && Swift.abs($0) < 10 })
        #expect(Set(fit.labels).count == 3)
    }
}

@Suite struct OrderingTests {
    /// `.byVariance` orders k-means clusters by their within-cluster variance (ascending), `.byMean` by centre.
    @Test func kmeansOrdering() throws {
        // Tight cluster at 10, wide cluster at 0.
        let data = Matrix(rows: 60, columns: 1) { i, _ in i < 30 ? 10 + 0.01 * Double(i % 5) : Double(i % 10) - 4.5 }
        let byMean = try KMeans(clusters: 2, ordering: .byMean(feature: 0)).fit(data, seed: 0)
        #expect(byMean.centers[0, 0] < byMean.centers[1, 0])
        let byVariance = try KMeans(clusters: 2, ordering: .byVariance(feature: 0)).fit(data, seed: 0)
        #expect(byVariance.centers[0, 0] > 9 && byVariance.centers[1, 0] < 1)
        #expect(byVariance.labels[0] == 0 && byVariance.labels[59] == 1)
    }
}
