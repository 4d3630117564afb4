import RealModule

/// How closely a fund (an ETF) follows its index.
///
/// With active returns `aₜ = fₜ − bₜ` over `T` periods and `P` periods per year:
/// - **tracking error** `TE = std(a, ddof = 1) · √P`, the annualized volatility of active returns;
/// - **tracking difference** `TD = (Π(1+fₜ))^{P/T} − (Π(1+bₜ))^{P/T}`, the difference of the
///   annualized (geometric) returns: negative when the fund lags, typically by about its fees;
/// - **cumulative difference** `Π(1+fₜ) − Π(1+bₜ)` over the whole span.
///
/// Definitions follow common ETF practice (e.g. the European fund industry's ESMA/UCITS guidelines on
/// ETF disclosure distinguish the volatility-type tracking error from the return-type tracking difference).
public struct TrackingStatistics: Sendable, Hashable, Codable {
    /// Annualized standard deviation of active returns.
    public let trackingError: Double
    /// Annualized fund return minus annualized index return.
    public let trackingDifference: Double
    /// Fund growth minus index growth over the span.
    public let cumulativeDifference: Double
    /// Mean active return per period.
    public let meanActiveReturn: Double
    /// Number of periods used.
    public let periods: Int

    /// Tracking statistics of simple period returns `fund` against `index`.
    ///
    /// - Throws: ``MarketError/shapeMismatch(what:expected:found:)`` for different lengths;
    ///   ``MarketError/invalidArgument(operation:message:)`` for fewer than 2 periods;
    ///   ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for a non-finite return,
    ///   a return ≤ −1 or a non-positive `periodsPerYear`. Complexity: O(T).
    public init(fund: [Double], index: [Double], periodsPerYear: Double) throws {
        let operation = "TrackingStatistics"
        guard fund.count == index.count else {
            throw MarketError.shapeMismatch(what: "\(operation) index returns", expected: "\(fund.count) (as fund)",
                                            found: "\(index.count)")
        }
        guard fund.count >= 2 else {
            throw MarketError.invalidArgument(operation: operation, message: "needs at least 2 periods, got \(fund.count)")
        }
        try requirePositive(periodsPerYear, "periodsPerYear", operation)
        for (name, series) in [("fund", fund), ("index", index)] {
            for (t, r) in series.enumerated() where !(r.isFinite && r > -1) {
                throw MarketError.invalidParameter(operation: operation, parameter: "\(name)[\(t)]", value: r,
                                                   reason: "a simple return must be finite and > −1")
            }
        }
        let count = Double(fund.count)
        let active = zip(fund, index).map { $0 - $1 }
        let mean = active.reduce(0, +) / count
        let variance = active.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (count - 1)
        let fundGrowth = fund.reduce(1) { $0 * (1 + $1) }, indexGrowth = index.reduce(1) { $0 * (1 + $1) }
        let exponent = periodsPerYear / count
        trackingError = (variance * periodsPerYear).squareRoot()
        trackingDifference = Double.pow(fundGrowth, exponent) - Double.pow(indexGrowth, exponent)
        cumulativeDifference = fundGrowth - indexGrowth
        meanActiveReturn = mean
        periods = fund.count
    }

    /// Tracking statistics of `fund` against `index`, two assets of a price panel, over the
    /// periods where both are available; periods per year follow the panel's frequency
    /// (``Frequency/periodsPerYear``: daily 252, weekly 52, monthly 12, quarterly 4, annual 1, hourly 8760).
    ///
    /// - Throws: ``MarketError/unknownAsset(name:)``; ``MarketError/invalidArgument(operation:message:)`` for an
    ///   irregular or period index; errors of ``init(fund:index:periodsPerYear:)``.
    public init(panel: PricePanel, fund: String, index: String) throws {
        guard let perYear = panel.index.frequency.periodsPerYear else {
            throw MarketError.invalidArgument(operation: "TrackingStatistics", message: "needs a regular dated panel")
        }
        let returns = try panel.simpleReturns()
        let f = try panel.position(ofAsset: fund), b = try panel.position(ofAsset: index)
        var fundReturns: [Double] = [], indexReturns: [Double] = []
        for t in 0..<returns.timeCount where returns.mask[t, f] && returns.mask[t, b] {
            fundReturns.append(returns.values[t, f])
            indexReturns.append(returns.values[t, b])
        }
        try self.init(fund: fundReturns, index: indexReturns, periodsPerYear: perYear)
    }
}
