import Linalg
import Testing
@testable import Market

/// What one embedded dataset must load as. The first and last values below were
/// copied by hand from the source CSV files in the shared data folder (their first
/// and last data rows), not computed by the code under test.
struct DatasetExpectation: Sendable, CustomStringConvertible {
    let dataset: Dataset
    let rows: Int
    let assets: Int
    let first: String   // first label: ISO date or period number
    let last: String
    let field: PriceField
    let firstRow: [Double]
    let lastRow: [Double]
    let missing: Int    // NaN cells in the close

    var description: String { dataset.name }
}

private let sp500First: [Double] = [0.264, 4.125, 4.599, 0.144, 4.991, 14.391, 1.117, 3.438, 3.394, 2.235, 6.658, 4.215, 0.384,
                                    4.738, 1.021, 3.86, 3.322, 0.31, 3.653, 4.068]
private let sp500Last: [Double] = [125.674, 62.57, 32.301, 78.279, 173.728, 63.883, 311.22, 174.085, 129.575, 62.609, 363.098,
                                   109.581, 233.434, 179.278, 49.25, 149.133, 24.497, 524.422, 140.181, 106.627]

/// For the OLPS sets `firstRow`/`lastRow` hold the first and last cells of the file's first and last
/// rows; the panel's row 1 is the file's first row (row 0 is the prepended day 0 of ones).
private let expectations: [DatasetExpectation] = [
    .init(dataset: .sp500Stocks, rows: 8313, assets: 20, first: "1990-01-02", last: "2022-12-28", field: .close,
          firstRow: sp500First, lastRow: sp500Last, missing: 0),
    .init(dataset: .sp500Index, rows: 8313, assets: 1, first: "1990-01-02", last: "2022-12-28", field: .close,
          firstRow: [359.69], lastRow: [3783.22], missing: 0),
    .init(dataset: .factorETFs, rows: 2264, assets: 5, first: "2014-01-02", last: "2022-12-28", field: .close,
          firstRow: [52.704, 48.351, 48.986, 29.338, 47.054], lastRow: [143.73, 111.883, 111.121, 71.134, 88.473], missing: 0),
    .init(dataset: .sp500OHLCV, rows: 5031, assets: 1, first: "1999-01-04", last: "2018-12-31", field: .close,
          firstRow: [1228.099976], lastRow: [2506.850098], missing: 0),
    .init(dataset: .nasdaqOHLCV, rows: 5031, assets: 1, first: "1999-01-04", last: "2018-12-31", field: .close,
          firstRow: [2208.050049], lastRow: [6635.279785], missing: 0),
    .init(dataset: .vix, rows: 1305, assets: 1, first: "2014-01-03", last: "2019-01-03", field: .close,
          firstRow: [13.76], lastRow: [25.45], missing: 46),
    .init(dataset: .corporateYields, rows: 1200, assets: 2, first: "1919-01-31", last: "2018-12-31", field: .close,
          firstRow: [5.35, 7.12], lastRow: [4.02, 5.13], missing: 0),
    .init(dataset: .famaFrench, rows: 1109, assets: 4, first: "1926-07-31", last: "2018-11-30", field: .close,
          firstRow: [2.96, -2.3, -2.87, 0.22], lastRow: [1.69, -0.75, 0.22, 0.18], missing: 0),
    .init(dataset: .wti, rows: 8611, assets: 1, first: "1986-01-02", last: "2019-01-03", field: .close,
          firstRow: [25.56], lastRow: [46.92], missing: 290),
    .init(dataset: .olpsNYSEO, rows: 5652, assets: 36, first: "0", last: "5651", field: .close,
          firstRow: [1.01515, 0.9975200000000001], lastRow: [13.10362170455218, 5.388036899704677], missing: 0),
    .init(dataset: .olpsNYSEN, rows: 6432, assets: 23, first: "0", last: "6431", field: .close,
          firstRow: [0.99751, 1.00892], lastRow: [15.050357742421577, 32.782924744742346], missing: 0),
    .init(dataset: .olpsDJIA, rows: 508, assets: 30, first: "0", last: "507", field: .close,
          firstRow: [1.032425818293056, 1.038236726741354], lastRow: [0.7084735393086579, 0.9310764734534828], missing: 0),
    .init(dataset: .olpsSP500, rows: 1277, assets: 25, first: "0", last: "1276", field: .close,
          firstRow: [1.017736462518294, 1.043517679057117], lastRow: [0.9381068403961624, 0.8738349954669079], missing: 0),
    .init(dataset: .olpsTSE, rows: 1260, assets: 88, first: "0", last: "1259", field: .close,
          firstRow: [0.977273, 1.06312], lastRow: [1.7179577337647467, 0.8166852670257251], missing: 0),
    .init(dataset: .olpsMSCI, rows: 1044, assets: 24, first: "0", last: "1043", field: .close,
          firstRow: [1.0017818253811128, 1.0145873320537429], lastRow: [0.9095228667590579, 0.7285028790786962], missing: 0),
    // ETH and LTC are not listed on the first day: NaN. 1077 ETH and 940 LTC rows before listing.
    .init(dataset: .cryptoDaily, rows: 1865, assets: 3, first: "2014-11-28", last: "2020-01-17", field: .close,
          firstRow: [376.28, .nan, .nan], lastRow: [8709.49, 164.52, 57.88], missing: 1077 + 940),
    .init(dataset: .btcHourly, rows: 20_106, assets: 1, first: "2017-07-01 11:00", last: "2019-10-17 09:00", field: .close,
          firstRow: [2509.17], lastRow: [8035.88], missing: 0),
]

