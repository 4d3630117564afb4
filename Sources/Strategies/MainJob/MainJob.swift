import Backtest
import Foundation
import Linalg
import Market
import Portfolio

/// The settings of MetaFolio's main job (`metafolio run`).
public struct MainJobConfiguration: Sendable {
    /// Proportional cost per unit traded, on buys and sells.
    public var fee = 0.001
    /// Returns in the classical optimizers' estimation window.
    public var lookback = 36
    /// The insurance overlay on the HRP sleeve: TIPP (a floor ratcheting to a fraction of the peak,
    /// so it binds after gains) by default.
    public var insurance: PortfolioInsurance.Method = .tipp
    /// The insurance floor as a fraction of the initial (CPPI) or peak (TIPP) wealth.
    public var floor = 0.8
    /// The insurance multiplier.
    public var multiplier = 3.0
    /// The first decision date of every line (the test period starts here): late enough for the
    /// allocator's first tasks, early enough to include the 2000–2002 and 2008 bear markets.
    public var firstDecision = try! MarketDate(year: 1999, month: 12, day: 31)
    /// The investor profile of the meta-allocator lines.
    public var profile: InvestorProfile = .moderate
    /// The learned lines: the meta-learner first, then the ablations.
    public var trainings: [AllocatorTraining] = [.maml, .conventional, .fineTuned, .equalMixture, .regimeSwitch]
    /// Seeds of the learned lines (each training runs once per seed; the deterministic ablations once).
    public var seeds: [UInt64] = [1]
    /// The allocator's settings (its seed is replaced by each of ``seeds``, its commission by ``fee``).
    public var allocator = MetaAllocatorConfiguration()
    /// The benchmark of α, β and the information ratio: a line's name.
    public var benchmark = "UCRP (equal weight)"

    /// The defaults.
    public init() {}

    /// A configuration that runs in a few seconds, for tests: fewer iterations and candidates.
    public static var quick: MainJobConfiguration {
        var configuration = MainJobConfiguration()
        configuration.allocator.initialIterations = 10
        configuration.allocator.refitIterations = 3
        configuration.allocator.refitEvery = 36
        configuration.allocator.candidates = [.riskParity, .momentum, .classBudget, .equalWeight]
        configuration.trainings = [.maml, .conventional, .equalMixture]
        configuration.firstDecision = try! MarketDate(year: 2012, month: 12, day: 31)
        return configuration
    }
}

/// One line of the main job.
public struct MainJobLine: Sendable {
    /// The line's name.
    public let name: String
    /// Strategy or benchmark.
    public let isBenchmark: Bool
    /// The training mode for an allocator line.
    public let training: AllocatorTraining?
    /// The seed for a learned line.
    public let seed: UInt64?
    /// The backtest.
    public let result: BacktestResult
    /// The allocator's decision log (empty for other lines).
    public let decisions: [AllocationDecision]
    /// The allocator's candidate fallbacks (empty for other lines).
    public let fallbacks: [String]
    /// Wall time of the line, in seconds.
    public let seconds: Double
}

/// The mean and sample deviation over seeds of one allocator training's metrics.
public struct SeedSpread: Sendable, Codable {
    /// The training mode.
    public let training: String
    /// Seeds averaged.
    public let seeds: Int
    /// Annual return: mean, deviation.
    public let annualReturn: [Double]
    /// Sharpe ratio: mean, deviation.
    public let sharpeRatio: [Double]
    /// Sortino ratio: mean, deviation.
    public let sortinoRatio: [Double]
    /// Maximum drawdown: mean, deviation.
    public let maxDrawdown: [Double]
    /// One-way annual turnover: mean, deviation.
    public let oneWayTurnover: [Double]
}

/// A line of the main job that could not finish, and why.
public struct MainJobFailure: Sendable, Hashable, Codable {
    /// The line's name.
    public let line: String
    /// The error, in words.
    public let reason: String
}

