import Foundation
import Linalg
import Market
@_exported import FixtureSupport

/// This target's `Fixtures/` (peer outputs written by `Scripts/fixtures/`).
let fixtures = FixtureBundle(.module)

/// A synthetic OHLC market with a planted signal: asset 0 rises by `rise` to `rise + 0.2 %` every
/// bar; the other assets are driftless random walks with volatility `volatility`. Highs and lows
/// lie up to a few percent around each close.
func risingAssetMarket(seed: UInt64, assets: Int = 4, bars: Int, rise: Double = 0.02, volatility: Double = 0.03) throws -> PricePanel {
    var g = Xoshiro256StarStar(seed: seed)
    var close = Matrix(rows: bars, columns: assets), high = close, low = close
    for a in 0..<assets { close[0, a] = 1; high[0, a] = 1.01; low[0, a] = 0.99 }
    for t in 1..<bars {
        for a in 0..<assets {
            let relative = a == 0 ? 1 + rise + 0.002 * g.nextUniform() : 1 + volatility * g.nextNormal()
            close[t, a] = close[t - 1, a] * relative
            high[t, a] = close[t, a] * (1 + 0.01 * Swift.abs(g.nextNormal()))
            low[t, a] = close[t, a] * (1 - 0.01 * Swift.abs(g.nextNormal()))
        }
    }
    return try PricePanel(index: TimeIndex(periodCount: bars), assets: (0..<assets).map { "A\($0)" },
                          close: close, high: high, low: low)
}
