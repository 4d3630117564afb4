import Autodiff
import Linalg

/// Weight initialization schemes with PyTorch's formulas (`torch.nn.init`), drawn from a seeded generator.
///
/// Fans follow `torch.nn.init._calculate_fan_in_and_fan_out`: for a shape
/// `[d₀, d₁, k…]`, `fanIn = d₁·Πk` and `fanOut = d₀·Πk`. Uniform draws use
/// ``Tensor/uniform(_:lowerBound:upperBound:using:)`` and normal draws
/// ``Tensor/normal(_:mean:standardDeviation:using:)``, one (two) generator
/// calls per element in row-major order, so the same seed gives the same bits
/// (not PyTorch's bits: its generator differs).
///
/// References: He et al., "Delving Deep into Rectifiers" (2015) for Kaiming;
/// Glorot & Bengio, "Understanding the difficulty of training deep
/// feedforward neural networks" (2010) for Xavier.
public enum Initializer: Sendable, Hashable {
    /// All zeros.
    case zeros
    /// All ones.
    case ones
    /// Every element equal to the value.
    case constant(Double)
    /// `U(−bound, bound)`.
    case uniform(bound: Double)
    /// `N(mean, standardDeviation²)`.
    case normal(mean: Double, standardDeviation: Double)
    /// Kaiming uniform for a leaky-ReLU gain with negative slope `a`: `U(−b, b)` with
    /// `b = √3·√(2/(1 + a²))/√fanIn`. `a = √5` (PyTorch's default for `Linear` and `Conv1d` weights)
    /// gives `b = 1/√fanIn`.
    case kaimingUniform(a: Double)
    /// Kaiming normal: `N(0, σ²)` with `σ = √(2/(1 + a²))/√fanIn`.
    case kaimingNormal(a: Double)
    /// Xavier (Glorot) uniform: `U(−b, b)` with `b = gain·√(6/(fanIn + fanOut))`.
    case xavierUniform(gain: Double)
    /// Xavier (Glorot) normal: `N(0, σ²)` with `σ = gain·√(2/(fanIn + fanOut))`.
    case xavierNormal(gain: Double)

    /// The default of PyTorch's `Linear`, `Conv1d` and `ConvTranspose1d` weights: Kaiming uniform with `a = √5`.
    public static let pytorchDefault = Initializer.kaimingUniform(a: 5.0.squareRoot())

    /// `(fanIn, fanOut)` of a weight shape, as `torch.nn.init._calculate_fan_in_and_fan_out` (rank ≥ 2).
    public static func fans(of shape: [Int]) -> (fanIn: Int, fanOut: Int) {
        guard shape.count >= 2 else { return (shape.first ?? 1, shape.first ?? 1) }
        let receptive = shape.dropFirst(2).reduce(1, *)
        return (shape[1] * receptive, shape[0] * receptive)
    }

    /// A tensor of `shape` drawn from this scheme; fans are computed from `shape`.
    public func make<Scalar: TensorScalar>(_ shape: [Int], using generator: inout Xoshiro256StarStar) -> Tensor<Scalar> {
        let (fanIn, fanOut) = Initializer.fans(of: shape)
        let s = TensorShape(shape)
        func gain(_ a: Double) -> Double { (2 / (1 + a * a)).squareRoot() }
        switch self {
        case .zeros: return .zeros(s)
        case .ones: return .ones(s)
        case .constant(let value): return .full(s, Scalar(value))
        case .uniform(let bound): return Initializer.uniform(s, bound, &generator)
        case .normal(let mean, let sd):
            return .normal(s, mean: Scalar(mean), standardDeviation: Scalar(sd), using: &generator)
        case .kaimingUniform(let a):
            return Initializer.uniform(s, 3.0.squareRoot() * gain(a) / Double(fanIn).squareRoot(), &generator)
        case .kaimingNormal(let a):
            return .normal(s, standardDeviation: Scalar(gain(a) / Double(fanIn).squareRoot()), using: &generator)
        case .xavierUniform(let g):
            return Initializer.uniform(s, g * (6 / Double(fanIn + fanOut)).squareRoot(), &generator)
        case .xavierNormal(let g):
            return .normal(s, standardDeviation: Scalar(g * (2 / Double(fanIn + fanOut)).squareRoot()), using: &generator)
        }
    }

    /// PyTorch's bias initialization for a layer with `fanIn` inputs: `U(−1/√fanIn, 1/√fanIn)` (0 bound if `fanIn` is 0).
    public static func bias<Scalar: TensorScalar>(_ count: Int, fanIn: Int,
                                                  using generator: inout Xoshiro256StarStar) -> Tensor<Scalar> {
        uniform([count], fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0, &generator)
    }

    private static func uniform<Scalar: TensorScalar>(_ shape: TensorShape, _ bound: Double,
                                                      _ generator: inout Xoshiro256StarStar) -> Tensor<Scalar> {
        .uniform(shape, lowerBound: Scalar(-bound), upperBound: Scalar(bound), using: &generator)
    }
}
