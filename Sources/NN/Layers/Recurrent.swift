import Autodiff
import Linalg

// Recurrent layers with PyTorch's gate order and parameter layout (`torch.nn.LSTM`, `torch.nn.GRU`).
// Each timestep costs two small `gemm`s (input and hidden projections) plus the gate arithmetic.

/// The LSTM step (Hochreiter & Schmidhuber 1997, with PyTorch's gate order i, f, g, o):
/// `gates = proj + h·W_hhᵀ`, `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`.
/// `projection` already holds `x·W_ihᵀ + b_ih + b_hh`.
@inline(__always)
func lstmStep<Scalar>(projection: Tensor<Scalar>, hidden: Tensor<Scalar>, cell: Tensor<Scalar>,
                      weightHH: Tensor<Scalar>, hiddenSize h: Int) -> (hidden: Tensor<Scalar>, cell: Tensor<Scalar>) {
    let gates = projection + hidden.matmul(weightHH, transposingOther: true)
    let input = gates.sliced(alongAxis: -1, from: 0, to: h).sigmoid()
    let forget = gates.sliced(alongAxis: -1, from: h, to: 2 * h).sigmoid()
    let candidate = gates.sliced(alongAxis: -1, from: 2 * h, to: 3 * h).tanh()
    let output = gates.sliced(alongAxis: -1, from: 3 * h, to: 4 * h).sigmoid()
    let newCell = forget * cell + input * candidate
    return (output * newCell.tanh(), newCell)
}

/// The GRU step (Cho et al. 2014, with PyTorch's gate order r, z, n and `b_hn` inside the reset product):
/// `r = σ(x_r + h_r)`, `z = σ(x_z + h_z)`, `n = tanh(x_n + r·h_n)`, `h' = (1 − z)·n + z·h`,
/// where `x_• = x·W_iᵀ + b_i` (in `projection`) and `h_• = h·W_hᵀ + b_h`.
@inline(__always)
func gruStep<Scalar>(projection: Tensor<Scalar>, hidden: Tensor<Scalar>, weightHH: Tensor<Scalar>,
                     biasHH: Tensor<Scalar>?, hiddenSize h: Int) -> Tensor<Scalar> {
    var recurrent = hidden.matmul(weightHH, transposingOther: true)
    if let biasHH { recurrent = recurrent + biasHH }
    let reset = (projection.sliced(alongAxis: -1, from: 0, to: h) + recurrent.sliced(alongAxis: -1, from: 0, to: h)).sigmoid()
    let update = (projection.sliced(alongAxis: -1, from: h, to: 2 * h)
        + recurrent.sliced(alongAxis: -1, from: h, to: 2 * h)).sigmoid()
    let candidate = (projection.sliced(alongAxis: -1, from: 2 * h, to: 3 * h)
        + reset * recurrent.sliced(alongAxis: -1, from: 2 * h, to: 3 * h)).tanh()
    return candidate + update * (hidden - candidate)
}

/// The sizes and layout of a recurrent network (``LSTM``, ``GRU``).
public struct RecurrentConfiguration: Sendable, Hashable {
    /// Features per input timestep.
    public let inputSize: Int
    /// Features of the hidden (and cell) state, `H`.
    public let hiddenSize: Int
    /// Number of stacked layers.
    public let layerCount: Int
    /// 2 when bidirectional, else 1.
    public let directionCount: Int
    /// Inputs and outputs are `[batch, time, features]` when `true`, `[time, batch, features]` otherwise.
    public let batchFirst: Bool
}

/// The parameters of a stack of recurrent layers, with PyTorch's names and order, and the time loop.
struct RecurrentStack<Scalar: TensorScalar>: Sendable {
    let configuration: RecurrentConfiguration
    var inputSize: Int { configuration.inputSize }
    var hiddenSize: Int { configuration.hiddenSize }
    var layerCount: Int { configuration.layerCount }
    var directionCount: Int { configuration.directionCount }
    /// Gates per cell: 4 for LSTM, 3 for GRU.
    let gateCount: Int
    /// Indexed by `layer·directionCount + direction`.
    var weightsIH: [Tensor<Scalar>]
    var weightsHH: [Tensor<Scalar>]
    var biasesIH: [Tensor<Scalar>]?
    var biasesHH: [Tensor<Scalar>]?

