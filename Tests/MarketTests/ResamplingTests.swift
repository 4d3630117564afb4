import Linalg
import Testing
@testable import Market

/// `Fixtures/market_resample.json`, written by `Scripts/fixtures/market.py` from pandas.
struct ResampleFixture: Decodable {
    struct Expected: Decodable {
        let lastObservation: [String]
        let periodEnd: [String]
        let last: [String: [[Double?]]]
        let ohlc: [String: [[Double?]]]
        let closeOnlyOHLC: [String: [[Double?]]]
    }
    let dates: [String]
    let assets: [String]
    let input: [String: [[Double?]]]
    let weekly: Expected
    let monthly: Expected
}

@Suite("Resampling")
struct ResamplingTests {
    let fixture: ResampleFixture
    let panel: PricePanel

    init() throws {
        fixture = try fixtures.load("market_resample")
        let input = fixture.input
        panel = try PricePanel(index: TimeIndex(dates: dates(fixture.dates)), assets: fixture.assets,
                               close: matrix(input["close"]!), open: matrix(input["open"]!), high: matrix(input["high"]!),
                               low: matrix(input["low"]!), volume: matrix(input["volume"]!))
    }

    static let fieldNames: [(String, PriceField)] = [("open", .open), ("high", .high), ("low", .low), ("close", .close), ("volume", .volume)]

    func check(_ frequency: Frequency, _ expected: ResampleFixture.Expected) throws {
        let byLast = try panel.resampled(to: frequency, aggregation: .last, label: .lastObservation)
        #expect(byLast.index.dates == (try dates(expected.lastObservation)))
        let byEnd = try panel.resampled(to: frequency, aggregation: .last, label: .periodEnd)
        #expect(byEnd.index.dates == (try dates(expected.periodEnd)))
        // Selection only (no arithmetic): tolerance 0.
        for (name, field) in Self.fieldNames {
            expectClose(try #require(byLast.field(field)), try matrix(expected.last[name]!), tolerance: 0, "\(frequency) last \(name)")
        }
        let candles = try panel.resampled(to: frequency, aggregation: .ohlc)
        for (name, field) in Self.fieldNames {
            // open/high/low/close are selections (tolerance 0); volume sums integers below 2^53 exactly (tolerance 0).
            expectClose(try #require(candles.field(field)), try matrix(expected.ohlc[name]!), tolerance: 0, "\(frequency) ohlc \(name)")
        }
        let closeOnly = try PricePanel(index: panel.index, assets: panel.assets, close: panel.close)
        let built = try closeOnly.resampled(to: frequency, aggregation: .ohlc)
        for (name, field) in Self.fieldNames where field != .close && field != .volume {
            expectClose(try #require(built.field(field)), try matrix(expected.closeOnlyOHLC[name]!), tolerance: 0,
                        "\(frequency) close-only ohlc \(name)")
        }
        #expect(built.field(.volume) == nil)
        // The mask of a bucket is the mask at its last date.
        let lastRows = try dates(expected.lastObservation).map { try #require(panel.index.position(of: $0)) }
        for (b, row) in lastRows.enumerated() {
            for a in 0..<panel.assetCount { #expect(byLast.mask[b, a] == panel.mask[row, a]) }
        }
    }

    @Test("weekly (Monday–Sunday) resampling matches pandas groupby(to_period('W-SUN'))")
    func weekly() throws { try check(.weekly, fixture.weekly) }

    @Test("monthly resampling matches pandas groupby(to_period('M'))")
    func monthly() throws { try check(.monthly, fixture.monthly) }

    @Test("resampling needs dates and a coarser frequency")
    func invalid() throws {
        let periods = try PricePanel(index: TimeIndex(periodCount: 2), assets: ["A"], close: Matrix([[1], [2]]))
        #expect(throws: MarketError.indexKindMismatch(operation: "PricePanel.resampled")) { try periods.resampled(to: .weekly) }
        #expect(throws: MarketError.invalidArgument(operation: "PricePanel.resampled", message: "cannot resample to daily")) {
            try panel.resampled(to: .daily)
        }
    }

    @Test("quarterly and annual period ends")
    func quarterlyAnnual() throws {
        let quarterly = try panel.resampled(to: .quarterly, label: .periodEnd)
        #expect(quarterly.index.dates == (try dates(["2022-03-31", "2022-06-30"])))
        let annual = try panel.resampled(to: .annual, label: .lastObservation)
        #expect(annual.index.dates == (try dates(["2022-04-29"])))
        // The annual close is the last present close of each asset: selection, tolerance 0.
        expectClose(annual.close, try Matrix([panel.close.column(0).last { !$0.isNaN }!, panel.close.column(1).last { !$0.isNaN }!].map { [$0] }).transposed(),
                    tolerance: 0, "annual close")
    }
}
