import Foundation
import Testing

@Suite("metafolio run")
struct RunCommandTests {
    /// The main job end to end on the embedded data: one metrics object per strategy of the line-up,
    /// and the report directory holds the HTML page (naming every strategy, with its equity chart) and the JSON.
    @Test("run writes the report and reports metrics for the seven strategies")
    func mainJob() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("run-\(UUID().uuidString)")
        let result = try runMetafolio(["run", "--report", directory.path, "--json"])
        #expect(result.status == 0)
        let metrics = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [[String: Any]])
        #expect(metrics.count == 7)
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        for name in ["HRP", "risk parity", "minimum variance", "maximum Sharpe", "hierarchical 40/30/20/10",
                     "UCRP (equal weight)", "UBAH (buy and hold)"] {
            #expect(html.contains(name), "report lacks \(name)")
        }
        #expect(html.contains("chart-equity"))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("report.json").path))
    }

    @Test("a fee outside [0, 1) or a short window exits non-zero")
    func badOptions() throws {
        #expect(try runMetafolio(["run", "--fee", "1.5"]).status != 0)
        #expect(try runMetafolio(["run", "--lookback", "3"]).status != 0)
    }
}
