import Autodiff
import Linalg
import NN
import Testing

/// The tensors a value stores, found by reflection (into nested modules, arrays and optionals, not
/// into a tensor itself).
private func storedTensorCount(_ value: Any, depth: Int = 0) -> Int {
    guard depth < 32 else { return 0 }
    if value is Tensor<Double> { return 1 }
    let mirror = Mirror(reflecting: value)
    if mirror.displayStyle == .optional { return mirror.children.first.map { storedTensorCount($0.value, depth: depth + 1) } ?? 0 }
    return mirror.children.reduce(0) { $0 + storedTensorCount($1.value, depth: depth + 1) }
}

/// Fails naming `name` when `module` stores a tensor that its `visitEntries` does not present: such
/// a tensor would be missed by the state dict, safetensors, optimizers and MetaLearn's functional form.
private func expectEveryTensorVisited<M: Module>(_ module: M, _ name: String) where M.Scalar == Double {
    let stored = storedTensorCount(module), visited = module.entries().count
    #expect(stored == visited, "\(name) stores \(stored) tensors but visits \(visited)")
}

@Suite("Every stored tensor is a visited state-dict entry")
struct StateCompletenessTests {
    @Test func everyLayerVisitsItsTensors() throws {
        var g = Xoshiro256StarStar(seed: 1)
        expectEveryTensorVisited(try Linear<Double>(inFeatures: 3, outFeatures: 2, using: &g), "Linear")
        expectEveryTensorVisited(try Conv1d<Double>(inChannels: 2, outChannels: 3, kernelSize: 3, using: &g), "Conv1d")
        expectEveryTensorVisited(try ConvTranspose1d<Double>(inChannels: 2, outChannels: 3, kernelSize: 3, using: &g), "ConvTranspose1d")
        expectEveryTensorVisited(try LayerNorm<Double>(normalizedShape: [4]), "LayerNorm")
        expectEveryTensorVisited(try BatchNorm1d<Double>(numFeatures: 4), "BatchNorm1d")
        expectEveryTensorVisited(try LSTM<Double>(inputSize: 3, hiddenSize: 4, layerCount: 2, bidirectional: true, using: &g), "LSTM")
        expectEveryTensorVisited(try GRU<Double>(inputSize: 3, hiddenSize: 4, layerCount: 2, using: &g), "GRU")
        expectEveryTensorVisited(try LSTMCell<Double>(inputSize: 3, hiddenSize: 4, using: &g), "LSTMCell")
        expectEveryTensorVisited(try GRUCell<Double>(inputSize: 3, hiddenSize: 4, using: &g), "GRUCell")
        expectEveryTensorVisited(try MultiheadAttention<Double>(embedDimension: 8, headCount: 2, using: &g), "MultiheadAttention")
        let transformer = TransformerConfiguration(modelDimension: 8, headCount: 2, feedForwardDimension: 16)
        expectEveryTensorVisited(try TransformerEncoder<Double>(transformer, layerCount: 2, finalNorm: true, using: &g), "TransformerEncoder")
        expectEveryTensorVisited(try TemporalBlock<Double>(inChannels: 2, outChannels: 4, kernelSize: 3, dilation: 2, using: &g), "TemporalBlock")
        expectEveryTensorVisited(try UNet1D<Double>(UNet1DConfiguration(inChannels: 2, outChannels: 1, baseChannels: 4, depth: 2), using: &g), "UNet1D")
        expectEveryTensorVisited(try CNNLSTM<Double>(inputSize: 3, convolutionChannels: [4], hiddenSize: 5, outputSize: 1, using: &g), "CNNLSTM")
        expectEveryTensorVisited(try VariationalAutoencoder<Double>(inputSize: 6, hiddenSizes: [5], latentSize: 2, using: &g), "VariationalAutoencoder")
        expectEveryTensorVisited(try MLP<Double>(sizes: [3, 4, 1], using: &g), "MLP")
        expectEveryTensorVisited(try ElmanRNN<Double>(inputSize: 3, hiddenSize: 4, using: &g), "ElmanRNN")
        for topology in EIIETopology.allCases {
            let configuration = EIIEConfiguration(topology: topology, featureCount: 3, window: 10)
            expectEveryTensorVisited(try EIIENetwork<Double>(configuration: configuration, using: &g), "EIIENetwork \(topology)")
        }
    }

    /// The check can fail: a module that keeps an extra tensor outside `visitEntries` is caught.
    @Test func aHiddenTensorIsCaught() throws {
        struct Leaky: Module {
            var settings = ModuleSettings()
            var weight = Tensor<Double>.zeros([2])
            var cache = Tensor<Double>.zeros([2])
            mutating func visitEntries(_ visitor: inout ModuleVisitor<Double>) { visitor.parameter("weight", &weight) }
        }
        #expect(storedTensorCount(Leaky()) == 2 && Leaky().entries().count == 1)
    }
}
