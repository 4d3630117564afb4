import Foundation
import Linalg
import Testing
@testable import Market

/// Timestamps from `YYYY-MM-DD HH:MM` texts.
func timestamps(_ texts: [String]) throws -> [MarketTimestamp] {
    try texts.map { text in
        guard let timestamp = MarketTimestamp(text) else { throw FixtureError(description: "bad fixture timestamp \(text)") }
        return timestamp
    }
}

/// An intraday close-only panel.
func intradayPanel(_ texts: [String], _ assets: [String], _ rows: [[Double?]], volume: [[Double?]]? = nil) throws -> PricePanel {
    try PricePanel(index: TimeIndex(timestamps: timestamps(texts)), assets: assets, close: matrix(rows),
                   volume: volume.map(matrix))
}

@Suite("Intraday time axis")
struct IntradayTests {
    @Test("timestamps parse every documented form and print YYYY-MM-DD HH:MM")
    func parsing() throws {
        let nine = try MarketTimestamp(date: day("2019-10-17"), hour: 9)
        // 2019-10-17 is day 18186 since 1970-01-01; 18186 · 1440 + 9 · 60 = 26 188 380 minutes.
        #expect(nine.minutesSinceEpoch == 26_188_380)
        #expect(MarketTimestamp("2019-10-17 09:00") == nine)
        #expect(MarketTimestamp("2019-10-17T09:00") == nine)
        #expect(MarketTimestamp("2019-10-17 09:00:00") == nine)
        #expect(MarketTimestamp(" 2019-10-17 09-AM ") == nine)
        #expect(MarketTimestamp("2017-07-01 12-AM") == MarketTimestamp("2017-07-01 00:00"))
        #expect(MarketTimestamp("2017-07-01 12-PM") == MarketTimestamp("2017-07-01 12:00"))
        #expect(MarketTimestamp("2017-07-01 01-PM") == MarketTimestamp("2017-07-01 13:00"))
        #expect(MarketTimestamp("2017-07-01")?.minuteOfDay == 0)
        let october17 = try day("2019-10-17")
        #expect(nine.description == "2019-10-17 09:00" && nine.hour == 9 && nine.minute == 0 && nine.date == october17)
        #expect(nine.adding(minutes: 15 * 60 + 30).description == "2019-10-18 00:30")
        for bad in ["2019-10-17 24:00", "2019-10-17 09:60", "2019-10-17 13-PM", "2019-10-17 00-AM", "2019-10-17 09:00:30",
                    "2019-10-17 9:00", "2019-02-30 09:00", "2019-10-17 09-XM", "09:00"] {
            #expect(MarketTimestamp(bad) == nil, "\(bad) must not parse")
        }
        #expect(throws: MarketError.self) { try MarketTimestamp(date: day("2019-10-17"), hour: 24) }
        // Before 1970 the day still floors correctly: 1969-12-31 23:30 is 30 minutes before the epoch.
        #expect(MarketTimestamp(minutesSinceEpoch: -30).description == "1969-12-31 23:30")
    }

    @Test("timestamps round-trip through JSON as text")
    func codable() throws {
        let values = try timestamps(["2019-10-17 09:00", "2020-02-29 23:30"])
        let data = try JSONEncoder().encode(values)
        #expect(String(decoding: data, as: UTF8.self) == #"["2019-10-17 09:00","2020-02-29 23:30"]"#)
        #expect(try JSONDecoder().decode([MarketTimestamp].self, from: data) == values)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([MarketTimestamp].self, from: Data(#"["17/10/2019"]"#.utf8)) }
    }

    @Test("frequency follows the bar spacing; annualisation counts every hour of the year")
    func frequencies() throws {
        let hourly = try TimeIndex(timestamps: timestamps(["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 02:00",
                                                            "2020-01-01 05:00", "2020-01-01 06:00"]))
        #expect(hourly.frequency == .hourly)
        let halfHourly = try TimeIndex(timestamps: timestamps(["2020-01-01 09:00", "2020-01-01 09:30", "2020-01-01 10:00"]))
        #expect(halfHourly.frequency == .halfHourly)
        let midnights = try TimeIndex(timestamps: timestamps(["2020-01-01 00:00", "2020-01-02 00:00", "2020-01-03 00:00"]))
        #expect(midnights.frequency == .daily)
        let odd = try TimeIndex(timestamps: timestamps(["2020-01-01 00:00", "2020-01-01 04:00", "2020-01-01 08:00"]))
        #expect(odd.frequency == .irregular)
        #expect(Frequency.hourly.periodsPerYear == Double(24 * 365))
        #expect(Frequency.halfHourly.periodsPerYear == Double(48 * 365))
        #expect(Frequency.daily.periodsPerYear == 252 && Frequency.periods.periodsPerYear == nil)
        #expect(Frequency.hourly.isIntraday && !Frequency.daily.isIntraday)
    }

