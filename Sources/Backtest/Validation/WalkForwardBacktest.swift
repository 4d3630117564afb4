import Market

/// Drives a ``FitPredictStrategy`` through walk-forward splits inside one engine run, so the
/// out-of-sample test windows stitch into a single backtest (weights, drift and costs carry across
/// window boundaries).
///
/// Observations are the panel's returns: observation `k` is the period `(k, k+1]` between bars `k`
/// and `k + 1`. A split with train observations `[a, b)` and test observations `[s, e)` fits on the
/// prices of bars `a…b` (with `b ≤ s`, so nothing after the decision bar `s`) and holds the model's
/// portfolios over the periods `(s, s+1] … (e−1, e]`. The model is refit at the first decision of each
/// test window and, with ``retrainingInterval``, every that many bars within it on the window the
/// splitter's rule gives (rolling or expanding) ending at the refit bar. Rebalancing between refits
/// follows the engine's schedule and calls ``FitPredictStrategy/predict(_:)``.
public struct WalkForwardStrategy<Model: FitPredictStrategy>: BacktestStrategy {
    /// The model being refit.
    public private(set) var model: Model
    /// The splitter.
    public let walkForward: WalkForward
    /// Bars between refits inside a test window; `nil` refits once per window.
    public let retrainingInterval: Int?
    /// The train/test windows, in observations.
    public let windows: [(train: Range<Int>, test: Range<Int>)]
    /// The bars at which the model was refit, in order.
    public private(set) var fitBars: [Int] = []
    private var lastFitWindow: Int?
    private var lastFitBar: Int?

    /// Prepares the splits of `observationCount` observations (the panel's bars minus one).
    ///
    /// - Throws: the splitter's errors; ``BacktestError/invalidArgument(operation:parameter:message:)``
    ///   for a retraining interval below 1.
    public init(model: Model, walkForward: WalkForward, observationCount: Int, retrainingInterval: Int? = nil) throws {
        if let interval = retrainingInterval, interval < 1 {
            throw BacktestError.invalidArgument(operation: "WalkForwardStrategy", parameter: "retrainingInterval",
                                                message: "\(interval) must be at least 1")
        }
        self.model = model
        self.walkForward = walkForward
        self.retrainingInterval = retrainingInterval
        self.windows = try walkForward.windows(observationCount: observationCount)
    }

    /// `"walk-forward <model>"`.
    public var name: String { "walk-forward \(model.name)" }

    /// Bars up to the first test window's start.
    public var requiredHistory: Int { (windows.first?.test.lowerBound ?? 0) + 1 }

    /// First bar after the last test window: the engine's last bar for a stitched run.
    public var lastBar: Int { windows.last?.test.upperBound ?? 0 }

    /// Refits when a new test window starts or the retraining interval has passed, then predicts.
    ///
    /// - Throws: the model's errors; ``BacktestError/invalidArgument(operation:parameter:message:)``
    ///   when the decision bar lies outside every test window.
    public mutating func targetWeights(_ context: DecisionContext) throws -> [Double] {
        let bar = context.bar
        guard let index = windows.firstIndex(where: { $0.test.contains(bar) }) else {
            throw BacktestError.invalidArgument(operation: "WalkForwardStrategy", parameter: "bar",
                                                message: "decision bar \(bar) is outside every test window")
        }
        let due: Bool
        if lastFitWindow != index {
            due = true
        } else if let interval = retrainingInterval, let last = lastFitBar {
            due = bar - last >= interval
        } else {
            due = false
        }
        if due {
            let trainEnd = lastFitWindow == index ? bar - walkForward.purgedSize : windows[index].train.upperBound
            let trainStart = walkForward.window == .expanding ? windows[index].train.lowerBound
                : Swift.max(0, trainEnd - walkForward.trainSize)
            try model.fit(context.history(bars: trainStart..<(trainEnd + 1)))
            lastFitWindow = index
            lastFitBar = bar
            fitBars.append(bar)
        }
        return try model.predict(context)
    }
}

/// The outcome of a stitched walk-forward backtest.
public struct WalkForwardResult: Sendable, Codable {
    /// The out-of-sample backtest over all test windows.
    public let backtest: BacktestResult
    /// The splits, in observations (returns) of the panel.
    public let splits: [TrainTestSplit]
    /// Bars at which the model was refit.
    public let fitBars: [Int]
}

extension BacktestEngine {
    /// Runs `model` walk-forward: fit on each train window, trade the following test window, and
    /// stitch the test windows into one backtest from the first test bar to the last.
    ///
    /// The engine's ``BacktestConfiguration/firstDecisionBar`` and ``BacktestConfiguration/lastBar``
    /// are replaced by the test span.
    ///
    /// - Throws: the splitter's errors, the model's, and those of `run(_:)`.
    public func walkForward<Model: FitPredictStrategy>(_ model: Model, splitter: WalkForward,
                                                       retrainingInterval: Int? = nil) throws -> WalkForwardResult {
        var strategy = try WalkForwardStrategy(model: model, walkForward: splitter, observationCount: panel.timeCount - 1,
                                               retrainingInterval: retrainingInterval)
        var configuration = self.configuration
        configuration.firstDecisionBar = strategy.requiredHistory - 1
        configuration.lastBar = strategy.lastBar
        let result = try BacktestEngine(panel: panel, configuration: configuration).run(&strategy)
        return WalkForwardResult(backtest: result,
                                 splits: strategy.windows.map { TrainTestSplit(train: Array($0.train), test: Array($0.test)) },
                                 fitBars: strategy.fitBars)
    }
}
