import Foundation
import Testing

/// `metafolio forecast`: the quick run end to end, determinism, the HTML/JSON report, and usage and data errors.
@Suite struct ForecastCommandTests {
    static let quick = ["forecast", "--quick", "--seeds", "1", "--horizons", "1,5", "--json", "--no-report"]

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
                                     "--models", "cnn-lstm,unet", "--no-report"])
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

    /// A quick report run (one member, both slope sections off) into `directory`.
    static func report(into directory: String, models: String = "lstm-attention,tcn,transformer") throws -> CommandResult {
        try runMetafolio(["forecast", "--quick", "--seeds", "1", "--horizons", "1,5", "--no-slope-classifier", "--quiet",
                          "--models", models, "--report", directory])
    }

    @Test func theReportHoldsEverySeriesAtEveryTestOriginAndIsDeterministic() throws {
        let manager = FileManager.default
        let root = manager.temporaryDirectory.appendingPathComponent("metafolio-forecast-report-\(UUID().uuidString)")
        defer { try? manager.removeItem(at: root) }
        let first = root.appendingPathComponent("first"), second = root.appendingPathComponent("second")
        let run = try Self.report(into: first.path)
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("Report: \(first.appendingPathComponent("report.html").path)"))
        let json = try Data(contentsOf: first.appendingPathComponent("report.json"))
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        #expect(object["format"] as? String == "metafolio.forecast-report")
        let dates = try #require(object["dates"] as? [String])
        #expect(dates.count == 150 && dates.allSatisfy { $0.count == 10 && $0.dropFirst(4).first == "-" })
        let models = ["lstm-attention", "tcn", "transformer"]
        #expect(object["models"] as? [String] == models)
        let horizons = try #require(object["horizons"] as? [[String: Any]])
        #expect(horizons.map { $0["horizon"] as? Int } == [1, 5])
        for horizon in horizons {
            #expect((horizon["realized"] as? [Any])?.count == dates.count)
            let forecasts = try #require(horizon["forecasts"] as? [String: [Double]])
            #expect(Set(forecasts.keys) == Set(models + ["ensemble", "zero", "historical-mean", "last-value", "ar1"]))
            #expect(forecasts.values.allSatisfy { $0.count == dates.count })
            let weights = try #require(horizon["ensembleWeights"] as? [String: [Double]])
            #expect(Set(weights.keys) == Set(models))
            for i in dates.indices {
                let total = models.reduce(0.0) { $0 + (weights[$1]?[i] ?? .nan) }
                #expect(abs(total - 1) < 1e-9)
            }
        }
        let wavelet = try #require(object["wavelet"] as? [[String: Any]])
        #expect(wavelet.map { $0["name"] as? String } == ["mraD1", "mraD2", "mraS2"])
        #expect(wavelet.allSatisfy { ($0["values"] as? [Double])?.count == dates.count })
        let attention = try #require(object["attention"] as? [String: Any])
        #expect(attention["window"] as? Int == 10)
        let rows = try #require(attention["weights"] as? [[Double]])
        #expect(rows.count == dates.count && rows.allSatisfy { $0.count == 10 && abs($0.reduce(0, +) - 1) < 1e-6 })
        let charts = try #require(object["charts"] as? [String])
        let html = try String(contentsOf: first.appendingPathComponent("report.html"), encoding: .utf8)
        for id in ["chart-forecast-h1", "chart-forecast-h5", "chart-wavelet-mraD1", "chart-wavelet-mraS2", "chart-attention",
                   "chart-ensemble-weights-h1", "chart-ensemble-weights-h5"] {
            #expect(charts.contains(id) && html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"\(id)\""), "\(id)")
        }
        #expect(html.components(separatedBy: "<svg ").count - 1 == charts.count)
        #expect(html.contains("<rect ") && html.contains("id=\"table-horizon-1\"") && html.contains("id=\"table-horizon-5\""))
        // Self-contained: no scripts, no external resources.
        #expect(!html.contains("<script") && !html.contains(" src=") && !html.contains("href=\"http") && !html.contains("url("))
        let again = try Self.report(into: second.path)
        #expect(again.status == 0, "\(again.error)")
        #expect(try Data(contentsOf: second.appendingPathComponent("report.json")) == json)
    }

    @Test func withoutLSTMAttentionTheReportHasNoHeatMapAndAnUnwritableDirectoryFails() throws {
        let manager = FileManager.default
        let root = manager.temporaryDirectory.appendingPathComponent("metafolio-forecast-report-\(UUID().uuidString)")
        defer { try? manager.removeItem(at: root) }
        try manager.createDirectory(at: root, withIntermediateDirectories: true)
        let run = try Self.report(into: root.appendingPathComponent("tcn").path, models: "tcn")
        #expect(run.status == 0, "\(run.error)")
        let html = try String(contentsOf: root.appendingPathComponent("tcn/report.html"), encoding: .utf8)
        #expect(html.contains("id=\"chart-forecast-h1\"") && !html.contains("chart-attention"))
        // A regular file where a parent directory of the report should be.
        let blocker = root.appendingPathComponent("blocker")
        try Data("x".utf8).write(to: blocker)
        let failed = try Self.report(into: blocker.appendingPathComponent("report").path, models: "tcn")
        #expect(failed.status == 1)
        #expect(failed.error.contains("cannot write") && failed.error.contains(blocker.path), "\(failed.error)")
        #expect(try manager.contentsOfDirectory(atPath: root.path).sorted() == ["blocker", "tcn"])
        #expect(try Data(contentsOf: blocker) == Data("x".utf8))
    }
}
