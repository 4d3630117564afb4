import Foundation
import Linalg
import Market
import Portfolio
import Testing
@testable import Backtest

/// Extreme but valid data must not trap the engine, the metrics or the report; failures are typed
/// errors; the report's two files change together or not at all.
/// A subnormal wealth (1e-311), written without a literal that would warn of underflow.
private let tiny = Double.leastNormalMagnitude / 2_000

@Suite("Backtest reliability")
struct BacktestReliabilityTests {
    // MARK: Charts

    @Test("log axes over equity curves reaching 1e300 or 1e-311 have finite, positive ticks",
          arguments: [(1.0, 1e300), (tiny, 1.0), (tiny, 1e300), (1e300, 1.7e308),
                      // Wholly below 1e-307 (a fuzz-found trap: an empty decade range).
                      (Double.leastNonzeroMagnitude * 42, Double.leastNormalMagnitude / 8)])
    func extremeLogAxis(_ range: (Double, Double)) {
        let axis = ValueAxis.log(minimum: range.0, maximum: range.1, style: .growth)
        #expect(axis.lower > 0 && axis.upper.isFinite && axis.lower <= range.0 && axis.upper >= range.1)
        #expect(!axis.ticks.isEmpty && axis.ticks.allSatisfy { $0.value.isFinite && $0.value > 0 })
    }

    @Test("linear axes clamp infinite and NaN ends")
    func extremeLinearAxis() {
        for (low, high) in [(-Double.infinity, 1.0), (0, Double.greatestFiniteMagnitude), (Double.nan, 1)] {
            let axis = ValueAxis.linear(minimum: low, maximum: high, style: .number)
            #expect(axis.lower.isFinite && axis.upper.isFinite && axis.ticks.count < 100)
        }
    }

    @Test("axes over a subnormal range end, with a few ticks (a fuzz-found endless loop)")
    func subnormalRangeAxis() {
        let high = Double.leastNonzeroMagnitude * 4
        for axis in [ValueAxis.linear(minimum: 0, maximum: high, style: .growth),
                     ValueAxis.log(minimum: 0, maximum: high, style: .growth)] {
            #expect(axis.lower <= 0 && axis.upper >= high && !axis.ticks.isEmpty && axis.ticks.count < 100)
        }
        #expect(ValueAxis.niceStep(high / 6) > 0)
    }

    @Test("a report whose wealth reaches 1e300 renders")
    func hugeWealthReport() throws {
        let dates = (0..<3).map { MarketDate(daysSinceEpoch: 18_000 + $0) }
        let report = try BacktestReport(title: "t", series: [ReportSeries(name: "s", role: .strategy, dates: dates, wealth: [1, 1e150, 1e300])])
        #expect(try report.renderHTML().contains("<svg"))
    }

    // MARK: Report files

    /// A fresh directory under the temporary directory; the caller removes it.
    func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("reliability-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func smallReport(_ title: String) throws -> BacktestReport {
        let dates = (0..<3).map { MarketDate(daysSinceEpoch: 18_000 + $0) }
        return try BacktestReport(title: title, series: [ReportSeries(name: "s", role: .strategy, dates: dates, wealth: [1, 1.1, 1.2])])
    }

