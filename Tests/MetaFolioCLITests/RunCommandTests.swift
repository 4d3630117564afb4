import Foundation
import Testing

/// The lines of `metafolio run --quick`, in the order of the metrics: the allocator lines, then the
/// classical line-up and the benchmarks.
private let quickLineup = ["meta-allocator: maml", "meta-allocator: conventional", "meta-allocator: equal mixture",
                           "HRP", "risk parity", "minimum variance", "maximum Sharpe",
                           "hierarchical (equity 40 %, bond 30 %, etf 20 %, derivative 10 %; HRP within classes)",
                           "TIPP on HRP (floor 0.8, m = 3)", "OLMAR-1 (ε = 10, w = 5)", "UCRP (equal weight)", "UBAH (buy and hold)"]

/// The decoded `report.json` of a report directory.
private func reportDocument(_ directory: URL) throws -> [String: Any] {
    let data = try Data(contentsOf: directory.appendingPathComponent("report.json"))
    return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
}

/// The series objects of a decoded report document.
private func reportSeries(_ document: [String: Any]) throws -> [[String: Any]] {
    let report = try #require(document["report"] as? [String: Any])
    return try #require(report["series"] as? [[String: Any]])
}

private func temporaryReportDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
}

@Suite("metafolio run")
struct RunCommandTests {
    /// The main job end to end on the embedded data (quick settings): one metrics object per line,
    /// the spread over seeds, and a report whose HTML names every line and holds the allocator's
    /// decision log, and whose JSON keeps every monthly weight row.
    @Test("run --quick writes the report and reports metrics for every line")
    func mainJob() throws {
        let directory = temporaryReportDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try runMetafolio(["run", "--quick", "--report", directory.path, "--json"])
        #expect(result.status == 0, "\(result.error)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let metrics = try #require(summary["metrics"] as? [[String: Any]])
        #expect(metrics.map { $0["strategy"] as? String } == quickLineup)
        let ucrp = try #require(metrics.first { $0["strategy"] as? String == "UCRP (equal weight)" })
        #expect(abs(try #require(ucrp["beta"] as? Double) - 1) <= 1e-12, "the benchmark's β against itself (1e-12)")
        let spreads = try #require(summary["spreads"] as? [[String: Any]])
        #expect(spreads.map { $0["training"] as? String } == ["maml", "conventional", "equal mixture"])
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        for name in quickLineup {
            #expect(html.contains(name.replacingOccurrences(of: "&", with: "&amp;")), "report lacks \(name)")
        }
        #expect(html.contains("Decision log of meta-allocator: maml"))
        #expect(html.contains("P(stressed)"))
        for chart in ["chart-composition-1", "chart-composition-2", "chart-composition-3"] {
            #expect(html.contains("id=\"\(chart)\""), "regime probabilities, mixture weights and class exposures: \(chart)")
        }
        let series = try reportSeries(try reportDocument(directory))
        #expect(series.count == quickLineup.count)
        for item in series {
            let dates = try #require(item["dates"] as? [Any])
            let weights = try #require(item["weights"] as? [String: Any], "\(item["name"] ?? "?") keeps its weights")
            #expect((weights["rows"] as? [Any])?.count == dates.count)
        }
        // The allocator and the overlay hold cash: their weight columns end with CASH.
        for name in ["meta-allocator: maml", "TIPP on HRP (floor 0.8, m = 3)"] {
            let line = try #require(series.first { $0["name"] as? String == name })
            let weights = try #require(line["weights"] as? [String: Any])
            #expect((weights["assets"] as? [String])?.last == "CASH")
        }
    }

    /// Same arguments, same bytes: two processes write identical `report.json` files (Swift seeds
    /// its hashing per process, so any sum over a dictionary's order would show here).
    @Test("two runs with the same seeds write byte-identical report.json files")
    func deterministic() throws {
        let first = temporaryReportDirectory(), second = temporaryReportDirectory()
        defer {
            try? FileManager.default.removeItem(at: first)
            try? FileManager.default.removeItem(at: second)
        }
        #expect(try runMetafolio(["run", "--quick", "--seeds", "2", "--report", first.path]).status == 0)
        #expect(try runMetafolio(["run", "--quick", "--seeds", "2", "--report", second.path]).status == 0)
        let a = try Data(contentsOf: first.appendingPathComponent("report.json"))
        let b = try Data(contentsOf: second.appendingPathComponent("report.json"))
        #expect(a == b)
        #expect(String(decoding: a, as: UTF8.self).contains("maml (seed 2)"))
    }

    /// `--json-weights 40` moves 40 evenly spaced rows of every series to `weightSamples`
    /// (first and last row included); `none` drops them. `--insurance cppi` swaps the overlay.
    @Test("--json-weights thins or omits the weights in report.json; --insurance cppi")
    func jsonWeights() throws {
        let directory = temporaryReportDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try runMetafolio(["run", "--quick", "--report", directory.path, "--json-weights", "40"]).status == 0)
        let thinned = try reportDocument(directory)
        #expect(try reportSeries(thinned).allSatisfy { $0["weights"] == nil })
        let samples = try #require(thinned["weightSamples"] as? [[String: Any]])
        #expect(samples.count == quickLineup.count)
        for sample in samples {
            let indices = try #require(sample["indices"] as? [Int])
            #expect(indices.count == 40 && indices.first == 0 && indices == indices.sorted())
            #expect((sample["rows"] as? [Any])?.count == 40)
        }
        #expect(try runMetafolio(["run", "--quick", "--report", directory.path, "--json-weights", "none", "--insurance", "cppi"]).status == 0)
        let omitted = try reportDocument(directory)
        #expect(try reportSeries(omitted).contains { $0["name"] as? String == "CPPI on HRP (floor 0.8, m = 3)" })
        #expect(try reportSeries(omitted).allSatisfy { $0["weights"] == nil })
        #expect(omitted["weightSamples"] == nil)
    }

    /// Reptile with a GMM in place of MAML with an HMM: the main line is renamed, the rest runs as before.
    @Test("--meta-learner reptile --regime-model gmm")
    func otherMetaLearner() throws {
        let directory = temporaryReportDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try runMetafolio(["run", "--quick", "--meta-learner", "reptile", "--regime-model", "gmm", "--report", directory.path, "--json"])
        #expect(result.status == 0, "\(result.error)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let names = try #require(summary["metrics"] as? [[String: Any]]).compactMap { $0["strategy"] as? String }
        #expect(names.first == "meta-allocator: reptile" && names.count == quickLineup.count)
    }

    @Test("bad --fee, --lookback, --floor, --multiplier, --insurance, --profile, --seeds or --json-weights exits non-zero")
    func badOptions() throws {
        for arguments in [["--fee", "1.5"], ["--lookback", "3"], ["--floor", "1"], ["--multiplier", "0"], ["--insurance", "ppi"],
                          ["--profile", "reckless"], ["--seeds", "0"], ["--seeds", "21"],
                          ["--meta-learner", "sgd"], ["--regime-model", "kmeans"]] {
            let result = try runMetafolio(["run"] + arguments)
            #expect(result.status != 0 && result.error.contains(arguments[0]), "\(arguments): \(result.error)")
        }
        let weights = try runMetafolio(["run", "--json-weights", "some"])
        #expect(weights.status != 0 && weights.error.contains("--json-weights"))
    }
}
