import Foundation

/// ``MetaReturnEvaluation`` repeated over seeds: each line's MSE, direction accuracy and Diebold–Mariano
/// statistic as mean ± standard deviation, the p-values of every seed, and the baselines (seed-free).
public struct MetaReturnComparison: Sendable, Hashable, Codable {
    /// One line's figures over the seeds.
    public struct Row: Sendable, Hashable, Codable {
        /// Line or baseline name.
        public let name: String
        /// Mean squared error of the log-return forecast.
        public let mse: SeedSummary
        /// Mean absolute error of the log-return forecast.
        public let mae: SeedSummary
        /// Share of correct signs.
        public let directionAccuracy: SeedSummary
        /// Diebold–Mariano statistic against the best baseline (`nil` for the baselines).
        public let dieboldMariano: SeedSummary?
        /// Each seed's Diebold–Mariano p-value, in the order run (empty for the baselines).
        public let pValues: [Double]
    }

    /// The forecast horizon.
    public let horizon: Int
    /// Scored test origins (those with a known target).
    public let count: Int
    /// Refits per run.
    public let folds: Int
    /// The baseline the Diebold–Mariano tests compare against.
    public let bestBaseline: String
    /// The seeds, in the order run.
    public let seeds: [UInt64]
    /// Regime, period and pooled lines, then the baselines.
    public let rows: [Row]

    /// Runs the evaluation once per seed (replacing `configuration.network.seed` and `configuration.regimes.seed`).
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for no seeds, and the
    ///   errors of the evaluation.
    public static func run(features: ForecastFeatures, configuration: MetaReturnConfiguration, walkForward: WalkForwardConfiguration,
                           seeds: [UInt64], progress: (@Sendable (String) -> Void)? = nil) throws -> MetaReturnComparison {
        try require(!seeds.isEmpty, "MetaReturnComparison", "seeds", "must not be empty")
        let reports = try seeds.map { seed in
            var settings = configuration
            settings.network.seed = seed
            settings.regimes.seed = seed
            return try MetaReturnEvaluation.run(features: features, configuration: settings, walkForward: walkForward, progress: progress)
        }
        let first = reports[0].report
        let rows = first.scores.map { score in
            let all = reports.map { $0.report.scores.first { $0.name == score.name }! }
            let tests = all.compactMap(\.dieboldMariano)
            return Row(name: score.name, mse: SeedSummary(all.map(\.mse)), mae: SeedSummary(all.map(\.mae)), directionAccuracy: SeedSummary(all.map(\.directionAccuracy)),
                       dieboldMariano: tests.isEmpty ? nil : SeedSummary(tests.map(\.statistic)), pValues: tests.map(\.pValue))
        }
        return MetaReturnComparison(horizon: first.horizon, count: first.count, folds: reports[0].folds.count,
                                    bestBaseline: first.bestBaseline, seeds: seeds, rows: rows)
    }

    /// The rows as a Markdown table (MSE ×10⁴, MAE ×10², direction, DM statistic as mean ± sd; the seeds' p-values).
    public var markdownTable: String {
        (["| forecast | MSE ×10⁴ | MAE ×10² | direction | DM statistic | DM p |", "|---|---|---|---|---|---|"] + rows.map { row in
            func scaled(_ s: SeedSummary, _ factor: Double) -> String {
                String(format: "%.3f ± %.3f", factor * s.mean, factor * s.standardDeviation)
            }
            let p = row.pValues.isEmpty ? "—" : row.pValues.map { String(format: "%.3f", $0) }.joined(separator: ", ")
            return "| \(row.name) | \(scaled(row.mse, 1e4)) | \(scaled(row.mae, 1e2)) | \(row.directionAccuracy.formatted) | \(row.dieboldMariano?.formatted ?? "—") | \(p) |"
        }).joined(separator: "\n")
    }
}
