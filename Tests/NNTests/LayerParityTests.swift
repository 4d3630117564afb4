import Autodiff
import Foundation
import Linalg
@testable import NN
import Testing

/// A tensor as the fixture script encodes it.
struct EncodedTensor: Decodable {
    let shape: [Int]
    let data: [Double]

    func tensor<Scalar: TensorScalar>(_: Scalar.Type = Scalar.self) throws -> Tensor<Scalar> {
        try Tensor(shape: shape, scalars: data.map { Scalar($0) })
    }
}

/// One case of Scripts/fixtures/nn.py: PyTorch's outputs and gradients of `L = Σₖ ⟨outputₖ, cotangentₖ⟩`.
struct LayerCase: Decodable {
    let name: String
    let training: Bool
    let inputs: [String: EncodedTensor]
    let outputs: [String: EncodedTensor]
    let cotangents: [String: EncodedTensor]
    let inputGradients: [String: EncodedTensor]
    let parameterGradients: [String: EncodedTensor]
    let buffersAfter: [String: EncodedTensor]

    enum CodingKeys: String, CodingKey {
        case name, training, inputs, outputs, cotangents
        case inputGradients = "input_gradients", parameterGradients = "parameter_gradients", buffersAfter = "buffers_after"
    }
}

/// Fails unless `|actual − expected| ≤ tolerance·(1 + |expected|)` elementwise and the shapes agree.
func expectClose<Scalar: TensorScalar>(_ actual: Tensor<Scalar>, _ expected: EncodedTensor, tolerance: Double,
                                       _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(actual.shape.dimensions == expected.shape, "\(what): shape", sourceLocation: sourceLocation)
    guard actual.shape.dimensions == expected.shape else { return }
    var worst = 0.0
    for (a, e) in zip(actual.scalars, expected.data) {
        let excess = Swift.abs(Double(a) - e) / (1 + Swift.abs(e))
        worst = Swift.max(worst, excess.isNaN ? .infinity : excess)
    }
    #expect(worst <= tolerance, "\(what): worst scaled error \(worst) > \(tolerance)", sourceLocation: sourceLocation)
}

/// Loads the case's weights from the safetensors file PyTorch wrote into `module`, applies `forward`
/// with parameters and inputs as variables, and compares outputs, every input and parameter gradient
/// and the buffers after the call with PyTorch's.
func checkParity<M: Module>(_ name: String, _ module: M, tolerance: Double,
                            sourceLocation: SourceLocation = #_sourceLocation,
                            forward: (inout M, [String: Tensor<M.Scalar>]) throws -> [String: Tensor<M.Scalar>]) throws {
    typealias Scalar = M.Scalar
    let fixture: LayerCase = try fixtures.load("nn_\(name)")
    var module = module
    try module.loadSafetensors(from: fixtures.url("nn_\(name)", withExtension: "safetensors"))
    module.setTraining(fixture.training)
    let inputNames = fixture.inputs.keys.sorted()
    let inputs = try inputNames.map { try fixture.inputs[$0]!.tensor(Scalar.self).requiringGradient() }
    let named = module.namedParameters()
    let parameters = named.map { $0.value.requiringGradient() }
    var applied = try module.replacingParameters(Dictionary(uniqueKeysWithValues: zip(named.map(\.key), parameters)))
    let outputs = try forward(&applied, Dictionary(uniqueKeysWithValues: zip(inputNames, inputs)))
    #expect(Set(outputs.keys) == Set(fixture.outputs.keys), sourceLocation: sourceLocation)
    var loss = Tensor<Scalar>(0)
    for (key, expected) in fixture.outputs {
        guard let output = outputs[key] else { continue }
        expectClose(output, expected, tolerance: tolerance, "\(name) output \(key)", sourceLocation: sourceLocation)
        loss = loss + (output * (try fixture.cotangents[key]!.tensor(Scalar.self))).sum()
    }
    let gradients = gradient(of: loss, wrt: inputs + parameters)
    for (i, key) in inputNames.enumerated() {
        expectClose(gradients[i], fixture.inputGradients[key]!, tolerance: tolerance, "\(name) ∂L/∂\(key)",
                    sourceLocation: sourceLocation)
    }
    #expect(Set(named.map(\.key)) == Set(fixture.parameterGradients.keys), sourceLocation: sourceLocation)
    for (j, (key, _)) in named.enumerated() {
        guard let expected = fixture.parameterGradients[key] else { continue }
        expectClose(gradients[inputs.count + j], expected, tolerance: tolerance, "\(name) ∂L/∂\(key)",
                    sourceLocation: sourceLocation)
    }
    for (key, buffer) in applied.namedBuffers() {
        guard let expected = fixture.buffersAfter[key] else {
            Issue.record("\(name): buffer \(key) missing from the fixture", sourceLocation: sourceLocation)
            continue
        }
        expectClose(buffer, expected, tolerance: tolerance, "\(name) buffer \(key)", sourceLocation: sourceLocation)
    }
}

