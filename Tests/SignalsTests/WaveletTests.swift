import Foundation
import Testing
@testable import Signals

struct MRAFixture: Decodable {
    struct Case: Decodable {
        let wavelet: String
        let levels: Int
        let components: [[Double]]
        let swtNorm: [[Double]]
    }
    let series: [Double]
    let cases: [Case]
}

/// A deterministic test signal of any length: two cycles, a trend and a pseudo-random wiggle.
func testSignal(_ n: Int) -> [Double] {
    (0..<n).map { t in
        let x = Double(t)
        return (2 * Double.pi * x / 23).sin_ + 0.4 * (2 * Double.pi * x / 4.3).cos_ + 0.01 * x + 0.1 * ((x * 12.9898).sin_ * 43758.5453).truncatingRemainder(dividingBy: 1)
    }
}

extension Double {
    var sin_: Double { Foundation.sin(self) }
    var cos_: Double { Foundation.cos(self) }
}

@Suite struct WaveletTests {
    /// MODWT MRA vs `pywt.mra(transform="swt", mode="periodization")` on a dyadic length (128).
    /// Tolerance 1e-12 absolute (signal of order 1): different but exactly equivalent filter
    /// conventions (see MultiresolutionAnalysis), so only rounding differs.
    @Test func mraMatchesPyWavelets() throws {
        let f: MRAFixture = try fixtures.load("mra")
        for c in f.cases {
            let mra = try MultiresolutionAnalysis(f.series, filter: WaveletFilter(c.wavelet), levels: c.levels)
            // PyWavelets orders [S_J, D_J, …, D_1].
            expectSeries(mra.smooth, c.components[0], tolerance: 1e-12, "\(c.wavelet) S\(c.levels)")
            for j in 1...c.levels {
                expectSeries(mra.details[j - 1], c.components[c.levels - j + 1], tolerance: 1e-12, "\(c.wavelet) D\(j)")
            }
        }
    }

    /// The documented coefficient relation to `pywt.swt(norm=True)`: with the reversed filter,
    /// `cDⱼ[t] = −W̃ⱼ[(t + (2ʲ−1)L/2) mod N]`, `cA_J[t] = Ṽ_J[(t + (2ᴶ−1)L/2) mod N]`; tolerance 1e-12 absolute.
    @Test func coefficientsMatchPyWaveletsSWTAfterReversalAndShift() throws {
        let f: MRAFixture = try fixtures.load("mra")
        let n = f.series.count
        for c in f.cases {
            let filter = try WaveletFilter(c.wavelet).reversed()
            let w = try MODWT(f.series, filter: filter, levels: c.levels)
            func shifted(_ x: [Double], level j: Int, sign: Double) -> [Double] {
                let s = ((1 << j) - 1) * filter.length / 2
                return (0..<n).map { sign * x[($0 + s) % n] }
            }
            expectSeries(shifted(w.smooth, level: c.levels, sign: 1), c.swtNorm[0], tolerance: 1e-12, "\(c.wavelet) cA")
            for j in 1...c.levels {
                expectSeries(shifted(w.details[j - 1], level: j, sign: -1), c.swtNorm[c.levels - j + 1], tolerance: 1e-12, "\(c.wavelet) cD\(j)")
            }
        }
    }

    /// Exact reconstruction for every filter, both boundaries and non-dyadic lengths: the MRA sums to
    /// the signal and the inverse MODWT returns it, each to 1e-12 absolute; energy is preserved to 1e-10 relative.
    @Test(arguments: ["haar", "db2", "db3", "db4", "db5", "db6", "db7", "db8", "db9", "db10", "la8", "sym5", "la16", "sym10", "coif1", "coif3", "coif5"])
    func exactReconstruction(name: String) throws {
        let filter = try WaveletFilter(name)
        #expect(Swift.abs(filter.scaling.reduce(0, +) - 2.0.squareRoot()) < 1e-12)
        for n in [37, 100, 257] {
            let x = testSignal(n)
            for boundary in WaveletBoundary.allCases {
                let transform = try MODWT(x, filter: filter, levels: 4, boundary: boundary)
                let sum = transform.multiresolution().reconstruction
                #expect(zip(sum, x).allSatisfy { Swift.abs($0 - $1) <= 1e-12 }, "\(name) n=\(n) \(boundary) MRA sum")
                #expect(zip(transform.inverse(), x).allSatisfy { Swift.abs($0 - $1) <= 1e-12 }, "\(name) n=\(n) \(boundary) inverse")
                if boundary == .periodic {
                    let energy = x.reduce(0) { $0 + $1 * $1 }
                    let coefficients = transform.details.reduce(transform.smooth.reduce(0) { $0 + $1 * $1 }) { $0 + $1.reduce(0) { $0 + $1 * $1 } }
                    #expect(Swift.abs(coefficients - energy) <= 1e-10 * energy, "\(name) n=\(n) energy")
                }
            }
        }
    }

    /// The causal MRA sums to the signal at every t after warm-up (1e-12), its warm-up is 2^J − 1 NaN,
    /// and it differs from the two-sided MRA (it cannot see the future).
    @Test func causalMRASumsAndWarmUp() throws {
        let x = testSignal(120)
        let causal = try CausalMultiresolution.compute(x, filter: WaveletFilter("db4"), levels: 3, window: 64)
        #expect(causal.smooth.prefix(7).allSatisfy(\.isNaN) && !causal.smooth[7].isNaN)
        let sum = causal.reconstruction
        for t in 7..<x.count { #expect(Swift.abs(sum[t] - x[t]) <= 1e-12) }
        let batch = try MultiresolutionAnalysis(x, filter: WaveletFilter("db4"), levels: 3, boundary: .reflection)
        #expect(zip(causal.smooth.dropFirst(7), batch.smooth.dropFirst(7)).contains { Swift.abs($0 - $1) > 1e-6 })
    }

    @Test func badInputThrowsTypedErrors() throws {
        #expect(throws: SignalsError.unknownWavelet(name: "db42")) { try WaveletFilter("db42") }
        #expect(try WaveletFilter("LA8").name == "sym4" && WaveletFilter("d4").name == "db2" && WaveletFilter("c12").name == "coif2")
        #expect(throws: SignalsError.seriesTooShort(operation: "MODWT", length: 10, required: 16)) {
            try MODWT(testSignal(10), filter: WaveletFilter("haar"), levels: 4)
        }
        #expect(throws: SignalsError.invalidParameter(operation: "MODWT", parameter: "levels", value: "40", reason: "must be ≤ 30")) {
            try MODWT(testSignal(10), filter: WaveletFilter("haar"), levels: 40)
        }
        #expect(throws: SignalsError.nonFinite(operation: "MODWT", position: 3)) {
            try MODWT([1, 2, 3, .infinity, 5, 6, 7, 8], filter: WaveletFilter("haar"), levels: 1)
        }
        #expect(throws: SignalsError.invalidParameter(operation: "CausalMultiresolution", parameter: "window", value: "8", reason: "must be ≥ 2^levels = 16")) {
            try CausalMultiresolution.compute(testSignal(40), filter: WaveletFilter("haar"), levels: 4, window: 8)
        }
    }
}
