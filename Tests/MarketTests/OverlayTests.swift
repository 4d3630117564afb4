import Foundation
import Testing
@testable import Market

@Suite("Option overlays")
struct OverlayTests {
    /// Business days from 2021-01-04 with a deterministic zig-zag price path.
    func synthetic(days: Int) throws -> (dates: [MarketDate], prices: [Double]) {
        var dates: [MarketDate] = []
        var date = try day("2021-01-04")
        while dates.count < days {
            if date.weekday.rawValue < 5 { dates.append(date) }
            date = date.adding(days: 1)
        }
        let prices = (0..<days).map { 100 * exp(0.0005 * Double($0) + 0.01 * sin(Double($0))) }
        return (dates, prices)
    }

    @Test("first month by hand: entry premium, daily marking and settlement at intrinsic value")
    func firstMonthByHand() throws {
        let (dates, prices) = try synthetic(days: 80)
        let vol = [Double](repeating: 0.2, count: 80), rate = [Double](repeating: 0.01, count: 80)
        let overlay = OptionOverlay(strategy: .protectivePut, realizedVolatilityWindow: 5)
        let series = try overlay.run(dates: dates, underlying: prices, impliedVolatility: vol, rate: rate)
        // Month ends in the calendar: 2021-01-29 (row 19), 2021-02-26 (row 39), 2021-03-31 (row 62); 2021-04-23 (row 79) ends the data.
        let first = series.rolls[0]
        #expect(first.date == (try day("2021-01-29")) && first.position == 19)
        #expect(first.expiry == (try day("2021-02-26")))
        #expect(first.strike == 0.95 * prices[19])
        let entry = try BlackScholesInputs(spot: prices[19], strike: first.strike, maturity: 28.0 / 365, rate: 0.01, volatility: 0.2)
        #expect(first.premium == BlackScholes.price(.put, entry))   // tolerance 0: the same computation
        // Day after the roll: marked with 25 calendar days left.
        let day1 = try BlackScholesInputs(spot: prices[20], strike: first.strike, maturity: 25.0 / 365, rate: 0.01, volatility: 0.2)
        let expected1 = (prices[20] + BlackScholes.price(.put, day1)) / (prices[19] + first.premium)
        #expect(abs(series.levels[1] - expected1) < 1e-15)          // tolerance: one rounding
        // At expiry the package is worth S + max(K − S, 0) ≥ K: the floor.
        let atExpiry = prices[39] + max(first.strike - prices[39], 0)
        #expect(abs(series.levels[20] - atExpiry / (prices[19] + first.premium)) < 1e-14)  // tolerance: 20 chained ratios
        #expect(series.rolls.count == 3)
        #expect(series.rolls[2].expiry == (try day("2021-04-30")))  // data end: calendar end of next month
        #expect(series.dates.count == 80 - 19 && series.levels.count == 61)
        #expect(series.impliedDays == 60 && series.realizedDays == 0)
    }

    @Test("realized volatility fills days without an implied volatility (window of 5 returns, √252)")
    func realizedFallback() throws {
        let (dates, prices) = try synthetic(days: 45)
        var vol = [Double](repeating: 0.3, count: 45)
        vol[19] = .nan
        let series = try OptionOverlay(strategy: .coveredCall, realizedVolatilityWindow: 5)
            .run(dates: dates, underlying: prices, impliedVolatility: vol, rate: [Double](repeating: 0.02, count: 45))
        let r = (15...19).map { log(prices[$0] / prices[$0 - 1]) }
        let mean = r.reduce(0, +) / 5
        let sd = (r.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 4 * 252).squareRoot()
        #expect(series.rolls[0].volatilitySource == .realized)
        #expect(abs(series.rolls[0].volatility - sd) < 1e-14)          // tolerance: summation order
        #expect(series.rolls[1].volatilitySource == .implied && series.rolls[1].volatility == 0.3)
    }

