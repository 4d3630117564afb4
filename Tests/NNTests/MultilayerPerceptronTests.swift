import Autodiff
import Linalg
@testable import NN
import Testing

/// ``MLP`` against `torch.nn.Sequential` (Scripts/fixtures/metalearn.py writes the nn_mlp_* fixtures in
/// nn.py's format): outputs and every gradient within 1e-9 scaled, weights loaded from PyTorch's
/// safetensors by Sequential key.
@Suite struct MultilayerPerceptronTests {
    @Test func parityWithSequential() throws {
        var g = Xoshiro256StarStar(seed: 40)
        try checkParity("mlp_tanh", MLP<Double>(sizes: [3, 5, 4, 2], activation: .tanh, using: &g),
                        tolerance: LayerParityTests.double) { m, x in ["output": m(x["x"]!)] }
        try checkParity("mlp_relu_sigmoid",
                        MLP<Double>(sizes: [4, 6, 1], activation: .relu, outputActivation: .sigmoid, using: &g),
                        tolerance: LayerParityTests.double) { m, x in ["output": m(x["x"]!)] }
    }

    @Test func keysSizesAndErrors() throws {
        var g = Xoshiro256StarStar(seed: 41)
        let mlp = try MLP<Float>(sizes: [2, 3, 1], bias: false, using: &g)
        #expect(mlp.stateDict().map(\.key) == ["0.weight", "2.weight"])
        #expect(mlp.sizes == [2, 3, 1])
        #expect(throws: NNError.invalidConfiguration(layer: "MLP", reason: "sizes [4] need an input and an output size")) {
            try MLP<Double>(sizes: [4], using: &g)
        }
        #expect(throws: NNError.invalidConfiguration(layer: "MLP", reason: "sizes [4, 0, 1] must all be positive")) {
            try MLP<Double>(sizes: [4, 0, 1], using: &g)
        }
        let a = try Linear<Double>(inFeatures: 2, outFeatures: 3, using: &g), b = try Linear<Double>(inFeatures: 4, outFeatures: 1, using: &g)
        #expect(throws: NNError.invalidConfiguration(layer: "MLP", reason: "layer 1 takes 4 features but layer 0 gives 3")) {
            try MLP(layers: [a, b])
        }
    }
}
