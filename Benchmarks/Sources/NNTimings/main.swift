// Times MetaFolio's NN layers the same way `compare/nn.py` times PyTorch (CPU) and prints one JSON
// object with the medians.
//
// Usage: NNTimings [--budget SECONDS] [--min-reps N] [--max-reps N] [--only NAME,NAME...]
//
// Kernels (forward and backward; inputs and parameters are SplitMix64 streams, see NNBenchmarkSeed):
//   mha 32x50x64 h4 f64/f32   self-attention of x [32, 50, 64] with 4 heads (MultiheadAttention), then the
//                             gradients of L = <output, G> w.r.t. x and all four parameters
//   eiie cnn 50x11x50 f64/f32 the EIIE CNN of Jiang et al. (2017, Fig. 2) on a price tensor [50, 3, 50, 11]
//                             and previous weights [50, 11], then the gradients of L = <weights, G> w.r.t.
//                             both inputs and all seven parameters
// Timing rule: BenchmarkSupport's (warm-up, then the median of separately timed calls).

import Autodiff
import AutodiffWorkloads
import BenchmarkSupport
import Linalg
import NN

/// Seeds of the NN benchmark inputs; `compare/nn.py` uses the same numbers and scales.
enum NNBenchmarkSeed {
    static let attentionInput: UInt64 = 31
    static let attentionInProjectionWeight: UInt64 = 32
    static let attentionInProjectionBias: UInt64 = 33
    static let attentionOutProjectionWeight: UInt64 = 34
    static let attentionOutProjectionBias: UInt64 = 35
    static let attentionCotangent: UInt64 = 36
    /// EIIE: the price tensor, the previous weights, the cotangent, then the parameters in state-dict order.
    static let eiiePrices: UInt64 = 41
    static let eiiePrevious: UInt64 = 42
    static let eiieCotangent: UInt64 = 43
    static let eiieFirstParameter: UInt64 = 44
}

/// `scale·u` for `u` uniform on `[-1, 1)` from the stream `seed`, plus `offset`.
func uniform<Scalar: TensorScalar>(_ shape: [Int], seed: UInt64, scale: Double, offset: Double = 0) -> Tensor<Scalar> {
    var generator = SplitMix64(seed: seed)
    let count = shape.reduce(1, *)
    let scalars = (0..<count).map { _ in Scalar(offset + scale * generator.nextSymmetricUnit()) }
    return try! Tensor(shape: shape, scalars: scalars)
}

/// One forward and backward pass of a module with its inputs; returns `[loss] + gradients`.
struct ForwardBackward<M: Module> {
    let module: M
    let inputs: [Tensor<M.Scalar>]
    let cotangent: Tensor<M.Scalar>
    let apply: (M, [Tensor<M.Scalar>]) -> Tensor<M.Scalar>

    @inline(never)
    func run() -> [Tensor<M.Scalar>] {
        let parameters = module.parameters().map { $0.requiringGradient() }
        let variables = inputs.map { $0.requiringGradient() }
        let output = apply(try! module.replacingParameters(parameters), variables)
        let loss = (output * cotangent).sum()
        return [loss.detached()] + gradient(of: loss, wrt: variables + parameters)
    }

    /// The loss plus the sum of every gradient element (Double accumulation).
    static func checksum(_ results: [Tensor<M.Scalar>]) -> Double { results.reduce(0) { $0 + $1.checksum } }
}

/// MultiheadAttention (embedding 64, 4 heads, batch-first) with benchmark parameters.
func attentionWorkload<Scalar: TensorScalar>(_: Scalar.Type) -> ForwardBackward<MultiheadAttention<Scalar>> {
    var generator = Xoshiro256StarStar(seed: 0)
    var attention = try! MultiheadAttention<Scalar>(embedDimension: 64, headCount: 4, using: &generator)
    try! attention.loadStateDict([
        "in_proj_weight": uniform([192, 64], seed: NNBenchmarkSeed.attentionInProjectionWeight, scale: 0.125),
        "in_proj_bias": uniform([192], seed: NNBenchmarkSeed.attentionInProjectionBias, scale: 0.1),
        "out_proj.weight": uniform([64, 64], seed: NNBenchmarkSeed.attentionOutProjectionWeight, scale: 0.125),
        "out_proj.bias": uniform([64], seed: NNBenchmarkSeed.attentionOutProjectionBias, scale: 0.1),
    ])
    return ForwardBackward(module: attention,
                           inputs: [uniform([32, 50, 64], seed: NNBenchmarkSeed.attentionInput, scale: 1)],
                           cotangent: uniform([32, 50, 64], seed: NNBenchmarkSeed.attentionCotangent, scale: 1)) { m, x in
        m(x[0]).output
    }
}

/// The paper's EIIE CNN (3 features, window 50, 2 maps of 1×3, 20 maps of 1×48) on 11 assets, batch 50.
func eiieWorkload<Scalar: TensorScalar>(_: Scalar.Type) -> ForwardBackward<EIIENetwork<Scalar>> {
    var generator = Xoshiro256StarStar(seed: 0)
    var network = try! EIIENetwork<Scalar>(configuration: EIIEConfiguration(), using: &generator)
    // Parameters in state-dict order, each from its own stream: seeds 44, 45, … with these scales.
    let scales = ["cash_bias": 0.1, "conv1.weight": 0.3, "conv1.bias": 0.1, "conv2.weight": 0.1, "conv2.bias": 0.1,
                  "score.weight": 0.2, "score.bias": 0.1]
    var state: [String: Tensor<Scalar>] = [:]
    for (index, entry) in network.stateDict().enumerated() {
        state[entry.key] = uniform(entry.value.shape.dimensions, seed: NNBenchmarkSeed.eiieFirstParameter + UInt64(index),
                                   scale: scales[entry.key]!)
    }
    try! network.loadStateDict(state)
    return ForwardBackward(module: network,
                           inputs: [uniform([50, 3, 50, 11], seed: NNBenchmarkSeed.eiiePrices, scale: 0.05, offset: 1),
                                    uniform([50, 11], seed: NNBenchmarkSeed.eiiePrevious, scale: 0.02, offset: 0.05)],
                           cotangent: uniform([50, 12], seed: NNBenchmarkSeed.eiieCotangent, scale: 1)) { m, x in
        m(x[0], previousWeights: x[1])
    }
}

let options = TimingOptions(arguments: CommandLine.arguments, program: "NNTimings", maxReps: 5_000, maxWarmUpCalls: 500)
var results: [KernelTiming] = []

@MainActor
func time<M: Module>(_ kernel: String, _ make: () -> ForwardBackward<M>) {
    guard options.wants(kernel) else { return }
    let workload = make()
    results.append(timeKernel(kernel, options, { workload.run() }, checksum: ForwardBackward<M>.checksum))
}

time("mha 32x50x64 h4 f64") { attentionWorkload(Double.self) }
time("mha 32x50x64 h4 f32") { attentionWorkload(Float.self) }
time("eiie cnn 50x11x50 f64") { eiieWorkload(Double.self) }
time("eiie cnn 50x11x50 f32") { eiieWorkload(Float.self) }

print(timingReport(results, openBLASThreads: openBLASThreadCount(), openBLASConfiguration: openBLASConfiguration()))