/// What the main job produced.
public struct MainJobResult: Sendable {
    /// Every line that finished: the allocator lines first (training order, then seed), then the
    /// classical lines and benchmarks.
    public let lines: [MainJobLine]
    /// The lines that stopped with an error (for example a strategy whose wealth costs consumed at
    /// an extreme fee); the others are still reported.
    public let failures: [MainJobFailure]
    /// Metrics of each line, α, β and the information ratio against the benchmark.
    public let metrics: [PerformanceMetrics]
    /// Spread over seeds for each training mode.
    public let spreads: [SeedSpread]
    /// The first decision bar.
    public let firstDecisionBar: Int
    /// The class of each asset of the universe, in panel order.
    public let assetClasses: [AssetClass]
}

/// MetaFolio's main job as library code: the meta-learned allocator and its ablations next to the
/// classical line-up (HRP, risk parity, minimum variance, maximum Sharpe, the hierarchical class
/// budget, an insured HRP sleeve, OLMAR, UCRP and UBAH), walk-forward on one universe with costs,
/// all from the same first decision.
public enum MainJob {
    /// Runs every line, in parallel on the available cores; the result does not depend on the order
    /// in which lines finish.
    ///
    /// - Parameters:
    ///   - universe: the assets (a monthly, dated panel with classes).
    ///   - indicators: market indicators on the same calendar.
    ///   - configuration: the settings.
    ///   - progress: called once per finished line (from any thread).
    /// - Throws: ``StrategiesError`` for settings that do not fit the data (the first decision before
    ///   the allocator's history, an unknown benchmark) or a benchmark line that fails. Other failing
    ///   lines are listed in ``MainJobResult/failures``.
    public static func run(universe: MultiAssetUniverse, indicators: MarketIndicators, configuration: MainJobConfiguration,
                           progress: (@Sendable (String) -> Void)? = nil) throws -> MainJobResult {
        let panel = universe.panel
        try require(indicators.index.count == panel.index.count, "MainJob", "indicators",
                    "have \(indicators.index.count) rows for \(panel.index.count) bars")
        guard let dates = panel.index.dates, let first = dates.firstIndex(where: { $0 >= configuration.firstDecision }) else {
            throw StrategiesError.invalidArgument(component: "MainJob", parameter: "firstDecision",
                                                  message: "\(configuration.firstDecision) is after the data's last date")
        }
        try require(configuration.fee >= 0 && configuration.fee < 1, "MainJob", "fee", "\(configuration.fee) must be in [0, 1)")
        try require(configuration.lookback >= 12 && configuration.lookback < first, "MainJob", "lookback",
                    "\(configuration.lookback) must be at least 12 and leave a full window before the first decision (bar \(first))")
        try require(!configuration.seeds.isEmpty, "MainJob", "seeds", "must not be empty")
        var allocatorSettings = configuration.allocator
        allocatorSettings.commission = configuration.fee
        try allocatorSettings.validate()
        try require(first + 1 >= allocatorSettings.requiredHistory, "MainJob", "firstDecision",
                    "\(configuration.firstDecision) leaves \(first + 1) bars; the allocator needs \(allocatorSettings.requiredHistory)")
        let costs = try TransactionCostModel(rate: configuration.fee, method: .exact)
        let monthly = BacktestConfiguration(schedule: .calendar(.monthly), costs: costs, unavailableAssets: .redistribute,
                                            firstDecisionBar: first)
        var holdOnly = monthly
        holdOnly.schedule = .everyNPeriods(Int.max / 2)
        var withCash = monthly
        withCash.cash = CashAsset(name: "CASH", returnPerPeriod: 0)
        var levered = withCash
        if configuration.profile.maximumGrossLeverage > 1 { levered.maximumGrossLeverage = configuration.profile.maximumGrossLeverage }

        struct Job: Sendable {
            let name: String, isBenchmark: Bool, training: AllocatorTraining?, seed: UInt64?, backtest: BacktestConfiguration
        }
        var jobs: [Job] = []
        for training in configuration.trainings {
            let seeds = training.trainsPolicy ? configuration.seeds : [configuration.seeds[0]]
            for seed in seeds {
                let name = "meta-allocator: \(training)" + (seeds.count > 1 ? " (seed \(seed))" : "")
                jobs.append(Job(name: name, isBenchmark: false, training: training, seed: seed, backtest: levered))
            }
        }
        let classical = try classicalLineup(universe: universe, configuration: configuration)
        for (index, entry) in classical.enumerated() {
            let backtest = entry.kind == .insured ? withCash : entry.kind == .holding ? holdOnly : monthly
            jobs.append(Job(name: entry.name, isBenchmark: entry.kind != .strategy && entry.kind != .insured, training: nil,
                            seed: UInt64(index), backtest: backtest))
        }
        let names = jobs.map(\.name)
        try require(names.contains(configuration.benchmark), "MainJob", "benchmark",
                    "\"\(configuration.benchmark)\" is not a line; lines are \(names.joined(separator: ", "))")
        let lineJobs = jobs, settingsTemplate = allocatorSettings
        let outcomes = try runInParallel(lineJobs.count) { index -> Result<MainJobLine, any Error> in
            Result {
                let job = lineJobs[index], clock = ContinuousClock.now
                let engine = try BacktestEngine(panel: panel, configuration: job.backtest)
                let result: BacktestResult, decisions: [AllocationDecision], fallbacks: [String]
                if let training = job.training {
                    var settings = settingsTemplate
                    settings.seed = job.seed!
                    var allocator = try MetaAllocator(assets: panel.assets, assetClasses: panel.assetClasses, indicators: indicators,
                                                      profile: configuration.profile, training: training, configuration: settings,
                                                      name: job.name)
                    result = try engine.run(&allocator)
                    decisions = allocator.decisions
                    fallbacks = allocator.candidateFallbacks
                } else {
                    let strategy = try classicalLineup(universe: universe, configuration: configuration)[Int(job.seed!)].strategy
                    result = try engine.run(strategy)
                    decisions = []
                    fallbacks = []
                }
                let elapsed = ContinuousClock.now - clock
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                progress?("\(job.name): final wealth \(String(format: "%.3f", result.finalWealth)) in \(String(format: "%.1f", seconds)) s")
                return MainJobLine(name: job.name, isBenchmark: job.isBenchmark, training: job.training,
                                   seed: job.training == nil ? nil : job.seed, result: result, decisions: decisions,
                                   fallbacks: fallbacks, seconds: seconds)
            }
        }
        var lines: [MainJobLine] = []
        var failures: [MainJobFailure] = []
        for (job, outcome) in zip(jobs, outcomes) {
            switch outcome {
            case let .success(line): lines.append(line)
            case let .failure(error): failures.append(MainJobFailure(line: job.name, reason: "\(error)"))
            }
        }
        guard let benchmarkLine = lines.first(where: { $0.name == configuration.benchmark }) else {
            throw StrategiesError.invalidData(component: "MainJob",
                                              message: "the benchmark \(configuration.benchmark) failed: \(failures.first { $0.line == configuration.benchmark }?.reason ?? "")")
        }
        let benchmark = benchmarkLine.result.netReturns
        let metrics = try lines.map { try PerformanceMetrics(result: $0.result, benchmark: benchmark) }
        let spreads = configuration.trainings.map { training -> SeedSpread in
            let own = zip(lines, metrics).filter { $0.0.training == training }.map(\.1)
            func spread(_ values: [Double]) -> [Double] { let s = meanAndSpread(values); return [s.mean, s.standardDeviation] }
            return SeedSpread(training: training.rawValue, seeds: own.count, annualReturn: spread(own.map(\.annualReturn)),
                              sharpeRatio: spread(own.compactMap(\.sharpeRatio)), sortinoRatio: spread(own.compactMap(\.sortinoRatio)),
                              maxDrawdown: spread(own.map(\.maxDrawdown)), oneWayTurnover: spread(own.map(\.annualOneWayTurnover)))
        }
        return MainJobResult(lines: lines, failures: failures, metrics: metrics, spreads: spreads, firstDecisionBar: first,
                             assetClasses: panel.assetClasses)
    }

