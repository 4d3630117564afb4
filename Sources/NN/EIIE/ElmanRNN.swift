import Autodiff
import Linalg

/// A single-layer Elman recurrent network with a tanh activation, as `torch.nn.RNN` with
/// `num_layers=1`, `nonlinearity='tanh'`, one direction (Elman 1990, "Finding structure in time").
///
/// `hₜ = tanh(xₜ·W_ihᵀ + b_ih + hₜ₋₁·W_hhᵀ + b_hh)`, with parameters `weight_ih_l0` `[H, in]`,
/// `weight_hh_l0` `[H, H]`, `bias_ih_l0` and `bias_hh_l0` `[H]` (PyTorch's names and layout). It is
/// the "basic RNN" evaluator of the EIIE networks (Jiang, Xu & Liang 2017, Fig. 3). The input
/// projection of all timesteps is one `gemm`; each timestep then costs one small `gemm` and one `tanh`.
///
/// - Note: `batchFirst` defaults to `true` here (PyTorch's default is `false`).
public struct ElmanRNN<Scalar: TensorScalar>: Module {
    /// `[H, inputSize]`.
    public var weightIH: Tensor<Scalar>
    /// `[H, H]`.
    public var weightHH: Tensor<Scalar>
    /// `[H]`, or `nil` without biases.
    public var biasIH: Tensor<Scalar>?
    /// `[H]`, or `nil` without biases.
    public var biasHH: Tensor<Scalar>?
    /// Inputs and outputs are `[batch, time, features]` when `true`, `[time, batch, features]` otherwise.
    public let batchFirst: Bool
    /// Mode flags.
    public var settings = ModuleSettings()

    /// Features per input timestep.
    public var inputSize: Int { weightIH.shape[1] }
    /// Features of the hidden state, `H`.
    public var hiddenSize: Int { weightHH.shape[0] }

    /// A network with PyTorch's initialization: every parameter `U(−1/√H, 1/√H)`, drawn in state-dict order.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for non-positive sizes.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, batchFirst: Bool = true,
                using generator: inout Xoshiro256StarStar) throws {
        guard inputSize > 0, hiddenSize > 0 else {
            throw NNError.invalidConfiguration(layer: "ElmanRNN", reason: "inputSize \(inputSize) and hiddenSize \(hiddenSize) must be positive")
        }
        let bound = Initializer.uniform(bound: 1 / Double(hiddenSize).squareRoot())
        weightIH = bound.make([hiddenSize, inputSize], using: &generator)
        weightHH = bound.make([hiddenSize, hiddenSize], using: &generator)
        biasIH = bias ? bound.make([hiddenSize], using: &generator) : nil
        biasHH = bias ? bound.make([hiddenSize], using: &generator) : nil
        self.batchFirst = batchFirst
    }

    /// Presents `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.parameter("weight_ih_l0", &weightIH)
        visitor.parameter("weight_hh_l0", &weightHH)
        visitor.parameter("bias_ih_l0", &biasIH)
        visitor.parameter("bias_hh_l0", &biasHH)
    }

    /// Runs the network over a sequence.
    ///
    /// - Parameters:
    ///   - input: `[batch, time, inputSize]` (batch-first) or `[time, batch, inputSize]`, at least one timestep.
    ///   - hidden: the initial state `[1, batch, H]`, zeros when `nil`.
    /// - Returns: `output`, `h` at every step (`[batch, time, H]`, time-major when not batch-first), and
    ///   the final `hidden` state `[1, batch, H]` (PyTorch's `h_n`).
    public func callAsFunction(_ input: Tensor<Scalar>, hidden: Tensor<Scalar>? = nil)
        -> (output: Tensor<Scalar>, hidden: Tensor<Scalar>) {
        let steps = hiddenStates(input, hidden: hidden)
        let batch = steps[0].shape[0]
        let output = batchFirst
            ? Tensor.concatenate(steps.map { $0.reshaped([batch, 1, hiddenSize]) }, alongAxis: 1)
            : Tensor.concatenate(steps.map { $0.reshaped([1, batch, hiddenSize]) }, alongAxis: 0)
        return (output, steps[steps.count - 1].reshaped([1, batch, hiddenSize]))
    }

    /// The hidden state after each timestep, `[batch, H]` each (the final one is the last element).
    func hiddenStates(_ input: Tensor<Scalar>, hidden: Tensor<Scalar>?) -> [Tensor<Scalar>] {
        precondition(input.rank == 3 && input.shape[2] == inputSize,
                     "ElmanRNN: input of shape \(input.shape) is not [batch, time, \(inputSize)] (or [time, batch, \(inputSize)])")
        let timeAxis = batchFirst ? 1 : 0
        let (steps, batch) = (input.shape[timeAxis], input.shape[1 - timeAxis])
        precondition(steps > 0, "ElmanRNN: the input sequence has no timesteps")
        if let hidden, hidden.shape.dimensions != [1, batch, hiddenSize] {
            fatalError("ElmanRNN: initial state of shape \(hidden.shape) differs from the expected [1, \(batch), \(hiddenSize)]")
        }
        var bias = biasIH
        if let b = bias, let biasHH { bias = b + biasHH }
        var state = hidden?.reshaped([batch, hiddenSize])
        var states: [Tensor<Scalar>] = []
        states.reserveCapacity(steps)
        // The input projection of every timestep in one product (time-major rows), then one small
        // product per step for the recurrence.
        let timeMajor = batchFirst ? input.permuted([1, 0, 2]) : input
        var projected = timeMajor.reshaped([steps * batch, inputSize]).matmul(weightIH, transposingOther: true)
        if let bias { projected = projected + bias }
        for t in 0..<steps {
            var preactivation = projected.sliced(alongAxis: 0, from: t * batch, to: (t + 1) * batch)
            if let state { preactivation = preactivation + state.matmul(weightHH, transposingOther: true) }
            state = preactivation.tanh()
            states.append(state!)
        }
        return states
    }
}
