import Linalg
import Market

/// When a decision is traded.
public enum ExecutionTiming: String, Sendable, Hashable, Codable, CaseIterable {
    /// At the close of the decision bar (lag 0): the strategy sees the close it trades at.
    case decisionClose
    /// At the close of the next bar (lag 1): the order placed at one close fills at the next.
    case nextClose

    /// Bars between decision and execution.
    public var lag: Int { self == .decisionClose ? 0 : 1 }
}

/// What the engine does with a target weight on an asset that cannot be held over the next period.
public enum UnavailableAssetPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Throw ``BacktestError/weightOnUnavailableAsset(strategy:time:asset:weight:)``.
    case throwError
    /// Set the weight to zero and spread it over the remaining risky targets in proportion to their
    /// weights (into cash when short positions are allowed, see
    /// ``BacktestConfiguration/maximumGrossLeverage``); when no risky target remains it goes to cash, and without cash the engine throws
    /// ``BacktestError/noAvailableAssets(strategy:time:)``.
    case redistribute
}

/// A cash asset: free to trade, earning a constant return per period.
public struct CashAsset: Sendable, Hashable, Codable {
    /// The name used in weight vectors and results. Default `"CASH"`.
    public var name: String
    /// Simple return per bar (for example the daily risk-free rate). Default 0.
    public var returnPerPeriod: Double

    /// Creates a cash asset.
    public init(name: String = "CASH", returnPerPeriod: Double = 0) {
        self.name = name
        self.returnPerPeriod = returnPerPeriod
    }
}

/// How a backtest trades: schedule, costs, execution, cash, availability and window.
public struct BacktestConfiguration: Sendable, Hashable {
    /// When the strategy is asked for new weights. Default every period.
    public var schedule: RebalanceSchedule
    /// Proportional costs. Default none.
    public var costs: TransactionCostModel
    /// Execution lag. Default at the decision bar's close.
    public var execution: ExecutionTiming
    /// The cash asset, if any. Default none (weights must sum to 1).
    public var cash: CashAsset?
    /// Handling of weights on unavailable assets. Default throw.
    public var unavailableAssets: UnavailableAssetPolicy
    /// Wealth before the first trade. Default 1.
    public var initialWealth: Double
    /// Earliest decision bar (0-based panel position); the strategy's required history may push the
    /// first decision later. Default 0.
    public var firstDecisionBar: Int
    /// Last bar of the backtest; `nil` for the panel's last bar.
    public var lastBar: Int?
    /// The largest gross exposure `Σᵢ|wᵢ|` of the risky weights, allowing short positions; `nil`
    /// (the default) for a long-only backtest. With a limit `L ≥ 1` a target may hold negative
    /// weights as long as `Σ|wᵢ| ≤ L`; the cash asset (required) finances the difference,
    /// `1 − Σwᵢ`, which is negative when the book is levered (borrowing at the cash rate) and above
    /// one when shorts exceed longs. A gross limit of 1.5 is a 150 % gross book.
    public var maximumGrossLeverage: Double?

    /// Creates a configuration.
    public init(schedule: RebalanceSchedule = .everyPeriod, costs: TransactionCostModel = .free,
                execution: ExecutionTiming = .decisionClose, cash: CashAsset? = nil,
                unavailableAssets: UnavailableAssetPolicy = .throwError, initialWealth: Double = 1,
                firstDecisionBar: Int = 0, lastBar: Int? = nil, maximumGrossLeverage: Double? = nil) {
        self.schedule = schedule
        self.costs = costs
        self.execution = execution
        self.cash = cash
        self.unavailableAssets = unavailableAssets
        self.initialWealth = initialWealth
        self.firstDecisionBar = firstDecisionBar
        self.lastBar = lastBar
        self.maximumGrossLeverage = maximumGrossLeverage
    }
}

/// Periods per year for a sampling frequency, the annualisation of every metric: 252 daily,
/// 52 weekly, 12 monthly, 4 quarterly, 1 annual (empyrical's `ANNUALIZATION_FACTORS`); 8760 hourly
/// and 17 520 half-hourly, since the intraday data are crypto markets trading 24 hours a day,
/// 365 days a year (`Frequency.periodsPerYear`); 252 for period indices and irregular
/// dates, which are daily in the classic data sets.
public func periodsPerYear(_ frequency: Frequency) -> Double {
    frequency.periodsPerYear ?? 252
}

