import RealModule

/// A column-wise scaler fitted on training data only, then applied to any data (no leakage).
///
/// Rows are periods, columns features (`[[Double]]`, row-major, oldest first).
public protocol FittedScaler: Sendable {
    /// Number of columns the scaler was fitted on.
    var columns: Int { get }
    /// Per-column location subtracted first.
    var location: [Double] { get }
    /// Per-column scale divided by next (never 0: a constant training column gets scale 1,
    /// scikit-learn's convention).
    var scale: [Double] { get }
}

extension FittedScaler {
    /// `(x − location)/scale` per column. O(rows·columns).
    ///
    /// - Throws: ``SignalsError/columnMismatch(operation:fitted:found:)`` for a row of the wrong width,
    ///   ``SignalsError/nonFinite(operation:position:)`` (position = row) for a non-finite entry.
    public func transform(_ rows: [[Double]]) throws -> [[Double]] {
        try rows.enumerated().map { t, row in
            guard row.count == columns else { throw SignalsError.columnMismatch(operation: "Scaler.transform", fitted: columns, found: row.count) }
            guard row.allSatisfy(\.isFinite) else { throw SignalsError.nonFinite(operation: "Scaler.transform", position: t) }
            return (0..<columns).map { (row[$0] - location[$0]) / scale[$0] }
        }
    }

    /// `x·scale + location` per column (the inverse of ``transform(_:)``).
    ///
    /// - Throws: as ``transform(_:)``.
    public func inverseTransform(_ rows: [[Double]]) throws -> [[Double]] {
        try rows.map { row in
            guard row.count == columns else { throw SignalsError.columnMismatch(operation: "Scaler.inverseTransform", fitted: columns, found: row.count) }
            return (0..<columns).map { row[$0] * scale[$0] + location[$0] }
        }
    }
}

/// Checks a training matrix and returns its columns.
func trainingColumns(_ rows: [[Double]], _ operation: String) throws -> [[Double]] {
    guard let width = rows.first?.count, width > 0 else { throw SignalsError.emptySeries(operation: operation) }
    for (t, row) in rows.enumerated() {
        guard row.count == width else { throw SignalsError.columnMismatch(operation: operation, fitted: width, found: row.count) }
        guard row.allSatisfy(\.isFinite) else { throw SignalsError.nonFinite(operation: operation, position: t) }
    }
    return (0..<width).map { j in rows.map { $0[j] } }
}

/// Standardization `(x − mean)/sd` with the training mean and population standard deviation
/// (ddof 0, scikit-learn `StandardScaler`).
public struct StandardScaler: FittedScaler, Hashable {
    /// Number of fitted columns.
    public let columns: Int
    /// Training means.
    public let location: [Double]
    /// Training standard deviations (1 for a constant column).
    public let scale: [Double]

    /// Fits on `training` (rows × columns). O(rows·columns).
    ///
    /// - Throws: ``SignalsError/emptySeries(operation:)``, ``SignalsError/columnMismatch(operation:fitted:found:)``
    ///   for ragged rows, ``SignalsError/nonFinite(operation:position:)``.
    public init(fitting training: [[Double]]) throws {
        let cols = try trainingColumns(training, "StandardScaler.fit")
        columns = cols.count
        location = cols.map { $0.reduce(0, +) / Double($0.count) }
        scale = cols.map { let s = standardDeviation($0, ddof: 0); return s > 0 ? s : 1 }
    }
}

/// Min–max scaling to `[0, 1]` on the training range (scikit-learn `MinMaxScaler`); values outside the
/// training range map outside `[0, 1]` (no clipping, so nothing about test data leaks into the fit).
public struct MinMaxScaler: FittedScaler, Hashable {
    /// Number of fitted columns.
    public let columns: Int
    /// Training minima.
    public let location: [Double]
    /// Training ranges `max − min` (1 for a constant column).
    public let scale: [Double]

