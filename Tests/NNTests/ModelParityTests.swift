import Autodiff
import Foundation
import Linalg
@testable import NN
import Testing

/// The masks of Scripts/fixtures/nn_models.py: batch 0 pads its last two positions.
private let padding = [[false, false, false, true, true], [false, false, false, false, false]]

/// The script's additive mask `torch.linspace(-1, 1, 25).reshape(5, 5)`.
private func additiveMask<Scalar: TensorScalar>(_: Scalar.Type) throws -> Tensor<Scalar> {
    try Tensor(shape: [5, 5], scalars: (0..<25).map { Scalar(-1 + Double($0) / 12) })
}

/// The script's encoder layer: width 8, 2 heads, feed-forward width 12, no dropout.
private func layerConfiguration(normFirst: Bool, activation: Activation, batchFirst: Bool = true) -> TransformerConfiguration {
    TransformerConfiguration(modelDimension: 8, headCount: 2, feedForwardDimension: 12, dropout: 0, activation: activation,
                             normFirst: normFirst, batchFirst: batchFirst)
}

/// Model-level parity with PyTorch (Scripts/fixtures/nn_models.py): outputs and the gradients of every
/// parameter and input within 1e-9 (Double) and 1e-4 (Float), scaled as `|a − e| ≤ tol·(1 + |e|)`, with
/// weights loaded from the safetensors files PyTorch wrote (the harness of ``LayerParityTests``).
@Suite struct ModelParityTests {
    static let double = 1e-9
    static let float = 1e-4

    @Test func transformerEncoderLayer() throws {
        var g = Xoshiro256StarStar(seed: 41)
        var dropoutGenerator = Xoshiro256StarStar(seed: 0) // dropout is 0 in these cases
        try checkParity("models_transformer_post_relu_masks",
                        TransformerEncoderLayer<Double>(layerConfiguration(normFirst: false, activation: .relu), using: &g),
                        tolerance: Self.double) { m, x in
            ["output": m(x["x"]!, keyPaddingMask: padding, causal: true, using: &dropoutGenerator)]
        }
        try checkParity("models_transformer_pre_relu_padding",
                        TransformerEncoderLayer<Double>(layerConfiguration(normFirst: true, activation: .relu), using: &g),
                        tolerance: Self.double) { m, x in
            ["output": m(x["x"]!, keyPaddingMask: padding, using: &dropoutGenerator)]
        }
        let timeMajor = layerConfiguration(normFirst: true, activation: .gelu, batchFirst: false)
        try checkParity("models_transformer_pre_gelu_time_major", TransformerEncoderLayer<Double>(timeMajor, using: &g),
                        tolerance: Self.double) { m, x in
            ["output": m(x["x"]!, attentionMask: try additiveMask(Double.self), using: &dropoutGenerator)]
        }
        try checkParity("models_transformer_pre_gelu_time_major_f32", TransformerEncoderLayer<Float>(timeMajor, using: &g),
                        tolerance: Self.float) { m, x in
            ["output": m(x["x"]!, attentionMask: try additiveMask(Float.self), using: &dropoutGenerator)]
        }
    }

    @Test func transformerEncoderStack() throws {
        var g = Xoshiro256StarStar(seed: 42)
        var dropoutGenerator = Xoshiro256StarStar(seed: 0)
        let encoder = try TransformerEncoder<Double>(layerConfiguration(normFirst: false, activation: .gelu), layerCount: 2,
                                                     finalNorm: true, using: &g)
        #expect(encoder.namedParameters().first?.key == "layers.0.self_attn.in_proj_weight")
        try checkParity("models_transformer_encoder_norm", encoder, tolerance: Self.double) { m, x in
            ["output": m(x["x"]!, keyPaddingMask: padding, causal: true, using: &dropoutGenerator)]
        }
    }

