/// Errors thrown by `Regimes` when data or parameters cannot be fitted or evaluated.
///
/// Every case names the operation (for example `"GaussianHMM.fit"`) and where the
/// problem sits: the row and column of a bad observation, the state or component
/// that collapsed, the EM iteration at which it happened.
public enum RegimesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The observation matrix has no rows or no columns.
    case emptyData(operation: String)
    /// An observation is NaN or infinite at `(row, column)` (0-based).
    case nonFinite(operation: String, row: Int, column: Int)
    /// An observation at `(row, column)` (0-based) exceeds ``RegimesLimits/maximumMagnitude`` in
    /// magnitude, where squared distances would overflow.
    case valueOutOfRange(operation: String, row: Int, column: Int, value: Double, limit: Double)
    /// A parameter array or matrix has the wrong shape.
    case shapeMismatch(operation: String, what: String, expected: String, found: String)
    /// An argument is outside its domain; `message` says which and why.
    case invalidArgument(operation: String, message: String)
    /// Fewer distinct observations (`distinct`) than clusters, components or states (`required`).
    case tooFewDistinctPoints(operation: String, distinct: Int, required: Int)
    /// Column `column` is constant and the method has no regularization that would keep
    /// its variance positive (set `regularization`/`covariancePrior`/`covarianceFloor` > 0).
    case constantColumn(operation: String, column: Int)
    /// State or component `state` received (numerically) no probability mass at EM
    /// iteration `iteration` (1-based), so its mean and covariance are undefined.
    case emptyState(operation: String, state: Int, iteration: Int)
    /// The covariance of `state` is not positive definite (its Cholesky factorization failed at
    /// leading minor `pivot`, 1-based), at EM iteration `iteration` (0 for given parameters).
    case notPositiveDefinite(operation: String, state: Int, pivot: Int, iteration: Int)
    /// Every one of `restarts` restarts failed; `lastError` is the last failure's description.
    case allRestartsFailed(operation: String, restarts: Int, lastError: String)

    /// A one-line, human-readable explanation.
    public var description: String {
        switch self {
        case let .emptyData(operation): return "\(operation): the observations are empty"
        case let .nonFinite(operation, row, column):
            return "\(operation): observation at row \(row), column \(column) is not finite"
        case let .valueOutOfRange(operation, row, column, value, limit):
            return "\(operation): observation \(value) at row \(row), column \(column) exceeds ±\(limit); rescale the data or model returns"
        case let .shapeMismatch(operation, what, expected, found):
            return "\(operation): \(what) has shape \(found), expected \(expected)"
        case let .invalidArgument(operation, message): return "\(operation): \(message)"
        case let .tooFewDistinctPoints(operation, distinct, required):
            return "\(operation): only \(distinct) distinct observations for \(required) clusters/states"
        case let .constantColumn(operation, column):
            return "\(operation): column \(column) is constant and no covariance regularization is set"
        case let .emptyState(operation, state, iteration):
            return "\(operation): state \(state) received no probability mass at iteration \(iteration)"
        case let .notPositiveDefinite(operation, state, pivot, iteration):
            return "\(operation): covariance of state \(state) is not positive definite (leading minor \(pivot)) at iteration \(iteration)"
        case let .allRestartsFailed(operation, restarts, lastError):
            return "\(operation): all \(restarts) restarts failed; last error: \(lastError)"
        }
    }
}
