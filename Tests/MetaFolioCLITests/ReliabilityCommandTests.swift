import Foundation
import Testing

/// Inputs that used to trap, fail or differ between runs, and now work.
@Suite("metafolio reliability regressions")
struct ReliabilityCommandTests {
    /// A scratch directory; the caller removes it.
    func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reliability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("backtest --report on prices rising to 1e296 writes the report (the chart axis no longer traps)")
    func hugePriceReport() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd"
        formatter.timeZone = TimeZone(identifier: "UTC")
        let start = Date(timeIntervalSince1970: 1_577_836_800)   // 2020-01-01
        let rows = (0..<600).map { t in
            formatter.string(from: start.addingTimeInterval(86_400 * Double(t))) + ",\(pow(10, 296 * Double(t) / 599)),\(50 + t % 4)"
        }
        let csv = directory.appendingPathComponent("p.csv")
        try ("date,A,B\n" + rows.joined(separator: "\n") + "\n").write(to: csv, atomically: true, encoding: .utf8)
        let result = try runMetafolio(["backtest", "--prices", csv.path, "--strategy", "fixed", "--weights", "A=1", "--rebalance", "every-period",
                                       "--report", directory.appendingPathComponent("r").path])
        #expect(result.status == 0, "\(result.error)")
        let html = try String(contentsOf: directory.appendingPathComponent("r/report.html"), encoding: .utf8)
        #expect(html.contains("<svg"))
    }

    @Test("decompose --series takes negative values (returns)")
    func negativeSeries() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let csv = directory.appendingPathComponent("r.csv")
        let rows = (0..<32).map { String(format: "2020-01-%02d,%g", $0 % 31 + 1, Double($0 % 5) - 2.5) }
        let text = "date,R\n" + rows.prefix(31).joined(separator: "\n") + "\n"
        try text.write(to: csv, atomically: true, encoding: .utf8)
        let result = try runMetafolio(["decompose", "--series", csv.path, "--levels", "2", "--wavelet", "haar", "--json"])
        #expect(result.status == 0, "\(result.error)")
    }

    @Test("run --lookback 12 completes, telling in plain words where maximum Sharpe fell back")
    func shortLookbackFallsBack() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try runMetafolio(["run", "--lookback", "12", "--report", directory.path, "--json-weights", "none"])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.error.contains("note: maximum Sharpe fell back"))
        #expect(result.error.contains("held minimum variance instead"))
        #expect(!result.error.contains("κ"), "no solver jargon")
    }

    /// At a 0.9 fee the cost solve converges for every strategy (it used to stop after 200
    /// iterations): the run completes and reports every line, however badly such costs treat them.
    @Test("run --fee 0.9: the cost solve converges and the run completes")
    func highFee() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try runMetafolio(["run", "--fee", "0.9", "--report", directory.path, "--json-weights", "none"])
        #expect(!result.error.contains("no convergence"))
        #expect(result.status == 0 && result.output.contains("OLMAR-1"), "\(result.error)")
        let report = try String(contentsOf: directory.appendingPathComponent("report.json"), encoding: .utf8)
        #expect(report.contains("UCRP (equal weight)") && report.contains("OLMAR-1"))
    }

    @Test("run --quiet writes nothing on standard error")
    func quietRun() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try runMetafolio(["run", "--quick", "--quiet", "--report", directory.path, "--json-weights", "none"])
        #expect(result.status == 0 && result.error.isEmpty, "\(result.error)")
    }

    @Test("usage errors exit 2 and help on a real command exits 0")
    func exitCodes() throws {
        #expect(try runMetafolio(["backtest", "--nope"]).status == 2)
        #expect(try runMetafolio(["help", "nope"]).status == 2)
        let help = try runMetafolio(["help", "backtest"])
        #expect(help.status == 0 && help.output.contains("backtest"))
        #expect(try runMetafolio(["--help"]).output.contains("Exit status"))
    }
}
