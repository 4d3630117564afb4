import Autodiff
import Linalg
import Synchronization

// Recurrent layers with PyTorch's gate order and parameter layout (`torch.nn.LSTM`, `torch.nn.GRU`).
// LSTM and GRU: each direction of each layer is one fused differentiable operation (one GEMM for the
// input projection of all timesteps, one per step for the recurrence, fused gate loops; see
// `lstmDirection`, `gruDirection`). The cells: each timestep costs two small `gemm`s plus the gate arithmetic.

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

    /// Traps unless `input` is `[B, T, inputSize]` (batch-first) or `[T, B, inputSize]` with `T > 0` and
    /// every initial state is `[layers·directions, B, hidden]`; returns `(T, B)`.
    func validate(_ input: Tensor<Scalar>, layer: StaticString, initialStates: [Tensor<Scalar>?]) -> (steps: Int, batch: Int) {
        precondition(input.rank == 3 && input.shape[2] == inputSize,
                     "\(layer): input of shape \(input.shape) is not [batch, time, \(inputSize)] (or [time, batch, \(inputSize)])")
        let timeAxis = configuration.batchFirst ? 1 : 0
        let (steps, batch) = (input.shape[timeAxis], input.shape[1 - timeAxis])
        precondition(steps > 0, "\(layer): the input sequence has no timesteps")
        let stateShape = [layerCount * directionCount, batch, hiddenSize]
        for case let state? in initialStates where state.shape.dimensions != stateShape {
            fatalError("\(layer): initial state of shape \(state.shape) differs from the expected \(stateShape)")
        }
        return (steps, batch)
    }

    /// Runs the stack with a fused per-direction operation (``lstmDirection(_:)`` with `initialStates`
    /// `[h, c]`, ``gruDirection(_:)`` with `[h]`); same inputs and results as
    /// ``run(_:layer:initialStates:foldHiddenBias:step:)`` with ``lstmStep`` or ``gruStep``.
    func runFused(_ input: Tensor<Scalar>, layer: StaticString, initialStates: [Tensor<Scalar>?],
                  direction: (RecurrentDirectionArguments<Scalar>) -> [Tensor<Scalar>])
        -> (output: Tensor<Scalar>, finalStates: [Tensor<Scalar>]) {
        _ = validate(input, layer: layer, initialStates: initialStates)
        var layerInput = input
        var finals = [[Tensor<Scalar>]](repeating: [], count: initialStates.count)
        for l in 0..<layerCount {
            var outputs: [Tensor<Scalar>] = []
            for d in 0..<directionCount {
                let k = l * directionCount + d
                let states = initialStates.map { $0?.sliced(alongAxis: 0, from: k, to: k + 1) }
                let results = direction(RecurrentDirectionArguments(
                    input: layerInput, weightIH: weightsIH[k], weightHH: weightsHH[k],
                    biasIH: biasesIH?[k], biasHH: biasesHH?[k], hidden: states[0], cell: states.count > 1 ? states[1] : nil,
                    hasCell: states.count > 1, reverse: d == 1, batchFirst: configuration.batchFirst))
                outputs.append(results[0])
                for s in finals.indices { finals[s].append(results[1 + s]) }
            }
            layerInput = directionCount == 1 ? outputs[0] : Tensor.concatenate(outputs, alongAxis: 2)
        }
        return (layerInput, finals.map { Tensor.concatenate($0, alongAxis: 0) })
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
        let (output, finals) = stack.runFused(input, layer: "LSTM", initialStates: [hidden, cell], direction: lstmDirection)
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
        let (output, finals) = stack.runFused(input, layer: "GRU", initialStates: [hidden], direction: gruDirection)
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

// MARK: - Fused LSTM layer

/// The arguments of one direction of one LSTM or GRU layer (see ``lstmDirection(_:)``, ``gruDirection(_:)``).
struct RecurrentDirectionArguments<Scalar: TensorScalar>: Sendable {
    /// The layer input, `[B, T, F]` when `batchFirst`, else `[T, B, F]`.
    var input: Tensor<Scalar>
    var weightIH: Tensor<Scalar>, weightHH: Tensor<Scalar>
    var biasIH: Tensor<Scalar>?, biasHH: Tensor<Scalar>?
    /// Initial states `[1, B, H]`; zeros when `nil`.
    var hidden: Tensor<Scalar>?, cell: Tensor<Scalar>?
    /// `true` for an LSTM (a cell state among ``tensors``), `false` for a GRU.
    var hasCell = true
    var reverse: Bool, batchFirst: Bool

    var steps: Int { input.shape[batchFirst ? 1 : 0] }
    var batch: Int { input.shape[batchFirst ? 0 : 1] }
    var hiddenSize: Int { weightHH.shape[1] }

    /// The differentiable inputs in a fixed order: input, weights, initial states (h, then c for an
    /// LSTM), then the biases if any.
    var tensors: [Tensor<Scalar>] {
        let zero = Tensor<Scalar>.zeros([1, batch, hiddenSize])
        return [input, weightIH, weightHH, hidden ?? zero] + (hasCell ? [cell ?? zero] : [])
            + (biasIH.map { [$0, biasHH!] } ?? [])
    }

    /// The same arguments with `tensors` replaced (in ``tensors``' order).
    func replacing(_ values: [Tensor<Scalar>]) -> Self {
        var copy = self
        (copy.input, copy.weightIH, copy.weightHH) = (values[0], values[1], values[2])
        copy.hidden = values[3]
        let biases = hasCell ? 5 : 4
        if hasCell { copy.cell = values[4] }
        if biasIH != nil {
            copy.biasIH = values[biases]
            copy.biasHH = values[biases + 1]
        }
        return copy
    }
}

/// One direction of one LSTM layer in `Tensor` operations, step by step with ``lstmStep``: the
/// reference that the fused kernel is differentiated through for higher-order gradients.
/// Returns `[outputs (input's layout, H features), final hidden [1, B, H], final cell [1, B, H]]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func lstmDirectionReference<Scalar>(_ a: RecurrentDirectionArguments<Scalar>) -> [Tensor<Scalar>] {
    let (batch, h) = (a.batch, a.hiddenSize)
    var bias = a.biasIH
    if let b = bias { bias = b + a.biasHH! }
    var cell = a.cell ?? .zeros([1, batch, h])
    let (output, hidden) = referenceSequence(a, bias: bias) { projection, hidden in
        let state = lstmStep(projection: projection, hidden: hidden, cell: cell, weightHH: a.weightHH, hiddenSize: h)
        cell = state.cell
        return state.hidden
    }
    return [output, hidden, cell]
}

