import Foundation
import Linalg
import Market
import Portfolio
import Testing
@testable import Backtest

struct ValidationFixture: Decodable {
    struct Split: Decodable { let train: [Int]; let test: [Int] }
    struct CombinatorialSplit: Decodable { let train: [Int]; let test: [[Int]] }
    struct WalkForwardCase: Decodable {
        let observations, train_size, test_size, purged_size: Int
        let expanding, reduce_test: Bool
        let splits: [Split]
    }
    struct CombinatorialCase: Decodable {
        let observations, folds, test_folds, purged_size, embargo_size, paths: Int
        let path_ids: [[Int]]
        let splits: [CombinatorialSplit]
    }
    let walk_forward: [WalkForwardCase]
    let combinatorial: [CombinatorialCase]
}

/// A fit/predict model that records the last bar of every training window it is given.
struct RecordingModel: FitPredictStrategy {
    let name = "recording"
    var trainingEnds: [Int] = []
    var trainingStarts: [Int] = []
    let bars: [MarketDate]
    mutating func fit(_ history: PricePanel) throws {
        let dates = history.index.dates!
        trainingStarts.append(bars.firstIndex(of: dates.first!)!)
        trainingEnds.append(bars.firstIndex(of: dates.last!)!)
    }
    func predict(_ context: DecisionContext) throws -> [Double] { [0.5, 0.5] }
}

@Suite("Backtest validation: walk-forward and purged cross-validation")
struct ValidationTests {
    @Test("walk-forward splits equal skfolio's WalkForward (exact indices)")
    func walkForwardMatchesSkfolio() throws {
        let fixture = try fixtures.load("backtest_validation", as: ValidationFixture.self)
        for c in fixture.walk_forward {
            let splitter = try WalkForward(trainSize: c.train_size, testSize: c.test_size, window: c.expanding ? .expanding : .rolling,
                                           purgedSize: c.purged_size, reduceTest: c.reduce_test)
            let splits = try splitter.splits(observationCount: c.observations)
            #expect(splits.map(\.train) == c.splits.map(\.train))
            #expect(splits.map(\.test) == c.splits.map(\.test))
        }
    }

    @Test("combinatorial purged CV equals skfolio's CombinatorialPurgedCV (train, test folds, path ids)")
    func combinatorialMatchesSkfolio() throws {
        let fixture = try fixtures.load("backtest_validation", as: ValidationFixture.self)
        for c in fixture.combinatorial {
            let cv = try CombinatorialPurgedCV(folds: c.folds, testFolds: c.test_folds, purgedSize: c.purged_size, embargoSize: c.embargo_size)
            let splits = try cv.splits(observationCount: c.observations)
            #expect(splits.count == c.splits.count && cv.splitCount == c.splits.count)
            #expect(splits.map(\.train) == c.splits.map(\.train))
            #expect(splits.map(\.test) == c.splits.map(\.test))
            #expect(cv.pathCount == c.paths)
            #expect(cv.pathIDs() == c.path_ids)
        }
    }

    @Test("purged k-fold, hand-checked: 12 observations, 3 folds, purge 1, embargo 1")
    func purgedKFoldByHand() throws {
        // Folds 0…3, 4…7, 8…11. Testing fold 0 drops 4, 5 after it (purge + embargo); fold 1 drops 3
        // before it and 8, 9 after it; fold 2 drops 7 before it.
        let splits = try PurgedKFold(folds: 3, purgedSize: 1, embargoSize: 1).splits(observationCount: 12)
        #expect(splits.map(\.test) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
        #expect(splits.map(\.train) == [[6, 7, 8, 9, 10, 11], [0, 1, 2, 10, 11], [0, 1, 2, 3, 4, 5, 6]])
        // Without purge and embargo it is plain k-fold.
        let plain = try PurgedKFold(folds: 3).splits(observationCount: 12)
        #expect(plain[1].train == [0, 1, 2, 3, 8, 9, 10, 11])
        #expect(throws: BacktestError.self) { try PurgedKFold(folds: 3, purgedSize: 2, embargoSize: 1).splits(observationCount: 12) }
        #expect(throws: BacktestError.self) { try PurgedKFold(folds: 1).splits(observationCount: 12) }
        #expect(throws: BacktestError.self) { try CombinatorialPurgedCV(folds: 4, testFolds: 4) }
        #expect(throws: BacktestError.self) { try WalkForward(trainSize: 0, testSize: 3) }
        #expect(throws: BacktestError.self) { try WalkForward(trainSize: 10, testSize: 3).splits(observationCount: 10) }
    }

