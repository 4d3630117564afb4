import RealModule

/// How an exponential moving average is started.
public enum EMASeed: String, Sendable, Hashable, Codable {
    /// `EMA₀ = X₀`, then the recursion: pandas `ewm(span=n, adjust=False).mean()`; no warm-up.
    case first
    /// `EMA_{n−1} = SMA(X₀…X_{n−1})`, then the recursion (TA-Lib's default); the first `n − 1` values are NaN.
    case sma
}

/// Causal technical indicators on plain series (`[Double]`, one value per period, oldest first).
///
/// Every output has the input's length and its value at `t` depends on inputs at `0…t` only.
/// The warm-up (periods without enough history) is NaN and documented per indicator; this is the
/// pandas convention. Inputs must be finite (NaN inputs throw rather than propagate silently).
/// Windowed statistics are recomputed per window (O(N·n)), which keeps them bit-for-bit independent
/// of anything outside the window.
public enum Indicators {
    // MARK: Moving averages

    /// Simple moving average `mean(X_{t−n+1}…Xₜ)`; warm-up `n − 1` NaN (pandas `rolling(n).mean()`). O(N·n).
    ///
    /// - Throws: ``SignalsError`` for an empty or non-finite series or `window < 1`.
    public static func sma(_ x: [Double], window n: Int) throws -> [Double] {
        try validateSeries(x, "Indicators.sma")
        try validateWindow(n, "Indicators.sma")
        return rolling(x, n) { w in w.reduce(0, +) / Double(w.count) }
    }

    /// Exponential moving average with `α = 2/(n + 1)`: `EMAₜ = α Xₜ + (1 − α) EMAₜ₋₁`, started by `seed`
    /// (warm-up 0 for ``EMASeed/first``, `n − 1` NaN for ``EMASeed/sma``). O(N).
    ///
    /// - Throws: ``SignalsError`` for an empty or non-finite series or `span < 1`.
    public static func ema(_ x: [Double], span n: Int, seed: EMASeed = .first) throws -> [Double] {
        try validateSeries(x, "Indicators.ema")
        try validateWindow(n, "Indicators.ema", name: "span")
        return emaRecursion(x, alpha: 2 / Double(n + 1), seed: seed, seedWindow: n)
    }

    /// EMA over a series whose first `offset` values are NaN (a warm-up of an upstream indicator).
    static func emaRecursion(_ x: [Double], alpha: Double, seed: EMASeed, seedWindow n: Int, offset: Int = 0) -> [Double] {
        var out = [Double](repeating: .nan, count: x.count)
        let start: Int
        var value: Double
        switch seed {
        case .first:
            guard offset < x.count else { return out }
            start = offset
            value = x[offset]
        case .sma:
            guard offset + n - 1 < x.count else { return out }
            start = offset + n - 1
            value = x[offset...start].reduce(0, +) / Double(n)
        }
        out[start] = value
        for t in (start + 1)..<Swift.max(start + 1, x.count) {
            value = alpha * x[t] + (1 - alpha) * value
            out[t] = value
        }
        return out
    }

    /// Linearly weighted moving average `Σᵢ (i+1)·X_{t−n+1+i} / (n(n+1)/2)` (TA-Lib WMA); warm-up `n − 1` NaN. O(N·n).
    ///
    /// - Throws: as ``sma(_:window:)``.
    public static func wma(_ x: [Double], window n: Int) throws -> [Double] {
        try validateSeries(x, "Indicators.wma")
        try validateWindow(n, "Indicators.wma")
        let denominator = Double(n * (n + 1)) / 2
        return rolling(x, n) { w in w.enumerated().reduce(0) { $0 + Double($1.offset + 1) * $1.element } / denominator }
    }

    // MARK: Oscillators

    /// Wilder's relative strength index (Wilder 1978): with `Δₜ = Xₜ − Xₜ₋₁`, the average gain and loss
    /// start as the means of the first `n` gains/losses (at `t = n`) and then follow
    /// `avgₜ = (avgₜ₋₁(n − 1) + currentₜ)/n`; `RSI = 100 − 100/(1 + avgGain/avgLoss)` (TA-Lib's RSI).
    /// `RSI = 100` when the average loss is 0 and 50 when both averages are 0. Warm-up `n` NaN. O(N).
    ///
    /// - Throws: as ``sma(_:window:)``.
    public static func rsi(_ x: [Double], window n: Int = 14) throws -> [Double] {
        try validateSeries(x, "Indicators.rsi")
        try validateWindow(n, "Indicators.rsi")
        var out = [Double](repeating: .nan, count: x.count)
        guard x.count > n else { return out }
        var gain = 0.0, loss = 0.0
        for t in 1...n { let d = x[t] - x[t - 1]; gain += Swift.max(d, 0); loss += Swift.max(-d, 0) }
        gain /= Double(n); loss /= Double(n)
        func value() -> Double { loss == 0 ? (gain == 0 ? 50 : 100) : 100 - 100 / (1 + gain / loss) }
        out[n] = value()
        for t in (n + 1)..<Swift.max(n + 1, x.count) {
            let d = x[t] - x[t - 1]
            gain = (gain * Double(n - 1) + Swift.max(d, 0)) / Double(n)
            loss = (loss * Double(n - 1) + Swift.max(-d, 0)) / Double(n)
            out[t] = value()
        }
        return out
    }

