import Foundation
import Linalg
import Testing
@testable import Market

/// `Fixtures/market_prng.json`, written by `Scripts/fixtures/market_analytics.py` from the published algorithms.
struct PRNGFixture: Decodable {
    let splitmix64Seed0: [String]
    let xoshiroSeed42: [String]
}

@Suite("Synthetic regime-switching markets")
struct SyntheticMarketTests {
    /// Two assets, two regimes: a calm bull and a volatile, correlated bear.
    func market() throws -> RegimeSwitchingMarket {
        let calm = RegimeSwitchingMarket.Regime(mean: [0.001, 0.0005], covariance: try Matrix([[1e-4, 2e-5], [2e-5, 4e-5]]))
        let stress = RegimeSwitchingMarket.Regime(mean: [-0.002, 0.0], covariance: try Matrix([[9e-4, 5.4e-4], [5.4e-4, 4e-4]]))
        return try RegimeSwitchingMarket(regimes: [calm, stress], transition: try Matrix([[0.98, 0.02], [0.05, 0.95]]),
                                         initial: [1, 0])
    }

    @Test("SplitMix64 and xoshiro256** reproduce the reference outputs")
    func generators() throws {
        let fixture: PRNGFixture = try fixtures.load("market_prng")
        var split = SplitMix64(seed: 0)
        #expect((0..<5).map { _ in String(split.next()) } == fixture.splitmix64Seed0)   // exact: integer arithmetic
        var xoshiro = Xoshiro256StarStar(seed: 42)
        #expect((0..<5).map { _ in String(xoshiro.next()) } == fixture.xoshiroSeed42)
        // 16294208416658607535 = 0xE220A8397B1DCDAF, the well-known first output of SplitMix64 from seed 0.
        #expect(UInt64(fixture.splitmix64Seed0[0]) == 0xE220_A839_7B1D_CDAF)
    }

    @Test("uniforms lie in [0, 1) and normals have mean 0 and variance 1 (200 000 draws)")
    func distributions() {
        var rng = Xoshiro256StarStar(seed: 7)
        var sum = 0.0, sumSquares = 0.0, fourth = 0.0
        let n = 200_000
        for _ in 0..<n {
            let u = rng.nextUniform()
            #expect(u >= 0 && u < 1)
            let z = rng.nextNormal()
            sum += z; sumSquares += z * z; fourth += z * z * z * z
        }
        let mean = sum / Double(n), variance = sumSquares / Double(n) - mean * mean
        // Tolerances: 5 standard errors (1/√n = 0.0022 for the mean, √2/√n = 0.0032 for the variance, √96/√n ≈ 0.022 for E z⁴ = 3).
        #expect(abs(mean) < 0.011)
        #expect(abs(variance - 1) < 0.016)
        #expect(abs(fourth / Double(n) - 3) < 0.11)
    }

    @Test("the same seed gives the same bits; another seed gives another path")
    func reproducible() throws {
        let m = try market()
        let a = try m.simulate(steps: 500, seed: 2024), b = try m.simulate(steps: 500, seed: 2024)
        #expect(a.regimes == b.regimes)
        #expect(a.logReturns.elements.map(\.bitPattern) == b.logReturns.elements.map(\.bitPattern))
        #expect(a.prices.close.elements.map(\.bitPattern) == b.prices.close.elements.map(\.bitPattern))
        let c = try m.simulate(steps: 500, seed: 2025)
        #expect(c.logReturns.elements != a.logReturns.elements)
    }

