/// The portfolio-vector memory (PVM) of Jiang, Xu & Liang (2017, §5.3): the portfolio the policy
/// chose at every period, so a mini-batch of any periods can feed the network its previous weights
/// `wₜ₋₁` without running the policy over the whole history first.
///
/// One row per period `t` (a bar of the price panel), `1 + m` weights with **cash first** (the
/// networks' convention, see ``CashPosition``). Rows start uniform, `1/(m+1)` each, as in the
/// paper; training overwrites row `t` with the batch's output `wₜ`, and the memory grows by one
/// uniform row per new period during online learning. Codable: decoding checks every row, so a
/// damaged file throws instead of loading half a memory.
public struct PortfolioVectorMemory: Sendable, Hashable, Codable {
    /// Risky assets `m` (rows have `m + 1` entries).
    public let assetCount: Int
    /// Row-major weights, `periodCount × (assetCount + 1)`.
    public private(set) var storage: [Double]

    /// Entries per row, `m + 1`.
    public var rowWidth: Int { assetCount + 1 }
    /// Periods held.
    public var periodCount: Int { storage.count / rowWidth }

    /// A memory of `periods` uniform rows over cash and `assetCount` assets.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for fewer than one
    ///   asset or a negative period count.
    public init(assetCount: Int, periods: Int) throws {
        try require(assetCount >= 1, "PortfolioVectorMemory", "assetCount", "\(assetCount) must be at least 1")
        try require(periods >= 0, "PortfolioVectorMemory", "periods", "\(periods) must not be negative")
        self.assetCount = assetCount
        storage = [Double](repeating: 1 / Double(assetCount + 1), count: periods * (assetCount + 1))
    }

    /// Row `period`: `[cash, a₁ … aₘ]`.
    /// - Precondition: `0 ≤ period < periodCount` (an index, as with arrays).
    public subscript(period: Int) -> ArraySlice<Double> {
        precondition(period >= 0 && period < periodCount, "PortfolioVectorMemory: period \(period) is outside 0..<\(periodCount)")
        return storage[(period * rowWidth)..<((period + 1) * rowWidth)]
    }

    /// The asset weights of row `period`, without cash (the network's previous-weight input).
    public func assetWeights(at period: Int) -> ArraySlice<Double> { self[period].dropFirst() }

    /// Appends `count` uniform rows (new periods of online learning).
    public mutating func grow(by count: Int) {
        guard count > 0 else { return }
        storage += [Double](repeating: 1 / Double(rowWidth), count: count * rowWidth)
    }

    /// Overwrites row `period` with `weights` (`[cash, a₁ … aₘ]`).
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a period outside
    ///   the memory, a row of the wrong length, a negative or non-finite weight, or a sum farther than
    ///   `1e-6` from one.
    public mutating func write<C: Collection>(_ weights: C, at period: Int) throws where C.Element == Double {
        try Self.check(weights, period: period, width: rowWidth, periods: periodCount)
        storage.replaceSubrange((period * rowWidth)..<((period + 1) * rowWidth), with: weights)
    }

    /// Writes consecutive rows from a row-major block of `rows × (m + 1)` values starting at `period`,
    /// in one pass (the output of a training batch).
    ///
    /// - Throws: as ``write(_:at:)`` for the first bad row; nothing is written then.
    public mutating func write(block values: [Double], startingAt period: Int) throws {
        let width = rowWidth
        try require(values.count % width == 0, "PortfolioVectorMemory", "block",
                    "has \(values.count) values, not a multiple of the row width \(width)")
        let rows = values.count / width
        for r in 0..<rows {
            try Self.check(values[(r * width)..<((r + 1) * width)], period: period + r, width: width, periods: periodCount)
        }
        storage.replaceSubrange((period * width)..<((period + rows) * width), with: values)
    }

    private static func check<C: Collection>(_ weights: C, period: Int, width: Int, periods: Int) throws where C.Element == Double {
        let component = "PortfolioVectorMemory"
        try require(period >= 0 && period < periods, component, "period", "\(period) is outside 0..<\(periods)")
        try require(weights.count == width, component, "weights", "at period \(period) have \(weights.count) entries, not \(width)")
        var sum = 0.0
        for (i, w) in weights.enumerated() {
            try require(w.isFinite && w >= 0, component, "weights", "at period \(period), entry \(i) is \(w); weights must be finite and ≥ 0")
            sum += w
        }
        try require(Swift.abs(sum - 1) <= 1e-6, component, "weights", "at period \(period) sum to \(sum), not 1")
    }

    private enum CodingKeys: String, CodingKey { case assetCount, weights }

    /// Decodes `{"assetCount": m, "weights": [[…], …]}` and checks every row as ``write(_:at:)`` does.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let count = try container.decode(Int.self, forKey: .assetCount)
        let rows = try container.decode([[Double]].self, forKey: .weights)
        var memory = try PortfolioVectorMemory(assetCount: count, periods: rows.count)
        for (t, row) in rows.enumerated() { try memory.write(row, at: t) }
        self = memory
    }

    /// Encodes the asset count and the rows as nested arrays.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(assetCount, forKey: .assetCount)
        try container.encode((0..<periodCount).map { Array(self[$0]) }, forKey: .weights)
    }
}