    @Test func uNet1D() throws {
        var g = Xoshiro256StarStar(seed: 43)
        let strided = UNet1DConfiguration(inChannels: 3, outChannels: 2, baseChannels: 3, depth: 2, kernelSize: 3,
                                          downsampling: .stridedConvolution, batchNorm: true, causal: true)
        // Eval mode: running statistics from the file.
        try checkParity("models_unet_causal_strided", UNet1D<Double>(strided, using: &g), tolerance: Self.double) {
            (m: inout UNet1D<Double>, x) in ["output": m(x["x"]!)]
        }
        try checkParity("models_unet_causal_strided_f32", UNet1D<Float>(strided, using: &g), tolerance: Self.float) {
            (m: inout UNet1D<Float>, x) in ["output": m(x["x"]!)]
        }
        // Training mode: batch statistics, running statistics updated as PyTorch's; odd length 11.
        let pooled = UNet1DConfiguration(inChannels: 3, outChannels: 2, baseChannels: 3, depth: 2, kernelSize: 3)
        try checkParity("models_unet_maxpool_batchnorm_train", UNet1D<Double>(pooled, using: &g), tolerance: Self.double) {
            (m: inout UNet1D<Double>, x) in ["output": m(x["x"]!)]
        }
        // Depth 3 down to a bottleneck of length 1, an even kernel, GELU, no batch normalization; length 13.
        let deep = UNet1DConfiguration(inChannels: 2, outChannels: 1, baseChannels: 2, depth: 3, kernelSize: 2,
                                       batchNorm: false, activation: .gelu, causal: true)
        try checkParity("models_unet_causal_maxpool_gelu", UNet1D<Double>(deep, using: &g), tolerance: Self.double) {
            (m: inout UNet1D<Double>, x) in ["output": m(x["x"]!)]
        }
    }

    @Test func cnnLSTM() throws {
        var g = Xoshiro256StarStar(seed: 44)
        func model<Scalar: TensorScalar>(_: Scalar.Type) throws -> CNNLSTM<Scalar> {
            try CNNLSTM(inputSize: 3, convolutionChannels: [4, 5], kernelSize: 3, hiddenSize: 6, lstmLayerCount: 2,
                        outputSize: 2, using: &g)
        }
        try checkParity("models_cnn_lstm", model(Double.self), tolerance: Self.double) { m, x in ["output": m(x["x"]!)] }
        try checkParity("models_cnn_lstm_f32", model(Float.self), tolerance: Self.float) { m, x in ["output": m(x["x"]!)] }
    }

    /// The ELBO terms and the forward quantities of the script's VAE cases.
    func vaeOutputs<Scalar>(_ m: VariationalAutoencoder<Scalar>, _ x: [String: Tensor<Scalar>],
                            likelihood: ReconstructionLikelihood, klWeight: Double) throws -> [String: Tensor<Scalar>] {
        let result = m(x["x"]!, noise: x["eps"]!)
        let elbo = try m.evidenceLowerBound(input: x["x"]!, result: result, likelihood: likelihood, klWeight: klWeight)
        var outputs = ["loss": elbo.loss, "reconstruction_term": elbo.reconstruction, "kl": elbo.klDivergence,
                       "reconstruction": result.reconstruction, "mu": result.mean, "logvar": result.logVariance,
                       "z": result.latent]
        if case .gaussian = likelihood {
            outputs["loss_squared_error"] = try m.evidenceLowerBound(input: x["x"]!, result: result,
                                                                     likelihood: .squaredError).loss
        }
        return outputs
    }

    @Test func variationalAutoencoder() throws {
        var g = Xoshiro256StarStar(seed: 45)
        try checkParity("models_vae_gaussian",
                        VariationalAutoencoder<Double>(inputSize: 6, hiddenSizes: [5, 4], latentSize: 2, using: &g),
                        tolerance: Self.double) { m, x in
            try vaeOutputs(m, x, likelihood: .gaussian(variance: 0.5), klWeight: 0.5)
        }
        try checkParity("models_vae_gaussian_f32",
                        VariationalAutoencoder<Float>(inputSize: 6, hiddenSizes: [5, 4], latentSize: 2, using: &g),
                        tolerance: Self.float) { m, x in
            try vaeOutputs(m, x, likelihood: .gaussian(variance: 0.5), klWeight: 0.5)
        }
        try checkParity("models_vae_bernoulli",
                        VariationalAutoencoder<Double>(inputSize: 5, hiddenSizes: [4], latentSize: 3, activation: .tanh,
                                                       using: &g),
                        tolerance: Self.double) { m, x in
            try vaeOutputs(m, x, likelihood: .bernoulli, klWeight: 1)
        }
    }
}

