// Times MetaFolio's backtest engine on the workload and prints one JSON object with the medians.
//
// Usage: BacktestTimings [--budget SECONDS] [--min-reps N] [--max-reps N] [--only NAME,NAME...]
//
// Workload: 20 assets, 30 years of business days (7,830 bars from 1995-01-02), prices from a seeded
// xoshiro256** random walk (0.02 daily volatility), a cash asset, monthly calendar rebalancing and
// 25 bp proportional costs. Kernels:
//   backtest fixed exact      constant weights 1/21 (20 assets + cash), exact remainder factor μ
//   backtest fixed simple     the same with the simple cost factor
//   backtest minvar 252       minimum variance on a 252-day sample covariance at every month end
// Timing rule: BenchmarkSupport's (warm-up, then the median of separately timed calls).

#if canImport(Glibc)
import Glibc
#endif
import Backtest
import BenchmarkSupport
import Linalg
import Market
import Portfolio

let options = TimingOptions(arguments: CommandLine.arguments, program: "BacktestTimings", maxReps: 2_000, maxWarmUpCalls: 100)

/// The benchmark panel: `assets` random walks over the weekdays of `years` years from 1995-01-02.
func benchmarkPanel(assets: Int, years: Int) throws -> PricePanel {
    var dates: [MarketDate] = []
    var day = try MarketDate(year: 1995, month: 1, day: 2)
    let end = try MarketDate(year: 1995 + years, month: 1, day: 1)
    while day < end {
        if day.weekday != .saturday && day.weekday != .sunday { dates.append(day) }
        day = day.adding(days: 1)
    }
    var generator = Xoshiro256StarStar(seed: 2017)
    var closes = Matrix(rows: dates.count, columns: assets)
    for a in 0..<assets { closes[0, a] = 100 }
    for t in 1..<dates.count {
        for a in 0..<assets {
            let shock = 0.02 * (2 * generator.nextUniform() - 1) * 3.0.squareRoot()
            closes[t, a] = closes[t - 1, a] * (1 + 0.0002 + shock)
        }
    }
    return try PricePanel(index: TimeIndex(dates: dates), assets: (0..<assets).map { "A\($0)" }, close: closes)
}

var results: [KernelTiming] = []
do {
    let panel = try benchmarkPanel(assets: 20, years: 30)
    printError("BacktestTimings: \(panel.timeCount) bars × \(panel.assetCount) assets")
    let weights = [Double](repeating: 1.0 / 21, count: 20)
    for method in TransactionCostModel.Method.allCases where options.wants("backtest fixed \(method.rawValue)") {
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(
            schedule: .calendar(.monthly), costs: TransactionCostModel(rate: 0.0025, method: method), cash: CashAsset()))
        let strategy = FixedWeightsStrategy(weights: weights)
        results.append(try timeKernel("backtest fixed \(method.rawValue)", options) {
            try engine.run(strategy)
        } checksum: { $0.finalWealth + Double($0.decisions.count) })
    }
    if options.wants("backtest minvar 252") {
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(
            schedule: .calendar(.monthly), costs: TransactionCostModel(rate: 0.0025)))
        let strategy = try OptimizerStrategy(optimizer: MeanVarianceOptimizer(), lookback: 252)
        results.append(try timeKernel("backtest minvar 252", options) {
            try engine.run(strategy)
        } checksum: { $0.finalWealth + Double($0.decisions.count) })
    }
} catch {
    printError("BacktestTimings: \(error)")
    exit(1)
}

print(timingReport(results, openBLASThreads: openBLASThreadCount(), openBLASConfiguration: openBLASConfiguration()))
