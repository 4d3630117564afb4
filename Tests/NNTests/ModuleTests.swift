import Autodiff
import Foundation
import Linalg
import NN
import Testing

/// A two-level model in the test: a child list, a single child and an own parameter, as a user would write it.
struct TinyNetwork: Module {
    var scale: Tensor<Double>
    var layers: [Linear<Double>]
    var norm: BatchNorm1d<Double>
    var settings = ModuleSettings()

    init(using generator: inout Xoshiro256StarStar) throws {
        scale = .ones([2])
        layers = [try Linear(inFeatures: 3, outFeatures: 2, using: &generator),
                  try Linear(inFeatures: 2, outFeatures: 2, bias: false, using: &generator)]
        norm = try BatchNorm1d(numFeatures: 2)
    }

    mutating func visitEntries(_ visitor: inout ModuleVisitor<Double>) {
        visitor.parameter("scale", &scale)
        visitor.children("layers", &layers)
        visitor.child("norm", &norm)
    }

    func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> { layers[1](layers[0](x).tanh()) * scale }
}

@Suite struct ModuleTests {
    @Test func namesFollowPyTorchStateDictOrder() throws {
        var g = Xoshiro256StarStar(seed: 7)
        let net = try TinyNetwork(using: &g)
        #expect(net.stateDict().map(\.key) == ["scale", "layers.0.weight", "layers.0.bias", "layers.1.weight",
                                               "norm.weight", "norm.bias", "norm.running_mean", "norm.running_var",
                                               "norm.num_batches_tracked"])
        #expect(net.namedParameters().map(\.key) == ["scale", "layers.0.weight", "layers.0.bias", "layers.1.weight",
                                                     "norm.weight", "norm.bias"])
        #expect(net.namedBuffers().map(\.key) == ["norm.running_mean", "norm.running_var", "norm.num_batches_tracked"])
        let lstm = try LSTM<Double>(inputSize: 2, hiddenSize: 3, layerCount: 2, bidirectional: true, using: &g)
        #expect(lstm.namedParameters().prefix(8).map(\.key) == [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse"])
        #expect(lstm.namedParameters().map(\.value.shape.dimensions)[8] == [12, 6])
    }

    @Test func initializersUsePyTorchBounds() throws {
        var g = Xoshiro256StarStar(seed: 8)
        let linear = try Linear<Double>(inFeatures: 16, outFeatures: 50, using: &g)
        // kaiming_uniform_(a=√5) and the bias rule both give U(−1/√fanIn, 1/√fanIn) = U(−0.25, 0.25).
        #expect(linear.weight.scalars.allSatisfy { Swift.abs($0) <= 0.25 })
        #expect(linear.weight.scalars.max()! > 0.2 && linear.weight.scalars.min()! < -0.2)
        #expect(linear.bias!.scalars.allSatisfy { Swift.abs($0) <= 0.25 })
        let conv = try Conv1d<Double>(inChannels: 4, outChannels: 8, kernelSize: 4, groups: 2, using: &g)
        #expect(conv.weight.scalars.allSatisfy { Swift.abs($0) <= 1 / 8.0.squareRoot() }) // fanIn = 4/2·4
        let gru = try GRU<Double>(inputSize: 3, hiddenSize: 25, using: &g)
        #expect(gru.parameters().allSatisfy { $0.scalars.allSatisfy { Swift.abs($0) <= 0.2 } })
        let xavier: Tensor<Double> = Initializer.xavierUniform(gain: 1).make([30, 20], using: &g)
        #expect(xavier.scalars.allSatisfy { Swift.abs($0) <= (6.0 / 50).squareRoot() })
        #expect(Initializer.fans(of: [6, 2, 3]) == (6, 18))
        // Same seed, same bits.
        var g1 = Xoshiro256StarStar(seed: 9), g2 = Xoshiro256StarStar(seed: 9)
        #expect(try LSTM<Float>(inputSize: 2, hiddenSize: 3, using: &g1).parameters().map(\.scalars)
            == LSTM<Float>(inputSize: 2, hiddenSize: 3, using: &g2).parameters().map(\.scalars))
    }

    @Test func freezingExcludesFromTrainableParameters() throws {
        var g = Xoshiro256StarStar(seed: 10)
        var net = try TinyNetwork(using: &g)
        try net.freeze(["layers.0", "scale"])
        #expect(net.namedTrainableParameters().map(\.key) == ["layers.1.weight", "norm.weight", "norm.bias"])
        #expect(net.layers[0].settings.frozenParameters == ["weight", "bias"])
        try net.unfreeze(["layers.0.bias"])
        #expect(net.namedTrainableParameters().map(\.key).first == "layers.0.bias")
        #expect(throws: NNError.unexpectedKey("layers.7")) { try net.freeze(["layers.7"]) }
        try net.freeze()
        #expect(net.parameters(trainableOnly: true).isEmpty)
        try net.unfreeze()
        #expect(net.parameters(trainableOnly: true).count == 6)
    }

    @Test func trainingModeReachesEveryChild() throws {
        var g = Xoshiro256StarStar(seed: 11)
        var net = try TinyNetwork(using: &g)
        #expect(net.isTraining && net.norm.settings.isTraining)
        net.setTraining(false)
        #expect(!net.isTraining && !net.norm.settings.isTraining && !net.layers[1].settings.isTraining)
        let dropout = try Dropout<Double>(probability: 0.5).inEvalMode()
        let x = Tensor<Double>.ones([4, 4])
        #expect(dropout(x, using: &g).scalars == x.scalars)
        let training = try Dropout<Double>(probability: 0.5)
        let y = training(x, using: &g).scalars
        #expect(y.allSatisfy { $0 == 0 || $0 == 2 } && y.contains(0) && y.contains(2))
    }

    @Test func functionalFormCarriesGradientHistory() throws {
        // One inner SGD step with createGraph, then the outer gradient through it (second-order MAML).
        var g = Xoshiro256StarStar(seed: 12)
        let model = try Linear<Double>(inFeatures: 2, outFeatures: 1, using: &g)
        let x = try Tensor<Double>([[1, 2], [3, -1]]), y = try Tensor<Double>([[1], [0]])
        let theta = model.parameters().map { $0.requiringGradient() }
        func loss(_ params: [Tensor<Double>]) throws -> Tensor<Double> {
            let m = try model.replacingParameters(params)
            let r = m(x) - y
            return (r * r).mean()
        }
        let inner = try loss(theta)
        let grads = gradient(of: inner, wrt: theta, createGraph: true)
        let adapted = zip(theta, grads).map { $0 - 0.1 * $1 }
        let outer = try loss(adapted)
        let metaGradient = gradient(of: outer, wrt: theta)
        // The same quantity by central differences of the whole inner-step-then-loss map.
        let numeric = GradientCheck.numericalGradient(at: model.parameters()) { p in
            let v = p.map { $0.requiringGradient() }
            let step = gradient(of: try! loss(v), wrt: v)
            return try! loss(zip(p, step).map { $0 - 0.1 * $1 }).scalar
        }
        for (a, n) in zip(metaGradient.map(\.scalars), numeric) {
            for (ai, ni) in zip(a, n) { #expect(Swift.abs(ai - ni) <= 1e-7, "meta-gradient \(ai) vs \(ni), tolerance 1e-7") }
        }
        #expect(throws: NNError.parameterCountMismatch(expected: 2, found: 1)) { try model.replacingParameters([theta[0]]) }
        #expect(throws: NNError.unexpectedKey("weights")) { try model.replacingParameters(["weights": theta[0]]) }
        #expect(throws: NNError.shapeMismatch(key: "bias", expected: [1], found: [2])) {
            try model.replacingParameters(["bias": .zeros([2])])
        }
    }

    @Test func invalidConfigurationsThrow() {
        var g = Xoshiro256StarStar(seed: 13)
        #expect(throws: NNError.self) { try Linear<Double>(inFeatures: 0, outFeatures: 2, using: &g) }
        #expect(throws: NNError.self) { try Conv1d<Double>(inChannels: 3, outChannels: 4, kernelSize: 2, groups: 2, using: &g) }
        #expect(throws: NNError.self) {
            try ConvTranspose1d<Double>(inChannels: 2, outChannels: 2, kernelSize: 2, stride: 1, outputPadding: 1, using: &g)
        }
        #expect(throws: NNError.self) { try Dropout<Double>(probability: 1.5) }
        #expect(throws: NNError.self) { try BatchNorm1d<Double>(numFeatures: 2, momentum: -0.1) }
        #expect(throws: NNError.self) { try LayerNorm<Double>(normalizedShape: []) }
        #expect(throws: NNError.self) { try MaxPool1d<Double>(kernelSize: 2, padding: 2) }
        #expect(throws: NNError.self) { try LSTM<Double>(inputSize: 2, hiddenSize: 0, using: &g) }
    }
}

