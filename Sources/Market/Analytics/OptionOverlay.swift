import Linalg
import RealModule

/// A systematic option strategy on an underlying, rolled monthly, whose value
/// series lets a derivative position enter a portfolio as one more asset.
///
/// ## Strategies
/// - ``Strategy/protectivePut``: hold one unit of the underlying and one
///   European put struck at `moneyness × spot` (default 0.95, 5 % out of the
///   money, the strike rule of the CBOE S&P 500 5 % Put Protection index PPUT).
///   Package value `S + P`.
/// - ``Strategy/coveredCall``: hold one unit of the underlying and sell one
///   European call struck at `moneyness × spot` (default 1.00, at the money, the
///   rule of the CBOE BuyWrite index BXM). Package value `S − C`.
///
/// ## Conventions
/// - **Roll day**: the last trading day of each calendar month in the input
///   calendar (CBOE's indices roll on the third Friday; month ends keep the series
///   aligned with monthly data). At the roll close the expiring option settles at
///   its intrinsic value and a new one is struck on that close.
/// - **Expiry**: the next roll day (the last trading day of the next month). For
///   the final, incomplete month the expiry is the calendar end of the next month.
/// - **Day count**: time to expiry = calendar days / 365 (Actual/365).
/// - **Volatility** on each day: the implied volatility input (VIX/100 for the
///   S&P 500) where present, otherwise the realized volatility: the sample
///   standard deviation (ddof 1) of the last ``realizedVolatilityWindow`` daily
///   log returns (default 21, about one month), annualized by √252.
/// - **Rate**: the continuously compounded annual rate given for the roll day,
///   held for the life of that option. **Dividends**: ``dividendYield``
///   (default 0; the embedded S&P 500 series is a price index, so the overlay is
///   a price-return series like its underlying).
/// - **Marking**: every day the option is marked with Black–Scholes–Merton at the
///   day's volatility, the roll's rate and the remaining time; the package return
///   of day `t` is `Vₜ / Vₜ₋₁ − 1` for the package held over `(t−1, t]`.
///
/// The series starts (level 1) at the first roll day with a full realized-volatility
/// window and a finite rate. Complexity: O(T · window) for the realized volatility plus O(T) pricing.
public struct OptionOverlay: Sendable, Hashable, Codable {
    /// The option leg.
    public enum Strategy: String, Sendable, Hashable, CaseIterable, Codable {
        /// Long underlying, long a put.
        case protectivePut
        /// Long underlying, short a call.
        case coveredCall
    }

    /// Where a day's volatility came from.
    public enum VolatilitySource: String, Sendable, Hashable, Codable {
        /// The implied-volatility input (VIX/100).
        case implied
        /// Trailing realized volatility.
        case realized
    }

    /// One monthly roll.
    public struct Roll: Sendable, Hashable, Codable {
        /// The roll (strike-setting) day.
        public let date: MarketDate
        /// Position of ``date`` in the input calendar.
        public let position: Int
        /// The expiry date.
        public let expiry: MarketDate
        /// Underlying close on the roll day.
        public let spot: Double
        /// The strike, `moneyness × spot`.
        public let strike: Double
        /// Volatility used for the entry price.
        public let volatility: Double
        /// Its source.
        public let volatilitySource: VolatilitySource
        /// Continuously compounded annual rate used until expiry.
        public let rate: Double
        /// The option's entry price.
        public let premium: Double
    }

    /// The overlay's value series.
    public struct Series: Sendable, Hashable, Codable {
        /// The dates from the first roll day to the end of the input.
        public let dates: [MarketDate]
        /// Package value indexed to 1 at the first roll day, one per date.
        public let levels: [Double]
        /// The rolls in order.
        public let rolls: [Roll]
        /// Days (after the first) on which the option was marked with the implied volatility input.
        public let impliedDays: Int
        /// Days on which it was marked with realized volatility.
        public let realizedDays: Int

        /// The series as a one-asset price panel of class ``AssetClass/derivative``, scaled to start at `base`.
        ///
        /// - Throws: ``MarketError/invalidAssetName(name:reason:)`` for an empty name.
        public func panel(name: String, base: Double = 100) throws -> PricePanel {
            try PricePanel(index: TimeIndex(dates: dates), assets: [name],
                           close: Matrix(rows: levels.count, columns: 1) { t, _ in base * levels[t] },
                           assetClasses: [.derivative])
        }
    }

    /// The option leg.
    public var strategy: Strategy
    /// Strike as a multiple of the roll-day close.
    public var moneyness: Double
    /// Trailing daily returns in the realized-volatility fallback (≥ 2).
    public var realizedVolatilityWindow: Int
    /// Continuous dividend yield of the underlying, annual.
    public var dividendYield: Double

