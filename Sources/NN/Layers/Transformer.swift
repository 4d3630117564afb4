import Autodiff
import Linalg

/// The hyper-parameters of a Transformer encoder layer, as the arguments of `torch.nn.TransformerEncoderLayer`.
///
/// - Note: `batchFirst` defaults to `true` here (PyTorch's default is `false`).
public struct TransformerConfiguration: Sendable, Hashable {
    /// Model width `E` (PyTorch's `d_model`).
    public var modelDimension: Int
    /// Number of attention heads (divides `E`).
    public var headCount: Int
    /// Width of the feed-forward block's hidden layer (PyTorch's `dim_feedforward`, default 2048).
    public var feedForwardDimension: Int
    /// Dropout probability after attention, inside and after the feed-forward block (PyTorch's default 0.1).
    public var dropout: Double
    /// The feed-forward block's activation (PyTorch accepts ReLU, the default, and GELU).
    public var activation: Activation
    /// `ε` of both layer normalizations (PyTorch's `layer_norm_eps`, default `1e-5`).
    public var layerNormEpsilon: Double
    /// Pre-norm (`x + f(norm(x))`, Xiong et al. 2020) when `true`, post-norm (`norm(x + f(x))`, Vaswani et al. 2017) when `false`.
    public var normFirst: Bool
    /// Inputs and outputs are `[batch, sequence, E]` when `true`, `[sequence, batch, E]` otherwise.
    public var batchFirst: Bool
    /// Biases in the linear layers and layer normalizations.
    public var bias: Bool

    /// A configuration with PyTorch's defaults except `batchFirst`.
    public init(modelDimension: Int, headCount: Int, feedForwardDimension: Int = 2048, dropout: Double = 0.1,
                activation: Activation = .relu, layerNormEpsilon: Double = 1e-5, normFirst: Bool = false,
                batchFirst: Bool = true, bias: Bool = true) {
        self.modelDimension = modelDimension
        self.headCount = headCount
        self.feedForwardDimension = feedForwardDimension
        self.dropout = dropout
        self.activation = activation
        self.layerNormEpsilon = layerNormEpsilon
        self.normFirst = normFirst
        self.batchFirst = batchFirst
        self.bias = bias
    }
}

/// One Transformer encoder layer (Vaswani et al. 2017, "Attention Is All You Need"), as
/// `torch.nn.TransformerEncoderLayer`: self-attention then a position-wise feed-forward block, each
/// with a residual connection and layer normalization.
///
/// Post-norm (the default): `x = norm1(x + sa(x))`, `x = norm2(x + ff(x))`. Pre-norm
/// (`normFirst`, Xiong et al. 2020): `x = x + sa(norm1(x))`, `x = x + ff(norm2(x))`. Here
/// `sa(x) = dropout(self_attn(x, x, x))` and `ff(x) = dropout(linear2(dropout(activation(linear1(x)))))`.
/// Keys as PyTorch: `self_attn.in_proj_weight`, `self_attn.in_proj_bias`, `self_attn.out_proj.*`,
/// `linear1.*`, `linear2.*`, `norm1.*`, `norm2.*`. Shapes: `[batch, sequence, E]` → the same
/// (time-major when not batch-first).
public struct TransformerEncoderLayer<Scalar: TensorScalar>: Module {
    /// Multi-head self-attention (`self_attn`).
    public var selfAttention: MultiheadAttention<Scalar>
    /// The feed-forward block's first layer `E → feedForwardDimension`.
    public var linear1: Linear<Scalar>
    /// The feed-forward block's second layer `feedForwardDimension → E`.
    public var linear2: Linear<Scalar>
    /// The normalization around self-attention.
    public var norm1: LayerNorm<Scalar>
    /// The normalization around the feed-forward block.
    public var norm2: LayerNorm<Scalar>
    /// The dropout applied at PyTorch's three places (`dropout`, `dropout1`, `dropout2`; no state).
    public var dropout: Dropout<Scalar>
    /// The hyper-parameters.
    public let configuration: TransformerConfiguration
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A layer with PyTorch's initialization: attention as ``MultiheadAttention``, the linear layers
    /// with `Linear`'s default, layer normalizations ones and zeros (drawn attention, linear1, linear2).
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for a non-positive width, heads that do not
    ///   divide the width, a dropout probability outside `[0, 1]` or a negative `ε`.
    public init(_ configuration: TransformerConfiguration, using generator: inout Xoshiro256StarStar) throws {
        let c = configuration
        guard c.modelDimension > 0, c.headCount > 0, c.modelDimension % c.headCount == 0, c.feedForwardDimension > 0,
              (0...1).contains(c.dropout), c.layerNormEpsilon >= 0 else {
            throw NNError.invalidConfiguration(layer: "TransformerEncoderLayer", reason: """
                width \(c.modelDimension), \(c.headCount) heads, feed-forward width \(c.feedForwardDimension), \
                dropout \(c.dropout), epsilon \(c.layerNormEpsilon): widths must be positive with the heads dividing \
                the model width, dropout in [0, 1] and epsilon non-negative
                """)
        }
        self.configuration = c
        selfAttention = try MultiheadAttention(embedDimension: c.modelDimension, headCount: c.headCount, bias: c.bias,
                                               batchFirst: c.batchFirst, using: &generator)
        linear1 = try Linear(inFeatures: c.modelDimension, outFeatures: c.feedForwardDimension, bias: c.bias, using: &generator)
        linear2 = try Linear(inFeatures: c.feedForwardDimension, outFeatures: c.modelDimension, bias: c.bias, using: &generator)
        norm1 = try LayerNorm(normalizedShape: [c.modelDimension], epsilon: c.layerNormEpsilon, bias: c.bias)
        norm2 = try LayerNorm(normalizedShape: [c.modelDimension], epsilon: c.layerNormEpsilon, bias: c.bias)
        dropout = try Dropout(probability: c.dropout)
    }

