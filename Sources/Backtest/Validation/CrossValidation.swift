/// One train/test split of observation indices (0-based positions in a series of `n` observations).
public struct TrainTestSplit: Sendable, Hashable, Codable {
    /// Training observations, increasing.
    public let train: [Int]
    /// Test observations, increasing.
    public let test: [Int]
}

/// Walk-forward splits: a train window followed by a test window, stepped forward by the test size
/// (skfolio's `WalkForward` with an observation count: `test_size`, `train_size`, `expand_train`,
/// `reduce_test`, `purged_size`).
///
/// The first test window starts at `trainSize + purgedSize`; each train window ends `purgedSize`
/// observations before its test window and holds the `trainSize` observations before that
/// (``Window/rolling``) or every observation from 0 (``Window/expanding``). A last, shorter test
/// window is kept only with `reduceTest`.
public struct WalkForward: Sendable, Hashable, Codable {
    /// How the train window moves.
    public enum Window: String, Sendable, Hashable, Codable, CaseIterable {
        /// A fixed number of observations before the test window.
        case rolling
        /// Every observation from the start of the series.
        case expanding
    }

    /// Observations per train window (the first train window for ``Window/expanding``).
    public let trainSize: Int
    /// Observations per test window: also how often the model is refit.
    public let testSize: Int
    /// Rolling or expanding.
    public let window: Window
    /// Observations dropped between train and test windows.
    public let purgedSize: Int
    /// Keep a final, shorter test window.
    public let reduceTest: Bool

    /// Creates a splitter.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` for a non-positive
    ///   size or a negative purge.
    public init(trainSize: Int, testSize: Int, window: Window = .rolling, purgedSize: Int = 0, reduceTest: Bool = false) throws {
        for (name, value) in [("trainSize", trainSize), ("testSize", testSize)] where value < 1 {
            throw BacktestError.invalidArgument(operation: "WalkForward", parameter: name, message: "\(value) must be at least 1")
        }
        guard purgedSize >= 0 else {
            throw BacktestError.invalidArgument(operation: "WalkForward", parameter: "purgedSize", message: "\(purgedSize) is negative")
        }
        self.trainSize = trainSize
        self.testSize = testSize
        self.window = window
        self.purgedSize = purgedSize
        self.reduceTest = reduceTest
    }

    /// The splits of `observationCount` observations, as ranges.
    ///
    /// - Throws: ``BacktestError/insufficientData(operation:observations:required:)`` when
    ///   `trainSize + purgedSize + 1 > observationCount` (no test observation left).
    public func windows(observationCount n: Int) throws -> [(train: Range<Int>, test: Range<Int>)] {
        guard trainSize + purgedSize < n else {
            throw BacktestError.insufficientData(operation: "WalkForward.splits", observations: n, required: trainSize + purgedSize + 1)
        }
        var result: [(train: Range<Int>, test: Range<Int>)] = []
        var testStart = trainSize + purgedSize
        while testStart < n {
            var testEnd = testStart + testSize
            if testEnd > n {
                guard reduceTest else { break }
                testEnd = n
            }
            let trainEnd = testStart - purgedSize
            let trainStart = window == .expanding ? 0 : trainEnd - trainSize
            result.append((trainStart..<trainEnd, testStart..<testEnd))
            testStart = testEnd
        }
        return result
    }

    /// The splits of `observationCount` observations.
    ///
    /// - Throws: as ``windows(observationCount:)``.
    public func splits(observationCount n: Int) throws -> [TrainTestSplit] {
        try windows(observationCount: n).map { TrainTestSplit(train: Array($0.train), test: Array($0.test)) }
    }
}

/// Purging and embargo around test blocks, shared by ``PurgedKFold`` and ``CombinatorialPurgedCV``.
///
/// Observations are cut into `folds` contiguous folds of `⌊n/folds⌋` observations, the last fold
/// taking the remainder. Around every block of consecutive test observations, the `purgedSize`
/// training observations before the block and the `purgedSize + embargoSize` after it are removed
/// from the training set (López de Prado 2018, *Advances in Financial Machine Learning*, §7.4:
/// purging removes training labels that overlap the test period, the embargo those that follow it
/// closely; the layout is skfolio's).
struct FoldLayout {
    let n: Int
    let folds: Int
    let foldSize: Int

    init(n: Int, folds: Int, purgedSize: Int, embargoSize: Int, operation: String) throws {
        guard folds >= 2 else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "folds", message: "\(folds) must be at least 2")
        }
        guard purgedSize >= 0, embargoSize >= 0 else {
            throw BacktestError.invalidArgument(operation: operation, parameter: purgedSize < 0 ? "purgedSize" : "embargoSize",
                                                message: "must not be negative")
        }
        let size = n / folds
        guard size >= 1, purgedSize + embargoSize < size - 1 else {
            throw BacktestError.insufficientData(operation: operation, observations: n,
                                                 required: folds * (purgedSize + embargoSize + 2))
        }
        self.n = n
        self.folds = folds
        self.foldSize = size
    }

    /// The fold of observation `i`.
    func fold(of i: Int) -> Int { Swift.min(i / foldSize, folds - 1) }

    /// The observations of fold `f`.
    func observations(ofFold f: Int) -> [Int] {
        Array((f * foldSize)..<(f == folds - 1 ? n : (f + 1) * foldSize))
    }

    /// The training observations when `testFolds` are tested, after purging and embargo.
    func train(testFolds: Set<Int>, purgedSize: Int, embargoSize: Int) -> [Int] {
        // 1 test, 0 train, −1 removed.
        var state = (0..<n).map { testFolds.contains(fold(of: $0)) ? 1 : 0 }
        let original = state
        for i in 0..<(n - 1) {
            if original[i] == 0 && original[i + 1] == 1 {
                for k in 0..<purgedSize { state[Swift.max(0, i - k)] = -1 }
            } else if original[i] == 1 && original[i + 1] == 0 {
                for k in 0..<(purgedSize + embargoSize) { state[Swift.min(n - 1, i + k + 1)] = -1 }
            }
        }
        return (0..<n).filter { state[$0] == 0 }
    }
}