    /// An overlay; `moneyness` defaults to 0.95 for the protective put and 1.00 for the covered call.
    public init(strategy: Strategy, moneyness: Double? = nil, realizedVolatilityWindow: Int = 21, dividendYield: Double = 0) {
        self.strategy = strategy
        self.moneyness = moneyness ?? (strategy == .protectivePut ? 0.95 : 1.0)
        self.realizedVolatilityWindow = realizedVolatilityWindow
        self.dividendYield = dividendYield
    }

    /// Runs the overlay over a daily calendar.
    ///
    /// - Parameters:
    ///   - dates: strictly increasing trading days.
    ///   - underlying: closes, one per date, finite and > 0.
    ///   - impliedVolatility: annual implied volatility per date (decimal), `NaN` where unknown.
    ///   - rate: continuously compounded annual rate per date, `NaN` where unknown (needed on roll days).
    /// - Throws: ``MarketError/shapeMismatch(what:expected:found:)`` when the series lengths differ;
    ///   ``MarketError/unsortedIndex(position:date:previous:)`` / ``MarketError/duplicateIndexDate(position:date:)``
    ///   for bad dates; ``MarketError/invalidParameter(operation:parameter:value:reason:)`` for a
    ///   non-positive close, a non-positive or infinite implied volatility, an infinite rate, a missing rate on a
    ///   roll day after the start, a non-positive moneyness, a window below 2 or a non-finite dividend yield;
    ///   ``MarketError/invalidArgument(operation:message:)`` when no roll day qualifies as a start.
    public func run(dates: [MarketDate], underlying: [Double], impliedVolatility: [Double], rate: [Double]) throws -> Series {
        let operation = "OptionOverlay.run"
        let n = dates.count
        for (what, count) in [("underlying", underlying.count), ("impliedVolatility", impliedVolatility.count),
                              ("rate", rate.count)] where count != n {
            throw MarketError.shapeMismatch(what: "\(operation) \(what)", expected: "\(n) values (one per date)", found: "\(count)")
        }
        _ = try TimeIndex(dates: dates)
        try requirePositive(moneyness, "moneyness", operation)
        try requireFinite(dividendYield, "dividendYield", operation)
        guard realizedVolatilityWindow >= 2 else {
            throw MarketError.invalidParameter(operation: operation, parameter: "realizedVolatilityWindow",
                                               value: Double(realizedVolatilityWindow), reason: "needs at least 2 returns")
        }
        for t in 0..<n {
            try requirePositive(underlying[t], "underlying[\(t)] (\(dates[t]))", operation)
            if !impliedVolatility[t].isNaN { try requirePositive(impliedVolatility[t], "impliedVolatility[\(t)] (\(dates[t]))", operation) }
            if !rate[t].isNaN { try requireFinite(rate[t], "rate[\(t)] (\(dates[t]))", operation) }
        }
        // Roll days: the last date of each calendar month present.
        var isRoll = [Bool](repeating: false, count: n)
        for t in 0..<n where t + 1 == n || dates[t + 1].month != dates[t].month || dates[t + 1].year != dates[t].year {
            isRoll[t] = t + 1 < n    // the final date closes the data, not a month
        }
        let window = realizedVolatilityWindow
        var logReturns = [Double](repeating: .nan, count: n)
        for t in 1..<Swift.max(1, n) { logReturns[t] = Double.log(underlying[t] / underlying[t - 1]) }
        func realized(_ t: Int) -> Double {
            let slice = logReturns[(t - window + 1)...t]
            let mean = slice.reduce(0, +) / Double(window)
            let variance = slice.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(window - 1)
            return (variance * 252).squareRoot()
        }
        func volatility(_ t: Int) -> (Double, VolatilitySource) {
            impliedVolatility[t].isNaN ? (realized(t), .realized) : (impliedVolatility[t], .implied)
        }
        guard let start = (window..<Swift.max(window, n)).first(where: { isRoll[$0] && rate[$0].isFinite }) else {
            throw MarketError.invalidArgument(operation: operation,
                                              message: "no month-end with \(window) prior returns and a known rate")
        }
        let kind: OptionKind = strategy == .protectivePut ? .put : .call
        let sign = strategy == .protectivePut ? 1.0 : -1.0
        var rolls: [Roll] = []
        var levels = [1.0]
        var impliedDays = 0, realizedDays = 0

        func expiry(after t: Int) -> MarketDate {
            if let next = ((t + 1)..<n).first(where: { isRoll[$0] }) { return dates[next] }
            let (y, m, _) = dates[t].components
            let nextMonth = m == 12 ? MarketDate(validYear: y + 1, month: 1, day: 1)! : MarketDate(validYear: y, month: m + 1, day: 1)!
            return nextMonth.endOfMonth
        }
        func optionValue(_ roll: Roll, at t: Int) throws -> (Double, VolatilitySource) {
            let days = roll.expiry.daysSinceEpoch - dates[t].daysSinceEpoch
            let (sigma, source) = volatility(t)
            if days <= 0 {
                let payoff = kind == .put ? Swift.max(roll.strike - underlying[t], 0) : Swift.max(underlying[t] - roll.strike, 0)
                return (payoff, source)
            }
            let x = try BlackScholesInputs(spot: underlying[t], strike: roll.strike, maturity: Double(days) / 365,
                                           rate: roll.rate, dividendYield: dividendYield, volatility: sigma)
            return (BlackScholes.price(kind, x), source)
        }
        func open(_ t: Int) throws -> Roll {
            guard rate[t].isFinite else {
                throw MarketError.invalidParameter(operation: operation, parameter: "rate[\(t)] (\(dates[t]))", value: rate[t],
                                                   reason: "a roll day needs a known rate")
            }
            let (sigma, source) = volatility(t)
            let strike = moneyness * underlying[t]
            let end = expiry(after: t)
            let x = try BlackScholesInputs(spot: underlying[t], strike: strike,
                                           maturity: Double(end.daysSinceEpoch - dates[t].daysSinceEpoch) / 365,
                                           rate: rate[t], dividendYield: dividendYield, volatility: sigma)
            return Roll(date: dates[t], position: t, expiry: end, spot: underlying[t], strike: strike, volatility: sigma,
                        volatilitySource: source, rate: rate[t], premium: BlackScholes.price(kind, x))
        }

        var current = try open(start)
        rolls.append(current)
        var heldValue = current.spot + sign * current.premium
        for t in (start + 1)..<Swift.max(start + 1, n) {
            let (option, source) = try optionValue(current, at: t)
            if source == .implied { impliedDays += 1 } else { realizedDays += 1 }
            let value = underlying[t] + sign * option
            levels.append(levels[levels.count - 1] * value / heldValue)
            if isRoll[t] {
                current = try open(t)
                rolls.append(current)
                heldValue = current.spot + sign * current.premium
            } else {
                heldValue = value
            }
        }
        return Series(dates: Array(dates[start...]), levels: levels, rolls: rolls, impliedDays: impliedDays,
                      realizedDays: realizedDays)
    }

