import Linalg

/// Reads one exchange pair's OHLCV file as published by CryptoDataDownload
/// (https://www.cryptodatadownload.com) into a ``PricePanel``.
///
/// ## Layout
/// - Line 1: the banner, a line naming CryptoDataDownload (for example
///   `Timestamps are UTC timezone,https://www.CryptoDataDownload.com`).
/// - Line 2: the header, with `date`, `symbol`, `open`, `high`, `low` and `close` columns
///   (any case; spaces, `_` and `-` ignored) and volume columns whose names vary by pair:
///   `Volume BTC`, `Volume USD`, `volume_btc`, `volume` …; other columns (`unix`) are ignored.
/// - Data rows, newest first as published; strictly ascending files are read too.
///
/// ## Result
/// One asset named by the file's symbol (`BTCUSD`), rows in ascending time order, fields
/// open, high, low, close and volume. The volume is the **base-currency** volume: the
/// column named `volume` + the symbol's leading currency (`volume_btc` or `Volume BTC` for
/// `BTCUSD`), coins traded rather than dollars. A file without such a column loads without
/// a volume field. Value traded (quote volume) is close × volume
/// (``PricePanel/valueTraded()``). Timestamps are `YYYY-MM-DD HH-AM` / `HH-PM` (12-AM is
/// midnight, 12-PM noon), `YYYY-MM-DD HH:MM[:SS]` or plain `YYYY-MM-DD`; a file of plain
/// dates gives a date index, any other a timestamp index (hourly files infer
/// ``Frequency/hourly``). Hours the exchange did not report are simply absent from the index.
///
/// ## Errors
/// The first problem throws a ``MarketError`` naming file, line and column; nothing is
/// returned. Missing banner (``MarketError/missingBanner(file:line:found:)``), missing header
/// (``MarketError/missingHeader(file:line:)``) or header column
/// (``MarketError/missingColumn(file:name:)``), unparsable timestamp
/// (``MarketError/unparsableDate(file:line:column:text:)``), non-numeric or empty value
/// (``MarketError/unparsableNumber(file:line:column:text:)``), non-positive price, negative
/// volume, a timestamp equal to the previous row's
/// (``MarketError/duplicateTimestamp(file:line:column:timestamp:)``), a timestamp against the
/// file's order (``MarketError/unsortedTimestamps(file:line:column:timestamp:previous:)``, unless
/// ``outOfOrderRows`` is ``OutOfOrderRows/skip``), a second symbol
/// (``MarketError/mixedSymbols(file:line:column:expected:found:)``).
public struct CryptoDataDownloadReader: Sendable {
    /// What to do with a row whose timestamp breaks the file's order.
    public enum OutOfOrderRows: String, Sendable, Hashable, Codable {
        /// Throw ``MarketError/unsortedTimestamps(file:line:column:timestamp:previous:)``.
        case reject
        /// Leave the row out and record its line in ``CryptoDataDownloadFile/skippedLines``
        /// (for files with misplaced copies of earlier rows). Its values are still validated,
        /// and a timestamp equal to the previous kept row's still throws.
        case skip
    }

    /// What to do with rows out of order.
    public var outOfOrderRows: OutOfOrderRows
    /// The class given to the asset.
    public var assetClass: AssetClass

    /// A reader with the given settings.
    public init(outOfOrderRows: OutOfOrderRows = .reject, assetClass: AssetClass = .crypto) {
        self.outOfOrderRows = outOfOrderRows
        self.assetClass = assetClass
    }

    /// Reads the file at `path`; errors name the file as `path`.
    ///
    /// - Throws: ``MarketError`` (see the type's documentation).
    public func read(path: String) throws -> CryptoDataDownloadFile {
        let source = try FileChunkSource(path: path)
        defer { source.close() }
        var tokenizer = CSVTokenizer(source: source, delimiter: UInt8(ascii: ","), file: path)
        return try parse(&tokenizer, file: path)
    }

    /// Reads CSV text; `name` stands for the file in errors.
    ///
    /// - Throws: ``MarketError`` (see the type's documentation).
    public func read(text: String, name: String) throws -> CryptoDataDownloadFile {
        var tokenizer = CSVTokenizer(source: MemoryChunkSource(bytes: Array(text.utf8)), delimiter: UInt8(ascii: ","), file: name)
        return try parse(&tokenizer, file: name)
    }

