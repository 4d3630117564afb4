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

/// Command-line options; the PyTorch worker takes the same ones.
struct Options {
    var budget = 1.0
    var minReps = 15
    var maxReps = 20_000
    var only: Set<String>? = nil

    init(arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { Self.fail("missing value after \(flag)") }
            switch flag {
            case "--budget": budget = Self.parse(flag, value)
            case "--min-reps": minReps = Self.parse(flag, value)
            case "--max-reps": maxReps = Self.parse(flag, value)
            case "--only": only = Set(value.split(separator: ",").map(String.init))
            default: Self.fail("unknown option \(flag)")
            }
        }
    }

    static func parse<Value: LosslessStringConvertible>(_ flag: String, _ text: String) -> Value {
        guard let value = Value(text) else { fail("bad value \(text) for \(flag)") }
        return value
    }

    static func fail(_ message: String) -> Never {
        printError("AutodiffTimings: \(message)")
        exit(2)
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// CLOCK_MONOTONIC in nanoseconds.
func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// The median of a non-empty sample.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : 0.5 * (sorted[middle - 1] + sorted[middle])
}

/// One kernel's timing, printed as one JSON object.
struct Result {
    let kernel: String
    let medianSeconds: Double
    let reps: Int
    let checksum: Double
    /// For a paired kernel: the median over pairs of (kernel time / baseline time), and the
    /// baseline's median time.
    var pairedRatio: Double? = nil
    var baselineSeconds: Double? = nil
}

/// Times `body` and `baseline` alternately, call by call (after the shared warm-up), and reports
/// `body`'s median time together with the median of the per-pair ratios `body / baseline`.
///
/// On a shared machine the load changes between (and within) separate timings; a ratio of two
/// calls made back to back is much less sensitive to that than a ratio of two medians.
func timePaired<Output>(_ kernel: String, _ options: Options, _ body: () -> Output, baseline: () -> Void,
                        checksum: (Output) -> Double) -> Result {
    var output = body()
    var warmCalls = 1
    let warmStart = now()
    while warmCalls < 3 || (now() - warmStart < 50_000_000 && warmCalls < 2_000) {
        output = body()
        baseline()
        warmCalls += 1
    }
    let perPair = Double(now() - warmStart) / 1e9 / Double(warmCalls - 1)
    let reps = min(options.maxReps, max(options.minReps, Int(2 * options.budget / perPair)))
    var times = [Double](repeating: 0, count: reps), baselines = times, ratios = times
    for index in 0..<reps {
        let start = now()
        output = body()
        let middle = now()
        baseline()
        let end = now()
        times[index] = Double(middle - start) / 1e9
        baselines[index] = Double(end - middle) / 1e9
        ratios[index] = times[index] / baselines[index]
    }
    return Result(kernel: kernel, medianSeconds: median(times), reps: reps, checksum: checksum(output),
                  pairedRatio: median(ratios), baselineSeconds: median(baselines))
}

/// Runs `body` under the shared warm-up / repetition rule; `checksum` reduces the last output.
func time<Output>(_ kernel: String, _ options: Options, _ body: () -> Output,
                  checksum: (Output) -> Double) -> Result {
    var output = body()
    var warmCalls = 1
    let warmStart = now()
    while warmCalls < 3 || (now() - warmStart < 50_000_000 && warmCalls < 2_000) {
        output = body()
        warmCalls += 1
    }
    let perCall = Double(now() - warmStart) / 1e9 / Double(warmCalls - 1)
    let reps = min(options.maxReps, max(options.minReps, Int(options.budget / perCall)))
    var samples = [Double](repeating: 0, count: reps)
    for index in 0..<reps {
        let start = now()
        output = body()
        samples[index] = Double(now() - start) / 1e9
    }
    return Result(kernel: kernel, medianSeconds: median(samples), reps: reps, checksum: checksum(output))
}

let options = Options(arguments: CommandLine.arguments)
func wanted(_ kernel: String) -> Bool { options.only?.contains(kernel) ?? true }

var results: [Result] = []

@MainActor
func perOp<Scalar: TensorScalar>(_ type: Scalar.Type, _ name: String) {
    guard wanted(name) else { return }
    let workload = PerOpWorkload<Scalar>()
    results.append(time(name, options, { workload.run() }, checksum: PerOpWorkload<Scalar>.checksum))
}
perOp(Float.self, "perop 4x4 f32")
perOp(Double.self, "perop 4x4 f64")

@MainActor
func matmul<Scalar: TensorScalar>(_ type: Scalar.Type, _ suffix: String) {
    let workload = MatmulWorkload<Scalar>(order: 256)
    if wanted("matmul 256 \(suffix)") {
        results.append(time("matmul 256 \(suffix)", options, { workload.run() },
                            checksum: { $0.reduce(0) { $0 + $1.checksum } }))
    }
    if wanted("gemm3 256 \(suffix)") {
        results.append(time("gemm3 256 \(suffix)", options, { workload.rawGemms() },
                            checksum: { workload.rawChecksum }))
    }
    if wanted("matmul vs gemm3 paired 256 \(suffix)") {
        results.append(timePaired("matmul vs gemm3 paired 256 \(suffix)", options, { workload.run() },
                                  baseline: { workload.rawGemms() },
                                  checksum: { $0.reduce(0) { $0 + $1.checksum } }))
    }
    if wanted("gemm3 alloc 256 \(suffix)") {
        results.append(time("gemm3 alloc 256 \(suffix)", options, { workload.rawGemmsAllocating() },
                            checksum: { $0.joined().reduce(0) { $0 + Double($1) } }))
    }
}
matmul(Float.self, "f32")
matmul(Double.self, "f64")

let elementwiseNames = ["add 1M f32", "exp 1M f32", "tanh 1M f32", "sum 1M f32"]
if elementwiseNames.contains(where: wanted) {
    let workload = ElementwiseWorkload(count: 1 << 20)
    let (u, v) = (workload.u, workload.v)
    if wanted("add 1M f32") { results.append(time("add 1M f32", options, { u + v }, checksum: \.checksum)) }
    if wanted("exp 1M f32") { results.append(time("exp 1M f32", options, { u.exp() }, checksum: \.checksum)) }
    if wanted("tanh 1M f32") { results.append(time("tanh 1M f32", options, { u.tanh() }, checksum: \.checksum)) }
    if wanted("sum 1M f32") { results.append(time("sum 1M f32", options, { u.sum() }, checksum: \.checksum)) }
}

let entries = results.map { result in
    var paired = ""
    if let ratio = result.pairedRatio, let baseline = result.baselineSeconds {
        paired = ", \"paired_ratio\": \(ratio), \"baseline_s\": \(baseline)"
    }
    return "    {\"kernel\": \"\(result.kernel)\", \"median_s\": \(result.medianSeconds), "
        + "\"reps\": \(result.reps), \"checksum\": \(result.checksum)\(paired)}"
}
print("""
{
  "implementation": "swift",
  "openblas_threads": \(openBLASThreadCount()),
  "openblas_config": "\(openBLASConfiguration())",
  "results": [
\(entries.joined(separator: ",\n"))
  ]
}
""")
