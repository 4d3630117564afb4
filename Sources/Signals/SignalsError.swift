/// Errors thrown by `Signals` when a series or a parameter cannot be processed.
///
/// Every case names the operation (for example `"Indicators.rsi"`) and where the problem is:
/// the 0-based position of a bad value, the parameter and its value.
public enum SignalsError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The series is empty.
    case emptySeries(operation: String)
    /// The series holds a NaN or an infinity at `position` (0-based).
    case nonFinite(operation: String, position: Int)
    /// The `component` (for example `D3` or `S4`) of a decomposition overflowed: the values are too
    /// large for the filter sums (rescale the series).
    case overflow(operation: String, component: String)
    /// Two series that must be aligned have different lengths.
    case lengthMismatch(operation: String, expected: Int, found: Int, what: String)
    /// A parameter (window, level, threshold…) is outside its domain; `reason` says why.
    case invalidParameter(operation: String, parameter: String, value: String, reason: String)
    /// No wavelet filter has this name.
    case unknownWavelet(name: String)
    /// The series is too short for the requested levels or window.
    case seriesTooShort(operation: String, length: Int, required: Int)
    /// A value that must be positive (a price) is not, at `position`.
    case nonPositive(operation: String, position: Int, value: Double)
    /// A scaler was asked to transform data with a different number of columns than it was fitted on.
    case columnMismatch(operation: String, fitted: Int, found: Int)

    /// A one-line, human-readable explanation.
    public var description: String {
        switch self {
        case let .emptySeries(operation): return "\(operation): the series is empty"
        case let .nonFinite(operation, position): return "\(operation): value at position \(position) is not finite"
        case let .overflow(operation, component):
            return "\(operation): the \(component) component overflows (the values are too large; rescale the series)"
        case let .lengthMismatch(operation, expected, found, what):
            return "\(operation): \(what) has length \(found), expected \(expected)"
        case let .invalidParameter(operation, parameter, value, reason): return "\(operation): \(parameter) = \(value): \(reason)"
        case let .unknownWavelet(name):
            return "unknown wavelet \"\(name)\" (known: haar, db2–db10, sym2–sym10 / la4–la20, coif1–coif5)"
        case let .seriesTooShort(operation, length, required):
            return "\(operation): series of length \(length) is too short, needs at least \(required)"
        case let .nonPositive(operation, position, value): return "\(operation): value \(value) at position \(position) must be positive"
        case let .columnMismatch(operation, fitted, found): return "\(operation): fitted on \(fitted) columns, got \(found)"
        }
    }
}

/// Throws unless `series` is non-empty and finite.
func validateSeries(_ series: [Double], _ operation: String) throws {
    guard !series.isEmpty else { throw SignalsError.emptySeries(operation: operation) }
    if let bad = series.firstIndex(where: { !$0.isFinite }) { throw SignalsError.nonFinite(operation: operation, position: bad) }
}

/// Throws unless `window >= minimum`.
func validateWindow(_ window: Int, _ operation: String, name: String = "window", minimum: Int = 1) throws {
    guard window >= minimum else {
        throw SignalsError.invalidParameter(operation: operation, parameter: name, value: "\(window)", reason: "must be ≥ \(minimum)")
    }
}
