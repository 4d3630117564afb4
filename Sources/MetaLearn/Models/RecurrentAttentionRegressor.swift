import Autodiff
import Linalg
import NN

/// A small sequence regressor for meta-learning on time series: an NN `LSTM`, multi-head
/// self-attention over its outputs, and a linear head on the last time step.
///
/// Shapes: input `[batch, time, inputSize]` (batch-first), output `[batch, outputSize]`. State-dict
/// keys: `lstm.*`, `attention.*` (PyTorch's `nn.MultiheadAttention` names), `head.*`, so ANIL can adapt
/// only the head with `.prefixes(["head"])`. The attention follows Vaswani et al., "Attention is all
/// you need", NeurIPS 2017; the model is the LSTM-attention forecaster of the financial example and
/// the second-order meta-gradient acceptance test.
public struct RecurrentAttentionRegressor<Scalar: TensorScalar>: UnaryModule {
    /// The recurrent encoder.
    public var lstm: LSTM<Scalar>
    /// Self-attention over the encoder's outputs.
    public var attention: MultiheadAttention<Scalar>
    /// The output layer applied to the last attended step.
    public var head: Linear<Scalar>
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A regressor with PyTorch's default initialization, drawn LSTM, attention, head.
    /// - Throws: NN's `NNError.invalidConfiguration` for non-positive sizes or a hidden size
    ///   not divisible by `headCount`.
    public init(inputSize: Int, hiddenSize: Int, headCount: Int, outputSize: Int = 1,
                using generator: inout Xoshiro256StarStar) throws {
        lstm = try LSTM(inputSize: inputSize, hiddenSize: hiddenSize, using: &generator)
        attention = try MultiheadAttention(embedDimension: hiddenSize, headCount: headCount, using: &generator)
        head = try Linear(inFeatures: hiddenSize, outFeatures: outputSize, using: &generator)
    }

    /// Presents `lstm`, `attention` and `head`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.child("lstm", &lstm)
        visitor.child("attention", &attention)
        visitor.child("head", &head)
    }

    /// `[batch, time, inputSize]` → `[batch, outputSize]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let attended = attention(lstm(input).output).output
        let last = attended.shape[1] - 1
        return head(attended.sliced(alongAxis: 1, from: last, to: last + 1).squeezed(at: 1))
    }
}
