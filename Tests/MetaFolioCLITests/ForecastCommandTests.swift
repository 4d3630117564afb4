import Foundation
import Testing

/// `metafolio forecast`: the quick run end to end, determinism, and usage and data errors.
@Suite struct ForecastCommandTests {
    static let quick = ["forecast", "--quick", "--seeds", "1", "--horizons", "1,5", "--json"]

    @Test func quickRunScoresEveryModelAndBaselineAndIsDeterministic() throws {
        let first = try jsonObject(Self.quick)
        let horizons = try #require(first["horizons"] as? [[String: Any]])
        #expect(horizons.map { $0["horizon"] as? Int } == [1, 5])
        for report in horizons {
            let scores = try #require(report["scores"] as? [[String: Any]])
            #expect(scores.map { $0["name"] as? String }
                    == ["lstm-attention", "tcn", "transformer", "ensemble", "zero", "historical-mean", "last-value", "ar1"])
            for score in scores {
                let mse = try #require(score["mse"] as? Double)
                #expect(mse.isFinite && mse > 0)
                #expect((score["dieboldMariano"] != nil) == (score["kind"] as? String != "baseline"))
            }
        }
        let second = try jsonObject(Self.quick)
        let scores = { (object: [String: Any]) in
            (object["horizons"] as? [[String: Any]] ?? []).flatMap { ($0["scores"] as? [[String: Any]] ?? []).map { $0["mse"] as? Double } }
        }
        #expect(scores(first) == scores(second))
        // The slope-classifier section: three classifiers, accuracy and macro-F1 in [0, 1], the same on a second run.
        let slope = try #require(first["slopeClassifier"] as? [String: Any])
        #expect(slope["horizon"] as? Int == 5)
        let rows = try #require(slope["rows"] as? [[String: Any]])
        #expect(rows.map { $0["name"] as? String } == ["meta-trained (maml)", "conventional", "majority class"])
        let figures = { (object: [String: Any]) in
            ((object["slopeClassifier"] as? [String: Any])?["rows"] as? [[String: Any]] ?? []).flatMap { row in
                ["accuracy", "macroF1"].map { ((row[$0] as? [String: Any])?["mean"] as? Double) ?? -1 }
            }
        }
        #expect(figures(first).count == 6 && figures(first).allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(figures(first) == figures(second))
    }

    @Test func theCNNLSTMAndUNetModelsRunOnRequest() throws {
        let object = try jsonObject(["forecast", "--quick", "--seeds", "1", "--horizons", "1", "--json", "--no-slope-classifier",
                                     "--models", "cnn-lstm,unet"])
        let horizons = try #require(object["horizons"] as? [[String: Any]])
        let scores = try #require(horizons.first?["scores"] as? [[String: Any]])
        #expect(scores.map { $0["name"] as? String } == ["cnn-lstm", "unet", "ensemble", "zero", "historical-mean", "last-value", "ar1"])
        #expect(scores.allSatisfy { (($0["mse"] as? Double) ?? .nan).isFinite })
    }

    @Test func stackedCombinationAndMonteCarloDropoutRunOnRequest() throws {
        let base = ["forecast", "--quick", "--seeds", "1", "--horizons", "1", "--json", "--no-slope-classifier"]
        let stacked = try jsonObject(base + ["--combination", "stacked", "--uncertainty", "mc-dropout", "--dropout-passes", "3"])
        #expect(stacked["combination"] as? String == "stacked")
        #expect(stacked["uncertainty"] as? String == "mc-dropout(rate 0.1, 3 passes)")
        let plain = try jsonObject(base)
        #expect(plain["combination"] as? String == "inverse-variance" && plain["uncertainty"] as? String == "ensemble")
        let mse = { (object: [String: Any], name: String) in
            ((object["horizons"] as? [[String: Any]])?.first?["scores"] as? [[String: Any]])?.first { $0["name"] as? String == name }?["mse"] as? Double
        }
        #expect(mse(stacked, "ensemble").map(\.isFinite) == true)
        #expect(mse(stacked, "tcn") != mse(plain, "tcn"))
        #expect(mse(stacked, "zero") == mse(plain, "zero"))
    }

    @Test func badInputExitsWithAMessage() throws {
        let cases: [([String], Int32, String)] = [
            (["forecast", "--quick", "--models", "lstm,tcn"], 2, "--models"),
            (["forecast", "--quick", "--horizons", "5,1"], 2, "--horizons"),
            (["forecast", "--quick", "--dataset", "sp500-stocks"], 2, "--asset"),
            (["forecast", "--quick", "--dataset", "vix"], 2, "--dataset"),
            (["forecast", "--quick", "--seeds", "0"], 2, "--seeds"),
            (["forecast", "--quick", "--slope-method", "sgd"], 2, "--slope-method"),
            (["forecast", "--quick", "--horizons", "1,5", "--slope-horizon", "20"], 2, "--slope-horizon"),
            (["forecast", "--quick", "--slope-seeds", "0"], 2, "--slope-seeds"),
            (["forecast", "--quick", "--combination", "median"], 2, "--combination"),
            (["forecast", "--quick", "--combination", "stacked", "--validation-fraction", "0"], 2, "--validation-fraction"),
            (["forecast", "--quick", "--uncertainty", "mc-dropout", "--dropout-rate", "1"], 2, "--dropout-rate"),
            (["forecast", "--quick", "--uncertainty", "mc-dropout", "--dropout-passes", "0"], 2, "--dropout-passes"),
            (["forecast", "--quick", "--dataset", "sp500-stocks", "--asset", "NOPE"], 1, "NOPE"),
            (["forecast", "--test-start", "2030-01-01"], 1, "--test-start"),
        ]
        for (arguments, status, fragment) in cases {
            let result = try runMetafolio(arguments)
            #expect(result.status == status, "\(arguments): \(result.error)")
            #expect(result.error.contains(fragment), "\(arguments): \(result.error)")
            #expect(result.output.isEmpty)
        }
    }
}
