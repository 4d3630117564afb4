import Linalg

/// How the labels of several time indices are combined.
public enum JoinKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// Only labels present in every index (pandas `concat(join="inner")`).
    case inner
    /// Labels present in any index (pandas `concat(join="outer")`).
    case outer
}

/// How missing values are filled after alignment.
public enum FillPolicy: Sendable, Hashable {
    /// Leave missing values as `NaN`.
    case none
    /// Carry the last present value forward over at most `limit` consecutive
    /// missing rows (`nil`: no limit), as pandas `ffill(limit:)`.
    case forward(limit: Int?)
}

extension PricePanel {
    /// The panel on another time axis of the same kind: rows at labels absent from
    /// this panel are missing, then `fill` is applied (pandas `reindex(...).ffill(limit=)`).
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` when indices of different kinds meet
    ///   (dates, timestamps, periods); ``MarketError/invalidArgument(operation:message:)`` for a negative fill limit.
    ///   Complexity: O((timeCount + target.count) × assetCount × fields).
    public func reindexed(to target: TimeIndex, fill: FillPolicy = .none) throws -> PricePanel {
        guard target.kind == index.kind else { throw MarketError.indexKindMismatch(operation: "PricePanel.reindexed(to:)") }
        let n = assetCount, rows = target.count
        let sourceRows = (0..<rows).map { index.position(of: target.label(at: $0)) }
        var result: [PriceField: Matrix] = [:]
        for (field, matrix) in fields {
            var out = Matrix(rows: rows, columns: n, repeating: .nan)
            for (t, source) in sourceRows.enumerated() {
                guard let source else { continue }
                for a in 0..<n { out[t, a] = matrix[source, a] }
            }
            result[field] = out
        }
        var availability = AvailabilityMask(timeCount: rows, assetCount: n, repeating: false)
        for (t, source) in sourceRows.enumerated() {
            guard let source else { continue }
            for a in 0..<n { availability[t, a] = mask[source, a] }
        }
        let panel = PricePanel(unchecked: target, assets: assets, assetClasses: assetClasses, kind: kind,
                               fields: result, mask: availability)
        switch fill {
        case .none: return panel
        case let .forward(limit): return try panel.forwardFilled(limit: limit)
        }
    }

    /// Missing values replaced by the last present value of the same asset and
    /// field, over at most `limit` consecutive missing rows (`nil`: no limit),
    /// exactly as pandas `DataFrame.ffill(limit=)` does column by column.
    ///
    /// Volume is not carried forward: where the close was filled and the volume is
    /// missing, the volume becomes 0 (nothing traded on a filled day). A filled
    /// cell inherits the availability of the row its close came from, so a stale
    /// price of a tradable asset stays tradable and a flat pre-listing price stays masked.
    ///
    /// - Throws: ``MarketError/invalidArgument(operation:message:)`` when `limit` is negative.
    public func forwardFilled(limit: Int? = nil) throws -> PricePanel {
        if let limit, limit < 0 {
            throw MarketError.invalidArgument(operation: "PricePanel.forwardFilled", message: "limit \(limit) is negative")
        }
        let n = assetCount, rows = timeCount
        var result = fields
        var closeFilled = [Bool](repeating: false, count: rows * n)
        var availability = mask
        for field in fields.keys where field.isPrice {
            var matrix = fields[field]!
            for a in 0..<n {
                var lastValue = Double.nan, lastRow = -1, run = 0
                for t in 0..<rows {
                    let value = matrix[t, a]
                    if !value.isNaN {
                        lastValue = value
                        lastRow = t
                        run = 0
                        continue
                    }
                    run += 1
                    guard lastRow >= 0, limit.map({ run <= $0 }) ?? true else { continue }
                    matrix[t, a] = lastValue
                    if field == .close {
                        closeFilled[t * n + a] = true
                        availability[t, a] = mask[lastRow, a]
                    }
                }
            }
            result[field] = matrix
        }
        if var volume = fields[.volume] {
            for t in 0..<rows {
                for a in 0..<n where closeFilled[t * n + a] && volume[t, a].isNaN { volume[t, a] = 0 }
            }
            result[.volume] = volume
        }
        return PricePanel(unchecked: index, assets: assets, assetClasses: assetClasses, kind: kind,
                          fields: result, mask: availability)
    }

    /// Several panels on one common time axis: the intersection (`inner`) or the
    /// union (`outer`) of their indices, then `fill` applied to each.
    ///
    /// Series sampled at different frequencies align too: an outer join of a daily
    /// and a month-end panel followed by a forward fill carries each monthly value
    /// over the following days.
    ///
    /// - Throws: ``MarketError/indexKindMismatch(operation:)`` when dated and period panels are mixed;
    ///   ``MarketError/invalidArgument(operation:message:)`` for no panels or a negative limit.
    public static func aligned(_ panels: [PricePanel], join: JoinKind, fill: FillPolicy = .none) throws -> [PricePanel] {
        let indices = panels.map(\.index)
        let common = join == .inner ? try TimeIndex.intersection(indices) : try TimeIndex.union(indices)
        return try panels.map { try $0.reindexed(to: common, fill: fill) }
    }

    /// One panel holding the assets of all `panels` side by side on a common axis
    /// (pandas `concat(axis=1, join=)` followed by `ffill(limit=)`).
    ///
    /// The result carries the fields common to every input.
    ///
    /// - Throws: the errors of ``aligned(_:join:fill:)``; ``MarketError/invalidAssetName(name:reason:)``
    ///   when an asset name repeats across panels; ``MarketError/invalidArgument(operation:message:)``
    ///   when prices and general series are mixed.
    public static func merged(_ panels: [PricePanel], join: JoinKind, fill: FillPolicy = .none) throws -> PricePanel {
        let parts = try aligned(panels, join: join, fill: fill)
        let kind = parts[0].kind
        guard parts.allSatisfy({ $0.kind == kind }) else {
            throw MarketError.invalidArgument(operation: "PricePanel.merged", message: "cannot merge prices with general series")
        }
        let common = PriceField.allCases.filter { field in parts.allSatisfy { $0.fields[field] != nil } }
        let rows = parts[0].timeCount
        let assets = parts.flatMap(\.assets)
        var seen = Set<String>()
        for name in assets where !seen.insert(name).inserted {
            throw MarketError.invalidAssetName(name: name, reason: "appears in more than one panel")
        }
        var fields: [PriceField: Matrix] = [:]
        for field in common {
            var matrix = Matrix(rows: rows, columns: assets.count)
            var offset = 0
            for part in parts {
                let source = part.fields[field]!
                for t in 0..<rows { for a in 0..<part.assetCount { matrix[t, offset + a] = source[t, a] } }
                offset += part.assetCount
            }
            fields[field] = matrix
        }
        var availability = AvailabilityMask(timeCount: rows, assetCount: assets.count, repeating: false)
        var offset = 0
        for part in parts {
            for t in 0..<rows { for a in 0..<part.assetCount { availability[t, offset + a] = part.mask[t, a] } }
            offset += part.assetCount
        }
        return PricePanel(unchecked: parts[0].index, assets: assets, assetClasses: parts.flatMap(\.assetClasses),
                          kind: kind, fields: fields, mask: availability)
    }

    /// Jiang et al.'s "flat" fill: every row before an asset's first close takes
    /// that first close (open, high, low and close; the adjusted close takes the
    /// first adjusted close), volume 0, and availability `false`.
    ///
    /// The invented history has relatives of exactly 1, so price tensors and
    /// windows see a flat line, while the mask keeps any strategy from trading
    /// the asset before it exists. Rows from the first close on are unchanged;
    /// interior gaps are left for ``forwardFilled(limit:)``.
    ///
    /// Reference: Z. Jiang, D. Xu, J. Liang, "A Deep Reinforcement Learning Framework
    /// for the Financial Portfolio Management Problem", arXiv:1706.10059 (2017).
    ///
    /// - Throws: ``MarketError/noObservations(operation:asset:)`` for an asset without any close.
    public func flatFilledBeforeListing() throws -> PricePanel {
        let n = assetCount
        var result = fields
        var availability = mask
        let closes = close
        for a in 0..<n {
            guard let first = (0..<timeCount).first(where: { !closes[$0, a].isNaN }) else {
                throw MarketError.noObservations(operation: "PricePanel.flatFilledBeforeListing", asset: assets[a])
            }
            guard first > 0 else { continue }
            for field in fields.keys {
                let fillValue: Double
                switch field {
                case .volume: fillValue = 0
                case .adjustedClose: fillValue = fields[.adjustedClose]![first, a]
                default: fillValue = closes[first, a]
                }
                for t in 0..<first { result[field]![t, a] = fillValue }
            }
            for t in 0..<first { availability[t, a] = false }
        }
        return PricePanel(unchecked: index, assets: assets, assetClasses: assetClasses, kind: kind,
                          fields: result, mask: availability)
    }
}
