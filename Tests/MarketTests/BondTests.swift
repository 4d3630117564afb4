import Foundation
import Testing
@testable import Market

/// `Fixtures/market_bonds.json`, written by `Scripts/fixtures/market_analytics.py` (numpy sums, scipy brentq).
struct BondsFixture: Decodable {
    struct Case: Decodable {
        let face, couponRate: Double
        let frequency: Int
        let maturity, yieldRate: Double
        let compounding: String
        let solvedYield, dirty, clean, accrued, macaulay, modified, convexity: Double
    }
    struct Index: Decodable {
        let maturity: Double
        let frequency: Int
        let periodLength: Double
        let yields, taylor, repricing: [Double]
    }
    let cases: [Case]
    let index: Index
}

@Suite("Bonds")
struct BondTests {
    let fixture: BondsFixture = try! fixtures.load("market_bonds")

    @Test("Hull's 3-year 10% semiannual bond at a 12% continuous yield: P = 94.213, D = 2.653, C = 7.570")
    func hullDurationAndConvexity() throws {
        // Hull, Options, Futures, and Other Derivatives, "Interest rates" chapter, duration table and convexity:
        // flows 5 at 0.5…2.5 years and 105 at 3; B = Σ cᵢe^{−0.12tᵢ} = 94.213; D = Σ tᵢcᵢe^{−0.12tᵢ}/B = 2.653;
        // C = Σ tᵢ²cᵢe^{−0.12tᵢ}/B = 7.570.
        let bond = try FixedCouponBond(face: 100, couponRate: 0.10, frequency: 2, maturity: 3)
        let a = try bond.analytics(yield: 0.12, compounding: .continuous)
        #expect(abs(a.dirtyPrice - 94.213) < 5e-4)        // tolerance: Hull's 3 decimals
        #expect(abs(a.macaulayDuration - 2.653) < 5e-4)
        #expect(abs(a.convexity - 7.570) < 5e-4)
        #expect(a.modifiedDuration == a.macaulayDuration) // continuous compounding: exact identity
    }

    @Test("Hull's bond yield example: a 2-year 6% semiannual bond priced 98.39 yields 6.76% continuous")
    func hullYield() throws {
        let bond = try FixedCouponBond(face: 100, couponRate: 0.06, frequency: 2, maturity: 2)
        let solution = try bond.yield(cleanPrice: 98.39, compounding: .continuous)
        #expect(abs(solution.yield - 0.0676) < 5e-5)       // tolerance: Hull's 2 decimals in percent
        #expect(abs(solution.residual) <= 1e-12 * 100)
    }

    @Test("Fabozzi's 20-year 9% coupon bond at a 12% yield is priced 77.4306")
    func fabozziPrice() throws {
        // Fabozzi, Bond Markets, Analysis, and Strategies, pricing chapter: 40 semiannual coupons of 4.5 and
        // 100 at the end, discounted at 6 % per half year: 4.5·(1 − 1.06^{−40})/0.06 + 100·1.06^{−40} = 77.4306.
        let bond = try FixedCouponBond(face: 100, couponRate: 0.09, frequency: 2, maturity: 20)
        #expect(abs(try bond.cleanPrice(yield: 0.12) - 77.4306) < 5e-5)   // tolerance: 4 decimals
    }

    @Test("par bond: price = face, and Macaulay duration matches the closed form (1+y)/y·(1 − (1+y)^{−n}) in periods")
    func parBondClosedForm() throws {
        // Derivation: for a par bond (coupon c = y per period), D_periods = Σ k·c(1+y)^{−k} + n(1+y)^{−n}
        // = (1+y)/y · (1 − (1+y)^{−n}). 5-year 9 % semiannual at 9 %: y = 0.045, n = 10 →
        // 1.045/0.045 · (1 − 1.045^{−10}) = 23.2222 · 0.356072 = 8.2688 periods = 4.1344 years;
        // modified = 4.1344/1.045 = 3.9564.
        let bond = try FixedCouponBond(face: 100, couponRate: 0.09, frequency: 2, maturity: 5)
        let a = try bond.analytics(yield: 0.09)
        let y = 0.045, n = 10.0
        let closedForm = (1 + y) / y * (1 - pow(1 + y, -n)) / 2
        #expect(abs(a.dirtyPrice - 100) < 1e-12)                  // tolerance: 11 flows summed, a few ulps of 100
        #expect(abs(a.macaulayDuration - closedForm) < 1e-12)
        #expect(abs(a.macaulayDuration - 4.1344) < 5e-5)
        #expect(abs(a.modifiedDuration - 3.9564) < 5e-5)
        #expect(a.accruedInterest == 0)
    }