    private func parse<Source: ByteChunkSource>(_ tokenizer: inout CSVTokenizer<Source>, file: String) throws -> CryptoDataDownloadFile {
        var record = CSVRecord()
        guard try tokenizer.next(into: &record) else { throw MarketError.emptyFile(file: file) }
        let banner = (0..<record.count).map(record.string).joined(separator: ",")
        guard banner.lowercased().contains("cryptodatadownload") else {
            throw MarketError.missingBanner(file: file, line: record.line, found: banner)
        }
        guard try tokenizer.next(into: &record) else { throw MarketError.missingHeader(file: file, line: record.line + 1) }
        let header = (0..<record.count).map(record.string)
        let names = header.map(PanelCSVReader.normalized)
        let headerLine = record.line
        if header.first.flatMap({ MarketTimestamp($0) }) != nil { throw MarketError.missingHeader(file: file, line: headerLine) }
        func column(_ name: String) throws -> Int {
            guard let k = names.firstIndex(of: name) else { throw MarketError.missingColumn(file: file, name: name) }
            return k
        }
        let dateColumn = try column("date"), symbolColumn = try column("symbol")
        let priceColumns: [(field: PriceField, column: Int)] = try [PriceField.open, .high, .low, .close].map { ($0, try column($0.rawValue)) }
        // Only value columns are validated; volume is found once the symbol is known.
        let prices = PanelCSVReader(missingValues: [], kind: .prices)
        var symbol: String?
        var volumeColumn: Int?
        var timestamps: [MarketTimestamp] = []
        var values: [[Double]] = Array(repeating: [], count: 5)
        var skipped: [Int] = []
        var descending: Bool?
        var allPlainDates = true
        while try tokenizer.next(into: &record) {
            let line = record.line
            guard record.count == header.count else {
                throw MarketError.raggedRow(file: file, line: line, expected: header.count, found: record.count)
            }
            let name = record.string(symbolColumn)
            guard !name.isEmpty else { throw MarketError.emptyAsset(file: file, line: line, column: symbolColumn + 1) }
            if let symbol {
                guard name == symbol else {
                    throw MarketError.mixedSymbols(file: file, line: line, column: symbolColumn + 1, expected: symbol, found: name)
                }
            } else {
                symbol = name
                volumeColumn = Self.baseVolumeColumn(names, symbol: name)
            }
            var row = [Double](repeating: .nan, count: 5)
            let (timestamp, plain) = try record.bytes.withUnsafeBufferPointer { buffer -> (MarketTimestamp, Bool) in
                let r = record.range(dateColumn)
                guard let timestamp = MarketTimestamp.parse(buffer, r.lowerBound, r.upperBound) else {
                    throw MarketError.unparsableDate(file: file, line: line, column: dateColumn + 1, text: record.string(dateColumn))
                }
                let cells = priceColumns + (volumeColumn.map { [(PriceField.volume, $0)] } ?? [])
                for (f, entry) in cells.enumerated() {
                    let value = try prices.cell(buffer, record.range(entry.column), tokens: [], field: entry.field,
                                                file: file, line: line, column: entry.column + 1)
                    guard !value.isNaN else {
                        throw MarketError.unparsableNumber(file: file, line: line, column: entry.column + 1, text: "")
                    }
                    row[f] = value
                }
                return (timestamp, MarketDate.parse(buffer, r.lowerBound, r.upperBound, format: .iso) != nil)
            }
            if let previous = timestamps.last {
                if timestamp == previous {
                    throw MarketError.duplicateTimestamp(file: file, line: line, column: dateColumn + 1, timestamp: timestamp)
                }
                let isDescending = timestamp < previous
                if let descending, descending != isDescending {
                    guard outOfOrderRows == .skip else {
                        throw MarketError.unsortedTimestamps(file: file, line: line, column: dateColumn + 1,
                                                             timestamp: timestamp, previous: previous)
                    }
                    skipped.append(line)
                    continue
                }
                descending = isDescending
            }
            allPlainDates = allPlainDates && plain
            timestamps.append(timestamp)
            for f in 0..<5 { values[f].append(row[f]) }
        }
        guard let symbol else { throw MarketError.noDataRows(file: file) }
        if descending == true {
            timestamps.reverse()
            for f in 0..<5 { values[f].reverse() }
        }
        let rows = timestamps.count
        var fields: [PriceField: Matrix] = [:]
        for (f, field) in [PriceField.open, .high, .low, .close, .volume].enumerated() where field != .volume || volumeColumn != nil {
            fields[field] = try Matrix(rows: rows, columns: 1, elements: values[f])
        }
        let index = allPlainDates ? TimeIndex(uncheckedDates: timestamps.map(\.date)) : TimeIndex(uncheckedTimestamps: timestamps)
        let panel = PricePanel(unchecked: index, assets: [symbol], assetClasses: [assetClass], kind: .prices, fields: fields,
                               mask: AvailabilityMask(timeCount: rows, assetCount: 1, repeating: true))
        return CryptoDataDownloadFile(panel: panel, symbol: symbol, volumeColumn: volumeColumn.map { header[$0] },
                                      skippedLines: skipped)
    }

    /// The column holding the base-currency volume: `volume` followed by the longest currency
    /// code that starts the symbol (`volume_btc` for `BTCUSD` or `BTC/USD`), or `nil`.
    static func baseVolumeColumn(_ normalizedNames: [String], symbol: String) -> Int? {
        let pair = symbol.lowercased().filter { $0.isLetter || $0.isNumber }
        var best: (column: Int, length: Int)?
        for (k, name) in normalizedNames.enumerated() where name.hasPrefix("volume") {
            let currency = name.dropFirst("volume".count)
            guard !currency.isEmpty, pair.hasPrefix(currency), currency.count > (best?.length ?? 0) else { continue }
            best = (k, currency.count)
        }
        return best?.column
    }
}

/// A CryptoDataDownload file as read by ``CryptoDataDownloadReader``.
public struct CryptoDataDownloadFile: Sendable {
    /// The prices, ascending in time; one asset named ``symbol``.
    public let panel: PricePanel
    /// The pair's symbol as written in the file (`BTCUSD`).
    public let symbol: String
    /// The header of the column read as volume (base currency), or `nil` when the file has none.
    public let volumeColumn: String?
    /// 1-based lines left out as out of order (``CryptoDataDownloadReader/OutOfOrderRows/skip``), in file order.
    public let skippedLines: [Int]
}