/// Finite-difference checks (Autodiff's `GradientCheck`, central differences, ε = 1e-6, pass rule
/// `|analytic − numeric| ≤ 1e-6 + 1e-5·|numeric|`) of each layer's input and parameter gradients.
@Suite struct LayerGradientCheckTests {
    /// Checks `f(module with parameters p)(x)` with respect to `x` and every parameter.
    func check<M: Module>(_ module: M, input: Tensor<Double>, secondOrder: Bool = false,
                          sourceLocation: SourceLocation = #_sourceLocation,
                          _ apply: @escaping (M, Tensor<Double>) -> Tensor<Double>) where M.Scalar == Double {
        let point = [input] + module.parameters()
        let f: ([Tensor<Double>]) -> Tensor<Double> = { xs in apply(try! module.replacingParameters(Array(xs.dropFirst())), xs[0]) }
        let report = secondOrder ? GradientCheck.secondOrder(at: point, f) : GradientCheck.firstOrder(at: point, f)
        #expect(report.passed, "\(report)", sourceLocation: sourceLocation)
    }

    @Test func feedForwardLayers() throws {
        var g = Xoshiro256StarStar(seed: 14)
        let x = Tensor<Double>.normal([2, 4, 7], using: &g)
        check(try Linear<Double>(inFeatures: 7, outFeatures: 3, using: &g), input: x) { m, x in m(x) }
        check(try Conv1d<Double>(inChannels: 4, outChannels: 2, kernelSize: 3, stride: 2, padding: 2, dilation: 2,
                                 groups: 2, using: &g), input: x) { m, x in m(x) }
        check(try ConvTranspose1d<Double>(inChannels: 4, outChannels: 2, kernelSize: 3, stride: 2, padding: 1,
                                          outputPadding: 1, using: &g), input: x) { m, x in m(x) }
        check(try AvgPool1d<Double>(kernelSize: 3, stride: 2, padding: 1), input: x) { m, x in m(x) }
        check(try MaxPool1d<Double>(kernelSize: 2), input: x) { m, x in m(x) }
        check(try LayerNorm<Double>(normalizedShape: [7]), input: x) { m, x in m(x) }
        check(try BatchNorm1d<Double>(numFeatures: 4), input: x) { m, x in
            var m = m
            return m(x)
        }
    }

