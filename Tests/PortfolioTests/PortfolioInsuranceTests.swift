import Foundation
import Linalg
import Market
import Testing
@testable import Portfolio

/// `Fixtures/portfolio_insurance.json`, written by `Scripts/fixtures/portfolio_insurance.py`: an
/// independent NumPy recursion in dollar holdings over S&P 500 daily returns, Sep 2008 – Mar 2009.
struct PortfolioInsuranceFixture: Decodable {
    struct Breach: Decodable {
        let period: Int
        let wealth: Double
        let floor: Double
    }

    struct Case: Decodable {
        let name: String
        let method: String
        let floorFraction: Double
        let multiplier: Double
        let band: Double?
        let maximumExposure: Double?
        let minimumExposure: Double?
        let initialWealth: Double?
        let exposures: [Double]
        let wealth: [Double]
        let floors: [Double]
        let rebalanced: [Bool]
        let breaches: [Breach]
    }

    let riskyReturns: [Double]
    let safeRates: [Double]
    let cases: [Case]
}

/// Agreement with the NumPy recursion: `max|ours − numpy| / max|numpy|` per path. The two
/// formulations (exposure fractions here, dollar holdings there) round differently, by a few ulps
/// per period over 146 periods.
private let pathTolerance = 1e-12

@Suite("Portfolio insurance (CPPI, TIPP)")
struct PortfolioInsuranceTests {
    @Test("paths match the independent NumPy recursion (1e-12 relative)",
          arguments: ["cppi-m4-f80", "tipp-m3-f85-band5", "cppi-m12-f90-gap", "tipp-m6-f70-bounds"])
    func fixtureParity(name: String) throws {
        let fixture: PortfolioInsuranceFixture = try fixtures.load("portfolio_insurance")
        let c = try #require(fixture.cases.first { $0.name == name })
        let insurance = PortfolioInsurance(method: try #require(PortfolioInsurance.Method(rawValue: c.method)),
                                           floorFraction: c.floorFraction, multiplier: c.multiplier,
                                           maximumExposure: c.maximumExposure ?? 1.5, minimumExposure: c.minimumExposure ?? 0,
                                           rebalancing: c.band.map { .toleranceBand($0) } ?? .everyPeriod,
                                           initialWealth: c.initialWealth ?? 1)
        let path = try insurance.simulate(riskyReturns: fixture.riskyReturns, safeRates: fixture.safeRates)
        #expect(worstRelativeError(path.exposures, c.exposures) <= pathTolerance)
        #expect(worstRelativeError(path.wealth, c.wealth) <= pathTolerance)
        #expect(worstRelativeError(path.floors, c.floors) <= pathTolerance)
        #expect(path.rebalanced == c.rebalanced)
        #expect(path.breaches.map(\.period) == c.breaches.map(\.period))
        for (ours, theirs) in zip(path.breaches, c.breaches) {
            #expect(abs(ours.wealth - theirs.wealth) <= pathTolerance * theirs.wealth)
        }
        // Invariants: exposures within bounds; wealth stays at or above the floor until the first breach.
        let lower = c.minimumExposure ?? 0, upper = c.maximumExposure ?? 1.5
        #expect(path.exposures.allSatisfy { $0 >= lower - 1e-15 && $0 <= upper + 1e-15 } || c.band != nil)
        let firstBreach = path.breaches.first?.period ?? fixture.riskyReturns.count
        #expect(path.cushions[0...firstBreach].allSatisfy { $0 >= 0 })
    }

