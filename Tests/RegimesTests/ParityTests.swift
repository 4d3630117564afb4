import Linalg
import Testing
@testable import Regimes

struct KMeansFixture: Decodable {
    let data: [[Double]], initial: [[Double]], centers: [[Double]]
    let labels: [Int]
    let inertia: Double
    let iterations: Int
    enum CodingKeys: String, CodingKey { case data, initial = "init", centers, labels, inertia, iterations }
}

struct GMMFixture: Decodable {
    struct Case: Decodable {
        let covarianceType: String
        let iterations: Int
        let regularization: Double
        let initialCovariances: [[[Double]]]
        let logLikelihood: Double
        let weights: [Double]
        let means: [[Double]]
        let covariances: [[[Double]]]
        let bic, aic: Double
    }
    let data: [[Double]], means: [[Double]]
    let weights: [Double]
    let cases: [Case]
}

struct HMMFixture: Decodable {
    struct Case: Decodable {
        let covarianceType: String
        let iterations: Int
        let covariancePrior: Double
        let initialCovariances: [[[Double]]]
        let initialLogLikelihood, logLikelihood: Double
        let startProbabilities: [Double]
        let transition, means: [[Double]]
        let covariances: [[[Double]]]
        let bic: Double
        let posteriors: [[Double]]
        let viterbi: [Int]
        let viterbiLogProbability: Double
    }
    struct Sequences: Decodable {
        let lengths: [Int]
        let iterations: Int
        let covariancePrior: Double
        let initialLogLikelihood, logLikelihood: Double
        let startProbabilities: [Double]
        let transition, means: [[Double]]
        let covariances: [[[Double]]]
        let posteriorsHead: [[Double]]
        let viterbi: [Int]
        let viterbiLogProbability: Double
    }
    let data: [[Double]], transition: [[Double]], means: [[Double]]
    let startProbabilities: [Double]
    let cases: [Case]
    let sequences: Sequences
}

/// Parity with scikit-learn 1.9 and hmmlearn 0.3 from the same initial parameters
/// (fixtures by Scripts/fixtures/regimes.py). Tolerance: 1e-8 relative (floor 1e-2) for every
/// log-likelihood and parameter after a fixed number of EM iterations; labels and Viterbi paths exactly.
@Suite struct ParityTests {
    @Test func kmeansMatchesScikitLearnLloyd() throws {
        let f: KMeansFixture = try fixtures.load("kmeans")
        let fit = try KMeans(clusters: 3, restarts: 1, ordering: .none).refine(matrix(f.data), initialCenters: matrix(f.initial))
        // Tolerance 1e-12 relative: the same means of the same points, summed in a different order.
        #expect(maxRelativeError(fit.centers.elements, matrix(f.centers).elements) < 1e-12)
        #expect(fit.labels == f.labels)
        #expect(close(fit.inertia, f.inertia, 1e-12))
        #expect(fit.iterations == f.iterations)
        #expect(fit.converged)
    }

    @Test(arguments: ["full", "diag", "spherical", "tied"])
    func gaussianMixtureMatchesScikitLearn(type: String) throws {
        let f: GMMFixture = try fixtures.load("gmm")
        let c = try #require(f.cases.first { $0.covarianceType == type })
        let covarianceType = try #require(CovarianceType(rawValue: type))
        let initial = try GaussianMixture(weights: f.weights, means: matrix(f.means), covariances: c.initialCovariances.map(matrix),
                                          covarianceType: covarianceType)
        let estimator = GaussianMixtureEstimator(components: 3, covarianceType: covarianceType, regularization: c.regularization,
                                                 maxIterations: c.iterations, tolerance: 0, ordering: .none)
        let fit = try estimator.refine(matrix(f.data), from: initial)
        #expect(fit.iterations == c.iterations)
        #expect(close(fit.logLikelihood, c.logLikelihood, 1e-8), "log L \(fit.logLikelihood) vs \(c.logLikelihood)")
        #expect(maxRelativeError(fit.model.weights, c.weights) < 1e-8)
        #expect(maxRelativeError(fit.model.means.elements, matrix(c.means).elements) < 1e-8)
        let covariances = fit.model.covariances.flatMap(\.elements), expected = c.covariances.flatMap { matrix($0).elements }
        #expect(maxRelativeError(covariances, expected) < 1e-8, "\(type) covariances")
        #expect(close(fit.bic, c.bic, 1e-8) && close(fit.aic, c.aic, 1e-8), "BIC \(fit.bic) vs \(c.bic), AIC \(fit.aic) vs \(c.aic)")
    }

