import Linalg
import Market

/// How the first period of an OLPS dataset is treated.
///
/// The classic OLPS files (Li & Hoi) hold cumulative prices whose first row is already the first
/// day's price relative (the price on an implicit day 0 is 1); ``Dataset/load()`` prepends that
/// day-0 row of ones.
public enum OLPSDayZero: String, Sendable, Hashable, CaseIterable, Codable {
    /// All `T` relatives, the first being the file's first row: the OLPS toolbox and the survey
    /// (Li & Hoi 2014) convention.
    case fullHistory = "full-history"
    /// universal-portfolios' convention: it computes relatives from the file's rows
    /// (`S / S.shift(1)`) and sets its first row to ones, so the first day's relative is lost
    /// and period 0 is a day on which nothing moves. The matrix keeps `T` rows; row 0 is ones.
    case firstDayDropped = "first-day-dropped"
}

/// A `T × m` matrix of price relatives `x_{t,i} = p_{t,i} / p_{t−1,i}` (row-major, flat), the
/// input of every online portfolio selection algorithm.
///
/// Every entry is finite and strictly positive (checked on construction).
public struct PriceRelatives: Sendable, Hashable {
    /// Number of periods `T` (rows).
    public let periodCount: Int
    /// Number of assets `m` (columns).
    public let assetCount: Int
    /// Asset names, one per column.
    public let assets: [String]
    /// The relatives, row-major: period `t`, asset `i` at `values[t * assetCount + i]`.
    public let values: [Double]

    /// Relatives from a flat row-major array.
    ///
    /// - Throws: ``OLPSError/empty(what:)``, ``OLPSError/shapeMismatch(expected:found:)``,
    ///   ``OLPSError/invalidRelative(period:asset:value:)`` naming the first bad entry.
    public init(values: [Double], periodCount: Int, assets: [String]) throws {
        guard periodCount > 0 else { throw OLPSError.empty(what: "no periods") }
        guard !assets.isEmpty else { throw OLPSError.empty(what: "no assets") }
        guard values.count == periodCount * assets.count else {
            throw OLPSError.shapeMismatch(expected: "\(periodCount) × \(assets.count) = \(periodCount * assets.count) values",
                                          found: "\(values.count) values")
        }
        let m = assets.count
        for (k, v) in values.enumerated() where !(v.isFinite && v > 0) {
            throw OLPSError.invalidRelative(period: k / m, asset: assets[k % m], value: v)
        }
        self.periodCount = periodCount
        self.assets = assets
        self.assetCount = m
        self.values = values
    }

    /// Relatives from a `T × m` matrix; assets are named `S01`, `S02`, … unless given.
    ///
    /// - Throws: as ``init(values:periodCount:assets:)``.
    public init(_ matrix: Matrix, assets: [String]? = nil) throws {
        let names = assets ?? (1...max(matrix.columns, 1)).map { $0 < 10 ? "S0\($0)" : "S\($0)" }
        guard names.count == matrix.columns else {
            throw OLPSError.shapeMismatch(expected: "\(matrix.columns) asset names", found: "\(names.count)")
        }
        try self.init(values: matrix.elements, periodCount: matrix.rows, assets: names)
    }

    /// The relatives `p_t / p_{t−1}` of the close prices of a panel (`T + 1` price rows give `T`
    /// relatives). OLPS needs every asset priced at every row.
    ///
    /// - Throws: ``OLPSError/invalidPrice(row:asset:value:)`` for a missing, non-finite or
    ///   non-positive price; ``OLPSError/empty(what:)`` with fewer than two rows.
    public init(prices panel: PricePanel) throws {
        let close = panel.close, m = panel.assetCount, rows = panel.timeCount
        guard rows >= 2 else { throw OLPSError.empty(what: "\(rows) price row(s); relatives need at least two") }
        let p = close.elements, available = panel.mask.cells
        for (k, v) in p.enumerated() where !(v.isFinite && v > 0) || !available[k] {
            throw OLPSError.invalidPrice(row: k / m, asset: panel.assets[k % m], value: v)
        }
        var x = [Double](repeating: 0, count: (rows - 1) * m)
        for k in 0..<x.count { x[k] = p[k + m] / p[k] }
        try self.init(values: x, periodCount: rows - 1, assets: panel.assets)
    }

