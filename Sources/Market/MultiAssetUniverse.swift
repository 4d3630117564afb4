import Linalg

/// Stocks, ETFs, bond indices and derivative overlays on one calendar, with an
/// asset-class label per asset for hierarchical allocation and group constraints.
///
/// A universe is a close-only ``PricePanel`` (kind ``PricePanel/Kind/prices``)
/// whose ``PricePanel/assetClasses`` name each asset's class, plus the class
/// groups derived from them. Build one from any panels with
/// ``init(components:join:fill:)`` or take the documented default, ``standard()``.
public struct MultiAssetUniverse: Sendable {
    /// Closes of every asset on the common calendar, with classes and availability.
    public let panel: PricePanel

    /// A universe of the closes of `components` on one calendar.
    ///
    /// - Parameters:
    ///   - components: price panels (their classes are kept; label them first, e.g. with
    ///     `PricePanel.labelled(_:)`); only the close is used.
    ///   - join: ``JoinKind/inner`` keeps dates where every component has a row.
    ///   - fill: applied after the join.
    /// - Throws: ``MarketError/invalidArgument(operation:message:)`` for no component or a series panel;
    ///   errors of ``PricePanel/merged(_:join:fill:)`` (repeated asset names, mixed index kinds).
    public init(components: [PricePanel], join: JoinKind = .inner, fill: FillPolicy = .none) throws {
        guard !components.isEmpty else {
            throw MarketError.invalidArgument(operation: "MultiAssetUniverse", message: "needs at least one component")
        }
        guard components.allSatisfy({ $0.kind == .prices }) else {
            throw MarketError.invalidArgument(operation: "MultiAssetUniverse", message: "components must be price panels")
        }
        let closes = components.map { part in
            PricePanel(unchecked: part.index, assets: part.assets, assetClasses: part.assetClasses, kind: .prices,
                       fields: [.close: part.close], mask: part.mask)
        }
        panel = try PricePanel.merged(closes, join: join, fill: fill)
    }

    /// Asset names.
    public var assets: [String] { panel.assets }
    /// Asset class of each asset.
    public var assetClasses: [AssetClass] { panel.assetClasses }
    /// The calendar.
    public var index: TimeIndex { panel.index }

    /// The classes present, in order of first appearance.
    public var classes: [AssetClass] {
        var seen = Set<AssetClass>()
        return assetClasses.filter { seen.insert($0).inserted }
    }

    /// Column positions of each class's assets.
    public var groups: [AssetClass: [Int]] {
        Dictionary(grouping: assetClasses.indices, by: { assetClasses[$0] })
    }

    /// Names of the assets of class `assetClass`, in column order.
    public func assets(in assetClass: AssetClass) -> [String] {
        assets.indices.filter { assetClasses[$0] == assetClass }.map { assets[$0] }
    }

    /// The default multi-asset universe built from the embedded data: the main job's input.
    ///
    /// **Assets (29)** and their classes:
    /// - `equity` (20): the `sp500-stocks` panel (AAPL, AMD, BAC, BBY, CVX, GE, HD, JNJ, JPM, KO, LLY,
    ///   MRK, MSFT, PEP, PFE, PG, RRC, UNH, WMT, XOM), adjusted closes;
    /// - `etf` (5): the `factor-etfs` MTUM, QUAL, SIZE, USMV, VLUE;
    /// - `bond` (2): `AAA-TR`, `BAA-TR`, the 20-year constant-maturity total-return indices of
    ///   Moody's AAA and BAA yields (``ConstantMaturityBondIndex``, Taylor method);
    /// - `derivative` (2): `SP500-PPUT` (S&P 500 plus a monthly 5 % out-of-the-money put) and
    ///   `SP500-CCALL` (S&P 500 minus a monthly at-the-money call), from ``OptionOverlay/sp500()``.
    ///
    /// **Frequency and span.** Monthly, labelled at calendar month ends (daily series take
    /// their last close of the month, ``PricePanel/resampled(to:aggregation:label:)`` with
    /// ``PeriodLabel/periodEnd``), inner-joined: **2014-01-31 – 2018-12-31, 60 month ends
    /// (59 monthly returns)**. The factor ETFs start in January 2014; the bond yields end in
    /// December 2018 and the Fama–French rate in November 2018, so the overlays end on
    /// 2018-12-31; VIX covers 2014-01-03 – 2019-01-03, so inside this span the overlays are
    /// priced with VIX except on its 46 missing days. The bond indices are monthly by
    /// construction, which is why the universe is monthly.
    ///
    /// - Throws: dataset loading errors (none for an intact bundle).
    ///   Cost: loads six embedded files (about 0.1 s in a release build).
    public static func standard() throws -> MultiAssetUniverse {
        func monthly(_ panel: PricePanel) throws -> PricePanel {
            try panel.resampled(to: .monthly, aggregation: .last, label: .periodEnd)
        }
        let stocks = try monthly(Dataset.sp500Stocks.load())
        let etfs = try monthly(Dataset.factorETFs.load())
        let bonds = try ConstantMaturityBondIndex().corporateBondIndices()
        let put = try OptionOverlay(strategy: .protectivePut).sp500().panel(name: "SP500-PPUT")
        let call = try OptionOverlay(strategy: .coveredCall).sp500().panel(name: "SP500-CCALL")
        let overlays = try monthly(PricePanel.merged([put, call], join: .inner))
        return try MultiAssetUniverse(components: [stocks, etfs, bonds, overlays], join: .inner)
    }

    /// The same 29 assets as ``standard()`` over the longest span the embedded data allow, with
    /// the factor ETFs entering in 2014: the main job's walk-forward input.
    ///
    /// **Calendar.** Monthly, labelled at calendar month ends: the month ends where the stocks,
    /// the bond indices and the option overlays all have a value (their inner join), which runs
    /// from the overlays' first full month (they need a month of realized volatility before VIX
    /// exists, and start in 1990) to 2018-12-31, about 29 years.
    ///
    /// **Availability.** The factor ETFs are missing (`NaN`, unavailable in
    /// ``PricePanel/mask``) before their first month end, 2014-01-31; every other asset is
    /// available on every row. Backtests must keep unavailable assets at zero weight.
    ///
    /// - Throws: dataset loading errors (none for an intact bundle).
    ///   Cost: loads six embedded files (about 0.1 s in a release build).
    public static func extended() throws -> MultiAssetUniverse {
        func monthly(_ panel: PricePanel) throws -> PricePanel {
            try panel.resampled(to: .monthly, aggregation: .last, label: .periodEnd)
        }
        let stocks = try monthly(Dataset.sp500Stocks.load())
        let bonds = try ConstantMaturityBondIndex().corporateBondIndices()
        let put = try OptionOverlay(strategy: .protectivePut).sp500().panel(name: "SP500-PPUT")
        let call = try OptionOverlay(strategy: .coveredCall).sp500().panel(name: "SP500-CCALL")
        let overlays = try monthly(PricePanel.merged([put, call], join: .inner))
        let core = try PricePanel.merged([stocks, bonds, overlays], join: .inner)
        let etfs = try monthly(Dataset.factorETFs.load()).reindexed(to: core.index)
        let ordered = try [core.selecting(assets: stocks.assets), etfs,
                       core.selecting(assets: bonds.assets), core.selecting(assets: overlays.assets)]
        return try MultiAssetUniverse(components: ordered, join: .inner)
    }
}