/// The time loop of the step-by-step references: `step(projection [1, B, gates·H], h)` → the next `h`,
/// over `a`'s timesteps in its direction, with the projection `x·W_ihᵀ + bias` of all of them
/// computed first. Returns the outputs in the input's layout and the final hidden state `[1, B, H]`.
func referenceSequence<Scalar>(_ a: RecurrentDirectionArguments<Scalar>, bias: Tensor<Scalar>?,
                               step: (Tensor<Scalar>, Tensor<Scalar>) -> Tensor<Scalar>) -> (output: Tensor<Scalar>, hidden: Tensor<Scalar>) {
    let timeAxis = a.batchFirst ? 1 : 0
    let (steps, batch, h) = (a.steps, a.batch, a.hiddenSize)
    var projection = a.input.matmul(a.weightIH, transposingOther: true)
    if let bias { projection = projection + bias }
    var hidden = a.hidden ?? .zeros([1, batch, h])
    var outputs = [Tensor<Scalar>](repeating: hidden, count: steps)
    for t in a.reverse ? Array((0..<steps).reversed()) : Array(0..<steps) {
        hidden = step(projection.sliced(alongAxis: timeAxis, from: t, to: t + 1).reshaped([1, batch, -1]), hidden)
        outputs[t] = hidden
    }
    let output = a.batchFirst
        ? Tensor.concatenate(outputs.map { $0.reshaped([batch, 1, h]) }, alongAxis: 1)
        : Tensor.concatenate(outputs, alongAxis: 0)
    return (output, hidden)
}

