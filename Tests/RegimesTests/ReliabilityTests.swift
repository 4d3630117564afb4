import Linalg
import Testing
@testable import Regimes

/// The regime models refuse data whose squared differences would overflow, and state counts
/// beyond the documented limit, with typed errors instead of trapping.
@Suite("Regimes input limits")
struct RegimesReliabilityTests {
    let spread = try! Matrix(rows: 4, columns: 1, elements: [1, 2, 1e200, 3])

    @Test("values beyond 1e150 throw valueOutOfRange in k-means, GMM and HMM")
    func hugeValues() {
        let expected = RegimesError.valueOutOfRange(operation: "KMeans.fit", row: 2, column: 0, value: 1e200,
                                                    limit: RegimesLimits.maximumMagnitude)
        #expect(throws: expected) { try KMeans(clusters: 2).fit(spread, seed: 0) }
        #expect(throws: RegimesError.self) { try GaussianMixtureEstimator(components: 2).fit(spread, seed: 0) }
        #expect(throws: RegimesError.self) { try BaumWelch(states: 2).fit(spread, seed: 0) }
    }

    @Test("values just inside the limit still cluster")
    func largeButInside() throws {
        let data = try Matrix(rows: 4, columns: 1, elements: [1, 2, 1e150, 3])
        let fit = try KMeans(clusters: 2).fit(data, seed: 0)
        #expect(fit.inertia.isFinite && Set(fit.labels) == [0, 1])
    }

    @Test("more states than the limit throws before allocating")
    func tooManyStates() {
        let data = try! Matrix(rows: 3, columns: 1, elements: [1, 2, 3])
        let states = RegimesLimits.maximumStates + 1
        #expect(throws: RegimesError.invalidArgument(operation: "GaussianHMM.fit",
                                                     message: "states \(states) exceeds the limit of \(RegimesLimits.maximumStates)")) {
            try BaumWelch(states: states).fit(data, seed: 0)
        }
        #expect(throws: RegimesError.self) { try KMeans(clusters: states).fit(data, seed: 0) }
        #expect(throws: RegimesError.self) { try GaussianMixtureEstimator(components: states).fit(data, seed: 0) }
    }
}
