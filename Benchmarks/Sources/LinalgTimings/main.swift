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
#elseif canImport(Darwin)
import Darwin
#endif
import BenchmarkSupport
import Linalg

/// Command-line options; the C program and the NumPy worker take the same ones.
struct Options {
    var budget = 1.0
    var minReps = 15
    var maxReps = 5_000
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
        printError("LinalgTimings: \(message)")
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
}

/// Runs `body` under the shared warm-up / repetition rule. `checksum` reduces the last call's
/// output to one number after the timing, so the reduction is not part of any timed call.
func time<Output>(_ kernel: String, _ options: Options, _ body: () throws -> Output,
                  checksum: (Output) -> Double) rethrows -> Result {
    var output = try body()
    var warmCalls = 1
    let warmStart = now()
    while warmCalls < 3 || (now() - warmStart < 50_000_000 && warmCalls < 200) {
        output = try body()
        warmCalls += 1
    }
    let perCall = Double(now() - warmStart) / 1e9 / Double(warmCalls - 1)
    let reps = min(options.maxReps, max(options.minReps, Int(options.budget / perCall)))
    var samples = [Double](repeating: 0, count: reps)
    for index in 0..<reps {
        let start = now()
        output = try body()
        samples[index] = Double(now() - start) / 1e9
    }
    return Result(kernel: kernel, medianSeconds: median(samples), reps: reps, checksum: checksum(output))
}

let options = Options(arguments: CommandLine.arguments)
func wanted(_ kernel: String) -> Bool { options.only?.contains(kernel) ?? true }

var results: [Result] = []
do {
    for n in [64, 256, 1024] where wanted("gemm \(n)") {
        let a = Matrix.benchmarkUniform(rows: n, columns: n, seed: BenchmarkSeed.gemmA)
        let b = Matrix.benchmarkUniform(rows: n, columns: n, seed: BenchmarkSeed.gemmB)
        var c = Matrix(rows: n, columns: n)
        results.append(try time("gemm \(n)", options) {
            try BLAS.gemm(a, b, into: &c)
        } checksum: { c.elements.reduce(0, +) })
    }
    for n in [100, 500] {
        let spd = Matrix.benchmarkSPD(order: n)
        if wanted("cholesky \(n)") {
            results.append(try time("cholesky \(n)", options) {
                try Cholesky(spd)
            } checksum: { $0.lower.trace })
        }
        if wanted("eigh \(n)") {
            results.append(try time("eigh \(n)", options) {
                try SymmetricEigendecomposition(spd)
            } checksum: { $0.eigenvalues.reduce(0, +) })
        }
    }
    for (rows, columns) in [(8_000, 20), (2_000, 500)] where wanted("cov \(rows)x\(columns)") {
        let data = Matrix.benchmarkUniform(rows: rows, columns: columns, seed: BenchmarkSeed.covariance)
        results.append(try time("cov \(rows)x\(columns)", options) {
            try data.covariance()
        } checksum: { $0.trace })
    }
} catch {
    printError("LinalgTimings: \(error)")
    exit(1)
}

let entries = results.map { result in
    "    {\"kernel\": \"\(result.kernel)\", \"median_s\": \(result.medianSeconds), "
        + "\"reps\": \(result.reps), \"checksum\": \(result.checksum)}"
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
