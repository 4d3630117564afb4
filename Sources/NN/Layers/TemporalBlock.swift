import Autodiff
import Linalg

/// A temporal convolutional network block (Bai, Kolter & Koltun 2018, "An Empirical Evaluation of
/// Generic Convolutional and Recurrent Networks for Sequence Modeling"), without weight normalization.
///
/// `y = relu(relu(conv₂(causal(relu(conv₁(causal(x)))))) + residual(x))`, where `causal` pads
/// `(kernelSize − 1)·dilation` zeros on the left only, so output position `t` sees inputs `≤ t`, and
/// `residual` is a 1×1 convolution `downsample` when the channel counts differ, else the identity.
/// Keys follow the reference implementation: `conv1.*`, `conv2.*`, `downsample.*`. Shapes:
/// `[batch, inChannels, length]` → `[batch, outChannels, length]`.
public struct TemporalBlock<Scalar: TensorScalar>: Module {
    /// The first dilated convolution, `inChannels → outChannels`.
    public var conv1: Conv1d<Scalar>
    /// The second dilated convolution, `outChannels → outChannels`.
    public var conv2: Conv1d<Scalar>
    /// The 1×1 residual projection, or `nil` when the channel counts agree.
    public var downsample: Conv1d<Scalar>?
    /// Dropout after each convolution's activation (active in training mode only).
    public var dropout: Dropout<Scalar>
    /// Left padding of each convolution, `(kernelSize − 1)·dilation`.
    public let causalPadding: Int
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A block with PyTorch's default convolution initialization (drawn conv1, conv2, downsample).
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for bad sizes or a dropout probability outside `[0, 1]`.
    public init(inChannels: Int, outChannels: Int, kernelSize: Int, dilation: Int = 1, dropout: Double = 0,
                using generator: inout Xoshiro256StarStar) throws {
        conv1 = try Conv1d(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, dilation: dilation,
                           using: &generator)
        conv2 = try Conv1d(inChannels: outChannels, outChannels: outChannels, kernelSize: kernelSize, dilation: dilation,
                           using: &generator)
        downsample = inChannels == outChannels ? nil
            : try Conv1d(inChannels: inChannels, outChannels: outChannels, kernelSize: 1, using: &generator)
        self.dropout = try Dropout(probability: dropout)
        causalPadding = (kernelSize - 1) * dilation
    }

    /// Presents `conv1`, `conv2`, then `downsample` (dropout has no state).
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.child("conv1", &conv1)
        visitor.child("conv2", &conv2)
        visitor.child("downsample", &downsample)
        visitor.child("dropout", &dropout)
    }

    /// The block's output for `[batch, inChannels, length]`, drawing dropout masks from `generator`.
    public func callAsFunction(_ input: Tensor<Scalar>, using generator: inout Xoshiro256StarStar) -> Tensor<Scalar> {
        let first = dropout(conv1(input.padded(alongAxis: 2, before: causalPadding, after: 0)).relu(), using: &generator)
        let second = dropout(conv2(first.padded(alongAxis: 2, before: causalPadding, after: 0)).relu(), using: &generator)
        return (second + (downsample?(input) ?? input)).relu()
    }

    /// The block's output without dropout (eval mode, or a dropout probability of 0).
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var unused = Xoshiro256StarStar(seed: 0)
        return inEvalMode()(input, using: &unused)
    }
}
