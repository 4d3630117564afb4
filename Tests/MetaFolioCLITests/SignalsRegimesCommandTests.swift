import Foundation
import Testing

@Suite("metafolio regimes and decompose")
struct SignalsRegimesCommandTests {
    @Test("regimes --json: one state per observation, states sorted by mean, same seed same fit")
    func regimesJSON() throws {
        let arguments = ["regimes", "--model", "hmm", "--states", "2", "--dataset", "sp500-index",
                         "--log-returns", "--seed", "7", "--json"]
        let object = try jsonObject(arguments)
        let observations = try #require(object["observations"] as? Int)
        let sequence = try #require(object["sequence"] as? [Int])
        #expect(observations == 8312)  // 8313 closes give 8312 log returns
        #expect(sequence.count == observations)
        #expect(Set(sequence).isSubset(of: [0, 1]))
        let means = try #require(object["means"] as? [Any])
        let firstComponents = means.compactMap { ($0 as? [Double])?.first ?? ($0 as? Double) }
        #expect(firstComponents.count == 2)
        #expect(firstComponents == firstComponents.sorted(), "states are documented as sorted by mean")
        #expect((object["logLikelihood"] as? Double)?.isFinite == true)
        // Tolerance: none; a fixed seed must reproduce the fit exactly.
        let again = try jsonObject(arguments)
        #expect(again["logLikelihood"] as? Double == object["logLikelihood"] as? Double)
    }

    @Test("decompose --json: details plus smooth rebuild the series")
    func decomposeJSON() throws {
        let object = try jsonObject(["decompose", "--wavelet", "db4", "--levels", "3", "--dataset", "sp500-index", "--json"])
        let series = try #require(object["series"] as? [Double])
        let smooth = try #require(object["smooth"] as? [Double])
        let details = try #require(object["details"] as? [[Double]])
        #expect(details.count == 3)
        // Tolerance: 1e-12 relative to the index level (MRA reconstruction is exact up to rounding).
        let scale = series.map(abs).max() ?? 1
        for t in stride(from: 0, to: series.count, by: 97) {
            let rebuilt = smooth[t] + details.reduce(0) { $0 + $1[t] }
            #expect(abs(rebuilt - series[t]) <= 1e-12 * scale, "t = \(t)")
        }
    }

    @Test("bad input exits non-zero", arguments: [
        ["regimes", "--model", "hmm", "--states", "2", "--dataset", "no-such-dataset"],
        ["regimes", "--model", "nope", "--states", "2", "--dataset", "sp500-index"],
        ["decompose", "--wavelet", "no-such-wavelet", "--levels", "2", "--dataset", "sp500-index"],
        ["decompose", "--wavelet", "haar", "--levels", "0", "--dataset", "sp500-index"],
    ])
    func badInput(arguments: [String]) throws {
        #expect(try runMetafolio(arguments).status != 0)
    }
}
