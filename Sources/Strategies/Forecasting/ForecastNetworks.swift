import Autodiff
import Foundation
import Linalg
import MetaLearn
import NN

/// A stacked temporal convolutional network regressor: NN `TemporalBlock`s with dilations 1, 2, 4, …
/// (causal: output step `t` sees inputs `≤ t`) and a linear head on the last step.
///
/// Shapes: `[batch, time, features]` → `[batch, outputs]`. Keys `blocks.0.conv1.weight`, …, `head.*`,
/// as the PyTorch reference in `Scripts/fixtures/strategies_forecasting.py`.
public struct TemporalConvolutionalRegressor<Scalar: TensorScalar>: UnaryModule {
    /// The residual blocks, block `k` with dilation `2ᵏ`.
    public var blocks: [TemporalBlock<Scalar>]
    /// The output layer on the last step's channels.
    public var head: Linear<Scalar>
    /// Mode flags.
    public var settings = ModuleSettings()

    /// `dilations.count` blocks of `channels` channels (PyTorch initialization, drawn block by block, then the head).
    /// - Throws: NN's `NNError.invalidConfiguration` for non-positive sizes.
    public init(features: Int, channels: Int, kernelSize: Int = 2, dilations: [Int] = [1, 2, 4], outputs: Int,
                using generator: inout Xoshiro256StarStar) throws {
        var blocks: [TemporalBlock<Scalar>] = []
        for (k, dilation) in dilations.enumerated() {
            blocks.append(try TemporalBlock(inChannels: k == 0 ? features : channels, outChannels: channels,
                                            kernelSize: kernelSize, dilation: dilation, using: &generator))
        }
        self.blocks = blocks
        head = try Linear(inFeatures: channels, outFeatures: outputs, using: &generator)
    }

    /// Presents `blocks.0`, `blocks.1`, …, then `head`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.children("blocks", &blocks)
        visitor.child("head", &head)
    }

    /// `[batch, time, features]` → `[batch, outputs]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var x = input.transposed(1, 2)
        for block in blocks { x = block(x) }
        let last = x.shape[2] - 1
        return head(x.sliced(alongAxis: 2, from: last, to: last + 1).squeezed(at: 2))
    }
}

/// A Transformer-encoder regressor: a linear input projection, fixed sinusoidal positions (Vaswani et
/// al. 2017), a post-norm NN `TransformerEncoder` without dropout, and a linear head on the last step.
///
/// The window is the whole context, so attention in both directions inside it stays causal with
/// respect to the forecast origin. Shapes `[batch, time, features]` → `[batch, outputs]`; keys
/// `input.*`, `encoder.layers.0.…`, `head.*`.
public struct TransformerRegressor<Scalar: TensorScalar>: UnaryModule {
    /// Features → model dimension.
    public var input: Linear<Scalar>
    /// The encoder stack.
    public var encoder: TransformerEncoder<Scalar>
    /// The output layer on the last encoded step.
    public var head: Linear<Scalar>
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A regressor with PyTorch's default initialization, drawn input, encoder layers, head.
    /// - Throws: NN's `NNError.invalidConfiguration` for non-positive sizes or heads not dividing `modelDimension`.
    public init(features: Int, modelDimension: Int, headCount: Int, layerCount: Int = 1, feedForwardDimension: Int? = nil,
                outputs: Int, using generator: inout Xoshiro256StarStar) throws {
        input = try Linear(inFeatures: features, outFeatures: modelDimension, using: &generator)
        let configuration = TransformerConfiguration(modelDimension: modelDimension, headCount: headCount,
                                                     feedForwardDimension: feedForwardDimension ?? 2 * modelDimension,
                                                     dropout: 0)
        encoder = try TransformerEncoder(configuration, layerCount: layerCount, using: &generator)
        head = try Linear(inFeatures: modelDimension, outFeatures: outputs, using: &generator)
    }

    /// Presents `input`, `encoder`, `head`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.child("input", &input)
        visitor.child("encoder", &encoder)
        visitor.child("head", &head)
    }

    /// `[batch, time, features]` → `[batch, outputs]`.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        let time = x.shape[1], width = input.weight.shape[0]
        let encoded = encoder(input(x) + Self.positions(time: time, width: width))
        return head(encoded.sliced(alongAxis: 1, from: time - 1, to: time).squeezed(at: 1))
    }

    /// Sinusoidal positions `[time, width]`: `sin(t/10000^(2i/d))` in even, `cos` in odd columns.
    static func positions(time: Int, width: Int) -> Tensor<Scalar> {
        var values = [Scalar](repeating: 0, count: time * width)
        for t in 0..<time {
            for c in 0..<width {
                let angle = Double(t) / pow(10_000, Double(2 * (c / 2)) / Double(width))
                values[t * width + c] = Scalar(c % 2 == 0 ? sin(angle) : cos(angle))
            }
        }
        // The shape and count agree by construction.
        return try! Tensor(shape: [time, width], scalars: values)
    }
}