    @Test func recurrentLayers() throws {
        var g = Xoshiro256StarStar(seed: 15)
        let x = Tensor<Double>.normal([2, 3, 2], using: &g)
        check(try LSTM<Double>(inputSize: 2, hiddenSize: 2, layerCount: 2, bidirectional: true, using: &g), input: x) { m, x in
            let (y, h, c) = m(x)
            return Tensor.concatenate([y.flattened(), h.flattened(), c.flattened()], alongAxis: 0)
        }
        check(try GRU<Double>(inputSize: 2, hiddenSize: 3, bidirectional: true, using: &g), input: x) { m, x in
            let (y, h) = m(x)
            return Tensor.concatenate([y.flattened(), h.flattened()], alongAxis: 0)
        }
        let seq = Tensor<Double>.normal([2, 4, 4], using: &g)
        check(try MultiheadAttention<Double>(embedDimension: 4, headCount: 2, using: &g), input: seq) { m, x in
            let (y, w) = m(x, keyPaddingMask: [[false, false, false, true], [false, false, false, false]], causal: true)
            return Tensor.concatenate([y.flattened(), w.flattened()], alongAxis: 0)
        }
        check(try TemporalBlock<Double>(inChannels: 4, outChannels: 3, kernelSize: 2, dilation: 2, using: &g), input: seq) { m, x in
            m(x)
        }
        let x2 = Tensor<Double>.normal([2, 2], using: &g)
        check(try LSTMCell<Double>(inputSize: 2, hiddenSize: 2, using: &g), input: x2, secondOrder: true) { m, x in
            m(x, state: (x.tanh(), x)).cell
        }
        check(try GRUCell<Double>(inputSize: 2, hiddenSize: 2, using: &g), input: x2, secondOrder: true) { m, x in
            m(x, hidden: x.sigmoid())
        }
    }

    /// The fused LSTM operation at first order (its hand-written backward kernel) and second order (the
    /// gradient of ⟨∇L, v⟩ through its reference implementation, which MAML relies on), against central
    /// differences; initial states that depend on the input exercise the state gradients. Tolerance
    /// |Δ| ≤ 1e-6 + 1e-5·|numeric|.
    @Test func fusedLSTMFirstAndSecondOrder() throws {
        var g = Xoshiro256StarStar(seed: 16)
        let x = Tensor<Double>.normal([2, 3, 2], using: &g)
        let all: (LSTM<Double>, Tensor<Double>) -> Tensor<Double> = { m, x in
            let (y, h, c) = m(x)
            return Tensor.concatenate([y.flattened(), h.flattened(), c.flattened()], alongAxis: 0)
        }
        check(try LSTM<Double>(inputSize: 2, hiddenSize: 2, layerCount: 2, bidirectional: true, using: &g), input: x,
              secondOrder: true, all)
        // Time-major ([T = 2, B = 3, F = 2]), no bias, h₀ and c₀ computed from the input.
        let withStates: (LSTM<Double>, Tensor<Double>) -> Tensor<Double> = { m, x in
            let h0 = x.sliced(alongAxis: 0, from: 0, to: 1).tanh()
            let (y, h, c) = m(x, hidden: h0, cell: h0 * h0 - 0.5)
            return Tensor.concatenate([y.flattened(), (h * c).flattened()], alongAxis: 0)
        }
        let lstm = try LSTM<Double>(inputSize: 2, hiddenSize: 2, bias: false, batchFirst: false, using: &g)
        check(lstm, input: x, withStates)
        check(lstm, input: x, secondOrder: true, withStates)
    }
}