    init(layer: String, gateCount: Int, configuration: RecurrentConfiguration, bias: Bool,
         using generator: inout Xoshiro256StarStar) throws {
        let (inputSize, hiddenSize, layerCount, directionCount) = (configuration.inputSize, configuration.hiddenSize,
                                                                    configuration.layerCount, configuration.directionCount)
        guard inputSize > 0, hiddenSize > 0, layerCount > 0 else {
            throw NNError.invalidConfiguration(layer: layer, reason: "inputSize \(inputSize), hiddenSize \(hiddenSize) and layer count \(layerCount) must be positive")
        }
        (self.configuration, self.gateCount) = (configuration, gateCount)
        // PyTorch: every parameter U(−1/√hidden, 1/√hidden), drawn in state-dict order.
        let bound = Initializer.uniform(bound: 1 / Double(hiddenSize).squareRoot())
        let rows = gateCount * hiddenSize
        var (wih, whh, bih, bhh) = ([Tensor<Scalar>](), [Tensor<Scalar>](), [Tensor<Scalar>](), [Tensor<Scalar>]())
        for l in 0..<layerCount {
            for _ in 0..<directionCount {
                wih.append(bound.make([rows, l == 0 ? inputSize : hiddenSize * directionCount], using: &generator))
                whh.append(bound.make([rows, hiddenSize], using: &generator))
                if bias {
                    bih.append(bound.make([rows], using: &generator))
                    bhh.append(bound.make([rows], using: &generator))
                }
            }
        }
        (weightsIH, weightsHH) = (wih, whh)
        (biasesIH, biasesHH) = bias ? (bih, bhh) : (nil, nil)
    }

    mutating func visit(_ visitor: inout ModuleVisitor<Scalar>) {
        for k in weightsIH.indices {
            let suffix = "_l\(k / directionCount)" + (k % directionCount == 1 ? "_reverse" : "")
            visitor.parameter("weight_ih" + suffix, &weightsIH[k])
            visitor.parameter("weight_hh" + suffix, &weightsHH[k])
            if biasesIH != nil {
                visitor.parameter("bias_ih" + suffix, &biasesIH![k])
                visitor.parameter("bias_hh" + suffix, &biasesHH![k])
            }
        }
    }