    @Test("a timestamp index rejects repeats and disorder, naming the position")
    func validation() throws {
        let t = try timestamps(["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 00:30"])
        #expect(throws: MarketError.duplicateIndexTimestamp(position: 1, timestamp: t[0])) {
            try TimeIndex(timestamps: [t[0], t[0]])
        }
        #expect(throws: MarketError.unsortedTimestampIndex(position: 2, timestamp: t[2], previous: t[1])) {
            try TimeIndex(timestamps: t)
        }
    }

    @Test("lookup, slicing by day and by timestamp, and joins on timestamps")
    func lookupAndJoins() throws {
        let texts = ["2020-01-01 22:00", "2020-01-01 23:00", "2020-01-02 00:00", "2020-01-02 01:00", "2020-01-03 10:00"]
        let index = try TimeIndex(timestamps: timestamps(texts))
        let t = try timestamps(texts)
        #expect(index.isTimestamped && !index.isDated && index.dates == nil && index.timestamps == t)
        let january2 = try day("2020-01-02")
        #expect(index.position(of: t[3]) == 3 && index.position(of: january2) == nil)
        #expect(index.label(at: 4) == .timestamp(t[4]) && index.label(at: 4).description == "2020-01-03 10:00")
        #expect(try index.positions(from: day("2020-01-02"), through: day("2020-01-02")) == 2..<4)
        #expect(try index.positions(from: day("2020-01-02"), through: day("2020-01-05")) == 2..<5)
        #expect(try index.positions(from: t[1], through: t[3]) == 1..<4)
        #expect(try index.positions(from: MarketTimestamp("2020-01-01 22:30")!, through: MarketTimestamp("2020-01-02 00:59")!) == 1..<3)
        #expect(index[1..<3].timestamps == Array(t[1..<3]))
        #expect(throws: MarketError.indexKindMismatch(operation: "TimeIndex.positions(from:through:) with timestamps")) {
            try TimeIndex(dates: dates(["2020-01-01"])).positions(from: t[0], through: t[1])
        }
        let other = try TimeIndex(timestamps: timestamps(["2020-01-01 23:00", "2020-01-02 00:30", "2020-01-03 10:00"]))
        #expect(try TimeIndex.intersection([index, other]).timestamps == [t[1], t[4]])
        #expect(try TimeIndex.union([index, other]).count == 6)
        #expect(throws: MarketError.indexKindMismatch(operation: "TimeIndex.union")) {
            try TimeIndex.union([index, TimeIndex(dates: dates(["2020-01-01"]))])
        }
        let panel = try intradayPanel(texts, ["BTC"], [[1], [2], [3], [4], [5]])
        #expect(try panel.between(day("2020-01-02"), and: day("2020-01-02")).close.column(0) == [3, 4])
        #expect(try panel.between(t[0], and: t[1]).close.column(0) == [1, 2])
        // Reindexing onto dates would match nothing, so it is refused.
        #expect(throws: MarketError.indexKindMismatch(operation: "PricePanel.reindexed(to:)")) {
            try panel.reindexed(to: TimeIndex(dates: dates(["2020-01-02"])))
        }
        let aligned = try panel.reindexed(to: other, fill: .forward(limit: nil))
        // 2020-01-02 00:30 is absent from the panel: as pandas reindex + ffill, the previous target row's 2 is carried.
        #expect(aligned.close.column(0) == [2, 2, 5])
    }

    @Test("intraday bars resample to days (last bar, or OHLC candles) and on to weeks")
    func resampling() throws {
        let texts = ["2020-01-01 22:00", "2020-01-01 23:00", "2020-01-02 00:00", "2020-01-02 01:00", "2020-01-06 10:00"]
        let panel = try intradayPanel(texts, ["BTC", "ETH"], [[10, 1], [11, nil], [9, 2], [12, 3], [13, 4]],
                                      volume: [[1, 5], [2, nil], [3, 6], [4, 7], [5, 8]])
        let daily = try panel.resampled(to: .daily)
        #expect(daily.index.dates == (try dates(["2020-01-01", "2020-01-02", "2020-01-06"])))
        // Last present close per day: BTC 11, 12, 13; ETH's 23:00 bar is missing, so its last present is 1.
        #expect(daily.close.column(0) == [11, 12, 13] && daily.close.column(1) == [1, 3, 4])
        let candles = try panel.resampled(to: .daily, aggregation: .ohlc)
        #expect(candles.field(.open)!.column(0) == [10, 9, 13])
        #expect(candles.field(.high)!.column(0) == [11, 12, 13])
        #expect(candles.field(.low)!.column(0) == [10, 9, 13])
        #expect(candles.field(.volume)!.column(0) == [3, 7, 5] && candles.field(.volume)!.column(1) == [5, 13, 8])
        // Mask of the day = mask of its last bar: ETH has no close at 2020-01-01 23:00.
        #expect(daily.mask[0, 1] == false && daily.mask[1, 1] == true)
        let weekly = try panel.resampled(to: .weekly, label: .periodEnd)
        #expect(weekly.index.dates == (try dates(["2020-01-05", "2020-01-12"])))
        #expect(weekly.close.column(0) == [12, 13])
        // Daily data cannot be resampled to daily; hourly is never a target.
        #expect(throws: MarketError.invalidArgument(operation: "PricePanel.resampled", message: "cannot resample to daily")) {
            try daily.resampled(to: .daily)
        }
        #expect(throws: MarketError.invalidArgument(operation: "PricePanel.resampled", message: "cannot resample to hourly")) {
            try panel.resampled(to: .hourly)
        }
        #expect(throws: MarketError.indexKindMismatch(operation: "TimeIndex.movedToPeriodEnds")) {
            try panel.index.movedToPeriodEnds(.monthly)
        }
    }
}
