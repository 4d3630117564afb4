/// Errors thrown by the backtest engine, its metrics and its validation splitters.
///
/// Every case says what was wrong and where: the strategy, the time label (an ISO date or
/// `period N`), the asset, the parameter or the index. A function that throws returns nothing
/// partial.
public enum BacktestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A configuration or function argument is outside its domain (`parameter` of `operation`).
    case invalidArgument(operation: String, parameter: String, message: String)
    /// The price panel cannot be backtested (general series, too few bars, no assets).
    case invalidPanel(message: String)
    /// A calendar schedule needs a dated index; the panel is indexed by periods.
    case calendarScheduleNeedsDates(schedule: String)
    /// The backtest window leaves no period to hold a portfolio: the first trade would be at bar
    /// `firstTradeBar` but the last bar is `lastBar`.
    case insufficientHistory(strategy: String, firstTradeBar: Int, lastBar: Int)
    /// The strategy returned `found` weights for `expected` assets.
    case weightCountMismatch(strategy: String, time: String, expected: Int, found: Int)
    /// The strategy returned a NaN or infinite weight for `asset`.
    case nonFiniteWeight(strategy: String, time: String, asset: String)
    /// The strategy returned a negative weight in a long-only backtest (no
    /// ``BacktestConfiguration/maximumGrossLeverage``).
    case negativeWeight(strategy: String, time: String, asset: String, weight: Double)
    /// The target's gross exposure `Σ|wᵢ|` exceeds ``BacktestConfiguration/maximumGrossLeverage``.
    case grossLeverageExceeded(strategy: String, time: String, gross: Double, limit: Double)
    /// A levered or short book lost everything: the period's growth factor `Σᵢ wᵢyᵢ` was not positive.
    case wealthExhausted(strategy: String, time: String, growth: Double)
    /// The weights do not sum to one (without a cash asset) or exceed one (with a cash asset).
    case weightsDoNotSumToOne(strategy: String, time: String, sum: Double)
    /// The strategy asked for a positive weight on an asset that cannot be held over the next
    /// period (not yet listed, delisted, or without a price at the execution bar or the next one).
    case weightOnUnavailableAsset(strategy: String, time: String, asset: String, weight: Double)
    /// After removing unavailable assets nothing is left to hold and there is no cash asset.
    case noAvailableAssets(strategy: String, time: String)
    /// The strategy itself threw; `message` is its error's description.
    case strategyFailed(strategy: String, time: String, message: String)
    /// The fixed-point iteration for the transaction remainder factor did not converge.
    case costIterationDidNotConverge(time: String, iterations: Int, residual: Double)
    /// A metric needs at least `required` observations; `observations` were given.
    case insufficientData(operation: String, observations: Int, required: Int)
    /// Two series that must align have different lengths.
    case lengthMismatch(operation: String, lhs: String, lhsCount: Int, rhs: String, rhsCount: Int)
    /// A return series holds a NaN or infinity at `index` (0-based).
    case nonFiniteValue(operation: String, what: String, index: Int)
    /// The portfolio value left the range of `Double` at `time` (a price relative or the wealth
    /// overflowed): the prices move by too many orders of magnitude.
    case wealthOverflow(strategy: String, time: String)
    /// The portfolio value fell below the smallest normal `Double` at `time` (losses or costs
    /// consumed it), where its returns can no longer be measured.
    case wealthUnderflow(strategy: String, time: String, wealth: Double)
    /// A performance measure of `strategy` came out NaN or infinite (`value`).
    case nonFiniteMetric(strategy: String, metric: String, value: Double)

    /// A one-line, human-readable explanation.
    public var description: String {
        switch self {
        case let .invalidArgument(operation, parameter, message):
            return "\(operation): \(parameter): \(message)"
        case let .invalidPanel(message):
            return "backtest panel: \(message)"
        case let .calendarScheduleNeedsDates(schedule):
            return "the \(schedule) rebalancing schedule needs a dated price index, not periods"
        case let .insufficientHistory(strategy, firstTradeBar, lastBar):
            return "\(strategy): the first trade would be at bar \(firstTradeBar) but the last bar is \(lastBar); no period left to hold"
        case let .weightCountMismatch(strategy, time, expected, found):
            return "\(strategy) at \(time): \(found) weights for \(expected) assets"
        case let .nonFiniteWeight(strategy, time, asset):
            return "\(strategy) at \(time): weight of \(asset) is not finite"
        case let .negativeWeight(strategy, time, asset, weight):
            return "\(strategy) at \(time): weight \(weight) of \(asset) is negative (the backtest is long-only; set maximumGrossLeverage to allow shorts)"
        case let .grossLeverageExceeded(strategy, time, gross, limit):
            return "\(strategy) at \(time): gross exposure Σ|w| = \(gross) exceeds the limit \(limit)"
        case let .wealthExhausted(strategy, time, growth):
            return "\(strategy) at \(time): the book lost all its value (growth factor \(growth) over the period)"
        case let .weightsDoNotSumToOne(strategy, time, sum):
            return "\(strategy) at \(time): weights sum to \(sum), not 1 (or at most 1 with a cash asset)"
        case let .weightOnUnavailableAsset(strategy, time, asset, weight):
            return "\(strategy) at \(time): weight \(weight) on \(asset), which cannot be held over the next period"
        case let .noAvailableAssets(strategy, time):
            return "\(strategy) at \(time): no available asset left to hold and no cash asset"
        case let .strategyFailed(strategy, time, message):
            return "\(strategy) at \(time): \(message)"
        case let .costIterationDidNotConverge(time, iterations, residual):
            return "transaction remainder factor at \(time): no convergence after \(iterations) iterations (residual \(residual))"
        case let .insufficientData(operation, observations, required):
            return "\(operation): \(observations) observations, at least \(required) required"
        case let .lengthMismatch(operation, lhs, lhsCount, rhs, rhsCount):
            return "\(operation): \(lhs) has \(lhsCount) entries but \(rhs) has \(rhsCount)"
        case let .nonFiniteValue(operation, what, index):
            return "\(operation): \(what) is not finite at index \(index)"
        case let .wealthOverflow(strategy, time):
            return "\(strategy) at \(time): the portfolio value leaves the range of a Double (the prices move by too many orders of magnitude)"
        case let .wealthUnderflow(strategy, time, wealth):
            return "\(strategy) at \(time): the portfolio value fell to \(wealth), below the smallest measurable (\(Double.leastNormalMagnitude)); losses or costs consumed it"
        case let .nonFiniteMetric(strategy, metric, value):
            return "\(strategy): the \(metric) is \(value) (the wealth or returns are too extreme to measure)"
        }
    }
}
