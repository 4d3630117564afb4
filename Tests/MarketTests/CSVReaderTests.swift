import Foundation
import Linalg
import Testing
@testable import Market

/// Hands out bytes in chunks of `size`, to put chunk boundaries everywhere.
struct TinyChunkSource: ByteChunkSource {
    let bytes: [UInt8]
    let size: Int
    var offset = 0

    mutating func read(into buffer: inout [UInt8]) throws -> Bool {
        buffer.removeAll(keepingCapacity: true)
        guard offset < bytes.count else { return false }
        buffer.append(contentsOf: bytes[offset..<min(bytes.count, offset + size)])
        offset += size
        return true
    }
}

/// All records of `text` as (line, fields) read through chunks of `size` bytes.
func tokenize(_ text: String, chunkSize size: Int) throws -> [(Int, [String])] {
    var tokenizer = CSVTokenizer(source: TinyChunkSource(bytes: Array(text.utf8), size: size), delimiter: UInt8(ascii: ","), file: "t.csv")
    var record = CSVRecord()
    var result: [(Int, [String])] = []
    while try tokenizer.next(into: &record) {
        result.append((record.line, (0..<record.count).map { String(decoding: record.bytes[record.range($0)], as: UTF8.self) }))
    }
    return result
}

/// Tolerance in this suite: 0. The reader converts decimal text correctly rounded (checked bit for bit
/// against the standard library below), so every value read must equal the Swift literal of the same text.
@Suite("CSV reading")
struct CSVReaderTests {
    // MARK: Tokenizer

    @Test("tokenizer: quotes, escapes, embedded newlines, CRLF, CR, blank lines, at every chunk size")
    func tokenizerChunkBoundaries() throws {
        let text = "a,\"b,1\",c\r\n\r\n\"multi\nline\",\"say \"\"hi\"\"\",\r\nx,y,z\rlast,,\"\"\n\n"
        let expected: [(Int, [String])] = [
            (1, ["a", "b,1", "c"]),
            (3, ["multi\nline", "say \"hi\"", ""]),
            (5, ["x", "y", "z"]),
            (6, ["last", "", ""]),
        ]
        for size in 1...12 {
            let records = try tokenize(text, chunkSize: size)
            #expect(records.map(\.0) == expected.map(\.0), "lines at chunk size \(size)")
            #expect(records.map(\.1) == expected.map(\.1), "fields at chunk size \(size)")
        }
        // A final record without a trailing newline is still read.
        #expect(try tokenize("a,b\n1,2", chunkSize: 3).map(\.1) == [["a", "b"], ["1", "2"]])
    }

    @Test("number parser: fast path and fallback agree with the standard library to the last bit")
    func numberParsing() throws {
        let texts = ["0", "-0", "1", "+2.5", "0.264", "359.69", "1229.22998", "0.9864799999999999", "1.0333299999999999",
                     "15.050357742421577", "1e10", "2.5E-3", ".5", "5.", "123456789012345678901234", "0.000000000000000000000001234",
                     "9007199254740993", "1.7976931348623157e308", "4.9e-324", " 42 "]
        for text in texts {
            var bytes = Array(text.utf8)
            let parsed = bytes.withUnsafeMutableBufferPointer { parseDecimal(UnsafeBufferPointer($0), 0, $0.count) }
            let reference = Double(text.trimmingCharacters(in: .whitespaces))!
            // Exact: tolerance 0 (bit pattern compared).
            #expect(parsed?.bitPattern == reference.bitPattern, "\(text): \(String(describing: parsed)) vs \(reference)")
        }
        for bad in ["", "-", ".", "e5", "1e", "1.2.3", "inf", "nan", "0x10", "1,000", "1e999", "--1", "1 2"] {
            var bytes = Array(bad.utf8)
            #expect(bytes.withUnsafeMutableBufferPointer { parseDecimal(UnsafeBufferPointer($0), 0, $0.count) } == nil, "\(bad)")
        }
    }

    // MARK: Layouts that load

