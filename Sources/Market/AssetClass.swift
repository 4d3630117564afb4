/// The asset class of one panel column, used for hierarchical allocation and group constraints.
///
/// An open set of string labels: the common classes are provided as constants and
/// callers may add their own (`AssetClass(rawValue: "real-estate")`).
public struct AssetClass: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    /// The label, for example `"equity"`.
    public let rawValue: String

    /// A class labelled `rawValue`.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Single stocks.
    public static let equity = AssetClass(rawValue: "equity")
    /// Exchange-traded funds.
    public static let etf = AssetClass(rawValue: "etf")
    /// Bonds and bond total-return indices.
    public static let bond = AssetClass(rawValue: "bond")
    /// Options, futures and overlay strategies built from them.
    public static let derivative = AssetClass(rawValue: "derivative")
    /// Commodities (for example WTI crude oil).
    public static let commodity = AssetClass(rawValue: "commodity")
    /// Market indices (not directly tradable; tracked by ETFs and futures).
    public static let index = AssetClass(rawValue: "index")
    /// Volatility indices such as VIX.
    public static let volatility = AssetClass(rawValue: "volatility")
    /// Interest rates and yields (a series, not a price).
    public static let rate = AssetClass(rawValue: "rate")
    /// Factor returns such as Fama–French (a series, not a price).
    public static let factor = AssetClass(rawValue: "factor")
    /// Crypto-currencies (for example BTC quoted in USD).
    public static let crypto = AssetClass(rawValue: "crypto")
    /// Cash and money-market instruments.
    public static let cash = AssetClass(rawValue: "cash")
    /// No class assigned.
    public static let unclassified = AssetClass(rawValue: "unclassified")

    /// The label.
    public var description: String { rawValue }
}

/// The fields a ``PricePanel`` can carry, one `time × assets` matrix each.
public enum PriceField: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Opening price.
    case open
    /// Highest price of the period.
    case high
    /// Lowest price of the period.
    case low
    /// Closing price (always present; the value of a general series panel).
    case close
    /// Close adjusted for dividends and splits.
    case adjustedClose
    /// Traded volume (non-negative, not a price).
    case volume

    /// The field name.
    public var description: String { rawValue }

    /// `true` for the price fields (all but ``volume``).
    public var isPrice: Bool { self != .volume }
}

/// A `time × assets` grid of booleans: `true` where the asset can be traded.
///
/// A cell is `false` before an asset is listed (see
/// ``PricePanel/flatFilledBeforeListing()``), after it is delisted and wherever
/// no price is known. Strategies must give zero weight to unavailable cells.
public struct AvailabilityMask: Sendable, Hashable {
    /// Number of time steps (rows).
    public let timeCount: Int
    /// Number of assets (columns).
    public let assetCount: Int
    /// Row-major storage, `storage[t * assetCount + a]`.
    var storage: [Bool]

    /// A mask of the given shape with every cell equal to `value`.
    public init(timeCount: Int, assetCount: Int, repeating value: Bool) {
        precondition(timeCount >= 0 && assetCount >= 0, "AvailabilityMask: negative shape \(timeCount)×\(assetCount)")
        self.timeCount = timeCount
        self.assetCount = assetCount
        self.storage = Array(repeating: value, count: timeCount * assetCount)
    }

    /// A mask from row-major `cells`.
    ///
    /// - Throws: ``MarketError/shapeMismatch(what:expected:found:)`` when `cells.count != timeCount * assetCount`.
    public init(timeCount: Int, assetCount: Int, cells: [Bool]) throws {
        guard timeCount >= 0, assetCount >= 0, cells.count == timeCount * assetCount else {
            throw MarketError.shapeMismatch(what: "AvailabilityMask", expected: "\(timeCount * assetCount) cells", found: "\(cells.count)")
        }
        self.timeCount = timeCount
        self.assetCount = assetCount
        self.storage = cells
    }

    /// The cells in row-major order.
    public var cells: [Bool] { storage }

    /// Whether asset `asset` is available at time step `time` (both 0-based).
    public subscript(time: Int, asset: Int) -> Bool {
        get {
            precondition(time >= 0 && time < timeCount && asset >= 0 && asset < assetCount,
                         "AvailabilityMask index (\(time), \(asset)) out of range for \(timeCount)×\(assetCount)")
            return storage[time * assetCount + asset]
        }
        set {
            precondition(time >= 0 && time < timeCount && asset >= 0 && asset < assetCount,
                         "AvailabilityMask index (\(time), \(asset)) out of range for \(timeCount)×\(assetCount)")
            storage[time * assetCount + asset] = newValue
        }
    }

    /// The first time step at which `asset` is available, or `nil` if never.
    public func firstAvailable(asset: Int) -> Int? {
        (0..<timeCount).first { storage[$0 * assetCount + asset] }
    }

    /// The number of available cells.
    public var availableCount: Int { storage.reduce(0) { $0 + ($1 ? 1 : 0) } }

    /// The rows in `range` as a new mask.
    func rows(_ range: Range<Int>) -> AvailabilityMask {
        var result = AvailabilityMask(timeCount: range.count, assetCount: assetCount, repeating: false)
        result.storage = Array(storage[range.lowerBound * assetCount ..< range.upperBound * assetCount])
        return result
    }

    /// The columns `columns` (in that order) as a new mask.
    func columns(_ columns: [Int]) -> AvailabilityMask {
        var result = AvailabilityMask(timeCount: timeCount, assetCount: columns.count, repeating: false)
        for t in 0..<timeCount {
            for (k, a) in columns.enumerated() { result.storage[t * columns.count + k] = storage[t * assetCount + a] }
        }
        return result
    }
}