/// One configuration of the U-Net causality test.
struct CausalCase: Sendable, CustomStringConvertible {
    let downsampling: UNetDownsampling
    let batchNorm: Bool
    let training: Bool
    let activation: Activation
    let kernelSize: Int
    let depth: Int
    let length: Int

    var description: String {
        "\(downsampling), batch norm \(batchNorm), training \(training), \(activation), kernel \(kernelSize), depth \(depth), length \(length)"
    }
}

/// Behaviour of the models beyond parity: causality, dropout, sampling, finite differences, errors.
@Suite struct ModelBehaviourTests {
    /// A causal U-Net's outputs at positions `≤ t` are bit-identical when the inputs after `t` change, while
    /// some later output does change (so the perturbation reaches the output). Odd and even lengths,
    /// both down-samplings, batch normalization in eval mode and none in training mode (then GELU or tanh,
    /// which unlike ReLU cannot silence the last inputs).
    @Test(arguments: [
        CausalCase(downsampling: .maxPool, batchNorm: true, training: false, activation: .relu, kernelSize: 3, depth: 2,
                   length: 13),
        CausalCase(downsampling: .stridedConvolution, batchNorm: false, training: true, activation: .gelu, kernelSize: 3,
                   depth: 2, length: 16),
        CausalCase(downsampling: .maxPool, batchNorm: false, training: true, activation: .tanh, kernelSize: 4, depth: 3,
                   length: 19),
        CausalCase(downsampling: .stridedConvolution, batchNorm: true, training: false, activation: .relu, kernelSize: 2,
                   depth: 3, length: 9),
    ])
    func causalUNetIgnoresTheFuture(_ c: CausalCase) throws {
        var g = Xoshiro256StarStar(seed: 46)
        var model = try UNet1D<Double>(UNet1DConfiguration(inChannels: 2, outChannels: 2, baseChannels: 3, depth: c.depth,
                                                           kernelSize: c.kernelSize, downsampling: c.downsampling,
                                                           batchNorm: c.batchNorm, activation: c.activation, causal: true),
                                       using: &g)
        model.setTraining(c.training)
        let length = c.length
        let x = Tensor<Double>.normal([2, 2, length], using: &g)
        let y = model(x)
        for t in [0, 1, length / 2, length - 2] {
            var scalars = x.scalars
            for i in scalars.indices where i % length > t { scalars[i] += Double.random(in: 0.5...2, using: &g) }
            let perturbed = model(try Tensor(shape: [2, 2, length], scalars: scalars))
            var changedLater = false
            for i in y.scalars.indices {
                if i % length <= t {
                    #expect(y.scalars[i].bitPattern == perturbed.scalars[i].bitPattern, "output \(i) at t = \(i % length) ≤ \(t) changed")
                } else if y.scalars[i] != perturbed.scalars[i] {
                    changedLater = true
                }
            }
            #expect(changedLater, "perturbing inputs after \(t) changed no output")
        }
    }

    /// The control: the same perturbation does reach earlier outputs of a non-causal U-Net.
    @Test func nonCausalUNetSeesTheFuture() throws {
        var g = Xoshiro256StarStar(seed: 47)
        var model = try UNet1D<Double>(UNet1DConfiguration(inChannels: 2, outChannels: 2, baseChannels: 3, depth: 2,
                                                           batchNorm: false), using: &g)
        let x = Tensor<Double>.normal([1, 2, 12], using: &g)
        var scalars = x.scalars
        for i in scalars.indices where i % 12 > 6 { scalars[i] += 1 }
        let (y, perturbed) = (model(x), model(try Tensor(shape: [1, 2, 12], scalars: scalars)))
        #expect((0..<y.scalarCount).contains { $0 % 12 <= 6 && y.scalars[$0] != perturbed.scalars[$0] })
    }

