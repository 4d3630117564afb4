import Foundation
import Linalg
import Testing
@testable import Market

private let banner = "Timestamps are UTC timezone,https://www.CryptoDataDownload.com\n"
private let header = "date,symbol,open,high,low,close,volume_btc,volume\n"

/// Reads `text` as a CryptoDataDownload file named `t.csv`.
private func read(_ text: String, outOfOrder: CryptoDataDownloadReader.OutOfOrderRows = .reject) throws -> CryptoDataDownloadFile {
    try CryptoDataDownloadReader(outOfOrderRows: outOfOrder).read(text: text, name: "t.csv")
}

/// Tolerance 0 throughout: the values are parsed from decimal text correctly rounded.
@Suite("CryptoDataDownload reader")
struct CryptoDataDownloadReaderTests {
    @Test("newest-first hourly rows load ascending with the base-currency volume")
    func hourly() throws {
        let text = banner + header + """
        2017-07-02 01-AM,BTCUSD,2500,2510,2490,2505,3.5,8767.5\r
        2017-07-02 12-AM,BTCUSD,2480,2501,2470,2500,2,5000\r
        2017-07-01 11-PM,BTCUSD,2470,2485,2460,2480,1.25,3100\r
        2017-07-01 12-PM,BTCUSD,2460,2475,2455,2470,0,0\r

        """
        let file = try read(text)
        let panel = file.panel
        #expect(file.symbol == "BTCUSD" && file.volumeColumn == "volume_btc" && file.skippedLines.isEmpty)
        #expect(panel.assets == ["BTCUSD"] && panel.assetClasses == [.crypto])
        #expect(panel.fieldNames == [.open, .high, .low, .close, .volume])
        #expect(panel.index.timestamps == (try timestamps(["2017-07-01 12:00", "2017-07-01 23:00", "2017-07-02 00:00", "2017-07-02 01:00"])))
        #expect(panel.close.column(0) == [2470, 2480, 2500, 2505])
        #expect(panel.field(.open)!.column(0) == [2460, 2470, 2480, 2500])
        #expect(panel.field(.high)!.column(0) == [2475, 2485, 2501, 2510])
        #expect(panel.field(.low)!.column(0) == [2455, 2460, 2470, 2490])
        #expect(panel.field(.volume)!.column(0) == [0, 1.25, 2, 3.5])
        // The 11-hour gap is simply absent; the median gap is an hour.
        #expect(panel.index.frequency == .hourly)
        #expect(panel.mask.availableCount == 4)
    }

    @Test("ascending files, other volume headers and plain dates")
    func variants() throws {
        let text = banner + "Date,Symbol,Open,High,Low,Close,Volume ETH,Volume USD\n"
            + "2019-01-01,ETH/USD,130,140,125,135,1000,135000\n2019-01-02,ETH/USD,135,160,134,155,2000,310000\n"
        let file = try read(text)
        #expect(file.volumeColumn == "Volume ETH")
        #expect(file.panel.index.dates == (try dates(["2019-01-01", "2019-01-02"])))
        #expect(file.panel.index.frequency == .daily)
        #expect(file.panel.field(.volume)!.column(0) == [1000, 2000])
        let seconds = banner + "unix,date,symbol,open,high,low,close,Volume LTC,Volume USD\n"
            + "1,2019-01-01 10:00:00,LTCUSD,30,31,29,30.5,10,305\n2,2019-01-01 09:00:00,LTCUSD,29,30,28,30,20,600\n"
        #expect(try read(seconds).panel.index.timestamps == (try timestamps(["2019-01-01 09:00", "2019-01-01 10:00"])))
        // No column named after the base currency: the panel has no volume.
        let noBase = banner + "date,symbol,open,high,low,close,volume\n2019-01-01,BTCUSD,1,1,1,1,5\n"
        let bare = try read(noBase)
        #expect(bare.volumeColumn == nil && bare.panel.field(.volume) == nil)
    }

