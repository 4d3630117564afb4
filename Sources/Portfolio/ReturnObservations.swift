import Linalg
import Market

/// Per-period returns of `n` assets over `T` periods, validated for the estimators.
///
/// Rows are periods (oldest first), columns assets. Every value must be finite: estimators
/// never drop or fill missing data silently, so align or trim the panel first.
public struct ReturnObservations: Sendable {
    /// Asset names, `n`.
    public let assets: [String]
    /// Asset classes, `n`.
    public let assetClasses: [AssetClass]
    /// The returns, `T × n`.
    public let values: Matrix

    /// Wraps a return matrix.
    ///
    /// - Throws: ``PortfolioError/dimensionMismatch(operation:lhs:lhsCount:rhs:rhsCount:)`` when the
    ///   names and columns differ, ``PortfolioError/nonFinite(operation:what:asset:observation:)``
    ///   naming the asset and row of the first NaN or infinity,
    ///   ``PortfolioError/insufficientData(operation:observations:required:)`` for fewer than 2 rows.
    public init(assets: [String], values: Matrix, assetClasses: [AssetClass]? = nil) throws {
        let operation = "ReturnObservations"
        guard values.columns == assets.count else {
            throw PortfolioError.dimensionMismatch(operation: operation, lhs: "asset names", lhsCount: assets.count,
                                                   rhs: "return columns", rhsCount: values.columns)
        }
        guard !assets.isEmpty else { throw PortfolioError.invalidArgument(operation: operation, message: "no assets") }
        guard values.rows >= 2 else {
            throw PortfolioError.insufficientData(operation: operation, observations: values.rows, required: 2)
        }
        if let (t, j) = values.firstNonFiniteIndex() {
            throw PortfolioError.nonFinite(operation: operation, what: "return", asset: assets[j], observation: t)
        }
        if let classes = assetClasses, classes.count != assets.count {
            throw PortfolioError.dimensionMismatch(operation: operation, lhs: "asset names", lhsCount: assets.count,
                                                   rhs: "asset classes", rhsCount: classes.count)
        }
        self.assets = assets
        self.values = values
        self.assetClasses = assetClasses ?? [AssetClass](repeating: .unclassified, count: assets.count)
    }

    /// The returns of a Market panel (its names and classes kept).
    ///
    /// - Throws: as ``init(assets:values:assetClasses:)``; a missing return names its asset and period.
    public init(_ panel: ReturnPanel) throws {
        try self.init(assets: panel.assets, values: panel.values, assetClasses: panel.assetClasses)
    }

    /// Simple returns of a price panel's closes (the CLI's default).
    ///
    /// - Throws: the panel's return errors and those of ``init(assets:values:assetClasses:)``.
    public init(simpleReturnsOf prices: PricePanel) throws {
        try self.init(prices.simpleReturns())
    }

    /// Number of periods `T`.
    public var periodCount: Int { values.rows }
    /// Number of assets `n`.
    public var assetCount: Int { values.columns }
}
