/// The sampling frequency of a time index.
public enum Frequency: String, Sendable, Hashable, CaseIterable, Codable {
    /// 30-minute bars (typical gap 25–35 minutes).
    case halfHourly
    /// Hourly bars (typical gap 50–70 minutes).
    case hourly
    /// Business or calendar days (typical gap 1–4 days).
    case daily
    /// Weeks (typical gap 5–10 days).
    case weekly
    /// Months (typical gap 27–35 days).
    case monthly
    /// Quarters (typical gap 85–95 days).
    case quarterly
    /// Years (typical gap 360–370 days).
    case annual
    /// Dates whose typical gap matches none of the above, or fewer than two dates.
    case irregular
    /// Integer periods with no calendar (the classic OLPS data sets).
    case periods

    /// Infers the frequency of strictly increasing `dates` from the median gap in days.
    ///
    /// The median makes the rule robust to holidays and long weekends (a daily
    /// business calendar has gaps of 1, 3 and sometimes 4 days, median 1) and to
    /// a few missing observations. Complexity: O(n log n).
    public static func infer(from dates: [MarketDate]) -> Frequency {
        guard let median = medianGap(dates.map(\.daysSinceEpoch)) else { return .irregular }
        return dayFrequency(medianGap: median)
    }

    /// The median of the gaps between consecutive `keys`, or `nil` for fewer than two keys.
    private static func medianGap(_ keys: [Int]) -> Int? {
        guard keys.count >= 2 else { return nil }
        let gaps = (1..<keys.count).map { keys[$0] - keys[$0 - 1] }.sorted()
        return gaps[gaps.count / 2]
    }

    /// The frequency whose typical gap in days contains `median`.
    private static func dayFrequency(medianGap median: Int) -> Frequency {
        switch median {
        case 1...4: return .daily
        case 5...10: return .weekly
        case 27...35: return .monthly
        case 85...95: return .quarterly
        case 360...370: return .annual
        default: return .irregular
        }
    }

    /// Infers the frequency of strictly increasing `timestamps` from the median gap:
    /// 25–35 minutes is ``halfHourly``, 50–70 ``hourly``; a median of whole days falls back to the
    /// day rules of the date version (1–4 days daily, 5–10 weekly …). Complexity: O(n log n).
    public static func infer(from timestamps: [MarketTimestamp]) -> Frequency {
        guard let median = medianGap(timestamps.map(\.minutesSinceEpoch)) else { return .irregular }
        switch median {
        case 25...35: return .halfHourly
        case 50...70: return .hourly
        case _ where median % MarketTimestamp.minutesPerDay == 0:
            return dayFrequency(medianGap: median / MarketTimestamp.minutesPerDay)
        default: return .irregular
        }
    }

    /// Bars per year, the annualisation factor of returns sampled at this frequency, or `nil` for
    /// ``irregular`` and ``periods``, which have no calendar length.
    ///
    /// Daily is 252 (trading days, empyrical's convention), weekly 52, monthly 12, quarterly 4,
    /// annual 1. The intraday frequencies count every hour of the year, 24 · 365 = 8760 hourly and
    /// 17 520 half-hourly bars, because the intraday data here are crypto markets, which trade
    /// around the clock every day.
    public var periodsPerYear: Double? {
        switch self {
        case .halfHourly: return 17_520
        case .hourly: return 8760
        case .daily: return 252
        case .weekly: return 52
        case .monthly: return 12
        case .quarterly: return 4
        case .annual: return 1
        case .irregular, .periods: return nil
        }
    }

    /// `true` for bars shorter than a day.
    public var isIntraday: Bool { self == .hourly || self == .halfHourly }
}

