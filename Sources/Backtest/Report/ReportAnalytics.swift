import Market

/// The series a report derives from wealth paths: drawdowns, rolling Sharpe
/// ratios, annualization, and the downsampling used to keep charts small.
///
/// All functions take a wealth path `W₀ … W_{n−1}` (finite, positive; a
/// ``ReportSeries`` guarantees it) and use simple per-period returns
/// `r_t = W_t / W_{t−1} − 1` for `t = 1 … n−1`.
public enum ReportAnalytics {
    /// Drawdown from the running peak at each date: `D_t = W_t / max_{s≤t} W_s − 1`,
    /// so `D_t ∈ (−1, 0]` and `D_0 = 0` (Magdon-Ismail & Atiya, "Maximum drawdown", Risk 17(10), 2004).
    ///
    /// - Returns: one value per wealth value. Complexity O(n).
    public static func drawdowns(_ wealth: [Double]) -> [Double] {
        var peak = -Double.infinity
        return wealth.map { value in
            peak = Swift.max(peak, value)
            return value / peak - 1
        }
    }

    /// The deepest drawdown of a wealth path and where it happened.
    public struct MaximumDrawdown: Sendable, Hashable, Codable {
        /// `min_t D_t` (≤ 0); 0 for a path that never falls.
        public let depth: Double
        /// Index of the running peak before the trough.
        public let peakIndex: Int
        /// Index of the trough (the first one when several tie).
        public let troughIndex: Int
        /// First index after the trough where wealth is back at the peak, or `nil` if it never is.
        public let recoveryIndex: Int?
    }

    /// The maximum drawdown of a non-empty wealth path (see ``drawdowns(_:)``). Complexity O(n).
    public static func maximumDrawdown(_ wealth: [Double]) -> MaximumDrawdown {
        var peakIndex = 0, depth = 0.0, worstPeak = 0, trough = 0
        for t in wealth.indices {
            if wealth[t] > wealth[peakIndex] { peakIndex = t }
            let drawdown = wealth[t] / wealth[peakIndex] - 1
            if drawdown < depth { (depth, worstPeak, trough) = (drawdown, peakIndex, t) }
        }
        let recovery = depth < 0 ? wealth.indices.dropFirst(trough + 1).first { wealth[$0] >= wealth[worstPeak] } : nil
        return MaximumDrawdown(depth: depth, peakIndex: worstPeak, troughIndex: trough, recoveryIndex: recovery)
    }

    /// Standard deviations below this are treated as zero: the Sharpe ratio of a
    /// window of (numerically) constant returns is undefined, not huge.
    static let zeroVolatility = 1e-12

    /// Rolling annualized Sharpe ratio over the last `window` returns:
    /// `S_t = (mean(r) − r_f / P) / sd(r) · √P` for the returns `r_{t−window+1} … r_t`,
    /// where `sd` is the sample standard deviation (divisor `window − 1`), `P` is
    /// `periodsPerYear` and `r_f` the annual risk-free rate (Sharpe, "The Sharpe ratio",
    /// J. Portfolio Management 21(1), 1994; √P annualization as in Lo, "The statistics of
    /// Sharpe ratios", FAJ 58(4), 2002, for i.i.d. returns).
    ///
    /// - Returns: one entry per wealth value; `nil` for `t < window` (not enough returns)
    ///   and where `sd(r) < 1e-12` (the ratio is undefined). Complexity O(n · window),
    ///   two passes per window so values match a direct computation to rounding.
    public static func rollingSharpe(_ wealth: [Double], window: Int, periodsPerYear: Double,
                                     riskFreeRate: Double = 0) -> [Double?] {
        guard window >= 2, wealth.count > window else { return Array(repeating: nil, count: wealth.count) }
        let returns = (1..<wealth.count).map { wealth[$0] / wealth[$0 - 1] - 1 }
        let riskFreePerPeriod = riskFreeRate / periodsPerYear
        let scale = periodsPerYear.squareRoot()
        var result: [Double?] = Array(repeating: nil, count: wealth.count)
        for end in (window - 1)..<returns.count {
            let slice = returns[(end - window + 1)...end]
            let mean = slice.reduce(0, +) / Double(window)
            let variance = slice.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(window - 1)
            let deviation = variance.squareRoot()
            if deviation >= zeroVolatility {
                result[end + 1] = (mean - riskFreePerPeriod) / deviation * scale
            }
        }
        return result
    }

    /// Periods per year implied by `dates`: the engine's ``Backtest/periodsPerYear(_:)`` of the
    /// inferred ``Frequency`` (252 daily, 52 weekly, 12 monthly, 4 quarterly, 1 annual), except for
    /// irregular dates, which use the observed rate `(n − 1) · 365.25 / (days from first to last date)`.
    public static func periodsPerYear(for dates: [MarketDate]) -> Double {
        let frequency = Frequency.infer(from: dates)
        guard frequency == .irregular, let first = dates.first, let last = dates.last,
              last.daysSinceEpoch > first.daysSinceEpoch else { return Backtest.periodsPerYear(frequency) }
        return Double(dates.count - 1) * 365.25 / Double(last.daysSinceEpoch - first.daysSinceEpoch)
    }

    /// Indices of at most `maxPoints` entries of `values` that preserve the shape of the path
    /// (min–max decimation): the first and last index, and for each of `(maxPoints − 2) / 2`
    /// (`/ 3` when some values are `nil`) equal buckets of the interior the indices of its minimum and its maximum. Global
    /// extrema are therefore always kept (the deepest drawdown, the highest peak). A bucket
    /// holding `nil` entries (undefined values) also keeps its first `nil`, so gaps stay visible.
    ///
    /// - Returns: increasing indices; all indices when `values.count <= maxPoints`.
    ///   Complexity O(n).
    public static func downsampledIndices(_ values: [Double?], maxPoints: Int) -> [Int] {
        let n = values.count
        guard n > maxPoints, maxPoints >= 4 else { return Array(0..<n) }
        // Each bucket contributes up to two indices, three when the path has gaps.
        let perBucket = values.contains { $0 == nil } ? 3 : 2
        let bucketCount = Swift.max(1, (maxPoints - 2) / perBucket)
        let interior = n - 2
        var kept = [0]
        kept.reserveCapacity(maxPoints)
        for bucket in 0..<bucketCount {
            let start = 1 + bucket * interior / bucketCount
            let end = 1 + (bucket + 1) * interior / bucketCount
            var low: Int?, high: Int?, gap: Int?
            for k in start..<end {
                guard let value = values[k] else {
                    if gap == nil { gap = k }
                    continue
                }
                if low.map({ value < values[$0]! }) ?? true { low = k }
                if high.map({ value > values[$0]! }) ?? true { high = k }
            }
            kept += [low, high, gap].compactMap { $0 }.sorted().reduce(into: [Int]()) { unique, k in
                if unique.last != k { unique.append(k) }
            }
        }
        kept.append(n - 1)
        return kept
    }

    /// `min(count, maxPoints)` evenly spaced indices of `0..<count`, the first and last included:
    /// the rows an allocation chart draws and the JSON companion keeps under
    /// ``ReportOptions/JSONWeights/thinned(maxRows:)``. All indices when `count <= maxPoints`
    /// (`maxPoints ≥ 2`). Complexity O(maxPoints).
    public static func evenlySpacedIndices(count: Int, maxPoints: Int) -> [Int] {
        guard count > maxPoints, maxPoints >= 2 else { return Array(0..<count) }
        return (0..<maxPoints).map { $0 * (count - 1) / (maxPoints - 1) }
    }
}
