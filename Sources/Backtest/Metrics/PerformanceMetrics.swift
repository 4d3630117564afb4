import Market

/// A named date range for stress-window statistics.
public struct StressWindow: Sendable, Hashable, Codable {
    /// A label for tables and reports.
    public let name: String
    /// First date of the window (inclusive).
    public let start: MarketDate
    /// Last date of the window (inclusive).
    public let end: MarketDate

    /// Creates a window.
    ///
    /// - Throws: ``BacktestError/invalidArgument(operation:parameter:message:)`` when `end < start`.
    public init(name: String, start: MarketDate, end: MarketDate) throws {
        guard start <= end else {
            throw BacktestError.invalidArgument(operation: "StressWindow", parameter: "end",
                                                message: "\(end) is before the start \(start)")
        }
        self.name = name
        self.start = start
        self.end = end
    }

    /// The 2008 financial crisis: 2008-09-01 (the month of the Lehman Brothers bankruptcy, filed
    /// 2008-09-15) to 2009-03-09, the closing low of the S&P 500 (676.53).
    public static let financialCrisis2008 = try! StressWindow(
        name: "2008 financial crisis", start: MarketDate(year: 2008, month: 9, day: 1), end: MarketDate(year: 2009, month: 3, day: 9))

    /// The 2020 COVID-19 crash: from the S&P 500's closing high of 2020-02-19 (3386.15) to its
    /// closing low of 2020-03-23 (2237.40).
    public static let covidCrash2020 = try! StressWindow(
        name: "2020 COVID crash", start: MarketDate(year: 2020, month: 2, day: 19), end: MarketDate(year: 2020, month: 3, day: 23))

    /// The two windows above.
    public static let standard: [StressWindow] = [.financialCrisis2008, .covidCrash2020]
}

/// Statistics of the periods that end inside a ``StressWindow``.
public struct StressWindowStatistics: Sendable, Hashable, Codable {
    /// The window.
    public let window: StressWindow
    /// Periods whose end date lies in the window.
    public let periods: Int
    /// `Π(1 + rₜ) − 1` over those periods.
    public let cumulativeReturn: Double
    /// The largest drawdown within the window (anchored at its start).
    public let maxDrawdown: Double
    /// The worst single-period return.
    public let worstReturn: Double
    /// Annualized volatility (`ddof = 1`); `nil` for a single period.
    public let annualVolatility: Double?
    /// Cumulative return of the benchmark over the same periods, when one was given.
    public let benchmarkCumulativeReturn: Double?
}

/// Every metric of a backtest, ready for a table or a JSON report.
///
/// Built from a ``BacktestResult`` by ``init(result:benchmark:riskFree:periodsPerYear:stressWindows:)``;
/// the return measures use its net returns and follow the conventions of ``ReturnMetrics``.
/// Optional values are `nil` where the measure is undefined (see each ``ReturnMetrics`` function)
/// or needs a benchmark that was not given.
public struct PerformanceMetrics: Sendable, Codable {
    /// The strategy's name.
    public let strategy: String
    /// Holding periods.
    public let periods: Int
    /// Periods per year used to annualize.
    public let periodsPerYear: Double
    /// Per-period risk-free rate used for Sharpe, alpha/beta and Omega.
    public let riskFree: Double
    /// Final wealth per unit of initial wealth (including the initial trade's cost).
    public let finalWealth: Double
    /// ``ReturnMetrics/cumulativeReturn(_:)``.
    public let cumulativeReturn: Double
    /// ``ReturnMetrics/annualReturn(_:periodsPerYear:)``.
    public let annualReturn: Double
    /// ``ReturnMetrics/annualVolatility(_:periodsPerYear:)``.
    public let annualVolatility: Double
    /// ``ReturnMetrics/sharpeRatio(_:riskFree:periodsPerYear:)``.
    public let sharpeRatio: Double?
    /// ``ReturnMetrics/sortinoRatio(_:requiredReturn:periodsPerYear:)`` with required return `riskFree`.
    public let sortinoRatio: Double?
    /// ``ReturnMetrics/calmarRatio(_:periodsPerYear:)``.
    public let calmarRatio: Double?
    /// ``ReturnMetrics/maxDrawdown(_:)``.
    public let maxDrawdown: Double
    /// ``ReturnMetrics/maxDrawdownDuration(_:)``, in periods.
    public let maxDrawdownDuration: Int
    /// Historical 95% VaR (the 5% quantile of the returns).
    public let valueAtRisk: Double
    /// Historical 95% CVaR.
    public let conditionalValueAtRisk: Double
    /// Gaussian 95% VaR.
    public let gaussianValueAtRisk: Double
    /// Gaussian 95% CVaR.
    public let gaussianConditionalValueAtRisk: Double
    /// ``ReturnMetrics/omegaRatio(_:riskFree:requiredReturn:periodsPerYear:)`` with required return 0.
    public let omegaRatio: Double?
    /// ``ReturnMetrics/tailRatio(_:)``.
    public let tailRatio: Double?
    /// ``ReturnMetrics/stability(_:)``.
    public let stability: Double?
    /// Annualized CAPM alpha against the benchmark.
    public let alpha: Double?
    /// CAPM beta against the benchmark.
    public let beta: Double?
    /// Annualized information ratio against the benchmark.
    public let informationRatio: Double?
    /// Annualized tracking error against the benchmark.
    public let trackingError: Double?
    /// Fraction of periods with a positive net return.
    public let hitRate: Double
    /// Two-way annual turnover: the mean per-period `Σ|Δw|` (buys plus sells) times periods per year,
    /// the initial trade excluded.
    public let annualTurnover: Double
    /// One-way annual turnover, half of ``annualTurnover`` (the convention of the design note's
    /// "< 200 % a year" target and of the report's turnover charts).
    public var annualOneWayTurnover: Double { annualTurnover / 2 }
    /// Sum of the turnover of every rebalance, the initial trade included.
    public let totalTurnover: Double
    /// Annual return before costs minus annual return after costs (the initial trade's cost excluded).
    public let costDrag: Double
    /// Value lost to costs over the backtest, in units of the initial wealth.
    public let totalCost: Double
    /// ``ReturnMetrics/perPeriodSharpeRatio(_:)`` (Jiang, Xu & Liang 2017).
    public let perPeriodSharpeRatio: Double?
    /// Statistics of the stress windows that overlap the backtest (dated results only).
    public let stressWindows: [StressWindowStatistics]