    /// Fits on `training`. O(rows·columns).
    ///
    /// - Throws: as ``StandardScaler/init(fitting:)``.
    public init(fitting training: [[Double]]) throws {
        let cols = try trainingColumns(training, "MinMaxScaler.fit")
        columns = cols.count
        location = cols.map { $0.min()! }
        scale = cols.map { let r = $0.max()! - $0.min()!; return r > 0 ? r : 1 }
    }
}

/// Robust scaling `(x − median)/IQR` with the training median and interquartile range `Q₇₅ − Q₂₅`
/// (quantiles by linear interpolation, NumPy's default; scikit-learn `RobustScaler`).
public struct RobustScaler: FittedScaler, Hashable {
    /// Number of fitted columns.
    public let columns: Int
    /// Training medians.
    public let location: [Double]
    /// Training interquartile ranges (1 for a zero IQR).
    public let scale: [Double]

    /// Fits on `training`. O(rows·log rows·columns).
    ///
    /// - Throws: as ``StandardScaler/init(fitting:)``.
    public init(fitting training: [[Double]]) throws {
        let cols = try trainingColumns(training, "RobustScaler.fit")
        columns = cols.count
        location = cols.map { quantile($0, 0.5) }
        scale = cols.map { let r = quantile($0, 0.75) - quantile($0, 0.25); return r > 0 ? r : 1 }
    }
}

/// The `q`-quantile by linear interpolation between order statistics (NumPy `method="linear"`).
func quantile(_ values: [Double], _ q: Double) -> Double {
    let sorted = values.sorted()
    let position = q * Double(sorted.count - 1)
    let lower = Int(position.rounded(.down)), upper = Swift.min(lower + 1, sorted.count - 1)
    return sorted[lower] + (position - Double(lower)) * (sorted[upper] - sorted[lower])
}

/// Causal, leakage-free normalizations of a single series.
public enum CausalNormalization {
    /// Expanding z-score: `(Xₜ − mean(X₀…Xₜ))/sd(X₀…Xₜ)` with the sample sd (ddof 1); 0 when the
    /// history is constant. Warm-up `minimumPeriods − 1` NaN (pandas `expanding(min_periods)`). O(N)
    /// by Welford's update.
    ///
    /// - Throws: ``SignalsError`` for an empty or non-finite series or `minimumPeriods < 2`.
    public static func expandingZScore(_ x: [Double], minimumPeriods: Int = 2) throws -> [Double] {
        try validateSeries(x, "CausalNormalization.expandingZScore")
        try validateWindow(minimumPeriods, "CausalNormalization.expandingZScore", name: "minimumPeriods", minimum: 2)
        var out = [Double](repeating: .nan, count: x.count)
        var mean = 0.0, m2 = 0.0
        for (t, v) in x.enumerated() {
            let count = Double(t + 1)
            let delta = v - mean
            mean += delta / count
            m2 += delta * (v - mean)
            if t + 1 >= minimumPeriods {
                let sd = (m2 / (count - 1)).squareRoot()
                out[t] = sd > 0 ? (v - mean) / sd : 0
            }
        }
        return out
    }

    /// Rolling z-score over the last `window` values (see ``Indicators/rollingZScore(_:window:)``).
    ///
    /// - Throws: as ``Indicators/rollingZScore(_:window:)``.
    public static func rollingZScore(_ x: [Double], window: Int) throws -> [Double] {
        try Indicators.rollingZScore(x, window: window)
    }

    /// Rolling min–max scaling `(Xₜ − min)/(max − min)` over the last `window` values, in `[0, 1]`;
    /// 0.5 when the window is constant. Warm-up `window − 1` NaN. O(N·window).
    ///
    /// - Throws: as ``Indicators/sma(_:window:)``.
    public static func rollingMinMax(_ x: [Double], window: Int) throws -> [Double] {
        try validateSeries(x, "CausalNormalization.rollingMinMax")
        try validateWindow(window, "CausalNormalization.rollingMinMax")
        return Indicators.rolling(x, window) { w in
            let lo = w.min()!, hi = w.max()!
            return hi > lo ? (w.last! - lo) / (hi - lo) : 0.5
        }
    }
}
