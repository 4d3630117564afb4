/// The sampling frequency of a time index.
public enum Frequency: String, Sendable, Hashable, CaseIterable, Codable {
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
        guard dates.count >= 2 else { return .irregular }
        var gaps = (1..<dates.count).map { dates[$0].daysSinceEpoch - dates[$0 - 1].daysSinceEpoch }
        gaps.sort()
        let median = gaps[gaps.count / 2]
        switch median {
        case 1...4: return .daily
        case 5...10: return .weekly
        case 27...35: return .monthly
        case 85...95: return .quarterly
        case 360...370: return .annual
        default: return .irregular
        }
    }
}

/// One label of a ``TimeIndex``: a calendar date, or an integer period for data without dates.
public enum TimeLabel: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// A calendar date.
    case date(MarketDate)
    /// An integer period (0-based unless the index says otherwise).
    case period(Int)

    /// The ISO date, or `period N`.
    public var description: String {
        switch self {
        case let .date(date): return date.description
        case let .period(period): return "period \(period)"
        }
    }
}

/// The time axis of a panel: strictly increasing dates, or a run of integer periods.
///
/// Dates are unique and sorted, which the initializer checks; lookups by date are
/// binary searches (O(log n)). The sampling ``frequency`` is inferred once at
/// construction. Files without dates (the OLPS sets) get a period index
/// `first..<first+count`, whose frequency is ``Frequency/periods``.
public struct TimeIndex: Sendable, Hashable {
    /// What the index is made of.
    public enum Labels: Sendable, Hashable {
        /// Strictly increasing calendar dates.
        case dates([MarketDate])
        /// Consecutive integer periods.
        case periods(Range<Int>)
    }

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

    /// The number of labels.
    public var count: Int {
        switch labels {
        case let .dates(dates): return dates.count
        case let .periods(range): return range.count
        }
    }

    /// `true` when the index has no labels.
    public var isEmpty: Bool { count == 0 }

    /// `true` when the labels are calendar dates.
    public var isDated: Bool {
        if case .dates = labels { return true }
        return false
    }

    /// The dates, or `nil` for a period index.
    public var dates: [MarketDate]? {
        if case let .dates(dates) = labels { return dates }
        return nil
    }

    /// The label at `position` (0-based).
    public func label(at position: Int) -> TimeLabel {
        switch labels {
        case let .dates(dates): return .date(dates[position])
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

    /// The position of `label`, or `nil` when absent. O(log n) for dates.
    public func position(of label: TimeLabel) -> Int? {
        switch (labels, label) {
        case let (.dates(dates), .date(date)):
            let k = TimeIndex.lowerBound(dates, date)
            return k < dates.count && dates[k] == date ? k : nil
        case let (.periods(range), .period(period)):
            return range.contains(period) ? period - range.lowerBound : nil
        default:
            return nil
        }
    }

    /// The position of `date`, or `nil` when absent or the index has no dates.
    public func position(of date: MarketDate) -> Int? { position(of: .date(date)) }

    /// The labels at `positions` as a new index.
    public subscript(positions: Range<Int>) -> TimeIndex {
        precondition(positions.lowerBound >= 0 && positions.upperBound <= count,
                     "TimeIndex: range \(positions) out of range for \(count) labels")
        switch labels {
        case let .dates(dates): return TimeIndex(uncheckedDates: Array(dates[positions]))
        case let .periods(range):
            return TimeIndex(periods: (range.lowerBound + positions.lowerBound)..<(range.lowerBound + positions.upperBound))
        }
    }

    /// The positions whose dates fall in `from...through`.
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` for a period index.
    public func positions(from start: MarketDate, through end: MarketDate) throws -> Range<Int> {
        guard case let .dates(dates) = labels else { throw MarketError.indexKindMismatch(operation: "TimeIndex.positions(from:through:)") }
        let lower = TimeIndex.lowerBound(dates, start)
        let upper = Swift.max(lower, TimeIndex.lowerBound(dates, end.adding(days: 1)))
        return lower..<upper
    }

    /// The sorted union of several indices of the same kind (an outer join).
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` when dated and period indices are mixed.
    public static func union(_ indices: [TimeIndex]) throws -> TimeIndex {
        try combine(indices, operation: "TimeIndex.union") { sets in
            sets.reduce(into: Set<Int>()) { $0.formUnion($1) }
        }
    }

    /// The sorted intersection of several indices of the same kind (an inner join).
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` when dated and period indices are mixed.
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
        let dated = first.isDated
        guard indices.allSatisfy({ $0.isDated == dated }) else { throw MarketError.indexKindMismatch(operation: operation) }
        let sets = indices.map { index -> Set<Int> in
            switch index.labels {
            case let .dates(dates): return Set(dates.map(\.daysSinceEpoch))
            case let .periods(range): return Set(range)
            }
        }
        let keys = merge(sets).sorted()
        if dated { return TimeIndex(uncheckedDates: keys.map(MarketDate.init(daysSinceEpoch:))) }
        guard let low = keys.first else { return TimeIndex(periods: 0..<0) }
        guard keys.last! - low + 1 == keys.count else {
            throw MarketError.invalidArgument(operation: operation, message: "the combined periods are not consecutive")
        }
        return TimeIndex(periods: low..<(low + keys.count))
    }

    /// The first position whose date is not earlier than `date`.
    static func lowerBound(_ dates: [MarketDate], _ date: MarketDate) -> Int {
        var low = 0, high = dates.count
        while low < high {
            let mid = (low + high) / 2
            if dates[mid] < date { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
