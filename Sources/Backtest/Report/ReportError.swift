/// Errors thrown while building, decoding, rendering or writing a ``BacktestReport``.
///
/// Every case names the series (or table, option, path) and the position that is
/// wrong, so a caller can point the user at the offending input. A function that
/// throws returns nothing partial: no report is half-built and no file is
/// half-written.
public enum ReportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The report holds no series.
    case noSeries
    /// Two series carry the same name (legends and tables would be ambiguous).
    case duplicateSeriesName(name: String)
    /// A series has fewer than two observations, so it has no return to plot.
    case seriesTooShort(series: String, count: Int)
    /// `field` of `series` has `actual` entries where `expected` (the number of dates, or of assets) are needed.
    /// `row` is the weights row for a ragged weights matrix, `nil` otherwise.
    case lengthMismatch(series: String, field: String, row: Int?, expected: Int, actual: Int)
    /// A wealth value is NaN, infinite, zero or negative.
    case invalidWealth(series: String, index: Int, value: Double)
    /// `dates[index]` is not strictly later than `dates[index - 1]`.
    case unsortedDates(series: String, index: Int, date: String, previous: String)
    /// A weight is NaN or infinite.
    case invalidWeight(series: String, row: Int, asset: String, value: Double)
    /// Two assets of a weights matrix carry the same name.
    case duplicateAssetName(series: String, asset: String)
    /// A turnover value is NaN, infinite or negative.
    case invalidTurnover(series: String, index: Int, value: Double)
    /// A table row has `actual` cells where the table has `expected` columns.
    case tableShape(table: String, row: Int, expected: Int, actual: Int)
    /// A rendering option is out of range.
    case invalidOption(name: String, message: String)
    /// Writing a file (or creating its directory) failed.
    case writeFailed(path: String, reason: String)

    /// A one-line message naming what is wrong and where.
    public var description: String {
        switch self {
        case .noSeries:
            return "report has no series"
        case let .duplicateSeriesName(name):
            return "two series are named \"\(name)\""
        case let .seriesTooShort(series, count):
            return "series \"\(series)\": \(count) observation(s), at least 2 are needed"
        case let .lengthMismatch(series, field, row, expected, actual):
            let place = row.map { " row \($0)" } ?? ""
            return "series \"\(series)\": \(field)\(place) has \(actual) entries, expected \(expected)"
        case let .invalidWealth(series, index, value):
            return "series \"\(series)\": wealth at index \(index) is \(value); wealth must be finite and positive"
        case let .unsortedDates(series, index, date, previous):
            return "series \"\(series)\": date at index \(index) (\(date)) is not after \(previous)"
        case let .invalidWeight(series, row, asset, value):
            return "series \"\(series)\": weight of \"\(asset)\" at row \(row) is \(value); weights must be finite"
        case let .duplicateAssetName(series, asset):
            return "series \"\(series)\": asset \"\(asset)\" appears twice in the weights"
        case let .invalidTurnover(series, index, value):
            return "series \"\(series)\": turnover at index \(index) is \(value); turnover must be finite and non-negative"
        case let .tableShape(table, row, expected, actual):
            return "table \"\(table)\": row \(row) has \(actual) cells, expected \(expected)"
        case let .invalidOption(name, message):
            return "report option \(name): \(message)"
        case let .writeFailed(path, reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