/// Runs strategies over a price panel with rebalancing schedules, transaction costs, an optional
/// cash asset, weight drift and availability masks.
///
/// ## The loop
/// Bars are processed in order from the first decision bar. At bar `t`:
/// 1. the period `(t−1, t]` is realised: wealth grows by `Σᵢ wᵢyᵢ` (`yᵢ = pᵢ,ₜ/pᵢ,ₜ₋₁`, cash earns
///    its rate) and weights drift to `w′ᵢ = wᵢyᵢ / Σⱼ wⱼyⱼ`;
/// 2. an order decided one bar earlier is executed (``ExecutionTiming/nextClose``);
/// 3. if a decision is due (first decision, schedule or threshold), the strategy gets a
///    ``DecisionContext`` that shows prices up to `t` only, and its weights are validated and
///    executed now (``ExecutionTiming/decisionClose``) or at the next bar;
/// 4. holdings that cannot be held over `(t, t+1]` (mask `false` at `t+1`) are sold
///    (``RebalanceReason/availability``);
/// 5. the strategy's ``BacktestStrategy/observe(_:)`` receives the period's outcome.
///
/// Every trade multiplies wealth by the transaction remainder factor `μ` of the
/// ``TransactionCostModel``. An asset is tradable at bar `e` when its mask is `true` at `e` and
/// `e + 1`. Cost `O(T·m)` plus the strategy's own work: a 20-asset, 30-year daily panel with
/// monthly rebalancing and costs takes about 3 ms of CPU time (Benchmarks/README.md).
public struct BacktestEngine: Sendable {
    /// The prices (closes are traded; the mask says what is tradable).
    public let panel: PricePanel
    /// The trading rules.
    public let configuration: BacktestConfiguration

