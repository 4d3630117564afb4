import Foundation
import Testing

/// The data-source options every price-reading command shares (`--dataset`, `--prices`).
@Suite("metafolio data sources")
struct PriceSourceTests {
    /// Every command reads the multi-asset universe by name, not only `optimize`.
    @Test("--dataset multi-asset works in optimize, backtest, olps and regimes",
          arguments: [["optimize", "--method", "equal-weight"], ["backtest", "--strategy", "equal"],
                      ["olps", "--algorithm", "olmar"], ["regimes", "--model", "kmeans", "--states", "2", "--column", "AAA-TR"]])
    func multiAssetEverywhere(command: [String]) throws {
        let result = try runMetafolio(command + ["--dataset", "multi-asset", "--json"])
        #expect(result.status == 0, "\(command[0]): \(result.error)")
        #expect(!result.output.isEmpty)
    }

    /// Both sources at once is a usage error (exit 2) in every command, named the same way.
    @Test("--dataset with --prices is a usage error",
          arguments: [["optimize", "--method", "hrp"], ["backtest"], ["olps", "--algorithm", "ubah"], ["regimes"], ["eiie"]])
    func bothSources(command: [String]) throws {
        let result = try runMetafolio(command + ["--dataset", "sp500-stocks", "--prices", "/tmp/none.csv"])
        #expect(result.status == 2 && result.error.contains("give only one of --dataset and --prices"), "\(command[0]): \(result.error)")
    }
}
