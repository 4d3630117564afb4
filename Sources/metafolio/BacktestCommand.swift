import ArgumentParser
import Foundation
import MetaFolio

/// `metafolio backtest`: one strategy through the backtest engine, with costs, then its metrics.
struct BacktestCommand: FailureReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "backtest",
        abstract: "Backtest a strategy on prices with rebalancing, transaction costs and metrics.",
        discussion: """
        The strategy is one of: equal (1/N), fixed (--weights A=0.6,B=0.4), inverse-volatility, \
        min-variance or max-sharpe (estimated on the last --lookback returns at every rebalance). \
        --config FILE.json gives the same settings as a JSON object whose keys are the long option \
        names (e.g. {"dataset": "sp500-stocks", "strategy": "min-variance", "rebalance": "monthly", \
        "fee": 0.001}); options given on the command line override it.
        """
    )

    @Option(name: .long, help: "JSON file with the settings (keys = long option names).")
    var config: String?
    @Option(name: .long, help: "Embedded dataset name (see `metafolio datasets`).")
    var dataset: String?
    @Option(name: .long, help: "Wide CSV file of prices (date column first).")
    var prices: String?
    @Option(name: .long, help: "Strategy: equal, fixed, inverse-volatility, min-variance, max-sharpe.")
    var strategy: String?
    @Option(name: .long, help: "Weights of the fixed strategy, e.g. AAPL=0.6,MSFT=0.4 (the rest in cash with --cash).")
    var weights: String?
    @Option(name: .long, help: "Returns in the estimation window of the optimizing strategies (default 252).")
    var lookback: Int?
    @Option(name: .long, help: "Rebalancing: every-period, weekly, monthly, quarterly, annual (default monthly).")
    var rebalance: String?
    @Option(name: .long, help: "Rebalance instead when a weight drifts more than this from its target.")
    var threshold: Double?
    @Option(name: .long, help: "Proportional cost rate for purchases and sales (default 0).")
    var fee: Double?
    @Option(name: .long, help: "Cost factor: exact (Jiang et al. 2017) or simple (default exact).")
    var costMethod: String?
    @Option(name: .long, help: "Execution lag in bars: 0 (decision close) or 1 (next close). Default 0.")
    var lag: Int?
    @Flag(name: .long, help: "Hold a cash asset (earning 0) for the weight not invested.")
    var cash = false
    @Option(name: .long, help: "Write report.html and report.json into this directory.")
    var report: String?
    @Option(name: .long, help: "Weights in report.json: full, none, or the most rows per series (a number; default 600).")
    var jsonWeights = "600"
    @Flag(name: .long, help: "Print the result and the metrics as one JSON object.")
    var json = false

    /// The settings of a `--config` file.
    struct Settings: Decodable {
        var dataset: String?
        var prices: String?
        var strategy: String?
        var weights: String?
        var lookback: Int?
        var rebalance: String?
        var threshold: Double?
        var fee: Double?
        var costMethod: String?
        var lag: Int?
        var cash: Bool?

        enum CodingKeys: String, CodingKey {
            case dataset, prices, strategy, weights, lookback, rebalance, threshold, fee, lag, cash
            case costMethod = "cost-method"
        }
    }

    /// The JSON printed with `--json`.
    struct Output: Encodable {
        let result: BacktestResult
        let metrics: PerformanceMetrics
    }

    func execute() throws {
        var s = Settings()
        if let path = config {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandFailure(description: "cannot read the config file \(path)")
            }
            do {
                s = try JSONDecoder().decode(Settings.self, from: data)
            } catch {
                throw CommandFailure(description: "config file \(path): \(error)")
            }
        }
        let datasetName = dataset ?? (prices == nil ? s.dataset : nil)
        let pricesPath = prices ?? (dataset == nil ? s.prices : nil)
        let panel: PricePanel
        switch (datasetName, pricesPath) {
        case let (name?, nil): panel = try Dataset(named: name).load()
        case let (nil, path?): panel = try PanelCSVReader().read(path: path)
        case (nil, nil): throw ValidationError("give --dataset NAME, --prices FILE.csv or a --config file naming one")
        default: throw ValidationError("give only one of --dataset and --prices")
        }
        let rate = fee ?? s.fee ?? 0
        let method = TransactionCostModel.Method(rawValue: costMethod ?? s.costMethod ?? "exact")
        guard let method else { throw ValidationError("--cost-method must be exact or simple") }
        let schedule: RebalanceSchedule
        if let limit = threshold ?? s.threshold {
            schedule = .threshold(maximumDrift: limit)
        } else {
            switch rebalance ?? s.rebalance ?? "monthly" {
            case "every-period": schedule = .everyPeriod
            case let name:
                guard let period = CalendarPeriod(rawValue: name) else {
                    throw ValidationError("--rebalance must be every-period, weekly, monthly, quarterly or annual, not \(name)")
                }
                schedule = .calendar(period)
            }
        }
        let executionLag = lag ?? s.lag ?? 0
        guard executionLag == 0 || executionLag == 1 else { throw ValidationError("--lag must be 0 or 1") }
        let configuration = BacktestConfiguration(
            schedule: schedule, costs: try TransactionCostModel(rate: rate, method: method),
            execution: executionLag == 0 ? .decisionClose : .nextClose,
            cash: cash || s.cash == true ? CashAsset() : nil, unavailableAssets: .redistribute)
        let engine = try BacktestEngine(panel: panel, configuration: configuration)
        let window = lookback ?? s.lookback ?? 252
        let result: BacktestResult
        switch strategy ?? s.strategy ?? "equal" {
        case "equal":
            result = try engine.run(FixedWeightsStrategy(weights: [Double](repeating: 1 / Double(panel.assetCount), count: panel.assetCount),
                                                         name: "equal weight"))
        case "fixed":
            result = try engine.run(FixedWeightsStrategy(weightsByAsset: try parseWeights(weights ?? s.weights)))
        case "inverse-volatility":
            result = try engine.run(OptimizerStrategy(optimizer: InverseVolatility(), lookback: window, name: "inverse volatility"))
        case "min-variance":
            result = try engine.run(OptimizerStrategy(optimizer: MeanVarianceOptimizer(), lookback: window, name: "minimum variance"))
        case "max-sharpe":
            result = try engine.run(OptimizerStrategy(optimizer: MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: 0)),
                                                      lookback: window, expectedReturnsEstimator: ExpectedReturnsEstimator(),
                                                      name: "maximum Sharpe"))
        case let other:
            throw ValidationError("unknown --strategy \(other); use equal, fixed, inverse-volatility, min-variance or max-sharpe")
        }
        let metrics = try PerformanceMetrics(result: result)
        if let directory = report {
            let document = try BacktestReport(title: "metafolio backtest: \(result.strategy)", series: [ReportSeries(result: result)],
                                              tables: [PerformanceMetrics.reportTable([metrics])])
            _ = try document.write(toDirectory: URL(fileURLWithPath: directory),
                                   options: ReportOptions(jsonWeights: parseJSONWeights(jsonWeights)))
        }
        if json {
            try printJSON(Output(result: result, metrics: metrics))
            return
        }
        print("\(result.strategy): \(result.dates.first ?? "") … \(result.dates.last ?? ""), \(result.periodCount) periods, "
              + "\(result.decisions.count) rebalances (\(result.schedule)), fee \(rate) (\(method.rawValue))")
        let shown: Set<String> = ["final wealth", "annual return", "annual volatility", "Sharpe ratio", "Sortino ratio",
                                  "max drawdown", "Calmar ratio", "VaR 95% (historical)", "CVaR 95% (historical)",
                                  "annual turnover (one-way)", "cost drag", "total cost"]
        let rows = metrics.summaryRows.filter { shown.contains($0.label) }
        for (name, value) in rows {
            print(name.padding(toLength: 24, withPad: " ", startingAt: 0) + (value.map { formatted($0) } ?? "—"))
        }
    }

    /// `A=0.6,B=0.4` as a dictionary.
    func parseWeights(_ text: String?) throws -> [String: Double] {
        guard let text, !text.isEmpty else { throw ValidationError("--strategy fixed needs --weights NAME=W,NAME=W") }
        var result: [String: Double] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Double(parts[1]) else {
                throw ValidationError("--weights entry \"\(item)\" is not NAME=WEIGHT")
            }
            result[String(parts[0])] = value
        }
        return result
    }
}
