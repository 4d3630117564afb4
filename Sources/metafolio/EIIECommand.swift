import ArgumentParser
import Foundation
import MetaFolio

/// `metafolio eiie`: trains EIIE agents (Jiang, Xu & Liang 2017) and backtests them with online
/// learning next to Best Stock, UCRP, UBAH and the online portfolio selection algorithms.
struct EIIECommand: FailureReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "eiie",
        abstract: "Train EIIE policy networks (CNN, RNN, LSTM) and compare them with the OLPS line-up (Jiang, Xu & Liang 2017).",
        discussion: """
        The agents pre-train on the bars before the test with online stochastic batch learning, then \
        decide every period of the test, learning online (--rolling-steps per period). Every line runs \
        in the same engine: a cash asset, the exact transaction remainder factor at --commission, \
        starting from all cash. The panel starts at the first bar where every asset has a price. The \
        table gives the final accumulated portfolio value (fAPV), the Sharpe ratio per period and the \
        maximum drawdown; --report writes an HTML report with the APV curves (dated data only).
        """
    )

    @OptionGroup var input: PriceSource
    @Option(name: .long, help: "Price fields fed to the networks: close, or close,high,low (default: close,high,low when the data has them).")
    var features: String?
    @Option(name: .long, help: "Commission on purchases and sales, in [0, 1).")
    var commission: Double = 0.0025
    @Option(name: .customLong("train-end"), help: "Last training bar: a date (YYYY-MM-DD) or, on period data, a period number. Default: the test is the last 25 % of the bars.")
    var trainEnd: String?
    @Option(name: .long, help: "Pre-training steps (mini-batches) before the first decision.")
    var steps: Int = 2000
    @Option(name: .customLong("rolling-steps"), help: "Online training steps after each period of the test.")
    var rollingSteps: Int = 30
    @Option(name: .customLong("learning-rate"), help: "Adam learning rate (the paper's Table 2: 3e-5).")
    var learningRate: Double = 1e-3
    @Option(name: .long, help: "Periods per mini-batch.")
    var batch: Int = 50
    @Option(name: .long, help: "Periods in the price window.")
    var window: Int = 50
    @Option(name: .customLong("sample-bias"), help: "Sample bias β of the geometric batch sampler (eq. 26).")
    var sampleBias: Double = 5e-5
    @Option(name: .long, help: "Transaction remainder factor inside the reward: exact or first-order.")
    var mu: String = EIIETransactionRemainder.exact.rawValue
    @Option(name: .long, help: "Keep the M assets with the largest value traded (close × volume) over the 30 bars before the test (the paper's pre-selection; needs volume).")
    var top: Int?
    @Option(name: .long, help: "Topologies to train: any of cnn,rnn,lstm, or none for the baselines alone.")
    var topologies: String = "cnn,rnn,lstm"
    @Option(name: .long, help: "First seed.")
    var seed: UInt64 = 1
    @Option(name: .long, help: "Number of seeds per topology (seed, seed+1, …); the table adds mean and spread.")
    var seeds: Int = 1
    @Flag(name: .long, help: "Train in Double instead of Float.")
    var double = false
    @Flag(name: .customLong("no-olps"), help: "Leave out the online portfolio selection algorithms.")
    var noOLPS = false
    @Option(name: .long, help: "Directory for report.html and report.json (dated data only).")
    var report: String = "metafolio-eiie-report"
    @Flag(name: .customLong("no-report"), help: "Write no report files.")
    var noReport = false
    @Flag(name: .long, help: "Print one JSON object instead of the table.")
    var json = false
    @Flag(name: .long, help: "No progress lines on standard error.")
    var quiet = false

    func validate() throws {
        guard commission >= 0, commission < 1 else { throw ValidationError("--commission must be in [0, 1), got \(commission)") }
        guard steps >= 0, steps <= 10_000_000 else { throw ValidationError("--steps must be in 0…10000000, got \(steps)") }
        guard rollingSteps >= 0, rollingSteps <= 10_000 else { throw ValidationError("--rolling-steps must be in 0…10000, got \(rollingSteps)") }
        guard learningRate > 0, learningRate.isFinite else { throw ValidationError("--learning-rate must be finite and > 0, got \(learningRate)") }
        guard batch >= 1, batch <= 100_000 else { throw ValidationError("--batch must be in 1…100000, got \(batch)") }
        guard window >= 2, window <= 100_000 else { throw ValidationError("--window must be in 2…100000, got \(window)") }
        guard sampleBias >= 0, sampleBias < 1 else { throw ValidationError("--sample-bias must be in [0, 1), got \(sampleBias)") }
        guard EIIETransactionRemainder(rawValue: mu) != nil else { throw ValidationError("--mu must be exact or first-order, got \(mu)") }
        if let top, top < 2 { throw ValidationError("--top must be at least 2 (the agents allocate between assets), got \(top)") }
        guard seeds >= 1, seeds <= 1000 else { throw ValidationError("--seeds must be in 1…1000, got \(seeds)") }
        _ = try parsedTopologies()
        if let features { _ = try parsedFeatures(features) }
        if input.dataset == nil, input.prices == nil { throw ValidationError("give either --dataset NAME or --prices FILE.csv") }
    }

    private func parsedTopologies() throws -> [EIIETopology] {
        if topologies.trimmingCharacters(in: .whitespaces).lowercased() == "none" { return [] }
        let names = topologies.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let parsed = names.compactMap(EIIETopology.init(rawValue:))
        guard !names.isEmpty, parsed.count == names.count, Set(parsed).count == parsed.count else {
            throw ValidationError("--topologies must list distinct names among cnn, rnn, lstm (or be none), got \(topologies)")
        }
        return parsed
    }

    private func parsedFeatures(_ text: String) throws -> [PriceField] {
        switch text.replacingOccurrences(of: " ", with: "").lowercased() {
        case "close": return [.close]
        case "close,high,low": return [.close, .high, .low]
        default: throw ValidationError("--features must be close or close,high,low, got \(text)")
        }
    }

    func execute() throws {
        let (loaded, described) = try input.load()
        let source = input.dataset ?? described
        var panel = try Self.commonHistory(loaded, source: source)
        if let top {
            let start = try Self.testStart(panel, trainEnd: trainEnd)
            guard start >= 30 else { throw CommandFailure(description: "--top needs 30 bars before the test; there are \(start)") }
            guard top <= panel.assetCount else {
                throw CommandFailure(description: "--top \(top) exceeds the \(panel.assetCount) assets of \(source)")
            }
            panel = try panel.selecting(assets: panel.topAssetsByVolume(count: top, lookback: 30, endingAt: panel.index.label(at: start - 1)))
        }
        let fields = try features.map(parsedFeatures) ?? (panel.field(.high) != nil && panel.field(.low) != nil ? [.close, .high, .low] : [.close])
        let testStart = try Self.testStart(panel, trainEnd: trainEnd)
        var network = EIIEConfiguration(featureCount: fields.count, window: window)
        network.kernelWidth = Swift.min(network.kernelWidth, window)
        let training = EIIETrainingConfiguration(learningRate: learningRate, batchSize: batch, commission: commission,
                                                 sampleBias: sampleBias, rollingSteps: rollingSteps, pretrainingSteps: steps,
                                                 transactionRemainder: EIIETransactionRemainder(rawValue: mu)!)
        let chosenSeeds = (0..<UInt64(seeds)).map { seed &+ $0 }
        let configuration = EIIEComparison.Configuration(testStart: testStart, topologies: try parsedTopologies(), seeds: chosenSeeds,
                                                         network: network, training: training, features: fields,
                                                         singlePrecision: !double, includeOnlineAlgorithms: !noOLPS)
        try EIIEComparison.validate(configuration, panel: panel)
        let testBars = panel.timeCount - testStart
        let showProgress = !quiet && isatty(STDERR_FILENO) != 0
        if showProgress {
            standardError("metafolio eiie: \(source), \(panel.assetCount) assets, \(testStart) training bars, \(testBars) test bars "
                          + "from \(panel.index.label(at: testStart)); \(configuration.topologies.count * seeds) agents, \(steps) pre-training steps\n")
        }
        // The agents train side by side, one per core; their products are small, so BLAS threads
        // would only compete with the other agents.
        try BLASThreading.setThreadCount(1)
        let clock = ContinuousClock.now
        var progressLine: (@Sendable (String) -> Void)?
        if showProgress { progressLine = { @Sendable line in standardError("  " + line + "\n") } }
        let outcome = try EIIEComparison.run(panel: panel, configuration: configuration, progress: progressLine)
        let elapsed = ContinuousClock.now - clock
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        var files: ReportFiles?
        if !noReport, panel.index.isDated {
            files = try Self.report(outcome, source: source, panel: panel, configuration: configuration)
                .write(toDirectory: URL(fileURLWithPath: report))
        }
        if json {
            try printJSON(Self.summary(outcome, source: source, panel: panel, configuration: configuration, wall: wall))
            return
        }
        print("EIIE on \(source): \(panel.assetCount) assets (\(panel.assets.joined(separator: ", "))), features \(fields.map(\.rawValue).joined(separator: ",")), "
              + "test \(panel.index.label(at: testStart))…\(panel.index.label(at: panel.timeCount - 1)) (\(testBars) bars), commission \(commission)")
        print(Self.table(outcome).render())
        print(String(format: "\nWall time %.1f s.", wall) + (files.map { " Report: \($0.html.path)" } ?? (panel.index.isDated || noReport ? "" : " (no HTML report: the panel has no dates)")))
    }

    /// The panel from the first bar where every asset has a price.
    static func commonHistory(_ panel: PricePanel, source: String) throws -> PricePanel {
        let cells = panel.mask.cells, m = panel.assetCount
        guard let first = (0..<panel.timeCount).first(where: { t in (0..<m).allSatisfy { cells[t * m + $0] } }) else {
            throw CommandFailure(description: "\(source): no bar where all \(m) assets have a price")
        }
        return panel.slicing(first..<panel.timeCount)
    }

    /// The first test bar: the bar after `--train-end`, or the start of the last quarter.
    static func testStart(_ panel: PricePanel, trainEnd: String?) throws -> Int {
        guard let trainEnd else { return panel.timeCount - panel.timeCount / 4 }
        if let dates = panel.index.dates {
            let parts = trainEnd.split(separator: "-").compactMap { Int($0) }
            guard parts.count == 3, let date = try? MarketDate(year: parts[0], month: parts[1], day: parts[2]) else {
                throw ValidationError("--train-end must be a date YYYY-MM-DD on dated data, got \(trainEnd)")
            }
            guard let start = dates.firstIndex(where: { $0 > date }) else {
                throw CommandFailure(description: "--train-end \(trainEnd) is at or after the last bar \(dates.last!)")
            }
            return start
        }
        guard let period = Int(trainEnd), period >= 0, period < panel.timeCount - 1 else {
            throw ValidationError("--train-end must be a period number in 0…\(panel.timeCount - 2) on period data, got \(trainEnd)")
        }
        return period + 1
    }

    static func table(_ outcome: EIIEComparison.Outcome) -> TextTable {
        var table = TextTable(header: ["line", "fAPV", "Sharpe/period", "max drawdown", "mean cash", "seconds"])
        for line in outcome.lines {
            table.rows.append([line.name, formatted(line.finalValue, 5), line.sharpePerPeriod.map { formatted($0, 4) } ?? "—",
                               String(format: "%.1f%%", 100 * line.maximumDrawdown), String(format: "%.0f%%", 100 * line.meanCashWeight),
                               String(format: "%.1f", line.seconds)])
        }
        for spread in outcome.spreads where spread.count > 1 {
            func pm(_ value: (mean: Double, standardDeviation: Double), _ digits: Int) -> String {
                "\(formatted(value.mean, digits)) ± \(formatted(value.standardDeviation, 2))"
            }
            table.rows.append(["EIIE \(spread.topology.rawValue.uppercased()), mean ± sd over \(spread.count) seeds",
                               pm(spread.finalValue, 5), pm(spread.sharpePerPeriod, 4),
                               String(format: "%.1f%% ± %.1f", 100 * spread.maximumDrawdown.mean, 100 * spread.maximumDrawdown.standardDeviation), "", ""])
        }
        return table
    }

    struct SummaryLine: Encodable {
        let name: String
        let kind: String
        let topology: String?
        let seed: UInt64?
        let finalValue: Double
        let sharpePerPeriod: Double?
        let maximumDrawdown: Double
        let meanCashWeight: Double
        let seconds: Double
    }

    struct Summary: Encodable {
        let source: String
        let assets: [String]
        let features: [String]
        let commission: Double
        let testStart: String
        let testBars: Int
        let preTrainingSteps: Int
        let rollingSteps: Int
        let learningRate: Double
        let seeds: [UInt64]
        let wallSeconds: Double
        let lines: [SummaryLine]
    }

    static func summary(_ outcome: EIIEComparison.Outcome, source: String, panel: PricePanel,
                        configuration: EIIEComparison.Configuration, wall: Double) -> Summary {
        Summary(source: source, assets: panel.assets, features: configuration.features.map(\.rawValue),
                commission: configuration.training.commission, testStart: panel.index.label(at: configuration.testStart).description,
                testBars: panel.timeCount - configuration.testStart, preTrainingSteps: configuration.training.pretrainingSteps,
                rollingSteps: configuration.training.rollingSteps, learningRate: configuration.training.learningRate,
                seeds: configuration.seeds, wallSeconds: wall,
                lines: outcome.lines.map { SummaryLine(name: $0.name, kind: $0.kind.rawValue, topology: $0.topology?.rawValue, seed: $0.seed,
                                                       finalValue: $0.finalValue, sharpePerPeriod: $0.sharpePerPeriod,
                                                       maximumDrawdown: $0.maximumDrawdown, meanCashWeight: $0.meanCashWeight,
                                                       seconds: $0.seconds) })
    }

    /// The HTML/JSON report: APV curves of every line (the paper's Figs. 5–7) and the table.
    static func report(_ outcome: EIIEComparison.Outcome, source: String, panel: PricePanel,
                       configuration: EIIEComparison.Configuration) throws -> BacktestReport {
        let series = try outcome.lines.map { line in
            try ReportSeries(result: line.result, role: line.kind == .agent ? .strategy : .benchmark, name: line.name)
        }
        let rows = outcome.lines.map { line in
            ReportTable.Row(label: line.name, cells: [.number(line.finalValue, digits: 4),
                                                      line.sharpePerPeriod.map { .number($0, digits: 4) } ?? .text("—"),
                                                      .percent(line.maximumDrawdown, digits: 1)])
        }
        let training = configuration.training
        return try BacktestReport(
            title: "EIIE agents against the online portfolio selection line-up",
            subtitle: "\(source): \(panel.assets.joined(separator: ", ")); test from \(panel.index.label(at: configuration.testStart)), commission \(training.commission)",
            series: series,
            tables: [ReportTable(title: "Jiang, Xu & Liang (2017), Table 3 layout", rowHeader: "line",
                                 columns: ["fAPV", "Sharpe ratio per period", "maximum drawdown"], rows: rows)],
            parameters: [ReportParameter(name: "features", value: configuration.features.map(\.rawValue).joined(separator: ", ")),
                         ReportParameter(name: "window / batch", value: "\(configuration.network.window) / \(training.batchSize)"),
                         ReportParameter(name: "pre-training / rolling steps", value: "\(training.pretrainingSteps) / \(training.rollingSteps)"),
                         ReportParameter(name: "learning rate, L2, sample bias", value: "\(training.learningRate), \(training.l2Penalty), \(training.sampleBias)"),
                         ReportParameter(name: "μ in the reward", value: training.transactionRemainder.rawValue),
                         ReportParameter(name: "seeds", value: configuration.seeds.map(String.init).joined(separator: ", ")),
                         ReportParameter(name: "precision", value: configuration.singlePrecision ? "Float" : "Double")],
            notes: ["Best Stock is a hindsight benchmark. The online algorithms use the OLPS toolbox's defaults and read the training bars before their first decision, as the agents pre-train on them."])
    }
}
