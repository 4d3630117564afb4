// Times MetaFolio's NN models the same way `compare/nn_models.py` times PyTorch (CPU) and prints one
// JSON object with the medians.
//
// Usage: NNModelTimings [--budget SECONDS] [--min-reps N] [--max-reps N] [--only NAME,NAME...]
//
// Kernels "unet fwd+bwd f32" / "f64": a UNet1D (in 8, out 4, base 16, depth 3, kernel 3, max-pool,
// batch norm, ReLU, not causal) in training mode on a [8, 8, 128] batch; forward, the loss
// Σ output·G, and the gradients of every parameter and the input. Every parameter (state-dict order,
// stream 100 + k for the k-th) and the input (stream 11) and G (stream 13) are SplitMix64 draws on
// [-1, 1) (parameters scaled by 1/√fan-in), rebuilt identically by the PyTorch worker. Timing rule:
// BenchmarkSupport's (warm-up, then the median of separately timed calls).

import Autodiff
import AutodiffWorkloads
import BenchmarkSupport
import Linalg
import NN

let options = TimingOptions(arguments: CommandLine.arguments, program: "NNModelTimings", maxReps: 2_000, maxWarmUpCalls: 200)

/// The U-Net workload: a model with deterministic parameters, an input and a cotangent.
struct UNetWorkload<Scalar: TensorScalar> {
    static var configuration: UNet1DConfiguration {
        UNet1DConfiguration(inChannels: 8, outChannels: 4, baseChannels: 16, depth: 3, kernelSize: 3)
    }
    var model: UNet1D<Scalar>
    let input: Tensor<Scalar>
    let cotangent: Tensor<Scalar>

    init() throws {
        var generator = Xoshiro256StarStar(seed: 0)
        model = try UNet1D(Self.configuration, using: &generator)
        var stream: UInt64 = 100
        model.forEachEntry { entry in
            guard entry.kind == .parameter else { return }
            let shape = entry.value.shape.dimensions
            let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
            entry.value = Tensor<Scalar>.benchmarkUniform(shape, seed: stream) * Scalar(1 / Double(fanIn).squareRoot())
            stream += 1
        }
        input = .benchmarkUniform([8, 8, 128], seed: 11)
        cotangent = .benchmarkUniform([8, 4, 128], seed: 13)
    }

    /// Forward and backward; returns the output followed by the gradients of the input and every parameter.
    func run() -> [Tensor<Scalar>] {
        let named = model.namedParameters()
        let parameters = named.map { $0.value.requiringGradient() }
        let x = input.requiringGradient()
        // The keys and shapes are the model's own.
        var applied = try! model.replacingParameters(Dictionary(uniqueKeysWithValues: zip(named.map(\.key), parameters)))
        let output = applied(x)
        let gradients = gradient(of: (output * cotangent).sum(), wrt: [x] + parameters)
        // The running statistics of `applied` are updated (as PyTorch's) but not kept: they do not
        // affect training-mode outputs.
        return [output.detached()] + gradients
    }
}

var results: [KernelTiming] = []

@MainActor
func unet<Scalar: TensorScalar>(_: Scalar.Type, _ name: String) throws {
    guard options.wants(name) else { return }
    let workload = try UNetWorkload<Scalar>()
    results.append(timeKernel(name, options, { workload.run() }, checksum: { $0.reduce(0) { $0 + $1.checksum } }))
}
try unet(Float.self, "unet fwd+bwd f32")
try unet(Double.self, "unet fwd+bwd f64")

@MainActor
func trainingStep<Model: Module>(_ name: String, _ make: () -> TrainingStepWorkload<Model>) {
    guard options.wants(name) else { return }
    let workload = make()
    var timing = timeKernel(name, options, { workload.run() }, checksum: { _ in 0 })
    timing = KernelTiming(kernel: timing.kernel, medianSeconds: timing.medianSeconds, reps: timing.reps,
                          checksum: workload.firstLoss!)
    results.append(timing)
}

@MainActor
func conv1d<Scalar: TensorScalar>(_: Scalar.Type, _ name: String, batch: Int, channels: Int, length: Int, dilation: Int) {
    guard options.wants(name) else { return }
    let workload = Conv1dWorkload<Scalar>(batch: batch, channels: channels, length: length, dilation: dilation)
    results.append(timeKernel(name, options, { workload.run() }, checksum: { $0.reduce(0) { $0 + $1.checksum } }))
}

trainingStep("gru step f32") { gruStepWorkload(Float.self) }
trainingStep("gru step f64") { gruStepWorkload(Double.self) }
conv1d(Float.self, "conv1d 64x16x20 f32", batch: 64, channels: 16, length: 20, dilation: 1)
conv1d(Double.self, "conv1d 64x16x20 f64", batch: 64, channels: 16, length: 20, dilation: 1)
conv1d(Float.self, "conv1d 32x64x256 f32", batch: 32, channels: 64, length: 256, dilation: 2)
conv1d(Double.self, "conv1d 32x64x256 f64", batch: 32, channels: 64, length: 256, dilation: 2)
trainingStep("tcn step f32") { tcnStepWorkload(Float.self) }
trainingStep("tcn step f64") { tcnStepWorkload(Double.self) }

print(timingReport(results, openBLASThreads: openBLASThreadCount(), openBLASConfiguration: openBLASConfiguration()))