    /// Dropout in a Transformer layer: the same seed gives the same bits, another seed other bits, and eval
    /// mode equals a dropout-free layer with the same parameters.
    @Test func transformerDropoutIsSeededAndOffInEvalMode() throws {
        var g = Xoshiro256StarStar(seed: 48)
        var configuration = TransformerConfiguration(modelDimension: 4, headCount: 2, feedForwardDimension: 6, dropout: 0.3)
        let layer = try TransformerEncoderLayer<Double>(configuration, using: &g)
        let x = Tensor<Double>.normal([2, 3, 4], using: &g)
        var (a, b, c) = (Xoshiro256StarStar(seed: 1), Xoshiro256StarStar(seed: 1), Xoshiro256StarStar(seed: 2))
        let (first, second, other) = (layer(x, using: &a), layer(x, using: &b), layer(x, using: &c))
        #expect(first.scalars == second.scalars)
        #expect(first.scalars != other.scalars)
        configuration.dropout = 0
        var plain = try TransformerEncoderLayer<Double>(configuration, using: &g)
        try plain.loadStateDict(Dictionary(uniqueKeysWithValues: layer.stateDict()))
        var unused = Xoshiro256StarStar(seed: 3)
        let eval = layer.inEvalMode()(x, using: &unused)
        #expect(eval.scalars == plain(x, using: &unused).scalars)
        #expect(eval.scalars == layer(x).scalars)
        #expect(eval.scalars != first.scalars)
    }