    @Test("hand-checked 3-period CPPI: W₀ 100, floor 80, m 3, safe rate 0, returns +10%, −20%, +5% (1e-12)")
    func handChecked() throws {
        // t0: cushion 20, risky 60 (e 0.6); +10% → W 106.
        // t1: cushion 26, risky 78 (e 78/106); −20% → W 106 − 15.6 = 90.4.
        // t2: cushion 10.4, risky 31.2 (e 31.2/90.4); +5% → W 90.4 + 1.56 = 91.96.
        let insurance = PortfolioInsurance(method: .cppi, floorFraction: 0.8, multiplier: 3, initialWealth: 100)
        let path = try insurance.simulate(riskyReturns: [0.10, -0.20, 0.05], safeRate: 0)
        let expectedWealth: [Double] = [100, 106, 90.4, 91.96]
        let expectedExposure: [Double] = [0.6, 78 / 106, 31.2 / 90.4]
        for t in 0..<4 { #expect(abs(path.wealth[t] - expectedWealth[t]) <= 1e-12 * 100) }
        for t in 0..<3 { #expect(abs(path.exposures[t] - expectedExposure[t]) <= 1e-12) }
        #expect(path.floors == [80, 80, 80, 80])
        #expect(path.breaches.isEmpty)
    }

    @Test("hand-checked caps, safe accrual and TIPP ratchet (1e-12)")
    func handCheckedCapAndRatchet() throws {
        // CPPI m 10, floor 80 of 100: m·cushion = 200 is capped at 1.5·100 = 150; +10% risky, 1% safe:
        // W₁ = 100·(1 + 1.5·0.10 − 0.5·0.01) = 114.5; F₁ = 80·1.01 = 80.8.
        let capped = try PortfolioInsurance(method: .cppi, floorFraction: 0.8, multiplier: 10, initialWealth: 100)
            .simulate(riskyReturns: [0.10], safeRate: 0.01)
        #expect(capped.exposures == [1.5])
        #expect(abs(capped.wealth[1] - 114.5) <= 1e-12 * 100)
        #expect(abs(capped.floors[1] - 80.8) <= 1e-12 * 100)
        // TIPP m 2, floor 90% of the peak: e₀ = 0.2; +50% → W 110, F max(90, 99) = 99;
        // risky 2·11 = 22; −50% → W 99 = F (no breach); then e = 0.
        let tipp = try PortfolioInsurance(method: .tipp, floorFraction: 0.9, multiplier: 2, initialWealth: 100)
            .simulate(riskyReturns: [0.5, -0.5, 0.3], safeRate: 0)
        #expect(abs(tipp.wealth[2] - 99) <= 1e-12 * 100)
        #expect(abs(tipp.floors[2] - 99) <= 1e-12 * 100)
        #expect(abs(tipp.exposures[1] - 0.2) <= 1e-12)
        #expect(tipp.exposures[2] == 0)
        #expect(tipp.breaches.isEmpty)
    }

    @Test("a fall larger than 1/m between rebalances breaches the floor once (gap risk)")
    func gap() throws {
        // m 5, floor 80: e₀ = 1.0; a −25% day takes W to 75 < 80; later days stay below without new breaches.
        let path = try PortfolioInsurance(floorFraction: 0.8, multiplier: 5, initialWealth: 100)
            .simulate(riskyReturns: [-0.25, 0.01, 0.02], safeRate: 0)
        #expect(path.breaches == [FloorBreach(period: 0, wealth: 75, floor: 80)])
        #expect(path.exposures[1] == 0 && path.exposures[2] == 0)
    }

    @Test("insured weights scale the risky portfolio by the exposure; the rest is cash")
    func insuredWeights() throws {
        let inputs = try OptimizationInputs(assets: ["A", "B"], covariance: Matrix.diagonal([0.04, 0.09]))
        let allocation = try EqualWeight().fit(inputs)
        let levered = try PortfolioInsurance.insuredWeights(allocation, exposure: 1.2)
        #expect(levered.weights == [0.6, 0.6])
        #expect(abs(levered.cash + 0.2) <= 1e-15)
        #expect(throws: PortfolioError.self) { try PortfolioInsurance.insuredWeights(allocation, exposure: .nan) }
    }

    @Test("bad parameters and returns throw, naming the period")
    func errors() throws {
        func message(_ insurance: PortfolioInsurance, _ returns: [Double] = [0.01], safe: Double = 0) -> String? {
            do { _ = try insurance.simulate(riskyReturns: returns, safeRate: safe); return nil } catch { return "\(error)" }
        }
        #expect(message(PortfolioInsurance(floorFraction: 0.8, multiplier: 0))?.contains("multiplier") == true)
        #expect(message(PortfolioInsurance(floorFraction: 0.8, multiplier: -2))?.contains("multiplier") == true)
        #expect(message(PortfolioInsurance(floorFraction: 1, multiplier: 3))?.contains("floor fraction") == true)
        #expect(message(PortfolioInsurance(floorFraction: -0.1, multiplier: 3))?.contains("floor fraction") == true)
        #expect(message(PortfolioInsurance(floorFraction: 0.8, multiplier: 3, maximumExposure: 0.5, minimumExposure: 0.6)) != nil)
        #expect(message(PortfolioInsurance(floorFraction: 0.8, multiplier: 3, rebalancing: .toleranceBand(-1))) != nil)
        let valid = PortfolioInsurance(floorFraction: 0.8, multiplier: 3)
        let nan = try #require(message(valid, [0.01, 0.02, .nan]))
        #expect(nan.contains("observation 2"), "\(nan)")
        #expect(try #require(message(valid, [-1.5])).contains("observation 0"))
        #expect(try #require(message(valid, [0.01], safe: .infinity)).contains("safe"))
        #expect(throws: PortfolioError.self) { try valid.simulate(riskyReturns: [0.1, 0.2], safeRates: [0]) }
    }
}
