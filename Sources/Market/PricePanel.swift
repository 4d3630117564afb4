import Linalg

/// A panel of market data: assets × time, with a close and optional open, high,
/// low, adjusted-close and volume fields, an asset-class label per asset and an
/// availability mask.
///
/// ## Layout
/// Each field is a ``Linalg/Matrix`` of shape `timeCount × assetCount`: row `t` is
/// the cross-section at ``index`` label `t`, column `a` is the history of
/// ``assets``[`a`]. This is the observations-by-variables layout that
/// `Linalg`'s covariance expects and the layout of a pandas DataFrame with dates
/// as index and assets as columns, so one date's prices are contiguous.
///
/// ## Missing values and availability
/// A missing observation is `Double.nan`. ``mask`` is `true` where the asset can
/// be traded; a tradable cell always has a close. Unless a mask is given, a cell
/// is available exactly where its close is present. Fills that invent values
/// (``flatFilledBeforeListing()``) set the mask to `false`, so no strategy can
/// trade an asset before it exists.
///
/// ## Prices and series
/// ``kind`` is ``Kind/prices`` for tradable prices, which must be positive
/// (volume non-negative), and ``Kind/series`` for data that are not prices —
/// yields in percent, factor returns — which may be zero or negative. Returns are
/// defined only for prices.
///
/// `PricePanel` is a value type; all transformations return a new panel.
public struct PricePanel: Sendable {
    /// Whether the values are prices or general series.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// Tradable prices: every present price is positive and finite, volume non-negative.
        case prices
        /// General series (yields, rates, factor returns): any finite value.
        case series
    }

    /// The time axis; `index.count == timeCount`.
    public let index: TimeIndex
    /// Asset names, unique and non-empty, one per column.
    public let assets: [String]
    /// The asset class of each asset.
    public let assetClasses: [AssetClass]
    /// Prices or general series.
    public let kind: Kind
    /// The fields carried, each `timeCount × assetCount`; always contains ``PriceField/close``.
    public let fields: [PriceField: Matrix]
    /// Where each asset can be traded.
    public let mask: AvailabilityMask

    /// Creates a panel, validating shapes and values.
    ///
    /// - Parameters:
    ///   - index: the time axis, one label per row.
    ///   - assets: unique, non-empty names, one per column.
    ///   - fields: the fields carried; must contain ``PriceField/close``. Each matrix is `index.count × assets.count`.
    ///   - kind: prices (checked positive) or general series.
    ///   - assetClasses: one class per asset; `nil` labels every asset ``AssetClass/unclassified``.
    ///   - mask: availability; `nil` makes a cell available exactly where its close is present.
    /// - Throws: ``MarketError/missingField(operation:field:)`` without a close;
    ///   ``MarketError/shapeMismatch(what:expected:found:)`` for a wrongly shaped matrix, class list or mask;
    ///   ``MarketError/invalidAssetName(name:reason:)`` for an empty or repeated name;
    ///   ``MarketError/invalidValue(field:asset:time:value:reason:)`` for a non-positive or
    ///   infinite price, a negative volume or an infinite series value;
    ///   ``MarketError/availableWithoutClose(asset:time:)`` for a mask cell that is `true` where the close is missing.
    ///   Complexity: O(fields × timeCount × assetCount).
    public init(index: TimeIndex, assets: [String], fields: [PriceField: Matrix], kind: Kind = .prices,
                assetClasses: [AssetClass]? = nil, mask: AvailabilityMask? = nil) throws {
        let rows = index.count, columns = assets.count
        guard let close = fields[.close] else { throw MarketError.missingField(operation: "PricePanel.init", field: .close) }
        var seen = Set<String>()
        for name in assets {
            guard !name.isEmpty else { throw MarketError.invalidAssetName(name: name, reason: "empty name") }
            guard seen.insert(name).inserted else { throw MarketError.invalidAssetName(name: name, reason: "appears twice") }
        }
        for field in PriceField.allCases {
            guard let matrix = fields[field] else { continue }
            guard matrix.rows == rows, matrix.columns == columns else {
                throw MarketError.shapeMismatch(what: "PricePanel \(field)", expected: "\(rows)×\(columns)",
                                                found: "\(matrix.rows)×\(matrix.columns)")
            }
            try matrix.withUnsafeBufferPointer { values in
                for k in values.indices {
                    let value = values[k]
                    if value.isNaN { continue }
                    let reason: String?
                    if !value.isFinite {
                        reason = "values must be finite"
                    } else if kind == .prices && field == .volume && value < 0 {
                        reason = "volume must be non-negative"
                    } else if kind == .prices && field.isPrice && value <= 0 {
                        reason = "prices must be positive"
                    } else {
                        reason = nil
                    }
                    if let reason {
                        throw MarketError.invalidValue(field: field, asset: assets[k % columns],
                                                       time: index.label(at: k / columns), value: value, reason: reason)
                    }
                }
            }
        }
        let classes = assetClasses ?? Array(repeating: .unclassified, count: columns)
        guard classes.count == columns else {
            throw MarketError.shapeMismatch(what: "PricePanel assetClasses", expected: "\(columns)", found: "\(classes.count)")
        }
        let availability: AvailabilityMask
        if let mask {
            guard mask.timeCount == rows, mask.assetCount == columns else {
                throw MarketError.shapeMismatch(what: "PricePanel mask", expected: "\(rows)×\(columns)",
                                                found: "\(mask.timeCount)×\(mask.assetCount)")
            }
            for k in mask.storage.indices where mask.storage[k] && close.elements[k].isNaN {
                throw MarketError.availableWithoutClose(asset: assets[k % columns], time: index.label(at: k / columns))
            }
            availability = mask
        } else {
            availability = try AvailabilityMask(timeCount: rows, assetCount: columns, cells: close.elements.map { !$0.isNaN })
        }
        self.index = index
        self.assets = assets
        self.assetClasses = classes
        self.kind = kind
        self.fields = fields
        self.mask = availability
    }

    /// Creates a panel from a close matrix and optional OHLCV fields; see
    /// ``init(index:assets:fields:kind:assetClasses:mask:)`` for the rules and errors.
    public init(index: TimeIndex, assets: [String], close: Matrix, open: Matrix? = nil, high: Matrix? = nil,
                low: Matrix? = nil, adjustedClose: Matrix? = nil, volume: Matrix? = nil, kind: Kind = .prices,
                assetClasses: [AssetClass]? = nil, mask: AvailabilityMask? = nil) throws {
        var fields: [PriceField: Matrix] = [.close: close]
        fields[.open] = open
        fields[.high] = high
        fields[.low] = low
        fields[.adjustedClose] = adjustedClose
        fields[.volume] = volume
        try self.init(index: index, assets: assets, fields: fields, kind: kind, assetClasses: assetClasses, mask: mask)
    }

    /// A panel whose invariants the caller has already established (used by transformations).
    init(unchecked index: TimeIndex, assets: [String], assetClasses: [AssetClass], kind: Kind,
         fields: [PriceField: Matrix], mask: AvailabilityMask) {
        self.index = index
        self.assets = assets
        self.assetClasses = assetClasses
        self.kind = kind
        self.fields = fields
        self.mask = mask
    }

    /// Number of time steps (rows).
    public var timeCount: Int { index.count }
    /// Number of assets (columns).
    public var assetCount: Int { assets.count }
    /// The close matrix, `timeCount × assetCount`.
    public var close: Matrix { fields[.close]! }
    /// The fields carried, in ``PriceField`` order.
    public var fieldNames: [PriceField] { PriceField.allCases.filter { fields[$0] != nil } }

    /// The matrix of `field`, or `nil` when the panel does not carry it.
    public func field(_ field: PriceField) -> Matrix? { fields[field] }

    /// The column of `asset`.
    ///
    /// - Throws: ``MarketError/unknownAsset(name:)``.
    public func position(ofAsset asset: String) throws -> Int {
        guard let position = assets.firstIndex(of: asset) else { throw MarketError.unknownAsset(name: asset) }
        return position
    }

    /// The history of `asset` in `field`, one value per time step.
    ///
    /// - Throws: ``MarketError/unknownAsset(name:)`` or ``MarketError/missingField(operation:field:)``.
    public func series(_ asset: String, field: PriceField = .close) throws -> [Double] {
        let column = try position(ofAsset: asset)
        guard let matrix = fields[field] else { throw MarketError.missingField(operation: "PricePanel.series", field: field) }
        return matrix.column(column)
    }

    /// The panel restricted to `names`, in that order.
    ///
    /// - Throws: ``MarketError/unknownAsset(name:)`` or ``MarketError/invalidAssetName(name:reason:)`` for a repeated name.
    public func selecting(assets names: [String]) throws -> PricePanel {
        let columns = try names.map(position(ofAsset:))
        guard Set(names).count == names.count else {
            throw MarketError.invalidAssetName(name: names.first { n in names.filter { $0 == n }.count > 1 } ?? "", reason: "appears twice")
        }
        let selected = fields.mapValues { matrix in
            Matrix(rows: matrix.rows, columns: columns.count) { t, k in matrix[t, columns[k]] }
        }
        return PricePanel(unchecked: index, assets: names, assetClasses: columns.map { assetClasses[$0] }, kind: kind,
                          fields: selected, mask: mask.columns(columns))
    }

    /// The rows at `positions`.
    ///
    /// - Precondition: `positions` lies within `0..<timeCount`.
    public func slicing(_ positions: Range<Int>) -> PricePanel {
        PricePanel(unchecked: index[positions], assets: assets, assetClasses: assetClasses, kind: kind,
                   fields: fields.mapValues { $0.rows(positions) }, mask: mask.rows(positions))
    }

    /// The rows dated `start...end` (inclusive); for intraday bars, every bar of those days.
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` for a period index.
    public func between(_ start: MarketDate, and end: MarketDate) throws -> PricePanel {
        slicing(try index.positions(from: start, through: end))
    }

    /// The intraday bars stamped `start...end` (inclusive).
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` unless the index holds timestamps.
    public func between(_ start: MarketTimestamp, and end: MarketTimestamp) throws -> PricePanel {
        slicing(try index.positions(from: start, through: end))
    }

    /// The same panel with new asset-class labels.
    ///
    /// - Throws: ``MarketError/shapeMismatch(what:expected:found:)`` when `classes.count != assetCount`.
    public func labelled(_ classes: [AssetClass]) throws -> PricePanel {
        guard classes.count == assetCount else {
            throw MarketError.shapeMismatch(what: "PricePanel.labelled", expected: "\(assetCount)", found: "\(classes.count)")
        }
        return PricePanel(unchecked: index, assets: assets, assetClasses: classes, kind: kind, fields: fields, mask: mask)
    }

    /// The same panel with every asset labelled `assetClass`.
    public func labelled(_ assetClass: AssetClass) -> PricePanel {
        PricePanel(unchecked: index, assets: assets, assetClasses: Array(repeating: assetClass, count: assetCount),
                   kind: kind, fields: fields, mask: mask)
    }

    /// The same panel on a new time axis of the same length (for example month ends instead of month starts).
    ///
    /// - Throws: ``MarketError/shapeMismatch(what:expected:found:)`` when the lengths differ.
    public func reindexed(labels newIndex: TimeIndex) throws -> PricePanel {
        guard newIndex.count == timeCount else {
            throw MarketError.shapeMismatch(what: "PricePanel.reindexed(labels:)", expected: "\(timeCount) labels", found: "\(newIndex.count)")
        }
        return PricePanel(unchecked: newIndex, assets: assets, assetClasses: assetClasses, kind: kind, fields: fields, mask: mask)
    }

    /// The same panel with assets renamed (same order).
    ///
    /// - Throws: ``MarketError/shapeMismatch(what:expected:found:)`` or ``MarketError/invalidAssetName(name:reason:)``.
    public func renamed(_ names: [String]) throws -> PricePanel {
        guard names.count == assetCount else {
            throw MarketError.shapeMismatch(what: "PricePanel.renamed", expected: "\(assetCount) names", found: "\(names.count)")
        }
        return try PricePanel(index: index, assets: names, fields: fields, kind: kind, assetClasses: assetClasses, mask: mask)
    }
}