    @Test("each malformed file throws the error that names its line and column")
    func errors() throws {
        let row1 = "2019-10-17 09-AM,BTCUSD,8051,8056.83,8021.23,8035.88,61.25,492394.56\n"
        let row2 = "2019-10-17 08-AM,BTCUSD,7975.89,8070,7975.89,8051,370.45,2971610.86\n"
        let row3 = "2019-10-17 07-AM,BTCUSD,7964.62,7987.82,7964.61,7975.89,121.68,970521.83\n"
        #expect(throws: MarketError.emptyFile(file: "t.csv")) { try read("") }
        #expect(throws: MarketError.missingBanner(file: "t.csv", line: 1, found: "date,symbol,open,high,low,close,volume_btc,volume")) {
            try read(header + row1)
        }
        #expect(throws: MarketError.missingHeader(file: "t.csv", line: 2)) { try read(banner + row1 + row2) }
        #expect(throws: MarketError.missingColumn(file: "t.csv", name: "close")) {
            try read(banner + "date,symbol,open,high,low,volume_btc\n")
        }
        #expect(throws: MarketError.noDataRows(file: "t.csv")) { try read(banner + header) }
        #expect(throws: MarketError.unparsableDate(file: "t.csv", line: 4, column: 1, text: "2019-10-17 13-PM")) {
            try read(banner + header + row1 + row2.replacingOccurrences(of: "08-AM", with: "13-PM"))
        }
        #expect(throws: MarketError.nonPositivePrice(file: "t.csv", line: 3, column: 6, value: 0)) {
            try read(banner + header + row1.replacingOccurrences(of: "8035.88", with: "0"))
        }
        #expect(throws: MarketError.unparsableNumber(file: "t.csv", line: 3, column: 4, text: "n/a")) {
            try read(banner + header + row1.replacingOccurrences(of: "8056.83", with: "n/a"))
        }
        #expect(throws: MarketError.unparsableNumber(file: "t.csv", line: 3, column: 4, text: "")) {
            try read(banner + header + row1.replacingOccurrences(of: "8056.83", with: ""))
        }
        #expect(throws: MarketError.negativeVolume(file: "t.csv", line: 3, column: 7, value: -61.25)) {
            try read(banner + header + row1.replacingOccurrences(of: "61.25", with: "-61.25"))
        }
        let nine = try #require(MarketTimestamp("2019-10-17 09:00"))
        let eight = try #require(MarketTimestamp("2019-10-17 08:00"))
        #expect(throws: MarketError.duplicateTimestamp(file: "t.csv", line: 4, column: 1, timestamp: nine)) {
            try read(banner + header + row1 + row1)
        }
        // Descending from the first two rows on, so 09:00 after 08:00 breaks the order.
        #expect(throws: MarketError.unsortedTimestamps(file: "t.csv", line: 5, column: 1, timestamp: nine, previous: eight)) {
            try read(banner + header + row1 + row2 + row1)
        }
        #expect(throws: MarketError.mixedSymbols(file: "t.csv", line: 4, column: 2, expected: "BTCUSD", found: "ETHUSD")) {
            try read(banner + header + row1 + row2.replacingOccurrences(of: "BTCUSD", with: "ETHUSD"))
        }
        #expect(throws: MarketError.raggedRow(file: "t.csv", line: 3, expected: 8, found: 7)) {
            try read(banner + header + "2019-10-17 09-AM,BTCUSD,1,1,1,1,1\n")
        }
        #expect(try read(banner + header + row1 + row2 + row3).panel.timeCount == 3)
    }

    @Test("skipping out-of-order rows leaves misplaced copies out and reports their lines")
    func skipping() throws {
        // The shape of the Coinbase file on 2017-11-12: copies of 02:00 and 01:00 stamped 07:00 and 06:00.
        let text = banner + header + """
        2017-11-12 09-AM,BTCUSD,6201,6289.99,6000,6241.81,1862.81,1
        2017-11-12 02-AM,BTCUSD,5640,6240,5639.98,6201,6722.79,1
        2017-11-12 07-AM,BTCUSD,5640,6240,5639.98,6201,6722.79,1
        2017-11-12 01-AM,BTCUSD,5850.98,5850.98,5511.11,5640,3799.64,1
        2017-11-12 06-AM,BTCUSD,5850.98,5850.98,5511.11,5640,3799.64,1

        """
        let file = try read(text, outOfOrder: .skip)
        #expect(file.skippedLines == [5, 7])
        #expect(file.panel.index.timestamps == (try timestamps(["2017-11-12 01:00", "2017-11-12 02:00", "2017-11-12 09:00"])))
        #expect(file.panel.close.column(0) == [5640, 6201, 6241.81])
        #expect(throws: MarketError.self) { try read(text) }
        // A repeated timestamp is an error even when skipping.
        let repeated = banner + header + "2017-11-12 09-AM,BTCUSD,1,1,1,1,1,1\n2017-11-12 09-AM,BTCUSD,1,1,1,1,1,1\n"
        #expect(throws: MarketError.self) { try read(repeated, outOfOrder: .skip) }
    }
}