    /// Creates an engine after checking the panel and configuration.
    ///
    /// - Throws: ``BacktestError/invalidPanel(message:)`` for a series panel or fewer than two bars;
    ///   ``BacktestError/invalidArgument(operation:parameter:message:)`` for a bad window, initial
    ///   wealth or cash asset (name clash, rate ≤ −1); ``BacktestError/calendarScheduleNeedsDates(schedule:)``
    ///   and the schedule's parameter errors.
    public init(panel: PricePanel, configuration: BacktestConfiguration = BacktestConfiguration()) throws {
        let operation = "BacktestEngine"
        guard panel.kind == .prices else { throw BacktestError.invalidPanel(message: "the panel holds general series, not prices") }
        guard panel.timeCount >= 2 else { throw BacktestError.invalidPanel(message: "\(panel.timeCount) bars; at least 2 are needed") }
        let last = configuration.lastBar ?? panel.timeCount - 1
        guard last >= 1, last < panel.timeCount else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "lastBar",
                                                message: "\(last) is not in 1…\(panel.timeCount - 1)")
        }
        guard configuration.firstDecisionBar >= 0, configuration.firstDecisionBar < last else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "firstDecisionBar",
                                                message: "\(configuration.firstDecisionBar) is not in 0…\(last - 1)")
        }
        guard configuration.initialWealth > 0, configuration.initialWealth.isFinite else {
            throw BacktestError.invalidArgument(operation: operation, parameter: "initialWealth",
                                                message: "\(configuration.initialWealth) must be positive and finite")
        }
        if let cash = configuration.cash {
            guard !panel.assets.contains(cash.name), !cash.name.isEmpty else {
                throw BacktestError.invalidArgument(operation: operation, parameter: "cash.name",
                                                    message: "\"\(cash.name)\" is empty or already an asset of the panel")
            }
            guard cash.returnPerPeriod > -1, cash.returnPerPeriod.isFinite else {
                throw BacktestError.invalidArgument(operation: operation, parameter: "cash.returnPerPeriod",
                                                    message: "\(cash.returnPerPeriod) must be finite and above −1")
            }
        }
        if let limit = configuration.maximumGrossLeverage {
            guard limit >= 1, limit.isFinite else {
                throw BacktestError.invalidArgument(operation: operation, parameter: "maximumGrossLeverage",
                                                    message: "\(limit) must be finite and at least 1")
            }
            guard configuration.cash != nil else {
                throw BacktestError.invalidArgument(operation: operation, parameter: "maximumGrossLeverage",
                                                    message: "a leveraged or short book needs a cash asset to finance it")
            }
        }
        try configuration.schedule.validate(index: panel.index)
        self.panel = panel
        self.configuration = configuration
    }

    /// Runs a copy of `strategy`; see the type's documentation for the loop.
    ///
    /// - Throws: as `run(_:)`.
    public func run<S: BacktestStrategy>(_ strategy: S) throws -> BacktestResult {
        var copy = strategy
        return try run(&copy)
    }

    /// Runs `strategy` in place, so an online learner keeps what it learned.
    ///
    /// - Throws: ``BacktestError/insufficientHistory(strategy:firstTradeBar:lastBar:)`` when no period
    ///   is left after the required history; the weight errors
    ///   (``BacktestError/weightCountMismatch(strategy:time:expected:found:)``,
    ///   ``BacktestError/nonFiniteWeight(strategy:time:asset:)``,
    ///   ``BacktestError/negativeWeight(strategy:time:asset:weight:)``,
    ///   ``BacktestError/grossLeverageExceeded(strategy:time:gross:limit:)``,
    ///   ``BacktestError/wealthExhausted(strategy:time:growth:)``,
    ///   ``BacktestError/weightsDoNotSumToOne(strategy:time:sum:)``,
    ///   ``BacktestError/weightOnUnavailableAsset(strategy:time:asset:weight:)``,
    ///   ``BacktestError/noAvailableAssets(strategy:time:)``) naming the strategy and bar;
    ///   ``BacktestError/strategyFailed(strategy:time:message:)`` wrapping the strategy's own errors;
    ///   ``BacktestError/costIterationDidNotConverge(time:iterations:residual:)``.
    public func run<S: BacktestStrategy>(_ strategy: inout S) throws -> BacktestResult {
        var loop = try EngineLoop(engine: self, strategyName: strategy.name, requiredHistory: strategy.requiredHistory)
        return try loop.run(&strategy)
    }
}

/// The mutable state of one run.
private struct EngineLoop {
    let panel: PricePanel
    let configuration: BacktestConfiguration
    let strategyName: String
    let close: [Double]
    let mask: [Bool]
    let n: Int
    let m: Int
    let cashIndex: Int?
    let lastBar: Int
    let firstDecision: Int
    let firstTrade: Int
    let lag: Int
    let clock: ScheduleClock

    var held: [Double]
    var current: [Double]
    var wealth: Double
    var lastTarget: [Double]?
    var pending: (bar: Int, weights: [Double], reason: RebalanceReason, note: String?)?
    var barFactor = 1.0
    var barTurnover = 0.0
    var decisions: [RebalanceDecision] = []

    init(engine: BacktestEngine, strategyName: String, requiredHistory: Int) throws {
        panel = engine.panel
        configuration = engine.configuration
        self.strategyName = strategyName
        close = panel.close.elements
        mask = panel.mask.cells
        n = panel.assetCount
        cashIndex = configuration.cash == nil ? nil : n
        m = n + (configuration.cash == nil ? 0 : 1)
        lastBar = configuration.lastBar ?? panel.timeCount - 1
        lag = configuration.execution.lag
        firstDecision = Swift.max(configuration.firstDecisionBar, requiredHistory - 1)
        firstTrade = firstDecision + lag
        guard firstTrade < lastBar else {
            throw BacktestError.insufficientHistory(strategy: strategyName, firstTradeBar: firstTrade, lastBar: lastBar)
        }
        clock = try ScheduleClock(schedule: configuration.schedule, index: panel.index)
        held = [Double](repeating: 0, count: m)
        if let c = cashIndex { held[c] = 1 }
        current = held
        wealth = configuration.initialWealth
    }

    func label(_ bar: Int) -> String { timeLabelText(panel.index.label(at: bar)) }