    /// MACD (Appel 1979) with its signal line and histogram, each of the input's length.
    public struct MACD: Sendable, Hashable {
        /// `EMA_fast − EMA_slow`.
        public let line: [Double]
        /// EMA of ``line`` with span `signal`.
        public let signal: [Double]
        /// `line − signal`.
        public let histogram: [Double]
    }

    /// MACD with spans `fast`, `slow`, `signal` (12, 26, 9). With ``EMASeed/first`` every EMA starts at
    /// the first available value (pandas `ewm(adjust=False)`; no warm-up except that the signal starts
    /// with the line). With ``EMASeed/sma`` the line's warm-up is `slow − 1` and the signal's
    /// `slow + signal − 2` NaN. O(N).
    ///
    /// - Throws: as ``sma(_:window:)``; ``SignalsError/invalidParameter(operation:parameter:value:reason:)`` unless `fast < slow`.
    public static func macd(_ x: [Double], fast: Int = 12, slow: Int = 26, signal: Int = 9, seed: EMASeed = .first) throws -> MACD {
        let operation = "Indicators.macd"
        try validateSeries(x, operation)
        try validateWindow(fast, operation, name: "fast")
        try validateWindow(signal, operation, name: "signal")
        guard slow > fast else {
            throw SignalsError.invalidParameter(operation: operation, parameter: "slow", value: "\(slow)", reason: "must exceed fast = \(fast)")
        }
        let f = emaRecursion(x, alpha: 2 / Double(fast + 1), seed: seed, seedWindow: fast)
        let s = emaRecursion(x, alpha: 2 / Double(slow + 1), seed: seed, seedWindow: slow)
        let line = zip(f, s).map { $0 - $1 }
        let offset = seed == .sma ? slow - 1 : 0
        let sig = emaRecursion(line, alpha: 2 / Double(signal + 1), seed: seed, seedWindow: signal, offset: offset)
        return MACD(line: line, signal: sig, histogram: zip(line, sig).map { $0 - $1 })
    }

    /// Bollinger-band features (Bollinger 2001).
    public struct Bollinger: Sendable, Hashable {
        /// Middle band, `SMA(n)`.
        public let middle: [Double]
        /// `middle + k·σ`.
        public let upper: [Double]
        /// `middle − k·σ`.
        public let lower: [Double]
        /// `%b = (X − lower)/(upper − lower)`; 0.5 when the band has zero width.
        public let percentB: [Double]
        /// Bandwidth `(upper − lower)/middle`; 0 when the band has zero width.
        public let bandwidth: [Double]
    }

    /// Bollinger bands over `n` periods with `k` standard deviations; `σ` is the population (ddof 0)
    /// rolling standard deviation, as TA-Lib and Bollinger use (pandas: `rolling(n).std(ddof=0)`).
    /// Warm-up `n − 1` NaN. O(N·n).
    ///
    /// - Throws: as ``sma(_:window:)``; `k` must be finite and positive.
    public static func bollinger(_ x: [Double], window n: Int = 20, deviations k: Double = 2) throws -> Bollinger {
        let operation = "Indicators.bollinger"
        try validateSeries(x, operation)
        try validateWindow(n, operation)
        guard k.isFinite, k > 0 else {
            throw SignalsError.invalidParameter(operation: operation, parameter: "deviations", value: "\(k)", reason: "must be finite and > 0")
        }
        let mid = rolling(x, n) { $0.reduce(0, +) / Double($0.count) }
        let sd = rolling(x, n) { standardDeviation($0, ddof: 0) }
        var upper = mid, lower = mid, pb = mid, bw = mid
        for t in x.indices where !mid[t].isNaN {
            upper[t] = mid[t] + k * sd[t]
            lower[t] = mid[t] - k * sd[t]
            let width = upper[t] - lower[t]
            pb[t] = width > 0 ? (x[t] - lower[t]) / width : 0.5
            bw[t] = width > 0 ? width / mid[t] : 0
        }
        return Bollinger(middle: mid, upper: upper, lower: lower, percentB: pb, bandwidth: bw)
    }