    @Test("wide ISO file with every missing-value token")
    func wideWithMissing() throws {
        let panel = try readCSV("Date,A,B,C\n2020-01-02,1.5,,NA\n2020-01-03,NaN,2.5,null\n2020-01-06,1.75,.,3\n")
        #expect(panel.assets == ["A", "B", "C"])
        #expect(panel.index.dates == (try dates(["2020-01-02", "2020-01-03", "2020-01-06"])))
        #expect(panel.index.frequency == .daily)
        let c = panel.close
        #expect(c[0, 0] == 1.5 && c[1, 1] == 2.5 && c[2, 0] == 1.75 && c[2, 2] == 3)
        #expect(c[0, 1].isNaN && c[0, 2].isNaN && c[1, 0].isNaN && c[1, 2].isNaN && c[2, 1].isNaN)
        #expect(panel.mask.cells == [true, false, false, false, true, false, true, false, true])
    }

    @Test("M/D/YYYY dates, CRLF line ends, a UTF-8 BOM and a quoted header")
    func monthDayYear() throws {
        let panel = try readCSV("\u{FEFF}\"Date\",\"S&P, 500\"\r\n1/4/1999,1228.099976\r\n1/5/1999,1244.780029\r\n\r\n",
                                PanelCSVReader(dateColumn: .named("Date")))
        #expect(panel.assets == ["S&P, 500"])
        #expect(panel.index.dates == (try dates(["1999-01-04", "1999-01-05"])))
        #expect(panel.close.column(0) == [1228.099976, 1244.780029])
    }

    @Test("YYYYMM series with negative values")
    func yearMonthSeries() throws {
        let panel = try readCSV("Date,Mkt-RF,HML\n192607,2.96,-2.87\n192608,2.64,4.19\n",
                                PanelCSVReader(kind: .series, assetClass: .factor))
        #expect(panel.index.dates == (try dates(["1926-07-01", "1926-08-01"])))
        #expect(panel.close.row(0) == [2.96, -2.87])
        #expect(panel.kind == .series)
        #expect(panel.assetClasses == [.factor, .factor])
    }

    @Test("a file without dates gets a period index")
    func noDates() throws {
        let panel = try readCSV("A,B\n1.01,0.99\n1.02,1.0\n", PanelCSVReader(dateColumn: .none))
        #expect(panel.index.labels == .periods(0..<2))
        #expect(panel.index.frequency == .periods)
        #expect(panel.close.row(1) == [1.02, 1.0])
    }

    @Test("a named date column that is not first")
    func namedDateColumn() throws {
        let panel = try readCSV("A,when\n3,2021-05-03\n4,2021-05-04\n", PanelCSVReader(dateColumn: .named("when")))
        #expect(panel.assets == ["A"])
        #expect(panel.close.column(0) == [3, 4])
    }

    @Test("OHLCV layout maps Open/High/Low/Close/Adj Close/Volume and allows zero volume")
    func ohlcv() throws {
        let text = "Date,Open,High,Low,Close,Adj Close,Volume,Note\n1/4/1999,10,11,9,10.5,10.4,0,x\n1/5/1999,10.5,12,10,11.5,11.4,1200,y\n"
        let panel = try readCSV(text, PanelCSVReader(layout: .ohlcv(asset: "IDX")))
        #expect(panel.assets == ["IDX"])
        #expect(panel.fieldNames == [.open, .high, .low, .close, .adjustedClose, .volume])
        #expect(panel.field(.high)?.column(0) == [11, 12])
        #expect(panel.field(.adjustedClose)?.column(0) == [10.4, 11.4])
        #expect(panel.field(.volume)?.column(0) == [0, 1200])
    }

    @Test("long layout, grouped by asset, with a date missing for one asset")
    func long() throws {
        let text = "date,symbol,close,volume\n2021-01-04,AAA,10,100\n2021-01-05,AAA,11,110\n2021-01-06,AAA,12,120\n2021-01-04,BBB,20,200\n2021-01-06,BBB,22,220\n"
        let panel = try readCSV(text, PanelCSVReader(layout: .long(assetColumn: nil)))
        #expect(panel.assets == ["AAA", "BBB"])
        #expect(panel.timeCount == 3)
        #expect(panel.close.column(0) == [10, 11, 12])
        #expect(panel.close[1, 1].isNaN && !panel.mask[1, 1])
        #expect(panel.field(.volume)?.column(1).enumerated().filter { $0.offset != 1 }.map(\.element) == [200, 220])
    }