/// One label of a ``TimeIndex``: a calendar date, an integer period for data without dates,
/// or a date and time of day for intraday bars.
public enum TimeLabel: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// A calendar date.
    case date(MarketDate)
    /// An integer period (0-based unless the index says otherwise).
    case period(Int)
    /// A date and time of day (an intraday bar).
    case timestamp(MarketTimestamp)

    /// The ISO date, `period N`, or `YYYY-MM-DD HH:MM`.
    public var description: String {
        switch self {
        case let .date(date): return date.description
        case let .period(period): return "period \(period)"
        case let .timestamp(timestamp): return timestamp.description
        }
    }
}

/// The time axis of a panel: strictly increasing dates, strictly increasing timestamps
/// (intraday bars), or a run of integer periods.
///
/// Dates and timestamps are unique and sorted, which the initializers check; lookups
/// are binary searches (O(log n)). The sampling ``frequency`` is inferred once at
/// construction. Files without dates (the OLPS sets) get a period index
/// `first..<first+count`, whose frequency is ``Frequency/periods``.
public struct TimeIndex: Sendable, Hashable {
    /// What the index is made of.
    public enum Labels: Sendable, Hashable {
        /// Strictly increasing calendar dates.
        case dates([MarketDate])
        /// Consecutive integer periods.
        case periods(Range<Int>)
        /// Strictly increasing dates and times of day (intraday bars).
        case timestamps([MarketTimestamp])
    }

    /// The three kinds of label; only indices of one kind can be joined.
    enum Kind { case dates, periods, timestamps }

    /// The labels.
    public let labels: Labels
    /// The inferred sampling frequency.
    public let frequency: Frequency

    /// An index of strictly increasing `dates`.
    ///
    /// - Throws: ``MarketError/duplicateIndexDate(position:date:)`` or
    ///   ``MarketError/unsortedIndex(position:date:previous:)`` naming the first offending position.
    public init(dates: [MarketDate]) throws {
        for k in dates.indices.dropFirst() where dates[k] <= dates[k - 1] {
            if dates[k] == dates[k - 1] { throw MarketError.duplicateIndexDate(position: k, date: dates[k]) }
            throw MarketError.unsortedIndex(position: k, date: dates[k], previous: dates[k - 1])
        }
        self.init(uncheckedDates: dates)
    }

    /// An index of dates already known to be strictly increasing.
    init(uncheckedDates dates: [MarketDate]) {
        self.labels = .dates(dates)
        self.frequency = Frequency.infer(from: dates)
    }

    /// An index of strictly increasing `timestamps` (intraday bars); its frequency is inferred
    /// from the median spacing (``Frequency/hourly``, ``Frequency/halfHourly`` …).
    ///
    /// - Throws: ``MarketError/duplicateIndexTimestamp(position:timestamp:)`` or
    ///   ``MarketError/unsortedTimestampIndex(position:timestamp:previous:)`` naming the first offending position.
    public init(timestamps: [MarketTimestamp]) throws {
        for k in timestamps.indices.dropFirst() where timestamps[k] <= timestamps[k - 1] {
            if timestamps[k] == timestamps[k - 1] {
                throw MarketError.duplicateIndexTimestamp(position: k, timestamp: timestamps[k])
            }
            throw MarketError.unsortedTimestampIndex(position: k, timestamp: timestamps[k], previous: timestamps[k - 1])
        }
        self.init(uncheckedTimestamps: timestamps)
    }

    /// An index of timestamps already known to be strictly increasing.
    init(uncheckedTimestamps timestamps: [MarketTimestamp]) {
        self.labels = .timestamps(timestamps)
        self.frequency = Frequency.infer(from: timestamps)
    }

    /// An index of the integer periods `periods`.
    public init(periods: Range<Int>) {
        self.labels = .periods(periods)
        self.frequency = .periods
    }

    /// An index of `count` periods numbered from 0.
    public init(periodCount count: Int) {
        precondition(count >= 0, "TimeIndex: negative period count \(count)")
        self.init(periods: 0..<count)
    }

    /// The kind of label.
    var kind: Kind {
        switch labels {
        case .dates: return .dates
        case .periods: return .periods
        case .timestamps: return .timestamps
        }
    }

