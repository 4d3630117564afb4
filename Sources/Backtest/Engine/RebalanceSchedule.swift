import Market

/// A calendar period for calendar rebalancing.
public enum CalendarPeriod: String, Sendable, Hashable, Codable, CaseIterable {
    /// Monday-to-Sunday weeks.
    case weekly
    /// Calendar months.
    case monthly
    /// Calendar quarters (Jan–Mar, Apr–Jun, Jul–Sep, Oct–Dec).
    case quarterly
    /// Calendar years.
    case annual

    /// An integer that is equal for two dates exactly when they fall in the same period.
    func key(_ date: MarketDate) -> Int {
        switch self {
        case .weekly:
            // 1970-01-01 was a Thursday: shifting by 3 days makes Monday the first day of a week.
            let shifted = date.daysSinceEpoch + 3
            return shifted >= 0 ? shifted / 7 : (shifted - 6) / 7
        case .monthly: return date.year * 12 + date.month - 1
        case .quarterly: return date.year * 4 + (date.month - 1) / 3
        case .annual: return date.year
        }
    }
}

/// When the engine asks the strategy for new target weights.
///
/// The first decision is always taken (reason ``RebalanceReason/initial``). After it:
/// - ``everyPeriod``: at every bar (online portfolio selection, learned agents);
/// - ``everyNPeriods(_:)``: every `k` bars after the first decision;
/// - ``calendar(_:)``: at the last bar of each calendar period (the bar whose successor lies in a
///   new week, month, quarter or year). Only the calendar of the index is used, no price;
/// - ``threshold(maximumDrift:)``: at any bar where some weight has drifted from the last target
///   by more than `maximumDrift` (absolute weight, e.g. 0.05 for 5 percentage points).
///
/// No decision is taken at the last bar of the backtest: a trade there could not be held.
public enum RebalanceSchedule: Sendable, Hashable, Codable {
    /// Every bar.
    case everyPeriod
    /// Every `k ≥ 1` bars.
    case everyNPeriods(Int)
    /// The last bar of every calendar period.
    case calendar(CalendarPeriod)
    /// When `max |w′ᵢ − wᵢ| > maximumDrift` against the last target `w`.
    case threshold(maximumDrift: Double)

    /// A short name for logs and errors (`"every period"`, `"monthly"`, `"threshold 0.05"` …).
    public var name: String {
        switch self {
        case .everyPeriod: return "every period"
        case let .everyNPeriods(k): return "every \(k) periods"
        case let .calendar(period): return period.rawValue
        case let .threshold(drift): return "threshold \(drift)"
        }
    }

    /// Checks the parameters against the panel's index.
    func validate(index: TimeIndex) throws {
        switch self {
        case .everyPeriod: break
        case let .everyNPeriods(k):
            guard k >= 1 else {
                throw BacktestError.invalidArgument(operation: "RebalanceSchedule", parameter: "everyNPeriods",
                                                    message: "\(k) must be at least 1")
            }
        case .calendar:
            guard index.isDated else { throw BacktestError.calendarScheduleNeedsDates(schedule: name) }
        case let .threshold(drift):
            guard drift >= 0, drift.isFinite else {
                throw BacktestError.invalidArgument(operation: "RebalanceSchedule", parameter: "threshold",
                                                    message: "maximum drift \(drift) must be non-negative")
            }
        }
    }
}

/// Why a rebalance happened.
public enum RebalanceReason: String, Sendable, Hashable, Codable, CaseIterable {
    /// The first trade of the backtest (from cash).
    case initial
    /// The schedule asked for a decision (every period, every k periods, or calendar).
    case schedule
    /// A weight drifted past the threshold.
    case threshold
    /// The engine sold a holding whose asset cannot be held over the next period (delisting or
    /// missing price); the freed weight goes to cash, or pro rata to the other holdings without one.
    case availability
}

/// Decides, bar by bar, whether the schedule calls for a decision.
struct ScheduleClock {
    let schedule: RebalanceSchedule
    let calendarKeys: [Int]?

    init(schedule: RebalanceSchedule, index: TimeIndex) throws {
        try schedule.validate(index: index)
        self.schedule = schedule
        if case let .calendar(period) = schedule, let dates = index.dates {
            calendarKeys = dates.map(period.key)
        } else {
            calendarKeys = nil
        }
    }

    /// The reason for a decision at `bar` (before the last bar), or `nil` when none is due.
    /// `maximumDrift` is `max |w′ᵢ − wᵢ|` against the last target.
    func reason(bar: Int, firstDecision: Int, maximumDrift: Double) -> RebalanceReason? {
        switch schedule {
        case .everyPeriod: return .schedule
        case let .everyNPeriods(k): return (bar - firstDecision) % k == 0 ? .schedule : nil
        case .calendar: return calendarKeys![bar] != calendarKeys![bar + 1] ? .schedule : nil
        case let .threshold(limit): return maximumDrift > limit ? .threshold : nil
        }
    }
}