/// Storage for `count` scalars left uninitialized, for kernel buffers that are written in full
/// before they are read (a GEMM with `β = 0` writes its whole output). Large buffers come from
/// Autodiff's cache (`TensorMemory`), so a training step does not page-fault them in afresh.
@inline(__always)
func uninitializedBuffer<Scalar: TensorScalar>(_ count: Int) -> TensorStorage<Scalar> {
    TensorStorage(unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

/// An array of `count` scalars left uninitialized, for small scratch buffers (the same contract).
@inline(__always)
func uninitializedBuffer<Scalar: TensorScalar>(_ count: Int) -> [Scalar] {
    [Scalar](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
}

/// Copies `[B, T, W]` (`batchFirst`) or `[T, B, W]` rows into step order `[T, B, W]` (step `s` is
/// time `T − 1 − s` when `reverse`), or back when `toSteps` is `false`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func reorderSteps<Scalar>(_ source: UnsafePointer<Scalar>, _ destination: UnsafeMutablePointer<Scalar>,
                          steps: Int, batch: Int, width: Int, batchFirst: Bool, reverse: Bool, toSteps: Bool) {
    for s in 0..<steps {
        let t = reverse ? steps - 1 - s : s
        for b in 0..<batch {
            let stepRow = (s * batch + b) * width
            let layoutRow = (batchFirst ? b * steps + t : t * batch + b) * width
            if toSteps {
                (destination + stepRow).update(from: source + layoutRow, count: width)
            } else {
                (destination + layoutRow).update(from: source + stepRow, count: width)
            }
        }
    }
}

/// What the forward pass of a fused recurrent direction keeps for its backward pass, all in step
/// order: the input `x` `[T·B, F]`, the gate activations `[T, B, gates·H]`, which the first backward
/// pass takes (and reuses as its gate-gradient buffer), and the operation's other sequences
/// (``lstmDirection(_:)``: the states h, c `[T+1, B, H]` and `tanh(c)`; ``gruDirection(_:)``: the
/// states h and `W_hn·h + b_hn`).
final class RecurrentSavedSequence<Scalar: TensorScalar>: Sendable {
    let x: TensorStorage<Scalar>
    let kept: [TensorStorage<Scalar>]
#if METAFOLIO_TSAN
    private let activations: PthreadMutex<TensorStorage<Scalar>?>
#else
    private let activations: Mutex<TensorStorage<Scalar>?>
#endif

    init(x: TensorStorage<Scalar>, activations: TensorStorage<Scalar>, kept: [TensorStorage<Scalar>]) {
        (self.x, self.kept) = (x, kept)
#if METAFOLIO_TSAN
        self.activations = PthreadMutex(activations)
#else
        self.activations = Mutex(activations)
#endif
    }

    /// The activations, uniquely referenced, on the first call; `nil` after.
    func takeActivations() -> TensorStorage<Scalar>? { activations.withLock { $0.take() } }
}

/// The layer input of a fused recurrent direction in step order `[T·B, F]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func stepOrderedInput<Scalar>(_ a: RecurrentDirectionArguments<Scalar>) -> TensorStorage<Scalar> {
    let features = a.input.shape[2]
    var x: TensorStorage<Scalar> = uninitializedBuffer(a.steps * a.batch * features)
    a.input.withUnsafeScalars { src in
        x.withUnsafeMutableBufferPointer { dst in
            reorderSteps(src.baseAddress!, dst.baseAddress!, steps: a.steps, batch: a.batch, width: features,
                         batchFirst: a.batchFirst, reverse: a.reverse, toSteps: true)
        }
    }
    return x
}

/// Writes `values` into each of `rows` consecutive rows at `destination` (a bias before a GEMM with
/// `β = 1`); does nothing when `values` is `nil`.
@inline(__always)
func fillRows<Scalar: TensorScalar>(_ destination: UnsafeMutablePointer<Scalar>, rows: Int, with values: [Scalar]?) {
    guard let values else { return }
    let width = values.count
    for r in 0..<rows { for j in 0..<width { destination[r * width + j] = values[j] } }
}

/// `dGᵀ·Y` for step-ordered gate gradients `dG` `[rows, gates]` and rows `Y` `[rows, width]`: a weight
/// gradient of a fused recurrent direction, one GEMM over all timesteps.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func gateWeightGradient<Scalar>(_ dGates: TensorStorage<Scalar>, _ y: TensorStorage<Scalar>, rows: Int, gates: Int,
                                width: Int) -> Tensor<Scalar> {
    var dw: TensorStorage<Scalar> = uninitializedBuffer(gates * width)
    dGates.withUnsafeBufferPointer { db in y.withUnsafeBufferPointer { yb in dw.withUnsafeMutableBufferPointer { dwb in
        Scalar._gemm(transposeA: true, transposeB: false, m: gates, n: width, k: rows, alpha: 1,
                     a: db.baseAddress!, lda: gates, b: yb.baseAddress!, ldb: width, beta: 0, c: dwb.baseAddress!, ldc: width)
    } } }
    return Tensor(dw).reshaped([gates, width])
}

