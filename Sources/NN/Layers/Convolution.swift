import Autodiff
import Linalg

/// Validates convolution hyperparameters shared by ``Conv1d`` and ``ConvTranspose1d``.
func validateConvolution(_ layer: String, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int,
                         padding: Int, dilation: Int, groups: Int) throws {
    guard inChannels > 0, outChannels > 0, kernelSize > 0, stride > 0, padding >= 0, dilation > 0, groups > 0 else {
        throw NNError.invalidConfiguration(layer: layer, reason: "channels, kernel size, stride, dilation and groups must be positive, padding non-negative")
    }
    guard inChannels % groups == 0, outChannels % groups == 0 else {
        throw NNError.invalidConfiguration(layer: layer, reason: "channels \(inChannels) → \(outChannels) are not divisible by groups \(groups)")
    }
}

/// 1-d convolution (cross-correlation) over `[batch, inChannels, length]`, as `torch.nn.Conv1d`.
///
/// `weight` is `[outChannels, inChannels/groups, kernelSize]`, `bias` `[outChannels]`; the output is
/// `[batch, outChannels, ⌊(length + 2·padding − dilation·(kernelSize − 1) − 1)/stride⌋ + 1]`.
/// Computed as im2col over the whole batch plus one `gemm` per group (see `Tensor.conv1d`).
public struct Conv1d<Scalar: TensorScalar>: UnaryModule {
    /// `[outChannels, inChannels/groups, kernelSize]`.
    public var weight: Tensor<Scalar>
    /// `[outChannels]`, or `nil`.
    public var bias: Tensor<Scalar>?
    /// Step between output positions, in input elements.
    public let stride: Int
    /// Zeros added at both ends of the length axis.
    public let padding: Int
    /// Spacing between kernel taps.
    public let dilation: Int
    /// Number of channel groups.
    public let groups: Int
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A layer with PyTorch's default initialization: weight and bias `U(−1/√fanIn, 1/√fanIn)` with
    /// `fanIn = inChannels/groups·kernelSize`, drawn weight first.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for bad sizes or indivisible groups.
    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, groups: Int = 1, bias: Bool = true, using generator: inout Xoshiro256StarStar) throws {
        try validateConvolution("Conv1d", inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize,
                                stride: stride, padding: padding, dilation: dilation, groups: groups)
        weight = Initializer.pytorchDefault.make([outChannels, inChannels / groups, kernelSize], using: &generator)
        self.bias = bias ? Initializer.bias(outChannels, fanIn: inChannels / groups * kernelSize, using: &generator) : nil
        (self.stride, self.padding, self.dilation, self.groups) = (stride, padding, dilation, groups)
    }

    /// Presents `weight` and `bias`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
        visitor.parameter("bias", &bias)
    }

    /// The convolution of `[batch, inChannels, length]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        input.conv1d(weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
    }
}