    /// Whether asset `a` can be held over `(bar, bar + 1]`.
    func tradable(_ a: Int, at bar: Int) -> Bool {
        mask[bar * n + a] && (bar >= lastBar || mask[(bar + 1) * n + a])
    }

    mutating func run<S: BacktestStrategy>(_ strategy: inout S) throws -> BacktestResult {
        let periods = lastBar - firstTrade
        var dates: [String] = [], wealthSeries: [Double] = [], gross: [Double] = [], net: [Double] = []
        var weights: [[Double]] = [], turnover: [Double] = [], costs: [Double] = []
        var initialCost = 0.0
        dates.reserveCapacity(periods + 1); wealthSeries.reserveCapacity(periods + 1)
        gross.reserveCapacity(periods); net.reserveCapacity(periods); weights.reserveCapacity(periods)
        turnover.reserveCapacity(periods); costs.reserveCapacity(periods)
        var relatives = [Double](repeating: .nan, count: n)

        for t in firstDecision...lastBar {
            let wealthBefore = wealth
            var growth = 1.0
            if t > firstTrade {
                growth = 0
                for a in 0..<n {
                    let y = close[t * n + a] / close[(t - 1) * n + a]
                    relatives[a] = mask[(t - 1) * n + a] && mask[t * n + a] ? y : .nan
                    if held[a] != 0 {
                        guard relatives[a].isFinite else {
                            if y.isInfinite, !relatives[a].isNaN {
                                throw BacktestError.wealthOverflow(strategy: strategyName, time: label(t))
                            }
                            throw BacktestError.invalidPanel(message: "\(panel.assets[a]) is held but has no price at \(label(t))")
                        }
                        growth += held[a] * y
                    }
                }
                if let c = cashIndex { growth += held[c] * (1 + configuration.cash!.returnPerPeriod) }
                guard growth > 0 else {
                    throw BacktestError.wealthExhausted(strategy: strategyName, time: label(t), growth: growth)
                }
                for a in 0..<n { current[a] = held[a] * (relatives[a].isFinite ? relatives[a] : 0) / growth }
                if let c = cashIndex { current[c] = held[c] * (1 + configuration.cash!.returnPerPeriod) / growth }
                wealth *= growth
                guard wealth.isFinite, growth.isFinite else {
                    throw BacktestError.wealthOverflow(strategy: strategyName, time: label(t))
                }
            }
            let drifted = current
            barFactor = 1
            barTurnover = 0

            if let order = pending, order.bar + lag == t {
                pending = nil
                try execute(order.weights, reason: order.reason, decisionBar: order.bar, at: t, note: order.note)
            }
            if t <= lastBar - 1 - lag, pending == nil {
                let reason: RebalanceReason? = t == firstDecision
                    ? .initial
                    : clock.reason(bar: t, firstDecision: firstDecision, maximumDrift: maximumDrift())
                if let reason {
                    let context = DecisionContext(bar: t, panel: panel, cash: configuration.cash,
                                                  currentWeights: current, wealth: wealth,
                                                  isInitial: reason == .initial, executionBar: t + lag)
                    let raw: [Double]
                    do {
                        raw = try strategy.targetWeights(context)
                    } catch let error as BacktestError {
                        throw error
                    } catch {
                        throw BacktestError.strategyFailed(strategy: strategyName, time: label(t), message: "\(error)")
                    }
                    let target = try validated(raw, at: t)
                    if lag == 0 {
                        try execute(target, reason: reason, decisionBar: t, at: t, note: strategy.decisionNote)
                    } else {
                        pending = (t, target, reason, strategy.decisionNote)
                    }
                }
            }
            if t < lastBar, t >= firstTrade { try exitUnavailableHoldings(at: t) }

            if t == firstTrade {
                initialCost = 1 - barFactor
                dates.append(label(t))
                wealthSeries.append(wealth)
            } else if t > firstTrade {
                // Below the normal range the ratio of wealths loses its digits, and at 0 it is NaN.
                guard wealth >= Double.leastNormalMagnitude else {
                    throw BacktestError.wealthUnderflow(strategy: strategyName, time: label(t), wealth: wealth)
                }
                let grossReturn = growth - 1
                let netReturn = wealth / wealthBefore - 1
                dates.append(label(t))
                wealthSeries.append(wealth)
                gross.append(grossReturn)
                net.append(netReturn)
                weights.append(held)
                turnover.append(barTurnover)
                costs.append(1 - barFactor)
                let outcome = PeriodOutcome(bar: t, label: panel.index.label(at: t), priceRelatives: relatives,
                                            heldWeights: held, driftedWeights: drifted, weightsAfter: current,
                                            grossReturn: grossReturn, netReturn: netReturn, cost: 1 - barFactor,
                                            wealth: wealth)
                do {
                    try strategy.observe(outcome)
                } catch let error as BacktestError {
                    throw error
                } catch {
                    throw BacktestError.strategyFailed(strategy: strategyName, time: label(t), message: "\(error)")
                }
            }
            held = current
        }
        return BacktestResult(strategy: strategyName, assets: panel.assets + (configuration.cash.map { [$0.name] } ?? []),
                              cashAsset: configuration.cash?.name, schedule: configuration.schedule.name,
                              costModel: configuration.costs, executionLag: lag,
                              periodsPerYear: periodsPerYear(panel.index.frequency), dates: dates, wealth: wealthSeries,
                              grossReturns: gross, netReturns: net, weights: weights, turnover: turnover,
                              transactionCosts: costs, initialCost: initialCost, decisions: decisions)
    }

