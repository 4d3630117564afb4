// MetaFolio Linalg kernels under ordo-one/benchmark.
//
// Inputs are built once per benchmark in its `setup` closure (outside the measurement) from the
// seeded SplitMix64 streams in BenchmarkSupport. gemm writes into a preallocated output, so its
// `Malloc (total)` row must read 0; the factorizations and covariance allocate their results by API
// design, and their malloc counts show exactly how many allocations one call makes.
//
// OpenBLAS's thread count comes from OPENBLAS_NUM_THREADS (`make bench` sets it, default 1).

import Benchmark
import BenchmarkSupport
import Linalg

/// Holds the gemm operands and the preallocated output. A class, so the benchmark mutates `c` in
/// place (a `var` copy of a struct would share storage with the setup state and copy on write).
final class GemmState {
    let a: Matrix
    let b: Matrix
    var c: Matrix

    init(order n: Int) {
        a = .benchmarkUniform(rows: n, columns: n, seed: BenchmarkSeed.gemmA)
        b = .benchmarkUniform(rows: n, columns: n, seed: BenchmarkSeed.gemmB)
        c = Matrix(rows: n, columns: n)
    }
}

/// The suite: registered by package-benchmark's generated entry point.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 5,
        maxDuration: .seconds(2),
        maxIterations: 2_000
    )

    for n in [64, 256, 1024] {
        Benchmark("gemm \(n)x\(n)") { benchmark, state in
            for _ in benchmark.scaledIterations {
                do {
                    try BLAS.gemm(state.a, state.b, into: &state.c)
                } catch {
                    benchmark.error("gemm failed: \(error)")
                }
            }
            blackHole(state.c[0, 0])
        } setup: {
            GemmState(order: n)
        }
    }

    for n in [100, 500] {
        Benchmark("Cholesky \(n)x\(n)") { benchmark, spd in
            for _ in benchmark.scaledIterations {
                do {
                    blackHole(try Cholesky(spd))
                } catch {
                    benchmark.error("Cholesky failed: \(error)")
                }
            }
        } setup: {
            Matrix.benchmarkSPD(order: n)
        }

        Benchmark("SymmetricEigendecomposition \(n)x\(n)") { benchmark, spd in
            for _ in benchmark.scaledIterations {
                do {
                    blackHole(try SymmetricEigendecomposition(spd))
                } catch {
                    benchmark.error("SymmetricEigendecomposition failed: \(error)")
                }
            }
        } setup: {
            Matrix.benchmarkSPD(order: n)
        }
    }

    for (rows, columns) in [(8_000, 20), (2_000, 500)] {
        Benchmark("covariance \(rows)x\(columns)") { benchmark, data in
            for _ in benchmark.scaledIterations {
                do {
                    blackHole(try data.covariance())
                } catch {
                    benchmark.error("covariance failed: \(error)")
                }
            }
        } setup: {
            Matrix.benchmarkUniform(rows: rows, columns: columns, seed: BenchmarkSeed.covariance)
        }
    }
}
