import Testing
@testable import Signals

struct IndicatorFixture: Decodable {
    let close, high, low, volume: [Double]
    let sma10, ema10, ema10sma, wma10, rsi14, macdLine, macdSignal, macdHistogram: [Double?]
    let bollingerPercentB, bollingerBandwidth, atr14, stochK, stochD, momentum10, roc10: [Double?]
    let volatility20, zscore20, expandingZ, obv: [Double?]
}

/// Indicators against pandas formulas (fixtures by Scripts/fixtures/signals.py). Tolerance 1e-12
/// relative (floor 1): the same recursions and window sums, in a possibly different order; warm-up
/// NaN positions must match exactly.
@Suite struct IndicatorParityTests {
    let f: IndicatorFixture
    init() throws { f = try fixtures.load("indicators") }

    @Test func movingAverages() throws {
        expectSeries(try Indicators.sma(f.close, window: 10), f.sma10, tolerance: 1e-12, "SMA")
        expectSeries(try Indicators.ema(f.close, span: 10), f.ema10, tolerance: 1e-12, "EMA first-seeded")
        expectSeries(try Indicators.ema(f.close, span: 10, seed: .sma), f.ema10sma, tolerance: 1e-12, "EMA SMA-seeded")
        expectSeries(try Indicators.wma(f.close, window: 10), f.wma10, tolerance: 1e-12, "WMA")
    }

    @Test func oscillators() throws {
        expectSeries(try Indicators.rsi(f.close, window: 14), f.rsi14, tolerance: 1e-12, "RSI")
        let macd = try Indicators.macd(f.close)
        expectSeries(macd.line, f.macdLine, tolerance: 1e-12, "MACD line")
        expectSeries(macd.signal, f.macdSignal, tolerance: 1e-12, "MACD signal")
        expectSeries(macd.histogram, f.macdHistogram, tolerance: 1e-12, "MACD histogram")
        let stochastic = try Indicators.stochastic(high: f.high, low: f.low, close: f.close)
        expectSeries(stochastic.k, f.stochK, tolerance: 1e-12, "%K")
        expectSeries(stochastic.d, f.stochD, tolerance: 1e-12, "%D")
    }

    @Test func bandsRangesAndVolume() throws {
        let bands = try Indicators.bollinger(f.close)
        expectSeries(bands.percentB, f.bollingerPercentB, tolerance: 1e-12, "%b")
        expectSeries(bands.bandwidth, f.bollingerBandwidth, tolerance: 1e-12, "bandwidth")
        expectSeries(try Indicators.atr(high: f.high, low: f.low, close: f.close), f.atr14, tolerance: 1e-12, "ATR")
        expectSeries(try Indicators.momentum(f.close, period: 10), f.momentum10, tolerance: 1e-12, "momentum")
        expectSeries(try Indicators.rateOfChange(f.close, period: 10), f.roc10, tolerance: 1e-12, "ROC")
        expectSeries(try Indicators.rollingVolatility(prices: f.close, window: 20, annualization: 252), f.volatility20,
                     tolerance: 1e-12, "volatility")
        expectSeries(try Indicators.rollingZScore(f.close, window: 20), f.zscore20, tolerance: 1e-12, "rolling z")
        expectSeries(try CausalNormalization.expandingZScore(f.close), f.expandingZ, tolerance: 1e-12, "expanding z")
        expectSeries(try Indicators.onBalanceVolume(close: f.close, volume: f.volume), f.obv, tolerance: 0, "OBV")
    }