/// Layer-by-layer parity with PyTorch (Scripts/fixtures/nn.py): outputs and all gradients within
/// 1e-9 (Double) and 1e-4 (Float), scaled as `|a − e| ≤ tol·(1 + |e|)`, weights loaded from the
/// safetensors files PyTorch wrote.
@Suite struct LayerParityTests {
    static let double = 1e-9
    static let float = 1e-4

    @Test func linear() throws {
        var g = Xoshiro256StarStar(seed: 1)
        try checkParity("linear", Linear<Double>(inFeatures: 3, outFeatures: 4, using: &g), tolerance: Self.double) { m, x in
            ["output": m(x["x"]!)]
        }
        try checkParity("linear_f32", Linear<Float>(inFeatures: 3, outFeatures: 4, using: &g), tolerance: Self.float) { m, x in
            ["output": m(x["x"]!)]
        }
        try checkParity("linear_nobias", Linear<Double>(inFeatures: 5, outFeatures: 2, bias: false, using: &g),
                        tolerance: Self.double) { m, x in ["output": m(x["x"]!)] }
    }

    @Test func conv1d() throws {
        var g = Xoshiro256StarStar(seed: 2)
        try checkParity("conv1d", Conv1d<Double>(inChannels: 3, outChannels: 2, kernelSize: 3, using: &g),
                        tolerance: Self.double) { m, x in ["output": m(x["x"]!)] }
        try checkParity("conv1d_groups_dilation",
                        Conv1d<Double>(inChannels: 4, outChannels: 6, kernelSize: 3, stride: 2, padding: 1, dilation: 2,
                                       groups: 2, using: &g), tolerance: Self.double) { m, x in ["output": m(x["x"]!)] }
        try checkParity("conv1d_groups_dilation_f32",
                        Conv1d<Float>(inChannels: 4, outChannels: 6, kernelSize: 3, stride: 2, padding: 1, dilation: 2,
                                      groups: 2, using: &g), tolerance: Self.float) { m, x in ["output": m(x["x"]!)] }
    }

    @Test func convTranspose1d() throws {
        var g = Xoshiro256StarStar(seed: 3)
        try checkParity("conv_transpose1d",
                        ConvTranspose1d<Double>(inChannels: 4, outChannels: 6, kernelSize: 3, stride: 2, padding: 1,
                                                outputPadding: 1, groups: 2, using: &g),
                        tolerance: Self.double) { m, x in ["output": m(x["x"]!)] }
    }

    @Test func pooling() throws {
        try checkParity("maxpool1d", MaxPool1d<Double>(kernelSize: 3, stride: 2, padding: 1), tolerance: Self.double) { m, x in
            ["output": m(x["x"]!)]
        }
        try checkParity("avgpool1d", AvgPool1d<Double>(kernelSize: 3, stride: 2, padding: 1), tolerance: Self.double) { m, x in
            ["output": m(x["x"]!)]
        }
    }

    @Test func normalization() throws {
        try checkParity("layernorm", LayerNorm<Double>(normalizedShape: [3, 5]), tolerance: Self.double) { m, x in
            ["output": m(x["x"]!)]
        }
        try checkParity("batchnorm1d_train", BatchNorm1d<Double>(numFeatures: 3), tolerance: Self.double) { (m: inout BatchNorm1d<Double>, x) in
            ["output": m(x["x"]!)]
        }
        try checkParity("batchnorm1d_eval", BatchNorm1d<Double>(numFeatures: 3), tolerance: Self.double) { (m: inout BatchNorm1d<Double>, x) in
            ["output": m(x["x"]!)]
        }
    }

    @Test func lstm() throws {
        var g = Xoshiro256StarStar(seed: 4)
        try checkParity("lstm", LSTM<Double>(inputSize: 3, hiddenSize: 4, using: &g), tolerance: Self.double) { m, x in
            let (y, h, c) = m(x["x"]!)
            return ["output": y, "h_n": h, "c_n": c]
        }
        try checkParity("lstm_time_major_nobias",
                        LSTM<Double>(inputSize: 2, hiddenSize: 3, layerCount: 2, bias: false, batchFirst: false, using: &g),
                        tolerance: Self.double) { m, x in
            let (y, h, c) = m(x["x"]!)
            return ["output": y, "h_n": h, "c_n": c]
        }
        try checkParity("lstm_stacked_bidirectional",
                        LSTM<Double>(inputSize: 3, hiddenSize: 4, layerCount: 2, bidirectional: true, using: &g),
                        tolerance: Self.double) { m, x in
            let (y, h, c) = m(x["x"]!, hidden: x["h0"]!, cell: x["c0"]!)
            return ["output": y, "h_n": h, "c_n": c]
        }
        try checkParity("lstm_stacked_bidirectional_f32",
                        LSTM<Float>(inputSize: 3, hiddenSize: 4, layerCount: 2, bidirectional: true, using: &g),
                        tolerance: Self.float) { m, x in
            let (y, h, c) = m(x["x"]!, hidden: x["h0"]!, cell: x["c0"]!)
            return ["output": y, "h_n": h, "c_n": c]
        }
    }

