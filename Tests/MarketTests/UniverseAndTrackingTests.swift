import Foundation
import Testing
@testable import Market

/// `Fixtures/market_tracking.json`, written by `Scripts/fixtures/market_analytics.py` with numpy.
struct TrackingFixture: Decodable {
    let fund, index: [Double]
    let periodsPerYear: Double
    let trackingError, trackingDifference, cumulativeDifference: Double
}

@Suite("ETF tracking")
struct TrackingTests {
    @Test("tracking error and difference match numpy")
    func fixture() throws {
        let f: TrackingFixture = try fixtures.load("market_tracking")
        let s = try TrackingStatistics(fund: f.fund, index: f.index, periodsPerYear: f.periodsPerYear)
        // Tolerance 1e-12 scaled: 300-term sums and products in a possibly different order.
        #expect(close(s.trackingError, f.trackingError, 1e-12))
        #expect(abs(s.trackingDifference - f.trackingDifference) < 1e-12)
        #expect(abs(s.cumulativeDifference - f.cumulativeDifference) < 1e-12)
        #expect(s.periods == 300)
    }

    @Test("a fund equal to its index has zero tracking error and difference; a constant lag has zero error")
    func byHand() throws {
        let index = [0.01, -0.02, 0.015, 0.003]
        let same = try TrackingStatistics(fund: index, index: index, periodsPerYear: 12)
        #expect(same.trackingError == 0 && same.trackingDifference == 0 && same.cumulativeDifference == 0)
        let lagging = try TrackingStatistics(fund: index.map { $0 - 0.001 }, index: index, periodsPerYear: 12)
        #expect(lagging.trackingError < 1e-15)                     // tolerance: rounding of x − 0.001
        #expect(lagging.trackingDifference < 0 && abs(lagging.meanActiveReturn + 0.001) < 1e-15)
    }

    @Test("factor ETFs against the S&P 500 index: tracking errors of a few percent a year")
    func factorETFs() throws {
        let panel = try PricePanel.merged([Dataset.factorETFs.load(), Dataset.sp500Index.load()], join: .inner)
        for etf in ["MTUM", "QUAL", "SIZE", "USMV", "VLUE"] {
            let s = try TrackingStatistics(panel: panel, fund: etf, index: "SP500")
            #expect(s.periods == 2263)
            // Factor tilts are active bets: TE between 2 % and 15 % a year (USMV/QUAL low, MTUM/VLUE higher).
            #expect(s.trackingError > 0.02 && s.trackingError < 0.15, "\(etf) TE \(s.trackingError)")
            #expect(abs(s.trackingDifference) < 0.1, "\(etf) TD \(s.trackingDifference)")
        }
    }

    @Test("mismatched lengths and bad returns throw typed errors")
    func bad() {
        expectMarketError(.shapeMismatch(what: "TrackingStatistics index returns", expected: "3 (as fund)", found: "2")) {
            try TrackingStatistics(fund: [0, 0, 0], index: [0, 0], periodsPerYear: 12)
        }
        expectMarketError(.invalidParameter(operation: "TrackingStatistics", parameter: "fund[1]", value: -1.5,
                                            reason: "a simple return must be finite and > −1")) {
            try TrackingStatistics(fund: [0, -1.5, 0], index: [0, 0, 0], periodsPerYear: 12)
        }
        expectMarketError(.invalidArgument(operation: "TrackingStatistics", message: "needs at least 2 periods, got 1")) {
            try TrackingStatistics(fund: [0], index: [0], periodsPerYear: 12)
        }
        expectMarketError(.invalidParameter(operation: "TrackingStatistics", parameter: "periodsPerYear", value: 0, reason: "must be positive")) {
            try TrackingStatistics(fund: [0, 0], index: [0, 0], periodsPerYear: 0)
        }
    }
}

@Suite("Multi-asset universe")
struct UniverseTests {
    @Test("the standard universe: 29 assets in 4 classes, monthly 2014-01-31 – 2018-12-31")
    func standard() throws {
        let u = try MultiAssetUniverse.standard()
        #expect(u.assets.count == 29)
        #expect(u.classes == [.equity, .etf, .bond, .derivative])
        #expect(u.assets(in: .etf) == ["MTUM", "QUAL", "SIZE", "USMV", "VLUE"])
        #expect(u.assets(in: .bond) == ["AAA-TR", "BAA-TR"])
        #expect(u.assets(in: .derivative) == ["SP500-PPUT", "SP500-CCALL"])
        #expect(u.groups[.equity]?.count == 20)
        #expect(u.index.frequency == .monthly && u.index.count == 60)
        let first = try day("2014-01-31"), last = try day("2018-12-31")
        #expect(u.index.first == .date(first) && u.index.last == .date(last))
        #expect(u.panel.mask.availableCount == 60 * 29)           // every asset exists on the common calendar
        #expect(u.panel.fieldNames == [.close])
        let returns = try u.panel.simpleReturns()
        #expect(returns.timeCount == 59)
        #expect(returns.values.firstNonFiniteIndex() == nil)
        // Spot checks against the sources: AAPL's 2018-12 month-end close is its last close of December 2018.
        let aapl = try Dataset.sp500Stocks.load().between(try day("2018-12-01"), and: try day("2018-12-31")).series("AAPL")
        #expect(try u.panel.series("AAPL").last == aapl.last)
    }

    @Test("the extended universe: the same 29 assets monthly from 1990 to 2018, ETFs available from 2014-01-31")
    func extended() throws {
        let u = try MultiAssetUniverse.extended()
        let standard = try MultiAssetUniverse.standard()
        #expect(u.assets == standard.assets && u.assetClasses == standard.assetClasses)
        #expect(u.index.frequency == .monthly)
        guard case let .date(first)? = u.index.first else { Issue.record("no dated first row"); return }
        #expect(first.year == 1990)
        #expect(u.index.last == .date(try day("2018-12-31")))
        #expect(u.index.count > 340)
        let etfStart = try #require(u.index.position(of: try day("2014-01-31")))
        for (column, assetClass) in u.assetClasses.enumerated() {
            for row in 0..<u.index.count {
                let expected = assetClass != .etf || row >= etfStart
                if u.panel.mask[row, column] != expected {
                    Issue.record("availability of \(u.assets[column]) at row \(row) is \(!expected)")
                    return
                }
            }
        }
        // On the standard span the closes are the standard universe's, bit for bit (same sources, same resampling).
        let overlap = try u.panel.between(try day("2014-01-31"), and: try day("2018-12-31"))
        #expect(overlap.index.count == 60)
        #expect(overlap.close.elements == standard.panel.close.elements)
    }

    @Test("custom universes: inner join of components, repeated names rejected")
    func custom() throws {
        let a = try closePanel(["2022-01-03", "2022-01-04", "2022-01-05"], ["X"], [[1], [2], [3]]).labelled(.equity)
        let b = try closePanel(["2022-01-04", "2022-01-05"], ["Y"], [[5], [6]]).labelled(.bond)
        let u = try MultiAssetUniverse(components: [a, b])
        #expect(u.index.count == 2 && u.assetClasses == [.equity, .bond])
        expectMarketError(.invalidAssetName(name: "X", reason: "appears in more than one panel")) {
            try MultiAssetUniverse(components: [a, a])
        }
        let series = try closePanel(["2022-01-03"], ["R"], [[1]], kind: .series)
        expectMarketError(.invalidArgument(operation: "MultiAssetUniverse", message: "components must be price panels")) {
            try MultiAssetUniverse(components: [a, series])
        }
    }
}
