// Times MetaFolio's hierarchical and minimum-variance allocators for compare/portfolio.py and
// prints one JSON object with the medians (the shared rule of BenchmarkSupport/Timing.swift).
//
// Usage: PortfolioTimings [--budget SECONDS] [--min-reps N] [--max-reps N] [--only NAME,NAME...]
//
// Inputs (identical bits in compare/portfolio.py): daily returns r[t, j] = 0.01·(u[t, j] + m[t])
// with u the T × n SplitMix64 draws of seed 11 (row-major) and m the T draws of seed 12 (a common
// factor), all on [-1, 1).
// Kernels:
//   hrp 20x8312, hrp 500x2000  returns → sample covariance → single-linkage HRP weights;
//   minvar 500 cap5            annualized (×252) sample covariance of the 2000 × 500 returns →
//                              long-only minimum variance with 5% caps (covariance not timed).
// Checksums: Σⱼ (j + 1)·wⱼ of the weights, so the driver can check both sides agree.

#if canImport(Glibc)
import Glibc
#endif
import BenchmarkSupport
import Linalg
import Portfolio

let options = TimingOptions(arguments: CommandLine.arguments, program: "PortfolioTimings", maxReps: 2_000, maxWarmUpCalls: 100)

/// The benchmark returns `0.01·(u[t, j] + m[t])`, `periods × assets`.
func benchmarkReturns(periods: Int, assets: Int) throws -> ReturnObservations {
    let idiosyncratic = Matrix.benchmarkUniform(rows: periods, columns: assets, seed: 11)
    let market = Matrix.benchmarkUniform(rows: periods, columns: 1, seed: 12)
    let values = Matrix(rows: periods, columns: assets) { t, j in 0.01 * (idiosyncratic[t, j] + market[t, 0]) }
    return try ReturnObservations(assets: (0..<assets).map { "A\($0)" }, values: values)
}

func weightChecksum(_ allocation: PortfolioAllocation) -> Double {
    allocation.weights.enumerated().reduce(0) { $0 + Double($1.offset + 1) * $1.element }
}

var results: [KernelTiming] = []
do {
    for (periods, assets) in [(8_312, 20), (2_000, 500)] where options.wants("hrp \(assets)x\(periods)") {
        let returns = try benchmarkReturns(periods: periods, assets: assets)
        let hrp = HierarchicalRiskParity(linkage: .single)
        results.append(try timeKernel("hrp \(assets)x\(periods)", options) {
            try hrp.fit(OptimizationInputs(expectedReturns: nil, covariance: CovarianceEstimator().fit(returns)))
        } checksum: { weightChecksum($0) })
    }
    if options.wants("minvar 500 cap5") {
        let returns = try benchmarkReturns(periods: 2_000, assets: 500)
        let inputs = try OptimizationInputs(expectedReturns: nil, covariance: CovarianceEstimator().fit(returns))
        let optimizer = MeanVarianceOptimizer(objective: .minimumVariance, constraints: .boxed(0, 0.05))
        results.append(try timeKernel("minvar 500 cap5", options) {
            try optimizer.fit(inputs)
        } checksum: { weightChecksum($0) })
    }
} catch {
    printError("PortfolioTimings: \(error)")
    exit(1)
}

print(timingReport(results, openBLASThreads: openBLASThreadCount(), openBLASConfiguration: openBLASConfiguration()))
