import RealModule
import Market

/// A table of causal features of one asset, one row per period of its panel.
///
/// Built by ``standard(panel:asset:)`` from a `Market` `PricePanel`; every column is causal
/// (row `t` uses the panel's rows `0…t` only), so the table can feed a model trained
/// walk-forward. Columns in their warm-up are NaN; ``firstCompleteRow`` is the first row where
/// every column is finite.
public struct FeatureSet: Sendable {
    /// Column names, in column order.
    public let names: [String]
    /// Columns, each of the panel's length.
    public let columns: [[Double]]
    /// Time labels of the rows.
    public let labels: [TimeLabel]
    /// First row without NaN, or `nil` when the series is shorter than the longest warm-up.
    public var firstCompleteRow: Int? {
        labels.indices.first { t in columns.allSatisfy { $0[t].isFinite } }
    }

    /// The standard feature set of `asset`: log-price z-score(20), EMA(12)/EMA(26) ratio − 1, RSI(14),
    /// MACD histogram (12, 26, 9) divided by the price, Bollinger %b and bandwidth (20, 2), ROC(10),
    /// rolling volatility of log returns (20), and, when the panel carries high, low and volume,
    /// ATR(14)/close, stochastic %K/%D (14, 3) and the rolling z-score (20) of OBV.
    /// Longest warm-up: 20 rows (the rolling volatility), so ``firstCompleteRow`` is 20 for gap-free data. O(N·20).
    ///
    /// - Throws: `MarketError.unknownAsset` for an unknown asset; ``SignalsError/nonFinite(operation:position:)``
    ///   when the asset's close (or high, low, volume) has a missing value (align or fill the panel first).
    public static func standard(panel: PricePanel, asset: String) throws -> FeatureSet {
        let close = try panel.series(asset)
        try validateSeries(close, "FeatureSet.standard")
        if let bad = close.firstIndex(where: { $0 <= 0 }) {
            throw SignalsError.nonPositive(operation: "FeatureSet.standard", position: bad, value: close[bad])
        }
        var names: [String] = [], columns: [[Double]] = []
        func add(_ name: String, _ column: [Double]) { names.append(name); columns.append(column) }
        add("zscore20", try Indicators.rollingZScore(close.map { Double.log($0) }, window: 20))
        let fast = try Indicators.ema(close, span: 12), slow = try Indicators.ema(close, span: 26)
        add("emaRatio", zip(fast, slow).map { $0 / $1 - 1 })
        add("rsi14", try Indicators.rsi(close))
        add("macdHistogram", zip(try Indicators.macd(close).histogram, close).map { $0 / $1 })
        let bands = try Indicators.bollinger(close)
        add("percentB", bands.percentB)
        add("bandwidth", bands.bandwidth)
        add("roc10", try Indicators.rateOfChange(close))
        add("volatility20", try Indicators.rollingVolatility(prices: close))
        if let high = try? panel.series(asset, field: .high), let low = try? panel.series(asset, field: .low),
           let volume = try? panel.series(asset, field: .volume) {
            add("atr14", zip(try Indicators.atr(high: high, low: low, close: close), close).map { $0 / $1 })
            let stochastic = try Indicators.stochastic(high: high, low: low, close: close)
            add("stochK", stochastic.k)
            add("stochD", stochastic.d)
            add("obvZ20", try Indicators.rollingZScore(try Indicators.onBalanceVolume(close: close, volume: volume), window: 20))
        }
        return FeatureSet(names: names, columns: columns, labels: panel.index.allLabels)
    }
}