    enum LineKind { case strategy, insured, benchmark, holding }

    /// The classical line-up, rebuilt per job so no strategy state is shared between threads.
    static func classicalLineup(universe: MultiAssetUniverse, configuration: MainJobConfiguration) throws
        -> [(name: String, kind: LineKind, strategy: any BacktestStrategy)] {
        let lookback = configuration.lookback, n = universe.panel.assetCount
        let covariance = CovarianceEstimator(method: .ledoitWolf(.constantCorrelation), annualizationFactor: 12)
        func allocator(_ optimizer: any PortfolioOptimizer, _ name: String, returns: Bool = false) throws -> any BacktestStrategy {
            try OptimizerStrategy(optimizer: optimizer, lookback: lookback, covarianceEstimator: covariance,
                                  expectedReturnsEstimator: returns ? ExpectedReturnsEstimator(annualizationFactor: 12) : nil, name: name)
        }
        let method = configuration.insurance
        let budgets = configuration.profile.classBudgets
        let equal = [Double](repeating: 1 / Double(n), count: n)
        let insuredName = "\(method.rawValue.uppercased()) on HRP (floor \(String(format: "%g", configuration.floor)), m = \(String(format: "%g", configuration.multiplier)))"
        return [
            ("HRP", .strategy, try allocator(HierarchicalRiskParity(), "HRP")),
            ("risk parity", .strategy, try allocator(RiskBudgeting(), "risk parity")),
            ("minimum variance", .strategy, try allocator(MeanVarianceOptimizer(constraints: .boxed(0, 0.25)), "minimum variance")),
            ("maximum Sharpe", .strategy, try allocator(MeanVarianceOptimizer(objective: .maximumSharpe(riskFreeRate: 0),
                                                                              constraints: .boxed(0, 0.25)), "maximum Sharpe", returns: true)),
            ("hierarchical (\(budgets); HRP within classes)", .strategy,
             try allocator(PresentClassBudgeting(budgets: budgets, within: HierarchicalRiskParity()),
                           "hierarchical (\(budgets); HRP within classes)")),
            (insuredName, .insured, try InsuredStrategy(
                sleeve: allocator(HierarchicalRiskParity(), "HRP"),
                insurance: PortfolioInsurance(method: method, floorFraction: configuration.floor, multiplier: configuration.multiplier,
                                              maximumExposure: 1), name: insuredName)),
            ("OLMAR-1 (ε = 10, w = 5)", .strategy, try OLPSStrategy(algorithm: .olmar, variant: "1", name: "OLMAR-1 (ε = 10, w = 5)")),
            ("UCRP (equal weight)", .benchmark, FixedWeightsStrategy(weights: equal, name: "UCRP (equal weight)")),
            ("UBAH (buy and hold)", .holding, FixedWeightsStrategy(weights: equal, name: "UBAH (buy and hold)")),
        ]
    }
}