    /// `max |w′ᵢ − wᵢ|` against the last target (0 before any).
    func maximumDrift() -> Double {
        guard let target = lastTarget else { return 0 }
        var drift = 0.0
        for i in 0..<m { drift = Swift.max(drift, abs(current[i] - target[i])) }
        return drift
    }

    /// The strategy's weights as a full vector (assets, then cash), checked for count, sign and sum.
    func validated(_ raw: [Double], at bar: Int) throws -> [Double] {
        let time = label(bar)
        guard raw.count == n else {
            throw BacktestError.weightCountMismatch(strategy: strategyName, time: time, expected: n, found: raw.count)
        }
        var target = [Double](repeating: 0, count: m)
        var sum = 0.0
        if let limit = configuration.maximumGrossLeverage, let c = cashIndex {
            var gross = 0.0
            for a in 0..<n {
                let w = raw[a]
                guard w.isFinite else { throw BacktestError.nonFiniteWeight(strategy: strategyName, time: time, asset: panel.assets[a]) }
                target[a] = w
                sum += w
                gross += abs(w)
            }
            guard gross <= limit + 1e-9 else {
                throw BacktestError.grossLeverageExceeded(strategy: strategyName, time: time, gross: gross, limit: limit)
            }
            target[c] = 1 - sum
            return target
        }
        for a in 0..<n {
            let w = raw[a]
            guard w.isFinite else { throw BacktestError.nonFiniteWeight(strategy: strategyName, time: time, asset: panel.assets[a]) }
            guard w >= -1e-12 else {
                throw BacktestError.negativeWeight(strategy: strategyName, time: time, asset: panel.assets[a], weight: w)
            }
            target[a] = Swift.max(w, 0)
            sum += target[a]
        }
        let tolerance = 1e-9
        if let c = cashIndex {
            guard sum <= 1 + tolerance else { throw BacktestError.weightsDoNotSumToOne(strategy: strategyName, time: time, sum: sum) }
            if sum > 1 { for a in 0..<n { target[a] /= sum } }
            target[c] = Swift.max(0, 1 - Swift.min(sum, 1))
        } else {
            guard abs(sum - 1) <= tolerance else { throw BacktestError.weightsDoNotSumToOne(strategy: strategyName, time: time, sum: sum) }
            for a in 0..<n { target[a] /= sum }
        }
        return target
    }