    /// Every causal feature at t is bit-identical when every value after t is altered (checked at
    /// several cut points; the altered tail must change the features after t, so the test can fail).
    @Test(arguments: [30, 61, 95])
    func featuresAreCausal(cut: Int) throws {
        func features(_ c: [Double], _ h: [Double], _ l: [Double], _ v: [Double]) throws -> [String: [Double]] {
            let macd = try Indicators.macd(c), macdSMA = try Indicators.macd(c, seed: .sma)
            let bands = try Indicators.bollinger(c), stochastic = try Indicators.stochastic(high: h, low: l, close: c)
            let causal = try CausalMultiresolution.compute(c, filter: WaveletFilter("la8"), levels: 3, window: 32)
            var out: [String: [Double]] = [
                "sma": try Indicators.sma(c, window: 10), "ema": try Indicators.ema(c, span: 10),
                "emaSMA": try Indicators.ema(c, span: 10, seed: .sma), "wma": try Indicators.wma(c, window: 10),
                "rsi": try Indicators.rsi(c), "macdLine": macd.line, "macdSignal": macd.signal, "macdHist": macd.histogram,
                "macdSMA": macdSMA.histogram, "percentB": bands.percentB, "bandwidth": bands.bandwidth,
                "atr": try Indicators.atr(high: h, low: l, close: c), "stochK": stochastic.k, "stochD": stochastic.d,
                "momentum": try Indicators.momentum(c), "roc": try Indicators.rateOfChange(c),
                "volatility": try Indicators.rollingVolatility(prices: c), "zscore": try Indicators.rollingZScore(c, window: 20),
                "expandingZ": try CausalNormalization.expandingZScore(c), "minmax": try CausalNormalization.rollingMinMax(c, window: 15),
                "obv": try Indicators.onBalanceVolume(close: c, volume: v), "causalSmooth": causal.smooth,
            ]
            for (j, d) in causal.details.enumerated() { out["causalD\(j + 1)"] = d }
            return out
        }
        let original = try features(f.close, f.high, f.low, f.volume)
        func alter(_ x: [Double], _ factor: Double) -> [Double] {
            x.enumerated().map { $0.offset > cut ? $0.element * factor * (1 + 0.01 * Double($0.offset % 7)) : $0.element }
        }
        let altered = try features(alter(f.close, 1.3), alter(f.high, 1.35), alter(f.low, 1.25), alter(f.volume, 0.5))
        for (name, series) in original {
            let other = try #require(altered[name])
            let prefixSame = zip(series.prefix(cut + 1), other.prefix(cut + 1)).allSatisfy { $0.bitPattern == $1.bitPattern }
            #expect(prefixSame, "\(name) changed at or before t = \(cut)")
            let tailChanged = zip(series.dropFirst(cut + 1), other.dropFirst(cut + 1)).contains { $0.bitPattern != $1.bitPattern }
            #expect(tailChanged, "\(name) did not react to the altered tail")
        }
    }

    @Test func badInputThrowsTypedErrors() {
        #expect(throws: SignalsError.emptySeries(operation: "Indicators.sma")) { try Indicators.sma([], window: 3) }
        #expect(throws: SignalsError.nonFinite(operation: "Indicators.ema", position: 2)) { try Indicators.ema([1, 2, .nan, 4], span: 3) }
        #expect(throws: SignalsError.invalidParameter(operation: "Indicators.rsi", parameter: "window", value: "0", reason: "must be ≥ 1")) {
            try Indicators.rsi([1, 2, 3], window: 0)
        }
        #expect(throws: SignalsError.lengthMismatch(operation: "Indicators.atr", expected: 3, found: 2, what: "high")) {
            try Indicators.atr(high: [1, 2], low: [1, 2, 3], close: [1, 2, 3])
        }
        #expect(throws: SignalsError.nonPositive(operation: "Indicators.rateOfChange", position: 1, value: 0)) {
            try Indicators.rateOfChange([1, 0, 2], period: 1)
        }
        #expect(throws: SignalsError.invalidParameter(operation: "Indicators.macd", parameter: "slow", value: "5", reason: "must exceed fast = 12")) {
            try Indicators.macd([1, 2, 3], fast: 12, slow: 5)
        }
    }

    /// Documented degenerate conventions: constant input gives RSI 50, %b 0.5, bandwidth 0, %K 50, z-score 0.
    @Test func constantSeriesConventions() throws {
        let flat = [Double](repeating: 5, count: 40)
        #expect(try Indicators.rsi(flat).last == 50)
        let bands = try Indicators.bollinger(flat)
        #expect(bands.percentB.last == 0.5 && bands.bandwidth.last == 0)
        #expect(try Indicators.stochastic(high: flat, low: flat, close: flat).k.last == 50)
        #expect(try Indicators.rollingZScore(flat, window: 10).last == 0)
        #expect(try CausalNormalization.expandingZScore(flat).last == 0)
    }
}
