import Foundation
import Testing
@testable import Market

/// `Fixtures/market_options.json`, written by `Scripts/fixtures/market_analytics.py` with scipy.stats.norm.
struct OptionsFixture: Decodable {
    struct Case: Decodable {
        let kind: String
        let spot, strike, maturity, rate, dividendYield, volatility: Double
        let price, delta, gamma, vega, theta, rho: Double
    }
    struct Implied: Decodable {
        let kind: String
        let spot, strike, maturity, rate, dividendYield, price, volatility: Double
    }
    let cases: [Case]
    let implied: [Implied]
}

/// Expects `body` to throw exactly `expected`.
func expectMarketError<T>(_ expected: MarketError, sourceLocation: SourceLocation = #_sourceLocation,
                          _ body: () throws -> T) {
    do {
        let value = try body()
        Issue.record("expected \(expected), got \(value)", sourceLocation: sourceLocation)
    } catch let error as MarketError {
        #expect(error == expected, sourceLocation: sourceLocation)
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

/// `|a − e| ≤ tolerance · max(1, |e|)`.
func close(_ a: Double, _ e: Double, _ tolerance: Double) -> Bool { abs(a - e) <= tolerance * max(1, abs(e)) }

@Suite("Black–Scholes–Merton")
struct BlackScholesTests {
    let fixture: OptionsFixture = try! fixtures.load("market_options")

    func inputs(_ c: OptionsFixture.Case) throws -> BlackScholesInputs {
        try BlackScholesInputs(spot: c.spot, strike: c.strike, maturity: c.maturity, rate: c.rate,
                               dividendYield: c.dividendYield, volatility: c.volatility)
    }

    @Test("Hull's worked example: S=42, K=40, r=10%, σ=20%, T=0.5 gives c = 4.76, p = 0.81")
    func hullExample() throws {
        // Hull, Options, Futures, and Other Derivatives, the Black–Scholes–Merton chapter's example:
        // d1 = (ln(42/40) + (0.10 + 0.02)·0.5) / (0.2·√0.5) = 0.7693, d2 = 0.6278,
        // c = 42·Φ(0.7693) − 40e^{−0.05}·Φ(0.6278) = 4.76, p = 40e^{−0.05}·Φ(−0.6278) − 42·Φ(−0.7693) = 0.81.
        let x = try BlackScholesInputs(spot: 42, strike: 40, maturity: 0.5, rate: 0.1, volatility: 0.2)
        #expect(abs(x.d1 - 0.7693) < 5e-5)           // tolerance: Hull rounds to 4 decimals
        #expect(abs(x.d2 - 0.6278) < 5e-5)
        #expect(abs(BlackScholes.price(.call, x) - 4.76) < 5e-3)   // Hull rounds to cents
        #expect(abs(BlackScholes.price(.put, x) - 0.81) < 5e-3)
    }

    @Test("prices and closed-form Greeks match scipy.stats.norm")
    func fixturePricesAndGreeks() throws {
        for c in fixture.cases {
            let g = BlackScholes.greeks(c.kind == "call" ? .call : .put, try inputs(c))
            // Tolerance 1e-12 scaled: erfc here vs scipy's ndtr differ by a few ulps.
            #expect(close(g.price, c.price, 1e-12), "\(c.kind) K=\(c.strike) price \(g.price) vs \(c.price)")
            #expect(close(g.delta, c.delta, 1e-12), "delta")
            #expect(close(g.gamma, c.gamma, 1e-12), "gamma")
            #expect(close(g.vega, c.vega, 1e-12), "vega")
            #expect(close(g.theta, c.theta, 1e-12), "theta")
            #expect(close(g.rho, c.rho, 1e-12), "rho")
            #expect(g.price == BlackScholes.price(c.kind == "call" ? .call : .put, try inputs(c)))
        }
    }

    @Test("put–call parity c − p = S e^{−qT} − K e^{−rT} to 1e-12 over a grid")
    func parity() throws {
        var worst = 0.0
        for strike in stride(from: 50.0, through: 200.0, by: 10) {
            for maturity in [1.0 / 365, 0.1, 0.5, 1, 3, 10] {
                for (rate, yield) in [(0.05, 0.0), (0.02, 0.03), (-0.01, 0.0)] {
                    for vol in [0.05, 0.2, 0.8] {
                        let x = try BlackScholesInputs(spot: 100, strike: strike, maturity: maturity, rate: rate,
                                                       dividendYield: yield, volatility: vol)
                        let lhs = BlackScholes.price(.call, x) - BlackScholes.price(.put, x)
                        worst = max(worst, abs(lhs - (x.discountedSpot - x.discountedStrike)))
                    }
                }
            }
        }
        // Tolerance 1e-12 absolute with prices up to ~150: a few ulps of the largest term.
        #expect(worst <= 1e-12, "worst parity gap \(worst)")
    }

    @Test("Greeks equal central finite differences of the price")
    func finiteDifferences() throws {
        for kind in OptionKind.allCases {
            for (s, k, t, r, q, v) in [(100.0, 100.0, 1.0, 0.05, 0.0, 0.2), (100, 70, 0.25, 0.03, 0.02, 0.4),
                                       (100, 140, 2.0, 0.01, 0.01, 0.25), (50, 52, 0.05, 0.04, 0.0, 0.3)] {
                let x = try BlackScholesInputs(spot: s, strike: k, maturity: t, rate: r, dividendYield: q, volatility: v)
                let g = BlackScholes.greeks(kind, x)
                func p(_ s: Double = s, _ t: Double = t, _ r: Double = r, _ v: Double = v) throws -> Double {
                    BlackScholes.price(kind, try BlackScholesInputs(spot: s, strike: k, maturity: t, rate: r,
                                                                   dividendYield: q, volatility: v))
                }
                let hs = 1e-4 * s, hv = 1e-5, ht = 1e-6, hr = 1e-6
                let delta = (try p(s + hs) - p(s - hs)) / (2 * hs)
                let gamma = (try p(s + hs) - 2 * p() + p(s - hs)) / (hs * hs)
                let vega = (try p(s, t, r, v + hv) - p(s, t, r, v - hv)) / (2 * hv)
                let theta = -(try p(s, t + ht) - p(s, t - ht)) / (2 * ht)
                let rho = (try p(s, t, r + hr) - p(s, t, r - hr)) / (2 * hr)
                // Tolerances: central differences have O(h²) truncation plus rounding ε·V/h;
                // 1e-6 scaled for first derivatives, 1e-4 for gamma (rounding ε·V/h² ≈ 1e-9 here).
                #expect(close(g.delta, delta, 1e-6), "\(kind) K=\(k) delta \(g.delta) vs \(delta)")
                #expect(close(g.gamma, gamma, 1e-4), "\(kind) K=\(k) gamma \(g.gamma) vs \(gamma)")
                #expect(close(g.vega, vega, 1e-6), "\(kind) K=\(k) vega \(g.vega) vs \(vega)")
                #expect(close(g.theta, theta, 1e-6), "\(kind) K=\(k) theta \(g.theta) vs \(theta)")
                #expect(close(g.rho, rho, 1e-6), "\(kind) K=\(k) rho \(g.rho) vs \(rho)")
            }
        }
    }

    @Test("implied volatility matches scipy brentq on the fixture quotes")
    func impliedFixture() throws {
        for c in fixture.implied {
            let result = try BlackScholes.impliedVolatility(c.kind == "call" ? .call : .put, price: c.price, spot: c.spot,
                                                            strike: c.strike, maturity: c.maturity, rate: c.rate,
                                                            dividendYield: c.dividendYield)
            // Tolerance 1e-10: both solve to ~1e-15 in σ; vega ≥ 5 here turns price ulps into < 1e-13 in σ.
            #expect(abs(result.volatility - c.volatility) < 1e-10, "\(c.kind) K=\(c.strike): \(result.volatility) vs \(c.volatility)")
            #expect(result.iterations >= 1 && result.iterations < 20)
        }
    }

    @Test("implied volatility round-trips over strikes 0.3–3 × spot, maturities 1 day – 10 years, vols 1%–300%")
    func impliedRoundTrip() throws {
        var solved = 0, worstVol = 0.0, mostIterations = 0
        for kind in OptionKind.allCases {
            for strike in [30.0, 50, 70, 85, 95, 100, 105, 115, 140, 200, 300] {
                for maturity in [1.0 / 365, 7.0 / 365, 1.0 / 12, 0.5, 1, 2, 10] {
                    for vol in [0.01, 0.1, 0.25, 0.6, 1.5, 3.0] {
                        let x = try BlackScholesInputs(spot: 100, strike: strike, maturity: maturity, rate: 0.03,
                                                       dividendYield: 0.01, volatility: vol)
                        let price = BlackScholes.price(kind, x)
                        let bounds = BlackScholes.noArbitrageBounds(kind, spot: 100, strike: strike, maturity: maturity,
                                                                    rate: 0.03, dividendYield: 0.01)
                        // Only identifiable quotes: the time value must exceed rounding of the price (~1e-13 · price)
                        // by a margin, and a vega large enough that 1e-12 price error means < 1e-6 in σ.
                        let timeValue = min(price - bounds.lower, bounds.upper - price)
                        let vega = BlackScholes.greeks(kind, x).vega
                        guard timeValue > 1e-9 * max(1, price), vega > 1e-6 else { continue }
                        let result = try BlackScholes.impliedVolatility(kind, price: price, spot: 100, strike: strike,
                                                                        maturity: maturity, rate: 0.03, dividendYield: 0.01)
                        // Price round trip to 10× the solver tolerance; vol to price error / vega plus slack.
                        let repriced = BlackScholes.price(kind, x.with(volatility: result.volatility))
                        #expect(abs(repriced - price) <= 1e-11 * max(1, price), "\(kind) K=\(strike) T=\(maturity) σ=\(vol)")
                        let volError = abs(result.volatility - vol)
                        #expect(volError <= 1e-6 * vol + 1e-10 * max(1, price) / vega,
                                "\(kind) K=\(strike) T=\(maturity) σ=\(vol): got \(result.volatility)")
                        worstVol = max(worstVol, volError / vol)
                        mostIterations = max(mostIterations, result.iterations)
                        solved += 1
                    }
                }
            }
        }
        #expect(solved > 600, "only \(solved) grid points were identifiable")
        #expect(mostIterations <= 100, "an inversion took \(mostIterations) iterations")
    }

    @Test("deep in- and out-of-the-money, short-dated quotes still invert")
    func impliedExtremes() throws {
        // Deep OTM put, one week: price ~1e-5, vega small but nonzero.
        let x = try BlackScholesInputs(spot: 100, strike: 80, maturity: 7.0 / 365, rate: 0.02, volatility: 0.45)
        let price = BlackScholes.price(.put, x)
        let r = try BlackScholes.impliedVolatility(.put, price: price, spot: 100, strike: 80, maturity: 7.0 / 365, rate: 0.02)
        #expect(abs(r.volatility - 0.45) < 1e-8)   // tolerance: price is 1e-3-ish, vega 0.1-ish
        // Deep ITM call: time value tiny relative to intrinsic.
        let y = try BlackScholesInputs(spot: 100, strike: 60, maturity: 0.25, rate: 0.05, volatility: 0.3)
        let deep = BlackScholes.price(.call, y)
        let s = try BlackScholes.impliedVolatility(.call, price: deep, spot: 100, strike: 60, maturity: 0.25, rate: 0.05)
        #expect(abs(s.volatility - 0.3) < 1e-6)     // tolerance: vega ≈ 0.003, price rounding 1e-14 → 1e-11 in σ
    }

    @Test("prices outside the no-arbitrage bounds are rejected with the bounds")
    func arbitrageBounds() throws {
        let kr = 100 * exp(-0.05)
        // A call worth more than the spot.
        expectMarketError(.priceOutsideNoArbitrageBounds(operation: "BlackScholes.impliedVolatility", price: 101,
                                                         lower: 100 - kr, upper: 100)) {
            try BlackScholes.impliedVolatility(.call, price: 101, spot: 100, strike: 100, maturity: 1, rate: 0.05)
        }
        // A call below intrinsic value S − Ke^{−rT}.
        expectMarketError(.priceOutsideNoArbitrageBounds(operation: "BlackScholes.impliedVolatility", price: 4,
                                                         lower: 100 - kr, upper: 100)) {
            try BlackScholes.impliedVolatility(.call, price: 4, spot: 100, strike: 100, maturity: 1, rate: 0.05)
        }
        // A put above the discounted strike.
        expectMarketError(.priceOutsideNoArbitrageBounds(operation: "BlackScholes.impliedVolatility", price: 96,
                                                         lower: 0, upper: kr)) {
            try BlackScholes.impliedVolatility(.put, price: 96, spot: 100, strike: 100, maturity: 1, rate: 0.05)
        }
        // Exactly at the lower bound: zero volatility is not a positive solution.
        expectMarketError(.priceOutsideNoArbitrageBounds(operation: "BlackScholes.impliedVolatility", price: 100 - kr,
                                                         lower: 100 - kr, upper: 100)) {
            try BlackScholes.impliedVolatility(.call, price: 100 - kr, spot: 100, strike: 100, maturity: 1, rate: 0.05)
        }
    }

    @Test("bad inputs throw a typed error naming the parameter")
    func badInputs() {
        let op = "BlackScholesInputs"
        expectMarketError(.invalidParameter(operation: op, parameter: "volatility", value: -0.2, reason: "must be positive")) {
            try BlackScholesInputs(spot: 100, strike: 100, maturity: 1, rate: 0.05, volatility: -0.2)
        }
        expectMarketError(.invalidParameter(operation: op, parameter: "spot", value: 0, reason: "must be positive")) {
            try BlackScholesInputs(spot: 0, strike: 100, maturity: 1, rate: 0.05, volatility: 0.2)
        }
        expectMarketError(.invalidParameter(operation: op, parameter: "strike", value: -5, reason: "must be positive")) {
            try BlackScholesInputs(spot: 100, strike: -5, maturity: 1, rate: 0.05, volatility: 0.2)
        }
        expectMarketError(.invalidParameter(operation: op, parameter: "maturity", value: 0, reason: "must be positive")) {
            try BlackScholesInputs(spot: 100, strike: 100, maturity: 0, rate: 0.05, volatility: 0.2)
        }
        expectMarketError(.invalidParameter(operation: op, parameter: "rate", value: .infinity, reason: "must be finite")) {
            try BlackScholesInputs(spot: 100, strike: 100, maturity: 1, rate: .infinity, volatility: 0.2)
        }
        let iv = "BlackScholes.impliedVolatility"
        expectMarketError(.invalidParameter(operation: iv, parameter: "price", value: 0, reason: "must be positive")) {
            try BlackScholes.impliedVolatility(.call, price: 0, spot: 100, strike: 100, maturity: 1, rate: 0.05)
        }
        expectMarketError(.invalidParameter(operation: iv, parameter: "maturity", value: -1, reason: "must be positive")) {
            try BlackScholes.impliedVolatility(.call, price: 5, spot: 100, strike: 100, maturity: -1, rate: 0.05)
        }
        expectMarketError(.invalidParameter(operation: iv, parameter: "strike", value: 0, reason: "must be positive")) {
            try BlackScholes.impliedVolatility(.put, price: 5, spot: 100, strike: 0, maturity: 1, rate: 0.05)
        }
    }
}

@Suite("Futures cost of carry")
struct CostOfCarryTests {
    @Test("Hull's index futures example: S=1300, r=5%, q=1%, T=4 months gives F = 1317.45")
    func hullIndexFutures() throws {
        // F = 1300·e^{(0.05 − 0.01)·4/12} = 1300·1.013423 = 1317.45 (Hull, "Determination of forward and
        // futures prices", the stock-index example).
        let f = try CostOfCarry.fairValue(spot: 1300, maturity: 4.0 / 12, rate: 0.05, dividendYield: 0.01)
        #expect(abs(f - 1317.45) < 5e-3)   // tolerance: Hull rounds to cents
        #expect(abs(try CostOfCarry.basis(spot: 1300, futures: f) + 17.449404185645) < 1e-9)
        #expect(abs(try CostOfCarry.impliedCarry(spot: 1300, futures: f, maturity: 4.0 / 12) - 0.04) < 1e-14)
    }

    @Test("known income and storage: F = (S − I)e^{(r+u)T}")
    func incomeAndStorage() throws {
        // By hand: a coupon of 40 in 4 months discounted at 3 %: I = 40e^{−0.01} = 39.60199;
        // r = 9 % over 9 months: F = (900 − 39.60199)·e^{0.0675} = 860.39801 · 1.069830 = 920.480.
        let income = 40 * exp(-0.03 * 4 / 12)
        let f = try CostOfCarry.fairValue(spot: 900, maturity: 0.75, rate: 0.09, incomePresentValue: income)
        #expect(abs(f - 920.480) < 5e-4)    // tolerance: the hand value's last digit
        let g = try CostOfCarry.fairValue(spot: 50, maturity: 1, rate: 0.04, storageCost: 0.02, convenienceYield: 0.01)
        #expect(abs(g - 50 * exp(0.05)) < 1e-12)   // tolerance: one exp, identical formula
    }

    @Test("bad futures inputs are rejected")
    func bad() {
        expectMarketError(.invalidParameter(operation: "CostOfCarry.fairValue", parameter: "spot", value: -1, reason: "must be positive")) {
            try CostOfCarry.fairValue(spot: -1, maturity: 1, rate: 0.05)
        }
        expectMarketError(.invalidParameter(operation: "CostOfCarry.fairValue", parameter: "maturity", value: -0.5,
                                            reason: "must be finite and non-negative")) {
            try CostOfCarry.fairValue(spot: 100, maturity: -0.5, rate: 0.05)
        }
        expectMarketError(.invalidParameter(operation: "CostOfCarry.fairValue", parameter: "incomePresentValue", value: 120,
                                            reason: "must be in [0, spot)")) {
            try CostOfCarry.fairValue(spot: 100, maturity: 1, rate: 0.05, incomePresentValue: 120)
        }
        expectMarketError(.invalidParameter(operation: "CostOfCarry.basis", parameter: "futures", value: 0, reason: "must be positive")) {
            try CostOfCarry.basis(spot: 100, futures: 0)
        }
    }
}