    /// With `causal`, a Transformer layer's output at position `i` does not depend on later positions.
    @Test func causalTransformerIgnoresLaterPositions() throws {
        var g = Xoshiro256StarStar(seed: 49)
        let layer = try TransformerEncoderLayer<Double>(TransformerConfiguration(modelDimension: 4, headCount: 2,
                                                                                 feedForwardDimension: 6, dropout: 0),
                                                        using: &g)
        let x = Tensor<Double>.normal([1, 4, 4], using: &g)
        var scalars = x.scalars
        for i in 8..<16 { scalars[i] += 1 } // positions 2 and 3
        let (y, perturbed) = (layer(x, causal: true), layer(try Tensor(shape: [1, 4, 4], scalars: scalars), causal: true))
        for i in 0..<8 { #expect(Swift.abs(y.scalars[i] - perturbed.scalars[i]) <= 1e-12) }
        #expect((8..<16).contains { y.scalars[$0] != perturbed.scalars[$0] })
    }

    /// The VAE draws its noise from the generator in training mode (reproducible by seed) and uses `z = μ` in eval mode.
    @Test func vaeSampling() throws {
        var g = Xoshiro256StarStar(seed: 50)
        let model = try VariationalAutoencoder<Double>(inputSize: 4, hiddenSizes: [3], latentSize: 2, using: &g)
        let x = Tensor<Double>.normal([3, 4], using: &g)
        var (a, b) = (Xoshiro256StarStar(seed: 9), Xoshiro256StarStar(seed: 9))
        let sampled = model(x, using: &a)
        let noise = Tensor<Double>.normal([3, 2], using: &b)
        #expect(sampled.latent.scalars == model(x, noise: noise).latent.scalars)
        let eval = model.inEvalMode()(x, using: &a)
        #expect(eval.latent.scalars == eval.mean.scalars)
        #expect(sampled.latent.scalars != eval.latent.scalars)
    }

    /// Central differences (`GradientCheck`, ε = 1e-6, pass rule `|analytic − numeric| ≤ 1e-6 + 1e-5·|numeric|`)
    /// of every parameter and input gradient on small instances.
    @Test func finiteDifferences() throws {
        var g = Xoshiro256StarStar(seed: 51)
        let checks = LayerGradientCheckTests()
        let sequence = Tensor<Double>.normal([2, 3, 4], using: &g)
        for normFirst in [false, true] {
            let configuration = TransformerConfiguration(modelDimension: 4, headCount: 2, feedForwardDimension: 6, dropout: 0,
                                                         activation: .gelu, normFirst: normFirst)
            checks.check(try TransformerEncoderLayer<Double>(configuration, using: &g), input: sequence) { m, x in
                m(x, keyPaddingMask: [[false, false, true], [false, false, false]], causal: true)
            }
        }
        let series = Tensor<Double>.normal([2, 2, 8], using: &g)
        let unet = UNet1DConfiguration(inChannels: 2, outChannels: 1, baseChannels: 2, depth: 2, kernelSize: 3,
                                       downsampling: .stridedConvolution, activation: .gelu, causal: true)
        checks.check(try UNet1D<Double>(unet, using: &g), input: series) { m, x in
            var m = m
            return m(x)
        }
        let window = Tensor<Double>.normal([2, 4, 2], using: &g)
        checks.check(try CNNLSTM<Double>(inputSize: 2, convolutionChannels: [3], kernelSize: 2, hiddenSize: 3,
                                         outputSize: 2, activation: .tanh, using: &g), input: window) { m, x in m(x) }
        let batch = Tensor<Double>.normal([3, 4], using: &g), noise = Tensor<Double>.normal([3, 2], using: &g)
        checks.check(try VariationalAutoencoder<Double>(inputSize: 4, hiddenSizes: [3], latentSize: 2, activation: .tanh,
                                                        using: &g), input: batch) { m, x in
            try! m.evidenceLowerBound(input: x, result: m(x, noise: noise), likelihood: .gaussian(variance: 0.7)).loss
        }
    }

    /// Bad hyper-parameters throw ``NNError/invalidConfiguration(layer:reason:)`` naming the model; bad ELBO
    /// options and Bernoulli targets throw ``LossError``.
    @Test func invalidConfigurationsThrow() throws {
        var g = Xoshiro256StarStar(seed: 52)
        func expectInvalid(_ layer: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
            do {
                try body()
                Issue.record("\(layer): no error thrown", sourceLocation: sourceLocation)
            } catch let NNError.invalidConfiguration(name, _) {
                #expect(name == layer, sourceLocation: sourceLocation)
            } catch {
                Issue.record("\(layer): unexpected \(error)", sourceLocation: sourceLocation)
            }
        }
        expectInvalid("TransformerEncoderLayer") {
            _ = try TransformerEncoderLayer<Double>(TransformerConfiguration(modelDimension: 6, headCount: 4), using: &g)
        }
        expectInvalid("TransformerEncoderLayer") {
            _ = try TransformerEncoderLayer<Double>(TransformerConfiguration(modelDimension: 4, headCount: 2, dropout: 1.5),
                                                    using: &g)
        }
        expectInvalid("TransformerEncoder") {
            _ = try TransformerEncoder<Double>(TransformerConfiguration(modelDimension: 4, headCount: 2), layerCount: 0,
                                               using: &g)
        }
        expectInvalid("UNet1D") { _ = try UNet1D<Double>(UNet1DConfiguration(inChannels: 1, outChannels: 1, depth: 0), using: &g) }
        expectInvalid("UNet1D") {
            _ = try UNet1D<Double>(UNet1DConfiguration(inChannels: 1, outChannels: 1, baseChannels: 0), using: &g)
        }
        expectInvalid("CNNLSTM") {
            _ = try CNNLSTM<Double>(inputSize: 2, convolutionChannels: [], hiddenSize: 3, outputSize: 1, using: &g)
        }
        expectInvalid("VariationalAutoencoder") {
            _ = try VariationalAutoencoder<Double>(inputSize: 3, hiddenSizes: [2, 0], latentSize: 1, using: &g)
        }
        let vae = try VariationalAutoencoder<Double>(inputSize: 2, hiddenSizes: [2], latentSize: 1, using: &g)
        let x = try Tensor<Double>([[0.2, 1.5]])
        let result = vae(x, noise: .zeros([1, 1]))
        #expect(throws: LossError.invalidValue(loss: "evidenceLowerBound", argument: "input", position: 1, value: 1.5,
                                               requirement: "a Bernoulli target in [0, 1]")) {
            try vae.evidenceLowerBound(input: x, result: result, likelihood: .bernoulli)
        }
        #expect(throws: LossError.self) { try vae.evidenceLowerBound(input: x, result: result, likelihood: .squaredError, klWeight: -1) }
        #expect(throws: LossError.self) {
            try vae.evidenceLowerBound(input: x, result: result, likelihood: .gaussian(variance: 0))
        }
        #expect(throws: LossError.self) {
            try vae.evidenceLowerBound(input: try Tensor<Double>([[0.2, 0.5, 0.1]]), result: result, likelihood: .squaredError)
        }
    }
}
