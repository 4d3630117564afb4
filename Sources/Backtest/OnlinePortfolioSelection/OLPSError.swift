/// Errors of online portfolio selection: bad price relatives, bad parameters, and selectors
/// that return something other than a portfolio.
///
/// Every case names what was wrong and where (period, asset, parameter).
public enum OLPSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The relatives matrix has no periods or no assets.
    case empty(what: String)
    /// `values.count` does not equal `periods × assets`, or the asset names do not match the columns.
    case shapeMismatch(expected: String, found: String)
    /// A price relative is not finite or not strictly positive (0-based period, asset name).
    case invalidRelative(period: Int, asset: String, value: Double)
    /// A price is missing, not finite or not strictly positive (0-based row of the price panel, asset name).
    case invalidPrice(row: Int, asset: String, value: Double)
    /// An algorithm parameter is out of its range.
    case invalidParameter(algorithm: String, name: String, value: Double, requirement: String)
    /// The name of an algorithm or variant is not known.
    case unknownAlgorithm(name: String, known: [String])
    /// A selector returned a vector that is not a long-only portfolio summing to one.
    case invalidPortfolio(algorithm: String, period: Int, reason: String)
    /// A fee outside `[0, 1)`.
    case invalidFee(value: Double)
    /// The hindsight log-optimal (BCRP) solver did not converge.
    case solverFailed(algorithm: String, report: String)

    /// A one-line explanation naming what was wrong and where.
    public var description: String {
        switch self {
        case let .empty(what):
            return "price relatives are empty: \(what)"
        case let .shapeMismatch(expected, found):
            return "price relatives have the wrong shape: expected \(expected), found \(found)"
        case let .invalidRelative(period, asset, value):
            return "price relative of asset \(asset) at period \(period) is \(value); relatives must be finite and > 0"
        case let .invalidPrice(row, asset, value):
            return "price of asset \(asset) at row \(row) is \(value); OLPS needs every price finite and > 0"
        case let .invalidParameter(algorithm, name, value, requirement):
            return "\(algorithm): parameter \(name) = \(value) is invalid (\(requirement))"
        case let .unknownAlgorithm(name, known):
            return "unknown OLPS algorithm \"\(name)\"; known: \(known.joined(separator: ", "))"
        case let .invalidPortfolio(algorithm, period, reason):
            return "\(algorithm) returned an invalid portfolio at period \(period): \(reason)"
        case let .invalidFee(value):
            return "fee \(value) is invalid; a proportional fee must be in [0, 1)"
        case let .solverFailed(algorithm, report):
            return "\(algorithm): log-optimal solver failed (\(report))"
        }
    }
}