    /// Wilder's average true range: `TRₜ = max(Hₜ − Lₜ, |Hₜ − Cₜ₋₁|, |Lₜ − Cₜ₋₁|)` for `t ≥ 1`;
    /// `ATRₙ = mean(TR₁…TRₙ)`, then `ATRₜ = (ATRₜ₋₁(n − 1) + TRₜ)/n` (TA-Lib ATR). Warm-up `n` NaN. O(N).
    ///
    /// - Throws: as ``sma(_:window:)``, and ``SignalsError/lengthMismatch(operation:expected:found:what:)``.
    public static func atr(high: [Double], low: [Double], close: [Double], window n: Int = 14) throws -> [Double] {
        let operation = "Indicators.atr"
        try validateBars(high: high, low: low, close: close, operation)
        try validateWindow(n, operation)
        var out = [Double](repeating: .nan, count: close.count)
        guard close.count > n else { return out }
        var tr: [Double] = []
        for t in 1..<close.count {
            let range: Double = high[t] - low[t]
            let up: Double = Swift.abs(high[t] - close[t - 1]), down: Double = Swift.abs(low[t] - close[t - 1])
            tr.append(Swift.max(range, Swift.max(up, down)))
        }
        var value = tr[0..<n].reduce(0, +) / Double(n)
        out[n] = value
        for t in (n + 1)..<Swift.max(n + 1, close.count) {
            value = (value * Double(n - 1) + tr[t - 1]) / Double(n)
            out[t] = value
        }
        return out
    }

    /// Stochastic oscillator (Lane): `%K = 100 (Cₜ − min L)/(max H − min L)` over the last `k` bars
    /// (50 when the range is 0) and `%D = SMA(%K, d)`. Warm-up `k − 1` (for %K) and `k + d − 2` (for %D) NaN. O(N·k).
    ///
    /// - Throws: as ``atr(high:low:close:window:)``.
    public static func stochastic(high: [Double], low: [Double], close: [Double], k: Int = 14, d: Int = 3) throws -> (k: [Double], d: [Double]) {
        let operation = "Indicators.stochastic"
        try validateBars(high: high, low: low, close: close, operation)
        try validateWindow(k, operation, name: "k")
        try validateWindow(d, operation, name: "d")
        var percentK = [Double](repeating: .nan, count: close.count)
        for t in (k - 1)..<Swift.max(k - 1, close.count) {
            let hh = high[(t - k + 1)...t].max()!, ll = low[(t - k + 1)...t].min()!
            percentK[t] = hh > ll ? 100 * (close[t] - ll) / (hh - ll) : 50
        }
        var percentD = [Double](repeating: .nan, count: close.count)
        for t in (k + d - 2)..<Swift.max(k + d - 2, close.count) {
            percentD[t] = percentK[(t - d + 1)...t].reduce(0, +) / Double(d)
        }
        return (percentK, percentD)
    }

    // MARK: Momentum and volatility

    /// Momentum `Xₜ − Xₜ₋ₙ`; warm-up `n` NaN (pandas `diff(n)`). O(N).
    ///
    /// - Throws: as ``sma(_:window:)``.
    public static func momentum(_ x: [Double], period n: Int = 10) throws -> [Double] {
        try validateSeries(x, "Indicators.momentum")
        try validateWindow(n, "Indicators.momentum", name: "period")
        return x.indices.map { $0 >= n ? x[$0] - x[$0 - n] : .nan }
    }

    /// Rate of change in percent `100 (Xₜ/Xₜ₋ₙ − 1)` (TA-Lib ROC, pandas `pct_change(n) * 100`); warm-up `n` NaN. O(N).
    ///
    /// - Throws: as ``sma(_:window:)``, and ``SignalsError/nonPositive(operation:position:value:)`` for a non-positive value.
    public static func rateOfChange(_ x: [Double], period n: Int = 10) throws -> [Double] {
        try validateSeries(x, "Indicators.rateOfChange")
        try validateWindow(n, "Indicators.rateOfChange", name: "period")
        if let bad = x.firstIndex(where: { $0 <= 0 }) { throw SignalsError.nonPositive(operation: "Indicators.rateOfChange", position: bad, value: x[bad]) }
        return x.indices.map { $0 >= n ? 100 * (x[$0] / x[$0 - n] - 1) : .nan }
    }

