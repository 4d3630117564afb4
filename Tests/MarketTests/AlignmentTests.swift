import Linalg
import Testing
@testable import Market

/// `Fixtures/market_align.json`, written by `Scripts/fixtures/market.py` from pandas.
struct AlignFixture: Decodable {
    struct Frame: Decodable {
        let dates: [String]
        let values: [[Double?]]
    }
    let x: Frame, y: Frame, m: Frame
    let inner: Frame, outer: Frame, outerFfill2: Frame, dailyMonthlyFfill: Frame
}

/// Tolerance in this suite: 0. Joins and fills only move values, and the flat fill's relatives
/// divide a number by itself, which is exactly 1 in IEEE arithmetic.
@Suite("Alignment, forward fill and the flat fill")
struct AlignmentTests {
    let fixture: AlignFixture
    let x: PricePanel, y: PricePanel, m: PricePanel

    init() throws {
        fixture = try fixtures.load("market_align")
        x = try closePanel(fixture.x.dates, ["X"], fixture.x.values)
        y = try closePanel(fixture.y.dates, ["Y"], fixture.y.values)
        m = try closePanel(fixture.m.dates, ["M"], fixture.m.values, kind: .series)
    }

    func expectFrame(_ panel: PricePanel, _ frame: AlignFixture.Frame, _ what: String) throws {
        #expect(panel.index.dates == (try dates(frame.dates)), "\(what) dates")
        // Alignment only moves values: tolerance 0.
        expectClose(panel.close, try matrix(frame.values), tolerance: 0, what)
    }

    @Test("inner join matches pandas concat(join='inner')")
    func inner() throws {
        try expectFrame(try PricePanel.merged([x, y], join: .inner), fixture.inner, "inner")
    }