    /// The number of labels.
    public var count: Int {
        switch labels {
        case let .dates(dates): return dates.count
        case let .periods(range): return range.count
        case let .timestamps(timestamps): return timestamps.count
        }
    }

    /// `true` when the index has no labels.
    public var isEmpty: Bool { count == 0 }

    /// `true` when the labels are calendar dates (not timestamps, not periods).
    public var isDated: Bool { kind == .dates }

    /// `true` when the labels are timestamps (intraday bars).
    public var isTimestamped: Bool { kind == .timestamps }

    /// The dates, or `nil` for a period or timestamp index.
    public var dates: [MarketDate]? {
        if case let .dates(dates) = labels { return dates }
        return nil
    }

    /// The timestamps, or `nil` for a date or period index.
    public var timestamps: [MarketTimestamp]? {
        if case let .timestamps(timestamps) = labels { return timestamps }
        return nil
    }

    /// The calendar day of every label: the dates, or the days of the timestamps (repeating
    /// within a day); `nil` for a period index.
    public var days: [MarketDate]? {
        switch labels {
        case let .dates(dates): return dates
        case let .timestamps(timestamps): return timestamps.map(\.date)
        case .periods: return nil
        }
    }

    /// The label at `position` (0-based).
    public func label(at position: Int) -> TimeLabel {
        switch labels {
        case let .dates(dates): return .date(dates[position])
        case let .timestamps(timestamps): return .timestamp(timestamps[position])
        case let .periods(range):
            precondition(position >= 0 && position < range.count, "TimeIndex: position \(position) out of range for \(range.count) labels")
            return .period(range.lowerBound + position)
        }
    }

    /// All labels in order.
    public var allLabels: [TimeLabel] { (0..<count).map(label(at:)) }

    /// The first label, or `nil` when empty.
    public var first: TimeLabel? { isEmpty ? nil : label(at: 0) }
    /// The last label, or `nil` when empty.
    public var last: TimeLabel? { isEmpty ? nil : label(at: count - 1) }

    /// The position of `label`, or `nil` when absent or of another kind. O(log n) for dates and timestamps.
    public func position(of label: TimeLabel) -> Int? {
        switch (labels, label) {
        case let (.dates(dates), .date(date)):
            let k = TimeIndex.lowerBound(dates, date)
            return k < dates.count && dates[k] == date ? k : nil
        case let (.timestamps(timestamps), .timestamp(timestamp)):
            let k = TimeIndex.lowerBound(timestamps, timestamp)
            return k < timestamps.count && timestamps[k] == timestamp ? k : nil
        case let (.periods(range), .period(period)):
            return range.contains(period) ? period - range.lowerBound : nil
        default:
            return nil
        }
    }

    /// The position of `date`, or `nil` when absent or the index has no dates.
    public func position(of date: MarketDate) -> Int? { position(of: .date(date)) }

    /// The position of `timestamp`, or `nil` when absent or the index has no timestamps.
    public func position(of timestamp: MarketTimestamp) -> Int? { position(of: .timestamp(timestamp)) }

    /// The labels at `positions` as a new index.
    public subscript(positions: Range<Int>) -> TimeIndex {
        precondition(positions.lowerBound >= 0 && positions.upperBound <= count,
                     "TimeIndex: range \(positions) out of range for \(count) labels")
        switch labels {
        case let .dates(dates): return TimeIndex(uncheckedDates: Array(dates[positions]))
        case let .timestamps(timestamps): return TimeIndex(uncheckedTimestamps: Array(timestamps[positions]))
        case let .periods(range):
            return TimeIndex(periods: (range.lowerBound + positions.lowerBound)..<(range.lowerBound + positions.upperBound))
        }
    }

