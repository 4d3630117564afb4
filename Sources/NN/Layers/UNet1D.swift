import Autodiff
import Linalg

/// How a ``UNet1D`` halves the length between levels.
public enum UNetDownsampling: String, Sendable, Hashable, Codable {
    /// `MaxPool1d(2)`: no parameters.
    case maxPool
    /// A learned `Conv1d(c, c, kernelSize: 2, stride: 2)` (key `downsamples.<level>`).
    case stridedConvolution
}

/// The hyper-parameters of a ``UNet1D``.
public struct UNet1DConfiguration: Sendable, Hashable {
    /// Channels of the input `[batch, inChannels, length]`.
    public var inChannels: Int
    /// Channels of the output `[batch, outChannels, length]`.
    public var outChannels: Int
    /// Channels of the first level; level `ℓ` has `baseChannels·2^ℓ`, the bottleneck `baseChannels·2^depth`.
    public var baseChannels: Int
    /// Number of down-sampling steps (levels above the bottleneck), at least 1.
    public var depth: Int
    /// Width of every block convolution (stride 1, length-preserving padding).
    public var kernelSize: Int
    /// Max-pooling or strided convolution between levels.
    public var downsampling: UNetDownsampling
    /// A `BatchNorm1d` after each block convolution (whose bias is then dropped, as it would be cancelled).
    public var batchNorm: Bool
    /// The activation after each block convolution (and its normalization).
    public var activation: Activation
    /// Output position `t` depends only on inputs `≤ t` (see ``UNet1D``).
    public var causal: Bool

    /// A configuration; the defaults are the common 1-D U-Net choices.
    public init(inChannels: Int, outChannels: Int, baseChannels: Int = 16, depth: Int = 3, kernelSize: Int = 3,
                downsampling: UNetDownsampling = .maxPool, batchNorm: Bool = true, activation: Activation = .relu,
                causal: Bool = false) {
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.baseChannels = baseChannels
        self.depth = depth
        self.kernelSize = kernelSize
        self.downsampling = downsampling
        self.batchNorm = batchNorm
        self.activation = activation
        self.causal = causal
    }
}

/// The convolution block of a ``UNet1D`` level: `(Conv1d → [BatchNorm1d] → activation) × 2`, length preserving.
///
/// Keys `conv1.*`, `norm1.*`, `conv2.*`, `norm2.*`. Each convolution is padded with zeros explicitly:
/// `kernelSize − 1` on the left when causal, else `⌊(kernelSize − 1)/2⌋` on the left and the rest on the
/// right (PyTorch's `padding='same'`).
public struct UNet1DBlock<Scalar: TensorScalar>: Module {
    /// The first convolution `inChannels → outChannels`.
    public var conv1: Conv1d<Scalar>
    /// The normalization after `conv1`, or `nil`.
    public var norm1: BatchNorm1d<Scalar>?
    /// The second convolution `outChannels → outChannels`.
    public var conv2: Conv1d<Scalar>
    /// The normalization after `conv2`, or `nil`.
    public var norm2: BatchNorm1d<Scalar>?
    /// The activation after each normalization.
    public let activation: Activation
    /// Zeros added before and after the length axis for each convolution.
    public let padding: (before: Int, after: Int)
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A block with PyTorch's default convolution initialization (drawn conv1, conv2).
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for non-positive sizes.
    public init(inChannels: Int, outChannels: Int, kernelSize: Int, batchNorm: Bool, activation: Activation,
                causal: Bool, using generator: inout Xoshiro256StarStar) throws {
        conv1 = try Conv1d(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, bias: !batchNorm,
                           using: &generator)
        conv2 = try Conv1d(inChannels: outChannels, outChannels: outChannels, kernelSize: kernelSize, bias: !batchNorm,
                           using: &generator)
        norm1 = batchNorm ? try BatchNorm1d(numFeatures: outChannels) : nil
        norm2 = batchNorm ? try BatchNorm1d(numFeatures: outChannels) : nil
        self.activation = activation
        let before = causal ? kernelSize - 1 : (kernelSize - 1) / 2
        padding = (before, kernelSize - 1 - before)
    }

