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
        min-variance or max-sharpe (estimated on the last --lookback returns at every rebalance), or \
        forecast: a per-asset return forecaster (--forecaster) refitted walk-forward every --refit-every \
        rebalances on history only, its --horizon-bar forecasts turned into expected returns (and their \
        variances into Black-Litterman view uncertainty with --allocation black-litterman), allocated \
        long-only under --max-weight. The default forecast run (small TCN ensembles) takes about 4 s on \
        factor-etfs (5 ETFs, 66 rebalances); --forecaster ar1 or historical-mean runs the same strategy \
        with a naive forecaster, the control (the forecast options are command-line only). \
        --config FILE.json gives the same settings as a JSON object whose keys are the long option \
        names (e.g. {"dataset": "sp500-stocks", "strategy": "min-variance", "rebalance": "monthly", \
        "fee": 0.001}); options given on the command line override it.
        """
    )

    @Option(name: .long, help: "JSON file with the settings (keys = long option names).")
    var config: String?
    @OptionGroup var input: PriceSource
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
    @Option(name: .long, help: "Forecast strategy: lstm-attention, tcn, transformer, cnn-lstm, unet, or a naive control: zero, historical-mean, last-value, ar1 (default tcn).")
    var forecaster: String?
    @Option(name: .long, help: "Forecast strategy: horizon in bars (default 21).")
    var horizon: Int?
    @Option(name: .long, help: "Forecast strategy: seed of the networks (default 0).")
    var seed: UInt64?
    @Option(name: .long, help: "Forecast strategy: refit the forecasters every this many rebalances (default 3).")
    var refitEvery: Int?
    @Option(name: .long, help: "Forecast strategy: mean-variance or black-litterman (default mean-variance).")
    var allocation: String?
    @Option(name: .long, help: "Forecast strategy: per-asset weight cap in (0, 1] (default 0.4).")
    var maxWeight: Double?
    @Flag(name: .long, help: "No progress lines on standard error (they show only on a terminal anyway).")
    var quiet = false
    @Option(name: .long, help: "Write report.html and report.json into this directory.")
    var report: String?
    @Option(name: .long, help: "Weights in report.json: full, none, or the most rows per series (a number; default 600).")
    var jsonWeights = "600"
    @Flag(name: .long, help: "Print the result and the metrics as one JSON object.")
    var json = false

    /// The settings of a `--config` file (parsed in the MetaFolio module, where the fuzz target reaches it).
    typealias Settings = BacktestConfigFile

    /// The settings of the config file at `path`: an unreadable file is an input error, bad
    /// content a usage error.
    static func loadSettings(_ path: String) throws -> Settings {
        do {
            return try Settings.load(path)
        } catch .unreadable(let message) {
            throw CommandFailure(description: message)
        } catch .invalid(let message) {
            throw ValidationError(message)
        }
    }

    /// The JSON printed with `--json`.
    struct Output: Encodable {
        let result: BacktestResult
        let metrics: PerformanceMetrics
    }

    func execute() throws {
        let s = try config.map(Self.loadSettings) ?? Settings()
        try checkConflicts(s)
        if input.dataset == nil, input.prices == nil, s.dataset == nil, s.prices == nil {
            throw ValidationError("give --dataset NAME, --prices FILE.csv or a --config file naming one")
        }
        if input.dataset == nil, input.prices == nil, s.dataset != nil, s.prices != nil {
            throw ValidationError("give only one of --dataset and --prices")
        }
        let panel = try input.load(fallbackDataset: s.dataset, fallbackPrices: s.prices).panel
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
        guard (2...OptimizerStrategy.maximumLookback).contains(window) else {
            throw ValidationError("--lookback must be in 2…\(OptimizerStrategy.maximumLookback) returns, not \(window)")
        }
        let chosen = strategy ?? s.strategy ?? "equal"
        // Said in the user's terms here; the engine would name bar positions.
        if !["equal", "fixed"].contains(chosen), window + 2 > panel.timeCount {
            throw CommandFailure(description: "--lookback \(window) needs at least \(window + 2) rows of prices (\(window) returns to estimate, "
                                 + "one period to hold); the prices have \(panel.timeCount)")
        }
        let result: BacktestResult
        switch chosen {
        case "equal":
            result = try engine.run(FixedWeightsStrategy(weights: [Double](repeating: 1 / Double(panel.assetCount), count: panel.assetCount),
                                                         name: "equal weight"))
        case "fixed":
            let byAsset = try parseWeights(weights ?? s.weights)
            if let unknown = byAsset.keys.sorted().first(where: { !panel.assets.contains($0) }) {
                throw CommandFailure(description: "--weights names \(MarketError.excerpt(unknown)), which is not among the assets: \(listed(panel.assets))")
            }
            result = try engine.run(FixedWeightsStrategy(weightsByAsset: byAsset))
        case "inverse-volatility":
            result = try engine.run(OptimizerStrategy(optimizer: InverseVolatility(), lookback: window, name: "inverse volatility"))
        case "min-variance":
            result = try engine.run(OptimizerStrategy(optimizer: MeanVarianceOptimizer(), lookback: window, name: "minimum variance"))
        case "max-sharpe":
            result = try engine.run(OptimizerStrategy(optimizer: MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: 0)),
                                                      lookback: window, expectedReturnsEstimator: ExpectedReturnsEstimator(),
                                                      name: "maximum Sharpe"))
        case "forecast":
            result = try engine.run(forecastStrategy(covarianceLookback: lookback ?? s.lookback, panel: panel))
        case let other:
            throw ValidationError("unknown --strategy \(other); use equal, fixed, inverse-volatility, min-variance, max-sharpe or forecast")
        }
        reportFallbacks([result])
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
        let shown: [PerformanceMetrics.Measure] = [.finalWealth, .annualReturn, .annualVolatility, .sharpeRatio, .sortinoRatio,
                                                   .maxDrawdown, .calmarRatio, .valueAtRisk, .conditionalValueAtRisk,
                                                   .annualOneWayTurnover, .costDrag, .totalCost]
        for measure in shown {
            print(measure.label.padding(toLength: 24, withPad: " ", startingAt: 0) + (metrics.value(measure).map { formatted($0) } ?? "—"))
        }
    }

    /// Options that contradict each other or do nothing here, on the command line or in the config.
    func checkConflicts(_ s: Settings) throws {
        let chosen = strategy ?? s.strategy ?? "equal"
        if threshold ?? s.threshold != nil, rebalance ?? s.rebalance != nil {
            throw ValidationError("give only one of --threshold and --rebalance")
        }
        if weights ?? s.weights != nil, chosen != "fixed" {
            throw ValidationError("--weights applies only to --strategy fixed, not \(chosen)")
        }
        if lookback ?? s.lookback != nil, ["equal", "fixed"].contains(chosen) {
            throw ValidationError("--lookback applies only to the estimating strategies, not \(chosen)")
        }
        if chosen != "forecast", let given = [("--forecaster", forecaster != nil), ("--horizon", horizon != nil), ("--seed", seed != nil),
                                              ("--refit-every", refitEvery != nil), ("--allocation", allocation != nil),
                                              ("--max-weight", maxWeight != nil)].first(where: \.1) {
            throw ValidationError("\(given.0) applies only to --strategy forecast, not \(chosen)")
        }
        if let horizon, horizon < 1 { throw ValidationError("--horizon must be ≥ 1 bar, not \(horizon)") }
        if let refitEvery, refitEvery < 1 { throw ValidationError("--refit-every must be ≥ 1 rebalance, not \(refitEvery)") }
        if let maxWeight, !(maxWeight > 0 && maxWeight <= 1) { throw ValidationError("--max-weight must be in (0, 1], not \(maxWeight)") }
        if let allocation, ForecastAllocation(rawValue: allocation) == nil {
            throw ValidationError("--allocation must be mean-variance or black-litterman, not \(allocation)")
        }
        if let forecaster, ForecastModel(rawValue: forecaster) == nil, NaiveBaseline(rawValue: forecaster) == nil {
            let names = ForecastModel.allCases.map(\.rawValue) + NaiveBaseline.allCases.map(\.rawValue)
            throw ValidationError("--forecaster must be one of \(names.joined(separator: ", ")), not \(forecaster)")
        }
        if forecaster.flatMap(NaiveBaseline.init(rawValue:)) != nil, seed != nil {
            throw ValidationError("--seed applies only to the network forecasters, not \(forecaster ?? "")")
        }
        if jsonWeights != "600", report == nil { throw ValidationError("--json-weights needs --report DIR") }
        if let rate = fee ?? s.fee, !(rate >= 0 && rate < 1) { throw ValidationError("--fee must be in [0, 1), not \(rate)") }
        if let drift = threshold ?? s.threshold, !(drift > 0 && drift < 1) {
            throw ValidationError("--threshold must be in (0, 1), not \(drift)")
        }
    }

    /// The forecast strategy of the options (validated in ``checkConflicts(_:)``), annualized by the panel's
    /// frequency; too little history for its training window is an input error.
    func forecastStrategy(covarianceLookback: Int?, panel: PricePanel) throws -> ForecastStrategy {
        var settings = ForecastStrategyConfiguration(annualizationFactor: periodsPerYear(panel.index.frequency))
        if let horizon { settings.horizon = horizon }
        if let refitEvery { settings.refitInterval = refitEvery }
        if let maxWeight { settings.maximumWeight = maxWeight }
        if let covarianceLookback { settings.covarianceLookback = covarianceLookback }
        if let allocation, let method = ForecastAllocation(rawValue: allocation) { settings.allocation = method }
        let name = forecaster ?? ForecastModel.tcn.rawValue
        let source: ForecastSource = NaiveBaseline(rawValue: name).map { .baseline($0) }
            ?? .smallNetwork(ForecastModel(rawValue: name) ?? .tcn, seed: seed ?? 0)
        let progress: (@Sendable (String) -> Void)? = !quiet && isatty(STDERR_FILENO) != 0
            ? { @Sendable line in standardError("  " + line + "\n") } : nil
        let strategy = try ForecastStrategy(source: source, configuration: settings, progress: progress)
        if strategy.requiredHistory + 1 > panel.timeCount {
            throw CommandFailure(description: "--strategy forecast needs at least \(strategy.requiredHistory + 1) rows of prices "
                                 + "(features, \(settings.trainingLength) training origins, the \(settings.horizon)-bar horizon and one period "
                                 + "to hold); the prices have \(panel.timeCount)")
        }
        return strategy
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