    /// Moves `freed` weight onto the other risky entries of `target` in proportion, or to cash (always
    /// to cash in a backtest with a gross-leverage limit).
    func redistribute(_ freed: Double, in target: inout [Double], at bar: Int) throws {
        guard freed != 0 else { return }
        var remaining = 0.0
        for a in 0..<n { remaining += target[a] }
        if let c = cashIndex, configuration.maximumGrossLeverage != nil {
            target[c] += freed  // rescaling a long–short book could break its gross limit
        } else if remaining > 0 {
            let scale = (remaining + freed) / remaining
            for a in 0..<n { target[a] *= scale }
        } else if let c = cashIndex {
            target[c] += freed
        } else {
            throw BacktestError.noAvailableAssets(strategy: strategyName, time: label(bar))
        }
    }

    /// Trades from the current weights to `target` at `bar`, applying the availability policy.
    mutating func execute(_ proposed: [Double], reason: RebalanceReason, decisionBar: Int, at bar: Int, note: String? = nil) throws {
        var target = proposed
        var freed = 0.0
        for a in 0..<n where target[a] != 0 && !tradable(a, at: bar) {
            if configuration.unavailableAssets == .throwError {
                throw BacktestError.weightOnUnavailableAsset(strategy: strategyName, time: label(bar),
                                                             asset: panel.assets[a], weight: target[a])
            }
            freed += target[a]
            target[a] = 0
        }
        try redistribute(freed, in: &target, at: bar)
        try trade(to: target, reason: reason, decisionBar: decisionBar, at: bar, note: note)
    }

    /// Records a rebalance from ``current`` to `target` and charges its cost.
    mutating func trade(to target: [Double], reason: RebalanceReason, decisionBar: Int, at bar: Int, note: String? = nil) throws {
        let remainder = try configuration.costs.remainder(from: current, to: target, cashIndex: cashIndex, time: label(bar))
        let mu = remainder.factor
        var turnover = 0.0
        var trades = [Double](repeating: 0, count: m)
        for i in 0..<m {
            trades[i] = mu * target[i] - current[i]
            if i != cashIndex { turnover += abs(target[i] - current[i]) }
        }
        decisions.append(RebalanceDecision(decisionBar: decisionBar, executionBar: bar, decisionDate: label(decisionBar),
                                           executionDate: label(bar), reason: reason, weightsBefore: current,
                                           weightsAfter: target, trades: trades, turnover: turnover, cost: 1 - mu,
                                           wealthBefore: wealth, costIterations: remainder.iterations, note: note))
        wealth *= mu
        barFactor *= mu
        barTurnover += turnover
        current = target
        lastTarget = target
    }

    /// Sells holdings that cannot be held over `(bar, bar + 1]` into cash (pro rata into the other
    /// holdings without a cash asset).
    mutating func exitUnavailableHoldings(at bar: Int) throws {
        var target = current
        var freed = 0.0, exited = false
        for a in 0..<n where target[a] != 0 && !mask[(bar + 1) * n + a] {
            freed += target[a]
            target[a] = 0
            exited = true
        }
        guard exited else { return }
        if let c = cashIndex {
            target[c] += freed
        } else {
            try redistribute(freed, in: &target, at: bar)
        }
        try trade(to: target, reason: .availability, decisionBar: bar, at: bar)
    }
}

/// A time label as text: `YYYY-MM-DD` for a date (formatted without `String(format:)`, since the
/// engine labels every bar), `YYYY-MM-DD HH:MM` for a timestamp, the number for a period.
func timeLabelText(_ label: TimeLabel) -> String {
    switch label {
    case let .period(period): return String(period)
    case let .timestamp(timestamp): return timestamp.description
    case let .date(date):
        let (year, month, day) = date.components
        guard (0...9999).contains(year) else { return date.description }
        return String(unsafeUninitializedCapacity: 10) { buffer in
            let zero = UInt8(ascii: "0"), dash = UInt8(ascii: "-")
            buffer[0] = zero + UInt8(year / 1000); buffer[1] = zero + UInt8(year / 100 % 10)
            buffer[2] = zero + UInt8(year / 10 % 10); buffer[3] = zero + UInt8(year % 10)
            buffer[4] = dash; buffer[5] = zero + UInt8(month / 10); buffer[6] = zero + UInt8(month % 10)
            buffer[7] = dash; buffer[8] = zero + UInt8(day / 10); buffer[9] = zero + UInt8(day % 10)
            return 10
        }
    }
}
