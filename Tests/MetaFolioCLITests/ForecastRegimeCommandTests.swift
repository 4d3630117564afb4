import Foundation
import Testing

/// `metafolio forecast --regime-features`: the quick run with regime-probability inputs, and its usage errors.
@Suite struct ForecastRegimeCommandTests {
    static let quick = ["forecast", "--quick", "--seeds", "1", "--horizons", "1", "--json", "--no-report", "--no-slope-classifier",
                        "--models", "tcn"]

    @Test func quickRunWithRegimeFeaturesScoresEveryLineAndIsDeterministic() throws {
        let mse = { (object: [String: Any]) in
            ((object["horizons"] as? [[String: Any]])?.first?["scores"] as? [[String: Any]] ?? []).map { $0["mse"] as? Double }
        }
        let plain = try jsonObject(Self.quick)
        #expect(plain["regimeFeatures"] as? String == "none")
        for model in ["hmm", "gmm"] {
            let first = try jsonObject(Self.quick + ["--regime-features", model, "--regime-states", "2"])
            #expect(first["regimeFeatures"] as? String == "\(model)(2 states)")
            let scores = mse(first)
            #expect(scores.count == 6 && scores.allSatisfy { ($0 ?? .nan).isFinite })
            #expect(scores == mse(try jsonObject(Self.quick + ["--regime-features", model, "--regime-states", "2"])))
            // Other inputs change the network line, not the baselines.
            #expect(scores[0] != mse(plain)[0] && scores.suffix(4) == mse(plain).suffix(4))
        }
    }

    @Test func badRegimeSettingsExitWithAMessage() throws {
        let cases: [([String], String)] = [
            (["forecast", "--quick", "--regime-features", "kmeans"], "--regime-features"),
            (["forecast", "--quick", "--regime-features", "hmm", "--regime-states", "1"], "--regime-states"),
            (["forecast", "--quick", "--regime-states", "7"], "--regime-states"),
            (["forecast", "--quick", "--regime-states", "three"], "--regime-states"),
        ]
        for (arguments, fragment) in cases {
            let result = try runMetafolio(arguments)
            #expect(result.status == 2, "\(arguments): \(result.error)")
            #expect(result.error.contains(fragment), "\(arguments): \(result.error)")
            #expect(result.output.isEmpty)
        }
    }
}