    /// Runs the stack over `[B, T, inputSize]` (batch-first) or `[T, B, inputSize]`.
    ///
    /// - Parameters:
    ///   - initialStates: per state kind (h, or h and c), a `[layers·directions, B, hidden]` tensor or `nil` for zeros.
    ///   - foldHiddenBias: add `b_hh` to the input projection (LSTM) instead of passing it to `step` (GRU).
    ///   - step: one timestep: `(projection [1, B, gates·H], states, W_hh, b_hh)` → new states, each `[1, B, H]`.
    /// - Returns: the last layer's outputs `[B, T, directions·H]` (or `[T, B, …]`) and the final states per kind, `[layers·directions, B, H]`.
    func run(_ input: Tensor<Scalar>, layer: StaticString, initialStates: [Tensor<Scalar>?], foldHiddenBias: Bool,
             step: ([Tensor<Scalar>], Tensor<Scalar>, Tensor<Scalar>, Tensor<Scalar>?) -> [Tensor<Scalar>]) -> (output: Tensor<Scalar>, finalStates: [Tensor<Scalar>]) {
        precondition(input.rank == 3 && input.shape[2] == inputSize,
                     "\(layer): input of shape \(input.shape) is not [batch, time, \(inputSize)] (or [time, batch, \(inputSize)])")
        let timeAxis = configuration.batchFirst ? 1 : 0
        let (steps, batch) = (input.shape[timeAxis], input.shape[1 - timeAxis])
        precondition(steps > 0, "\(layer): the input sequence has no timesteps")
        let stateShape = [layerCount * directionCount, batch, hiddenSize]
        for case let state? in initialStates where state.shape.dimensions != stateShape {
            fatalError("\(layer): initial state of shape \(state.shape) differs from the expected \(stateShape)")
        }
        let zero = Tensor<Scalar>.zeros(TensorShape([1, batch, hiddenSize]))
        // Per-timestep inputs [1, B, F]: slices of the input for layer 0, the previous layer's outputs after.
        // (Slicing one projection of all timesteps instead would make every slice's pullback write a
        // gradient of the whole projection: O(T²) work in the backward pass.)
        var stepInputs = (0..<steps).map { t in
            input.sliced(alongAxis: timeAxis, from: t, to: t + 1).reshaped([1, batch, input.shape[2]])
        }
        var finals = [[Tensor<Scalar>]](repeating: [], count: initialStates.count)
        for l in 0..<layerCount {
            var directionOutputs: [[Tensor<Scalar>]] = []
            for d in 0..<directionCount {
                let k = l * directionCount + d
                var bias = biasesIH?[k]
                if foldHiddenBias, let b = bias { bias = b + biasesHH![k] }
                var states = initialStates.map { $0?.sliced(alongAxis: 0, from: k, to: k + 1) ?? zero }
                var outputs = [Tensor<Scalar>](repeating: zero, count: steps)
                for t in (d == 0 ? Array(0..<steps) : Array((0..<steps).reversed())) {
                    var projection = stepInputs[t].matmul(weightsIH[k], transposingOther: true)
                    if let bias { projection = projection + bias }
                    states = step(states, projection, weightsHH[k], foldHiddenBias ? nil : biasesHH?[k])
                    outputs[t] = states[0]
                }
                directionOutputs.append(outputs)
                for s in states.indices { finals[s].append(states[s]) }
            }
            stepInputs = directionCount == 1 ? directionOutputs[0]
                : (0..<steps).map { t in Tensor.concatenate(directionOutputs.map { $0[t] }, alongAxis: 2) }
        }
        let output = configuration.batchFirst
            ? Tensor.concatenate(stepInputs.map { $0.reshaped([batch, 1, -1]) }, alongAxis: 1)
            : Tensor.concatenate(stepInputs, alongAxis: 0)
        return (output, finals.map { Tensor.concatenate($0, alongAxis: 0) })
    }
}

/// A multi-layer long short-term memory network, as `torch.nn.LSTM` (without `proj_size` or inter-layer dropout).
///
/// Parameters per layer `k` and direction (suffix `_reverse` for the backward direction):
/// `weight_ih_lk` `[4H, in]`, `weight_hh_lk` `[4H, H]`, `bias_ih_lk` and `bias_hh_lk` `[4H]`, the gate
/// rows in PyTorch's order input, forget, cell, output. Layer `k > 0` takes the previous layer's
/// output (`directions·H` features). Bidirectional layers run a second cell from the last timestep to
/// the first and concatenate the two outputs along the feature axis, forward first.
///
/// - Note: `batchFirst` defaults to `true` here (PyTorch's default is `false`).
public struct LSTM<Scalar: TensorScalar>: Module {
    var stack: RecurrentStack<Scalar>
    /// Mode flags.
    public var settings = ModuleSettings()
    /// Sizes and layout.
    public var configuration: RecurrentConfiguration { stack.configuration }

    /// An LSTM with PyTorch's initialization: every parameter `U(−1/√H, 1/√H)`, drawn in state-dict order.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for non-positive sizes.
    public init(inputSize: Int, hiddenSize: Int, layerCount: Int = 1, bias: Bool = true, batchFirst: Bool = true,
                bidirectional: Bool = false, using generator: inout Xoshiro256StarStar) throws {
        stack = try RecurrentStack(layer: "LSTM", gateCount: 4, configuration: RecurrentConfiguration(
            inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layerCount, directionCount: bidirectional ? 2 : 1,
            batchFirst: batchFirst), bias: bias, using: &generator)
    }