    /// Rolling volatility of log returns `rₜ = ln(Pₜ/Pₜ₋₁)`: the sample standard deviation (ddof 1) of the last
    /// `n` returns, times `√annualization` (pass 252 for daily data, 1 for per-period). Warm-up `n` NaN
    /// (pandas `np.log(p).diff().rolling(n).std() * sqrt(a)`). O(N·n).
    ///
    /// - Throws: as ``rateOfChange(_:period:)``; `n ≥ 2`.
    public static func rollingVolatility(prices p: [Double], window n: Int = 20, annualization: Double = 1) throws -> [Double] {
        let operation = "Indicators.rollingVolatility"
        try validateSeries(p, operation)
        try validateWindow(n, operation, minimum: 2)
        if let bad = p.firstIndex(where: { $0 <= 0 }) { throw SignalsError.nonPositive(operation: operation, position: bad, value: p[bad]) }
        let r = [Double.nan] + (1..<p.count).map { Double.log(p[$0] / p[$0 - 1]) }
        let factor = annualization.squareRoot()
        var out = [Double](repeating: .nan, count: p.count)
        for t in n..<Swift.max(n, p.count) { out[t] = standardDeviation(Array(r[(t - n + 1)...t]), ddof: 1) * factor }
        return out
    }

    /// Rolling z-score `(Xₜ − mean)/sd` over the last `n` values (sample sd, ddof 1, pandas' default);
    /// 0 when the window is constant. Warm-up `n − 1` NaN. O(N·n).
    ///
    /// - Throws: as ``sma(_:window:)``; `n ≥ 2`.
    public static func rollingZScore(_ x: [Double], window n: Int) throws -> [Double] {
        try validateSeries(x, "Indicators.rollingZScore")
        try validateWindow(n, "Indicators.rollingZScore", minimum: 2)
        return rolling(x, n) { w in
            let mean = w.reduce(0, +) / Double(w.count), sd = standardDeviation(w, ddof: 1)
            return sd > 0 ? (w.last! - mean) / sd : 0
        }
    }

    /// On-balance volume (Granville 1963): `OBV₀ = V₀`, then `OBVₜ = OBVₜ₋₁ + sign(Cₜ − Cₜ₋₁)·Vₜ` (TA-Lib OBV). No warm-up. O(N).
    ///
    /// - Throws: ``SignalsError`` for empty, non-finite or misaligned inputs or a negative volume.
    public static func onBalanceVolume(close: [Double], volume: [Double]) throws -> [Double] {
        let operation = "Indicators.onBalanceVolume"
        try validateSeries(close, operation)
        try validateSeries(volume, operation)
        guard volume.count == close.count else {
            throw SignalsError.lengthMismatch(operation: operation, expected: close.count, found: volume.count, what: "volume")
        }
        if let bad = volume.firstIndex(where: { $0 < 0 }) { throw SignalsError.nonPositive(operation: operation, position: bad, value: volume[bad]) }
        var out = [volume[0]]
        for t in 1..<close.count {
            let step = close[t] > close[t - 1] ? volume[t] : (close[t] < close[t - 1] ? -volume[t] : 0)
            out.append(out[t - 1] + step)
        }
        return out
    }

    // MARK: Helpers

    static func validateBars(high: [Double], low: [Double], close: [Double], _ operation: String) throws {
        try validateSeries(close, operation)
        try validateSeries(high, operation)
        try validateSeries(low, operation)
        guard high.count == close.count else { throw SignalsError.lengthMismatch(operation: operation, expected: close.count, found: high.count, what: "high") }
        guard low.count == close.count else { throw SignalsError.lengthMismatch(operation: operation, expected: close.count, found: low.count, what: "low") }
    }

    /// Applies `statistic` to each full trailing window; NaN before the first.
    static func rolling(_ x: [Double], _ n: Int, _ statistic: (ArraySlice<Double>) -> Double) -> [Double] {
        var out = [Double](repeating: .nan, count: x.count)
        guard n <= x.count else { return out }
        for t in (n - 1)..<x.count { out[t] = statistic(x[(t - n + 1)...t]) }
        return out
    }
}

/// Two-pass standard deviation with `ddof` degrees of freedom removed.
func standardDeviation<C: Collection>(_ w: C, ddof: Int) -> Double where C.Element == Double {
    let n = Double(w.count)
    let mean = w.reduce(0, +) / n
    let ss = w.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
    return (ss / (n - Double(ddof))).squareRoot()
}
