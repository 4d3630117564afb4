import Linalg
import RealModule

/// Period-over-period changes of a price panel.
///
/// Row `t` (0-based) is the change from price row `t` to price row `t + 1` of the
/// source panel and carries the label of row `t + 1` (the end of the period), so a
/// return panel has one row fewer than its prices. A return is `NaN` where either
/// endpoint is missing (pandas `pct_change(fill_method=None)` with its leading
/// all-NaN row dropped); ``mask`` is `true` where the asset was available at both ends.
public struct ReturnPanel: Sendable {
    /// How a change is measured.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Simple return `pₜ / pₜ₋₁ − 1`.
        case simple
        /// Log return `log(pₜ / pₜ₋₁)`.
        case log
        /// Price relative `pₜ / pₜ₋₁` (the `x` vector of online portfolio selection).
        case relative
    }

    /// The measure of change.
    public let kind: Kind
    /// Period-end labels, one per row.
    public let index: TimeIndex
    /// Asset names.
    public let assets: [String]
    /// Asset classes, one per asset.
    public let assetClasses: [AssetClass]
    /// The changes, `index.count × assets.count`.
    public let values: Matrix
    /// `true` where the asset was available at both ends of the period.
    public let mask: AvailabilityMask

    /// Number of periods (rows).
    public var timeCount: Int { index.count }
    /// Number of assets (columns).
    public var assetCount: Int { assets.count }
}

extension PricePanel {
    /// Changes of `field` measured as `kind`; see ``ReturnPanel``.
    ///
    /// - Throws: ``MarketError/notPrices(operation:)`` for a series panel;
    ///   ``MarketError/missingField(operation:field:)`` when the field is absent.
    ///   Complexity: O(timeCount × assetCount).
    public func returns(_ kind: ReturnPanel.Kind, field: PriceField = .close) throws -> ReturnPanel {
        guard self.kind == .prices else { throw MarketError.notPrices(operation: "PricePanel.returns") }
        guard field != .volume else {
            throw MarketError.invalidArgument(operation: "PricePanel.returns", message: "volume is not a price")
        }
        guard let prices = fields[field] else { throw MarketError.missingField(operation: "PricePanel.returns", field: field) }
        let n = assetCount, periods = Swift.max(0, timeCount - 1)
        var values = Matrix(rows: periods, columns: n)
        var availability = AvailabilityMask(timeCount: periods, assetCount: n, repeating: false)
        prices.withUnsafeBufferPointer { p in
            values.withUnsafeMutableBufferPointer { r in
                for t in 0..<periods {
                    for a in 0..<n {
                        let ratio = p[(t + 1) * n + a] / p[t * n + a]   // NaN when either is NaN
                        switch kind {
                        case .simple: r[t * n + a] = ratio - 1
                        case .log: r[t * n + a] = Double.log(ratio)
                        case .relative: r[t * n + a] = ratio
                        }
                        availability.storage[t * n + a] = mask.storage[t * n + a] && mask.storage[(t + 1) * n + a]
                    }
                }
            }
        }
        let labels = periods > 0 ? index[1..<timeCount] : index[0..<0]
        return ReturnPanel(kind: kind, index: labels, assets: assets, assetClasses: assetClasses, values: values, mask: availability)
    }

    /// Simple returns `pₜ / pₜ₋₁ − 1` of `field`; see ``returns(_:field:)``.
    public func simpleReturns(field: PriceField = .close) throws -> ReturnPanel { try returns(.simple, field: field) }
    /// Log returns `log(pₜ / pₜ₋₁)` of `field`; see ``returns(_:field:)``.
    public func logReturns(field: PriceField = .close) throws -> ReturnPanel { try returns(.log, field: field) }
    /// Price relatives `pₜ / pₜ₋₁` of `field`; see ``returns(_:field:)``.
    public func priceRelatives(field: PriceField = .close) throws -> ReturnPanel { try returns(.relative, field: field) }
}