    /// Computes every metric of `result`.
    ///
    /// - Parameters:
    ///   - benchmark: per-period returns aligned with `result.netReturns` (for example another
    ///     strategy's net returns), or `nil`.
    ///   - riskFree: per-period risk-free rate.
    ///   - periodsPerYear: annualization; `nil` uses the result's.
    ///   - stressWindows: windows to summarise (those without a period in the backtest are skipped).
    /// - Throws: ``BacktestError/insufficientData(operation:observations:required:)`` for fewer than
    ///   two periods; ``BacktestError/lengthMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` for a
    ///   benchmark of another length; ``BacktestError/nonFiniteMetric(strategy:metric:value:)`` when a
    ///   measure overflows (a wealth beyond the range of `Double`); the other ``ReturnMetrics`` errors.
    public init(result: BacktestResult, benchmark: [Double]? = nil, riskFree: Double = 0,
                periodsPerYear: Double? = nil, stressWindows: [StressWindow] = StressWindow.standard) throws {
        let r = result.netReturns
        let p = periodsPerYear ?? result.periodsPerYear
        guard r.count >= 2 else {
            throw BacktestError.insufficientData(operation: "the metrics of \(result.strategy) (holding periods)", observations: r.count,
                                                 required: 2)
        }
        strategy = result.strategy
        periods = r.count
        self.periodsPerYear = p
        self.riskFree = riskFree
        finalWealth = result.finalWealth
        cumulativeReturn = try ReturnMetrics.cumulativeReturn(r)
        annualReturn = try ReturnMetrics.annualReturn(r, periodsPerYear: p)
        annualVolatility = try ReturnMetrics.annualVolatility(r, periodsPerYear: p)
        sharpeRatio = try ReturnMetrics.sharpeRatio(r, riskFree: riskFree, periodsPerYear: p)
        sortinoRatio = try ReturnMetrics.sortinoRatio(r, requiredReturn: riskFree, periodsPerYear: p)
        calmarRatio = try ReturnMetrics.calmarRatio(r, periodsPerYear: p)
        maxDrawdown = try ReturnMetrics.maxDrawdown(r)
        maxDrawdownDuration = try ReturnMetrics.maxDrawdownDuration(r)
        valueAtRisk = try ReturnMetrics.valueAtRisk(r)
        conditionalValueAtRisk = try ReturnMetrics.conditionalValueAtRisk(r)
        gaussianValueAtRisk = try ReturnMetrics.gaussianValueAtRisk(r)
        gaussianConditionalValueAtRisk = try ReturnMetrics.gaussianConditionalValueAtRisk(r)
        omegaRatio = try ReturnMetrics.omegaRatio(r, riskFree: riskFree, periodsPerYear: p)
        tailRatio = try ReturnMetrics.tailRatio(r)
        stability = try ReturnMetrics.stability(r)
        if let benchmark {
            let capm = try ReturnMetrics.alphaBeta(r, benchmark: benchmark, riskFree: riskFree, periodsPerYear: p)
            alpha = capm?.alpha
            beta = capm?.beta
            informationRatio = try ReturnMetrics.informationRatio(r, benchmark: benchmark, periodsPerYear: p)
            trackingError = try ReturnMetrics.trackingError(r, benchmark: benchmark, periodsPerYear: p)
        } else {
            alpha = nil; beta = nil; informationRatio = nil; trackingError = nil
        }
        hitRate = try ReturnMetrics.hitRate(r)
        annualTurnover = result.turnover.reduce(0, +) / Double(r.count) * p
        totalTurnover = result.decisions.reduce(0) { $0 + $1.turnover }
        costDrag = try ReturnMetrics.annualReturn(result.grossReturns, periodsPerYear: p) - annualReturn
        totalCost = result.decisions.reduce(0) { $0 + $1.costValue }
        perPeriodSharpeRatio = try ReturnMetrics.perPeriodSharpeRatio(r)
        self.stressWindows = try Self.stress(result: result, benchmark: benchmark, windows: stressWindows, periodsPerYear: p)
        // A measure that overflowed is an error, not a number to print.
        if let bad = summaryRows.first(where: { $0.value.map { !$0.isFinite } ?? false }) {
            throw BacktestError.nonFiniteMetric(strategy: strategy, metric: bad.label, value: bad.value!)
        }
    }

