import Foundation
import Linalg

/// Performance and risk measures of a series of simple per-period returns.
///
/// The formulas and conventions are those of empyrical (Quantopian; `empyrical-reloaded` 0.7), and
/// the fixtures in `Tests/BacktestTests/Fixtures/backtest_metrics.json` come from it:
/// - returns are simple, per period, non-cumulative, oldest first; every entry must be finite;
/// - `periodsPerYear` annualizes: 252 daily, 52 weekly, 12 monthly (``periodsPerYear(_:)``);
/// - standard deviations use `ddof = 1` (volatility, Sharpe, tracking error), except the downside
///   deviation of Sortino and the Jiang et al. per-period Sharpe, which use the mean square (`ddof = 0`);
/// - a risk-free rate or required return is **per period** and subtracted from every return;
/// - annual return is the geometric CAGR `(Π(1 + rₜ))^(P/T) − 1`;
/// - drawdowns are measured on the wealth path anchored at 1 before the first return.
///
/// Measures that are undefined for the data (a zero standard deviation, no drawdown, no loss)
/// return `nil` instead of NaN or infinity. Every function throws
/// ``BacktestError/nonFiniteValue(operation:what:index:)`` for a NaN or infinite return and
/// ``BacktestError/insufficientData(operation:observations:required:)`` for too short a series.
public enum ReturnMetrics {
    // MARK: Helpers

    static func check(_ returns: [Double], _ operation: String, minimum: Int = 1, what: String = "return") throws {
        guard returns.count >= minimum else {
            throw BacktestError.insufficientData(operation: operation, observations: returns.count, required: minimum)
        }
        if let k = returns.firstIndex(where: { !$0.isFinite }) {
            throw BacktestError.nonFiniteValue(operation: operation, what: what, index: k)
        }
    }

    static func checkPair(_ returns: [Double], _ benchmark: [Double], _ operation: String) throws {
        try check(returns, operation, minimum: 2)
        try check(benchmark, operation, minimum: 2, what: "benchmark return")
        guard returns.count == benchmark.count else {
            throw BacktestError.lengthMismatch(operation: operation, lhs: "returns", lhsCount: returns.count,
                                               rhs: "benchmark", rhsCount: benchmark.count)
        }
    }

