/// Errors thrown by `Market` when user data cannot be turned into a valid panel.
///
/// Every case says *what* went wrong and *where*: CSV cases carry the file name
/// (the path as given, or the name passed for in-memory input), the 1-based
/// physical line and the 1-based column (field) number; panel cases carry the
/// asset and the time label. A function that throws leaves nothing behind: no
/// partially loaded panel is ever returned.
public enum MarketError: Error, Sendable, Equatable, CustomStringConvertible {
    // MARK: CSV input

    /// The file holds no bytes (or only blank lines).
    case emptyFile(file: String)
    /// The file has a header but no data rows.
    case noDataRows(file: String)
    /// The first line looks like data (a date where the date header should be,
    /// or only numbers), so the file has no header line.
    case missingHeader(file: String, line: Int)
    /// A header cell is empty.
    case emptyColumnName(file: String, line: Int, column: Int)
    /// Two header cells carry the same name.
    case duplicateColumn(file: String, line: Int, column: Int, name: String)
    /// A column the layout needs (for example `Close`, or a date or asset column) is not in the header.
    case missingColumn(file: String, name: String)
    /// The asset cell of a long-layout row is empty.
    case emptyAsset(file: String, line: Int, column: Int)
    /// A data row has `found` fields where the header has `expected`.
    case raggedRow(file: String, line: Int, expected: Int, found: Int)
    /// A quoted field is not closed before the end of the file, or a closing quote
    /// is followed by something other than a delimiter or a line end.
    case malformedQuote(file: String, line: Int, column: Int)
    /// A cell is neither a decimal number nor one of the missing-value tokens.
    case unparsableNumber(file: String, line: Int, column: Int, text: String)
    /// A date cell does not parse in the file's date format.
    case unparsableDate(file: String, line: Int, column: Int, text: String)
    /// A date is earlier than the one on the previous row (for the same asset in long files).
    case unsortedDates(file: String, line: Int, column: Int, date: MarketDate, previous: MarketDate)
    /// A date repeats the previous row's date (for the same asset in long files).
    case duplicateDate(file: String, line: Int, column: Int, date: MarketDate)
    /// A price cell holds zero or a negative number.
    case nonPositivePrice(file: String, line: Int, column: Int, value: Double)
    /// A volume cell holds a negative number.
    case negativeVolume(file: String, line: Int, column: Int, value: Double)
    /// A price cell holds a positive number below ``PanelCSVReader/smallestPrice`` (a subnormal
    /// number, which later arithmetic cannot divide by).
    case priceTooSmall(file: String, line: Int, column: Int, value: Double)
    /// The header has no value column besides the date column.
    case noValueColumns(file: String, line: Int)
    /// A record has more fields than ``PanelCSVReader/maximumColumns``.
    case tooManyColumns(file: String, line: Int, limit: Int)
    /// A field is longer than ``PanelCSVReader/maximumFieldBytes`` bytes (or a record never ends).
    case fieldTooLong(file: String, line: Int, column: Int, limit: Int)
    /// The bytes are not UTF-8 text (a UTF-16 or UTF-32 byte-order mark, or NUL bytes in the first line).
    case unsupportedEncoding(file: String, detail: String)
    /// The file could not be opened or read; `message` is the system's reason.
    case unreadableFile(file: String, message: String)
    /// The first line of a CryptoDataDownload file is not its banner (a line naming
    /// CryptoDataDownload); `found` is the line's text.
    case missingBanner(file: String, line: Int, found: String)
    /// A timestamp repeats the previous row's timestamp.
    case duplicateTimestamp(file: String, line: Int, column: Int, timestamp: MarketTimestamp)
    /// A timestamp breaks the file's order: rows must be strictly ascending or strictly
    /// descending, and `previous` is the row before it.
    case unsortedTimestamps(file: String, line: Int, column: Int, timestamp: MarketTimestamp, previous: MarketTimestamp)
    /// A row's symbol differs from the first row's in a single-pair file.
    case mixedSymbols(file: String, line: Int, column: Int, expected: String, found: String)

    // MARK: Panels and indices

