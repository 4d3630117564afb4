import ArgumentParser
import Foundation
import MetaFolio

/// `metafolio forecast`: walk-forward evaluation of neural return forecasters against naive baselines.
struct ForecastCommand: FailureReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "forecast",
        abstract: "Walk-forward evaluation of return forecasters (LSTM-attention, TCN, Transformer, CNN-LSTM, U-Net) against naive baselines.",
        discussion: """
        Daily features of one series (log returns, RSI, MACD, Bollinger %B, a causal MODWT MRA of the \
        returns, VIX where it exists) feed deep ensembles that forecast the forward log return at each \
        horizon. The test runs from --test-start to the end in blocks of --block days; before each block \
        every model is refitted on the last --train days whose targets are known (every --train-stride-th \
        day). Per horizon the table gives MSE, MAE, direction accuracy, slope-class accuracy and macro-F1, \
        and a Diebold–Mariano test against the best naive baseline. Defaults: test 2015-01-02…2022-12-28 \
        in 1-year (252-day) blocks, the last 1500 training days (the most recent 20 % of them held out for \
        the residual variance), 20-day windows, hidden width 16, 20 epochs, 5 ensemble members; about \
        1.5 minutes on two cores. The ensemble line combines the models by inverse variance, equally or \
        by stacking weights fitted on each fold's validation window (--combination); --uncertainty \
        mc-dropout adds input dropout to every model, in training and in --dropout-passes passes at \
        prediction. --denoise unet replaces each wavelet component by a U-Net denoising autoencoder's \
        output on its 16-day window; --compress vae replaces each feature row by a variational autoencoder's \
        --latent-dimensional latent mean; both are refitted on each fold's training rows. \
        --regime-features hmm (or gmm) fits a --regime-states model of the trailing 20-day \
        return and log volatility on each fold's training days and appends its filtered (forward-only) \
        state probabilities to every model's inputs. --quick runs a tiny version on the last 700 days (for tests). \
        A last section (--no-slope-classifier drops it) scores a 4-class slope classifier of the \
        --slope-horizon label (class-weighted cross-entropy, meta-trained across period tasks, adapted on \
        the latest 63 labelled days at each test day) beside the same network trained conventionally and \
        the majority class, mean ± sd over --slope-seeds seeds (about 10 s more). --report writes an HTML \
        report with its JSON companion: forecast against realised per horizon, the wavelet components of \
        the input, the LSTM-attention weights over the window as a heat map, the ensemble weights over \
        time and the tables.
        """
    )

    @Option(name: .long, help: "Embedded dataset: sp500-index or sp500-stocks.")
    var dataset: String = "sp500-index"
    @Option(name: .long, help: "Asset of sp500-stocks (e.g. AAPL); sp500-index has only SP500.")
    var asset: String?
    @Option(name: .long, help: "Forecast horizons in days, ascending, comma-separated.")
    var horizons: String = "1,5,20"
    @Option(name: .long, help: "Models: any of lstm-attention,tcn,transformer,cnn-lstm,unet (the last two are not in the default run).")
    var models: String = "lstm-attention,tcn,transformer"
    @Option(name: .long, help: "Seed of the ensembles (every fold and member derives its own from it).")
    var seed: UInt64 = 1
    @Option(name: .long, help: "Ensemble members per model.")
    var seeds: Int = 5
    @Option(name: .customLong("test-start"), help: "First test day (YYYY-MM-DD).")
    var testStart: String = "2015-01-01"
    @Option(name: .long, help: "Training epochs per fit.")
    var epochs: Int = 20
    @Option(name: .customLong("validation-fraction"), help: "Share of the newest training days held out to measure the residual variance (0: ensemble variance only).")
    var validationFraction: Double = 0.2
    @Option(name: .long, help: "How the ensemble line combines the models: inverse-variance, equal or stacked (NNLS weights fitted on each fold's validation window).")
    var combination: ForecastCombination = .inverseVariance
    @Option(name: .long, help: "Predictive uncertainty of each model: ensemble (members' variance) or mc-dropout (input dropout at training and prediction).")
    var uncertainty: UncertaintyChoice = .ensemble
    @Option(name: .customLong("dropout-rate"), help: "Input-dropout rate of --uncertainty mc-dropout, in [0, 1).")
    var dropoutRate: Double = 0.1
    @Option(name: .customLong("dropout-passes"), help: "Stochastic forward passes per member of --uncertainty mc-dropout.")
    var dropoutPasses: Int = 10
    @Option(name: .long, help: "Denoise the wavelet components of the features: none or unet (a U-Net denoising autoencoder per component, refitted per fold).")
    var denoise: DenoiseChoice = .none
    @Option(name: .long, help: "Compress each feature row: none or vae (a variational autoencoder's latent mean, refitted per fold).")
    var compress: CompressChoice = .none
    @Option(name: .long, help: "Latent dimensions of --compress vae, in 1…64 (at most the feature count).")
    var latent: Int = 4
    @Option(name: .customLong("regime-features"), help: "Append the filtered state probabilities of a regime model fitted on each fold's training days: none, hmm or gmm.")
    var regimeFeatures: String = "none"
    @Option(name: .customLong("regime-states"), help: "States of --regime-features, in 2…6.")
    var regimeStates: Int = 3
    @Flag(name: .customLong("slope-classifier"), inversion: .prefixedNo,
          help: "Evaluate the meta-learned slope classifier, its conventional ablation and the majority class.")
    var slopeClassifier = true
    @Option(name: .customLong("slope-horizon"), help: "Horizon whose slope class the classifier predicts (one of --horizons; default 5 if listed, else the first).")
    var slopeHorizon: Int?
    @Option(name: .customLong("slope-method"), help: "Meta-learning method of the slope classifier: maml, fomaml or reptile.")
    var slopeMethod: String = "maml"
    @Option(name: .customLong("slope-seeds"), help: "Seeds of the slope classifier: 1…N.")
    var slopeSeeds: Int = 5
    @Flag(name: .long, help: "A tiny run (last 700 days, 2 epochs, width 8): for tests.")
    var quick = false
    @Option(name: .long, help: "Directory for report.html and report.json.")
    var report: String = "metafolio-forecast-report"
    @Flag(name: .customLong("no-report"), help: "Write no report files.")
    var noReport = false
    @Flag(name: .long, help: "Print one JSON object instead of the tables.")
    var json = false
    @Flag(name: .long, help: "No progress lines on standard error.")
    var quiet = false

    func validate() throws {
        guard ["sp500-index", "sp500-stocks"].contains(dataset) else {
            throw ValidationError("--dataset must be sp500-index or sp500-stocks, got \(dataset)")
        }
        if dataset == "sp500-stocks", asset == nil { throw ValidationError("--dataset sp500-stocks needs --asset NAME") }
        _ = try parsedHorizons()
        _ = try parsedModels()
        guard seeds >= 1, seeds <= 100 else { throw ValidationError("--seeds must be in 1…100, got \(seeds)") }
        guard epochs >= 1, epochs <= 10_000 else { throw ValidationError("--epochs must be in 1…10000, got \(epochs)") }
        guard validationFraction >= 0, validationFraction <= 0.5 else {
            throw ValidationError("--validation-fraction must be in [0, 0.5], got \(validationFraction)")
        }
        guard dropoutRate >= 0, dropoutRate < 1 else { throw ValidationError("--dropout-rate must be in [0, 1), got \(dropoutRate)") }
        guard dropoutPasses >= 1, dropoutPasses <= 1_000 else { throw ValidationError("--dropout-passes must be in 1…1000, got \(dropoutPasses)") }
        guard latent >= 1, latent <= 64 else { throw ValidationError("--latent must be in 1…64, got \(latent)") }
        if combination == .stacked, validationFraction == 0 {
            throw ValidationError("--combination stacked fits its weights on the validation window; --validation-fraction must be > 0")
        }
        _ = try parsedTestStart()
        _ = try parsedRegimes()
        guard (try? SlopeMetaMethod.named(slopeMethod)) != nil else {
            throw ValidationError("--slope-method must be maml, fomaml or reptile, got \(slopeMethod)")
        }
        if let slopeHorizon, !(try parsedHorizons().contains(slopeHorizon)) {
            throw ValidationError("--slope-horizon must be one of --horizons \(horizons), got \(slopeHorizon)")
        }
        guard slopeSeeds >= 1, slopeSeeds <= 100 else { throw ValidationError("--slope-seeds must be in 1…100, got \(slopeSeeds)") }
    }

    private func parsedHorizons() throws -> [Int] {
        let values = horizons.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 250 }) else {
            throw ValidationError("--horizons must list integers in 1…250, got \(horizons)")
        }
        let parsed = values.map { $0! }
        guard parsed == parsed.sorted(), Set(parsed).count == parsed.count else {
            throw ValidationError("--horizons must be distinct and ascending, got \(horizons)")
        }
        return parsed
    }

    private func parsedModels() throws -> [ForecastModel] {
        let names = models.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let parsed = names.compactMap(ForecastModel.init(rawValue:))
        guard !names.isEmpty, parsed.count == names.count, Set(parsed).count == parsed.count else {
            throw ValidationError("--models must list distinct names among \(ForecastModel.allCases.map(\.rawValue).joined(separator: ", ")), got \(models)")
        }
        return parsed
    }

    /// The regime-feature model, or `nil` for `none`.
    private func parsedRegimes() throws -> RegimeFeatureConfiguration? {
        let kind: RegimeModelKind?
        do { kind = try RegimeFeatureConfiguration.kind(named: regimeFeatures) } catch {
            throw ValidationError("--regime-features must be none, hmm or gmm, got \(regimeFeatures)")
        }
        guard (2...6).contains(regimeStates) else { throw ValidationError("--regime-states must be in 2…6, got \(regimeStates)") }
        return kind.map { RegimeFeatureConfiguration(kind: $0, states: regimeStates, seed: seed) }
    }

    private func parsedTestStart() throws -> MarketDate {
        let parts = testStart.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, let date = try? MarketDate(year: parts[0], month: parts[1], day: parts[2]) else {
            throw ValidationError("--test-start must be a date YYYY-MM-DD, got \(testStart)")
        }
        return date
    }

    func execute() throws {
        let source = try Dataset(named: dataset)
        let name = asset ?? "SP500"
        let panel = try source.load()
        guard panel.assets.contains(name) else {
            throw CommandFailure(description: "\(dataset) has no asset \(name); it has \(panel.assets.joined(separator: ", "))")
        }
        var prices = try panel.series(name), dates = panel.index.dates ?? []
        // Leading missing prices (a stock listed later) are dropped; a gap inside is an error below.
        if let first = prices.firstIndex(where: \.isFinite) { prices.removeFirst(first); dates.removeFirst(first) }
        if quick {
            let keep = Swift.min(prices.count, 700)
            prices = Array(prices.suffix(keep))
            dates = Array(dates.suffix(keep))
        }
        let vix = try Dataset.vix.load()
        var featureSettings = ForecastFeatureConfiguration(horizons: try parsedHorizons())
        if quick {
            featureSettings.window = 10
            featureSettings.waveletLevels = 2
            featureSettings.waveletWindow = 32
        }
        let features = try ForecastFeatures(prices: prices, dates: dates, vix: (vix.index.dates ?? [], try vix.series("VIX")),
                                            configuration: featureSettings)
        let firstTest: Int
        var walkForward: WalkForwardConfiguration
        if quick {
            firstTest = prices.count - 150
            walkForward = WalkForwardConfiguration(firstTestOrigin: firstTest, testBlockLength: 75, trainingLength: 300, trainingStride: 3,
                                                   combination: combination)
        } else {
            let start = try parsedTestStart()
            guard let index = dates.firstIndex(where: { $0 >= start }) else {
                throw CommandFailure(description: "--test-start \(testStart) is after the last day \(dates.last!)")
            }
            firstTest = index
            walkForward = WalkForwardConfiguration(firstTestOrigin: firstTest, testBlockLength: 252, trainingLength: 1500,
                                                   combination: combination)
        }
        let forecaster = ForecasterConfiguration(hiddenSize: quick ? 8 : 16, headCount: 2, epochs: quick ? 2 : epochs,
                                                 batchSize: 64, learningRate: 1e-3, ensembleSize: seeds, seed: seed,
                                                 validationFraction: validationFraction,
                                                 uncertainty: uncertainty == .ensemble ? .ensemble
                                                    : .monteCarloDropout(rate: dropoutRate, passes: dropoutPasses))
        let chosenModels = try parsedModels()
        let showProgress = !quiet && !json && isatty(STDERR_FILENO) != 0
        if showProgress {
            standardError("metafolio forecast: \(dataset) \(name), \(prices.count) days, test from \(dates[firstTest]), "
                          + "\(chosenModels.count) models × \(seeds) members\n")
        }
        try BLASThreading.setThreadCount(1)
        let clock = ContinuousClock.now
        let progress: (@Sendable (String) -> Void)? = showProgress ? { @Sendable line in standardError("  " + line + "\n") } : nil
        let pipeline = try featurePipeline()
        let evaluation = try ForecastEvaluation.run(features: features, models: chosenModels, forecaster: forecaster,
                                                    walkForward: walkForward, pipeline: pipeline, regimeFeatures: try parsedRegimes(),
                                                    progress: progress)
        var slope: SlopeClassifierComparison?
        if slopeClassifier {
            let listed = try parsedHorizons()
            var settings = SlopeClassifierConfiguration(horizon: slopeHorizon ?? (listed.contains(5) ? 5 : listed[0]),
                                                        method: try SlopeMetaMethod.named(slopeMethod))
            if quick {
                settings.hiddenSize = 4
                settings.supportLength = 20
                settings.queryLength = 10
                settings.taskStride = 10
                settings.metaIterations = 3
                settings.epochs = 1
            }
            slope = try SlopeClassifierComparison.run(features: features, configuration: settings, walkForward: walkForward,
                                                      seeds: (1...slopeSeeds).map { UInt64($0) }, progress: progress)
        }
        let elapsed = ContinuousClock.now - clock
        let wall = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        var page: URL?
        if !noReport {
            let parameters = [ReportParameter(name: "models", value: chosenModels.map(\.rawValue).joined(separator: ", ")),
                              ReportParameter(name: "horizons", value: try parsedHorizons().map(String.init).joined(separator: ", ")),
                              ReportParameter(name: "seed / members", value: "\(seed) / \(seeds)"),
                              ReportParameter(name: "epochs / width", value: "\(forecaster.epochs) / \(forecaster.hiddenSize)"),
                              ReportParameter(name: "window", value: "\(featureSettings.window) days"),
                              ReportParameter(name: "validation fraction", value: "\(validationFraction)"),
                              ReportParameter(name: "regime features", value: regimeDescription),
                              ReportParameter(name: "features", value: features.names.joined(separator: ", ")),
                              ReportParameter(name: "feature pipeline", value: pipeline.summary)]
            page = try ForecastReport(evaluation: evaluation, features: features, slope: slope, dataset: dataset, asset: name,
                                      seed: seed, parameters: parameters).write(toDirectory: URL(fileURLWithPath: report))
        }
        if json {
            try printJSON(Summary(dataset: dataset, asset: name, testStart: dates[firstTest].description, testEnd: dates.last!.description,
                                  folds: evaluation.folds.count, seed: seed, ensembleSize: seeds, epochs: forecaster.epochs,
                                  validationFraction: validationFraction, combination: combination.rawValue,
                                  uncertainty: uncertaintyDescription, regimeFeatures: regimeDescription,
                                  quick: quick, features: features.names, featurePipeline: pipeline.summary,
                                  wallSeconds: wall, horizons: evaluation.reports,
                                  slopeClassifier: slope))
            return
        }
        print("Forecasts of \(dataset) \(name): test \(dates[firstTest])…\(dates.last!), \(evaluation.folds.count) refits, "
              + "uncertainty \(uncertaintyDescription), regime features \(regimeDescription), ensemble line \(combination.rawValue), "
              + "features \(features.names.joined(separator: ",")), feature pipeline \(pipeline.summary)")
        for report in evaluation.reports {
            print("\nHorizon \(report.horizon) (\(report.count) forecasts; DM against \(report.bestBaseline); "
                  + String(format: "majority slope class: accuracy %.3f, macro-F1 %.3f)", report.majorityAccuracy, report.majorityMacroF1))
            var table = TextTable(header: ["forecast", "MSE ×1e4", "MAE ×1e2", "direction", "slope acc", "slope F1", "DM", "p", "cover90"])
            for score in report.scores {
                table.rows.append([score.name, String(format: "%.4f", 1e4 * score.mse), String(format: "%.4f", 1e2 * score.mae),
                                   String(format: "%.3f", score.directionAccuracy), String(format: "%.3f", score.slopeAccuracy),
                                   String(format: "%.3f", score.slopeMacroF1),
                                   score.dieboldMariano.map { String(format: "%.2f", $0.statistic) } ?? "—",
                                   score.dieboldMariano.map { String(format: "%.3f", $0.pValue) } ?? "—",
                                   score.intervalCoverage90.map { String(format: "%.3f", $0) } ?? "—"])
            }
            print(table.render())
        }
        if let slope {
            print("\nSlope classifier, horizon \(slope.horizon) (\(slope.count) test days, \(slope.folds) refits, "
                  + "seeds \(slope.runs.map { String($0.seed) }.joined(separator: ",")); mean ± sd over seeds)")
            print(slope.markdownTable)
        }
        print(String(format: "\nWall time %.1f s.", wall) + (page.map { " Report: \($0.path)" } ?? ""))
    }

    /// The per-model uncertainty choice of the command line.
    enum UncertaintyChoice: String, ExpressibleByArgument, CaseIterable {
        case ensemble
        case mcDropout = "mc-dropout"
    }

    /// The --denoise choice.
    enum DenoiseChoice: String, ExpressibleByArgument, CaseIterable {
        case none
        case unet
    }

    /// The --compress choice.
    enum CompressChoice: String, ExpressibleByArgument, CaseIterable {
        case none
        case vae
    }

    /// Standardize and clip, then the --denoise and --compress stages (fewer epochs and a shorter
    /// denoising window with --quick).
    private func featurePipeline() throws -> ForecastFeaturePipeline {
        try ForecastFeaturePipeline.standard(
            denoiser: denoise == .unet ? WaveletDenoiserConfiguration(length: quick ? 8 : 16, epochs: quick ? 1 : 10) : nil,
            compression: compress == .vae ? VariationalCompressionConfiguration(latentSize: latent, epochs: quick ? 2 : 20) : nil)
    }

    /// `ensemble` or `mc-dropout(rate, passes)`, for the header and the JSON.
    private var uncertaintyDescription: String {
        uncertainty == .ensemble ? "ensemble" : "mc-dropout(rate \(dropoutRate), \(dropoutPasses) passes)"
    }

    /// `none` or the regime model and its states, for the header, the report and the JSON.
    private var regimeDescription: String {
        regimeFeatures.lowercased() == "none" ? "none" : "\(regimeFeatures.lowercased())(\(regimeStates) states)"
    }

    /// The JSON form of a run.
    struct Summary: Encodable {
        let dataset: String
        let asset: String
        let testStart: String
        let testEnd: String
        let folds: Int
        let seed: UInt64
        let ensembleSize: Int
        let epochs: Int
        let validationFraction: Double
        let combination: String
        let uncertainty: String
        let regimeFeatures: String
        let quick: Bool
        let features: [String]
        let featurePipeline: String
        let wallSeconds: Double
        let horizons: [HorizonReport]
        let slopeClassifier: SlopeClassifierComparison?
    }
}

extension ForecastCombination: ExpressibleByArgument {}