    static func checkAnnualization(_ periodsPerYear: Double, _ operation: String) throws {
        guard periodsPerYear > 0, periodsPerYear.isFinite else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "periodsPerYear",
                                                message: "\(periodsPerYear) must be positive")
        }
    }

    static func mean(_ x: [Double]) -> Double { x.reduce(0, +) / Double(x.count) }

    /// Standard deviation with `ddof` degrees of freedom removed (two-pass).
    static func standardDeviation(_ x: [Double], ddof: Int) -> Double {
        let m = mean(x)
        var sum = 0.0
        for value in x { sum += (value - m) * (value - m) }
        return (sum / Double(x.count - ddof)).squareRoot()
    }

    /// empyrical's zero-dispersion rule: a constant series has standard deviation exactly 0.
    static func dispersion(_ x: [Double], ddof: Int) -> Double {
        x.min() == x.max() ? 0 : standardDeviation(x, ddof: ddof)
    }

    /// The `q`-quantile (`q ∈ [0, 1]`) with linear interpolation between order statistics
    /// (NumPy's default `percentile` method, including its two-sided interpolation formula).
    public static func quantile(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let lower = Int(position.rounded(.down))
        let upper = Swift.min(lower + 1, sorted.count - 1)
        let t = position - Double(lower)
        let a = sorted[lower], b = sorted[upper], difference = b - a
        return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
    }

    // MARK: Returns

    /// `Π(1 + rₜ) − 1`.
    ///
    /// - Throws: for an empty or non-finite series.
    public static func cumulativeReturn(_ returns: [Double]) throws -> Double {
        try check(returns, "cumulativeReturn")
        return returns.reduce(1) { $0 * (1 + $1) } - 1
    }

    /// Compound annual growth rate `(Π(1 + rₜ))^(P/T) − 1` (empyrical `annual_return`).
    ///
    /// - Throws: for an empty or non-finite series or a non-positive `periodsPerYear`.
    public static func annualReturn(_ returns: [Double], periodsPerYear: Double = 252) throws -> Double {
        try check(returns, "annualReturn")
        try checkAnnualization(periodsPerYear, "annualReturn")
        let years = Double(returns.count) / periodsPerYear
        return pow(returns.reduce(1) { $0 * (1 + $1) }, 1 / years) - 1
    }

    /// `std(r; ddof = 1)·√P` (empyrical `annual_volatility`).
    ///
    /// - Throws: for fewer than 2 returns.
    public static func annualVolatility(_ returns: [Double], periodsPerYear: Double = 252) throws -> Double {
        try check(returns, "annualVolatility", minimum: 2)
        try checkAnnualization(periodsPerYear, "annualVolatility")
        return standardDeviation(returns, ddof: 1) * periodsPerYear.squareRoot()
    }

    /// `mean(r − r_f) / std(r − r_f; ddof = 1)·√P` with a per-period risk-free rate (Sharpe 1966;
    /// empyrical `sharpe_ratio`); `nil` when the excess returns are constant.
    ///
    /// - Throws: for fewer than 2 returns.
    public static func sharpeRatio(_ returns: [Double], riskFree: Double = 0, periodsPerYear: Double = 252) throws -> Double? {
        try check(returns, "sharpeRatio", minimum: 2)
        try checkAnnualization(periodsPerYear, "sharpeRatio")
        let excess = riskFree == 0 ? returns : returns.map { $0 - riskFree }
        let deviation = dispersion(excess, ddof: 1)
        guard deviation > 0 else { return nil }
        return mean(excess) / deviation * periodsPerYear.squareRoot()
    }

    /// The Sharpe ratio of per-period returns without annualization, risk-free rate or degrees-of-
    /// freedom correction, `mean(r)/std(r; ddof = 0)`: the figure Jiang, Xu & Liang (2017, §6.1) report
    /// (their code divides by NumPy's default population standard deviation). `nil` for constant returns.
    ///
    /// - Throws: for fewer than 2 returns.
    public static func perPeriodSharpeRatio(_ returns: [Double]) throws -> Double? {
        try check(returns, "perPeriodSharpeRatio", minimum: 2)
        let deviation = dispersion(returns, ddof: 0)
        guard deviation > 0 else { return nil }
        return mean(returns) / deviation
    }

    /// `√(mean(min(r − r_req, 0)²))·√P` (empyrical `downside_risk`).
    ///
    /// - Throws: for an empty series.
    public static func downsideRisk(_ returns: [Double], requiredReturn: Double = 0, periodsPerYear: Double = 252) throws -> Double {
        try check(returns, "downsideRisk")
        try checkAnnualization(periodsPerYear, "downsideRisk")
        var sum = 0.0
        for r in returns {
            let shortfall = Swift.min(r - requiredReturn, 0)
            sum += shortfall * shortfall
        }
        return (sum / Double(returns.count)).squareRoot() * periodsPerYear.squareRoot()
    }

    /// `P·mean(r − r_req) / downsideRisk` (Sortino & van der Meer 1991; empyrical `sortino_ratio`);
    /// `nil` without a return below `requiredReturn`.
    ///
    /// - Throws: for fewer than 2 returns.
    public static func sortinoRatio(_ returns: [Double], requiredReturn: Double = 0, periodsPerYear: Double = 252) throws -> Double? {
        try check(returns, "sortinoRatio", minimum: 2)
        let risk = try downsideRisk(returns, requiredReturn: requiredReturn, periodsPerYear: periodsPerYear)
        guard risk > 0 else { return nil }
        return mean(returns.map { $0 - requiredReturn }) * periodsPerYear / risk
    }

    // MARK: Drawdowns

    /// Drawdowns `Wₜ/maxₛ≤ₜ Wₛ − 1` of the wealth path `W₀ = 1, Wₜ = Π(1 + rₛ)`, one per return.
    ///
    /// - Throws: for an empty or non-finite series.
    public static func drawdowns(_ returns: [Double]) throws -> [Double] {
        try check(returns, "drawdowns")
        var wealth = 1.0, peak = 1.0
        return returns.map { r in
            wealth *= 1 + r
            peak = Swift.max(peak, wealth)
            return (wealth - peak) / peak
        }
    }

    /// The most negative drawdown (≤ 0; empyrical `max_drawdown`).
    ///
    /// - Throws: for an empty or non-finite series.
    public static func maxDrawdown(_ returns: [Double]) throws -> Double {
        try drawdowns(returns).min()!
    }

    /// The longest run of consecutive periods spent below a previous peak of the wealth path
    /// (recovered or not at the end of the series), in periods.
    ///
    /// - Throws: for an empty or non-finite series.
    public static func maxDrawdownDuration(_ returns: [Double]) throws -> Int {
        var longest = 0, current = 0
        for drawdown in try drawdowns(returns) {
            current = drawdown < 0 ? current + 1 : 0
            longest = Swift.max(longest, current)
        }
        return longest
    }

    /// `annualReturn / |maxDrawdown|` (Young 1991; empyrical `calmar_ratio`); `nil` without a drawdown.
    ///
    /// - Throws: for an empty or non-finite series.
    public static func calmarRatio(_ returns: [Double], periodsPerYear: Double = 252) throws -> Double? {
        let drawdown = try maxDrawdown(returns)
        guard drawdown < 0 else { return nil }
        return try annualReturn(returns, periodsPerYear: periodsPerYear) / abs(drawdown)
    }

    // MARK: Tails

    /// Historical value at risk: the `cutoff` quantile of the returns (a return, negative for a loss;
    /// empyrical `value_at_risk`, linear interpolation).
    ///
    /// - Throws: for an empty series or `cutoff` outside `(0, 1)`.
    public static func valueAtRisk(_ returns: [Double], cutoff: Double = 0.05) throws -> Double {
        try check(returns, "valueAtRisk")
        try checkCutoff(cutoff, "valueAtRisk")
        return quantile(returns, cutoff)
    }

    /// Historical conditional value at risk (expected shortfall): the mean of the `⌊(T − 1)·cutoff⌋ + 1`
    /// smallest returns (empyrical `conditional_value_at_risk`).
    ///
    /// - Throws: as ``valueAtRisk(_:cutoff:)``.
    public static func conditionalValueAtRisk(_ returns: [Double], cutoff: Double = 0.05) throws -> Double {
        try check(returns, "conditionalValueAtRisk")
        try checkCutoff(cutoff, "conditionalValueAtRisk")
        let count = Int(Double(returns.count - 1) * cutoff) + 1
        return mean(Array(returns.sorted().prefix(count)))
    }

    /// Gaussian value at risk `μ + σ·Φ⁻¹(cutoff)` with the sample mean and `ddof = 1` deviation.
    ///
    /// - Throws: for fewer than 2 returns or a bad `cutoff`.
    public static func gaussianValueAtRisk(_ returns: [Double], cutoff: Double = 0.05) throws -> Double {
        try check(returns, "gaussianValueAtRisk", minimum: 2)
        try checkCutoff(cutoff, "gaussianValueAtRisk")
        return mean(returns) + standardDeviation(returns, ddof: 1) * (try NormalDistribution.quantile(cutoff))
    }

    /// Gaussian conditional value at risk `μ − σ·φ(Φ⁻¹(cutoff))/cutoff`: the mean of the normal
    /// distribution below its `cutoff` quantile.
    ///
    /// - Throws: as ``gaussianValueAtRisk(_:cutoff:)``.
    public static func gaussianConditionalValueAtRisk(_ returns: [Double], cutoff: Double = 0.05) throws -> Double {
        try check(returns, "gaussianConditionalValueAtRisk", minimum: 2)
        try checkCutoff(cutoff, "gaussianConditionalValueAtRisk")
        let z = try NormalDistribution.quantile(cutoff)
        return mean(returns) - standardDeviation(returns, ddof: 1) * NormalDistribution.density(z) / cutoff
    }

    static func checkCutoff(_ cutoff: Double, _ operation: String) throws {
        guard cutoff > 0, cutoff < 1 else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "cutoff", message: "\(cutoff) is not in (0, 1)")
        }
    }

    /// Omega ratio: gains over losses relative to the per-period threshold
    /// `r_f + (1 + requiredReturn)^(1/P) − 1`, with `requiredReturn` annual (Keating & Shadwick 2002;
    /// empyrical `omega_ratio`); `nil` without a loss.
    ///
    /// - Throws: for fewer than 2 returns or `requiredReturn ≤ −1`.
    public static func omegaRatio(_ returns: [Double], riskFree: Double = 0, requiredReturn: Double = 0,
                                  periodsPerYear: Double = 252) throws -> Double? {
        try check(returns, "omegaRatio", minimum: 2)
        try checkAnnualization(periodsPerYear, "omegaRatio")
        guard requiredReturn > -1 else {
            throw BacktestError.invalidArgument(operation: "omegaRatio", parameter: "requiredReturn",
                                                message: "\(requiredReturn) must be above −1")
        }
        let threshold = periodsPerYear == 1 ? requiredReturn : pow(1 + requiredReturn, 1 / periodsPerYear) - 1
        var gains = 0.0, losses = 0.0
        for r in returns {
            let excess = r - riskFree - threshold
            if excess > 0 { gains += excess } else if excess < 0 { losses -= excess }
        }
        return losses > 0 ? gains / losses : nil
    }

    /// `|q₀.₉₅| / |q₀.₀₅|` of the returns (empyrical `tail_ratio`); `nil` when the 5% quantile is 0.
    ///
    /// - Throws: for an empty series.
    public static func tailRatio(_ returns: [Double]) throws -> Double? {
        try check(returns, "tailRatio")
        let lower = abs(quantile(returns, 0.05))
        return lower > 0 ? abs(quantile(returns, 0.95)) / lower : nil
    }

    /// Stability of timeseries: R² of the least-squares line through the cumulative log returns
    /// `Σ log(1 + rₛ)` against time (empyrical `stability_of_timeseries`); `nil` when either is constant.
    ///
    /// - Throws: for fewer than 2 returns.
    public static func stability(_ returns: [Double]) throws -> Double? {
        try check(returns, "stability", minimum: 2)
        var cumulative = [Double](), total = 0.0
        cumulative.reserveCapacity(returns.count)
        for r in returns {
            total += log1p(r)
            cumulative.append(total)
        }
        let n = Double(cumulative.count)
        let meanX = (n - 1) / 2, meanY = mean(cumulative)
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for (k, y) in cumulative.enumerated() {
            let dx = Double(k) - meanX, dy = y - meanY
            sxx += dx * dx; syy += dy * dy; sxy += dx * dy
        }
        guard sxx > 0, syy > 0 else { return nil }
        return sxy * sxy / (sxx * syy)
    }

    // MARK: Relative to a benchmark

    /// CAPM alpha and beta against a benchmark with a per-period risk-free rate (empyrical `alpha_beta`):
    /// `β = mean((b̃ − mean b̃)·r̃)/mean((b̃ − mean b̃)²)` on excess returns `r̃ = r − r_f`, `b̃ = b − r_f`,
    /// and the annualized alpha `(1 + mean(r̃ − β b̃))^P − 1`. `nil` when the benchmark is constant.
    ///
    /// - Throws: for fewer than 2 returns or different lengths.
    public static func alphaBeta(_ returns: [Double], benchmark: [Double], riskFree: Double = 0,
                                 periodsPerYear: Double = 252) throws -> (alpha: Double, beta: Double)? {
        try checkPair(returns, benchmark, "alphaBeta")
        try checkAnnualization(periodsPerYear, "alphaBeta")
        let r = returns.map { $0 - riskFree }, b = benchmark.map { $0 - riskFree }
        let meanB = mean(b)
        var covariance = 0.0, variance = 0.0
        for k in r.indices {
            let residual = b[k] - meanB
            covariance += residual * r[k]
            variance += residual * residual
        }
        covariance /= Double(r.count)
        variance /= Double(r.count)
        guard variance >= 1e-30 else { return nil }
        let beta = covariance / variance
        let alphaPerPeriod = mean(r.indices.map { r[$0] - beta * b[$0] })
        return (pow(1 + alphaPerPeriod, periodsPerYear) - 1, beta)
    }

    /// Annualized tracking error `std(r − b; ddof = 1)·√P`.
    ///
    /// - Throws: for fewer than 2 returns or different lengths.
    public static func trackingError(_ returns: [Double], benchmark: [Double], periodsPerYear: Double = 252) throws -> Double {
        try checkPair(returns, benchmark, "trackingError")
        try checkAnnualization(periodsPerYear, "trackingError")
        return dispersion(zip(returns, benchmark).map { $0 - $1 }, ddof: 1) * periodsPerYear.squareRoot()
    }

    /// Annualized information ratio `mean(r − b)/std(r − b; ddof = 1)·√P`: empyrical's
    /// `excess_sharpe` times `√P` (Grinold & Kahn 2000). `nil` when the active return is constant.
    ///
    /// - Throws: for fewer than 2 returns or different lengths.
    public static func informationRatio(_ returns: [Double], benchmark: [Double], periodsPerYear: Double = 252) throws -> Double? {
        try checkPair(returns, benchmark, "informationRatio")
        try checkAnnualization(periodsPerYear, "informationRatio")
        let active = zip(returns, benchmark).map { $0 - $1 }
        let deviation = dispersion(active, ddof: 1)
        guard deviation > 0 else { return nil }
        return mean(active) / deviation * periodsPerYear.squareRoot()
    }

    // MARK: Trading

    /// The fraction of periods with a positive return.
    ///
    /// - Throws: for an empty series.
    public static func hitRate(_ returns: [Double]) throws -> Double {
        try check(returns, "hitRate")
        return Double(returns.filter { $0 > 0 }.count) / Double(returns.count)
    }
}
