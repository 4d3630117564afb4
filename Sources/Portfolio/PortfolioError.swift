/// The termination status of an optimizer.
public enum SolverStatus: String, Sendable, Hashable, Codable, CustomStringConvertible {
    /// Every KKT condition holds within the solver's tolerances.
    case optimal
    /// The constraints admit no point; see ``PortfolioError/infeasible(operation:conflicting:detail:)``.
    case infeasible
    /// The iteration limit was reached before the KKT conditions held.
    case iterationLimit
    /// The iterate stopped improving before the KKT conditions held (rounding dominates).
    case numericalFailure

    /// The raw value.
    public var description: String { rawValue }
}

/// KKT residuals of a solution, each an infinity norm in the units of the problem.
///
/// For `minimize ½xᵀPx + qᵀx` subject to `Ax = b`, `l ≤ Cx ≤ u` and `lb ≤ x ≤ ub` with
/// multipliers `y` (equalities) and `λ` (signed: positive where a lower side is active,
/// negative where an upper side is active):
/// - `primal`: the largest violation of any constraint;
/// - `dual`: `‖Px + q − Aᵀy − Cᵀλ_C − λ_x‖∞` plus any multiplier of the wrong sign;
/// - `complementarity`: the largest `|λᵢ| · slackᵢ` over inequality sides.
public struct KKTResiduals: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Largest constraint violation.
    public var primal: Double
    /// Largest stationarity residual (and sign violation of a multiplier).
    public var dual: Double
    /// Largest product of a multiplier and the slack of its constraint.
    public var complementarity: Double

    /// Creates residuals.
    public init(primal: Double, dual: Double, complementarity: Double) {
        self.primal = primal
        self.dual = dual
        self.complementarity = complementarity
    }

    /// The largest of the three.
    public var maximum: Double { Swift.max(primal, Swift.max(dual, complementarity)) }

    /// `primal=…, dual=…, complementarity=…`.
    public var description: String {
        "primal \(primal), dual \(dual), complementarity \(complementarity)"
    }
}

/// Errors thrown by `Portfolio` when data, constraints or an optimization cannot give weights.
///
/// Every case names the operation and says what went wrong and where: the two sides of a
/// dimension mismatch, the asset holding a NaN, the constraints that conflict, or a solver's
/// status, iterations and residuals. No `Portfolio` function returns `nil`, NaN weights or a
/// half-fitted estimator instead of throwing.
public enum PortfolioError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Two inputs that must agree in size do not: `lhs` has `lhsCount` entries, `rhs` has `rhsCount`.
    case dimensionMismatch(operation: String, lhs: String, lhsCount: Int, rhs: String, rhsCount: Int)
    /// `what` holds a NaN or infinity for `asset` (at observation `observation` when it is a time series).
    case nonFinite(operation: String, what: String, asset: String, observation: Int?)
    /// The covariance matrix is not positive semidefinite: its smallest eigenvalue is `minimumEigenvalue`.
    case notPositiveSemidefinite(operation: String, minimumEigenvalue: Double)
    /// The covariance matrix is not symmetric: entry `(row, column)` differs from its mirror.
    case notSymmetric(operation: String, row: String, column: String)
    /// No weights satisfy the constraints; `conflicting` names a set of constraints that cannot
    /// hold together (a certificate from the solver, or the pair found by a pre-check).
    case infeasible(operation: String, conflicting: [String], detail: String)
    /// The solver stopped without an optimal point.
    case solverFailed(operation: String, status: SolverStatus, iterations: Int, residuals: KKTResiduals)
    /// An asset name is not in the universe being optimized.
    case unknownAsset(operation: String, asset: String)
    /// Too few observations for the estimator: `observations` given, `required` needed.
    case insufficientData(operation: String, observations: Int, required: Int)
    /// The combination of objective and constraints is not supported; `message` says which.
    case unsupported(operation: String, message: String)
    /// An argument is outside its domain; `message` says which and why.
    case invalidArgument(operation: String, message: String)

    /// A one-line, human-readable explanation.
    public var description: String {
        switch self {
        case let .dimensionMismatch(operation, lhs, lhsCount, rhs, rhsCount):
            return "\(operation): \(lhs) has \(lhsCount) entries but \(rhs) has \(rhsCount)"
        case let .nonFinite(operation, what, asset, observation):
            let at = observation.map { " at observation \($0)" } ?? ""
            return "\(operation): \(what) is not finite for asset \(asset)\(at)"
        case let .notPositiveSemidefinite(operation, minimumEigenvalue):
            return "\(operation): covariance is not positive semidefinite (smallest eigenvalue \(minimumEigenvalue))"
        case let .notSymmetric(operation, row, column):
            return "\(operation): covariance is not symmetric at (\(row), \(column))"
        case let .infeasible(operation, conflicting, detail):
            return "\(operation): infeasible; conflicting constraints: \(conflicting.joined(separator: "; ")) — \(detail)"
        case let .solverFailed(operation, status, iterations, residuals):
            return "\(operation): solver stopped with status \(status) after \(iterations) iterations (\(residuals))"
        case let .unknownAsset(operation, asset):
            return "\(operation): unknown asset \(asset)"
        case let .insufficientData(operation, observations, required):
            return "\(operation): \(observations) observations, at least \(required) required"
        case let .unsupported(operation, message):
            return "\(operation): unsupported — \(message)"
        case let .invalidArgument(operation, message):
            return "\(operation): \(message)"
        }
    }
}
