import ArgumentParser
import Foundation
import MetaFolio

/// `metafolio run`: the main job. The meta-learned allocator (``MetaAllocator``) and its ablations
/// next to the classical line-up, walk-forward with costs on the embedded multi-asset universe
/// (``MultiAssetUniverse/extended()``, monthly 1990–2018; every line decides from 1999-12-31 on),
/// then a metrics table and an HTML + JSON report. The line-up itself is library code
/// (``MainJob``); this command parses options and prints.
struct RunCommand: FailureReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the main job: the meta-learned allocator, its ablations and the classical line-up, walk-forward with costs."
    )

    enum Profile: String, ExpressibleByArgument, CaseIterable {
        case conservative, moderate, aggressive
        var value: InvestorProfile {
            switch self {
            case .conservative: return .conservative
            case .moderate: return .moderate
            case .aggressive: return .aggressive
            }
        }
    }

    enum Insurance: String, ExpressibleByArgument, CaseIterable { case cppi, tipp }

    enum MetaLearner: String, ExpressibleByArgument, CaseIterable {
        case maml, firstOrderMAML = "first-order-maml", reptile
        var training: AllocatorTraining {
            switch self {
            case .maml: return .maml
            case .firstOrderMAML: return .firstOrderMAML
            case .reptile: return .reptile
            }
        }
    }

    enum RegimeModel: String, ExpressibleByArgument, CaseIterable {
        case hmm, gmm
        var kind: RegimeModelKind { self == .hmm ? .hmm : .gmm }
    }

    @Option(name: .long, help: "Directory for report.html and report.json.")
    var report = "metafolio-report"

    @Option(name: .long, help: "Proportional cost per unit traded, on buys and on sells (0.001 = 10 bp).")
    var fee = 0.001

    @Option(name: .long, help: "Estimation window in months for the classical optimizers.")
    var lookback = 36

    @Option(name: .long, help: "Investor profile of the allocator: conservative, moderate or aggressive.")
    var profile: Profile = .moderate

    @Option(name: .customLong("meta-learner"), help: "Meta-learner of the allocator's main line: maml (second order), first-order-maml or reptile.")
    var metaLearner: MetaLearner = .maml

    @Option(name: .customLong("regime-model"), help: "Regime model behind the filtered probabilities: hmm or gmm.")
    var regimeModel: RegimeModel = .hmm

    @Option(name: .long, help: "Seeds of the learned lines (1…20): each runs with seeds 1…N; mean and spread are reported.")
    var seeds = 1

    @Option(name: .long, help: "Insurance overlay on the HRP sleeve: tipp (floor of the peak, the default) or cppi (floor of the initial wealth).")
    var insurance: Insurance = .tipp

    @Option(name: .long, help: "Insurance floor as a fraction of the initial (CPPI) or peak (TIPP) wealth, in [0, 1).")
    var floor = 0.8

    @Option(name: .long, help: "Insurance multiplier of the cushion (> 0).")
    var multiplier = 3.0

    @Option(name: .long, help: "Weights in report.json: full, none, or the most rows per series (a number; default 600).")
    var jsonWeights = "600"

    @Flag(name: .long, help: "A short run for tests: fewer candidates, lines and iterations, decisions from 2012-12-31.")
    var quick = false

    @Flag(name: .long, help: "Print the metrics as JSON instead of a table.")
    var json = false

    @Flag(name: .long, help: "No progress lines on standard error (they show only on a terminal anyway).")
    var quiet = false

    func validate() throws {
        guard fee >= 0, fee < 1 else { throw ValidationError("--fee must be in [0, 1), not \(fee)") }
        guard lookback >= 12, lookback <= 100 else { throw ValidationError("--lookback must be in 12…100 months, not \(lookback)") }
        guard floor >= 0, floor < 1 else { throw ValidationError("--floor must be in [0, 1), not \(floor)") }
        guard multiplier > 0, multiplier.isFinite else { throw ValidationError("--multiplier must be positive and finite") }
        guard (1...20).contains(seeds) else { throw ValidationError("--seeds must be in 1…20, not \(seeds)") }
    }

    func execute() throws {
        try BLASThreading.setThreadCount(1)  // lines run in parallel; nested BLAS threads would oversubscribe the cores
        let reportOptions = try ReportOptions(jsonWeights: parseJSONWeights(jsonWeights))
        let universe = try MultiAssetUniverse.extended()
        let indicators = try MarketIndicators.embedded(alignedTo: universe.index)
        var settings = quick ? MainJobConfiguration.quick : MainJobConfiguration()
        settings.fee = fee
        settings.lookback = lookback
        settings.profile = profile.value
        settings.seeds = (1...UInt64(seeds)).map { $0 }
        settings.insurance = insurance == .tipp ? .tipp : .cppi
        settings.trainings[0] = metaLearner.training
        settings.allocator.regimeModel = regimeModel.kind
        settings.floor = floor
        settings.multiplier = multiplier
        let showProgress = !quiet && isatty(STDERR_FILENO) != 0
        if showProgress {
            standardError("metafolio run: \(universe.panel.assetCount) assets, \(universe.index.count) month ends; "
                      + "decisions from \(settings.firstDecision), monthly, fee \(fee), profile \(profile.rawValue), "
                      + "\(seeds) seed\(seeds == 1 ? "" : "s")\n")
        }
        let result = try MainJob.run(universe: universe, indicators: indicators, configuration: settings) { message in
            if showProgress { standardError("  \(message)\n") }
        }
        reportFallbacks(result.lines.map(\.result))
        for failure in result.failures {
            standardError("note: \(failure.line) stopped and is left out of the report: \(failure.reason)\n")
        }
        let document = try BacktestReport(
            title: "MetaFolio main job: the meta-learned allocator against the classical line-up",
            subtitle: "\(universe.panel.assetCount) assets (equities, factor ETFs, bond indices, option overlays), monthly, "
                + "decisions from \(settings.firstDecision), costs \(fee) per unit traded",
            series: try result.lines.map { try ReportSeries(result: $0.result, role: $0.isBenchmark ? .benchmark : .strategy) },
            tables: result.reportTables(configuration: settings),
            parameters: [ReportParameter(name: "universe", value: "MultiAssetUniverse.extended()"),
                         ReportParameter(name: "first decision", value: "\(settings.firstDecision)"),
                         ReportParameter(name: "profile", value: "\(profile.rawValue): class budgets \(settings.profile.classBudgets), "
                             + "cap \(settings.profile.maximumAssetWeight) per single name, volatility target \(settings.profile.volatilityTarget), "
                             + "gross leverage ≤ \(settings.profile.maximumGrossLeverage)"),
                         ReportParameter(name: "allocator", value: "candidates \(settings.allocator.candidates.map(\.rawValue).joined(separator: ", ")); "
                             + "tasks \(settings.allocator.supportPeriods) + \(settings.allocator.queryPeriods) months, embargo \(settings.allocator.embargoPeriods); "
                             + "refit every \(settings.allocator.refitEvery) months; \(settings.allocator.regimeModel.rawValue.uppercased()) with \(settings.allocator.regimeStates) states"),
                         ReportParameter(name: "seeds", value: settings.seeds.map(String.init).joined(separator: ", ")),
                         ReportParameter(name: "classical estimation window", value: "\(lookback) months, Ledoit–Wolf (constant correlation)"),
                         ReportParameter(name: "costs", value: "\(fee) buy and sell, exact transaction-remainder factor"),
                         ReportParameter(name: "insurance", value: "\(insurance.rawValue.uppercased()) on HRP, floor \(floor), m = \(multiplier), no leverage, cash at 0"),
                         ReportParameter(name: "turnover", value: "the table gives two-way and one-way annual turnover; the charts one-way")],
            notes: ["Data: S&P 500 stocks and index, factor ETFs (skfolio, BSD-3-Clause); Moody's AAA/BAA yields, "
                    + "Fama–French rate, VIX (arch, NCSA). See Docs/DATA.md. The design and protocol are in Docs/ALLOCATOR.md."],
            compositions: try result.reportCompositions(configuration: settings))
        let files = try document.write(toDirectory: URL(fileURLWithPath: report), options: reportOptions)
        if json {
            try printJSON(RunSummary(metrics: result.metrics, spreads: result.spreads, failures: result.failures))
            return
        }
        let shown: [PerformanceMetrics.Measure] = [.annualReturn, .annualVolatility, .sharpeRatio, .sortinoRatio, .maxDrawdown,
                                                   .calmarRatio, .conditionalValueAtRisk, .alpha, .beta, .informationRatio,
                                                   .annualOneWayTurnover, .costDrag]
        let windows = result.metrics.first?.stressWindows.map(\.window) ?? []
        var table = TextTable(header: ["line"] + shown.map(\.label) + windows.map { "\($0.name) return" })
        for measures in result.metrics {
            let stress = windows.map { window in
                measures.stressWindows.first { $0.window == window }.map { formatted($0.cumulativeReturn, 4) } ?? "—"
            }
            table.rows.append([measures.strategy] + shown.map { measures.value($0).map { formatted($0, 4) } ?? "—" } + stress)
        }
        print(table.render())
        if seeds > 1 {
            var spreadTable = TextTable(header: ["training", "seeds", "annual return", "Sharpe", "max drawdown", "one-way turnover"])
            for s in result.spreads {
                func cell(_ pair: [Double]) -> String { "\(formatted(pair[0], 4)) ± \(formatted(pair[1], 3))" }
                spreadTable.rows.append([s.training, "\(s.seeds)", cell(s.annualReturn), cell(s.sharpeRatio), cell(s.maxDrawdown),
                                         cell(s.oneWayTurnover)])
            }
            print("\n" + spreadTable.render())
        }
        print("\nReport: \(files.html.path)")
    }
}

/// `metafolio run --json`: the metrics of every line, the spread over seeds, and the lines that stopped.
struct RunSummary: Encodable {
    let metrics: [PerformanceMetrics]
    let spreads: [SeedSpread]
    let failures: [MainJobFailure]
}