/// 1-d transposed convolution, as `torch.nn.ConvTranspose1d` (the adjoint of ``Conv1d`` in its input).
///
/// `weight` is `[inChannels, outChannels/groups, kernelSize]`; the output length is
/// `(length − 1)·stride − 2·padding + dilation·(kernelSize − 1) + outputPadding + 1`.
public struct ConvTranspose1d<Scalar: TensorScalar>: UnaryModule {
    /// `[inChannels, outChannels/groups, kernelSize]`.
    public var weight: Tensor<Scalar>
    /// `[outChannels]`, or `nil`.
    public var bias: Tensor<Scalar>?
    /// The stride of the convolution this one transposes.
    public let stride: Int
    /// Positions cropped from both ends of the output.
    public let padding: Int
    /// Extra positions at the end of the output (below `stride` or `dilation`).
    public let outputPadding: Int
    /// Spacing between kernel taps.
    public let dilation: Int
    /// Number of channel groups.
    public let groups: Int
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A layer with PyTorch's default initialization: `U(−1/√fanIn, 1/√fanIn)` where PyTorch's fan
    /// rule on the weight shape gives `fanIn = outChannels/groups·kernelSize`.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for bad sizes, indivisible groups or
    ///   an `outputPadding` not below `stride` or `dilation`.
    public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                outputPadding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
                using generator: inout Xoshiro256StarStar) throws {
        try validateConvolution("ConvTranspose1d", inChannels: inChannels, outChannels: outChannels,
                                kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, groups: groups)
        guard outputPadding >= 0, outputPadding < max(stride, dilation) else {
            throw NNError.invalidConfiguration(layer: "ConvTranspose1d", reason: "outputPadding \(outputPadding) must be below stride or dilation")
        }
        let shape = [inChannels, outChannels / groups, kernelSize]
        weight = Initializer.pytorchDefault.make(shape, using: &generator)
        self.bias = bias ? Initializer.bias(outChannels, fanIn: Initializer.fans(of: shape).fanIn, using: &generator) : nil
        (self.stride, self.padding, self.outputPadding, self.dilation, self.groups) = (stride, padding, outputPadding, dilation, groups)
    }

    /// Presents `weight` and `bias`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
        visitor.parameter("bias", &bias)
    }

    /// The transposed convolution of `[batch, inChannels, length]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        input.transposedConv1d(weight: weight, bias: bias, stride: stride, padding: padding,
                               outputPadding: outputPadding, dilation: dilation, groups: groups)
    }
}

/// Max pooling over `[batch, channels, length]`, as `torch.nn.MaxPool1d` (floor mode; padding counts as −∞).
public struct MaxPool1d<Scalar: TensorScalar>: UnaryModule {
    /// Window width.
    public let kernelSize: Int
    /// Step between windows (PyTorch's default is the kernel size).
    public let stride: Int
    /// Implicit −∞ padding at both ends (at most half the kernel).
    public let padding: Int
    /// Spacing between window elements.
    public let dilation: Int
    /// Mode flags.
    public var settings = ModuleSettings()

    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for a non-positive size or padding above half the kernel.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, dilation: Int = 1) throws {
        guard kernelSize > 0, (stride ?? 1) > 0, dilation > 0, padding >= 0, 2 * padding <= kernelSize else {
            throw NNError.invalidConfiguration(layer: "MaxPool1d", reason: "kernel \(kernelSize), stride \(stride ?? kernelSize), padding \(padding), dilation \(dilation) are invalid")
        }
        (self.kernelSize, self.stride, self.padding, self.dilation) = (kernelSize, stride ?? kernelSize, padding, dilation)
    }

    /// No parameters or buffers.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {}

    /// The window maxima of `[batch, channels, length]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        input.maxPool1d(kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation)
    }
}

/// Average pooling over `[batch, channels, length]`, as `torch.nn.AvgPool1d` (floor mode, `count_include_pad=True`).
public struct AvgPool1d<Scalar: TensorScalar>: UnaryModule {
    /// Window width.
    public let kernelSize: Int
    /// Step between windows (PyTorch's default is the kernel size).
    public let stride: Int
    /// Zero padding at both ends, counted in the average (at most half the kernel).
    public let padding: Int
    /// Mode flags.
    public var settings = ModuleSettings()

    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for a non-positive size or padding above half the kernel.
    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) throws {
        guard kernelSize > 0, (stride ?? 1) > 0, padding >= 0, 2 * padding <= kernelSize else {
            throw NNError.invalidConfiguration(layer: "AvgPool1d", reason: "kernel \(kernelSize), stride \(stride ?? kernelSize), padding \(padding) are invalid")
        }
        (self.kernelSize, self.stride, self.padding) = (kernelSize, stride ?? kernelSize, padding)
    }

    /// No parameters or buffers.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {}

    /// The window means of `[batch, channels, length]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        input.avgPool1d(kernelSize: kernelSize, stride: stride, padding: padding)
    }
}