    /// A headline measure, for choosing which to show without matching label strings.
    public enum Measure: String, Sendable, Hashable, Codable, CaseIterable {
        case finalWealth = "final wealth"
        case cumulativeReturn = "cumulative return"
        case annualReturn = "annual return"
        case annualVolatility = "annual volatility"
        case sharpeRatio = "Sharpe ratio"
        case sortinoRatio = "Sortino ratio"
        case calmarRatio = "Calmar ratio"
        case maxDrawdown = "max drawdown"
        case maxDrawdownPeriods = "max drawdown periods"
        case valueAtRisk = "VaR 95% (historical)"
        case conditionalValueAtRisk = "CVaR 95% (historical)"
        case gaussianValueAtRisk = "VaR 95% (Gaussian)"
        case gaussianConditionalValueAtRisk = "CVaR 95% (Gaussian)"
        case omegaRatio = "Omega ratio"
        case tailRatio = "tail ratio"
        case stability
        case alpha
        case beta
        case informationRatio = "information ratio"
        case trackingError = "tracking error"
        case hitRate = "hit rate"
        case annualTurnover = "annual turnover (two-way)"
        case annualOneWayTurnover = "annual turnover (one-way)"
        case costDrag = "cost drag"
        case totalCost = "total cost"
        case perPeriodSharpeRatio = "per-period Sharpe (Jiang et al.)"

        /// The label used in tables and reports.
        public var label: String { rawValue }
    }

    /// The value of `measure` (`nil` where undefined or without a benchmark).
    public func value(_ measure: Measure) -> Double? {
        switch measure {
        case .finalWealth: return finalWealth
        case .cumulativeReturn: return cumulativeReturn
        case .annualReturn: return annualReturn
        case .annualVolatility: return annualVolatility
        case .sharpeRatio: return sharpeRatio
        case .sortinoRatio: return sortinoRatio
        case .calmarRatio: return calmarRatio
        case .maxDrawdown: return maxDrawdown
        case .maxDrawdownPeriods: return Double(maxDrawdownDuration)
        case .valueAtRisk: return valueAtRisk
        case .conditionalValueAtRisk: return conditionalValueAtRisk
        case .gaussianValueAtRisk: return gaussianValueAtRisk
        case .gaussianConditionalValueAtRisk: return gaussianConditionalValueAtRisk
        case .omegaRatio: return omegaRatio
        case .tailRatio: return tailRatio
        case .stability: return stability
        case .alpha: return alpha
        case .beta: return beta
        case .informationRatio: return informationRatio
        case .trackingError: return trackingError
        case .hitRate: return hitRate
        case .annualTurnover: return annualTurnover
        case .annualOneWayTurnover: return annualOneWayTurnover
        case .costDrag: return costDrag
        case .totalCost: return totalCost
        case .perPeriodSharpeRatio: return perPeriodSharpeRatio
        }
    }

    /// The headline metrics as `(label, value)` rows for a table, in ``Measure`` order (`nil` where
    /// undefined or without a benchmark).
    public var summaryRows: [(label: String, value: Double?)] {
        Measure.allCases.map { ($0.label, value($0)) }
    }

    static func stress(result: BacktestResult, benchmark: [Double]?, windows: [StressWindow],
                       periodsPerYear: Double) throws -> [StressWindowStatistics] {
        guard let dates = result.marketDates else { return [] }
        let ends = Array(dates.dropFirst())
        return try windows.compactMap { window in
            let inside = ends.indices.filter { ends[$0] >= window.start && ends[$0] <= window.end }
            guard !inside.isEmpty else { return nil }
            let r = inside.map { result.netReturns[$0] }
            return StressWindowStatistics(
                window: window, periods: r.count, cumulativeReturn: try ReturnMetrics.cumulativeReturn(r),
                maxDrawdown: try ReturnMetrics.maxDrawdown(r), worstReturn: r.min()!,
                annualVolatility: r.count >= 2 ? try ReturnMetrics.annualVolatility(r, periodsPerYear: periodsPerYear) : nil,
                benchmarkCumulativeReturn: try benchmark.map { b in try ReturnMetrics.cumulativeReturn(inside.map { b[$0] }) })
        }
    }
}