    /// Presents `self_attn`, `linear1`, `linear2`, `norm1`, `norm2` (PyTorch's state-dict order).
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.child("self_attn", &selfAttention)
        visitor.child("linear1", &linear1)
        visitor.child("dropout", &dropout)
        visitor.child("linear2", &linear2)
        visitor.child("norm1", &norm1)
        visitor.child("norm2", &norm2)
    }

    /// The layer's output, drawing dropout masks from `generator` in training mode.
    ///
    /// - Parameters:
    ///   - input: `[batch, sequence, E]` (batch-first) or `[sequence, batch, E]`.
    ///   - keyPaddingMask: `[batch][sequence]`, `true` where a position is padding that no query may attend to
    ///     (PyTorch's `src_key_padding_mask`).
    ///   - attentionMask: an additive mask `[sequence, sequence]` or `[batch·heads, sequence, sequence]`
    ///     (PyTorch's float `src_mask`; `-infinity` forbids a position).
    ///   - causal: position `i` attends only to positions `≤ i` (PyTorch's boolean upper-triangular `src_mask`).
    /// - Returns: the same shape as `input`.
    public func callAsFunction(_ input: Tensor<Scalar>, keyPaddingMask: [[Bool]]? = nil,
                               attentionMask: Tensor<Scalar>? = nil, causal: Bool = false,
                               using generator: inout Xoshiro256StarStar) -> Tensor<Scalar> {
        func attention(_ x: Tensor<Scalar>, _ generator: inout Xoshiro256StarStar) -> Tensor<Scalar> {
            let attended = selfAttention(x, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, causal: causal).output
            return dropout(attended, using: &generator)
        }
        func feedForward(_ x: Tensor<Scalar>, _ generator: inout Xoshiro256StarStar) -> Tensor<Scalar> {
            let hidden = dropout(configuration.activation(linear1(x)), using: &generator)
            return dropout(linear2(hidden), using: &generator)
        }
        if configuration.normFirst {
            let x = input + attention(norm1(input), &generator)
            return x + feedForward(norm2(x), &generator)
        }
        let x = norm1(input + attention(input, &generator))
        return norm2(x + feedForward(x, &generator))
    }

    /// The layer's output without dropout (as in eval mode); see ``callAsFunction(_:keyPaddingMask:attentionMask:causal:using:)``.
    public func callAsFunction(_ input: Tensor<Scalar>, keyPaddingMask: [[Bool]]? = nil,
                               attentionMask: Tensor<Scalar>? = nil, causal: Bool = false) -> Tensor<Scalar> {
        var unused = Xoshiro256StarStar(seed: 0)
        return inEvalMode()(input, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, causal: causal,
                            using: &unused)
    }
}

/// A stack of Transformer encoder layers with an optional final layer normalization, as
/// `torch.nn.TransformerEncoder`.
///
/// Keys `layers.0.self_attn.in_proj_weight`, …, `layers.1.…`, then `norm.weight`, `norm.bias`. Unlike
/// PyTorch, whose layers start as deep copies of one layer, each layer here gets its own initialization.
/// The masks are passed to every layer.
public struct TransformerEncoder<Scalar: TensorScalar>: Module {
    /// The layers, applied in order.
    public var layers: [TransformerEncoderLayer<Scalar>]
    /// The final normalization, or `nil`.
    public var norm: LayerNorm<Scalar>?
    /// Mode flags.
    public var settings = ModuleSettings()

    /// `layerCount` layers with `configuration`, drawn in order, and a final `LayerNorm` when `finalNorm`.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for a non-positive `layerCount` or a bad configuration.
    public init(_ configuration: TransformerConfiguration, layerCount: Int, finalNorm: Bool = false,
                using generator: inout Xoshiro256StarStar) throws {
        guard layerCount > 0 else {
            throw NNError.invalidConfiguration(layer: "TransformerEncoder", reason: "layer count \(layerCount) must be positive")
        }
        layers = try (0..<layerCount).map { _ in try TransformerEncoderLayer(configuration, using: &generator) }
        norm = finalNorm ? try LayerNorm(normalizedShape: [configuration.modelDimension],
                                         epsilon: configuration.layerNormEpsilon, bias: configuration.bias) : nil
    }

    /// Presents `layers.0`, `layers.1`, …, then `norm`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.children("layers", &layers)
        visitor.child("norm", &norm)
    }

    /// The stack's output for `input` (`[batch, sequence, E]`, or time-major), drawing dropout masks from
    /// `generator`; the masks are those of ``TransformerEncoderLayer/callAsFunction(_:keyPaddingMask:attentionMask:causal:using:)``.
    public func callAsFunction(_ input: Tensor<Scalar>, keyPaddingMask: [[Bool]]? = nil,
                               attentionMask: Tensor<Scalar>? = nil, causal: Bool = false,
                               using generator: inout Xoshiro256StarStar) -> Tensor<Scalar> {
        var x = input
        for layer in layers {
            x = layer(x, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, causal: causal, using: &generator)
        }
        return norm?(x) ?? x
    }

    /// The stack's output without dropout (as in eval mode).
    public func callAsFunction(_ input: Tensor<Scalar>, keyPaddingMask: [[Bool]]? = nil,
                               attentionMask: Tensor<Scalar>? = nil, causal: Bool = false) -> Tensor<Scalar> {
        var unused = Xoshiro256StarStar(seed: 0)
        return inEvalMode()(input, keyPaddingMask: keyPaddingMask, attentionMask: attentionMask, causal: causal,
                            using: &unused)
    }
}
