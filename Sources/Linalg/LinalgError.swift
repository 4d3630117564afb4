/// The shape of a matrix as `(rows, columns)`, used in error messages.
public struct Shape: Sendable, Hashable, CustomStringConvertible {
    /// Number of rows.
    public var rows: Int
    /// Number of columns.
    public var columns: Int

    /// Creates a shape of `rows × columns`.
    public init(_ rows: Int, _ columns: Int) {
        self.rows = rows
        self.columns = columns
    }

    /// `"rows×columns"`.
    public var description: String { "\(rows)×\(columns)" }
}

/// Errors thrown by `Linalg` when the data handed to it cannot be processed.
///
/// Every case names the operation that failed and carries enough detail (shapes,
/// the failing pivot, LAPACK's `info`) to find the cause without a debugger.
public enum LinalgError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Two operands have incompatible shapes for `operation`.
    case dimensionMismatch(operation: String, lhs: Shape, rhs: Shape)
    /// `operation` requires a square matrix but got `shape`.
    case notSquare(operation: String, shape: Shape)
    /// `operation` was given an empty matrix or vector.
    case empty(operation: String)
    /// The matrix is not (numerically) positive definite: the leading minor of order
    /// `pivot` (1-based, as LAPACK reports it) is not positive.
    case notPositiveDefinite(operation: String, pivot: Int)
    /// The matrix is exactly singular: `U[pivot, pivot]` (1-based) of its LU factor is zero.
    case singular(operation: String, pivot: Int)
    /// The input holds a NaN or an infinity at `(row, column)` (0-based).
    case nonFinite(operation: String, row: Int, column: Int)
    /// An argument is outside its domain; `message` says which and why.
    case invalidArgument(operation: String, message: String)
    /// An iterative method stopped after `iterations` without reaching its tolerance.
    case notConverged(operation: String, iterations: Int, residual: Double)
    /// A LAPACK routine returned a nonzero `info` that has no more specific case.
    case lapackFailure(routine: String, info: Int)

    /// A one-line, human-readable explanation.
    public var description: String {
        switch self {
        case let .dimensionMismatch(operation, lhs, rhs):
            return "\(operation): dimension mismatch between \(lhs) and \(rhs)"
        case let .notSquare(operation, shape):
            return "\(operation): requires a square matrix, got \(shape)"
        case let .empty(operation):
            return "\(operation): input is empty"
        case let .notPositiveDefinite(operation, pivot):
            return "\(operation): matrix is not positive definite (leading minor of order \(pivot) is not positive)"
        case let .singular(operation, pivot):
            return "\(operation): matrix is singular (zero pivot at U[\(pivot),\(pivot)], 1-based)"
        case let .nonFinite(operation, row, column):
            return "\(operation): non-finite value at row \(row), column \(column)"
        case let .invalidArgument(operation, message):
            return "\(operation): \(message)"
        case let .notConverged(operation, iterations, residual):
            return "\(operation): did not converge after \(iterations) iterations (residual \(residual))"
        case let .lapackFailure(routine, info):
            return "\(routine): LAPACK returned info = \(info)"
        }
    }
}