    /// The relatives of an embedded OLPS dataset under a day-0 convention.
    ///
    /// With ``OLPSDayZero/fullHistory`` the result has as many periods as the file has rows
    /// (5651 for NYSE (O)); with ``OLPSDayZero/firstDayDropped`` it has the same count with
    /// period 0 set to ones.
    ///
    /// - Throws: ``OLPSError/invalidParameter(algorithm:name:value:requirement:)`` for a dataset
    ///   that is not an OLPS set; loading errors from `Market`.
    public init(dataset: Dataset, dayZero: OLPSDayZero = .fullHistory) throws {
        guard dataset.rawValue.hasPrefix("olps-") else {
            throw OLPSError.invalidParameter(algorithm: "PriceRelatives", name: "dataset \(dataset.rawValue)", value: .nan,
                                             requirement: "one of the six olps-* datasets")
        }
        let full = try PriceRelatives(prices: dataset.load())
        self = dayZero == .fullHistory ? full : full.droppingFirstDay()
    }

    /// The same matrix with period 0 replaced by ones (universal-portfolios' first-day convention).
    public func droppingFirstDay() -> PriceRelatives {
        var copy = values
        for i in 0..<assetCount { copy[i] = 1 }
        // Ones are valid relatives, so the checked initializer cannot fail here.
        return PriceRelatives(unchecked: copy, periodCount: periodCount, assets: assets)
    }

    /// The first `count` periods.
    public func prefix(_ count: Int) -> PriceRelatives {
        let n = min(max(count, 1), periodCount)
        return PriceRelatives(unchecked: Array(values[0..<(n * assetCount)]), periodCount: n, assets: assets)
    }

    /// The relative of `asset` in `period`.
    public subscript(period: Int, asset: Int) -> Double { values[period * assetCount + asset] }

    /// Final wealth of each asset bought and held, `Π_t x_{t,i}`.
    public var assetWealth: [Double] {
        var w = [Double](repeating: 1, count: assetCount)
        for t in 0..<periodCount { for i in 0..<assetCount { w[i] *= values[t * assetCount + i] } }
        return w
    }

    init(unchecked values: [Double], periodCount: Int, assets: [String]) {
        self.values = values
        self.periodCount = periodCount
        self.assets = assets
        self.assetCount = assets.count
    }
}

/// The relatives observed before the period being decided: rows `0..<count` of a
/// ``PriceRelatives`` matrix. Reading row `count` or later is a programmer error and traps, so
/// an online algorithm cannot see a relative it would not have had.
public struct ObservedRelatives {
    /// The underlying flat storage (all periods).
    @usableFromInline let base: UnsafeBufferPointer<Double>
    /// Number of observed periods.
    public let count: Int
    /// Number of assets.
    public let assetCount: Int

    @usableFromInline init(base: UnsafeBufferPointer<Double>, count: Int, assetCount: Int) {
        self.base = base
        self.count = count
        self.assetCount = assetCount
    }

    /// Relative of `asset` in observed period `period` (`0 ≤ period < count`).
    @inlinable public subscript(period: Int, asset: Int) -> Double {
        precondition(period >= 0 && period < count, "ObservedRelatives: period \(period) not observed (count \(count))")
        return base[period * assetCount + asset]
    }

    /// The observed rows `range` as one contiguous row-major buffer (no copy).
    @inlinable public func rows(_ range: Range<Int>) -> UnsafeBufferPointer<Double> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "ObservedRelatives: rows \(range) not observed (count \(count))")
        return UnsafeBufferPointer(rebasing: base[(range.lowerBound * assetCount)..<(range.upperBound * assetCount)])
    }

    /// Observed row `period` (no copy).
    @inlinable public func row(_ period: Int) -> UnsafeBufferPointer<Double> { rows(period..<(period + 1)) }

    /// The most recent observed row; requires `count > 0`.
    @inlinable public var last: UnsafeBufferPointer<Double> { row(count - 1) }
}
