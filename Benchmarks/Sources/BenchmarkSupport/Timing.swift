// The timing rule shared by the Swift timing executables (LinalgTimings, AutodiffTimings); the C
// program and the Python workers of compare/ follow the same rule, so medians are comparable.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Command-line options of a timing executable: `--budget SECONDS --min-reps N --max-reps N
/// --only NAME,NAME...`. The peer workers in compare/ take the same options.
public struct TimingOptions: Sendable {
    /// Seconds of timed calls aimed at per kernel.
    public var budget = 1.0
    /// Fewest timed calls per kernel.
    public var minReps = 15
    /// Most timed calls per kernel.
    public var maxReps: Int
    /// Most warm-up calls per kernel.
    public var maxWarmUpCalls: Int
    /// Kernels to time; `nil` times all.
    public var only: Set<String>? = nil
    /// Program name used in error messages.
    public let program: String

    /// Parses `arguments` (the first is the program path); exits with status 2 on a bad option.
    public init(arguments: [String], program: String, maxReps: Int, maxWarmUpCalls: Int) {
        self.program = program
        self.maxReps = maxReps
        self.maxWarmUpCalls = maxWarmUpCalls
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { fail("missing value after \(flag)") }
            switch flag {
            case "--budget": budget = parse(flag, value)
            case "--min-reps": minReps = parse(flag, value)
            case "--max-reps": self.maxReps = parse(flag, value)
            case "--only": only = Set(value.split(separator: ",").map(String.init))
            default: fail("unknown option \(flag)")
            }
        }
    }

    /// `true` when `kernel` was asked for.
    public func wants(_ kernel: String) -> Bool { only?.contains(kernel) ?? true }

    private func parse<Value: LosslessStringConvertible>(_ flag: String, _ text: String) -> Value {
        guard let value = Value(text) else { fail("bad value \(text) for \(flag)") }
        return value
    }

    /// Prints `message` to standard error and exits with status 2.
    public func fail(_ message: String) -> Never {
        printError("\(program): \(message)")
        exit(2)
    }
}

/// Writes a line to standard error.
public func printError(_ message: String) {
    var line = message + "\n"
    line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

/// CLOCK_MONOTONIC in nanoseconds.
public func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// The median of a non-empty sample.
public func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : 0.5 * (sorted[middle - 1] + sorted[middle])
}

/// One kernel's timing, printed as one JSON object.
public struct KernelTiming: Sendable {
    /// Kernel name, as the driver script knows it.
    public let kernel: String
    /// Median seconds per call.
    public let medianSeconds: Double
    /// Timed calls.
    public let reps: Int
    /// A reduction of the last call's output, so the driver can check all sides agree.
    public let checksum: Double
    /// For a paired kernel: the median over pairs of (kernel time / baseline time).
    public var pairedRatio: Double? = nil
    /// For a paired kernel: the baseline's median seconds per call.
    public var baselineSeconds: Double? = nil

    /// Creates a timing record.
    public init(kernel: String, medianSeconds: Double, reps: Int, checksum: Double,
                pairedRatio: Double? = nil, baselineSeconds: Double? = nil) {
        self.kernel = kernel
        self.medianSeconds = medianSeconds
        self.reps = reps
        self.checksum = checksum
        self.pairedRatio = pairedRatio
        self.baselineSeconds = baselineSeconds
    }
}

/// Warms up `body` (at least 3 calls and 0.05 s, at most `options.maxWarmUpCalls`; the first
/// call is not counted) and returns the repetitions that fill `options.budget` at that pace
/// (clamped to the options' bounds) with the last output.
public func warmUp<Output>(_ options: TimingOptions, budgetScale: Double = 1,
                           _ body: () throws -> Output) rethrows -> (reps: Int, output: Output) {
    var output = try body()
    var warmCalls = 1
    let warmStart = monotonicNanoseconds()
    while warmCalls < 3 || (monotonicNanoseconds() - warmStart < 50_000_000 && warmCalls < options.maxWarmUpCalls) {
        output = try body()
        warmCalls += 1
    }
    let perCall = Double(monotonicNanoseconds() - warmStart) / 1e9 / Double(warmCalls - 1)
    let reps = min(options.maxReps, max(options.minReps, Int(budgetScale * options.budget / perCall)))
    return (reps, output)
}

/// Times `body` under the shared warm-up / repetition rule, call by call, and reports the median.
/// `checksum` reduces the last call's output after the timing, so it is not part of any timed call.
public func timeKernel<Output>(_ kernel: String, _ options: TimingOptions, _ body: () throws -> Output,
                               checksum: (Output) -> Double) rethrows -> KernelTiming {
    var (reps, output) = try warmUp(options, body)
    var samples = [Double](repeating: 0, count: reps)
    for index in 0..<reps {
        let start = monotonicNanoseconds()
        output = try body()
        samples[index] = Double(monotonicNanoseconds() - start) / 1e9
    }
    return KernelTiming(kernel: kernel, medianSeconds: median(samples), reps: reps, checksum: checksum(output))
}

/// The JSON document a timing executable prints for the driver script.
public func timingReport(_ results: [KernelTiming], openBLASThreads: Int, openBLASConfiguration: String) -> String {
    let entries = results.map { result in
        var paired = ""
        if let ratio = result.pairedRatio, let baseline = result.baselineSeconds {
            paired = ", \"paired_ratio\": \(ratio), \"baseline_s\": \(baseline)"
        }
        return "    {\"kernel\": \"\(result.kernel)\", \"median_s\": \(result.medianSeconds), "
            + "\"reps\": \(result.reps), \"checksum\": \(result.checksum)\(paired)}"
    }
    return """
    {
      "implementation": "swift",
      "openblas_threads": \(openBLASThreads),
      "openblas_config": "\(openBLASConfiguration)",
      "results": [
    \(entries.joined(separator: ",\n"))
      ]
    }
    """
}