/// The column sums of `[rows, width]` gate gradients: a bias gradient.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func gateBiasGradient<Scalar>(_ dGates: TensorStorage<Scalar>, rows: Int, width: Int) -> Tensor<Scalar> {
    var sums = [Scalar](repeating: 0, count: width)
    // Row by row through raw pointers, so the loop over a row vectorizes (each sum keeps its order).
    sums.withUnsafeMutableBufferPointer { sb in
        dGates.withUnsafeBufferPointer { db in
            let total = sb.baseAddress!
            for r in 0..<rows {
                let row = db.baseAddress! + r * width
                for j in 0..<width { total[j] += row[j] }
            }
        }
    }
    return Tensor(sums)
}

/// `∂x` of a fused recurrent direction from the gradients `dG` `[T·B, gates]` of its input projection:
/// `dG·W_ih` in step order, copied back into the input's layout.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func recurrentInputGradient<Scalar>(_ a: RecurrentDirectionArguments<Scalar>, _ dGates: TensorStorage<Scalar>,
                                    gates: Int) -> Tensor<Scalar> {
    let features = a.input.shape[2], rows = a.steps * a.batch
    var dx: TensorStorage<Scalar> = uninitializedBuffer(rows * features)
    dGates.withUnsafeBufferPointer { db in a.weightIH.withUnsafeScalars { wih in dx.withUnsafeMutableBufferPointer { dxb in
        Scalar._gemm(transposeA: false, transposeB: false, m: rows, n: features, k: gates, alpha: 1,
                     a: db.baseAddress!, lda: gates, b: wih.baseAddress!, ldb: features, beta: 0, c: dxb.baseAddress!, ldc: features)
    } } }
    var dInput: TensorStorage<Scalar> = uninitializedBuffer(rows * features)
    dx.withUnsafeBufferPointer { src in dInput.withUnsafeMutableBufferPointer { dst in
        reorderSteps(src.baseAddress!, dst.baseAddress!, steps: a.steps, batch: a.batch, width: features,
                     batchFirst: a.batchFirst, reverse: a.reverse, toSteps: false)
    } }
    return Tensor(dInput).reshaped(to: a.input.shape)
}

