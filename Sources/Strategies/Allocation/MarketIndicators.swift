import Foundation
import Linalg
import Market

/// Market-wide indicators on the calendar of a universe, each row using only data dated on or before
/// the row's label: the inputs of the regime layer.
///
/// Columns (``names``):
/// - `SP500`: the S&P 500 level at the last trading day on or before the label;
/// - `SP500-RV`: the annualized realized volatility of its daily log returns since the previous label
///   (`√252 · std`), a high-frequency series aggregated without look-ahead;
/// - `VIX`: the last VIX close within the period (skipping its missing days), `NaN` where the index
///   has no value (the embedded VIX covers 2014–2018 only);
/// - `AAA`, `BAA`: Moody's seasoned corporate yields in percent, labelled at month ends;
/// - `RF`: the Fama–French one-month rate in percent per month, carried forward past its last month.
///
/// Monthly yields are monthly averages published after the month; treating them as known at the
/// month end is the usual convention of monthly studies and is stated here rather than hidden.
public struct MarketIndicators: Sendable {
    /// Column names, in order.
    public static let names = ["SP500", "SP500-RV", "VIX", "AAA", "BAA", "RF"]

    /// The calendar: one row per label.
    public let index: TimeIndex
    /// `index.count × names.count` values (`NaN` where a series has none yet).
    public let values: Matrix

    /// Indicators given directly (tests, other data).
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` when `values` is not
    ///   `index.count × 6`.
    public init(index: TimeIndex, values: Matrix) throws {
        guard values.rows == index.count, values.columns == Self.names.count else {
            throw StrategiesError.invalidData(component: "MarketIndicators",
                                              message: "values are \(values.rows) × \(values.columns); expected \(index.count) × \(Self.names.count)")
        }
        self.index = index
        self.values = values
    }

    /// The indicators of the embedded datasets (`sp500-index`, `vix`, `corporate-yields`,
    /// `fama-french`) on `index`, which must be dated.
    ///
    /// - Throws: ``StrategiesError/invalidData(component:message:)`` for an undated index, and dataset
    ///   loading errors (none for an intact bundle).
    public static func embedded(alignedTo index: TimeIndex) throws -> MarketIndicators {
        guard let labels = index.dates else {
            throw StrategiesError.invalidData(component: "MarketIndicators", message: "the calendar must be dated")
        }
        let sp500 = try Dataset.sp500Index.load()
        let vix = try Dataset.vix.load()
        let yields = try Dataset.corporateYields.load()
        let factors = try Dataset.famaFrench.load()
        var values = Matrix(rows: labels.count, columns: names.count, repeating: .nan)
        let spDates = sp500.index.dates ?? [], spClose = try sp500.series("SP500")
        let vixDates = vix.index.dates ?? [], vixClose = try vix.series("VIX")
        let yieldDates = yields.index.dates ?? []
        let aaa = try yields.series("AAA"), baa = try yields.series("BAA")
        let rfDates = factors.index.dates ?? [], rf = try factors.series("RF")
        for (row, label) in labels.enumerated() {
            let previous = row > 0 ? labels[row - 1] : nil
            if let last = lastPosition(in: spDates, onOrBefore: label) {
                values[row, 0] = spClose[last]
                let first = previous.flatMap { lastPosition(in: spDates, onOrBefore: $0) }.map { $0 + 1 } ?? Swift.max(last - 20, 0)
                values[row, 1] = annualizedDailyVolatility(spClose, through: last, from: first)
            }
            if var last = lastPosition(in: vixDates, onOrBefore: label) {
                // The last close of the period that is not one of the index's missing days.
                while last > 0, !vixClose[last].isFinite { last -= 1 }
                if vixClose[last].isFinite, previous.map({ vixDates[last] > $0 }) ?? true { values[row, 2] = vixClose[last] }
            }
            if let last = lastPosition(in: yieldDates, onOrBefore: label) {
                values[row, 3] = aaa[last]
                values[row, 4] = baa[last]
            }
            if let last = lastPosition(in: rfDates, onOrBefore: label) { values[row, 5] = rf[last] }
        }
        return try MarketIndicators(index: index, values: values)
    }

    /// The column `name` (one of ``names``).
    public func column(_ name: String) -> [Double]? {
        Self.names.firstIndex(of: name).map { values.column($0) }
    }
}

/// The last position of `dates` (ascending) at or before `date`, or `nil`.
func lastPosition(in dates: [MarketDate], onOrBefore date: MarketDate) -> Int? {
    var low = 0, high = dates.count
    while low < high {
        let middle = (low + high) / 2
        if dates[middle] <= date { low = middle + 1 } else { high = middle }
    }
    return low > 0 ? low - 1 : nil
}

/// `√252 ·` the sample standard deviation of the daily log returns ending at positions `first…last`
/// (each from the day before); `NaN` with fewer than two returns.
private func annualizedDailyVolatility(_ close: [Double], through last: Int, from first: Int) -> Double {
    let start = Swift.max(first, 1)
    guard last - start + 1 >= 2 else { return .nan }
    let returns = (start...last).map { Foundation.log(close[$0] / close[$0 - 1]) }
    let mean = returns.reduce(0, +) / Double(returns.count)
    let variance = returns.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(returns.count - 1)
    return (variance * 252).squareRoot()
}