/// Equal arrays, NaN matching NaN.
private func sameCells(_ a: [Double], _ b: [Double]) -> Bool {
    a.elementsEqual(b) { $0 == $1 || ($0.isNaN && $1.isNaN) }
}

/// The label text `DatasetInfo` uses: ISO date or period number.
private func labelText(_ label: TimeLabel?) -> String {
    switch label {
    case let .date(date)?: return date.description
    case let .period(period)?: return "\(period)"
    case let .timestamp(timestamp)?: return timestamp.description
    case nil: return "none"
    }
}

@Suite("Embedded datasets")
struct DatasetTests {
    @Test("every registry entry has an expectation")
    func everyDatasetCovered() {
        #expect(Set(expectations.map(\.dataset)) == Set(Dataset.allCases))
        #expect(Dataset.allCases.map(\.name) == ["sp500-stocks", "sp500-index", "factor-etfs", "sp500-ohlcv", "nasdaq-ohlcv", "vix",
                                                 "corporate-yields", "fama-french", "wti", "olps-nyse-o", "olps-nyse-n",
                                                 "olps-djia", "olps-sp500", "olps-tse", "olps-msci", "crypto-daily", "btc-hourly"])
        #expect(throws: MarketError.unknownDataset(name: "sp600")) { try Dataset(named: "sp600") }
    }

    @Test("loads with its shape, span, first and last values, and metadata that agrees", arguments: expectations)
    func loads(_ expected: DatasetExpectation) throws {
        let panel = try expected.dataset.load()
        let info = expected.dataset.info
        #expect(panel.timeCount == expected.rows)
        #expect(panel.assetCount == expected.assets)
        #expect(labelText(panel.index.first) == expected.first)
        #expect(labelText(panel.index.last) == expected.last)
        // The metadata printed by `metafolio datasets` describes the loaded panel.
        #expect(info.rows == panel.timeCount && info.assets == panel.assets)
        #expect(info.start == expected.first && info.end == expected.last)
        #expect(info.frequency == panel.index.frequency)
        #expect(info.kind == panel.kind)
        #expect(panel.assetClasses.allSatisfy { $0 == info.assetClass })
        let values = try #require(panel.field(expected.field))
        let isOLPS = expected.dataset.name.hasPrefix("olps-")
        let firstRow = isOLPS ? 1 : 0
        let firstCells = isOLPS ? [values[firstRow, 0], values[firstRow, expected.assets - 1]] : values.row(firstRow)
        let lastCells = isOLPS ? [values[panel.timeCount - 1, 0], values[panel.timeCount - 1, expected.assets - 1]]
                               : values.row(panel.timeCount - 1)
        // The reader parses decimal text correctly rounded, so the values equal the source text's: tolerance 0.
        #expect(sameCells(firstCells, expected.firstRow))
        #expect(sameCells(lastCells, expected.lastRow))
        #expect(values.elements.filter(\.isNaN).count == expected.missing)
        #expect(panel.mask.availableCount == panel.timeCount * panel.assetCount - expected.missing)
    }

    @Test("OLPS day 0: a row of ones, so relatives of period 1 equal the file's first row")
    func olpsDayZero() throws {
        let panel = try Dataset.olpsDJIA.load()
        #expect(panel.close.row(0) == Array(repeating: 1, count: 30))
        #expect(panel.index.labels == .periods(0..<508))
        #expect(panel.assets.first == "S01" && panel.assets.last == "S30")
        let relatives = try panel.priceRelatives()
        // Dividing by exactly 1 is exact: tolerance 0.
        #expect(relatives.values.row(0) == panel.close.row(1))
        #expect(relatives.values[0, 0] == 1.032425818293056)
        #expect(relatives.timeCount == 507)
        #expect(Dataset.olpsDJIA.info.calendarYears == "2001–2003")
        #expect(Dataset.sp500Stocks.info.calendarYears == nil)
    }

    @Test("OHLCV datasets carry every field, with the source's zero-volume days")
    func ohlcvFields() throws {
        let sp = try Dataset.sp500OHLCV.load()
        #expect(sp.fieldNames == [.open, .high, .low, .close, .adjustedClose, .volume])
        // First and last rows of sp500_ohlcv.csv (Open, High, Low, Close, Adj Close, Volume), copied from the file.
        #expect(PriceField.allCases.map { sp.field($0)![0, 0] } == [1229.22998, 1248.810059, 1219.099976, 1228.099976, 1228.099976, 877_000_000])
        #expect(PriceField.allCases.map { sp.field($0)![5030, 0] } == [2498.939941, 2509.23999, 2482.820068, 2506.850098, 2506.850098, 3_442_870_000])
        let nasdaq = try Dataset.nasdaqOHLCV.load()
        #expect(PriceField.allCases.map { nasdaq.field($0)![0, 0] } == [2207.540039, 2233.570068, 2192.679932, 2208.050049, 2208.050049, 936_660_000])
        let zeroVolume = try #require(nasdaq.field(.volume)).column(0).enumerated().filter { $0.element == 0 }.map { nasdaq.index.label(at: $0.offset) }
        #expect(zeroVolume == [.date(try day("2015-05-12")), .date(try day("2018-01-09"))])
    }

    @Test("VIX keeps FRED's missing days as NaN and unavailable")
    func vixMissing() throws {
        let vix = try Dataset.vix.load()
        // vix.csv line 13 (data row 12, 2014-01-20, Martin Luther King Day) holds ".".
        let row = try #require(vix.index.position(of: try day("2014-01-20")))
        #expect(row == 11)
        #expect(vix.close[row, 0].isNaN && !vix.mask[row, 0])
    }
}