/// One direction of one LSTM layer as a single differentiable operation with fused kernels.
///
/// Forward: one GEMM projects every timestep (`[T·B, F]·W_ihᵀ`), then per step one GEMM adds
/// `h·W_hhᵀ` and one loop applies the gates and the cell update. Backward (first order): per
/// step one loop for the gate gradients and one GEMM for `∂h`; the weight gradients are one GEMM
/// each over all timesteps (`dGᵀ·[h₀ … h_{T−1}]`, `dGᵀ·X`), the bias gradient one column sum.
/// Under a recorded backward pass (`createGraph`) the gradients come from
/// ``lstmDirectionReference(_:)`` instead, so they can be differentiated again.
/// Returns the same three tensors as ``lstmDirectionReference(_:)``.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func lstmDirection<Scalar>(_ a: RecurrentDirectionArguments<Scalar>) -> [Tensor<Scalar>] {
    let (steps, batch, h) = (a.steps, a.batch, a.hiddenSize)
    let features = a.input.shape[2], gates = 4 * h
    let rows = steps * batch
    let inputs = a.tensors
    let x = stepOrderedInput(a)
    var bias: [Scalar]? = nil
    if let bih = a.biasIH, let bhh = a.biasHH { bias = zip(bih.scalars, bhh.scalars).map { $0 + $1 } }
    // Gate activations per step [T, B, 4H] (i, f, g, o), states [T+1, B, H], tanh(c) [T, B, H], and the
    // output in the input's layout: each allocated once per call, every step writes its slice in place.
    var activations: TensorStorage<Scalar> = uninitializedBuffer(rows * gates)
    var hs: TensorStorage<Scalar> = uninitializedBuffer((steps + 1) * batch * h)
    var cs: TensorStorage<Scalar> = uninitializedBuffer((steps + 1) * batch * h)
    var tanhCells: TensorStorage<Scalar> = uninitializedBuffer(rows * h)
    var output: TensorStorage<Scalar> = uninitializedBuffer(rows * h)
    let stateCount = batch * h
    inputs[3].withUnsafeScalars { p in hs.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: p.baseAddress!, count: stateCount) } }
    inputs[4].withUnsafeScalars { p in cs.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: p.baseAddress!, count: stateCount) } }
    a.weightIH.withUnsafeScalars { wih in a.weightHH.withUnsafeScalars { whh in
    x.withUnsafeBufferPointer { xb in activations.withUnsafeMutableBufferPointer { gb in
    hs.withUnsafeMutableBufferPointer { hb in cs.withUnsafeMutableBufferPointer { cb in
    tanhCells.withUnsafeMutableBufferPointer { tb in output.withUnsafeMutableBufferPointer { ob in
        let g = gb.baseAddress!, hp = hb.baseAddress!, cp = cb.baseAddress!, tp = tb.baseAddress!, op = ob.baseAddress!
        fillRows(g, rows: rows, with: bias)
        Scalar._gemm(transposeA: false, transposeB: true, m: rows, n: gates, k: features, alpha: 1,
                     a: xb.baseAddress!, lda: features, b: wih.baseAddress!, ldb: features,
                     beta: bias == nil ? 0 : 1, c: g, ldc: gates)
        for s in 0..<steps {
            let gs = g + s * batch * gates
            Scalar._gemm(transposeA: false, transposeB: true, m: batch, n: gates, k: h, alpha: 1,
                         a: hp + s * stateCount, lda: h, b: whh.baseAddress!, ldb: h, beta: 1, c: gs, ldc: gates)
            let time = a.reverse ? steps - 1 - s : s
            // One row at a time, so the gates, c, tanh(c) and h of a row stay in L1 between the passes.
            for b in 0..<batch {
                let row = gs + b * gates, offset = s * stateCount + b * h
                VectorMath.sigmoid(row, row, count: 2 * h)
                VectorMath.tanh(row + 2 * h, row + 2 * h, count: h)
                VectorMath.sigmoid(row + 3 * h, row + 3 * h, count: h)
                let cPrev = cp + offset, cNext = cPrev + stateCount, tc = tp + offset, hNext = hp + offset + stateCount
                for j in 0..<h { cNext[j] = row[h + j] * cPrev[j] + row[j] * row[2 * h + j] }
                VectorMath.tanh(UnsafePointer(cNext), tc, count: h)
                let out = op + (a.batchFirst ? b * steps + time : time * batch + b) * h
                for j in 0..<h {
                    let value = row[3 * h + j] * tc[j]
                    hNext[j] = value
                    out[j] = value
                }
            }
        }
    } } } } } } } }
    let outputShape: [Int] = a.batchFirst ? [batch, steps, h] : [steps, batch, h]
    let values = [Tensor<Scalar>(output).reshaped(outputShape),
                  Tensor<Scalar>(Array(hs[(steps * stateCount)...])).reshaped([1, batch, h]),
                  Tensor<Scalar>(Array(cs[(steps * stateCount)...])).reshaped([1, batch, h])]
    let saved = RecurrentSavedSequence(x: x, activations: activations, kept: [hs, cs, tanhCells])
    let weightHH = a.weightHH
    let template = a
    return Tensor.customOperation(inputs: inputs, outputs: values) { cotangents, inputs in
        if isRecordingGradients {
            return vectorJacobianProducts(of: { lstmDirectionReference(template.replacing($0)) }, at: inputs,
                                          cotangents: cotangents)
        }
        // The first backward pass takes the activations and overwrites them with the gate gradients; a
        // second one (a retained graph) finds them gone and differentiates the reference instead.
        guard let activations = saved.takeActivations() else {
            return vectorJacobianProducts(of: { lstmDirectionReference(template.replacing($0)) }, at: inputs,
                                          cotangents: cotangents)
        }
        return lstmDirectionBackward(template, saved.x, activations, saved.kept[0], saved.kept[1], saved.kept[2],
                                     weightHH: weightHH, cotangents: cotangents,
                                     needed: inputs.map(\.requiresGradient))
    }
}