    /// Presents `conv1`, `norm1`, `conv2`, `norm2`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.child("conv1", &conv1)
        visitor.child("norm1", &norm1)
        visitor.child("conv2", &conv2)
        visitor.child("norm2", &norm2)
    }

    /// The block's output `[batch, outChannels, length]` for `[batch, inChannels, length]`; in training mode
    /// the batch normalizations update their running statistics.
    public mutating func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var x = conv1(input.padded(alongAxis: 2, before: padding.before, after: padding.after))
        if norm1 != nil { x = norm1!(x) }
        x = conv2(activation(x).padded(alongAxis: 2, before: padding.before, after: padding.after))
        if norm2 != nil { x = norm2!(x) }
        return activation(x)
    }
}

/// A 1-D U-Net (Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional Networks for Biomedical Image
/// Segmentation", here over time): an encoder that halves the length and doubles the channels per
/// level, a bottleneck, and a decoder that doubles the length back and concatenates each level's encoder
/// features (the skip connection), then a 1×1 convolution head.
///
/// Per level `ℓ = 0..<depth` with `c = baseChannels·2^ℓ`: `encoders.ℓ` (a ``UNet1DBlock`` to `c`
/// channels; its output is the skip), then `downsamples.ℓ` (max-pool or strided convolution, width 2,
/// stride 2). Then `bottleneck` (to `2^depth·baseChannels`). Back up, for `ℓ = depth−1 … 0`:
/// `upsamples.ℓ` (`ConvTranspose1d(2c, c, kernelSize: 2, stride: 2)`), fitted to the skip's length
/// (zeros appended on the right, or the excess cropped on the right, when the length was odd), then
/// `decoders.ℓ` on `concat([skip, upsampled], channels)` (`2c → c`). Finally `head`
/// (`Conv1d(baseChannels, outChannels, 1)`). Shapes: `[batch, inChannels, length]` →
/// `[batch, outChannels, length]`, any `length ≥ 2^depth`.
///
/// ## Causality
///
/// With `causal`, output position `t` depends on inputs `≤ t` only:
/// - block convolutions pad `kernelSize − 1` zeros on the left only;
/// - a coarse sample `j` pools (or convolves) fine samples `2j` and `2j + 1`, so it is known at fine time `2j + 1`;
/// - the up-sampled sequence is shifted right by one (a zero prepended): coarse `j` then feeds fine
///   positions `2j + 1` and `2j + 2`, never `2j`, which would see the future sample `2j + 1`;
/// - fitting to the skip's length appends zeros or crops on the right, which never moves information left.
///
/// By induction over the levels, every stage is causal in its own time index. Batch normalization in
/// training mode normalizes with statistics over the whole sequence, which is not causal; causality holds
/// in eval mode or without batch normalization.
public struct UNet1D<Scalar: TensorScalar>: Module {
    /// The encoder blocks, finest level first.
    public var encoders: [UNet1DBlock<Scalar>]
    /// The strided down-sampling convolutions (empty with max-pooling).
    public var downsamples: [Conv1d<Scalar>]
    /// The block at the coarsest level.
    public var bottleneck: UNet1DBlock<Scalar>
    /// The transposed convolutions; `upsamples[ℓ]` brings level `ℓ + 1` up to level `ℓ`.
    public var upsamples: [ConvTranspose1d<Scalar>]
    /// The decoder blocks; `decoders[ℓ]` works at level `ℓ`.
    public var decoders: [UNet1DBlock<Scalar>]
    /// The 1×1 output convolution.
    public var head: Conv1d<Scalar>
    /// The hyper-parameters.
    public let configuration: UNet1DConfiguration
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A U-Net with PyTorch's default initializations, drawn in state-dict order
    /// (encoders, down-sampling, bottleneck, up-sampling, decoders, head).
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for non-positive channel counts or kernel size,
    ///   a depth outside `1...20`, or more than 2²⁰ bottleneck channels.
    public init(_ configuration: UNet1DConfiguration, using generator: inout Xoshiro256StarStar) throws {
        let c = configuration
        guard c.inChannels > 0, c.outChannels > 0, c.baseChannels > 0, c.kernelSize > 0, (1...20).contains(c.depth) else {
            throw NNError.invalidConfiguration(layer: "UNet1D", reason: """
                channels \(c.inChannels) → \(c.outChannels), base \(c.baseChannels), kernel \(c.kernelSize): \
                must be positive, and depth \(c.depth) in 1...20
                """)
        }
        guard c.baseChannels <= (1 << 20) >> c.depth else {
            throw NNError.invalidConfiguration(layer: "UNet1D", reason: "base channels \(c.baseChannels)·2^\(c.depth) exceed 2^20")
        }
        self.configuration = c
        func block(_ input: Int, _ output: Int) throws -> UNet1DBlock<Scalar> {
            try UNet1DBlock(inChannels: input, outChannels: output, kernelSize: c.kernelSize, batchNorm: c.batchNorm,
                            activation: c.activation, causal: c.causal, using: &generator)
        }
        let widths = (0...c.depth).map { c.baseChannels << $0 }
        encoders = try (0..<c.depth).map { try block($0 == 0 ? c.inChannels : widths[$0 - 1], widths[$0]) }
        downsamples = c.downsampling == .maxPool ? [] : try widths.dropLast().map {
            try Conv1d(inChannels: $0, outChannels: $0, kernelSize: 2, stride: 2, using: &generator)
        }
        bottleneck = try block(widths[c.depth - 1], widths[c.depth])
        upsamples = try (0..<c.depth).map {
            try ConvTranspose1d(inChannels: widths[$0 + 1], outChannels: widths[$0], kernelSize: 2, stride: 2, using: &generator)
        }
        decoders = try (0..<c.depth).map { try block(2 * widths[$0], widths[$0]) }
        head = try Conv1d(inChannels: c.baseChannels, outChannels: c.outChannels, kernelSize: 1, using: &generator)
    }

