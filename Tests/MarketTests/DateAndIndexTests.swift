import Testing
@testable import Market

@Suite("MarketDate and TimeIndex")
struct DateAndIndexTests {
    @Test("civil conversion round-trips every day from 1600 to 2400 and matches known epochs")
    func civilRoundTrip() throws {
        // Known day numbers (days since 1970-01-01): exact integers, no tolerance.
        #expect(try MarketDate(year: 1970, month: 1, day: 1).daysSinceEpoch == 0)
        #expect(try MarketDate(year: 2000, month: 3, day: 1).daysSinceEpoch == 11_017)
        #expect(try MarketDate(year: 1900, month: 1, day: 1).daysSinceEpoch == -25_567)
        #expect(try MarketDate(year: 2022, month: 12, day: 28).daysSinceEpoch == 19_354)
        let start = try MarketDate(year: 1600, month: 1, day: 1).daysSinceEpoch
        let end = try MarketDate(year: 2400, month: 12, day: 31).daysSinceEpoch
        var previous = MarketDate(daysSinceEpoch: start - 1).components
        var firstFailure: Int? = nil
        for day in start...end where firstFailure == nil {
            let (y, m, d) = MarketDate(daysSinceEpoch: day).components
            // Consecutive days advance the day, or roll over the month or the year.
            let (py, pm, pd) = previous
            let next = pd < MarketDate.daysIn(year: py, month: pm) ? (py, pm, pd + 1) : (pm < 12 ? (py, pm + 1, 1) : (py + 1, 1, 1))
            if MarketDate.days(year: y, month: m, day: d) != day || next != (y, m, d) { firstFailure = day }
            previous = (y, m, d)
        }
        #expect(firstFailure == nil, "first failing day \(firstFailure ?? 0)")
    }

    @Test("weekday, end of month, leap years, ISO description")
    func calendarFacts() throws {
        #expect(try MarketDate(year: 2022, month: 12, day: 28).weekday == .wednesday)
        #expect(try MarketDate(year: 1970, month: 1, day: 1).weekday == .thursday)
        #expect(try MarketDate(year: 1969, month: 12, day: 29).weekday == .monday)
        #expect(try MarketDate(year: 2024, month: 2, day: 10).endOfMonth.description == "2024-02-29")
        #expect(try MarketDate(year: 1900, month: 2, day: 10).endOfMonth.description == "1900-02-28")
        #expect(try MarketDate(year: 2000, month: 2, day: 10).endOfMonth.description == "2000-02-29")
        #expect(throws: MarketError.invalidArgument(operation: "MarketDate", message: "2023-2-29 is not a calendar date")) {
            try MarketDate(year: 2023, month: 2, day: 29)
        }
    }

    @Test("parses ISO, M/D/YYYY, YYYYMM and YYYYMMDD; rejects malformed text")
    func parsing() throws {
        #expect(MarketDate("1990-01-02", format: .iso)?.description == "1990-01-02")
        #expect(MarketDate("2021-3-7", format: .iso)?.description == "2021-03-07")
        #expect(MarketDate("1/4/1999", format: .monthDayYear)?.description == "1999-01-04")
        #expect(MarketDate("12/31/2018", format: .monthDayYear)?.description == "2018-12-31")
        #expect(MarketDate("192607", format: .yearMonth)?.description == "1926-07-01")
        #expect(MarketDate("20240229", format: .compact)?.description == "2024-02-29")
        #expect(MarketDate(" 2020-01-02 ", format: .iso)?.description == "2020-01-02")
        for bad in ["2020-13-01", "2020-02-30", "2020/01/02", "20-01-02", "2020-01-02x", "", "2020-01", "13/1/2020", "192613"] {
            #expect(DateFormat.detect(bad).flatMap { MarketDate(bad, format: $0) } == nil, "\(bad)")
        }
        #expect(DateFormat.detect("1/1/1919") == .monthDayYear)
        #expect(DateFormat.detect("192607") == .yearMonth)
        #expect(DateFormat.detect("2014-01-02") == .iso)
        #expect(DateFormat.detect("A") == nil)
    }

    @Test("TimeIndex rejects unsorted and duplicate dates at their position")
    func indexValidation() throws {
        let d = try dates(["2020-01-02", "2020-01-03", "2020-01-03"])
        #expect(throws: MarketError.duplicateIndexDate(position: 2, date: d[2])) { try TimeIndex(dates: d) }
        let u = try dates(["2020-01-02", "2020-01-06", "2020-01-03"])
        #expect(throws: MarketError.unsortedIndex(position: 2, date: u[2], previous: u[1])) { try TimeIndex(dates: u) }
    }

    @Test("frequency inference from the median gap")
    func frequencyInference() throws {
        let business = try dates(["2022-01-03", "2022-01-04", "2022-01-05", "2022-01-06", "2022-01-07", "2022-01-10", "2022-01-11"])
        #expect(try TimeIndex(dates: business).frequency == .daily)
        let weekly = try dates(["2022-01-07", "2022-01-14", "2022-01-21", "2022-01-28", "2022-02-04"])
        #expect(try TimeIndex(dates: weekly).frequency == .weekly)
        let monthly = try dates(["2022-01-31", "2022-02-28", "2022-03-31", "2022-04-30", "2022-05-31"])
        #expect(try TimeIndex(dates: monthly).frequency == .monthly)
        let quarterly = try dates(["2022-03-31", "2022-06-30", "2022-09-30", "2022-12-31"])
        #expect(try TimeIndex(dates: quarterly).frequency == .quarterly)
        let yearly = try dates(["2019-12-31", "2020-12-31", "2021-12-31"])
        #expect(try TimeIndex(dates: yearly).frequency == .annual)
        let irregular = try dates(["2022-01-01", "2022-03-01", "2022-09-01"])
        #expect(try TimeIndex(dates: irregular).frequency == .irregular)
        #expect(TimeIndex(periodCount: 5).frequency == .periods)
    }

    @Test("lookup, slicing by dates, union and intersection")
    func lookupAndJoins() throws {
        let a = try TimeIndex(dates: dates(["2022-01-03", "2022-01-04", "2022-01-06"]))
        let b = try TimeIndex(dates: dates(["2022-01-04", "2022-01-05", "2022-01-06", "2022-01-07"]))
        #expect(a.position(of: try day("2022-01-06")) == 2)
        #expect(a.position(of: try day("2022-01-05")) == nil)
        #expect(try a.positions(from: day("2022-01-04"), through: day("2022-01-05")) == 1..<2)
        #expect(try TimeIndex.union([a, b]).dates == dates(["2022-01-03", "2022-01-04", "2022-01-05", "2022-01-06", "2022-01-07"]))
        #expect(try TimeIndex.intersection([a, b]).dates == dates(["2022-01-04", "2022-01-06"]))
        #expect(throws: MarketError.indexKindMismatch(operation: "TimeIndex.union")) {
            try TimeIndex.union([a, TimeIndex(periodCount: 3)])
        }
        #expect(try TimeIndex.union([TimeIndex(periods: 0..<3), TimeIndex(periods: 2..<5)]).labels == .periods(0..<5))
        let monthStarts = try TimeIndex(dates: dates(["1926-07-01", "1926-08-01", "1927-02-01"]))
        #expect(try monthStarts.movedToPeriodEnds(.monthly).dates == dates(["1926-07-31", "1926-08-31", "1927-02-28"]))
    }
}
