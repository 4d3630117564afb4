import Foundation
import Linalg
@testable import Strategies
import Testing

/// The OSBL batch sampler against eq. 26 of Jiang, Xu & Liang (2017): hand-derived probabilities,
/// χ² goodness of fit with fixed seeds, determinism and argument errors.
@Suite struct GeometricBatchSamplerTests {
    /// Pearson's χ² of `counts` against `probabilities` (each times the sample size).
    static func chiSquare(_ counts: [Int], _ probabilities: [Double]) -> Double {
        let n = Double(counts.reduce(0, +))
        return zip(counts, probabilities).reduce(0) { $0 + pow(Double($1.0) - n * $1.1, 2) / (n * $1.1) }
    }

    /// Counts of each admissible start over `draws` draws, oldest start first.
    static func counts(_ sampler: GeometricBatchSampler, first: Int, last: Int, draws: Int, seed: UInt64) throws -> [Int] {
        var g = Xoshiro256StarStar(seed: seed)
        let starts = try sampler.admissibleStarts(first: first, last: last)
        var counts = [Int](repeating: 0, count: starts.count)
        for _ in 0..<draws {
            let start = try sampler.nextStart(first: first, last: last, using: &g)
            counts[start - starts.lowerBound] += 1
        }
        return counts
    }

    @Test func admissibleStartsLeaveRoomForTheBatch() throws {
        let sampler = try GeometricBatchSampler(batchSize: 5, bias: 0.1)
        #expect(try sampler.admissibleStarts(first: 10, last: 29) == 10...25)
        #expect(try sampler.admissibleStarts(first: 10, last: 14) == 10...10)
        #expect(throws: StrategiesError.self) { try sampler.admissibleStarts(first: 10, last: 13) }
        var g = Xoshiro256StarStar(seed: 1)
        for _ in 0..<100 { #expect(try sampler.nextStart(first: 10, last: 14, using: &g) == 10) }
    }

    /// Eq. 26 with β = 0.1 over 21 starts: P(t_b) = β(1 − β)^(t − t_b − n_b) renormalized over the
    /// admissible starts, so the newest start has probability 0.1/(1 − 0.9²¹) ≈ 0.1123.
    /// Stated bar: χ² over 21 cells (20 degrees of freedom) below 45.31, the 0.1 % critical value,
    /// for 50 000 draws with each of three seeds.
    @Test(arguments: [UInt64(7), 8, 9])
    func geometricStartsFollowEquation26(seed: UInt64) throws {
        let beta = 0.1, batch = 4, first = 100, last = 123      // starts 100…120 → 21 cells
        let sampler = try GeometricBatchSampler(batchSize: batch, bias: beta)
        let starts = try sampler.admissibleStarts(first: first, last: last)
        #expect(starts.count == 21)
        let newest = starts.upperBound
        let raw = starts.map { beta * pow(1 - beta, Double(newest - $0)) }
        let total = raw.reduce(0, +)
        let probabilities = raw.map { $0 / total }
        #expect(Swift.abs(probabilities.last! - 0.1 / (1 - pow(0.9, 21))) < 1e-15)
        let counts = try Self.counts(sampler, first: first, last: last, draws: 50_000, seed: seed)
        let chi2 = Self.chiSquare(counts, probabilities)
        #expect(chi2 < 45.31, "χ² = \(chi2) over 21 cells (20 dof, 0.1 % critical value 45.31); counts \(counts)")
        // The newest start is the most frequent, and frequencies fall with age.
        #expect(counts.last! > counts.first! * 5)
    }

    /// β = 0 is uniform over the admissible starts. Stated bar as above: χ² over 10 cells (9 dof)
    /// below 27.88, the 0.1 % critical value.
    @Test func zeroBiasIsUniform() throws {
        let sampler = try GeometricBatchSampler(batchSize: 3, bias: 0)
        let counts = try Self.counts(sampler, first: 0, last: 11, draws: 20_000, seed: 3)
        #expect(counts.count == 10)
        let chi2 = Self.chiSquare(counts, [Double](repeating: 0.1, count: 10))
        #expect(chi2 < 27.88, "χ² = \(chi2); counts \(counts)")
    }

    /// The paper's β = 5·10⁻⁵ over 1000 starts: nearly uniform, the newest start's probability
    /// β/(1 − (1 − β)¹⁰⁰⁰) ≈ 1.025·10⁻³ against the oldest's ≈ 0.976·10⁻³. The mean age of a start
    /// is Σk·P(k) ≈ 495.33 (uniform: 499.5). Stated bar: the sample mean of 10⁶ ages within 4 standard
    /// errors (σ ≈ 288.66/√10⁶ ≈ 0.289) of the exact mean, which also rules out the uniform law (14 SE away).
    @Test func paperBiasSkewsSlightlyTowardsRecentBatches() throws {
        let beta = 5e-5, sampler = try GeometricBatchSampler(batchSize: 50, bias: beta)
        let weights = (0..<1000).map { pow(1 - beta, Double($0)) }
        let total = weights.reduce(0, +)
        let exactMean = weights.enumerated().reduce(0) { $0 + Double($1.offset) * $1.element } / total
        var g = Xoshiro256StarStar(seed: 11)
        let draws = 1_000_000
        var sum = 0.0
        for _ in 0..<draws { sum += Double(999 - (try sampler.nextStart(first: 0, last: 1048, using: &g))) }
        let mean = sum / Double(draws)
        #expect(Swift.abs(exactMean - 495.333) < 0.001)
        #expect(Swift.abs(mean - exactMean) < 4 * 0.289, "sample mean age \(mean), exact \(exactMean)")
    }

    @Test func sameSeedSameBatches() throws {
        let sampler = try GeometricBatchSampler()
        var a = Xoshiro256StarStar(seed: 42), b = Xoshiro256StarStar(seed: 42), c = Xoshiro256StarStar(seed: 43)
        let first = try (0..<50).map { _ in try sampler.nextStart(first: 49, last: 900, using: &a) }
        let second = try (0..<50).map { _ in try sampler.nextStart(first: 49, last: 900, using: &b) }
        let other = try (0..<50).map { _ in try sampler.nextStart(first: 49, last: 900, using: &c) }
        #expect(first == second)
        #expect(first != other)
    }

    @Test func rejectsBadArguments() {
        #expect(throws: StrategiesError.self) { try GeometricBatchSampler(batchSize: 0) }
        #expect(throws: StrategiesError.self) { try GeometricBatchSampler(bias: 1) }
        #expect(throws: StrategiesError.self) { try GeometricBatchSampler(bias: -0.1) }
        #expect(throws: StrategiesError.self) { try GeometricBatchSampler(bias: .nan) }
    }
}