extension MainJobResult {
    /// The line whose decision log the report shows: the first allocator line.
    public var primaryAllocatorLine: MainJobLine? { lines.first { !$0.decisions.isEmpty } }

    /// The primary allocator's regime probabilities, mixture weights and class exposures over time,
    /// as report charts.
    ///
    /// - Throws: ``ReportError`` for a decision without a date label (a panel indexed by period).
    public func reportCompositions(configuration: MainJobConfiguration) throws -> [ReportComposition] {
        guard let line = primaryAllocatorLine, let first = line.decisions.first else { return [] }
        let dates = try line.decisions.map { decision -> MarketDate in
            guard let date = MarketDate(iso: decision.label) else {
                throw ReportError.invalidOption(name: "decision label", message: "\(decision.label) is not a date")
            }
            return date
        }
        let classes = configuration.profile.classBudgets.classes
        let states = first.regimeProbabilities.count
        let stateNames = (try? RegimeDetector(states: states).stateNames) ?? (0..<states).map { "state \($0 + 1)" }
        return [
            try ReportComposition(title: "Regime probabilities (\(line.name))",
                                  caption: "Filtered probabilities at each decision: the model sees data up to the decision only.",
                                  dates: dates, bands: stateNames, rows: line.decisions.map(\.regimeProbabilities)),
            try ReportComposition(title: "Mixture weights over the candidates (\(line.name))",
                                  caption: "The policy's softmax weights after adaptation.", dates: dates,
                                  bands: configuration.allocator.candidates.map(\.rawValue), rows: line.decisions.map(\.mixtureWeights)),
            try ReportComposition(title: "Class exposures (\(line.name))",
                                  caption: "Final weights per class after the volatility target and the caps; the gap to 100 % is cash.",
                                  dates: dates, bands: classes.map(\.rawValue),
                                  rows: line.decisions.map { d in
                                      classes.map { c in zip(d.weights, assetClasses).filter { $0.1 == c }.reduce(0) { $0 + $1.0 } }
                                  }),
        ]
    }

