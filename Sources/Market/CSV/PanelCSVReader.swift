import Linalg

/// Reads a ``PricePanel`` from CSV by streaming bytes.
///
/// ## Layouts
/// - ``Layout/wide``: a date column and one column per asset, one row per date
///   (the S&P 500 and factor files), or no date column at all
///   (``DateColumn/none``: the OLPS files), which gives a period index 0, 1, ….
///   When every value header reads `ASSET:field` (`BTC:open`, `BTC:close`, `ETH:volume` …,
///   field names as in the OHLCV layout), the columns are grouped into one asset per
///   prefix, in order of first appearance, each with those fields; each asset needs a close.
/// - ``Layout/ohlcv(asset:)``: one asset, one row per date, with columns named
///   Open, High, Low, Close, Adj Close and Volume (any case; spaces, `_` and `-`
///   ignored; `Price` also names the close). Close is required; unknown columns are ignored.
/// - ``Layout/long(assetColumn:)``: one row per (date, asset) with an asset column
///   (`Symbol`, `Ticker` or `Asset` unless named) and the OHLCV columns above.
///   Rows may be grouped by date or by asset; each asset's dates must increase.
///   Assets appear in the order they are first seen; a date missing for an asset is `NaN`.
///
/// ## Dates
/// ISO `YYYY-MM-DD`, `M/D/YYYY`, `YYYYMM` (read as the first day of the month) and
/// `YYYYMMDD`. Unless ``dateFormat`` is set, the format is detected from the first
/// data row and then required of every row. Dates must be strictly increasing.
///
/// ## Missing values and validation
/// Empty cells and the tokens in ``missingValues`` (by default `NA`, `N/A`, `NaN`,
/// `nan`, `null`, `NULL`, and FRED's `.`) are missing (`NaN`). Any other cell must be a
/// finite decimal number. For ``PricePanel/Kind/prices`` prices must be positive and
/// volume non-negative; ``PricePanel/Kind/series`` accepts any finite value.
///
/// ## Errors
/// The first problem throws a ``MarketError`` naming the file, the 1-based line and
/// the 1-based column; nothing is returned, so no half-loaded panel exists.
/// Complexity: one pass over the bytes; memory O(cells), never the whole file as text.
public struct PanelCSVReader: Sendable {
    /// How the table is laid out.
    public enum Layout: Sendable, Hashable {
        /// A date column and one column per asset.
        case wide
        /// One asset's OHLCV columns, one row per date.
        case ohlcv(asset: String)
        /// One row per (date, asset); `assetColumn` names the asset column (`nil`: detect).
        case long(assetColumn: String?)
    }

    /// Where the dates are.
    public enum DateColumn: Sendable, Hashable {
        /// The first column.
        case first
        /// The column with this header (exact match after trimming spaces).
        case named(String)
        /// No dates: rows are periods 0, 1, … (wide layout only).
        case none
    }

    /// The default missing-value tokens (besides the empty cell).
    public static let defaultMissingValues = ["NA", "N/A", "NaN", "nan", "null", "NULL", "."]

    /// The most fields a record may have; more throws ``MarketError/tooManyColumns(file:line:limit:)``
    /// before anything is allocated for them (a panel of 10 000 assets already needs an 800 MB covariance).
    public static let maximumColumns = 10_000
    /// The longest field in bytes; longer throws ``MarketError/fieldTooLong(file:line:column:limit:)``,
    /// so a file with no line ends (`/dev/zero`) cannot grow a record until memory runs out.
    public static let maximumFieldBytes = 4_096
    /// The smallest price accepted: the smallest normal `Double`. A subnormal price loses precision
    /// and its reciprocal overflows, so it throws ``MarketError/priceTooSmall(file:line:column:value:)``.
    public static let smallestPrice = Double.leastNormalMagnitude

    /// The table layout.
    public var layout: Layout
    /// The date column.
    public var dateColumn: DateColumn
    /// The date format; `nil` detects it from the first data row.
    public var dateFormat: DateFormat?
    /// Cell texts read as missing (compared after trimming spaces), besides the empty cell.
    public var missingValues: [String]
    /// Prices (checked positive) or general series.
    public var kind: PricePanel.Kind
    /// The class given to every asset read.
    public var assetClass: AssetClass
    /// The field separator byte (`,` by default).
    public var delimiter: UInt8

