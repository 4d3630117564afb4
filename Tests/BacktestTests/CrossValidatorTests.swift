import Backtest
import Linalg
import Market
import Portfolio
import Testing

@Suite("Cross-validation through the engine")
struct CrossValidatorTests {
    /// The code of the Backtest DocC article "Cross-validating a strategy", verbatim, then checked:
    /// one fold per split, each backtest inside its test fold, the model fitted on the longest
    /// training block and holding exactly its fitted weights at the first decision (1e-12).
    @Test func purgedKFoldThroughTheEngine() throws {
        let panel = try Dataset.sp500Stocks.load().resampled(to: .monthly, aggregation: .last, label: .periodEnd)
            .selecting(assets: ["AAPL", "JNJ", "KO", "XOM", "WMT"])
        let engine = try BacktestEngine(panel: panel, configuration: BacktestConfiguration(
            schedule: .everyPeriod, costs: try TransactionCostModel(rate: 0.001)))
        let model = try OptimizerStrategy(optimizer: MeanVarianceOptimizer(), lookback: 36)
        let folds = try engine.crossValidate(model, validator: PurgedKFold(folds: 5, purgedSize: 2, embargoSize: 1))
        let sharpe = try folds.flatMap(\.results).map { try PerformanceMetrics(result: $0).sharpeRatio ?? .nan }

        let splits = try PurgedKFold(folds: 5, purgedSize: 2, embargoSize: 1).splits(observationCount: panel.timeCount)
        #expect(folds.count == 5 && sharpe.count == 5)
        for (fold, split) in zip(folds, splits) {
            let result = try #require(fold.results.first)
            #expect(result.dates.first == panel.index.label(at: split.test.first!).description)
            #expect(result.dates.last == panel.index.label(at: split.test.last!).description)
            #expect(fold.trainingBars.allSatisfy { split.train.contains($0) })
            var reference = model
            try reference.fit(panel.slicing(fold.trainingBars))
            let first = try #require(result.decisions.first).weightsAfter
            for (a, b) in zip(first, reference.fittedWeights!) { #expect(abs(a - b) <= 1e-12) }
        }
    }

    /// Combinatorial purged CV: every split backtests each contiguous run of its test folds.
    @Test func combinatorialSplitsBacktestEachSegment() throws {
        let panel = try Dataset.sp500Stocks.load().resampled(to: .monthly, aggregation: .last, label: .periodEnd)
            .selecting(assets: ["AAPL", "KO", "XOM"])
        let engine = try BacktestEngine(panel: panel)
        let validator = try CombinatorialPurgedCV(folds: 4, testFolds: 2, purgedSize: 1)
        let folds = try engine.crossValidate(try OptimizerStrategy(optimizer: HierarchicalRiskParity(), lookback: 24),
                                             validator: validator)
        #expect(folds.count == validator.splitCount)
        for (fold, set) in zip(folds, validator.testFoldSets) {
            let adjacent = set.count == 2 && set[1] == set[0] + 1
            #expect(fold.results.count == (adjacent ? 1 : 2), "test folds \(set)")
        }
    }
}
