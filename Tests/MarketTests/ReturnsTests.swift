import Linalg
import Testing
@testable import Market

/// `Fixtures/market_returns.json`, written by `Scripts/fixtures/market.py` from pandas.
struct ReturnsFixture: Decodable {
    let dates: [String]
    let assets: [String]
    let close: [[Double?]]
    let returnDates: [String]
    let simple: [[Double?]]
    let log: [[Double?]]
    let relative: [[Double?]]
}

@Suite("Returns")
struct ReturnsTests {
    let fixture: ReturnsFixture
    let panel: PricePanel

    init() throws {
        fixture = try fixtures.load("market_returns")
        panel = try closePanel(fixture.dates, fixture.assets, fixture.close)
    }

    @Test("simple returns match pandas pct_change(fill_method=None)")
    func simple() throws {
        let returns = try panel.simpleReturns()
        #expect(returns.kind == .simple)
        #expect(returns.index.dates == (try dates(fixture.returnDates)))
        // Tolerance 1e-14 scaled: one division and one subtraction, as in pandas.
        expectClose(returns.values, try matrix(fixture.simple), tolerance: 1e-14, "simple")
    }

    @Test("log returns match numpy log(p / p.shift(1))")
    func log() throws {
        let returns = try panel.logReturns()
        // Tolerance 1e-13 scaled: libm log may differ from NumPy's by an ulp, amplified near log(1) = 0.
        expectClose(returns.values, try matrix(fixture.log), tolerance: 1e-13, "log")
    }

    @Test("price relatives match p / p.shift(1)")
    func relatives() throws {
        let returns = try panel.priceRelatives()
        // Tolerance 0: one IEEE division, identical in both.
        expectClose(returns.values, try matrix(fixture.relative), tolerance: 0, "relative")
    }

    @Test("the return mask needs the asset available at both ends")
    func mask() throws {
        let returns = try panel.simpleReturns()
        for t in 0..<returns.timeCount {
            for a in 0..<returns.assetCount {
                #expect(returns.mask[t, a] == !returns.values[t, a].isNaN)
            }
        }
        // Asset C (column 2) is listed at price row 8, so its first available return is row 8 (period 8 → 9).
        #expect(returns.mask.firstAvailable(asset: 2) == 8)
    }

    @Test("returns of a general series panel are refused")
    func seriesRefused() throws {
        let yields = try closePanel(["2020-01-31", "2020-02-29"], ["AAA"], [[-0.5], [0.25]], kind: .series)
        #expect(throws: MarketError.notPrices(operation: "PricePanel.returns")) { try yields.simpleReturns() }
        #expect(throws: MarketError.missingField(operation: "PricePanel.returns", field: .open)) {
            try panel.simpleReturns(field: .open)
        }
    }
}