    @Test("streams a file larger than one chunk and reads every value")
    func streamingFile() throws {
        // About 2.6 MB: several 1 MiB chunks, so records straddle chunk boundaries.
        var text = "Date,A,B,C\n"
        var date = try MarketDate(year: 1900, month: 1, day: 1)
        var expected: [[Double]] = []
        for row in 0..<60_000 {
            let values = [Double(row) * 0.25 + 1, 1000.0 / Double(row + 1), Double(row % 97) + 0.125]
            expected.append(values)
            text += "\(date),\(values[0]),\(values[1]),\(values[2])\n"
            date = date.adding(days: 1)
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("market-stream-\(UUID().uuidString).csv")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let panel = try PanelCSVReader().read(path: url.path)
        #expect(panel.timeCount == 60_000)
        // Decimal text of a Double parses back to the same Double: tolerance 0.
        expectClose(panel.close, try Matrix(expected), tolerance: 0, "streamed values")
    }

    // MARK: Bad input: one test per case, exact error and position

    @Test("bad input: empty file")
    func emptyFile() { expectCSVError("", .emptyFile(file: "bad.csv")) }

    @Test("bad input: only blank lines")
    func blankFile() { expectCSVError("\n\r\n\n", .emptyFile(file: "bad.csv")) }

    @Test("bad input: header without data rows")
    func headerOnly() { expectCSVError("Date,A\n", .noDataRows(file: "bad.csv")) }

    @Test("bad input: missing header (first line is data)")
    func missingHeader() { expectCSVError("2020-01-02,1.5\n2020-01-03,1.6\n", .missingHeader(file: "bad.csv", line: 1)) }

    @Test("bad input: missing header in a file without dates")
    func missingHeaderNoDates() {
        expectCSVError("\n1.0,2.0\n1.1,2.1\n", .missingHeader(file: "bad.csv", line: 2), reader: PanelCSVReader(dateColumn: .none))
    }

    @Test("bad input: unparsable number")
    func unparsableNumber() {
        expectCSVError("Date,A,B\n2020-01-02,1.5,2\n2020-01-03,1.6,abc\n",
                       .unparsableNumber(file: "bad.csv", line: 3, column: 3, text: "abc"))
    }

    @Test("bad input: infinity is not a number")
    func infinity() {
        expectCSVError("Date,A\n2020-01-02,inf\n", .unparsableNumber(file: "bad.csv", line: 2, column: 2, text: "inf"))
    }

    @Test("bad input: unparsable date")
    func unparsableDate() {
        expectCSVError("Date,A\n2020-01-02,1\n2020-02-30,2\n", .unparsableDate(file: "bad.csv", line: 3, column: 1, text: "2020-02-30"))
    }

    @Test("bad input: a date in another format than the first row's")
    func mixedDateFormats() {
        expectCSVError("Date,A\n2020-01-02,1\n1/3/2020,2\n", .unparsableDate(file: "bad.csv", line: 3, column: 1, text: "1/3/2020"))
    }

    @Test("bad input: unsorted dates")
    func unsortedDates() throws {
        expectCSVError("Date,A\n2020-01-02,1\n2020-01-06,2\n2020-01-03,3\n",
                       .unsortedDates(file: "bad.csv", line: 4, column: 1, date: try day("2020-01-03"),
                                      previous: try day("2020-01-06")))
    }

    @Test("bad input: duplicate date")
    func duplicateDate() throws {
        expectCSVError("Date,A\n2020-01-02,1\n2020-01-03,2\n2020-01-03,3\n",
                       .duplicateDate(file: "bad.csv", line: 4, column: 1, date: try day("2020-01-03")))
    }

    @Test("bad input: duplicate date for one asset in a long file")
    func duplicateDateLong() throws {
        expectCSVError("Date,Symbol,Close\n2020-01-02,A,1\n2020-01-02,B,2\n2020-01-02,A,3\n",
                       .duplicateDate(file: "bad.csv", line: 4, column: 1, date: try day("2020-01-02")),
                       reader: PanelCSVReader(layout: .long(assetColumn: nil)))
    }

    @Test("bad input: zero price")
    func zeroPrice() {
        expectCSVError("Date,A,B\n2020-01-02,1,0\n", .nonPositivePrice(file: "bad.csv", line: 2, column: 3, value: 0))
    }

    @Test("bad input: negative price")
    func negativePrice() {
        expectCSVError("Date,A,B\n2020-01-02,1,2\n2020-01-03,-1.5,2\n", .nonPositivePrice(file: "bad.csv", line: 3, column: 2, value: -1.5))
    }

    @Test("bad input: negative volume")
    func negativeVolume() {
        expectCSVError("Date,Close,Volume\n2020-01-02,1,-10\n", .negativeVolume(file: "bad.csv", line: 2, column: 3, value: -10),
                       reader: PanelCSVReader(layout: .ohlcv(asset: "X")))
    }

    @Test("bad input: ragged row with too few fields")
    func raggedShort() {
        expectCSVError("Date,A,B\n2020-01-02,1,2\n2020-01-03,1\n", .raggedRow(file: "bad.csv", line: 3, expected: 3, found: 2))
    }

    @Test("bad input: ragged row with too many fields")
    func raggedLong() {
        expectCSVError("Date,A\n2020-01-02,1,2\n", .raggedRow(file: "bad.csv", line: 2, expected: 2, found: 3))
    }

    @Test("bad input: line numbers count CRLF lines and newlines inside quotes")
    func linesAfterQuotedNewline() {
        expectCSVError("Date,\"two\nline name\"\r\n2020-01-02,1\r\n2020-01-03,x\r\n",
                       .unparsableNumber(file: "bad.csv", line: 4, column: 2, text: "x"))
    }

    @Test("bad input: unterminated quote")
    func unterminatedQuote() {
        expectCSVError("Date,A\n2020-01-02,\"1.5\n2020-01-03,2\n", .malformedQuote(file: "bad.csv", line: 2, column: 2))
    }

    @Test("bad input: text after a closing quote")
    func textAfterQuote() {
        expectCSVError("Date,A\n2020-01-02,\"1.5\"x\n", .malformedQuote(file: "bad.csv", line: 2, column: 2))
    }

    @Test("bad input: empty column name")
    func emptyColumnName() {
        expectCSVError("Date,A,,B\n2020-01-02,1,2,3\n", .emptyColumnName(file: "bad.csv", line: 1, column: 3))
    }

    @Test("bad input: duplicate column")
    func duplicateColumn() {
        expectCSVError("Date,A,B,A\n2020-01-02,1,2,3\n", .duplicateColumn(file: "bad.csv", line: 1, column: 4, name: "A"))
    }

    @Test("bad input: OHLCV file without a close column")
    func missingClose() {
        expectCSVError("Date,Open,High\n2020-01-02,1,2\n", .missingColumn(file: "bad.csv", name: "Close"),
                       reader: PanelCSVReader(layout: .ohlcv(asset: "X")))
    }

    @Test("bad input: long file without an asset column")
    func missingAssetColumn() {
        expectCSVError("Date,Close\n2020-01-02,1\n", .missingColumn(file: "bad.csv", name: "Symbol"),
                       reader: PanelCSVReader(layout: .long(assetColumn: nil)))
    }

    @Test("bad input: long file with an empty asset cell")
    func emptyAsset() {
        expectCSVError("Date,Symbol,Close\n2020-01-02,,1\n", .emptyAsset(file: "bad.csv", line: 2, column: 2),
                       reader: PanelCSVReader(layout: .long(assetColumn: nil)))
    }

    @Test("bad input: a file that does not exist")
    func unreadable() {
        #expect(throws: MarketError.unreadableFile(file: "/nonexistent/prices.csv", message: "cannot open for reading")) {
            try PanelCSVReader().read(path: "/nonexistent/prices.csv")
        }
    }

    @Test("a series panel accepts zero and negative values that a price panel rejects")
    func seriesAcceptsNegative() throws {
        let text = "Date,SMB\n192607,-2.3\n192608,0\n"
        let panel = try readCSV(text, PanelCSVReader(kind: .series))
        #expect(panel.close.column(0) == [-2.3, 0])
        expectCSVError(text, .nonPositivePrice(file: "bad.csv", line: 2, column: 2, value: -2.3))
    }
}