    /// A reader with the given settings.
    public init(layout: Layout = .wide, dateColumn: DateColumn = .first, dateFormat: DateFormat? = nil,
                missingValues: [String] = PanelCSVReader.defaultMissingValues, kind: PricePanel.Kind = .prices,
                assetClass: AssetClass = .unclassified, delimiter: UInt8 = UInt8(ascii: ",")) {
        self.layout = layout
        self.dateColumn = dateColumn
        self.dateFormat = dateFormat
        self.missingValues = missingValues
        self.kind = kind
        self.assetClass = assetClass
        self.delimiter = delimiter
    }

    /// Reads the file at `path` in 1 MiB chunks. Errors name the file as `path`.
    ///
    /// - Throws: ``MarketError`` (see the type's documentation).
    public func read(path: String) throws -> PricePanel {
        let source = try FileChunkSource(path: path)
        defer { source.close() }
        var tokenizer = CSVTokenizer(source: source, delimiter: delimiter, file: path)
        return try parse(&tokenizer, file: path)
    }

    /// Reads CSV held in memory; `name` stands for the file in errors.
    ///
    /// - Throws: ``MarketError`` (see the type's documentation).
    public func read(bytes: [UInt8], name: String) throws -> PricePanel {
        var tokenizer = CSVTokenizer(source: MemoryChunkSource(bytes: bytes), delimiter: delimiter, file: name)
        return try parse(&tokenizer, file: name)
    }

    /// Reads CSV from any chunk source (tests use tiny chunks to put chunk ends everywhere).
    func read<Source: ByteChunkSource>(source: Source, name: String) throws -> PricePanel {
        var tokenizer = CSVTokenizer(source: source, delimiter: delimiter, file: name)
        return try parse(&tokenizer, file: name)
    }

    /// Reads CSV text; `name` stands for the file in errors.
    ///
    /// - Throws: ``MarketError`` (see the type's documentation).
    public func read(text: String, name: String) throws -> PricePanel {
        try read(bytes: Array(text.utf8), name: name)
    }

    // MARK: - Parsing

    private func parse<Source: ByteChunkSource>(_ tokenizer: inout CSVTokenizer<Source>, file: String) throws -> PricePanel {
        var record = CSVRecord()
        guard try tokenizer.next(into: &record) else { throw MarketError.emptyFile(file: file) }
        let header = (0..<record.count).map(record.string)
        let headerLine = record.line
        var seen: [String: Int] = [:]
        for (k, name) in header.enumerated() {
            guard !name.isEmpty || (k == 0 && dateColumn == .first) else {
                throw MarketError.emptyColumnName(file: file, line: headerLine, column: k + 1)
            }
            if let _ = seen.updateValue(k, forKey: name) {
                throw MarketError.duplicateColumn(file: file, line: headerLine, column: k + 1, name: name)
            }
        }
        let dateIndex: Int?
        switch dateColumn {
        case .first: dateIndex = 0
        case let .named(name):
            guard let k = header.firstIndex(of: name) else { throw MarketError.missingColumn(file: file, name: name) }
            dateIndex = k
        case .none: dateIndex = nil
        }
        // A header that parses as data means the header line is missing.
        let looksLikeData: Bool = record.bytes.withUnsafeBufferPointer { buffer in
            if let d = dateIndex {
                let r = record.range(d)
                guard let format = dateFormat ?? DateFormat.detect(buffer, r.lowerBound, r.upperBound) else { return false }
                return MarketDate.parse(buffer, r.lowerBound, r.upperBound, format: format) != nil
            }
            return (0..<record.count).allSatisfy { k in
                let r = record.range(k)
                return parseDecimal(buffer, r.lowerBound, r.upperBound) != nil
            }
        }
        if looksLikeData { throw MarketError.missingHeader(file: file, line: headerLine) }

        switch layout {
        case .wide:
            return try parseWide(&tokenizer, &record, header: header, headerLine: headerLine, dateIndex: dateIndex, file: file)
        case let .ohlcv(asset):
            guard let dateIndex else {
                throw MarketError.invalidArgument(operation: "PanelCSVReader", message: "the OHLCV layout needs a date column")
            }
            return try parseLong(&tokenizer, &record, header: header, dateIndex: dateIndex, assetIndex: nil,
                                 singleAsset: asset, file: file)
        case let .long(assetColumn):
            guard let dateIndex else {
                throw MarketError.invalidArgument(operation: "PanelCSVReader", message: "the long layout needs a date column")
            }
            let assetIndex: Int?
            if let assetColumn {
                assetIndex = header.firstIndex(of: assetColumn)
            } else {
                assetIndex = header.firstIndex { ["symbol", "ticker", "asset"].contains(PanelCSVReader.normalized($0)) }
            }
            guard let assetIndex else { throw MarketError.missingColumn(file: file, name: assetColumn ?? "Symbol") }
            return try parseLong(&tokenizer, &record, header: header, dateIndex: dateIndex, assetIndex: assetIndex,
                                 singleAsset: nil, file: file)
        }
    }

