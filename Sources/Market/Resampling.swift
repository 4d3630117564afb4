import Linalg

/// How the observations of one resampling bucket are combined.
public enum ResampleAggregation: String, Sendable, Hashable, CaseIterable, Codable {
    /// Every field takes its last present value in the bucket (pandas `groupby(period).last()`).
    case last
    /// Candles: first open, maximum high, minimum low, last close and adjusted close,
    /// summed volume. A panel without open/high/low builds them from the close, as
    /// pandas `Series.resample(...).ohlc()` does.
    case ohlc
}

/// Which date labels a resampled row.
public enum PeriodLabel: String, Sendable, Hashable, CaseIterable, Codable {
    /// The last date of the bucket that is in the source index (a real trading day).
    case lastObservation
    /// The calendar end of the period: the Sunday of a Monday–Sunday week, the last
    /// day of the month, quarter or year (pandas `W-SUN`, `ME`, `QE-DEC`, `YE-DEC` labels).
    case periodEnd
}

extension PricePanel {
    /// The panel resampled to a lower frequency.
    ///
    /// Dates are grouped into Monday–Sunday weeks, calendar months, calendar
    /// quarters or calendar years; intraday bars (a timestamp index) are grouped by
    /// their calendar day first, so they also resample to ``Frequency/daily`` (the last
    /// bar of each day with ``ResampleAggregation/last``), and every result is labelled
    /// with dates. Periods with no date in the index produce no
    /// row (pandas `resample` would emit an all-NaN row; the fixtures drop those).
    /// Missing values are skipped inside a bucket; a field whose values are all
    /// missing in a bucket is `NaN` there (volume too: pandas `sum(min_count=1)`).
    /// The mask of a resampled row is the mask at the bucket's last date, so an
    /// asset counts as available for the period only if it can be traded at its end.
    ///
    /// - Parameters:
    ///   - frequency: ``Frequency/weekly``, ``Frequency/monthly``, ``Frequency/quarterly`` or ``Frequency/annual``;
    ///     also ``Frequency/daily`` for intraday bars.
    ///   - aggregation: last value or OHLC candles.
    ///   - label: the date that labels each row.
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` for a period index;
    ///   ``MarketError/invalidArgument(operation:message:)`` for another target frequency.
    ///   Complexity: O(fields × timeCount × assetCount).
    public func resampled(to frequency: Frequency, aggregation: ResampleAggregation = .last,
                          label: PeriodLabel = .lastObservation) throws -> PricePanel {
        let operation = "PricePanel.resampled"
        // Intraday bars are bucketed by their calendar day, so they also resample to daily.
        guard let dates = index.days else { throw MarketError.indexKindMismatch(operation: operation) }
        let targets: [Frequency] = index.isTimestamped ? [.daily, .weekly, .monthly, .quarterly, .annual]
                                                       : [.weekly, .monthly, .quarterly, .annual]
        guard targets.contains(frequency) else {
            throw MarketError.invalidArgument(operation: operation, message: "cannot resample to \(frequency)")
        }
        // Bucket boundaries: runs of equal period keys in the sorted dates.
        var buckets: [Range<Int>] = []
        var labels: [MarketDate] = []
        var start = 0
        for t in 0..<dates.count {
            let isEnd = t + 1 == dates.count
                || PricePanel.periodKey(dates[t + 1], frequency) != PricePanel.periodKey(dates[t], frequency)
            guard isEnd else { continue }
            buckets.append(start..<(t + 1))
            labels.append(label == .lastObservation ? dates[t] : PricePanel.periodEnd(dates[t], frequency))
            start = t + 1
        }
        let n = assetCount
        func aggregate(_ source: Matrix, _ rule: (ArraySlice<Double>) -> Double) -> Matrix {
            var result = Matrix(rows: buckets.count, columns: n)
            var column = [Double](repeating: .nan, count: timeCount)
            for a in 0..<n {
                source.withUnsafeBufferPointer { p in
                    for t in 0..<timeCount { column[t] = p[t * n + a] }
                }
                for (b, bucket) in buckets.enumerated() { result[b, a] = rule(column[bucket]) }
            }
            return result
        }
        let lastPresent: (ArraySlice<Double>) -> Double = { $0.last { !$0.isNaN } ?? .nan }
        let firstPresent: (ArraySlice<Double>) -> Double = { $0.first { !$0.isNaN } ?? .nan }
        let maximum: (ArraySlice<Double>) -> Double = { $0.filter { !$0.isNaN }.max() ?? .nan }
        let minimum: (ArraySlice<Double>) -> Double = { $0.filter { !$0.isNaN }.min() ?? .nan }
        let total: (ArraySlice<Double>) -> Double = { values in
            let present = values.filter { !$0.isNaN }
            return present.isEmpty ? .nan : present.reduce(0, +)
        }
        var result: [PriceField: Matrix] = [:]
        switch aggregation {
        case .last:
            for (field, matrix) in fields { result[field] = aggregate(matrix, lastPresent) }
        case .ohlc:
            result[.open] = aggregate(fields[.open] ?? close, firstPresent)
            result[.high] = aggregate(fields[.high] ?? close, maximum)
            result[.low] = aggregate(fields[.low] ?? close, minimum)
            result[.close] = aggregate(close, lastPresent)
            if let adjusted = fields[.adjustedClose] { result[.adjustedClose] = aggregate(adjusted, lastPresent) }
            if let volume = fields[.volume] { result[.volume] = aggregate(volume, total) }
        }
        var availability = AvailabilityMask(timeCount: buckets.count, assetCount: n, repeating: false)
        for (b, bucket) in buckets.enumerated() {
            for a in 0..<n { availability[b, a] = mask[bucket.upperBound - 1, a] }
        }
        return PricePanel(unchecked: TimeIndex(uncheckedDates: labels), assets: assets, assetClasses: assetClasses,
                          kind: kind, fields: result, mask: availability)
    }

    /// An integer identifying the period of `date` at `frequency`.
    static func periodKey(_ date: MarketDate, _ frequency: Frequency) -> Int {
        switch frequency {
        case .weekly: return date.daysSinceEpoch - date.weekday.rawValue   // the Monday starting the week
        case .monthly: return date.year * 12 + date.month - 1
        case .quarterly: return date.year * 4 + (date.month - 1) / 3
        case .annual: return date.year
        default: return date.daysSinceEpoch
        }
    }

    /// The calendar end of the period containing `date`.
    static func periodEnd(_ date: MarketDate, _ frequency: Frequency) -> MarketDate {
        let (year, month, _) = date.components
        switch frequency {
        case .weekly: return date.adding(days: 6 - date.weekday.rawValue)
        case .monthly: return date.endOfMonth
        case .quarterly:
            let lastMonth = ((month - 1) / 3) * 3 + 3
            return MarketDate(validYear: year, month: lastMonth, day: MarketDate.daysIn(year: year, month: lastMonth))!
        case .annual: return MarketDate(validYear: year, month: 12, day: 31)!
        default: return date
        }
    }
}

extension TimeIndex {
    /// Each date moved to the calendar end of its period (for example 1926-07-01 → 1926-07-31 for
    /// ``Frequency/monthly``), so that a value known only at the end of a period is not used before it.
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` for a period index;
    ///   ``MarketError/duplicateIndexDate(position:date:)`` when two dates share a period.
    public func movedToPeriodEnds(_ frequency: Frequency) throws -> TimeIndex {
        guard let dates else { throw MarketError.indexKindMismatch(operation: "TimeIndex.movedToPeriodEnds") }
        return try TimeIndex(dates: dates.map { PricePanel.periodEnd($0, frequency) })
    }
}