/// Purged k-fold cross-validation: each fold is tested once, trained on the other folds minus the
/// purged and embargoed observations around it (López de Prado 2018, §7.4.1–7.4.2). With
/// `purgedSize = embargoSize = 0` this is scikit-learn's `KFold` without shuffling (except that the
/// last fold, not the first, takes the remainder, as in skfolio's combinatorial layout).
public struct PurgedKFold: Sendable, Hashable, Codable {
    /// Number of folds `k ≥ 2`.
    public let folds: Int
    /// Training observations removed before each test block (label horizon).
    public let purgedSize: Int
    /// Extra training observations removed after each test block.
    public let embargoSize: Int

    /// Creates the splitter (validated when splitting).
    public init(folds: Int, purgedSize: Int = 0, embargoSize: Int = 0) {
        self.folds = folds
        self.purgedSize = purgedSize
        self.embargoSize = embargoSize
    }

    /// The `k` splits of `observationCount` observations, fold 0 tested first.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` for fewer than two
    ///   folds or a negative size; ``BacktestError/insufficientData(operation:observations:required:)``
    ///   when `purgedSize + embargoSize ≥ ⌊n/k⌋ − 1`.
    public func splits(observationCount n: Int) throws -> [TrainTestSplit] {
        let layout = try FoldLayout(n: n, folds: folds, purgedSize: purgedSize, embargoSize: embargoSize, operation: "PurgedKFold")
        return (0..<folds).map { f in
            TrainTestSplit(train: layout.train(testFolds: [f], purgedSize: purgedSize, embargoSize: embargoSize),
                           test: layout.observations(ofFold: f))
        }
    }
}

/// Combinatorial purged cross-validation (López de Prado 2018, §12.4): `N` folds, every combination
/// of `k` test folds (in lexicographic order) is one split, trained on the remaining folds after
/// purging and embargo. The `C(N, k)` splits' test folds recombine into `φ = k·C(N, k)/N` complete
/// backtest paths; ``pathIDs()`` says which path each test fold of each split belongs to
/// (skfolio's `CombinatorialPurgedCV` and `get_path_ids`).
public struct CombinatorialPurgedCV: Sendable, Hashable, Codable {
    /// Number of folds `N ≥ 3`.
    public let folds: Int
    /// Test folds per split, `2 ≤ k < N`.
    public let testFolds: Int
    /// Training observations removed before each test block.
    public let purgedSize: Int
    /// Extra training observations removed after each test block.
    public let embargoSize: Int

    /// Creates the splitter.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` unless
    ///   `N ≥ 3`, `2 ≤ k < N` and the sizes are non-negative.
    public init(folds: Int, testFolds: Int, purgedSize: Int = 0, embargoSize: Int = 0) throws {
        let operation = "CombinatorialPurgedCV"
        guard folds >= 3 else { throw BacktestError.invalidArgument(operation: operation, parameter: "folds", message: "\(folds) must be at least 3") }
        guard testFolds >= 2, testFolds < folds else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "testFolds", message: "\(testFolds) is not in 2..<\(folds)")
        }
        guard purgedSize >= 0, embargoSize >= 0 else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "purgedSize/embargoSize", message: "must not be negative")
        }
        self.folds = folds
        self.testFolds = testFolds
        self.purgedSize = purgedSize
        self.embargoSize = embargoSize
    }

    /// The test-fold combinations, lexicographic: `C(N, k)` rows of `k` fold numbers.
    public var testFoldSets: [[Int]] {
        var result: [[Int]] = []
        func extend(_ prefix: [Int], _ next: Int) {
            if prefix.count == testFolds { result.append(prefix); return }
            guard next < folds else { return }
            for f in next..<folds { extend(prefix + [f], f + 1) }
        }
        extend([], 0)
        return result
    }

    /// Number of splits `C(N, k)`.
    public var splitCount: Int { testFoldSets.count }

    /// Number of backtest paths `k·C(N, k)/N`.
    public var pathCount: Int { testFolds * splitCount / folds }

    /// For each split and each of its test folds (in order), the path it belongs to: a fold's
    /// `j`-th appearance among the splits (in split order) goes to path `j`.
    public func pathIDs() -> [[Int]] {
        var seen = [Int](repeating: 0, count: folds)
        return testFoldSets.map { set in
            set.map { fold in
                defer { seen[fold] += 1 }
                return seen[fold]
            }
        }
    }

    /// The splits of `observationCount` observations: train indices and the test indices of each
    /// test fold.
    ///
    /// - Throws: ``BacktestError/insufficientData(operation:observations:required:)`` when
    ///   `purgedSize + embargoSize ≥ ⌊n/N⌋ − 1`.
    public func splits(observationCount n: Int) throws -> [(train: [Int], test: [[Int]])] {
        let layout = try FoldLayout(n: n, folds: folds, purgedSize: purgedSize, embargoSize: embargoSize,
                                    operation: "CombinatorialPurgedCV")
        return testFoldSets.map { set in
            (layout.train(testFolds: Set(set), purgedSize: purgedSize, embargoSize: embargoSize),
             set.map { layout.observations(ofFold: $0) })
        }
    }
}
