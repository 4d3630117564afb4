import Foundation
import Testing

@Suite("metafolio backtest")
struct BacktestCommandTests {
    @Test("--json prints the result and metrics; final wealth equals the product of net returns (1e-12)")
    func json() throws {
        let object = try jsonObject(["backtest", "--dataset", "sp500-stocks", "--strategy", "equal", "--rebalance", "quarterly",
                                     "--fee", "0.001", "--json"])
        let backtest = try #require(object["result"] as? [String: Any])
        let metrics = try #require(object["metrics"] as? [String: Any])
        let wealth = try #require(backtest["wealth"] as? [Double])
        let net = try #require(backtest["netReturns"] as? [Double])
        let product = net.reduce(wealth[0]) { $0 * (1 + $1) }
        #expect(abs(product - wealth.last!) <= 1e-12 * wealth.last!)
        #expect((metrics["finalWealth"] as? Double) == wealth.last!)
        #expect((backtest["decisions"] as? [Any])?.isEmpty == false)
    }

    @Test("a config file works, and bad input exits non-zero with a message")
    func configAndErrors() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("metafolio-backtest-\(getpid()).json")
        try Data(#"{"dataset": "sp500-stocks", "strategy": "fixed", "weights": "AAPL=0.5,MSFT=0.5", "rebalance": "annual"}"#.utf8)
            .write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("metafolio-backtest-report-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = try runMetafolio(["backtest", "--config", url.path, "--report", directory.path])
        #expect(table.status == 0)
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(html.contains("<svg"))
        #expect(table.output.contains("Sharpe ratio"))
        let unknown = try runMetafolio(["backtest", "--dataset", "sp500-stocks", "--strategy", "oracle"])
        #expect(unknown.status != 0)
        let badWeight = try runMetafolio(["backtest", "--dataset", "sp500-stocks", "--strategy", "fixed", "--weights", "NOPE=1"])
        #expect(badWeight.status != 0)
        let noData = try runMetafolio(["backtest"])
        #expect(noData.status != 0)
    }
}
