// Times one online-stochastic-batch-learning (OSBL) step of the EIIE agent (Jiang, Xu & Liang 2017)
// the way `compare/eiie.py` times the same step written in PyTorch, and prints one JSON object with
// the medians.
//
// Usage: StrategiesTimings [--budget SECONDS] [--min-reps N] [--max-reps N] [--only NAME,NAME...]
//
// Workload (identical inputs on both sides, from SplitMix64 streams):
//   market   2000 bars × 11 assets of synthetic close/high/low: close₀ = 1, then per bar and asset
//            closeₜ = closeₜ₋₁·(1 + 0.02·u) (stream 61, bar-major), highₜ = closeₜ·(1 + 0.005·(u + 1))
//            (stream 62), lowₜ = closeₜ·(1 − 0.005·(u + 1)) (stream 63)
//   network  the paper's CNN (window 50, 2 maps of 1×3, 20 maps spanning 48 periods, 1×1 score,
//            learnable cash bias, softmax); parameters in state-dict order from streams 71, 72, …
//            with scales 0.1 (cash bias), 0.3, 0.1 (conv1), 0.1, 0.1 (conv2), 0.2, 0.1 (score)
//   training batch 50, Adam lr 3e-5 with weight decay 1e-8, commission 0.0025, μ exact
//            (Theorem 1's fixed point) or first-order; a uniform portfolio-vector memory
// One timed call is `EIIETrainer.step(times:)` on the decision bars `s … s + 49` with
// `s = 49 + (50·k mod 1900)` for the k-th call (k = 0, 1, …), so both sides walk the same batches:
// gather the windows and relatives, read wₜ₋₁ from the memory, forward, reward, backward, Adam,
// write wₜ back. The checksum is the reward of the first step (k = 0) from the initial state.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Autodiff
import BenchmarkSupport
import Linalg
import Market
import NN
import Strategies

enum OSBLWorkload {
    static let bars = 2000, assets = 11, batch = 50, window = 50
    static let firstStart = 49, startCycle = 1900

    /// The synthetic close/high/low panel described at the top of this file.
    static func panel() throws -> PricePanel {
        var closeStream = SplitMix64(seed: 61), highStream = SplitMix64(seed: 62), lowStream = SplitMix64(seed: 63)
        var close = [Double](repeating: 0, count: bars * assets)
        var high = close, low = close
        for t in 0..<bars {
            for a in 0..<assets {
                let previous = t == 0 ? 1 : close[(t - 1) * assets + a]
                let c = previous * (1 + 0.02 * closeStream.nextSymmetricUnit())
                close[t * assets + a] = c
                high[t * assets + a] = c * (1 + 0.005 * (highStream.nextSymmetricUnit() + 1))
                low[t * assets + a] = c * (1 - 0.005 * (lowStream.nextSymmetricUnit() + 1))
            }
        }
        return try PricePanel(index: TimeIndex(periodCount: bars), assets: (0..<assets).map { "A\($0)" },
                              close: Matrix(rows: bars, columns: assets, elements: close),
                              high: Matrix(rows: bars, columns: assets, elements: high),
                              low: Matrix(rows: bars, columns: assets, elements: low))
    }

    /// A trainer on the synthetic market with the benchmark's parameters.
    static func trainer<Scalar: TensorScalar>(_: Scalar.Type, remainder: EIIETransactionRemainder) throws -> EIIETrainer<Scalar> {
        var generator = Xoshiro256StarStar(seed: 0)
        var network = try EIIENetwork<Scalar>(configuration: EIIEConfiguration(window: window), using: &generator)
        let scales = ["cash_bias": 0.1, "conv1.weight": 0.3, "conv1.bias": 0.1, "conv2.weight": 0.1, "conv2.bias": 0.1,
                      "score.weight": 0.2, "score.bias": 0.1]
        var state: [String: Tensor<Scalar>] = [:]
        for (index, entry) in network.stateDict().enumerated() {
            var stream = SplitMix64(seed: 71 + UInt64(index))
            let count = entry.value.shape.dimensions.reduce(1, *)
            let scale = scales[entry.key]!
            state[entry.key] = try Tensor(shape: entry.value.shape.dimensions,
                                          scalars: (0..<count).map { _ in Scalar(scale * stream.nextSymmetricUnit()) })
        }
        try network.loadStateDict(state)
        let configuration = EIIETrainingConfiguration(learningRate: 3e-5, batchSize: batch, l2Penalty: 1e-8, commission: 0.0025,
                                                      transactionRemainder: remainder)
        return try EIIETrainer(network: network, market: EIIEMarket(panel: panel(), features: [.close, .high, .low]),
                               configuration: configuration, using: &generator)
    }

    /// The decision bars of the k-th step.
    static func times(step k: Int) -> [Int] {
        let start = firstStart + (batch * k) % startCycle
        return Array(start..<(start + batch))
    }
}

let options = TimingOptions(arguments: CommandLine.arguments, program: "StrategiesTimings", maxReps: 5_000, maxWarmUpCalls: 500)
var results: [KernelTiming] = []

@MainActor
func osblStep<Scalar: TensorScalar>(_ type: Scalar.Type, _ remainder: EIIETransactionRemainder, _ name: String) throws {
    guard options.wants(name) else { return }
    var trainer = try OSBLWorkload.trainer(type, remainder: remainder)
    try trainer.step(times: OSBLWorkload.times(step: 0))
    let firstReward = trainer.lastReward!
    var k = 1
    results.append(try timeKernel(name, options, {
        try trainer.step(times: OSBLWorkload.times(step: k))
        k += 1
    }, checksum: { _ in firstReward }))
}

do {
    try osblStep(Float.self, .exact, "osbl step exact f32")
    try osblStep(Double.self, .exact, "osbl step exact f64")
    try osblStep(Float.self, .firstOrder, "osbl step first-order f32")
    try osblStep(Double.self, .firstOrder, "osbl step first-order f64")
} catch {
    options.fail("\(error)")
}
print(timingReport(results, openBLASThreads: openBLASThreadCount(), openBLASConfiguration: openBLASConfiguration()))
