import Autodiff
import Linalg

/// A multilayer perceptron: ``Linear`` layers with an ``Activation`` between them.
///
/// The PyTorch equivalent is `torch.nn.Sequential(Linear, act, Linear, act, …, Linear[, outputAct])`:
/// linear layer `k` sits at Sequential index `2k` (the activations have no parameters), so the
/// state-dict keys are `0.weight`, `0.bias`, `2.weight`, `2.bias`, … and weights load into and from
/// PyTorch unchanged. An identity hidden activation keeps the same numbering (`torch.nn.Identity`).
///
/// Shapes: the input is `[…, sizes[0]]`, the output `[…, sizes.last]`.
public struct MLP<Scalar: TensorScalar>: UnaryModule {
    /// The linear layers in order; layer `k` has state-dict prefix `2k.`.
    public var layers: [Linear<Scalar>]
    /// Applied after every linear layer except the last.
    public let activation: Activation
    /// Applied after the last linear layer (`.identity` for regression outputs).
    public let outputActivation: Activation
    /// Mode flags (see ``ModuleSettings``).
    public var settings = ModuleSettings()

    /// A perceptron with layer sizes `sizes` (`[in, hidden…, out]`) and PyTorch's default initialization,
    /// each ``Linear`` drawn in order from `generator` (weight, then bias).
    ///
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for fewer than two sizes or a non-positive size.
    public init(sizes: [Int], activation: Activation = .relu, outputActivation: Activation = .identity,
                bias: Bool = true, using generator: inout Xoshiro256StarStar) throws {
        guard sizes.count >= 2 else {
            throw NNError.invalidConfiguration(layer: "MLP", reason: "sizes \(sizes) need an input and an output size")
        }
        guard sizes.allSatisfy({ $0 > 0 }) else {
            throw NNError.invalidConfiguration(layer: "MLP", reason: "sizes \(sizes) must all be positive")
        }
        var layers: [Linear<Scalar>] = []
        for (fanIn, fanOut) in zip(sizes, sizes.dropFirst()) {
            layers.append(try Linear(inFeatures: fanIn, outFeatures: fanOut, bias: bias, using: &generator))
        }
        self.layers = layers
        self.activation = activation
        self.outputActivation = outputActivation
    }

    /// A perceptron made of the given layers, whose sizes must chain (`out` of one is `in` of the next).
    ///
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for no layers or sizes that do not chain.
    public init(layers: [Linear<Scalar>], activation: Activation = .relu, outputActivation: Activation = .identity) throws {
        guard !layers.isEmpty else { throw NNError.invalidConfiguration(layer: "MLP", reason: "needs at least one layer") }
        for k in layers.indices.dropFirst() where layers[k].weight.shape[1] != layers[k - 1].weight.shape[0] {
            throw NNError.invalidConfiguration(
                layer: "MLP",
                reason: "layer \(k) takes \(layers[k].weight.shape[1]) features but layer \(k - 1) gives \(layers[k - 1].weight.shape[0])")
        }
        self.layers = layers
        self.activation = activation
        self.outputActivation = outputActivation
    }

    /// The layer sizes `[in, hidden…, out]`.
    public var sizes: [Int] { [layers[0].weight.shape[1]] + layers.map { $0.weight.shape[0] } }

    /// The state-dict prefix of linear layer `k` (`"\(2k)"`, its `torch.nn.Sequential` index).
    public static func layerKey(_ k: Int) -> String { "\(2 * k)" }

    /// Presents each layer's `weight` and `bias` under its Sequential index.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        for k in layers.indices { visitor.child(Self.layerKey(k), &layers[k]) }
    }

    /// The layers applied in order with ``activation`` between them and ``outputActivation`` at the end.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        var x = input
        for k in layers.indices {
            x = layers[k](x)
            x = k == layers.count - 1 ? outputActivation(x) : activation(x)
        }
        return x
    }
}