    @Test func gru() throws {
        var g = Xoshiro256StarStar(seed: 5)
        try checkParity("gru", GRU<Double>(inputSize: 3, hiddenSize: 4, using: &g), tolerance: Self.double) { m, x in
            let (y, h) = m(x["x"]!)
            return ["output": y, "h_n": h]
        }
        try checkParity("gru_stacked_bidirectional",
                        GRU<Double>(inputSize: 3, hiddenSize: 4, layerCount: 2, bidirectional: true, using: &g),
                        tolerance: Self.double) { m, x in
            let (y, h) = m(x["x"]!, hidden: x["h0"]!)
            return ["output": y, "h_n": h]
        }
        try checkParity("gru_stacked_bidirectional_f32",
                        GRU<Float>(inputSize: 3, hiddenSize: 4, layerCount: 2, bidirectional: true, using: &g),
                        tolerance: Self.float) { m, x in
            let (y, h) = m(x["x"]!, hidden: x["h0"]!)
            return ["output": y, "h_n": h]
        }
    }

    @Test func cells() throws {
        var g = Xoshiro256StarStar(seed: 6)
        try checkParity("lstmcell", LSTMCell<Double>(inputSize: 3, hiddenSize: 4, using: &g), tolerance: Self.double) { m, x in
            let (h, c) = m(x["x"]!, state: (x["h0"]!, x["c0"]!))
            return ["h": h, "c": c]
        }
        try checkParity("grucell", GRUCell<Double>(inputSize: 3, hiddenSize: 4, using: &g), tolerance: Self.double) { m, x in
            ["h": m(x["x"]!, hidden: x["h0"]!)]
        }
    }

    @Test func multiheadAttention() throws {
        var g = Xoshiro256StarStar(seed: 7)
        // The script's masks: key 2 of batch 0 is padding, plus a causal mask.
        let padding = [[false, false, true], [false, false, false]]
        try checkParity("mha_masks", MultiheadAttention<Double>(embedDimension: 4, headCount: 2, using: &g),
                        tolerance: Self.double) { m, x in
            let (y, w) = m(query: x["query"]!, key: x["key"]!, value: x["value"]!, keyPaddingMask: padding, causal: true)
            return ["output": y, "weights": w]
        }
        try checkParity("mha_masks_f32", MultiheadAttention<Float>(embedDimension: 4, headCount: 2, using: &g),
                        tolerance: Self.float) { m, x in
            let (y, w) = m(query: x["query"]!, key: x["key"]!, value: x["value"]!, keyPaddingMask: padding, causal: true)
            return ["output": y, "weights": w]
        }
        try checkParity("mha_self", MultiheadAttention<Double>(embedDimension: 6, headCount: 3, using: &g),
                        tolerance: Self.double) { m, x in
            let (y, w) = m(query: x["query"]!, key: x["key"]!, value: x["value"]!)
            return ["output": y, "weights": w]
        }
        // The script's additive mask: torch.linspace(-1, 1, 15).reshape(3, 5).
        let additive = try Tensor<Double>(shape: [3, 5], scalars: (0..<15).map { -1 + Double($0) / 7 })
        try checkParity("mha_additive_time_major",
                        MultiheadAttention<Double>(embedDimension: 4, headCount: 2, batchFirst: false, using: &g),
                        tolerance: Self.double) { m, x in
            let (y, w) = m(query: x["query"]!, key: x["key"]!, value: x["value"]!, attentionMask: additive)
            return ["output": y, "weights": w]
        }
    }

    @Test func temporalBlock() throws {
        var g = Xoshiro256StarStar(seed: 8)
        try checkParity("tcn_block", TemporalBlock<Double>(inChannels: 3, outChannels: 4, kernelSize: 3, dilation: 2, using: &g),
                        tolerance: Self.double) { m, x in ["output": m(x["x"]!)] }
        try checkParity("tcn_block_identity", TemporalBlock<Double>(inChannels: 4, outChannels: 4, kernelSize: 2, using: &g),
                        tolerance: Self.double) { m, x in ["output": m(x["x"]!)] }
    }
}