@Suite("Embedded crypto datasets")
struct CryptoDatasetTests {
    @Test("crypto-daily: OHLCV per coin, unavailable before each coin lists, values as in the file")
    func daily() throws {
        let panel = try Dataset.cryptoDaily.load()
        #expect(panel.assets == ["BTC", "ETH", "LTC"] && panel.fieldNames == [.open, .high, .low, .close, .volume])
        #expect(panel.index.frequency == .daily && panel.assetClasses == [.crypto, .crypto, .crypto])
        let firstAvailable = (0..<3).map { a in (0..<panel.timeCount).first { panel.mask[$0, a] }.map { panel.index.label(at: $0) } }
        #expect(firstAvailable == [.date(try day("2014-11-28")), .date(try day("2017-11-09")), .date(try day("2017-06-25"))])
        // File rows 2017-06-25 (LTC lists) and 2017-11-09 (ETH lists): open, high, low, close, volume.
        let june25 = try #require(panel.index.position(of: try day("2017-06-25")))
        #expect(PriceField.allCases.compactMap { panel.field($0)?[june25, 2] } == [43.03, 43.21, 38.55, 40.9, 7875.2])
        #expect(panel.close[june25 - 1, 2].isNaN && !panel.mask[june25 - 1, 2])
        let november9 = try #require(panel.index.position(of: try day("2017-11-09")))
        #expect(PriceField.allCases.compactMap { panel.field($0)?[november9, 1] } == [322.15, 331.7, 317.29, 321.32, 13118.15])
        #expect(!panel.mask[november9 - 1, 1])
        // A flat day with zero volume for every coin, and the twelve days missing from the file.
        let flat = try #require(panel.index.position(of: try day("2018-08-12")))
        #expect(panel.field(.volume)!.row(flat) == [0, 0, 0])
        let march19 = try #require(panel.index.position(of: try day("2019-03-19")))
        #expect(panel.index.label(at: march19 + 1) == .date(try day("2019-04-01")))
        // Thirty days to 2017-07-24: ETH has not listed yet, and BTC trades far more dollars than LTC.
        #expect(try panel.topAssetsByVolume(count: 3, lookback: 30, endingAt: .date(day("2017-07-24"))) == ["BTC", "LTC", "ETH"])
    }

    @Test("btc-hourly: hourly bars ascending, misplaced copies left out, resampled to days")
    func hourly() throws {
        let panel = try Dataset.btcHourly.load()
        #expect(panel.index.frequency == .hourly && panel.assets == ["BTCUSD"])
        // The file's last row (2017-07-01 11-AM) and first row (2019-10-17 09-AM): open, high, low, close, volume_btc.
        #expect(PriceField.allCases.compactMap { panel.field($0)?[0, 0] } == [2505.56, 2513.38, 2495.12, 2509.17, 114.6])
        #expect(PriceField.allCases.compactMap { panel.field($0)?[panel.timeCount - 1, 0] } == [8051, 8056.83, 8021.23, 8035.88, 61.25])
        // 2017-11-12 03:00 is followed by 09:00: the copies stamped 04:00–08:00 are out, and the prices chain.
        let three = try #require(panel.index.position(of: MarketTimestamp("2017-11-12 03:00")!))
        #expect(panel.index.label(at: three + 1) == .timestamp(MarketTimestamp("2017-11-12 09:00")!))
        #expect(panel.close[three, 0] == 6201 && panel.field(.open)![three + 1, 0] == 6201)
        let daily = try panel.resampled(to: .daily)
        // 839 calendar days; the last bar of 2017-07-01 is 23:00 (close 2423.63), of 2019-10-17 09:00.
        #expect(daily.timeCount == 839 && daily.index.frequency == .daily)
        #expect(daily.close[0, 0] == 2423.63 && daily.close[838, 0] == 8035.88)
    }
}