    func panel(bars: Int) throws -> PricePanel {
        var generator = Xoshiro256StarStar(seed: 11)
        var closes: [[Double]] = [[100, 100]]
        for _ in 1..<bars {
            let last: [Double] = closes[closes.count - 1]
            var next: [Double] = []
            for price in last {
                let shock: Double = 0.02 * (generator.nextUniform() - 0.5)
                next.append(price * (1 + shock))
            }
            closes.append(next)
        }
        return try makePanel(closes, assets: ["A", "B"])
    }

    @Test("stitched walk-forward: fits end at the test start (minus the purge), never later; refits on schedule")
    func stitchedWalkForward() throws {
        let prices = try panel(bars: 40)
        let engine = try BacktestEngine(panel: prices)
        let model = RecordingModel(bars: prices.index.dates!)
        // 39 returns; train 10, test 7, purge 2: test windows start at 12, 19, 26, 33 (the last, 33…38, is shorter: dropped).
        let splitter = try WalkForward(trainSize: 10, testSize: 7, purgedSize: 2)
        let result = try engine.walkForward(model, splitter: splitter)
        #expect(result.splits.map { $0.test.first! } == [12, 19, 26])
        #expect(result.fitBars == [12, 19, 26])
        #expect(result.backtest.dates.first == prices.index.dates![12].description)
        #expect(result.backtest.periodCount == 21)
        // Same run with in-window refits every 3 bars, model state kept by running in place.
        var strategy = try WalkForwardStrategy(model: model, walkForward: splitter, observationCount: 39, retrainingInterval: 3)
        _ = try BacktestEngine(panel: prices, configuration: BacktestConfiguration(lastBar: strategy.lastBar)).run(&strategy)
        #expect(strategy.fitBars == [12, 15, 18, 19, 22, 25, 26, 29, 32])
        // Window ends: the initial fit of a window ends at train.upperBound = start − purge; a refit at bar t at t − purge.
        #expect(strategy.model.trainingEnds == [10, 13, 16, 17, 20, 23, 24, 27, 30])
        #expect(strategy.model.trainingStarts == [0, 3, 6, 7, 10, 13, 14, 17, 20])
        // Fixed weights walk-forward equal the plain run over the same span (stitching keeps drift and wealth).
        let fixed = try engine.walkForward(FixedWeightsStrategy(weights: [0.5, 0.5]), splitter: splitter).backtest
        let plain = try BacktestEngine(panel: prices, configuration: BacktestConfiguration(firstDecisionBar: 12, lastBar: 33))
            .run(FixedWeightsStrategy(weights: [0.5, 0.5]))
        #expect(fixed.wealth == plain.wealth)
    }

    @Test("walk-forward minimum variance refits on each training window")
    func walkForwardOptimizer() throws {
        let prices = try panel(bars: 120)
        let engine = try BacktestEngine(panel: prices, configuration: BacktestConfiguration(
            schedule: .everyNPeriods(5), costs: TransactionCostModel(rate: 0.001)))
        let model = try OptimizerStrategy(optimizer: MeanVarianceOptimizer(), lookback: 60)
        let result = try engine.walkForward(model, splitter: WalkForward(trainSize: 60, testSize: 20, window: .expanding))
        #expect(result.fitBars == [60, 80])   // 119 returns: the third window (100…119) would end past them
        // Weights after the first refit equal minimum variance on the returns of bars 0…60.
        let window = try ReturnObservations(simpleReturnsOf: prices.slicing(0..<61))
        let direct = try MeanVarianceOptimizer().fit(OptimizationInputs(expectedReturns: nil, covariance: CovarianceEstimator().fit(window)))
        #expect(abs(result.backtest.decisions[0].weightsAfter[0] - direct.weights[0]) < 1e-12)
        let encoded = try JSONEncoder().encode(result)
        #expect(try JSONDecoder().decode(WalkForwardResult.self, from: encoded).fitBars == [60, 80])
    }
}