    @Test("S&P 500 overlays: the put floors and the call caps every monthly holding period")
    func sp500FloorAndCap() throws {
        for strategy in OptionOverlay.Strategy.allCases {
            let series = try OptionOverlay(strategy: strategy).sp500()
            #expect(series.dates.first == (try day("1990-01-31")))   // 22 trading days in January 1990: rows 0…21, 21 returns
            #expect(series.dates.last == (try day("2018-12-31")))
            let positions = Dictionary(uniqueKeysWithValues: series.dates.enumerated().map { ($1, $0) })
            for (k, roll) in series.rolls.enumerated() where k + 1 < series.rolls.count {
                let start = positions[roll.date]!, end = positions[series.rolls[k + 1].date]!
                let growth = series.levels[end] / series.levels[start]
                switch strategy {
                case .protectivePut:
                    // S_T + max(K − S_T, 0) ≥ K, so growth ≥ K / (S₀ + P₀). Tolerance 1e-12: chained ratios.
                    #expect(growth >= roll.strike / (roll.spot + roll.premium) - 1e-12, "floor broken after \(roll.date)")
                case .coveredCall:
                    // S_T − max(S_T − K, 0) ≤ K, so growth ≤ K / (S₀ − C₀).
                    #expect(growth <= roll.strike / (roll.spot - roll.premium) + 1e-12, "cap broken after \(roll.date)")
                }
            }
            // VIX is used from 2014 on (1255 of its days fall in the span with values); before, realized volatility.
            #expect(series.impliedDays > 1200 && series.realizedDays > 5500)
            let early = series.rolls.filter { $0.date.year < 2014 }, late = series.rolls.filter { $0.date.year >= 2014 }
            #expect(early.allSatisfy { $0.volatilitySource == .realized })
            #expect(late.filter { $0.volatilitySource == .implied }.count >= late.count - 3)
            #expect(series.rolls.allSatisfy { $0.rate.isFinite && $0.rate > -0.01 && $0.rate < 0.2 })
        }
    }

    @Test("the put overlay is less volatile than the index; the covered call earns premium in quiet markets")
    func sp500Character() throws {
        let put = try OptionOverlay(strategy: .protectivePut).sp500()
        let spx = try Dataset.sp500Index.load().between(put.dates[0], and: put.dates.last!).series("SP500")
        func vol(_ levels: [Double]) -> Double {
            let r = (1..<levels.count).map { log(levels[$0] / levels[$0 - 1]) }
            let m = r.reduce(0, +) / Double(r.count)
            return (r.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(r.count - 1)).squareRoot()
        }
        #expect(spx.count == put.levels.count)
        #expect(vol(put.levels) < 0.9 * vol(spx), "put \(vol(put.levels)) vs index \(vol(spx))")
        let panel = try put.panel(name: "SP500-PPUT")
        #expect(panel.assetClasses == [.derivative] && panel.close[0, 0] == 100)
    }

    @Test("bad overlay inputs throw typed errors")
    func badInputs() throws {
        let (dates, prices) = try synthetic(days: 45)
        let ones = [Double](repeating: 0.2, count: 45)
        let overlay = OptionOverlay(strategy: .protectivePut, realizedVolatilityWindow: 5)
        expectMarketError(.shapeMismatch(what: "OptionOverlay.run rate", expected: "45 values (one per date)", found: "44")) {
            try overlay.run(dates: dates, underlying: prices, impliedVolatility: ones, rate: Array(ones.dropLast()))
        }
        var bad = prices
        bad[7] = 0
        expectMarketError(.invalidParameter(operation: "OptionOverlay.run", parameter: "underlying[7] (2021-01-13)", value: 0,
                                            reason: "must be positive")) {
            try overlay.run(dates: dates, underlying: bad, impliedVolatility: ones, rate: ones)
        }
        var negative = ones
        negative[3] = -0.2
        expectMarketError(.invalidParameter(operation: "OptionOverlay.run", parameter: "impliedVolatility[3] (2021-01-07)",
                                            value: -0.2, reason: "must be positive")) {
            try overlay.run(dates: dates, underlying: prices, impliedVolatility: negative, rate: ones)
        }
        expectMarketError(.invalidParameter(operation: "OptionOverlay.run", parameter: "moneyness", value: 0, reason: "must be positive")) {
            try OptionOverlay(strategy: .coveredCall, moneyness: 0).run(dates: dates, underlying: prices, impliedVolatility: ones, rate: ones)
        }
        expectMarketError(.invalidParameter(operation: "OptionOverlay.run", parameter: "realizedVolatilityWindow", value: 1,
                                            reason: "needs at least 2 returns")) {
            try OptionOverlay(strategy: .coveredCall, realizedVolatilityWindow: 1)
                .run(dates: dates, underlying: prices, impliedVolatility: ones, rate: ones)
        }
        var rates = ones
        rates[39] = .nan      // the second roll day (2021-02-26)
        do {
            _ = try overlay.run(dates: dates, underlying: prices, impliedVolatility: ones, rate: rates)
            Issue.record("a missing rate on a roll day must throw")
        } catch let MarketError.invalidParameter(_, parameter, _, _) {
            #expect(parameter == "rate[39] (2021-02-26)")
        }
        expectMarketError(.duplicateIndexDate(position: 1, date: dates[0])) {
            try overlay.run(dates: [dates[0], dates[0]], underlying: [1, 1], impliedVolatility: [0.2, 0.2], rate: [0, 0])
        }
    }
}