    /// The positions whose dates fall in `from...through`; for a timestamp index, every bar
    /// of the days `from` through `through`.
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` for a period index.
    public func positions(from start: MarketDate, through end: MarketDate) throws -> Range<Int> {
        switch labels {
        case let .dates(dates):
            return TimeIndex.bounds(dates, start, end.adding(days: 1))
        case let .timestamps(timestamps):
            return TimeIndex.bounds(timestamps, MarketTimestamp(minutesSinceEpoch: start.daysSinceEpoch * MarketTimestamp.minutesPerDay),
                                    MarketTimestamp(minutesSinceEpoch: end.adding(days: 1).daysSinceEpoch * MarketTimestamp.minutesPerDay))
        case .periods:
            throw MarketError.indexKindMismatch(operation: "TimeIndex.positions(from:through:)")
        }
    }

    /// The positions whose timestamps fall in `from...through` (inclusive).
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` unless the index holds timestamps.
    public func positions(from start: MarketTimestamp, through end: MarketTimestamp) throws -> Range<Int> {
        guard case let .timestamps(timestamps) = labels else {
            throw MarketError.indexKindMismatch(operation: "TimeIndex.positions(from:through:) with timestamps")
        }
        return TimeIndex.bounds(timestamps, start, end.adding(minutes: 1))
    }

    /// The positions of `labels` in `start..<end` (empty when `end <= start`).
    private static func bounds<T: Comparable>(_ labels: [T], _ start: T, _ end: T) -> Range<Int> {
        let lower = lowerBound(labels, start)
        return lower..<Swift.max(lower, lowerBound(labels, end))
    }

    /// The sorted union of several indices of the same kind (an outer join).
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` when dated, timestamp and period indices are mixed.
    public static func union(_ indices: [TimeIndex]) throws -> TimeIndex {
        try combine(indices, operation: "TimeIndex.union") { sets in
            sets.reduce(into: Set<Int>()) { $0.formUnion($1) }
        }
    }

    /// The sorted intersection of several indices of the same kind (an inner join).
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` when dated, timestamp and period indices are mixed.
    public static func intersection(_ indices: [TimeIndex]) throws -> TimeIndex {
        try combine(indices, operation: "TimeIndex.intersection") { sets in
            guard var result = sets.first else { return [] }
            for set in sets.dropFirst() { result.formIntersection(set) }
            return result
        }
    }

    private static func combine(_ indices: [TimeIndex], operation: String,
                                _ merge: ([Set<Int>]) -> Set<Int>) throws -> TimeIndex {
        guard let first = indices.first else {
            throw MarketError.invalidArgument(operation: operation, message: "needs at least one index")
        }
        let kind = first.kind
        guard indices.allSatisfy({ $0.kind == kind }) else { throw MarketError.indexKindMismatch(operation: operation) }
        let sets = indices.map { index -> Set<Int> in
            switch index.labels {
            case let .dates(dates): return Set(dates.map(\.daysSinceEpoch))
            case let .timestamps(timestamps): return Set(timestamps.map(\.minutesSinceEpoch))
            case let .periods(range): return Set(range)
            }
        }
        let keys = merge(sets).sorted()
        switch kind {
        case .dates: return TimeIndex(uncheckedDates: keys.map(MarketDate.init(daysSinceEpoch:)))
        case .timestamps: return TimeIndex(uncheckedTimestamps: keys.map(MarketTimestamp.init(minutesSinceEpoch:)))
        case .periods:
            guard let low = keys.first else { return TimeIndex(periods: 0..<0) }
            guard keys.last! - low + 1 == keys.count else {
                throw MarketError.invalidArgument(operation: operation, message: "the combined periods are not consecutive")
            }
            return TimeIndex(periods: low..<(low + keys.count))
        }
    }

    /// The first position whose label is not earlier than `label`.
    static func lowerBound<T: Comparable>(_ labels: [T], _ label: T) -> Int {
        var low = 0, high = labels.count
        while low < high {
            let mid = (low + high) / 2
            if labels[mid] < label { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
