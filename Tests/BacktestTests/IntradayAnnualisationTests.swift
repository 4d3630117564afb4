import Foundation
import Linalg
import Market
import Testing
@testable import Backtest

@Suite("Annualisation of intraday bars")
struct IntradayAnnualisationTests {
    @Test("the bar length sets periods per year: crypto hours are 24 · 365, days stay 252")
    func table() {
        #expect(periodsPerYear(.hourly) == 8760)
        #expect(periodsPerYear(.halfHourly) == 17_520)
        #expect(periodsPerYear(.daily) == 252 && periodsPerYear(.weekly) == 52 && periodsPerYear(.monthly) == 12)
        #expect(periodsPerYear(.periods) == 252 && periodsPerYear(.irregular) == 252)
    }

    @Test("a backtest on hourly bars annualises its Sharpe ratio with 8760")
    func hourlySharpe() throws {
        let hours = (0..<4).map { MarketTimestamp(minutesSinceEpoch: 26_188_380 + 60 * $0) }
        let panel = try PricePanel(index: TimeIndex(timestamps: hours), assets: ["BTCUSD"],
                                   close: Matrix([[100], [110], [99], [108.9]]))
        #expect(panel.index.frequency == .hourly)
        let result = try BacktestEngine(panel: panel).run(FixedWeightsStrategy(weights: [1]))
        #expect(result.periodsPerYear == 8760)
        #expect(result.dates.first == "2019-10-17 09:00")
        let metrics = try PerformanceMetrics(result: result)
        // Returns +10 %, −10 %, +10 %: mean 1/30, sample deviation 0.2/√3, so the per-bar Sharpe is √3/6
        // and the annual one √3/6 · √8760 = √26280 / 6.
        let sharpe = try #require(metrics.sharpeRatio)
        #expect(abs(sharpe - 26_280.0.squareRoot() / 6) < 1e-9)
        // Reports are drawn on dates: an intraday result is refused with a typed error.
        #expect(throws: BacktestError.invalidArgument(operation: "ReportSeries(result:)", parameter: "result",
                                                      message: "fixed weights has period or timestamp labels, not dates")) {
            try ReportSeries(result: result)
        }
    }
}