    /// Presents `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, then the `_reverse` ones, then layer 1, ….
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) { stack.visit(&visitor) }

    /// Runs the network over a sequence.
    ///
    /// - Parameters:
    ///   - input: `[batch, time, inputSize]` (batch-first) or `[time, batch, inputSize]`.
    ///   - hidden: initial `h₀` `[layers·directions, batch, H]`, zeros when `nil`.
    ///   - cell: initial `c₀`, same shape, zeros when `nil`.
    /// - Returns: `output`, the last layer's `h` at every step `[batch, time, directions·H]` (time-major when
    ///   not batch-first), and the final `hidden` and `cell` states `[layers·directions, batch, H]`, ordered
    ///   layer 0 forward, layer 0 backward, layer 1 forward, … as PyTorch's `(h_n, c_n)`.
    public func callAsFunction(_ input: Tensor<Scalar>, hidden: Tensor<Scalar>? = nil, cell: Tensor<Scalar>? = nil)
        -> (output: Tensor<Scalar>, hidden: Tensor<Scalar>, cell: Tensor<Scalar>) {
        let h = configuration.hiddenSize
        let (output, finals) = stack.run(input, layer: "LSTM",
                                         initialStates: [hidden, cell], foldHiddenBias: true) { states, projection, whh, _ in
            let next = lstmStep(projection: projection, hidden: states[0], cell: states[1], weightHH: whh, hiddenSize: h)
            return [next.hidden, next.cell]
        }
        return (output, finals[0], finals[1])
    }
}

/// A multi-layer gated recurrent unit network, as `torch.nn.GRU` (without inter-layer dropout).
///
/// Parameters as ``LSTM`` with `3H` gate rows in PyTorch's order reset, update, new; the new gate's
/// hidden bias `b_hn` is applied inside the reset product.
///
/// - Note: `batchFirst` defaults to `true` here (PyTorch's default is `false`).
public struct GRU<Scalar: TensorScalar>: Module {
    var stack: RecurrentStack<Scalar>
    /// Mode flags.
    public var settings = ModuleSettings()
    /// Sizes and layout.
    public var configuration: RecurrentConfiguration { stack.configuration }

    /// A GRU with PyTorch's initialization: every parameter `U(−1/√H, 1/√H)`, drawn in state-dict order.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for non-positive sizes.
    public init(inputSize: Int, hiddenSize: Int, layerCount: Int = 1, bias: Bool = true, batchFirst: Bool = true,
                bidirectional: Bool = false, using generator: inout Xoshiro256StarStar) throws {
        stack = try RecurrentStack(layer: "GRU", gateCount: 3, configuration: RecurrentConfiguration(
            inputSize: inputSize, hiddenSize: hiddenSize, layerCount: layerCount, directionCount: bidirectional ? 2 : 1,
            batchFirst: batchFirst), bias: bias, using: &generator)
    }

    /// Presents `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, then the `_reverse` ones, then layer 1, ….
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) { stack.visit(&visitor) }

    /// Runs the network over a sequence.
    ///
    /// - Parameters:
    ///   - input: `[batch, time, inputSize]` (batch-first) or `[time, batch, inputSize]`.
    ///   - hidden: initial `h₀` `[layers·directions, batch, H]`, zeros when `nil`.
    /// - Returns: `output` `[batch, time, directions·H]` (time-major when not batch-first) and the final
    ///   `hidden` state `[layers·directions, batch, H]` (PyTorch's `h_n`).
    public func callAsFunction(_ input: Tensor<Scalar>, hidden: Tensor<Scalar>? = nil)
        -> (output: Tensor<Scalar>, hidden: Tensor<Scalar>) {
        let h = configuration.hiddenSize
        let (output, finals) = stack.run(input, layer: "GRU",
                                         initialStates: [hidden], foldHiddenBias: false) { states, projection, whh, bhh in
            [gruStep(projection: projection, hidden: states[0], weightHH: whh, biasHH: bhh, hiddenSize: h)]
        }
        return (output, finals[0])
    }
}

/// The parameters of one recurrent cell: `weight_ih` `[gates·H, in]`, `weight_hh` `[gates·H, H]`, biases `[gates·H]`.
struct CellParameters<Scalar: TensorScalar>: Sendable {
    var weightIH: Tensor<Scalar>
    var weightHH: Tensor<Scalar>
    var biasIH: Tensor<Scalar>?
    var biasHH: Tensor<Scalar>?

    init(layer: String, gateCount: Int, inputSize: Int, hiddenSize: Int, bias: Bool,
         using generator: inout Xoshiro256StarStar) throws {
        let stack = try RecurrentStack<Scalar>(layer: layer, gateCount: gateCount, configuration: RecurrentConfiguration(
            inputSize: inputSize, hiddenSize: hiddenSize, layerCount: 1, directionCount: 1, batchFirst: true),
                                               bias: bias, using: &generator)
        (weightIH, weightHH, biasIH, biasHH) = (stack.weightsIH[0], stack.weightsHH[0], stack.biasesIH?[0], stack.biasesHH?[0])
    }