    @Test("outer join matches pandas concat(join='outer')")
    func outer() throws {
        let merged = try PricePanel.merged([x, y], join: .outer)
        try expectFrame(merged, fixture.outer, "outer")
        // Rows introduced by the join are missing and unavailable.
        for t in 0..<merged.timeCount {
            for a in 0..<2 { #expect(merged.mask[t, a] == !merged.close[t, a].isNaN) }
        }
    }

    @Test("outer join with forward fill limited to 2 matches pandas ffill(limit=2)")
    func outerForwardFill() throws {
        let merged = try PricePanel.merged([x, y], join: .outer, fill: .forward(limit: 2))
        try expectFrame(merged, fixture.outerFfill2, "outer ffill(limit=2)")
        // A filled cell inherits the availability of the row it came from (available here).
        for t in 0..<merged.timeCount {
            for a in 0..<2 { #expect(merged.mask[t, a] == !merged.close[t, a].isNaN) }
        }
    }

    @Test("a monthly series aligned to daily data by outer join and unlimited forward fill")
    func dailyWithMonthly() throws {
        let parts = try PricePanel.aligned([x, m], join: .outer, fill: .forward(limit: nil))
        #expect(parts.count == 2)
        let expected = try matrix(fixture.dailyMonthlyFfill.values)
        #expect(parts[0].index.dates == (try dates(fixture.dailyMonthlyFfill.dates)))
        // tolerance 0: values are moved, not computed.
        expectClose(parts[0].close, try Matrix(columnArrays: [expected.column(0)]), tolerance: 0, "X")
        expectClose(parts[1].close, try Matrix(columnArrays: [expected.column(1)]), tolerance: 0, "M")
        #expect(parts[1].kind == .series)
    }

    @Test("merging rejects repeated asset names and mixed kinds")
    func mergeErrors() throws {
        #expect(throws: MarketError.invalidAssetName(name: "X", reason: "appears in more than one panel")) {
            try PricePanel.merged([x, x], join: .inner)
        }
        #expect(throws: MarketError.invalidArgument(operation: "PricePanel.merged", message: "cannot merge prices with general series")) {
            try PricePanel.merged([x, m], join: .outer)
        }
        #expect(throws: MarketError.invalidArgument(operation: "PricePanel.forwardFilled", message: "limit -1 is negative")) {
            try x.forwardFilled(limit: -1)
        }
    }

    @Test("forward fill turns missing volume into 0 on filled days")
    func volumeNotCarried() throws {
        let panel = try PricePanel(index: TimeIndex(dates: dates(["2022-01-03", "2022-01-04", "2022-01-05"])), assets: ["A"],
                                   close: Matrix([[10], [.nan], [11]]), volume: Matrix([[500], [.nan], [700]]))
        let filled = try panel.forwardFilled()
        #expect(filled.close.column(0) == [10, 10, 11])
        #expect(filled.field(.volume)?.column(0) == [500, 0, 700])
        #expect(filled.mask[1, 0])
    }

    @Test("flat fill: pre-listing history takes the first close, volume 0, and is masked")
    func flatFill() throws {
        let panel = try PricePanel(
            index: TimeIndex(dates: dates(["2022-01-03", "2022-01-04", "2022-01-05", "2022-01-06", "2022-01-07"])),
            assets: ["OLD", "NEW"],
            close: Matrix([[10, .nan], [11, .nan], [12, .nan], [13, 50], [14, .nan]]),
            high: Matrix([[10.5, .nan], [11.5, .nan], [12.5, .nan], [13.5, 52], [14.5, .nan]]),
            volume: Matrix([[1, .nan], [2, .nan], [3, .nan], [4, 9], [5, .nan]]),
            assetClasses: [.equity, .etf])
        let flat = try panel.flatFilledBeforeListing()
        #expect(flat.close.column(1).prefix(4) == [50, 50, 50, 50])
        #expect(flat.field(.high)?.column(1).prefix(4) == [50, 50, 50, 52])
        #expect(flat.field(.volume)?.column(1).prefix(4) == [0, 0, 0, 9])
        #expect(flat.close[4, 1].isNaN, "interior gaps after listing are left missing")
        #expect((0..<5).map { flat.mask[$0, 1] } == [false, false, false, true, false])
        #expect((0..<5).map { flat.mask[$0, 0] } == [true, true, true, true, true])
        #expect(flat.close.column(0) == panel.close.column(0), "an asset listed from the start is unchanged")
        #expect(flat.assetClasses == [.equity, .etf])
        // The invented history is flat: relatives exactly 1 and unavailable.
        let relatives = try flat.priceRelatives()
        #expect((0..<3).map { relatives.values[$0, 1] } == [1, 1, 1])
        #expect((0..<3).allSatisfy { !relatives.mask[$0, 1] })
        // A later forward fill keeps the pre-listing rows masked and fills the gap as available.
        let filled = try flat.forwardFilled(limit: 1)
        #expect(filled.close[4, 1] == 50)
        #expect((0..<5).map { filled.mask[$0, 1] } == [false, false, false, true, true])
    }

    @Test("flat fill refuses an asset with no observation")
    func flatFillEmptyAsset() throws {
        let panel = try PricePanel(index: TimeIndex(periodCount: 2), assets: ["A", "GHOST"], close: Matrix([[1, .nan], [2, .nan]]))
        #expect(throws: MarketError.noObservations(operation: "PricePanel.flatFilledBeforeListing", asset: "GHOST")) {
            try panel.flatFilledBeforeListing()
        }
    }

    @Test("panel validation names field, asset and date")
    func panelValidation() throws {
        let index = try TimeIndex(dates: dates(["2022-01-03", "2022-01-04"]))
        let day2 = try day("2022-01-04")
        #expect(throws: MarketError.invalidValue(field: .close, asset: "B", time: .date(day2), value: -1, reason: "prices must be positive")) {
            try PricePanel(index: index, assets: ["A", "B"], close: Matrix([[1, 2], [3, -1]]))
        }
        #expect(throws: MarketError.invalidValue(field: .volume, asset: "A", time: .date(day2), value: -5, reason: "volume must be non-negative")) {
            try PricePanel(index: index, assets: ["A"], close: Matrix([[1], [2]]), volume: Matrix([[0], [-5]]))
        }
        #expect(throws: MarketError.shapeMismatch(what: "PricePanel close", expected: "2×2", found: "2×1")) {
            try PricePanel(index: index, assets: ["A", "B"], close: Matrix([[1], [2]]))
        }
        #expect(throws: MarketError.invalidAssetName(name: "A", reason: "appears twice")) {
            try PricePanel(index: index, assets: ["A", "A"], close: Matrix([[1, 1], [2, 2]]))
        }
        var mask = AvailabilityMask(timeCount: 2, assetCount: 1, repeating: true)
        mask[0, 0] = true
        #expect(throws: MarketError.availableWithoutClose(asset: "A", time: .date(day2))) {
            try PricePanel(index: index, assets: ["A"], close: Matrix([[1], [.nan]]), mask: mask)
        }
        // A series panel accepts zero and negative values.
        let series = try PricePanel(index: index, assets: ["HML"], close: Matrix([[-2.87], [0]]), kind: .series)
        #expect(series.close.column(0) == [-2.87, 0])
    }

    @Test("selecting assets and slicing dates keep labels, classes and mask together")
    func subsetting() throws {
        let panel = try PricePanel(index: TimeIndex(dates: dates(["2022-01-03", "2022-01-04", "2022-01-05"])), assets: ["A", "B", "C"],
                                   close: Matrix([[1, 2, .nan], [4, 5, 6], [7, 8, 9]]), assetClasses: [.equity, .bond, .etf])
        let picked = try panel.selecting(assets: ["C", "A"])
        #expect(picked.assets == ["C", "A"])
        #expect(picked.assetClasses == [.etf, .equity])
        #expect(picked.close.column(1) == [1, 4, 7])
        #expect(!picked.mask[0, 0] && picked.mask[1, 0])
        let sliced = try panel.between(day("2022-01-04"), and: day("2022-01-10"))
        #expect(sliced.timeCount == 2)
        #expect(sliced.close.row(0) == [4, 5, 6])
        #expect(throws: MarketError.unknownAsset(name: "Z")) { try panel.selecting(assets: ["Z"]) }
        #expect(try panel.series("B") == [2, 5, 8])
    }

    @Test("reindexing onto periods, and refusing to mix periods with dates")
    func reindexPeriods() throws {
        let panel = try PricePanel(index: TimeIndex(periods: 2..<5), assets: ["A"], close: Matrix([[1], [2], [3]]))
        let wider = try panel.reindexed(to: TimeIndex(periods: 0..<6), fill: .forward(limit: 1))
        #expect(wider.close[0, 0].isNaN && wider.close[1, 0].isNaN, "nothing to carry before the first value")
        #expect(Array(wider.close.column(0).dropFirst(2)) == [1, 2, 3, 3])
        #expect((0..<6).map { wider.mask[$0, 0] } == [false, false, true, true, true, true])
        #expect(throws: MarketError.indexKindMismatch(operation: "PricePanel.reindexed(to:)")) {
            try panel.reindexed(to: x.index)
        }
        #expect(try panel.renamed(["B"]).assets == ["B"])
    }
}