    @Test("per-regime sample moments and transition frequencies approach the true parameters (200 000 steps)")
    func moments() throws {
        let m = try market()
        let path = try m.simulate(steps: 200_000, seed: 11)
        #expect(path.regimes[0] == 0)                       // initial distribution [1, 0]
        for k in 0..<2 {
            let rows = path.regimes.indices.filter { path.regimes[$0] == k }
            let sample = Matrix(rows: rows.count, columns: 2) { i, j in path.logReturns[rows[i], j] }
            let cov = try sample.covariance()
            let truth = m.regimes[k]
            for j in 0..<2 {
                let mean = sample.column(j).reduce(0, +) / Double(rows.count)
                let standardError = (truth.covariance[j, j] / Double(rows.count)).squareRoot()
                // Tolerance: 5 standard errors of the mean.
                #expect(abs(mean - truth.mean[j]) < 5 * standardError, "regime \(k) asset \(j) mean \(mean)")
                for i in 0..<2 {
                    // Tolerance: 5 standard errors of a Gaussian sample covariance, √((σᵢᵢσⱼⱼ + σᵢⱼ²)/N).
                    let se = ((truth.covariance[i, i] * truth.covariance[j, j] + pow(truth.covariance[i, j], 2)) / Double(rows.count)).squareRoot()
                    #expect(abs(cov[i, j] - truth.covariance[i, j]) < 5 * se, "regime \(k) cov[\(i),\(j)]")
                }
            }
            // Transition frequencies out of regime k: binomial standard error √(p(1−p)/N).
            let exits = rows.filter { $0 + 1 < path.regimes.count }
            let stay = Double(exits.filter { path.regimes[$0 + 1] == k }.count) / Double(exits.count)
            let p = m.transition[k, k]
            #expect(abs(stay - p) < 5 * (p * (1 - p) / Double(exits.count)).squareRoot(), "regime \(k) stays \(stay)")
        }
        // Stationary share of regime 0 is 0.05 / (0.02 + 0.05) = 5/7; loose tolerance for the autocorrelated chain.
        let share = Double(path.regimes.filter { $0 == 0 }.count) / 200_000
        #expect(abs(share - 5.0 / 7) < 0.02)
        // Prices are the exponentiated cumulative log returns.
        #expect(abs(log(path.prices.close[200_000, 1] / 100) - path.logReturns.column(1).reduce(0, +)) < 1e-9)
    }

    @Test("bad parameters throw typed errors")
    func badInputs() throws {
        let calm = RegimeSwitchingMarket.Regime(mean: [0, 0], covariance: try Matrix([[1, 0], [0, 1]]))
        expectMarketError(.shapeMismatch(what: "RegimeSwitchingMarket transition", expected: "1×1", found: "2×2")) {
            try RegimeSwitchingMarket(regimes: [calm], transition: try Matrix([[1, 0], [0, 1]]))
        }
        expectMarketError(.invalidArgument(operation: "RegimeSwitchingMarket",
                                           message: "transition row 0 must be non-negative and sum to 1, got [0.5, 0.4]")) {
            try RegimeSwitchingMarket(regimes: [calm, calm], transition: try Matrix([[0.5, 0.4], [0.5, 0.5]]))
        }
        let notPD = RegimeSwitchingMarket.Regime(mean: [0, 0], covariance: try Matrix([[1, 2], [2, 1]]))
        expectMarketError(.invalidArgument(operation: "RegimeSwitchingMarket",
                                           message: "regime 1 covariance is not symmetric positive definite")) {
            try RegimeSwitchingMarket(regimes: [calm, notPD], transition: try Matrix([[0.5, 0.5], [0.5, 0.5]]))
        }
        let short = RegimeSwitchingMarket.Regime(mean: [0], covariance: try Matrix([[1]]))
        expectMarketError(.shapeMismatch(what: "RegimeSwitchingMarket regime 1", expected: "mean 2, covariance 2×2",
                                         found: "mean 1, covariance 1×1")) {
            try RegimeSwitchingMarket(regimes: [calm, short], transition: try Matrix([[0.5, 0.5], [0.5, 0.5]]))
        }
        let m = try RegimeSwitchingMarket(regimes: [calm], transition: try Matrix([[1]]))
        expectMarketError(.invalidArgument(operation: "RegimeSwitchingMarket.simulate", message: "steps 0 must be ≥ 1")) {
            try m.simulate(steps: 0, seed: 1)
        }
        expectMarketError(.invalidParameter(operation: "RegimeSwitchingMarket.simulate", parameter: "startPrices[1]", value: -1,
                                            reason: "must be positive")) {
            try m.simulate(steps: 3, seed: 1, startPrices: [1, -1])
        }
    }
}
