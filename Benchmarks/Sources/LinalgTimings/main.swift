// Times MetaFolio's Linalg kernels the same way `compare/linalg_direct.c` times direct OpenBLAS
// and `compare/linalg.py` times NumPy, and prints one JSON object with the medians.
//
// Usage: LinalgTimings [--budget SECONDS] [--min-reps N] [--max-reps N] [--only NAME,NAME...]
//
// Per kernel: warm up (at least 3 calls and 0.05 s; the first call is not counted in the warm-up
// mean), pick reps = clamp(budget / warm-up mean,
// min-reps, max-reps), time every call separately with CLOCK_MONOTONIC and report the median.
// The checksum of the last call's output (computed after the timing) lets the driver verify that
// all three implementations computed the same thing.

#if canImport(Glibc)
import Glibc
#endif
import BenchmarkSupport
import Linalg

let options = TimingOptions(arguments: CommandLine.arguments, program: "LinalgTimings", maxReps: 5_000, maxWarmUpCalls: 200)
func wanted(_ kernel: String) -> Bool { options.wants(kernel) }

var results: [KernelTiming] = []
do {
    for n in [64, 256, 1024] where wanted("gemm \(n)") {
        let a = Matrix.benchmarkUniform(rows: n, columns: n, seed: BenchmarkSeed.gemmA)
        let b = Matrix.benchmarkUniform(rows: n, columns: n, seed: BenchmarkSeed.gemmB)
        var c = Matrix(rows: n, columns: n)
        results.append(try timeKernel("gemm \(n)", options) {
            try BLAS.gemm(a, b, into: &c)
        } checksum: { c.elements.reduce(0, +) })
    }
    for n in [100, 500] {
        let spd = Matrix.benchmarkSPD(order: n)
        if wanted("cholesky \(n)") {
            results.append(try timeKernel("cholesky \(n)", options) {
                try Cholesky(spd)
            } checksum: { $0.lower.trace })
        }
        if wanted("eigh \(n)") {
            results.append(try timeKernel("eigh \(n)", options) {
                try SymmetricEigendecomposition(spd)
            } checksum: { $0.eigenvalues.reduce(0, +) })
        }
    }
    for (rows, columns) in [(8_000, 20), (2_000, 500)] where wanted("cov \(rows)x\(columns)") {
        let data = Matrix.benchmarkUniform(rows: rows, columns: columns, seed: BenchmarkSeed.covariance)
        results.append(try timeKernel("cov \(rows)x\(columns)", options) {
            try data.covariance()
        } checksum: { $0.trace })
    }
} catch {
    printError("LinalgTimings: \(error)")
    exit(1)
}

print(timingReport(results, openBLASThreads: openBLASThreadCount(), openBLASConfiguration: openBLASConfiguration()))
