import COpenBLASThreads
import Linalg

extension SplitMix64 {
    /// The next draw, uniform on `[-1, 1)`: the top 53 bits scaled to `[0, 1)`, then `2u − 1`.
    ///
    /// Draw `i` (0-based) of the stream seeded with `s` is `mix(s + (i + 1)·γ)` with
    /// `γ = 0x9E3779B97F4A7C15` (Linalg's ``SplitMix64``); `compare/linalg_direct.c` and
    /// `compare/bench_common.py` reproduce it bit for bit, so every side times the same inputs.
    public mutating func nextSymmetricUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53 * 2 - 1
    }
}

/// Seeds of the benchmark inputs; the C and Python sides of the comparison use the same numbers.
public enum BenchmarkSeed {
    /// Left factor of the gemm benchmarks.
    public static let gemmA: UInt64 = 1
    /// Right factor of the gemm benchmarks.
    public static let gemmB: UInt64 = 2
    /// The matrix `X` whose Gram matrix is the SPD input of Cholesky and eigendecomposition.
    public static let spd: UInt64 = 3
    /// The observations of the covariance benchmarks.
    public static let covariance: UInt64 = 4
}

extension Matrix {
    /// A `rows × columns` matrix filled in row-major order with ``SplitMix64/nextSymmetricUnit()``
    /// draws from the stream seeded with `seed`.
    public static func benchmarkUniform(rows: Int, columns: Int, seed: UInt64) -> Matrix {
        var generator = SplitMix64(seed: seed)
        var result = Matrix(rows: rows, columns: columns)
        result.withUnsafeMutableBufferPointer { p in
            for k in p.indices { p[k] = generator.nextSymmetricUnit() }
        }
        return result
    }

    /// The symmetric positive-definite benchmark input `XᵀX / n + I`, with `X` the `n × n`
    /// ``benchmarkUniform(rows:columns:seed:)`` matrix for ``BenchmarkSeed/spd``.
    /// Its eigenvalues lie in `[1, ~5]`, so every factorization is well conditioned.
    public static func benchmarkSPD(order n: Int) -> Matrix {
        let x = benchmarkUniform(rows: n, columns: n, seed: BenchmarkSeed.spd)
        var gram = Matrix.identity(n)
        // Shapes are n × n by construction.
        try! BLAS.gemm(x, x, transposeA: true, alpha: 1 / Double(n), beta: 1, into: &gram)
        return gram
    }
}

/// The number of threads OpenBLAS runs level-3 calls on in this process.
public func openBLASThreadCount() -> Int {
    Int(metafolio_bench_openblas_threads())
}

/// OpenBLAS's own description of the library this process loaded: version, build options and
/// the CPU core type whose kernels it selected.
public func openBLASConfiguration() -> String {
    String(cString: metafolio_bench_openblas_config())
}
