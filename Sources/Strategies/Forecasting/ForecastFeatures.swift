import Autodiff
import Foundation
import Market
import Signals

/// Settings of the forecasting features and targets.
public struct ForecastFeatureConfiguration: Sendable, Hashable {
    /// Periods in each input window (the window ends at the forecast origin).
    public var window: Int
    /// Forecast horizons in periods, ascending.
    public var horizons: [Int]
    /// Levels of the causal MODWT multiresolution of the log returns.
    public var waveletLevels: Int
    /// Trailing window of the causal multiresolution (≥ 2^levels).
    public var waveletWindow: Int
    /// Wavelet filter name (Signals' `WaveletFilter` names).
    public var waveletFilter: String
    /// Strong-slope threshold per period of the 4-class slope labels (`Labels.slope`).
    public var strongSlope: Double

    /// The defaults: 20-period windows, horizons 1, 5, 20, a 3-level LA(8) MRA over 64 periods, 0.2 % per period.
    public init(window: Int = 20, horizons: [Int] = [1, 5, 20], waveletLevels: Int = 3, waveletWindow: Int = 64,
                waveletFilter: String = "la8", strongSlope: Double = 0.002) {
        self.window = window
        self.horizons = horizons
        self.waveletLevels = waveletLevels
        self.waveletWindow = waveletWindow
        self.waveletFilter = waveletFilter
        self.strongSlope = strongSlope
    }
}

/// Causal features and look-ahead targets of one price series, one row per period.
///
/// Row `t` of ``rows`` uses prices (and VIX closes) dated at or before `t` only: log returns over
/// 1, 5 and 20 periods, 20-period volatility, RSI(14), MACD histogram over price, Bollinger %B, the
/// causal MODWT MRA components of the log returns (`CausalMultiresolution`, never the two-sided MRA),
/// and log VIX with an availability flag (0 where the VIX has no close). Targets look ahead by design:
/// ``targets`` holds the forward `h`-period log returns, ``slopeLabels`` the 4-class slope labels.
public struct ForecastFeatures: Sendable {
    /// The settings used.
    public let configuration: ForecastFeatureConfiguration
    /// Column names, in column order.
    public let names: [String]
    /// Prices, oldest first.
    public let prices: [Double]
    /// Dates of the rows (`nil` for an undated series).
    public let dates: [MarketDate]?
    /// Feature rows `[period][feature]`, NaN in the warm-up.
    public let rows: [[Double]]
    /// First row without NaN.
    public let firstCompleteRow: Int
    /// Forward log returns per horizon (`[horizon index][period]`), NaN for the last `h` periods.
    public let targets: [[Double]]
    /// Slope labels per horizon, `nil` for the last `h` periods.
    public let slopeLabels: [[SlopeLabel?]]

