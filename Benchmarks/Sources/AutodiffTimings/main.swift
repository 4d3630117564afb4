// Times MetaFolio's Autodiff the same way `compare/autodiff.py` times PyTorch (CPU) and prints one
// JSON object with the medians.
//
// Usage: AutodiffTimings [--budget SECONDS] [--min-reps N] [--max-reps N] [--only NAME,NAME...]
//
// Per kernel: warm up (at least 3 calls and 0.05 s; the first call is not counted in the warm-up
// mean), pick reps = clamp(budget / warm-up mean, min-reps, max-reps), time every call separately
// with CLOCK_MONOTONIC and report the median. The checksum of the last call's output (computed
// after the timing) lets the driver verify that both sides computed the same thing.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Autodiff
import AutodiffWorkloads
import BenchmarkSupport

/// Times `body` and `baseline` alternately, call by call (after the shared warm-up), and reports
/// `body`'s median time together with the median of the per-pair ratios `body / baseline`.
///
/// On a shared machine the load changes between (and within) separate timings; a ratio of two
/// calls made back to back is much less sensitive to that than a ratio of two medians.
func timePaired<Output>(_ kernel: String, _ options: TimingOptions, _ body: () -> Output, baseline: () -> Void,
                        checksum: (Output) -> Double) -> KernelTiming {
    var (reps, output) = warmUp(options, budgetScale: 2) { () -> Output in
        let result = body()
        baseline()
        return result
    }
    var times = [Double](repeating: 0, count: reps), baselines = times, ratios = times
    for index in 0..<reps {
        let start = monotonicNanoseconds()
        output = body()
        let middle = monotonicNanoseconds()
        baseline()
        let end = monotonicNanoseconds()
        times[index] = Double(middle - start) / 1e9
        baselines[index] = Double(end - middle) / 1e9
        ratios[index] = times[index] / baselines[index]
    }
    return KernelTiming(kernel: kernel, medianSeconds: median(times), reps: reps, checksum: checksum(output),
                        pairedRatio: median(ratios), baselineSeconds: median(baselines))
}

let options = TimingOptions(arguments: CommandLine.arguments, program: "AutodiffTimings", maxReps: 20_000, maxWarmUpCalls: 2_000)
/// Kernels named "… tuned …" run with `AllocatorTuning.retainFreedMemory()`, a process-wide setting,
/// so only in a process that times nothing else (the driver runs one kernel per process).
let allocatorTuned = options.only.map { !$0.isEmpty && $0.allSatisfy { $0.contains("tuned") } } ?? false
if allocatorTuned && !AllocatorTuning.retainFreedMemory() { options.fail("mallopt refused the allocator settings") }
func wanted(_ kernel: String) -> Bool { options.wants(kernel) && kernel.contains("tuned") == allocatorTuned }

var results: [KernelTiming] = []

@MainActor
func perOp<Scalar: TensorScalar>(_ type: Scalar.Type, _ name: String) {
    guard wanted(name) else { return }
    let workload = PerOpWorkload<Scalar>()
    results.append(timeKernel(name, options, { workload.run() }, checksum: PerOpWorkload<Scalar>.checksum))
}
perOp(Float.self, "perop 4x4 f32")
perOp(Double.self, "perop 4x4 f64")

@MainActor
func matmul<Scalar: TensorScalar>(_ type: Scalar.Type, _ suffix: String) {
    let workload = MatmulWorkload<Scalar>(order: 256)
    if wanted("matmul 256 \(suffix)") {
        results.append(timeKernel("matmul 256 \(suffix)", options, { workload.run() },
                            checksum: { $0.reduce(0) { $0 + $1.checksum } }))
    }
    if wanted("gemm3 256 \(suffix)") {
        results.append(timeKernel("gemm3 256 \(suffix)", options, { workload.rawGemms() },
                            checksum: { workload.rawChecksum }))
    }
    if wanted("matmul tuned 256 \(suffix)") {
        results.append(timeKernel("matmul tuned 256 \(suffix)", options, { workload.run() },
                            checksum: { $0.reduce(0) { $0 + $1.checksum } }))
    }
    if wanted("matmul vs gemm3 paired 256 \(suffix)") {
        results.append(timePaired("matmul vs gemm3 paired 256 \(suffix)", options, { workload.run() },
                                  baseline: { workload.rawGemms() },
                                  checksum: { $0.reduce(0) { $0 + $1.checksum } }))
    }
    if wanted("gemm3 alloc 256 \(suffix)") {
        results.append(timeKernel("gemm3 alloc 256 \(suffix)", options, { workload.rawGemmsAllocating() },
                            checksum: { $0.joined().reduce(0) { $0 + Double($1) } }))
    }
}
matmul(Float.self, "f32")
matmul(Double.self, "f64")

let elementwiseNames = ["add 1M f32", "exp 1M f32", "tanh 1M f32", "sum 1M f32"]
if elementwiseNames.contains(where: wanted) {
    let workload = ElementwiseWorkload(count: 1 << 20)
    let (u, v) = (workload.u, workload.v)
    if wanted("add 1M f32") { results.append(timeKernel("add 1M f32", options, { u + v }, checksum: \.checksum)) }
    if wanted("exp 1M f32") { results.append(timeKernel("exp 1M f32", options, { u.exp() }, checksum: \.checksum)) }
    if wanted("tanh 1M f32") { results.append(timeKernel("tanh 1M f32", options, { u.tanh() }, checksum: \.checksum)) }
    if wanted("sum 1M f32") { results.append(timeKernel("sum 1M f32", options, { u.sum() }, checksum: \.checksum)) }
}

@MainActor
func lstmStep<Scalar: TensorScalar>(_ type: Scalar.Type, _ name: String) {
    guard wanted(name) else { return }
    let workload = LSTMStepWorkload<Scalar>()
    results.append(timeKernel(name, options, { workload.run() }, checksum: { _ in workload.firstLoss ?? .nan }))
}
lstmStep(Float.self, "lstm step f32")
lstmStep(Double.self, "lstm step f64")
lstmStep(Float.self, "lstm step tuned f32")
lstmStep(Double.self, "lstm step tuned f64")

print(timingReport(results, openBLASThreads: openBLASThreadCount(), openBLASConfiguration: openBLASConfiguration()))