    @Test("when report.json cannot be replaced, report.html keeps its old content and no temporary file is left")
    func pairedWrite() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try smallReport("old").write(toDirectory: directory)
        let oldHTML = try Data(contentsOf: directory.appendingPathComponent("report.html"))
        // A directory in report.json's place cannot be renamed over.
        try FileManager.default.removeItem(at: directory.appendingPathComponent("report.json"))
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("report.json"), withIntermediateDirectories: false)
        #expect(throws: ReportError.self) { try smallReport("new").write(toDirectory: directory) }
        #expect(try Data(contentsOf: directory.appendingPathComponent("report.html")) == oldHTML)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["report.html", "report.json"])
    }

    @Test("a report directory below a regular file fails with writeFailed naming it")
    func directoryBelowFile() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("plain")
        try Data("x".utf8).write(to: file)
        #expect(throws: ReportError.writeFailed(path: file.path, reason: "exists and is not a directory")) {
            try smallReport("r").write(toDirectory: file)
        }
        #expect(throws: ReportError.self) { try smallReport("r").write(toDirectory: file.appendingPathComponent("sub")) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["plain"])
    }

    // MARK: Costs

    @Test("a 0.9 fee converges (Newton steps finish the slow contraction) and satisfies the remainder equation")
    func highFee() throws {
        let model = try TransactionCostModel(rate: 0.9)
        let current = [1.0, 0, 0], target = [0.98, 0.01, 0.01]
        let remainder = try model.remainder(from: current, to: target, cashIndex: nil)
        let mu = remainder.factor
        let sold = zip(current, target).reduce(0) { $0 + Swift.max(0, $1.0 - mu * $1.1) }
        let combined = 0.9 + 0.9 - 0.81
        #expect(abs(mu - (1 - combined * sold)) <= 1e-14)
        #expect(remainder.iterations > model.maximumIterations)
    }

    // MARK: Engine and metrics

    /// Daily closes from 2024-01-01.
    func panel(_ closes: [[Double]], _ assets: [String]) throws -> PricePanel {
        let dates = (0..<closes.count).map { MarketDate(daysSinceEpoch: 19_723 + $0) }
        return try PricePanel(index: TimeIndex(dates: dates), assets: assets, close: Matrix(closes))
    }

    @Test("a price relative beyond Double throws wealthOverflow; an overflowing annual return throws nonFiniteMetric")
    func overflow() throws {
        let engine = try BacktestEngine(panel: panel([[1e-300], [1e300], [1e300]], ["A"]))
        #expect(throws: BacktestError.wealthOverflow(strategy: "fixed weights", time: "2024-01-02")) {
            try engine.run(FixedWeightsStrategy(weights: [1]))
        }
        let steep = try BacktestEngine(panel: panel([[1], [1e300], [1e300]], ["A"]))
        let result = try steep.run(FixedWeightsStrategy(weights: [1]))
        #expect(throws: BacktestError.nonFiniteMetric(strategy: "fixed weights", metric: "annual return", value: .infinity)) {
            try PerformanceMetrics(result: result)
        }
        let short = try BacktestEngine(panel: panel([[1], [2]], ["A"])).run(FixedWeightsStrategy(weights: [1]))
        #expect(throws: BacktestError.self) { try PerformanceMetrics(result: short) }
    }

    @Test("a lookback beyond the limit throws instead of overflowing")
    func hugeLookback() {
        #expect(throws: BacktestError.self) { try OptimizerStrategy(optimizer: EqualWeight(), lookback: Int.max) }
        #expect(throws: BacktestError.self) { try OptimizerStrategy(optimizer: EqualWeight(), lookback: OptimizerStrategy.maximumLookback + 1) }
    }

    /// Three assets that all fall: no portfolio beats a zero risk-free rate, so maximum Sharpe is infeasible.
    func fallingPanel() throws -> PricePanel {
        let closes = (0..<30).map { t -> [Double] in
            let x = Double(t)
            return [100 * pow(0.99, x) * (1 + 0.01 * sin(x)), 50 * pow(0.985, x) * (1 + 0.01 * cos(1.7 * x)),
                    80 * pow(0.995, x) * (1 + 0.005 * sin(2.3 * x + 1))]
        }
        return try panel(closes, ["A", "B", "C"])
    }

    @Test("an infeasible maximum-Sharpe window falls back to minimum variance, logged and noted on the decision")
    func fallback() throws {
        let engine = try BacktestEngine(panel: fallingPanel(), configuration: BacktestConfiguration(schedule: .everyNPeriods(5)))
        let sharpe = MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: 0))
        var strategy = try OptimizerStrategy(optimizer: sharpe, lookback: 10, expectedReturnsEstimator: ExpectedReturnsEstimator(),
                                             name: "max Sharpe")
        let result = try engine.run(&strategy)
        #expect(!strategy.fallbackLog.isEmpty)
        #expect(strategy.fallbackLog.allSatisfy { $0.replacement == "minimum variance" })
        let noted = result.decisions.compactMap(\.note)
        #expect(noted.count == strategy.fallbackLog.count && noted[0].contains("held minimum variance instead"))
        let strict = try OptimizerStrategy(optimizer: sharpe, lookback: 10, expectedReturnsEstimator: ExpectedReturnsEstimator(),
                                           name: "max Sharpe", fallback: .none)
        #expect(throws: BacktestError.self) { try engine.run(strict) }
    }
}
