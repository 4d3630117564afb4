import Linalg
import Testing
@testable import Market

/// Four days, four assets; C lists on day 3, D has closes but no volume at all.
private func rankingPanel() throws -> PricePanel {
    try PricePanel(index: TimeIndex(dates: dates(["2020-01-01", "2020-01-02", "2020-01-03", "2020-01-04"])),
                   assets: ["A", "B", "C", "D"],
                   close: matrix([[10, 2, nil, 1], [10, 2, nil, 1], [10, 4, 5, 1], [10, 4, 5, 1]]),
                   volume: matrix([[1, 5, nil, nil], [1, 5, nil, nil], [1, 5, 4, nil], [1, 5, 4, nil]]))
}

@Suite("Volume-ranked asset selection")
struct VolumeRankingTests {
    @Test("value traded is close × volume, NaN where either is missing")
    func valueTraded() throws {
        let traded = try rankingPanel().valueTraded()
        #expect(traded.row(0)[0...1] == [10, 10])
        #expect(traded.row(2)[0...2] == [10, 20, 20])
        #expect(traded[0, 2].isNaN && traded[3, 3].isNaN)
    }

    @Test("ranks by summed value traded over the window; ties keep panel order; no data ranks last")
    func ranking() throws {
        let panel = try rankingPanel()
        let day4 = TimeLabel.date(try day("2020-01-04")), day2 = TimeLabel.date(try day("2020-01-02"))
        // Days 3–4: A 10 + 10 = 20, B 20 + 20 = 40, C 20 + 20 = 40 (tie with B, B first), D nothing.
        #expect(try panel.topAssetsByVolume(count: 3, lookback: 2, endingAt: day4) == ["B", "C", "A"])
        #expect(try panel.topAssetsByVolume(count: 4, lookback: 2, endingAt: day4) == ["B", "C", "A", "D"])
        // All four days: A 40, B 10 + 10 + 20 + 20 = 60, C 40 (missing days skipped, tie with A, A first).
        #expect(try panel.topAssetsByVolume(count: 3, lookback: 4, endingAt: day4) == ["B", "A", "C"])
        // Days 1–2: A 20 and B 20 tie; C (not listed yet) and D follow in panel order.
        #expect(try panel.topAssetsByVolume(count: 4, lookback: 2, endingAt: day2) == ["A", "B", "C", "D"])
        #expect(try panel.topAssetsByVolume(count: 1, lookback: 1, endingAt: day2) == ["A"])
        let selected = try panel.selecting(assets: panel.topAssetsByVolume(count: 2, lookback: 2, endingAt: day4))
        #expect(selected.assets == ["B", "C"] && selected.close.column(1)[2...] == [5, 5])
    }

    @Test("bad arguments and panels without volume throw")
    func errors() throws {
        let panel = try rankingPanel()
        let day2 = TimeLabel.date(try day("2020-01-02"))
        let operation = "PricePanel.topAssetsByVolume"
        #expect(throws: MarketError.invalidArgument(operation: operation, message: "count 0 is not in 1…4")) {
            try panel.topAssetsByVolume(count: 0, lookback: 1, endingAt: day2)
        }
        #expect(throws: MarketError.invalidArgument(operation: operation, message: "count 5 is not in 1…4")) {
            try panel.topAssetsByVolume(count: 5, lookback: 1, endingAt: day2)
        }
        #expect(throws: MarketError.invalidArgument(operation: operation, message: "lookback 3 is not in 1…2 (rows up to 2020-01-02)")) {
            try panel.topAssetsByVolume(count: 1, lookback: 3, endingAt: day2)
        }
        #expect(throws: MarketError.invalidArgument(operation: operation, message: "2020-02-01 is not in the index")) {
            try panel.topAssetsByVolume(count: 1, lookback: 1, endingAt: .date(day("2020-02-01")))
        }
        let closes = try closePanel(["2020-01-01"], ["A"], [[1]])
        #expect(throws: MarketError.missingField(operation: operation, field: .volume)) {
            try closes.topAssetsByVolume(count: 1, lookback: 1, endingAt: .date(day("2020-01-01")))
        }
        let series = try closePanel(["2020-01-01"], ["A"], [[1]], kind: .series)
        #expect(throws: MarketError.notPrices(operation: "PricePanel.valueTraded")) { try series.valueTraded() }
    }
}