    mutating func visit(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.parameter("weight_ih", &weightIH)
        visitor.parameter("weight_hh", &weightHH)
        visitor.parameter("bias_ih", &biasIH)
        visitor.parameter("bias_hh", &biasHH)
    }

    /// `x·W_ihᵀ + b_ih` (plus `b_hh` when `foldHiddenBias`) for `x` `[batch, in]`.
    func project(_ input: Tensor<Scalar>, foldHiddenBias: Bool, layer: StaticString) -> Tensor<Scalar> {
        precondition(input.rank == 2 && input.shape[1] == weightIH.shape[1],
                     "\(layer): input of shape \(input.shape) is not [batch, \(weightIH.shape[1])]")
        var projected = input.matmul(weightIH, transposingOther: true)
        if let biasIH { projected = projected + biasIH }
        if foldHiddenBias, let biasHH { projected = projected + biasHH }
        return projected
    }
}

/// One LSTM step, as `torch.nn.LSTMCell`: parameters `weight_ih` `[4H, in]`, `weight_hh` `[4H, H]`,
/// `bias_ih`, `bias_hh` `[4H]`, gate order input, forget, cell, output.
public struct LSTMCell<Scalar: TensorScalar>: Module {
    var parameters: CellParameters<Scalar>
    /// Features of the hidden and cell states.
    public let hiddenSize: Int
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A cell with PyTorch's initialization, every parameter `U(−1/√H, 1/√H)`.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for non-positive sizes.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, using generator: inout Xoshiro256StarStar) throws {
        parameters = try CellParameters(layer: "LSTMCell", gateCount: 4, inputSize: inputSize, hiddenSize: hiddenSize,
                                        bias: bias, using: &generator)
        self.hiddenSize = hiddenSize
    }

    /// Presents `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) { parameters.visit(&visitor) }

    /// One step from `input` `[batch, in]` and the state `(hidden, cell)` `[batch, H]` each (zeros when `nil`).
    public func callAsFunction(_ input: Tensor<Scalar>, state: (hidden: Tensor<Scalar>, cell: Tensor<Scalar>)? = nil)
        -> (hidden: Tensor<Scalar>, cell: Tensor<Scalar>) {
        let zero = Tensor<Scalar>.zeros([input.shape[0], hiddenSize])
        return lstmStep(projection: parameters.project(input, foldHiddenBias: true, layer: "LSTMCell"),
                        hidden: state?.hidden ?? zero, cell: state?.cell ?? zero,
                        weightHH: parameters.weightHH, hiddenSize: hiddenSize)
    }
}

/// One GRU step, as `torch.nn.GRUCell`: parameters `weight_ih` `[3H, in]`, `weight_hh` `[3H, H]`,
/// `bias_ih`, `bias_hh` `[3H]`, gate order reset, update, new.
public struct GRUCell<Scalar: TensorScalar>: Module {
    var parameters: CellParameters<Scalar>
    /// Features of the hidden state.
    public let hiddenSize: Int
    /// Mode flags.
    public var settings = ModuleSettings()

    /// A cell with PyTorch's initialization, every parameter `U(−1/√H, 1/√H)`.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for non-positive sizes.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, using generator: inout Xoshiro256StarStar) throws {
        parameters = try CellParameters(layer: "GRUCell", gateCount: 3, inputSize: inputSize, hiddenSize: hiddenSize,
                                        bias: bias, using: &generator)
        self.hiddenSize = hiddenSize
    }

    /// Presents `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) { parameters.visit(&visitor) }

    /// One step from `input` `[batch, in]` and `hidden` `[batch, H]` (zeros when `nil`); returns the new hidden state.
    public func callAsFunction(_ input: Tensor<Scalar>, hidden: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        gruStep(projection: parameters.project(input, foldHiddenBias: false, layer: "GRUCell"),
                hidden: hidden ?? .zeros([input.shape[0], hiddenSize]), weightHH: parameters.weightHH,
                biasHH: parameters.biasHH, hiddenSize: hiddenSize)
    }
}