    /// Features of `prices` (dated by `dates` when given) with an optional VIX series `(dates, closes)`.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for bad settings,
    ///   ``StrategiesError/invalidData(component:message:)`` for a non-finite or non-positive price,
    ///   mismatched dates or a series too short to leave a complete row with a full window.
    public init(prices: [Double], dates: [MarketDate]? = nil, vix: (dates: [MarketDate], closes: [Double])? = nil,
                configuration: ForecastFeatureConfiguration = ForecastFeatureConfiguration()) throws {
        let component = "ForecastFeatures"
        try require(configuration.window >= 1, component, "window", "must be ≥ 1, not \(configuration.window)")
        try require(!configuration.horizons.isEmpty && configuration.horizons.allSatisfy { $0 >= 1 }
                    && configuration.horizons == configuration.horizons.sorted() && Set(configuration.horizons).count == configuration.horizons.count,
                    component, "horizons", "must be distinct, ascending and ≥ 1, not \(configuration.horizons)")
        if let bad = prices.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            throw StrategiesError.invalidData(component: component, message: "price \(prices[bad]) at period \(bad) is not finite and positive")
        }
        let n = prices.count
        if let dates, dates.count != n {
            throw StrategiesError.invalidData(component: component, message: "\(dates.count) dates for \(n) prices")
        }
        let logPrice = prices.map { Foundation.log($0) }
        func trailing(_ k: Int) -> [Double] { (0..<n).map { $0 >= k ? logPrice[$0] - logPrice[$0 - k] : .nan } }
        let r1 = trailing(1)
        var names = ["ret1", "ret5", "ret20", "vol20", "rsi14", "macdHist", "percentB"]
        var columns = [r1, trailing(5), trailing(20), try Indicators.rollingVolatility(prices: prices),
                       try Indicators.rsi(prices).map { $0 / 100 - 0.5 },
                       zip(try Indicators.macd(prices).histogram, prices).map { $0 / $1 },
                       try Indicators.bollinger(prices).percentB]
        // The MRA of the returns from period 1 (period 0 has none); row 0 stays NaN.
        let mra = try CausalMultiresolution.compute(Array(r1.dropFirst()), filter: WaveletFilter(configuration.waveletFilter),
                                                    levels: configuration.waveletLevels, window: configuration.waveletWindow)
        for (j, detail) in mra.details.enumerated() {
            names.append("mraD\(j + 1)")
            columns.append([.nan] + detail)
        }
        names.append("mraS\(configuration.waveletLevels)")
        columns.append([.nan] + mra.smooth)
        if let vix, let dates {
            var level = [Double](repeating: 0, count: n), flag = level
            for (t, date) in dates.enumerated() {
                // The last VIX close on or before the row's date, at most 5 days old.
                guard let last = lastPosition(in: vix.dates, onOrBefore: date) else { continue }
                var k = last
                while k > 0, !vix.closes[k].isFinite, last - k < 5 { k -= 1 }
                if vix.closes[k].isFinite, vix.closes[k] > 0, date.daysSinceEpoch - vix.dates[k].daysSinceEpoch <= 7 {
                    level[t] = Foundation.log(vix.closes[k])
                    flag[t] = 1
                }
            }
            names += ["logVIX", "vixAvailable"]
            columns += [level, flag]
        }
        let rows = (0..<n).map { t in columns.map { $0[t] } }
        guard let first = rows.firstIndex(where: { $0.allSatisfy(\.isFinite) }), first + configuration.window - 1 < n else {
            throw StrategiesError.invalidData(component: component, message: "\(n) periods leave no complete row with a \(configuration.window)-period window")
        }
        self.configuration = configuration
        self.names = names
        self.prices = prices
        self.dates = dates
        self.rows = rows
        firstCompleteRow = first
        targets = try configuration.horizons.map { try Labels.forwardReturns(prices, horizon: $0, logarithmic: true) }
        slopeLabels = try configuration.horizons.map { try Labels.slope(prices, horizon: $0, strong: configuration.strongSlope) }
    }

    /// Features of one asset of an embedded dataset, with the embedded VIX (2014–2018) aligned by date.
    ///
    /// - Throws: `MarketError` for an unknown asset, and the errors of ``init(prices:dates:vix:configuration:)``.
    public static func embedded(_ dataset: Dataset, asset: String,
                                configuration: ForecastFeatureConfiguration = ForecastFeatureConfiguration()) throws -> ForecastFeatures {
        let panel = try dataset.load()
        let vix = try Dataset.vix.load()
        return try ForecastFeatures(prices: try panel.series(asset), dates: panel.index.dates,
                                    vix: (vix.index.dates ?? [], try vix.series("VIX")), configuration: configuration)
    }

    /// Features of the embedded S&P 500 data: the index for `"SP500"`, otherwise the stock of that
    /// ticker in `sp500-stocks`.
    ///
    /// - Throws: the errors of ``embedded(_:asset:configuration:)``.
    public static func embeddedSP500(asset: String,
                                     configuration: ForecastFeatureConfiguration = ForecastFeatureConfiguration()) throws -> ForecastFeatures {
        try embedded(asset == "SP500" ? .sp500Index : .sp500Stocks, asset: asset, configuration: configuration)
    }

    /// The first period dated on or after January 1st of `year`.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for an undated series or a year after the data.
    public func firstPeriod(inYear year: Int) throws -> Int {
        let start = try MarketDate(year: year, month: 1, day: 1)
        guard let dates, let first = dates.firstIndex(where: { $0 >= start }) else {
            throw StrategiesError.invalidData(component: "ForecastFeatures", message: "no period dated in or after \(year)")
        }
        return first
    }

    /// Number of periods.
    public var count: Int { prices.count }

    /// The causal MODWT multiresolution components of the log returns that the features hold
    /// (`mraD1 … mraDJ`, then `mraSJ`), each `(name, values)` with one value per period (NaN in the warm-up).
    public var waveletComponents: [(name: String, values: [Double])] {
        names.enumerated().filter { $0.element.hasPrefix("mra") }.map { column, name in (name, rows.map { $0[column] }) }
    }

    /// The first origin with a complete window.
    public var firstOrigin: Int { firstCompleteRow + configuration.window - 1 }

    /// Standardizes with the mean and deviation of the rows `fitRows` (training origins only).
    ///
    /// - Throws: Signals' errors for an empty or non-finite range.
    public func scaler(fittedOn fitRows: Range<Int>) throws -> StandardScaler {
        try StandardScaler(fitting: Array(rows[fitRows]))
    }

    /// `[origins.count, window, features]`: for each origin `t`, the scaled rows `t − window + 1 … t`.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for an origin before ``firstOrigin``
    ///   or past the end; Signals' errors from the scaler.
    public func windows(at origins: [Int], scaler: StandardScaler) throws -> Tensor<Double> {
        let window = configuration.window
        if let bad = origins.first(where: { $0 < firstOrigin || $0 >= count }) {
            throw StrategiesError.invalidData(component: "ForecastFeatures", message: "origin \(bad) outside \(firstOrigin)..<\(count)")
        }
        guard let low = origins.min(), let high = origins.max() else {
            throw StrategiesError.invalidData(component: "ForecastFeatures", message: "no origins")
        }
        // Scaled once; values clipped at ±8 sd so one crash day cannot dominate a window.
        let start = low - window + 1
        let scaled = try scaler.transform(Array(rows[start...high])).map { $0.map { Swift.min(8, Swift.max(-8, $0)) } }
        var scalars: [Double] = []
        scalars.reserveCapacity(origins.count * window * names.count)
        for t in origins {
            for row in scaled[(t - window + 1 - start)...(t - start)] { scalars += row }
        }
        return try Tensor(shape: [origins.count, window, names.count], scalars: scalars)
    }
}
