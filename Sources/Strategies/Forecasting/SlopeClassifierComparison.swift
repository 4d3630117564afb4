import Foundation
import Signals

extension SlopeMetaMethod {
    /// The method called `name` (`maml`, `fomaml` or `reptile`, case-insensitive).
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for any other name.
    public static func named(_ name: String) throws -> SlopeMetaMethod {
        guard let method = SlopeMetaMethod(rawValue: name.lowercased()) else {
            throw StrategiesError.invalidArgument(component: "SlopeMetaMethod", parameter: "method",
                                                  message: "'\(name)' is not one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return method
    }
}

/// The mean and sample standard deviation of one figure over seeds (deviation 0 for one seed).
public struct SeedSummary: Sendable, Hashable, Codable {
    /// Arithmetic mean.
    public let mean: Double
    /// Sample standard deviation (divisor `n − 1`).
    public let standardDeviation: Double

    /// The summary of `values` (at least one).
    init(_ values: [Double]) {
        let n = Double(values.count), mean = values.reduce(0, +) / n
        self.mean = mean
        standardDeviation = values.count > 1 ? (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot() : 0
    }

    /// `mean ± sd` with three decimals.
    public var formatted: String { String(format: "%.3f ± %.3f", mean, standardDeviation) }
}

/// The slope-classifier evaluation repeated over seeds: accuracy and macro-F1 of the meta-learned
/// classifier, the conventionally trained network and the majority class, as mean ± standard deviation.
public struct SlopeClassifierComparison: Sendable, Hashable, Codable {
    /// One seed's scores.
    public struct Run: Sendable, Hashable, Codable {
        /// The seed.
        public let seed: UInt64
        /// Meta-learned classifier.
        public let meta: SlopeClassifierEvaluation.Scores
        /// Conventional network.
        public let conventional: SlopeClassifierEvaluation.Scores
        /// Majority class.
        public let majority: SlopeClassifierEvaluation.Scores
    }

    /// One classifier's figures over the seeds.
    public struct Row: Sendable, Hashable, Codable {
        /// `meta-trained (maml)`, `conventional` or `majority class`.
        public let name: String
        /// Accuracy over seeds.
        public let accuracy: SeedSummary
        /// Macro-F1 over seeds.
        public let macroF1: SeedSummary
    }

    /// The predicted horizon.
    public let horizon: Int
    /// The meta-learning method.
    public let method: SlopeMetaMethod
    /// Scored test origins (those with a known label).
    public let count: Int
    /// Refits per run.
    public let folds: Int
    /// Each seed's scores, in the order run.
    public let runs: [Run]
    /// Meta-trained, conventional and majority class, in that order.
    public let rows: [Row]

    /// Runs ``SlopeClassifierEvaluation/run(features:configuration:walkForward:progress:)`` once per seed
    /// (replacing `configuration.seed`).
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for no seeds, and the
    ///   errors of the evaluation.
    public static func run(features: ForecastFeatures, configuration: SlopeClassifierConfiguration,
                           walkForward: WalkForwardConfiguration, seeds: [UInt64],
                           progress: (@Sendable (String) -> Void)? = nil) throws -> SlopeClassifierComparison {
        try require(!seeds.isEmpty, "SlopeClassifierComparison", "seeds", "must not be empty")
        var runs: [Run] = [], count = 0, folds = 0
        for seed in seeds {
            var settings = configuration
            settings.seed = seed
            let evaluation = try SlopeClassifierEvaluation.run(features: features, configuration: settings, walkForward: walkForward,
                                                               progress: progress)
            runs.append(Run(seed: seed, meta: evaluation.meta, conventional: evaluation.conventional, majority: evaluation.majority))
            count = evaluation.actual.compactMap { $0 }.count
            folds = evaluation.folds.count
            progress?(String(format: "slope classifier seed %llu: meta accuracy %.3f, conventional %.3f, majority %.3f",
                             seed, evaluation.meta.accuracy, evaluation.conventional.accuracy, evaluation.majority.accuracy))
        }
        func row(_ name: String, _ scores: (Run) -> SlopeClassifierEvaluation.Scores) -> Row {
            Row(name: name, accuracy: SeedSummary(runs.map { scores($0).accuracy }), macroF1: SeedSummary(runs.map { scores($0).macroF1 }))
        }
        return SlopeClassifierComparison(horizon: configuration.horizon, method: configuration.method, count: count, folds: folds, runs: runs,
                                         rows: [row("meta-trained (\(configuration.method.rawValue))", \.meta),
                                                row("conventional", \.conventional), row("majority class", \.majority)])
    }

    /// The rows as a Markdown table (accuracy and macro-F1, mean ± sd over the seeds).
    public var markdownTable: String {
        (["| classifier | accuracy | macro-F1 |", "|---|---|---|"]
            + rows.map { "| \($0.name) | \($0.accuracy.formatted) | \($0.macroF1.formatted) |" }).joined(separator: "\n")
    }
}
