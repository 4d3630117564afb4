import Linalg

extension PricePanel {
    /// Value traded per cell, close × volume, `timeCount × assetCount`: the quote-currency
    /// volume (dollars for `BTCUSD`) when ``PriceField/volume`` counts units of the asset, as in
    /// every embedded dataset (shares, coins). `NaN` where the close or the volume is missing.
    ///
    /// - Throws: ``MarketError/notPrices(operation:)`` for a series panel;
    ///   ``MarketError/missingField(operation:field:)`` without a volume field.
    public func valueTraded() throws -> Matrix {
        try valueTraded(operation: "PricePanel.valueTraded")
    }

    private func valueTraded(operation: String) throws -> Matrix {
        guard kind == .prices else { throw MarketError.notPrices(operation: operation) }
        guard let volume = fields[.volume] else { throw MarketError.missingField(operation: operation, field: .volume) }
        let closes = close
        return Matrix(rows: timeCount, columns: assetCount) { t, a in closes[t, a] * volume[t, a] }
    }

    /// The `count` assets with the largest value traded (close × volume, summed) over the
    /// `lookback` rows ending at the row labelled `end` (inclusive), largest first.
    ///
    /// This is the asset pre-selection of Jiang, Xu & Liang: the most-traded coins over the
    /// 30 days before the backtest, volume measured in the quote currency (value traded, so
    /// a coin's count of units does not matter). Missing cells are skipped; rows before an
    /// asset lists count as nothing traded. Ties keep panel order. Assets with no value
    /// traded present anywhere in the window rank after every asset with data, in panel order.
    ///
    /// Reference: Z. Jiang, D. Xu, J. Liang, "A Deep Reinforcement Learning Framework for the
    /// Financial Portfolio Management Problem", arXiv:1706.10059 (2017), §3.
    ///
    /// - Parameters:
    ///   - count: how many assets, 1…``assetCount``.
    ///   - lookback: rows in the window, at least 1 and at most the rows up to `end`
    ///     (30 daily rows, or 720 hourly rows, for 30 days).
    ///   - end: the label of the window's last row, usually the last bar before the backtest.
    /// - Returns: asset names, most traded first.
    /// - Throws: ``MarketError/notPrices(operation:)``; ``MarketError/missingField(operation:field:)``
    ///   without a volume field; ``MarketError/invalidArgument(operation:message:)`` for a count
    ///   or lookback out of range, or an `end` label not in the index. Complexity: O(lookback × assetCount + n log n).
    public func topAssetsByVolume(count: Int, lookback: Int, endingAt end: TimeLabel) throws -> [String] {
        let operation = "PricePanel.topAssetsByVolume"
        let traded = try valueTraded(operation: operation)
        guard count >= 1, count <= assetCount else {
            throw MarketError.invalidArgument(operation: operation, message: "count \(count) is not in 1…\(assetCount)")
        }
        guard let last = index.position(of: end) else {
            throw MarketError.invalidArgument(operation: operation, message: "\(end) is not in the index")
        }
        guard lookback >= 1, lookback <= last + 1 else {
            throw MarketError.invalidArgument(operation: operation,
                                              message: "lookback \(lookback) is not in 1…\(last + 1) (rows up to \(end))")
        }
        let window = (last + 1 - lookback)...last
        let totals: [Double?] = (0..<assetCount).map { a in
            let present = window.map { traded[$0, a] }.filter { !$0.isNaN }
            return present.isEmpty ? nil : present.reduce(0, +)
        }
        let order = (0..<assetCount).sorted { a, b in
            switch (totals[a], totals[b]) {
            case let (x?, y?): return x != y ? x > y : a < b
            case (.some, nil): return true
            case (nil, .some): return false
            case (nil, nil): return a < b
            }
        }
        return order.prefix(count).map { assets[$0] }
    }
}
