// A backtest report from embedded data: daily prices of 20 S&P 500 stocks, 1990–2022.
//
// Three fixed-weight strategies are simulated inline (equal weight rebalanced monthly,
// equal weight bought and held, and a quarterly-rebalanced basket of five consumer-staples
// stocks) and compared with the S&P 500 index and a single stock. The report (HTML with
// inline SVG charts, plus its JSON companion) is written to the directory given as the
// first argument, `./report` by default.
//
//     swift run -c release BacktestReportDemo [DIRECTORY]
import Backtest
import Foundation
import Market

/// Wealth, post-trade weights and one-way turnover of a fixed-target-weight portfolio that trades
/// back to `target` whenever `rebalances(t)` holds and otherwise lets weights drift with prices.
/// The initial purchase counts as no turnover.
func simulate(prices: [[Double]], target: [Double], rebalances: (Int) -> Bool)
    -> (wealth: [Double], weights: [[Double]], turnover: [Double]) {
    var wealth = [1.0], weights = [target], turnover = [0.0]
    for t in 1..<prices.count {
        let growth = zip(prices[t], prices[t - 1]).map { $0 / $1 }
        let previous = weights[t - 1]
        let gross = zip(previous, growth).reduce(0) { $0 + $1.0 * $1.1 }
        let drifted = zip(previous, growth).map { $0 * $1 / gross }
        wealth.append(wealth[t - 1] * gross)
        if rebalances(t) {
            turnover.append(zip(target, drifted).reduce(0) { $0 + abs($1.0 - $1.1) } / 2)
            weights.append(target)
        } else {
            turnover.append(0)
            weights.append(drifted)
        }
    }
    return (wealth, weights, turnover)
}

/// Annualized return, volatility and Sharpe ratio (no risk-free rate) of a daily wealth path, 252 days a year.
func dailyStatistics(_ wealth: [Double]) -> (annualReturn: Double, volatility: Double, sharpe: Double) {
    let returns = (1..<wealth.count).map { wealth[$0] / wealth[$0 - 1] - 1 }
    let mean = returns.reduce(0, +) / Double(returns.count)
    let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1)
    let years = Double(returns.count) / 252
    return (pow(wealth[wealth.count - 1] / wealth[0], 1 / years) - 1, (252 * variance).squareRoot(),
            mean / variance.squareRoot() * 252.0.squareRoot())
}

/// A failure of the demo itself (the embedded data not being what it expects).
struct DemoError: Error, CustomStringConvertible {
    let description: String
}

func buildReport() throws -> BacktestReport {
    let stocks = try Dataset.sp500Stocks.load()
    guard let dates = stocks.index.dates else { throw DemoError(description: "sp500-stocks has no dates") }
    let close = stocks.close
    let prices = (0..<close.rows).map { t in (0..<close.columns).map { close[t, $0] } }
    let assetCount = stocks.assetCount

    let monthStart = { (t: Int) in dates[t].month != dates[t - 1].month }
    let quarterStart = { (t: Int) in monthStart(t) && (dates[t].month - 1) % 3 == 0 }
    let equal = Array(repeating: 1.0 / Double(assetCount), count: assetCount)
    let staples = ["KO", "PEP", "PG", "WMT", "JNJ"]
    let staplesTarget = stocks.assets.map { staples.contains($0) ? 1.0 / Double(staples.count) : 0 }

    var series: [ReportSeries] = []
    for (name, target, rule) in [("Equal weight, monthly", equal, monthStart),
                                 ("Equal weight, buy and hold", equal, { (_: Int) in false }),
                                 ("Consumer staples, quarterly", staplesTarget, quarterStart)] {
        let run = simulate(prices: prices, target: target, rebalances: rule)
        series.append(try ReportSeries(name: name, role: .strategy, dates: dates, wealth: run.wealth,
                                       weights: ReportWeights(assets: stocks.assets, rows: run.weights),
                                       turnover: run.turnover))
    }
    let index = try Dataset.sp500Index.load()
    series.append(try ReportSeries(name: "S&P 500 index", role: .benchmark, dates: index.index.dates ?? [],
                                   wealth: try index.series("SP500")))
    series.append(try ReportSeries(name: "AAPL", role: .benchmark, dates: dates, wealth: try stocks.series("AAPL")))

    let rows = series.map { item -> ReportTable.Row in
        let statistics = dailyStatistics(item.wealth)
        let worst = ReportAnalytics.maximumDrawdown(item.wealth)
        let yearlyTurnover = item.turnover.map { $0.reduce(0, +) / (Double(item.dates.count - 1) / 252) }
        return ReportTable.Row(label: item.name, cells: [
            .percent(statistics.annualReturn), .percent(statistics.volatility), .number(statistics.sharpe),
            .percent(worst.depth), yearlyTurnover.map { .percent($0, digits: 1) } ?? .text("—"),
        ])
    }
    let metrics = ReportTable(title: "Performance (daily returns, 252 days a year)", rowHeader: "Series",
                              columns: ["Annual return", "Volatility", "Sharpe", "Maximum drawdown", "Turnover a year"],
                              rows: rows)
    let info = Dataset.sp500Stocks.info
    return try BacktestReport(
        title: "Fixed-weight portfolios of 20 S&P 500 stocks",
        subtitle: "Daily, \(dates[0]) to \(dates[dates.count - 1]); no transaction costs",
        series: series, tables: [metrics],
        parameters: [
            ReportParameter(name: "Universe", value: "\(info.name) (\(assetCount) stocks)"),
            ReportParameter(name: "Rebalancing", value: "monthly / never / quarterly"),
            ReportParameter(name: "Costs", value: "none"),
            ReportParameter(name: "Generated by", value: "BacktestReportDemo"),
        ],
        notes: [
            "Prices: \(info.title). Source: \(info.source); licence: \(info.licence).",
            "S&P 500 index level: \(Dataset.sp500Index.info.source); licence: \(Dataset.sp500Index.info.licence).",
            "Strategies are simulated inline in the example with close-to-close execution; the initial purchase is not counted as turnover.",
        ])
}

let directory = URL(fileURLWithPath: CommandLine.arguments.dropFirst().first ?? "report", isDirectory: true)
do {
    let report = try buildReport()
    let files = try report.write(toDirectory: directory, options: ReportOptions(equityScales: [.log, .linear]))
    print("wrote \(files.html.path)")
    print("wrote \(files.json.path)")
} catch {
    FileHandle.standardError.write(Data("BacktestReportDemo: \(error)\n".utf8))
    exit(1)
}
