import ArgumentParser
import Foundation
import MetaFolio

/// The data source every price-reading command shares: an embedded dataset (any of
/// `metafolio datasets`, or `multi-asset` for the monthly multi-asset universe) or a wide CSV file.
struct PriceSource: ParsableArguments {
    /// The name of the embedded multi-asset universe (``MultiAssetUniverse/standard()``).
    static let multiAsset = "multi-asset"

    @Option(name: .long, help: "Embedded dataset (see `metafolio datasets`), or multi-asset for the monthly multi-asset universe.")
    var dataset: String?

    @Option(name: .long, help: "Wide CSV file of prices (date column first).")
    var prices: String?

    /// Both at once is a usage error; neither is left to the command (a config file may name one).
    func validate() throws {
        if dataset != nil, prices != nil { throw ValidationError("give only one of --dataset and --prices") }
    }

    /// The chosen source, with `fallbackDataset`/`fallbackPrices` (from a config file) used only when
    /// the command line names neither.
    ///
    /// - Throws: `ValidationError` when no source is given, and the dataset's and the CSV reader's
    ///   errors (a missing file is named by the reader).
    func load(kind: PricePanel.Kind = .prices, fallbackDataset: String? = nil, fallbackPrices: String? = nil)
        throws -> (panel: PricePanel, source: String) {
        let name = dataset ?? (prices == nil ? fallbackDataset : nil)
        let path = prices ?? (dataset == nil ? fallbackPrices : nil)
        switch (name, path) {
        case (Self.multiAsset?, nil):
            return (try MultiAssetUniverse.standard().panel, "the multi-asset universe")
        case let (name?, nil):
            return (try Dataset(named: name).load(), "dataset \(name)")
        case let (nil, path?):
            return (try PanelCSVReader(kind: kind).read(path: path), path)
        case (nil, nil):
            throw ValidationError("give either --dataset NAME or --prices FILE.csv")
        default:
            throw ValidationError("give only one of --dataset and --prices")
        }
    }
}

extension PricePanel {
    /// Periods per year of the panel's calendar (252 for daily data, 12 for monthly), or `fallback`
    /// for a period index.
    func periodsPerYear(fallback: Double = 252) -> Double {
        index.frequency.periodsPerYear ?? fallback
    }
}
