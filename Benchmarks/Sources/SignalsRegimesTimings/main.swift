// Times the Swift side of compare/signals_regimes.py and prints one JSON object.
//
// Usage: SignalsRegimesTimings <inputs.bin> <reps>
// inputs.bin (written by the driver, little-endian float64): the MRA series (8192 values), then
// the HMM data (8000 × 3, row-major), then the HMM's initial start (3), transition (3 × 3),
// means (3 × 3) and covariances (3 × 3 × 3).
import BenchmarkSupport
import Foundation
import Linalg
import Regimes
import Signals

let arguments = CommandLine.arguments
guard arguments.count == 3, let reps = Int(arguments[2]), reps >= 1 else {
    FileHandle.standardError.write(Data("usage: SignalsRegimesTimings <inputs.bin> <reps>\n".utf8))
    exit(2)
}
guard let bytes = FileManager.default.contents(atPath: arguments[1]) else {
    FileHandle.standardError.write(Data("cannot read \(arguments[1])\n".utf8))
    exit(2)
}
let values: [Double] = bytes.withUnsafeBytes { raw in
    (0..<(raw.count / 8)).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
}
let series = Array(values[0..<8192])
let data = try Matrix(rows: 8000, columns: 3, elements: Array(values[8192..<32192]))
let start = Array(values[32192..<32195])
let transition = try Matrix(rows: 3, columns: 3, elements: Array(values[32195..<32204]))
let means = try Matrix(rows: 3, columns: 3, elements: Array(values[32204..<32213]))
let covariances = try (0..<3).map { k in try Matrix(rows: 3, columns: 3, elements: Array(values[(32213 + 9 * k)..<(32222 + 9 * k)])) }

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = monotonicNanoseconds()
    try body()
    return Double(monotonicNanoseconds() - t0) * 1e-9
}

// MRA: sym8, 6 levels, periodic, n = 8192.
let filter = try WaveletFilter("sym8")
var mra = try MultiresolutionAnalysis(series, filter: filter, levels: 6)
var mraTimes: [Double] = []
for _ in 0..<(reps * 5) { mraTimes.append(try seconds { mra = try MultiresolutionAnalysis(series, filter: filter, levels: 6) }) }
let mraChecksum = mra.smooth.reduce(0, +) + mra.details.reduce(0) { $0 + $1.reduce(0, +) }

// HMM: 3 states, full covariance, 100 Baum–Welch iterations from the given parameters.
let initial = try GaussianHMM(startProbabilities: start, transition: transition, means: means, covariances: covariances)
let estimator = BaumWelch(states: 3, covarianceType: .full, restarts: 1, maxIterations: 100, tolerance: -1e300,
                          covariancePrior: 0.01, covarianceFloor: 0, ordering: .none)
var fit = try estimator.refine(data, from: initial)
var hmmTimes: [Double] = []
for _ in 0..<reps { hmmTimes.append(try seconds { fit = try estimator.refine(data, from: initial) }) }

let result: [String: Double] = [
    "mra_seconds": median(mraTimes), "mra_checksum": mraChecksum,
    "hmm_seconds": median(hmmTimes), "hmm_loglik": fit.logLikelihood,
]
let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