    @Test("price, accrued, durations, convexity and solved yields match numpy/scipy")
    func fixtureValues() throws {
        for c in fixture.cases {
            let bond = try FixedCouponBond(face: c.face, couponRate: c.couponRate, frequency: c.frequency, maturity: c.maturity)
            let compounding: YieldCompounding = c.compounding == "continuous" ? .continuous : .periodic
            let a = try bond.analytics(yield: c.yieldRate, compounding: compounding)
            // Tolerance 1e-13 scaled: same sums in the same order; pow may differ by an ulp.
            let label = "coupon \(c.couponRate) f=\(c.frequency) T=\(c.maturity)"
            #expect(close(a.dirtyPrice, c.dirty, 1e-13), "\(label) dirty \(a.dirtyPrice) vs \(c.dirty)")
            #expect(close(a.cleanPrice, c.clean, 1e-13), "\(label) clean")
            #expect(close(a.accruedInterest, c.accrued, 1e-13), "\(label) accrued")
            #expect(close(a.macaulayDuration, c.macaulay, 1e-13), "\(label) Macaulay")
            #expect(close(a.modifiedDuration, c.modified, 1e-13), "\(label) modified")
            #expect(close(a.convexity, c.convexity, 1e-13), "\(label) convexity")
            let solved = try bond.yield(cleanPrice: c.clean, compounding: compounding)
            // Tolerance 1e-12: the price tolerance 1e-12·face divided by a dollar duration ≥ 1e2·… keeps σ_y below 1e-13.
            #expect(abs(solved.yield - c.yieldRate) < 1e-12, "\(label) yield \(solved.yield) vs \(c.yieldRate)")
            #expect(abs(solved.yield - c.solvedYield) < 1e-12)
            #expect(solved.iterations < 30)
        }
    }

    @Test("settlement between coupons: accrued interest and the dirty/clean split")
    func betweenCoupons() throws {
        // 7.3 years of an annual bond: 8 coupons left, the next in 0.3 years, so 0.7 of the period has accrued.
        let bond = try FixedCouponBond(face: 100, couponRate: 0.05, frequency: 1, maturity: 7.3)
        #expect(bond.remainingCoupons == 8)
        #expect(abs(bond.fractionToNextCoupon - 0.3) < 1e-12)     // tolerance: 7.3 is not exact in binary
        #expect(abs(bond.accruedInterest - 3.5) < 1e-12)
        #expect(abs(bond.cashFlows[0].time - 0.3) < 1e-12)
        #expect(bond.cashFlows.last!.amount == 105)
        // The dirty price is continuous across a coupon date: just before, the coupon is in the price;
        // just after, it is gone and accrual restarts at zero (clean price continuous).
        let before = try FixedCouponBond(face: 100, couponRate: 0.05, frequency: 1, maturity: 7 + 1e-9)
        let after = try FixedCouponBond(face: 100, couponRate: 0.05, frequency: 1, maturity: 7 - 1e-9)
        #expect(abs(try before.cleanPrice(yield: 0.04) - after.cleanPrice(yield: 0.04)) < 1e-6)  // tolerance: 2e-9 years of drift
    }

    @Test("duration and convexity are the first two derivatives of price (finite differences)")
    func derivatives() throws {
        let bond = try FixedCouponBond(face: 100, couponRate: 0.045, frequency: 4, maturity: 12.4)
        for compounding in [YieldCompounding.periodic, .continuous] {
            let y = 0.05, h = 1e-5
            let a = try bond.analytics(yield: y, compounding: compounding)
            let up = try bond.dirtyPrice(yield: y + h, compounding: compounding)
            let down = try bond.dirtyPrice(yield: y - h, compounding: compounding)
            let slope = (up - down) / (2 * h), curvature = (up - 2 * a.dirtyPrice + down) / (h * h)
            // Tolerances: O(h²) truncation and ε·P/h² ≈ 1e-4 rounding in the second difference.
            #expect(abs(-slope / a.dirtyPrice - a.modifiedDuration) < 1e-7)
            #expect(abs(curvature / a.dirtyPrice - a.convexity) < 1e-3)
        }
    }

    @Test("constant-maturity index returns match the numpy fixture on the first 25 AAA yields")
    func constantMaturityFixture() throws {
        let f = fixture.index
        let taylor = ConstantMaturityBondIndex(maturity: f.maturity, frequency: f.frequency, periodLength: f.periodLength)
        var exact = taylor
        exact.method = .repricing
        let rt = try taylor.returns(yields: f.yields), re = try exact.returns(yields: f.yields)
        #expect(rt.count == 24 && re.count == 24)
        for t in 0..<24 {
            // Tolerance 1e-13 absolute: the same sums, returns of order 1e-2.
            #expect(abs(rt[t] - f.taylor[t]) < 1e-13, "taylor[\(t)] \(rt[t]) vs \(f.taylor[t])")
            #expect(abs(re[t] - f.repricing[t]) < 1e-13, "repricing[\(t)]")
        }
        // The embedded yields file loads the same first 25 AAA yields.
        let loaded = try Dataset.corporateYields.load().series("AAA").prefix(25).map { $0 / 100 }
        #expect(loaded == f.yields)
    }