    /// Missing-value tokens as bytes.
    private var missingTokens: [[UInt8]] { missingValues.map { Array($0.utf8) } }

    /// Parses one numeric cell: a number, `NaN` for a missing cell, or a thrown error.
    @inline(__always)
    func cell(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, tokens: [[UInt8]], field: PriceField,
                      file: String, line: Int, column: Int) throws -> Double {
        let (s, e) = trimmed(buffer, range.lowerBound, range.upperBound)
        if s == e { return .nan }
        if let value = parseDecimal(buffer, s, e) {
            if kind == .prices {
                if field == .volume {
                    if value < 0 { throw MarketError.negativeVolume(file: file, line: line, column: column, value: value) }
                } else if value <= 0 {
                    throw MarketError.nonPositivePrice(file: file, line: line, column: column, value: value)
                } else if value < PanelCSVReader.smallestPrice {
                    throw MarketError.priceTooSmall(file: file, line: line, column: column, value: value)
                }
            }
            return value
        }
        let text = UnsafeBufferPointer(rebasing: buffer[s..<e])
        for token in tokens where token.count == text.count && token.elementsEqual(text) { return .nan }
        throw MarketError.unparsableNumber(file: file, line: line, column: column, text: PanelCSVReader.excerptText(text))
    }

    /// The start of a bad cell for its error: more than ``MarketError/excerpt(_:)`` shows (so it
    /// still marks the cut), without copying a huge cell into the error.
    static func excerptText(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let shown = 4 * MarketError.excerptLength
        guard bytes.count > shown else { return String(decoding: bytes, as: UTF8.self) }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[..<shown]), as: UTF8.self)
    }

    /// Parses the date cell of a row, detecting the format on first use.
    @inline(__always)
    private func dateCell(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, format: inout DateFormat?,
                          file: String, line: Int, column: Int) throws -> MarketDate {
        if format == nil { format = DateFormat.detect(buffer, range.lowerBound, range.upperBound) }
        guard let format, let date = MarketDate.parse(buffer, range.lowerBound, range.upperBound, format: format) else {
            throw MarketError.unparsableDate(file: file, line: line, column: column,
                                             text: PanelCSVReader.excerptText(UnsafeBufferPointer(rebasing: buffer[range])))
        }
        return date
    }

    private func parseWide<Source: ByteChunkSource>(_ tokenizer: inout CSVTokenizer<Source>, _ record: inout CSVRecord,
                                                    header: [String], headerLine: Int, dateIndex: Int?,
                                                    file: String) throws -> PricePanel {
        let width = header.count
        let valueColumns = (0..<width).filter { $0 != dateIndex }
        let split = try PanelCSVReader.assetFieldColumns(header, valueColumns, file: file, line: headerLine)
        // Positivity is checked per column only in the slow path, so volume columns (zero allowed) skip the fast one.
        let columnFields = split?.fields ?? Array(repeating: .close, count: valueColumns.count)
        let assets = split?.assets ?? valueColumns.map { header[$0] }
        guard !assets.isEmpty else { throw MarketError.noValueColumns(file: file, line: headerLine) }
        let tokens = missingTokens
        var format = dateFormat
        var dates: [MarketDate] = []
        var values = DoubleAccumulator()
        defer { values.deallocate() }
        var rowCount = 0
        // Set when a cell is missing (a flag set on the abandoned part of a record only costs a scan).
        var sawMissing = false
        let fast = columnFields.contains(.volume) && kind == .prices ? nil
            : WideFastPath(width: width, dateIndex: dateIndex, delimiter: delimiter, positive: kind == .prices, tokens: tokens)
        while true {
            // Ordinary records are parsed in place; the tokenizer takes the rest one record at a time.
            if let fast {
                let currentFormat = format
                tokenizer.withUnreadChunk { buffer, position, line in
                    fast.records(buffer, &position, &line, values: &values, dates: &dates, rowCount: &rowCount,
                                 sawMissing: &sawMissing, format: currentFormat)
                }
            }
            guard try tokenizer.next(into: &record) else { break }
            let line = record.line
            guard record.count == width else {
                throw MarketError.raggedRow(file: file, line: line, expected: width, found: record.count)
            }
            try record.bytes.withUnsafeBufferPointer { buffer in
                if let d = dateIndex {
                    let date = try dateCell(buffer, record.range(d), format: &format, file: file, line: line, column: d + 1)
                    if let previous = dates.last, date <= previous {
                        if date == previous { throw MarketError.duplicateDate(file: file, line: line, column: d + 1, date: date) }
                        throw MarketError.unsortedDates(file: file, line: line, column: d + 1, date: date, previous: previous)
                    }
                    dates.append(date)
                }
                for (v, k) in valueColumns.enumerated() {
                    let value = try cell(buffer, record.range(k), tokens: tokens, field: columnFields[v],
                                         file: file, line: line, column: k + 1)
                    if value.isNaN { sawMissing = true }
                    values.append(value)
                }
            }
            rowCount += 1
        }
        guard rowCount > 0 else { throw MarketError.noDataRows(file: file) }
        let index = dateIndex == nil ? TimeIndex(periodCount: rowCount) : TimeIndex(uncheckedDates: dates)
        let elements = values.array
        if let split {
            return try PanelCSVReader.assembleAssetFields(index: index, rows: rowCount, values: elements, split: split,
                                                          kind: kind, assetClass: assetClass)
        }
        let close = try Matrix(rows: rowCount, columns: assets.count, elements: elements)
        // Most files have no missing cell: skip building the mask cell by cell.
        let cells = sawMissing ? elements.map { !$0.isNaN } : Array(repeating: true, count: elements.count)
        let mask = try AvailabilityMask(timeCount: rowCount, assetCount: assets.count, cells: cells)
        return PricePanel(unchecked: index, assets: assets, assetClasses: Array(repeating: assetClass, count: assets.count),
                          kind: kind, fields: [.close: close], mask: mask)
    }

    /// How `ASSET:field` headers map the value columns of a wide file.
    struct AssetFieldColumns {
        /// Assets in order of first appearance.
        var assets: [String]
        /// The field of each value column.
        var fields: [PriceField]
        /// The asset (position in ``assets``) of each value column.
        var assetOfColumn: [Int]
    }

    /// The wide file's `ASSET:field` layout (`BTC:open`, `BTC:close`, …), or `nil` when some value
    /// header is not of that form, in which case every column is an asset.
    ///
    /// - Throws: ``MarketError/duplicateColumn(file:line:column:name:)`` when two headers name the same
    ///   asset and field; ``MarketError/missingColumn(file:name:)`` for an asset without a close.
    static func assetFieldColumns(_ header: [String], _ valueColumns: [Int], file: String, line: Int) throws -> AssetFieldColumns? {
        var result = AssetFieldColumns(assets: [], fields: [], assetOfColumn: [])
        var positions: [String: Int] = [:]
        var seen = Set<String>()
        for k in valueColumns {
            guard let colon = header[k].lastIndex(of: ":") else { return nil }
            let asset = String(header[k][..<colon])
            guard !asset.isEmpty, let field = field(named: String(header[k][header[k].index(after: colon)...])) else { return nil }
            guard seen.insert("\(asset):\(field)").inserted else {
                throw MarketError.duplicateColumn(file: file, line: line, column: k + 1, name: header[k])
            }
            let position = positions[asset] ?? result.assets.count
            if position == result.assets.count {
                positions[asset] = position
                result.assets.append(asset)
            }
            result.fields.append(field)
            result.assetOfColumn.append(position)
        }
        guard !valueColumns.isEmpty else { return nil }
        for asset in result.assets where !seen.contains("\(asset):\(PriceField.close)") {
            throw MarketError.missingColumn(file: file, name: "\(asset):close")
        }
        return result
    }

    /// The panel of an `ASSET:field` wide file from its row-major cells (one row per date, value columns in file order).
    static func assembleAssetFields(index: TimeIndex, rows: Int, values: [Double], split: AssetFieldColumns,
                                    kind: PricePanel.Kind, assetClass: AssetClass) throws -> PricePanel {
        let width = split.fields.count, n = split.assets.count
        var fields: [PriceField: Matrix] = [:]
        for (v, field) in split.fields.enumerated() {
            var matrix = fields[field] ?? Matrix(rows: rows, columns: n, repeating: .nan)
            let a = split.assetOfColumn[v]
            for t in 0..<rows { matrix[t, a] = values[t * width + v] }
            fields[field] = matrix
        }
        let close = fields[.close]!
        let mask = try AvailabilityMask(timeCount: rows, assetCount: n, cells: close.elements.map { !$0.isNaN })
        return PricePanel(unchecked: index, assets: split.assets, assetClasses: Array(repeating: assetClass, count: n),
                          kind: kind, fields: fields, mask: mask)
    }

    /// The field a header names in the OHLCV and long layouts, if any.
    static func field(named name: String) -> PriceField? {
        switch normalized(name) {
        case "open": return .open
        case "high": return .high
        case "low": return .low
        case "close", "price": return .close
        case "adjclose", "adjustedclose": return .adjustedClose
        case "volume": return .volume
        default: return nil
        }
    }

    /// Lower case without spaces, `_` and `-`.
    static func normalized(_ name: String) -> String {
        String(name.lowercased().filter { $0 != " " && $0 != "_" && $0 != "-" })
    }

    private func parseLong<Source: ByteChunkSource>(_ tokenizer: inout CSVTokenizer<Source>, _ record: inout CSVRecord,
                                                    header: [String], dateIndex: Int, assetIndex: Int?,
                                                    singleAsset: String?, file: String) throws -> PricePanel {
        let width = header.count
        var columnsOfField: [(field: PriceField, column: Int)] = []
        for (k, name) in header.enumerated() where k != dateIndex && k != assetIndex {
            guard let field = PanelCSVReader.field(named: name) else { continue }
            if let clash = columnsOfField.first(where: { $0.field == field }) {
                throw MarketError.duplicateColumn(file: file, line: record.line, column: k + 1, name: "\(name) (same field as \(header[clash.column]))")
            }
            columnsOfField.append((field, k))
        }
        guard columnsOfField.contains(where: { $0.field == .close }) else { throw MarketError.missingColumn(file: file, name: "Close") }
        let tokens = missingTokens
        var format = dateFormat
        var assets: [String] = singleAsset.map { [$0] } ?? []
        var assetPositions: [String: Int] = singleAsset.map { [$0: 0] } ?? [:]
        var lastDate: [MarketDate?] = singleAsset == nil ? [] : [nil]
        var rowDates: [Int] = [], rowAssets: [Int] = []
        var values = Array(repeating: [Double](), count: columnsOfField.count)
        while try tokenizer.next(into: &record) {
            let line = record.line
            guard record.count == width else {
                throw MarketError.raggedRow(file: file, line: line, expected: width, found: record.count)
            }
            var asset = 0
            if let assetIndex {
                let name = record.string(assetIndex)
                guard !name.isEmpty else { throw MarketError.emptyAsset(file: file, line: line, column: assetIndex + 1) }
                if let known = assetPositions[name] {
                    asset = known
                } else {
                    asset = assets.count
                    assetPositions[name] = asset
                    assets.append(name)
                    lastDate.append(nil)
                }
            }
            try record.bytes.withUnsafeBufferPointer { buffer in
                let date = try dateCell(buffer, record.range(dateIndex), format: &format, file: file, line: line, column: dateIndex + 1)
                if let previous = lastDate[asset], date <= previous {
                    if date == previous { throw MarketError.duplicateDate(file: file, line: line, column: dateIndex + 1, date: date) }
                    throw MarketError.unsortedDates(file: file, line: line, column: dateIndex + 1, date: date, previous: previous)
                }
                lastDate[asset] = date
                rowDates.append(date.daysSinceEpoch)
                rowAssets.append(asset)
                for (f, entry) in columnsOfField.enumerated() {
                    values[f].append(try cell(buffer, record.range(entry.column), tokens: tokens, field: entry.field,
                                              file: file, line: line, column: entry.column + 1))
                }
            }
        }
        guard !rowDates.isEmpty else { throw MarketError.noDataRows(file: file) }
        let days = Array(Set(rowDates)).sorted()
        var rowOfDay: [Int: Int] = [:]
        for (t, day) in days.enumerated() { rowOfDay[day] = t }
        let n = assets.count
        var fields: [PriceField: Matrix] = [:]
        for (f, entry) in columnsOfField.enumerated() {
            var matrix = Matrix(rows: days.count, columns: n, repeating: .nan)
            for r in rowDates.indices { matrix[rowOfDay[rowDates[r]]!, rowAssets[r]] = values[f][r] }
            fields[entry.field] = matrix
        }
        let close = fields[.close]!
        let mask = try AvailabilityMask(timeCount: days.count, assetCount: n, cells: close.elements.map { !$0.isNaN })
        return PricePanel(unchecked: TimeIndex(uncheckedDates: days.map(MarketDate.init(daysSinceEpoch:))), assets: assets,
                          assetClasses: Array(repeating: assetClass, count: n), kind: kind, fields: fields, mask: mask)
    }
}
