import Autodiff
import Linalg

/// A CNN-LSTM forecaster: causal 1-d convolutions extract features at every timestep, an LSTM reads
/// them in order, and a linear head maps its last hidden state to the forecast (the convolutional
/// front end of Donahue et al. 2015, "Long-term Recurrent Convolutional Networks", over time).
///
/// `convs.k` is `Conv1d(c_{k−1}, c_k, kernelSize)` with `kernelSize − 1` zeros padded on the left, so
/// feature `t` sees inputs `≤ t` and the length is kept, each followed by `activation`; then `lstm`
/// (batch-first ``LSTM`` over the last convolution's channels) and `head` (``Linear`` from the hidden
/// size). Shapes: `[batch, time, inputSize]` → `[batch, outputSize]`.
public struct CNNLSTM<Scalar: TensorScalar>: UnaryModule {
    /// The convolutions, applied in order.
    public var convolutions: [Conv1d<Scalar>]
    /// The recurrent network over the convolved features.
    public var lstm: LSTM<Scalar>
    /// The forecast head on the last timestep's hidden state.
    public var head: Linear<Scalar>
    /// The activation after each convolution.
    public let activation: Activation
    /// Width of each convolution.
    public let kernelSize: Int
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A network with PyTorch's default initializations, drawn convolutions, LSTM, head.
    ///
    /// - Parameters:
    ///   - inputSize: features per timestep.
    ///   - convolutionChannels: output channels of each convolution (at least one).
    ///   - kernelSize: width of every convolution.
    ///   - hiddenSize: the LSTM's hidden size.
    ///   - lstmLayerCount: stacked LSTM layers.
    ///   - outputSize: forecast features.
    ///   - activation: applied after each convolution.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for no convolutions or a non-positive size.
    public init(inputSize: Int, convolutionChannels: [Int], kernelSize: Int = 3, hiddenSize: Int, lstmLayerCount: Int = 1,
                outputSize: Int, activation: Activation = .relu, using generator: inout Xoshiro256StarStar) throws {
        guard inputSize > 0, !convolutionChannels.isEmpty, convolutionChannels.allSatisfy({ $0 > 0 }), kernelSize > 0,
              hiddenSize > 0, lstmLayerCount > 0, outputSize > 0 else {
            throw NNError.invalidConfiguration(layer: "CNNLSTM", reason: """
                input \(inputSize), convolution channels \(convolutionChannels), kernel \(kernelSize), hidden \(hiddenSize), \
                LSTM layers \(lstmLayerCount), output \(outputSize): sizes must be positive and at least one convolution given
                """)
        }
        let inputs = [inputSize] + convolutionChannels.dropLast()
        convolutions = try zip(inputs, convolutionChannels).map {
            try Conv1d(inChannels: $0, outChannels: $1, kernelSize: kernelSize, using: &generator)
        }
        lstm = try LSTM(inputSize: convolutionChannels.last!, hiddenSize: hiddenSize, layerCount: lstmLayerCount,
                        using: &generator)
        head = try Linear(inFeatures: hiddenSize, outFeatures: outputSize, using: &generator)
        (self.activation, self.kernelSize) = (activation, kernelSize)
    }

    /// Presents `convs.0`, `convs.1`, …, `lstm`, `head`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.children("convs", &convolutions)
        visitor.child("lstm", &lstm)
        visitor.child("head", &head)
    }

    /// The forecast `[batch, outputSize]` from `[batch, time, inputSize]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        precondition(input.rank == 3 && input.shape[2] == convolutions[0].weight.shape[1],
                     "CNNLSTM: input of shape \(input.shape) is not [batch, time, \(convolutions[0].weight.shape[1])]")
        var features = input.transposed(1, 2)
        for convolution in convolutions {
            features = activation(convolution(features.padded(alongAxis: 2, before: kernelSize - 1, after: 0)))
        }
        let hidden = lstm(features.transposed(1, 2)).hidden
        let layers = hidden.shape[0]
        return head(hidden.sliced(alongAxis: 0, from: layers - 1, to: layers).squeezed(at: 0))
    }
}
