import Foundation
import Testing

/// The strategies of the main job, in the order of the metrics.
private let lineup = ["HRP", "risk parity", "minimum variance", "maximum Sharpe", "hierarchical 40/30/20/10",
                      "CPPI on HRP (floor 0.8, m = 3)", "OLMAR-1 (ε = 10, w = 5)", "UCRP (equal weight)", "UBAH (buy and hold)"]

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

@Suite("metafolio run")
struct RunCommandTests {
    /// The main job end to end on the embedded data: one metrics object per strategy of the line-up,
    /// no progress bar on standard error (a file here, not a terminal), and the report directory holds the HTML page (naming every
    /// strategy, with its equity chart) and the JSON with every monthly weight row (fewer than 600).
    @Test("run writes the report and reports metrics for the nine strategies")
    func mainJob() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try runMetafolio(["run", "--report", directory.path, "--json"])
        #expect(result.status == 0, "\(result.error)")
        #expect(!result.error.contains("report written"), "no progress bar when standard error is not a terminal")
        let metrics = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
        #expect(metrics.map { $0["strategy"] as? String } == lineup)
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        for name in lineup {
            #expect(html.contains(name.replacingOccurrences(of: "&", with: "&amp;")), "report lacks \(name)")
        }
        #expect(html.contains("chart-equity"))
        let series = try reportSeries(try reportDocument(directory))
        #expect(series.count == lineup.count)
        for item in series {
            let dates = try #require(item["dates"] as? [Any])
            let weights = try #require(item["weights"] as? [String: Any], "\(item["name"] ?? "?") keeps its weights")
            #expect((weights["rows"] as? [Any])?.count == dates.count)
        }
        // The overlay holds cash: its weight columns end with CASH, and it is invested less than fully at times.
        let cppi = try #require(series.first { $0["name"] as? String == lineup[5] })
        let cppiWeights = try #require(cppi["weights"] as? [String: Any])
        #expect((cppiWeights["assets"] as? [String])?.last == "CASH")
        let cashColumn = try #require(cppiWeights["rows"] as? [[Double]]).map { $0.last! }
        #expect(cashColumn.contains { $0 > 0.01 })
    }

    /// `--json-weights 40` moves 40 evenly spaced rows of every series to `weightSamples`
    /// (first and last row included); `none` drops them. `--insurance tipp` swaps the overlay.
    @Test("--json-weights thins or omits the weights in report.json; --insurance tipp")
    func jsonWeights() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try runMetafolio(["run", "--report", directory.path, "--json-weights", "40"]).status == 0)
        let thinned = try reportDocument(directory)
        #expect(try reportSeries(thinned).allSatisfy { $0["weights"] == nil })
        let samples = try #require(thinned["weightSamples"] as? [[String: Any]])
        #expect(samples.count == lineup.count)
        for sample in samples {
            let indices = try #require(sample["indices"] as? [Int])
            #expect(indices.count == 40 && indices.first == 0 && indices == indices.sorted())
            #expect((sample["rows"] as? [Any])?.count == 40)
        }
        #expect(try runMetafolio(["run", "--report", directory.path, "--json-weights", "none", "--insurance", "tipp"]).status == 0)
        let omitted = try reportDocument(directory)
        #expect(try reportSeries(omitted).contains { $0["name"] as? String == "TIPP on HRP (floor 0.8, m = 3)" })
        #expect(try reportSeries(omitted).allSatisfy { $0["weights"] == nil })
        #expect(omitted["weightSamples"] == nil)
    }

    @Test("a fee outside [0, 1), a short window, a bad floor, multiplier, overlay or --json-weights exits non-zero")
    func badOptions() throws {
        #expect(try runMetafolio(["run", "--fee", "1.5"]).status != 0)
        #expect(try runMetafolio(["run", "--lookback", "3"]).status != 0)
        #expect(try runMetafolio(["run", "--floor", "1"]).status != 0)
        #expect(try runMetafolio(["run", "--multiplier", "0"]).status != 0)
        #expect(try runMetafolio(["run", "--insurance", "ppi"]).status != 0)
        let weights = try runMetafolio(["run", "--json-weights", "some"])
        #expect(weights.status != 0 && weights.error.contains("--json-weights"))
    }
}