    /// The report tables: metrics (with α, β and the information ratio against the benchmark),
    /// the spread over seeds, stress windows, and the primary allocator's decision log (regime
    /// probabilities, mixture weights, class shares, adaptation losses and constraint activity at
    /// every decision).
    public func reportTables(configuration: MainJobConfiguration) -> [ReportTable] {
        var tables = [PerformanceMetrics.reportTable(metrics, title: "Metrics (α, β, information ratio against \(configuration.benchmark))")]
        func meanSpread(_ pair: [Double], percent: Bool = false) -> ReportTable.Cell {
            guard pair.count == 2, pair[0].isFinite else { return .text("—") }
            let scale = percent ? 100.0 : 1.0
            return .text(String(format: "%.3f ± %.3f", pair[0] * scale, pair[1] * scale) + (percent ? " %" : ""))
        }
        tables.append(ReportTable(
            title: "Allocator lines over seeds (mean ± sample standard deviation)", rowHeader: "training",
            columns: ["seeds", "annual return", "Sharpe", "Sortino", "max drawdown", "one-way turnover"],
            rows: spreads.map { s in
                ReportTable.Row(label: s.training, cells: [.number(Double(s.seeds), digits: 0), meanSpread(s.annualReturn, percent: true),
                                                          meanSpread(s.sharpeRatio), meanSpread(s.sortinoRatio),
                                                          meanSpread(s.maxDrawdown, percent: true), meanSpread(s.oneWayTurnover, percent: true)])
            }))
        let windows = metrics.first?.stressWindows.map(\.window) ?? []
        if !windows.isEmpty {
            tables.append(ReportTable(
                title: "Stress windows: cumulative return and maximum drawdown", rowHeader: "line",
                columns: windows.flatMap { ["\($0.name): return", "\($0.name): drawdown"] },
                rows: metrics.map { m in
                    ReportTable.Row(label: m.strategy, cells: windows.flatMap { w -> [ReportTable.Cell] in
                        guard let s = m.stressWindows.first(where: { $0.window == w }) else { return [.text("—"), .text("—")] }
                        return [.percent(s.cumulativeReturn), .percent(s.maxDrawdown)]
                    })
                }))
        }
        if let line = primaryAllocatorLine, let first = line.decisions.first {
            let candidates = configuration.allocator.candidates.map(\.rawValue)
            let classes = configuration.profile.classBudgets.classes.map(\.rawValue)
            let states = first.regimeProbabilities.count
            let stateNames = (try? RegimeDetector(states: states).stateNames) ?? (0..<states).map { "state \($0 + 1)" }
            tables.append(ReportTable(
                title: "Decision log of \(line.name)", rowHeader: "decision",
                columns: ["regime"] + stateNames.map { "P(\($0))" } + candidates.map { "mix: \($0)" } + classes.map { "class: \($0)" }
                    + ["loss before", "loss after", "leverage", "to cash (caps)", "assets at cap", "refit"],
                rows: line.decisions.map { d in
                    ReportTable.Row(label: d.label, cells: [.text(d.regime)] + d.regimeProbabilities.map { .number($0, digits: 3) }
                        + d.mixtureWeights.map { .number($0, digits: 3) } + d.classBudgets.map { .number($0, digits: 3) }
                        + [d.lossBeforeAdaptation.map { .number($0, digits: 5) } ?? .text("—"),
                           d.lossAfterAdaptation.map { .number($0, digits: 5) } ?? .text("—"),
                           .number(d.constraints.leverage, digits: 3), .number(d.constraints.cappedToCash, digits: 3),
                           .text(d.constraints.cappedAssets.joined(separator: " ")), .text(d.refitted ? "yes" : "")])
                }))
        }
        return tables
    }
}