    @Test("Taylor and exact repricing agree closely over 100 years of AAA and BAA yields")
    func taylorVersusRepricing() throws {
        // The Taylor form leaves out the roll-down cross term (∂D/∂T)·Δt·Δy, the Δy³ term and intra-period
        // compounding of the carry. Scripts/fixtures/market_analytics.py's formulas give, over 1919–2018,
        // mean |Taylor − exact| of 7.2e-5 (AAA) and 1.0e-4 (BAA) per month and a maximum of 7.0e-4 and 5.0e-3
        // (BAA in the 1930s). Tolerances: mean ≤ 1.5e-4, max ≤ 6e-3.
        let yields = try Dataset.corporateYields.load()
        for asset in ["AAA", "BAA"] {
            let y = try yields.series(asset).map { $0 / 100 }
            let taylor = try ConstantMaturityBondIndex().returns(yields: y)
            let exact = try ConstantMaturityBondIndex(method: .repricing).returns(yields: y)
            let gaps = zip(taylor, exact).map { abs($0 - $1) }
            let mean = gaps.reduce(0, +) / Double(gaps.count)
            #expect(mean <= 1.5e-4, "\(asset): mean gap \(mean)")
            #expect(gaps.max()! <= 6e-3, "\(asset): max gap \(gaps.max()!)")
            #expect(gaps.max()! > 1e-4, "\(asset): the two methods must not coincide")
        }
    }

    @Test("the AAA and BAA total-return indices: 1200 month ends, start at 100, plausible growth")
    func corporateIndices() throws {
        let panel = try ConstantMaturityBondIndex().corporateBondIndices()
        #expect(panel.assets == ["AAA-TR", "BAA-TR"])
        #expect(panel.assetClasses == [.bond, .bond])
        #expect(panel.timeCount == 1200)
        #expect(panel.index.first == .date(try day("1919-01-31")))
        #expect(panel.index.last == .date(try day("2018-12-31")))
        #expect(panel.close[0, 0] == 100 && panel.close[0, 1] == 100)
        // Annualized total return over 1919–2018 must lie between the lowest and highest yield of the period
        // (a long-only bond return is carry plus price changes that net out over a century).
        for a in 0..<2 {
            let growth = pow(panel.close[1199, a] / 100, 1.0 / (1199.0 / 12)) - 1
            #expect(growth > 0.04 && growth < 0.09, "\(panel.assets[a]) annualized \(growth)")
        }
        // BAA (riskier, higher yield) ends above AAA.
        #expect(panel.close[1199, 1] > panel.close[1199, 0])
        // Returns fall when yields rise: 1979-10 to 1980-02 saw a sharp rise in yields.
        let returns = try panel.simpleReturns()
        let yields = try Dataset.corporateYields.load()
        var agree = 0, total = 0
        for t in 0..<returns.timeCount {
            let dy = yields.close[t + 1, 0] - yields.close[t, 0]
            guard abs(dy) > 0.2 else { continue }
            total += 1
            if (dy > 0) == (returns.values[t, 0] < 0) { agree += 1 }
        }
        #expect(total > 10 && agree == total, "\(agree) of \(total) large yield moves had the expected sign")
    }

    @Test("bad bond inputs throw typed errors")
    func badInputs() {
        let op = "FixedCouponBond"
        expectMarketError(.invalidParameter(operation: op, parameter: "face", value: 0, reason: "must be positive")) {
            try FixedCouponBond(face: 0, couponRate: 0.05, maturity: 5)
        }
        expectMarketError(.invalidParameter(operation: op, parameter: "couponRate", value: -0.01, reason: "must be finite and non-negative")) {
            try FixedCouponBond(couponRate: -0.01, maturity: 5)
        }
        expectMarketError(.invalidParameter(operation: op, parameter: "frequency", value: 0, reason: "must be at least one coupon per year")) {
            try FixedCouponBond(couponRate: 0.05, frequency: 0, maturity: 5)
        }
        expectMarketError(.invalidParameter(operation: op, parameter: "maturity", value: -2, reason: "must be positive")) {
            try FixedCouponBond(couponRate: 0.05, maturity: -2)
        }
        expectMarketError(.invalidParameter(operation: "FixedCouponBond.yield(cleanPrice:)", parameter: "cleanPrice", value: -3,
                                            reason: "must be positive")) {
            try FixedCouponBond(couponRate: 0.05, maturity: 5).yield(cleanPrice: -3)
        }
        expectMarketError(.invalidParameter(operation: "FixedCouponBond.analytics", parameter: "yield", value: -2.5,
                                            reason: "a periodic yield must exceed −frequency")) {
            try FixedCouponBond(couponRate: 0.05, maturity: 5).analytics(yield: -2.5)
        }
        expectMarketError(.invalidParameter(operation: "ConstantMaturityBondIndex.returns", parameter: "yields[1]", value: .infinity,
                                            reason: "must be finite")) {
            try ConstantMaturityBondIndex().returns(yields: [0.05, .infinity])
        }
        expectMarketError(.invalidParameter(operation: "ConstantMaturityBondIndex.returns", parameter: "yields[2]", value: 0,
                                            reason: "must be positive")) {
            try ConstantMaturityBondIndex().returns(yields: [0.05, 0.04, 0])
        }
    }
}