    /// The dates given to a ``TimeIndex`` are not strictly increasing at `position` (0-based).
    case unsortedIndex(position: Int, date: MarketDate, previous: MarketDate)
    /// A date repeats in a ``TimeIndex`` at `position` (0-based).
    case duplicateIndexDate(position: Int, date: MarketDate)
    /// The timestamps given to a ``TimeIndex`` are not strictly increasing at `position` (0-based).
    case unsortedTimestampIndex(position: Int, timestamp: MarketTimestamp, previous: MarketTimestamp)
    /// A timestamp repeats in a ``TimeIndex`` at `position` (0-based).
    case duplicateIndexTimestamp(position: Int, timestamp: MarketTimestamp)
    /// A matrix, mask or label list has the wrong shape for the panel.
    case shapeMismatch(what: String, expected: String, found: String)
    /// An asset name is empty or appears twice.
    case invalidAssetName(name: String, reason: String)
    /// The asset is not in the panel.
    case unknownAsset(name: String)
    /// A panel value is not allowed: a non-positive or infinite price, a negative
    /// volume or an infinite series value.
    case invalidValue(field: PriceField, asset: String, time: TimeLabel, value: Double, reason: String)
    /// The mask says the asset is tradable at `time`, but its close is missing there.
    case availableWithoutClose(asset: String, time: TimeLabel)
    /// `operation` needs a field the panel does not carry.
    case missingField(operation: String, field: PriceField)
    /// `operation` needs prices (returns are undefined for yields or factor series).
    case notPrices(operation: String)
    /// `operation` needs a dated index, or mixes indices of different kinds (dates, timestamps, periods).
    case indexKindMismatch(operation: String)
    /// The asset has no observation at all, so `operation` cannot place it in time.
    case noObservations(operation: String, asset: String)
    /// An argument is outside its domain; `message` says which and why.
    case invalidArgument(operation: String, message: String)
    /// No embedded dataset has this name.
    case unknownDataset(name: String)
    /// The embedded resource file of a dataset is not in the bundle.
    case missingResource(name: String)

    // MARK: Analytics

    /// A numeric input of an analytic (`parameter` of `operation`, for example the
    /// volatility of a Black–Scholes price) is outside its domain; `reason` says why.
    case invalidParameter(operation: String, parameter: String, value: Double, reason: String)
    /// An option price lies outside its no-arbitrage bounds `lower < price < upper`,
    /// so no volatility reproduces it.
    case priceOutsideNoArbitrageBounds(operation: String, price: Double, lower: Double, upper: Double)
    /// An iterative solver stopped after `iterations` steps with `residual` above its tolerance.
    case noConvergence(operation: String, iterations: Int, residual: Double)