/// The first-order backward pass of ``lstmDirection(_:)`` (gradients in ``RecurrentDirectionArguments/tensors``' order).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func lstmDirectionBackward<Scalar>(_ a: RecurrentDirectionArguments<Scalar>, _ x: TensorStorage<Scalar>,
                                   _ activations: consuming TensorStorage<Scalar>, _ hs: TensorStorage<Scalar>,
                                   _ cs: TensorStorage<Scalar>, _ tanhCells: TensorStorage<Scalar>,
                                   weightHH: Tensor<Scalar>,
                                   cotangents: [Tensor<Scalar>], needed: [Bool]) -> [Tensor<Scalar>?] {
    let (steps, batch, h) = (a.steps, a.batch, a.hiddenSize)
    let features = a.input.shape[2], gates = 4 * h, rows = steps * batch, stateCount = batch * h
    var dh = cotangents[1].storage, dc = cotangents[2].storage
    // The gate gradients overwrite the activations in place (each element reads its own four gates first).
    var dGates = activations
    weightHH.withUnsafeScalars { whh in cotangents[0].withUnsafeScalars { ob in
    cs.withUnsafeBufferPointer { cb in tanhCells.withUnsafeBufferPointer { tb in
    dGates.withUnsafeMutableBufferPointer { db in
    dh.withUnsafeMutableBufferPointer { dhb in dc.withUnsafeMutableBufferPointer { dcb in
        let dhp = dhb.baseAddress!, dcp = dcb.baseAddress!
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let dg = db.baseAddress! + s * batch * gates
            let cPrev = cb.baseAddress! + s * stateCount, tc = tb.baseAddress! + s * stateCount
            let time = a.reverse ? steps - 1 - s : s
            for b in 0..<batch {
                let drow = dg + b * gates
                // ∂output of this step and row, read in the input's layout.
                let dOut = ob.baseAddress! + (a.batchFirst ? b * steps + time : time * batch + b) * h
                for j in 0..<h {
                    let k = b * h + j
                    let i = drow[j], f = drow[h + j], g = drow[2 * h + j], o = drow[3 * h + j], t = tc[k]
                    let dhv = dhp[k] + dOut[j]
                    let dcv = dcp[k] + dhv * o * (1 - t * t)
                    drow[j] = dcv * g * i * (1 - i)
                    drow[h + j] = dcv * cPrev[k] * f * (1 - f)
                    drow[2 * h + j] = dcv * i * (1 - g * g)
                    drow[3 * h + j] = dhv * t * o * (1 - o)
                    dcp[k] = dcv * f
                }
            }
            // ∂h_{s−1} = dG_s·W_hh.
            Scalar._gemm(transposeA: false, transposeB: false, m: batch, n: h, k: gates, alpha: 1,
                         a: dg, lda: gates, b: whh.baseAddress!, ldb: h, beta: 0, c: dhp, ldc: h)
        }
    } } } } } } }
    var gradients = [Tensor<Scalar>?](repeating: nil, count: needed.count)
    if needed[0] { gradients[0] = recurrentInputGradient(a, dGates, gates: gates) }
    if needed[1] { gradients[1] = gateWeightGradient(dGates, x, rows: rows, gates: gates, width: features) }
    if needed[2] { gradients[2] = gateWeightGradient(dGates, hs, rows: rows, gates: gates, width: h) }
    if needed.count > 5 && (needed[5] || needed[6]) {
        let bias = gateBiasGradient(dGates, rows: rows, width: gates)
        gradients[5] = needed[5] ? bias : nil
        gradients[6] = needed[6] ? bias : nil
    }
    if needed[3] { gradients[3] = Tensor(dh).reshaped([1, batch, h]) }
    if needed[4] { gradients[4] = Tensor(dc).reshaped([1, batch, h]) }
    return gradients
}

// MARK: - Fused GRU layer

/// One direction of one GRU layer in `Tensor` operations, step by step with ``gruStep``: the
/// reference that the fused kernel is tested against and differentiated through for higher-order
/// gradients. Returns `[outputs (input's layout, H features), final hidden [1, B, H]]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func gruDirectionReference<Scalar>(_ a: RecurrentDirectionArguments<Scalar>) -> [Tensor<Scalar>] {
    let (output, hidden) = referenceSequence(a, bias: a.biasIH) { projection, hidden in
        gruStep(projection: projection, hidden: hidden, weightHH: a.weightHH, biasHH: a.biasHH, hiddenSize: a.hiddenSize)
    }
    return [output, hidden]
}

