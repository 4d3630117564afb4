import Market

/// A way of splitting a series of bars into training and test sets: ``WalkForward``,
/// ``PurgedKFold`` or ``CombinatorialPurgedCV``, or a user's own. Run any of them through the engine
/// with ``BacktestEngine/crossValidate(_:validator:)``.
public protocol CrossValidator: Sendable {
    /// The splits of `observationCount` bars; each split's test bars may form several contiguous
    /// segments (combinatorial purged CV tests several folds at once).
    func trainTestSplits(observationCount: Int) throws -> [TrainTestSplit]
}

extension WalkForward: CrossValidator {
    /// The walk-forward windows as splits (``splits(observationCount:)``).
    public func trainTestSplits(observationCount: Int) throws -> [TrainTestSplit] {
        try splits(observationCount: observationCount)
    }
}

extension PurgedKFold: CrossValidator {
    /// The `k` folds (``splits(observationCount:)``).
    public func trainTestSplits(observationCount: Int) throws -> [TrainTestSplit] {
        try splits(observationCount: observationCount)
    }
}

extension CombinatorialPurgedCV: CrossValidator {
    /// Each combination of test folds as one split whose test bars are the union of its folds.
    public func trainTestSplits(observationCount: Int) throws -> [TrainTestSplit] {
        try splits(observationCount: observationCount).map { TrainTestSplit(train: $0.train, test: $0.test.flatMap { $0 }.sorted()) }
    }
}

/// What one split of a cross-validation produced.
public struct CrossValidationFold: Sendable {
    /// The split's position in the validator's order.
    public let split: Int
    /// The contiguous bars the model was fitted on.
    public let trainingBars: Range<Int>
    /// One backtest per contiguous test segment, in bar order.
    public let results: [BacktestResult]
}

/// A fitted model applied without refitting: each decision is its prediction.
struct FittedPrediction<Model: FitPredictStrategy>: BacktestStrategy {
    var model: Model
    var name: String { model.name }
    mutating func targetWeights(_ context: DecisionContext) throws -> [Double] { try model.predict(context) }
}

extension BacktestEngine {
    /// Cross-validates `model`: for every split of `validator` over the panel's bars, fits a copy of
    /// the model on the longest contiguous run of the split's training bars, then backtests its
    /// predictions over each contiguous test segment with this engine's schedule, costs and cash
    /// (the first decision at the segment's first bar, the last period ending at its last bar).
    ///
    /// A training set with a gap (purged k-fold trains on both sides of the test fold) is not joined
    /// across the gap: a price return spanning it would carry the test period's move into training.
    /// Segments of a single bar hold no period and are skipped.
    ///
    /// - Returns: the population of results, one ``CrossValidationFold`` per split.
    /// - Throws: the validator's errors, ``BacktestError/insufficientData(operation:observations:required:)``
    ///   for a split without training bars, and the model's and the engine's errors.
    public func crossValidate<Model: FitPredictStrategy>(_ model: Model, validator: some CrossValidator) throws
        -> [CrossValidationFold] {
        let splits = try validator.trainTestSplits(observationCount: panel.timeCount)
        return try splits.enumerated().map { index, split in
            guard let block = contiguousRuns(split.train).max(by: { $0.count < $1.count }) else {
                throw BacktestError.insufficientData(operation: "BacktestEngine.crossValidate", observations: 0, required: 2)
            }
            var fitted = model
            try fitted.fit(panel.slicing(block))
            var results: [BacktestResult] = []
            for segment in contiguousRuns(split.test) where segment.count >= 2 {
                var settings = configuration
                settings.firstDecisionBar = segment.lowerBound
                settings.lastBar = segment.upperBound - 1
                results.append(try BacktestEngine(panel: panel, configuration: settings).run(FittedPrediction(model: fitted)))
            }
            return CrossValidationFold(split: index, trainingBars: block, results: results)
        }
    }
}

/// The maximal runs of consecutive integers in an increasing list.
func contiguousRuns(_ bars: [Int]) -> [Range<Int>] {
    var runs: [Range<Int>] = []
    var start: Int?, previous = 0
    for bar in bars {
        if start != nil, bar == previous + 1 {
            previous = bar
            continue
        }
        if let s = start { runs.append(s..<(previous + 1)) }
        start = bar
        previous = bar
    }
    if let s = start { runs.append(s..<(previous + 1)) }
    return runs
}
