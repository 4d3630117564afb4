import ArgumentParser
import Foundation
import MetaFolio

/// `metafolio run`: the main job. A walk-forward backtest with costs on the embedded multi-asset
/// universe (``MultiAssetUniverse/extended()``, monthly 1990–2018), comparing the allocators of
/// `Portfolio`, a CPPI overlay and OLMAR with the classic benchmarks, then a metrics table and an
/// HTML + JSON report.
///
/// The CPPI overlay insures the HRP sleeve with a floor of 80 % of the initial wealth and
/// multiplier 3 (so a one-month fall of the sleeve of up to 1/3 cannot breach the floor), no
/// leverage, cash earning nothing: a conservative floor that does not lean on the rate history.
/// Once wealth has grown well above a fixed floor the exposure stays at its cap and the overlay
/// tracks its sleeve; `--insurance tipp` ratchets the floor to 80 % of the peak instead.
/// OLMAR-1 uses the toolbox defaults (ε = 10, w = 5) on month-end prices and learns from the
/// history before the first decision.
struct RunCommand: FailureReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the main job: a walk-forward multi-asset backtest with costs, metrics and an HTML report."
    )

    @Option(name: .long, help: "Directory for report.html and report.json.")
    var report = "metafolio-report"

    @Option(name: .long, help: "Proportional cost per unit traded, on buys and on sells (0.001 = 10 bp).")
    var fee = 0.001

    @Option(name: .long, help: "Estimation window in months for the optimizers.")
    var lookback = 36

    @Option(name: .long, help: "Insurance overlay on the HRP sleeve: cppi (floor of the initial wealth) or tipp (floor of the peak).")
    var insurance = "cppi"

    @Option(name: .long, help: "Insurance floor as a fraction of the initial (CPPI) or peak (TIPP) wealth, in [0, 1).")
    var floor = 0.8

    @Option(name: .long, help: "Insurance multiplier of the cushion (> 0).")
    var multiplier = 3.0

    @Option(name: .long, help: "Weights in report.json: full, none, or the most rows per series (a number; default 600).")
    var jsonWeights = "600"

    @Flag(name: .long, help: "Print the metrics as JSON instead of a table.")
    var json = false

    @Flag(name: .long, help: "No progress line on standard error (it shows only on a terminal anyway).")
    var quiet = false

    func execute() throws {
        guard fee >= 0, fee < 1 else { throw ValidationError("--fee must be in [0, 1)") }
        guard lookback >= 12 else { throw ValidationError("--lookback must be at least 12 months") }
        guard floor >= 0, floor < 1 else { throw ValidationError("--floor must be in [0, 1)") }
        guard multiplier > 0, multiplier.isFinite else { throw ValidationError("--multiplier must be positive") }
        guard let method = PortfolioInsurance.Method(rawValue: insurance.lowercased()) else {
            throw ValidationError("--insurance must be cppi or tipp, not \(insurance)")
        }
        let reportOptions = try ReportOptions(jsonWeights: parseJSONWeights(jsonWeights))
        let universe = try MultiAssetUniverse.extended()
        let panel = universe.panel
        guard lookback <= panel.index.count - 3 else {
            throw ValidationError("--lookback \(lookback) leaves under 2 months to test of the \(panel.index.count) month ends; use at most \(panel.index.count - 3)")
        }
        let costs = try TransactionCostModel(rate: fee, method: .exact)
        let monthly = BacktestConfiguration(schedule: .calendar(.monthly), costs: costs, unavailableAssets: .redistribute,
                                            firstDecisionBar: lookback)
        var holdOnly = monthly
        holdOnly.schedule = .everyNPeriods(Int.max / 2)
        var withCash = monthly
        withCash.cash = CashAsset(name: "CASH", returnPerPeriod: 0)
        let budgets: [AssetClass: Double] = [.equity: 0.4, .bond: 0.3, .derivative: 0.2, .etf: 0.1]
        let covariance = CovarianceEstimator(method: .ledoitWolf(.constantCorrelation), annualizationFactor: 12)
        func allocator(_ optimizer: any PortfolioOptimizer, _ name: String, returns: Bool = false) throws -> any BacktestStrategy {
            try OptimizerStrategy(optimizer: optimizer, lookback: lookback, covarianceEstimator: covariance,
                                  expectedReturnsEstimator: returns ? ExpectedReturnsEstimator(annualizationFactor: 12) : nil, name: name)
        }
        let equal = [Double](repeating: 1 / Double(panel.assetCount), count: panel.assetCount)
        let lineup: [(strategy: any BacktestStrategy, configuration: BacktestConfiguration, role: ReportSeries.Role)] = [
            (try allocator(HierarchicalRiskParity(), "HRP"), monthly, .strategy),
            (try allocator(RiskBudgeting(), "risk parity"), monthly, .strategy),
            (try allocator(MeanVarianceOptimizer(constraints: .boxed(0, 0.25)), "minimum variance"), monthly, .strategy),
            (try allocator(MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: 0), constraints: .boxed(0, 0.25)),
                           "maximum Sharpe", returns: true), monthly, .strategy),
            (try allocator(PresentClassBudgeting(budgets: budgets), "hierarchical 40/30/20/10"), monthly, .strategy),
            (try InsuredStrategy(sleeve: allocator(HierarchicalRiskParity(), "HRP"),
                                 insurance: PortfolioInsurance(method: method, floorFraction: floor, multiplier: multiplier,
                                                               maximumExposure: 1),
                                 name: "\(method.rawValue.uppercased()) on HRP (floor \(formatted(floor, 2)), m = \(formatted(multiplier, 2)))"),
             withCash, .strategy),
            (try OLPSStrategy(algorithm: .olmar, variant: "1", name: "OLMAR-1 (ε = 10, w = 5)"), monthly, .strategy),
            (FixedWeightsStrategy(weights: equal, name: "UCRP (equal weight)"), monthly, .benchmark),
            (FixedWeightsStrategy(weights: equal, name: "UBAH (buy and hold)"), holdOnly, .benchmark),
        ]
        if !quiet {
            standardError("metafolio run: \(panel.assetCount) assets, \(panel.index.count) month ends, "
                          + "walk-forward with a \(lookback)-month window, monthly rebalancing, fee \(fee)\n")
        }
        var progress = ProgressBar(total: lineup.count + 1, enabled: !quiet)
        var results: [(BacktestResult, ReportSeries.Role)] = []
        for entry in lineup {
            let engine = try BacktestEngine(panel: panel, configuration: entry.configuration)
            results.append((try engine.run(entry.strategy), entry.role))
            progress.advance(results.last!.0.strategy)
        }
        reportFallbacks(results.map(\.0))
        let metrics = try results.map { try PerformanceMetrics(result: $0.0) }
        let document = try BacktestReport(
            title: "MetaFolio main job: walk-forward multi-asset backtest",
            subtitle: "\(panel.assetCount) assets (equities, factor ETFs, bond indices, option overlays), monthly, costs \(fee) per unit traded",
            series: try results.map { try ReportSeries(result: $0.0, role: $0.1) },
            tables: [PerformanceMetrics.reportTable(metrics)],
            parameters: [ReportParameter(name: "universe", value: "MultiAssetUniverse.extended()"),
                         ReportParameter(name: "estimation window", value: "\(lookback) months"),
                         ReportParameter(name: "covariance", value: "Ledoit–Wolf, constant-correlation target"),
                         ReportParameter(name: "costs", value: "\(fee) buy and sell, exact transaction-remainder factor"),
                         ReportParameter(name: "insurance", value: "\(method.rawValue.uppercased()) on HRP, floor \(floor), m = \(multiplier), no leverage, cash at 0")],
            notes: ["Data: S&P 500 stocks and index, factor ETFs (skfolio, BSD-3-Clause); Moody's AAA/BAA yields, "
                    + "Fama–French rate, VIX (arch, NCSA). See Docs/DATA.md."])
        let files = try document.write(toDirectory: URL(fileURLWithPath: report), options: reportOptions)
        progress.advance("report written")
        if json {
            try printJSON(metrics)
            return
        }
        let shown = ["final wealth", "annual return", "annual volatility", "Sharpe ratio", "Sortino ratio", "max drawdown",
                     "Calmar ratio", "CVaR 95% (historical)", "annual turnover", "cost drag"]
        var table = TextTable(header: ["strategy"] + shown)
        for (result, measures) in zip(results, metrics) {
            let values = Dictionary(measures.summaryRows.map { ($0.label, $0.value) }, uniquingKeysWith: { a, _ in a })
            table.rows.append([result.0.strategy] + shown.map { label in (values[label] ?? nil).map { formatted($0, 4) } ?? "—" })
        }
        print(table.render())
        print("\nReport: \(files.html.path)")
    }
}

/// Asset-class budgets over the classes present in the inputs, renormalized, so the hierarchical
/// allocation can run before every class has listed (the factor ETFs enter in 2014).
struct PresentClassBudgeting: PortfolioOptimizer {
    /// Budget per asset class before renormalization.
    let budgets: [AssetClass: Double]

    func fit(_ inputs: OptimizationInputs) throws -> PortfolioAllocation {
        try AssetClassBudgeting(budgets: AssetClassBudgeting.renormalized(budgets, over: Set(inputs.assetClasses))).fit(inputs)
    }
}