/// One direction of one GRU layer as a single differentiable operation with fused kernels, as
/// ``lstmDirection(_:)``: one GEMM projects every timestep (`X·W_ihᵀ + b_ih`), then per step one
/// GEMM computes `h·W_hhᵀ + b_hh` and one loop the gates (r, z, n, `b_hn` inside the reset product)
/// and the new state. Backward (first order): per step one loop for the gate gradients and one GEMM
/// for `∂h`; the weight gradients are one GEMM each over all timesteps, the bias gradients column
/// sums. Under a recorded backward pass the gradients come from ``gruDirectionReference(_:)``.
/// Returns the same two tensors as ``gruDirectionReference(_:)``.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func gruDirection<Scalar>(_ a: RecurrentDirectionArguments<Scalar>) -> [Tensor<Scalar>] {
    let (steps, batch, h) = (a.steps, a.batch, a.hiddenSize)
    let features = a.input.shape[2], gates = 3 * h
    let rows = steps * batch, stateCount = batch * h
    let inputs = a.tensors
    let x = stepOrderedInput(a)
    // Per step: the gate activations r, z, n [T·B, 3H] (first the input projection), `W_hn·h + b_hn`
    // [T·B, H], the states [T+1, B, H], and the output in the input's layout.
    var activations: TensorStorage<Scalar> = uninitializedBuffer(rows * gates)
    var hiddenN: TensorStorage<Scalar> = uninitializedBuffer(rows * h)
    var hs: TensorStorage<Scalar> = uninitializedBuffer((steps + 1) * stateCount)
    var output: TensorStorage<Scalar> = uninitializedBuffer(rows * h)
    var recurrent: [Scalar] = uninitializedBuffer(batch * gates)
    let biasIH = a.biasIH?.scalars, biasHH = a.biasHH?.scalars
    inputs[3].withUnsafeScalars { p in hs.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: p.baseAddress!, count: stateCount) } }
    a.weightIH.withUnsafeScalars { wih in a.weightHH.withUnsafeScalars { whh in
    x.withUnsafeBufferPointer { xb in activations.withUnsafeMutableBufferPointer { gb in
    hiddenN.withUnsafeMutableBufferPointer { nb in hs.withUnsafeMutableBufferPointer { hb in
    output.withUnsafeMutableBufferPointer { ob in recurrent.withUnsafeMutableBufferPointer { rb in
        let g = gb.baseAddress!, hp = hb.baseAddress!, op = ob.baseAddress!, rp = rb.baseAddress!
        fillRows(g, rows: rows, with: biasIH)
        Scalar._gemm(transposeA: false, transposeB: true, m: rows, n: gates, k: features, alpha: 1,
                     a: xb.baseAddress!, lda: features, b: wih.baseAddress!, ldb: features,
                     beta: biasIH == nil ? 0 : 1, c: g, ldc: gates)
        for s in 0..<steps {
            fillRows(rp, rows: batch, with: biasHH)
            Scalar._gemm(transposeA: false, transposeB: true, m: batch, n: gates, k: h, alpha: 1,
                         a: hp + s * stateCount, lda: h, b: whh.baseAddress!, ldb: h,
                         beta: biasHH == nil ? 0 : 1, c: rp, ldc: gates)
            let time = a.reverse ? steps - 1 - s : s
            for b in 0..<batch {
                let row = g + (s * batch + b) * gates, hRow = rp + b * gates
                let offset = s * stateCount + b * h
                let hPrev = hp + offset, hNext = hPrev + stateCount, hn = nb.baseAddress! + offset
                // The reference's order of operations: σ(x_r + h_r), σ(x_z + h_z), tanh(x_n + r·h_n).
                for j in 0..<(2 * h) { row[j] += hRow[j] }
                VectorMath.sigmoid(row, row, count: 2 * h)
                for j in 0..<h {
                    hn[j] = hRow[2 * h + j]
                    row[2 * h + j] += row[j] * hn[j]
                }
                VectorMath.tanh(row + 2 * h, row + 2 * h, count: h)
                let out = op + (a.batchFirst ? b * steps + time : time * batch + b) * h
                for j in 0..<h {
                    let n = row[2 * h + j]
                    let value = n + row[h + j] * (hPrev[j] - n)
                    hNext[j] = value
                    out[j] = value
                }
            }
        }
    } } } } } } } }
    let outputShape: [Int] = a.batchFirst ? [batch, steps, h] : [steps, batch, h]
    let values = [Tensor<Scalar>(output).reshaped(outputShape),
                  Tensor<Scalar>(Array(hs[(steps * stateCount)...])).reshaped([1, batch, h])]
    let saved = RecurrentSavedSequence(x: x, activations: activations, kept: [hs, hiddenN])
    let template = a
    return Tensor.customOperation(inputs: inputs, outputs: values) { cotangents, inputs in
        // As the LSTM: the first unrecorded backward pass takes the activations, any other pass
        // differentiates the reference.
        guard !isRecordingGradients, let activations = saved.takeActivations() else {
            return vectorJacobianProducts(of: { gruDirectionReference(template.replacing($0)) }, at: inputs,
                                          cotangents: cotangents)
        }
        return gruDirectionBackward(template, saved.x, activations, saved.kept[0], saved.kept[1],
                                    cotangents: cotangents, needed: inputs.map(\.requiresGradient))
    }
}

