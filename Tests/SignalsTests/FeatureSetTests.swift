import Market
import Testing
@testable import Signals

@Suite struct FeatureSetTests {
    /// The standard feature table of a Market panel is causal (rows up to t are bit-identical when the
    /// panel is cut after t) and complete after its documented 20-row warm-up, with or without OHLCV.
    @Test func standardFeaturesAreCausalAndWarmUpIsDocumented() throws {
        let market = try RegimeSwitchingMarket(
            regimes: [.init(mean: [0.0005], covariance: Linalg_matrix(0.0001)), .init(mean: [-0.001], covariance: Linalg_matrix(0.0009))],
            transition: Linalg_square([[0.95, 0.05], [0.1, 0.9]]))
        let panel = try market.simulate(steps: 200, seed: 4).prices
        let full = try FeatureSet.standard(panel: panel, asset: "A01")
        #expect(full.names.count == 8)
        #expect(full.firstCompleteRow == 20)
        let cut = 120
        let partial = try FeatureSet.standard(panel: panel.slicing(0..<(cut + 1)), asset: "A01")
        for (a, b) in zip(full.columns, partial.columns) {
            #expect(zip(a.prefix(cut + 1), b).allSatisfy { $0.bitPattern == $1.bitPattern })
        }
        let ohlcv = try Dataset(named: "sp500-ohlcv").load()
        let features = try FeatureSet.standard(panel: ohlcv.slicing(0..<300), asset: ohlcv.assets[0])
        #expect(features.names.count == 12 && features.firstCompleteRow == 20)
        #expect(throws: MarketError.unknownAsset(name: "ZZZ")) { try FeatureSet.standard(panel: panel, asset: "ZZZ") }
    }
}
