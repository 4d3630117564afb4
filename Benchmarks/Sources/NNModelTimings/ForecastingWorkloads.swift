// Workloads of the forecasting networks' building blocks, rebuilt identically by the PyTorch worker
// in `compare/unet.py`: a GRU training step, a conv1d forward + backward and a TCN training step.

import Autodiff
import AutodiffWorkloads
import BenchmarkSupport
import Linalg
import NN

/// Replaces every parameter of `model`, in state-dict order, by the SplitMix64 stream
/// `firstStream + k` (uniform on `[-1, 1)`) times `scale(shape)`.
func seedParameters<M: Module>(_ model: inout M, firstStream: UInt64, scale: ([Int]) -> Double) {
    var stream = firstStream
    model.forEachEntry { entry in
        guard entry.kind == .parameter else { return }
        let shape = entry.value.shape.dimensions
        entry.value = Tensor<M.Scalar>.benchmarkUniform(shape, seed: stream) * M.Scalar(scale(shape))
        stream += 1
    }
}

/// `1/√fan-in` for a weight (the product of the dimensions after the first), 1 for a vector.
func fanInScale(_ shape: [Int]) -> Double {
    shape.count > 1 ? 1 / Double(shape.dropFirst().reduce(1, *)).squareRoot() : 1
}

/// One training step of `model`: forward, MSE against `target`, backward, one Adam step (lr 1e-3)
/// that updates the parameters for the next call. The checksum is the first call's loss (the same
/// on both sides, since later calls train further).
final class TrainingStepWorkload<Model: Module> {
    var model: Model
    var optimizer: Adam<Model.Scalar>
    let input: Tensor<Model.Scalar>
    let target: Tensor<Model.Scalar>
    let forward: (Model, Tensor<Model.Scalar>) -> Tensor<Model.Scalar>
    /// The loss of the first call, at the initial parameters.
    private(set) var firstLoss: Double?

    init(model: Model, input: Tensor<Model.Scalar>, target: Tensor<Model.Scalar>,
         forward: @escaping (Model, Tensor<Model.Scalar>) -> Tensor<Model.Scalar>) {
        (self.model, self.input, self.target, self.forward) = (model, input, target, forward)
        optimizer = try! Adam(learningRate: 1e-3)
    }

    /// One training step; returns the loss before the update.
    @inline(never)
    func run() -> Tensor<Model.Scalar> {
        var parameters = model.parameters()
        let (loss, gradients) = valueWithGradient(at: parameters) { p in
            try! meanSquaredErrorLoss(forward(try! model.replacingParameters(p), input), target)
        }
        try! optimizer.update(&parameters, gradients: gradients)
        model = try! model.replacingParameters(parameters)
        if firstLoss == nil { firstLoss = Double(loss.scalar) }
        return loss
    }
}

/// The GRU step: `GRU(8 → 64)` batch-first on `[32, 50, 8]` (inputs stream 11), MSE of the output
/// sequence against `[32, 50, 64]` (stream 12); parameters streams 21–24 times `1/√64`, as the LSTM step.
func gruStepWorkload<Scalar: TensorScalar>(_: Scalar.Type) -> TrainingStepWorkload<GRU<Scalar>> {
    var generator = Xoshiro256StarStar(seed: 0)
    var model = try! GRU<Scalar>(inputSize: 8, hiddenSize: 64, using: &generator)
    seedParameters(&model, firstStream: 21) { _ in 1 / 8 }
    return TrainingStepWorkload(model: model, input: .benchmarkUniform([32, 50, 8], seed: 11),
                                target: .benchmarkUniform([32, 50, 64], seed: 12)) { model, x in model(x).output }
}

/// The TCN regressor of the forecasting strategies (`TemporalBlock`s with dilations 1, 2, 4, kernel 2,
/// a linear head on the last step), rebuilt from NN's layers.
struct TCNRegressor<Scalar: TensorScalar>: Module {
    var blocks: [TemporalBlock<Scalar>]
    var head: Linear<Scalar>
    var settings = ModuleSettings()

    init(features: Int, channels: Int, outputs: Int) {
        var generator = Xoshiro256StarStar(seed: 0)
        blocks = [1, 2, 4].enumerated().map { k, dilation in
            try! TemporalBlock(inChannels: k == 0 ? features : channels, outChannels: channels, kernelSize: 2,
                               dilation: dilation, using: &generator)
        }
        head = try! Linear(inFeatures: channels, outFeatures: outputs, using: &generator)
    }

    mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.children("blocks", &blocks)
        visitor.child("head", &head)
    }

    /// `[batch, time, features]` → `[batch, outputs]`.
    func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var x = input.transposed(1, 2)
        for block in blocks { x = block(x) }
        let last = x.shape[2] - 1
        return head(x.sliced(alongAxis: 2, from: last, to: last + 1).squeezed(at: 2))
    }
}

/// The TCN step: 8 features → 16 channels → 4 outputs on `[64, 20, 8]` windows (stream 11), MSE
/// against `[64, 4]` (stream 12); parameters streams 100 + k times `1/√fan-in`.
func tcnStepWorkload<Scalar: TensorScalar>(_: Scalar.Type) -> TrainingStepWorkload<TCNRegressor<Scalar>> {
    var model = TCNRegressor<Scalar>(features: 8, channels: 16, outputs: 4)
    seedParameters(&model, firstStream: 100, scale: fanInScale)
    return TrainingStepWorkload(model: model, input: .benchmarkUniform([64, 20, 8], seed: 11),
                                target: .benchmarkUniform([64, 4], seed: 12)) { model, x in model(x) }
}

/// conv1d forward + backward: input `[batch, channels, length]` (stream 11), weight
/// `[channels, channels, 3]` (stream 14, times `1/√fan-in`), bias (stream 15), `dilation`, padding
/// `dilation` (same length out), loss `Σ output·G` (stream 13); returns the output and the
/// gradients of the input, weight and bias.
struct Conv1dWorkload<Scalar: TensorScalar> {
    let input: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>, cotangent: Tensor<Scalar>
    let dilation: Int

    init(batch: Int, channels: Int, length: Int, dilation: Int) {
        input = .benchmarkUniform([batch, channels, length], seed: 11)
        weight = Tensor.benchmarkUniform([channels, channels, 3], seed: 14) * Scalar(fanInScale([channels, channels, 3]))
        bias = .benchmarkUniform([channels], seed: 15)
        cotangent = .benchmarkUniform([batch, channels, length], seed: 13)
        self.dilation = dilation
    }

    @inline(never)
    func run() -> [Tensor<Scalar>] {
        let (x, w, b) = (input.requiringGradient(), weight.requiringGradient(), bias.requiringGradient())
        let output = x.conv1d(weight: w, bias: b, padding: dilation, dilation: dilation)
        return [output.detached()] + gradient(of: (output * cotangent).sum(), wrt: [x, w, b])
    }
}