    @Test(arguments: ["full", "diag", "spherical", "tied"])
    func gaussianHMMMatchesHmmlearn(type: String) throws {
        let f: HMMFixture = try fixtures.load("hmm")
        let c = try #require(f.cases.first { $0.covarianceType == type })
        let covarianceType = try #require(CovarianceType(rawValue: type))
        let data = matrix(f.data)
        let initial = try GaussianHMM(startProbabilities: f.startProbabilities, transition: matrix(f.transition), means: matrix(f.means),
                                      covariances: c.initialCovariances.map(matrix), covarianceType: covarianceType)
        #expect(close(try initial.logLikelihood(data), c.initialLogLikelihood, 1e-10))
        let estimator = BaumWelch(states: 2, covarianceType: covarianceType, restarts: 1, maxIterations: c.iterations, tolerance: -1e300,
                                  covariancePrior: c.covariancePrior, covarianceFloor: 0, ordering: .none)
        let fit = try estimator.refine(data, from: initial)
        let model = fit.model
        #expect(fit.iterations == c.iterations)
        #expect(close(fit.logLikelihood, c.logLikelihood, 1e-8), "log L \(fit.logLikelihood) vs \(c.logLikelihood)")
        #expect(maxRelativeError(model.startProbabilities, c.startProbabilities) < 1e-8)
        #expect(maxRelativeError(model.transition.elements, matrix(c.transition).elements) < 1e-8)
        #expect(maxRelativeError(model.means.elements, matrix(c.means).elements) < 1e-8)
        let covariances = model.covariances.flatMap(\.elements), expected = c.covariances.flatMap { matrix($0).elements }
        #expect(maxRelativeError(covariances, expected) < 1e-8, "\(type) covariances")
        #expect(close(fit.bic, c.bic, 1e-8))
        // Posteriors are probabilities: compared absolutely at 1e-8.
        #expect(maxRelativeError(try model.posteriors(data).elements, matrix(c.posteriors).elements, floor: 1) < 1e-8)
        let viterbi = try model.viterbi(data)
        #expect(viterbi.states == c.viterbi)
        #expect(close(viterbi.logProbability, c.viterbiLogProbability, 1e-10))
    }

    /// Three independent sequences stacked with `lengths` (hmmlearn's convention: each starts from π,
    /// none is linked to the next); full covariance, 10 iterations; tolerances as above.
    @Test func gaussianHMMWithLengthsMatchesHmmlearn() throws {
        let f: HMMFixture = try fixtures.load("hmm")
        let c = f.sequences, full = try #require(f.cases.first { $0.covarianceType == "full" })
        let data = matrix(f.data)
        let initial = try GaussianHMM(startProbabilities: f.startProbabilities, transition: matrix(f.transition), means: matrix(f.means),
                                      covariances: full.initialCovariances.map(matrix))
        #expect(close(try initial.logLikelihood(data, lengths: c.lengths), c.initialLogLikelihood, 1e-10))
        let estimator = BaumWelch(states: 2, restarts: 1, maxIterations: c.iterations, tolerance: -1e300,
                                  covariancePrior: c.covariancePrior, covarianceFloor: 0, ordering: .none)
        let fit = try estimator.refine(data, lengths: c.lengths, from: initial)
        let model = fit.model
        #expect(close(fit.logLikelihood, c.logLikelihood, 1e-8), "log L \(fit.logLikelihood) vs \(c.logLikelihood)")
        #expect(maxRelativeError(model.startProbabilities, c.startProbabilities) < 1e-8)
        #expect(maxRelativeError(model.transition.elements, matrix(c.transition).elements) < 1e-8)
        #expect(maxRelativeError(model.means.elements, matrix(c.means).elements) < 1e-8)
        #expect(maxRelativeError(model.covariances.flatMap(\.elements), c.covariances.flatMap { matrix($0).elements }) < 1e-8)
        // Rows 145–154 straddle the first sequence boundary (row 150).
        let posteriors = try model.posteriors(data, lengths: c.lengths)
        #expect(maxRelativeError(posteriors.rows(145..<155).elements, matrix(c.posteriorsHead).elements, floor: 1) < 1e-8)
        let viterbi = try model.viterbi(data, lengths: c.lengths)
        #expect(viterbi.states == c.viterbi)
        #expect(close(viterbi.logProbability, c.viterbiLogProbability, 1e-10))
        // Bad lengths name what is wrong.
        #expect(throws: RegimesError.invalidArgument(operation: "GaussianHMM.refine", message: "lengths[1] = 0 must be ≥ 1")) {
            try estimator.refine(data, lengths: [200, 0, 200], from: initial)
        }
        #expect(throws: RegimesError.invalidArgument(operation: "GaussianHMM.logLikelihood",
                                                     message: "lengths sum to 399 but the data have 400 observations")) {
            try initial.logLikelihood(data, lengths: [200, 199])
        }
    }
}