    /// A one-line, human-readable explanation.
    public var description: String {
        switch self {
        case let .emptyFile(file): return "\(file): the file is empty"
        case let .noDataRows(file): return "\(file): the file has a header but no data rows"
        case let .missingHeader(file, line): return "\(file):\(line): missing header line (the first line looks like data)"
        case let .emptyColumnName(file, line, column): return "\(file):\(line):\(column): empty column name"
        case let .duplicateColumn(file, line, column, name): return "\(file):\(line):\(column): duplicate column \(excerpt(name))"
        case let .missingColumn(file, name): return "\(file): required column \(excerpt(name)) not found in the header"
        case let .emptyAsset(file, line, column): return "\(file):\(line):\(column): empty asset name"
        case let .raggedRow(file, line, expected, found): return "\(file):\(line): row has \(found) fields, the header has \(expected)"
        case let .malformedQuote(file, line, column): return "\(file):\(line):\(column): malformed quoted field"
        case let .unparsableNumber(file, line, column, text): return "\(file):\(line):\(column): cannot parse \(excerpt(text)) as a number"
        case let .unparsableDate(file, line, column, text): return "\(file):\(line):\(column): cannot parse \(excerpt(text)) as a date"
        case let .unsortedDates(file, line, column, date, previous):
            return "\(file):\(line):\(column): date \(date) comes after \(previous); dates must increase"
        case let .duplicateDate(file, line, column, date): return "\(file):\(line):\(column): duplicate date \(date)"
        case let .nonPositivePrice(file, line, column, value): return "\(file):\(line):\(column): price \(value) is not positive"
        case let .negativeVolume(file, line, column, value): return "\(file):\(line):\(column): volume \(value) is negative"
        case let .priceTooSmall(file, line, column, value):
            return "\(file):\(line):\(column): price \(value) is below the smallest accepted price \(PanelCSVReader.smallestPrice)"
        case let .noValueColumns(file, line): return "\(file):\(line): the header has no value column besides the dates"
        case let .tooManyColumns(file, line, limit): return "\(file):\(line): the record has more than \(limit) fields"
        case let .fieldTooLong(file, line, column, limit):
            return "\(file):\(line):\(column): the field is longer than \(limit) bytes (or the line never ends)"
        case let .unsupportedEncoding(file, detail): return "\(file): not UTF-8 text (\(detail)); save it as UTF-8"
        case let .unreadableFile(file, message): return "\(file): cannot read: \(message)"
        case let .missingBanner(file, line, found):
            return "\(file):\(line): expected the CryptoDataDownload banner line, found \(excerpt(found))"
        case let .duplicateTimestamp(file, line, column, timestamp): return "\(file):\(line):\(column): duplicate timestamp \(timestamp)"
        case let .unsortedTimestamps(file, line, column, timestamp, previous):
            return "\(file):\(line):\(column): timestamp \(timestamp) after \(previous) breaks the order; rows must be strictly ascending or strictly descending"
        case let .mixedSymbols(file, line, column, expected, found):
            return "\(file):\(line):\(column): symbol \(excerpt(found)) differs from \(excerpt(expected)) of the first row"
        case let .unsortedIndex(position, date, previous):
            return "TimeIndex: date \(date) at position \(position) is earlier than \(previous)"
        case let .duplicateIndexDate(position, date): return "TimeIndex: duplicate date \(date) at position \(position)"
        case let .unsortedTimestampIndex(position, timestamp, previous):
            return "TimeIndex: timestamp \(timestamp) at position \(position) is not later than \(previous)"
        case let .duplicateIndexTimestamp(position, timestamp): return "TimeIndex: duplicate timestamp \(timestamp) at position \(position)"
        case let .shapeMismatch(what, expected, found): return "\(what): expected \(expected), found \(found)"
        case let .invalidAssetName(name, reason): return "asset \(excerpt(name)): \(reason)"
        case let .unknownAsset(name): return "unknown asset \(excerpt(name))"
        case let .invalidValue(field, asset, time, value, reason):
            return "\(field) of \(asset) at \(time) is \(value): \(reason)"
        case let .availableWithoutClose(asset, time): return "\(asset) is marked available at \(time) but has no close"
        case let .missingField(operation, field): return "\(operation): the panel has no \(field) field"
        case let .notPrices(operation): return "\(operation): needs a price panel, not a general series panel"
        case let .indexKindMismatch(operation): return "\(operation): needs dated indices of the same kind"
        case let .noObservations(operation, asset): return "\(operation): asset \(asset) has no observation"
        case let .invalidArgument(operation, message): return "\(operation): \(message)"
        case let .unknownDataset(name): return "unknown dataset \(excerpt(name))"
        case let .missingResource(name): return "embedded resource \(name) is missing from the bundle"
        case let .invalidParameter(operation, parameter, value, reason): return "\(operation): \(parameter) = \(value): \(reason)"
        case let .priceOutsideNoArbitrageBounds(operation, price, lower, upper):
            return "\(operation): price \(price) is outside the no-arbitrage bounds (\(lower), \(upper))"
        case let .noConvergence(operation, iterations, residual):
            return "\(operation): no convergence after \(iterations) iterations (residual \(residual))"
        }
    }

    /// `text` quoted for a message: control characters escaped and at most
    /// ``excerptLength`` characters kept, so a huge or binary cell cannot flood the terminal.
    public static func excerpt(_ text: String) -> String {
        var out = "\""
        var kept = 0
        for scalar in text.unicodeScalars {
            if kept == excerptLength {
                return out + "…\""
            }
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || scalar == "\u{FFFD}" {
                    out += scalar == "\u{FFFD}" ? "\\u{FFFD}" : "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            kept += 1
        }
        return out + "\""
    }

    /// The most characters of a cell quoted in a message.
    public static let excerptLength = 60

    private func excerpt(_ text: String) -> String { MarketError.excerpt(text) }
}