    /// The overlay on the embedded S&P 500 index (`sp500-index`, daily closes), with
    /// VIX/100 (`vix`, 2014-01-03 – 2019-01-03) as the implied volatility where it has a
    /// value on the day, realized volatility elsewhere, and the Fama–French risk-free
    /// rate (`fama-french` RF, percent per month) converted to `12 · ln(1 + RF/100)`.
    ///
    /// RF is labelled at month ends (see ``Dataset``), so a roll day uses the latest
    /// month already over: a causal choice. The series ends on the last S&P 500 day at most
    /// 31 days after the last RF label (RF ends 1926–2018-11, so the overlay ends
    /// 2018-12-31). It starts on 1990-01-31, the first month end with 21 prior daily
    /// returns (January 1990 has 22 trading days in the data).
    ///
    /// - Throws: dataset loading errors or errors of ``run(dates:underlying:impliedVolatility:rate:)``.
    public func sp500() throws -> Series {
        let spx = try Dataset.sp500Index.load()
        let vix = try Dataset.vix.load()
        let famaFrench = try Dataset.famaFrench.load()
        guard let rfDates = famaFrench.index.dates, let lastRF = rfDates.last, let allDates = spx.index.dates else {
            throw MarketError.indexKindMismatch(operation: "OptionOverlay.sp500")
        }
        let end = allDates.lastIndex { $0.daysSinceEpoch <= lastRF.daysSinceEpoch + 31 } ?? 0
        let dates = Array(allDates[0...end])
        let closes = Array(try spx.series("SP500")[0...end])
        let vixOnDates = try vix.reindexed(to: TimeIndex(dates: dates)).series("VIX").map { $0 / 100 }
        let rf = try famaFrench.series("RF")
        var rates = [Double](repeating: .nan, count: dates.count)
        var k = -1
        for (t, date) in dates.enumerated() {
            while k + 1 < rfDates.count && rfDates[k + 1] <= date { k += 1 }
            if k >= 0 { rates[t] = 12 * Double.log(onePlus: rf[k] / 100) }
        }
        return try run(dates: dates, underlying: closes, impliedVolatility: vixOnDates, rate: rates)
    }
}
