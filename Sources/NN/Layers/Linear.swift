import Autodiff
import Linalg

/// A fully connected layer `y = x·Wᵀ + b`, as `torch.nn.Linear`.
///
/// Shapes: `weight` is `[outFeatures, inFeatures]`, `bias` `[outFeatures]`; the input is
/// `[…, inFeatures]` and the output `[…, outFeatures]` (one `gemm` for all leading axes).
public struct Linear<Scalar: TensorScalar>: UnaryModule {
    /// `[outFeatures, inFeatures]`.
    public var weight: Tensor<Scalar>
    /// `[outFeatures]`, or `nil` without a bias.
    public var bias: Tensor<Scalar>?
    /// Mode flags (see ``ModuleSettings``).
    public var settings = ModuleSettings()

    /// A layer with PyTorch's default initialization: weight and bias `U(−1/√inFeatures, 1/√inFeatures)`
    /// (Kaiming uniform with `a = √5`), drawn weight first.
    /// - Throws: ``NNError/invalidConfiguration(layer:reason:)`` for a non-positive size.
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, using generator: inout Xoshiro256StarStar) throws {
        guard inFeatures > 0, outFeatures > 0 else {
            throw NNError.invalidConfiguration(layer: "Linear", reason: "sizes \(inFeatures) → \(outFeatures) must be positive")
        }
        weight = Initializer.pytorchDefault.make([outFeatures, inFeatures], using: &generator)
        self.bias = bias ? Initializer.bias(outFeatures, fanIn: inFeatures, using: &generator) : nil
    }

    /// A layer with the given weight `[out, in]` and optional bias `[out]`.
    /// - Throws: ``NNError/shapeMismatch(key:expected:found:)`` when they do not fit.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil) throws {
        guard weight.rank == 2 else { throw NNError.shapeMismatch(key: "weight", expected: [-1, -1], found: weight.shape.dimensions) }
        if let bias, bias.shape.dimensions != [weight.shape[0]] {
            throw NNError.shapeMismatch(key: "bias", expected: [weight.shape[0]], found: bias.shape.dimensions)
        }
        self.weight = weight
        self.bias = bias
    }

    /// Presents `weight` and `bias`.
    public mutating func visitEntries(_ visitor: inout ModuleVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
        visitor.parameter("bias", &bias)
    }

    /// `x·Wᵀ + b` for `x` of shape `[…, inFeatures]`.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        let product = input.matmul(weight, transposingOther: true)
        guard let bias else { return product }
        return product + bias
    }
}