/// The first-order backward pass of ``gruDirection(_:)`` (gradients in ``RecurrentDirectionArguments/tensors``' order).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func gruDirectionBackward<Scalar>(_ a: RecurrentDirectionArguments<Scalar>, _ x: TensorStorage<Scalar>,
                                  _ activations: consuming TensorStorage<Scalar>, _ hs: TensorStorage<Scalar>,
                                  _ hiddenN: TensorStorage<Scalar>,
                                  cotangents: [Tensor<Scalar>], needed: [Bool]) -> [Tensor<Scalar>?] {
    let (steps, batch, h) = (a.steps, a.batch, a.hiddenSize)
    let gates = 3 * h, rows = steps * batch
    var dh = cotangents[1].storage
    // ∂ of the input projection overwrites the activations in place; ∂ of the recurrent projection
    // differs from it only in the n gate (`r·∂a_n` instead of `∂a_n`).
    var dInputGates = activations
    var dHiddenGates: TensorStorage<Scalar> = uninitializedBuffer(rows * gates)
    a.weightHH.withUnsafeScalars { whh in cotangents[0].withUnsafeScalars { ob in
    hs.withUnsafeBufferPointer { hb in hiddenN.withUnsafeBufferPointer { nb in
    dInputGates.withUnsafeMutableBufferPointer { db in dHiddenGates.withUnsafeMutableBufferPointer { eb in
    dh.withUnsafeMutableBufferPointer { dhb in
        let dhp = dhb.baseAddress!
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let time = a.reverse ? steps - 1 - s : s
            for b in 0..<batch {
                let offset = s * batch + b
                let drow = db.baseAddress! + offset * gates, erow = eb.baseAddress! + offset * gates
                let hPrev = hb.baseAddress! + offset * h, hn = nb.baseAddress! + offset * h
                let dOut = ob.baseAddress! + (a.batchFirst ? b * steps + time : time * batch + b) * h
                for j in 0..<h {
                    let k = b * h + j
                    let r = drow[j], z = drow[h + j], n = drow[2 * h + j]
                    let dhv = dhp[k] + dOut[j]
                    let dan = dhv * (1 - z) * (1 - n * n)
                    let dar = dan * hn[j] * r * (1 - r)
                    let daz = dhv * (hPrev[j] - n) * z * (1 - z)
                    (drow[j], drow[h + j], drow[2 * h + j]) = (dar, daz, dan)
                    (erow[j], erow[h + j], erow[2 * h + j]) = (dar, daz, dan * r)
                    dhp[k] = dhv * z
                }
            }
            // ∂h_{s−1} = ∂h·z + ∂(recurrent gates)·W_hh.
            Scalar._gemm(transposeA: false, transposeB: false, m: batch, n: h, k: gates, alpha: 1,
                         a: eb.baseAddress! + s * batch * gates, lda: gates, b: whh.baseAddress!, ldb: h,
                         beta: 1, c: dhp, ldc: h)
        }
    } } } } } } }
    var gradients = [Tensor<Scalar>?](repeating: nil, count: needed.count)
    if needed[0] { gradients[0] = recurrentInputGradient(a, dInputGates, gates: gates) }
    if needed[1] { gradients[1] = gateWeightGradient(dInputGates, x, rows: rows, gates: gates, width: a.input.shape[2]) }
    if needed[2] { gradients[2] = gateWeightGradient(dHiddenGates, hs, rows: rows, gates: gates, width: h) }
    if needed[3] { gradients[3] = Tensor(dh).reshaped([1, batch, h]) }
    if needed.count > 4 {
        if needed[4] { gradients[4] = gateBiasGradient(dInputGates, rows: rows, width: gates) }
        if needed[5] { gradients[5] = gateBiasGradient(dHiddenGates, rows: rows, width: gates) }
    }
    return gradients
}