    /// Presents `encoders.*`, `downsamples.*`, `bottleneck`, `upsamples.*`, `decoders.*`, `head`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.children("encoders", &encoders)
        visitor.children("downsamples", &downsamples)
        visitor.child("bottleneck", &bottleneck)
        visitor.children("upsamples", &upsamples)
        visitor.children("decoders", &decoders)
        visitor.child("head", &head)
    }

    /// The network's output `[batch, outChannels, length]` for `[batch, inChannels, length]`
    /// (`length ≥ 2^depth`); in training mode the batch normalizations update their running statistics.
    public mutating func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let depth = configuration.depth
        precondition(input.rank == 3 && input.shape[1] == configuration.inChannels && input.shape[2] >= 1 << depth,
                     "UNet1D: input of shape \(input.shape) is not [batch, \(configuration.inChannels), length ≥ \(1 << depth)]")
        var x = input
        var skips: [Tensor<Scalar>] = []
        for level in 0..<depth {
            x = encoders[level](x)
            skips.append(x)
            x = downsamples.isEmpty ? x.maxPool1d(kernelSize: 2) : downsamples[level](x)
        }
        x = bottleneck(x)
        for level in (0..<depth).reversed() {
            var up = upsamples[level](x)
            if configuration.causal { up = up.padded(alongAxis: 2, before: 1, after: 0) }
            let length = skips[level].shape[2], excess = up.shape[2] - length
            if excess > 0 { up = up.sliced(alongAxis: 2, from: 0, to: length) }
            if excess < 0 { up = up.padded(alongAxis: 2, before: 0, after: -excess) }
            x = decoders[level](Tensor.concatenate([skips[level], up], alongAxis: 1))
        }
        return head(x)
    }
}