/// A 1-D U-Net regressor: NN's `UNet1D` over the window (time as the length axis), its output
/// channels at the last step, and a linear head.
///
/// The U-Net's convolutions are not causal (`padding='same'`, up-sampling without shift): a step
/// inside the window sees later steps of the same window. That is no look-ahead, because the window
/// ends at the forecast origin and every step of it is known there. The U-Net has no batch
/// normalization: ``EnsembleForecaster`` trains through a non-mutating forward pass of a copy whose
/// parameters are replaced at every step, so running statistics would never be accumulated and eval
/// mode would normalize with their initial values.
///
/// Shapes: `[batch, time, features]` → `[batch, outputs]`, `time ≥ 2^depth` (an odd length at some
/// level is handled by the U-Net's cropping and padding). Keys `unet.encoders.0.conv1.weight`, …,
/// `unet.head.*`, `head.*`, as the PyTorch reference in `Scripts/fixtures/strategies_forecasting.py`.
public struct UNetRegressor<Scalar: TensorScalar>: UnaryModule {
    /// The U-Net `[batch, features, time]` → `[batch, channels, time]`.
    public var unet: UNet1D<Scalar>
    /// The output layer on the last step's channels.
    public var head: Linear<Scalar>
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A U-Net of `depth` levels, `baseChannels` at the finest, `channels` outputs per step, kernel 3 and
    /// max-pooling (PyTorch initialization, drawn U-Net then head).
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` when `window < 2^depth`
    ///   (the coarsest level would be empty); NN's `NNError.invalidConfiguration` for non-positive sizes or
    ///   a depth outside `1...20`.
    public init(features: Int, window: Int, baseChannels: Int, depth: Int = 2, channels: Int, outputs: Int,
                using generator: inout Xoshiro256StarStar) throws {
        try require(window >= 1 << depth, "UNetRegressor", "window",
                    "must be ≥ 2^depth = 2^\(depth) for a U-Net of depth \(depth), not \(window)")
        unet = try UNet1D(UNet1DConfiguration(inChannels: features, outChannels: channels, baseChannels: baseChannels,
                                              depth: depth, batchNorm: false), using: &generator)
        head = try Linear(inFeatures: channels, outFeatures: outputs, using: &generator)
    }

    /// Presents `unet`, then `head`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.child("unet", &unet)
        visitor.child("head", &head)
    }

    /// `[batch, time, features]` → `[batch, outputs]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var unet = unet   // without batch normalization the call changes no state
        let x = unet(input.transposed(1, 2))
        let last = x.shape[2] - 1
        return head(x.sliced(alongAxis: 2, from: last, to: last + 1).squeezed(at: 2))
    }
}

/// The forecaster architectures of the pipeline.
public enum ForecastModel: String, Sendable, Hashable, CaseIterable, Codable {
    /// LSTM, multi-head self-attention, linear head (`RecurrentAttentionRegressor`).
    case lstmAttention = "lstm-attention"
    /// Stacked causal TCN blocks with dilations 1, 2, 4 (``TemporalConvolutionalRegressor``).
    case tcn
    /// Transformer encoder with a head on the last step (``TransformerRegressor``).
    case transformer
    /// A causal convolution (`hiddenSize` channels, kernel 3, ReLU), an LSTM of `hiddenSize` and a linear
    /// head on its last hidden state (NN's `CNNLSTM`).
    case cnnLSTM = "cnn-lstm"
    /// A 1-D U-Net of depth 2 (`hiddenSize/2` channels at the finest level, `hiddenSize` outputs per step)
    /// with a head on the last step (``UNetRegressor``); the window must have at least 4 steps.
    case unet

    /// An untrained deep ensemble of this architecture.
    ///
    /// - Throws: ``StrategiesError/invalidArgument(component:parameter:message:)`` for a bad configuration.
    public func makeForecaster(_ configuration: ForecasterConfiguration) throws -> any Forecaster {
        let hidden = configuration.hiddenSize, heads = configuration.headCount
        switch self {
        case .lstmAttention:
            return try EnsembleForecaster(name: rawValue, configuration: configuration) { features, _, outputs, generator in
                try RecurrentAttentionRegressor<Double>(inputSize: features, hiddenSize: hidden, headCount: heads,
                                                        outputSize: outputs, using: &generator)
            }
        case .tcn:
            return try EnsembleForecaster(name: rawValue, configuration: configuration) { features, _, outputs, generator in
                try TemporalConvolutionalRegressor<Double>(features: features, channels: hidden, outputs: outputs, using: &generator)
            }
        case .transformer:
            return try EnsembleForecaster(name: rawValue, configuration: configuration) { features, _, outputs, generator in
                try TransformerRegressor<Double>(features: features, modelDimension: hidden, headCount: heads, outputs: outputs,
                                                 using: &generator)
            }
        case .cnnLSTM:
            return try EnsembleForecaster(name: rawValue, configuration: configuration) { features, _, outputs, generator in
                try CNNLSTM<Double>(inputSize: features, convolutionChannels: [hidden], hiddenSize: hidden, outputSize: outputs,
                                    using: &generator)
            }
        case .unet:
            return try EnsembleForecaster(name: rawValue, configuration: configuration) { features, window, outputs, generator in
                try UNetRegressor<Double>(features: features, window: window, baseChannels: Swift.max(1, hidden / 2),
                                          channels: hidden, outputs: outputs, using: &generator)
            }
        }
    }
}

extension EnsembleForecaster where Network == RecurrentAttentionRegressor<Double> {
    /// The attention of the last step over the window (`[m][window]`, averaged over heads and members):
    /// which days of each window the LSTM-attention forecast leans on.
    ///
    /// - Throws: as ``predict(_:)``.
    public func attentionWeights(_ inputs: Tensor<Double>) throws -> [[Double]] {
        _ = try predict(inputs)   // the same checks
        let m = inputs.shape[0], window = inputs.shape[1]
        var weights = [[Double]](repeating: [Double](repeating: 0, count: window), count: m)
        for member in members {
            let all = withoutGradients { member.attention(member.lstm(inputs).output).weights.scalars }   // [m, window, window]
            for i in 0..<m {
                for j in 0..<window { weights[i][j] += all[(i * window + window - 1) * window + j] / Double(members.count) }
            }
        }
        return weights
    }
}
