import Autodiff

/// An elementwise activation function, chosen by configuration (PyTorch's `activation=` arguments).
///
/// Layers that take an activation as a hyper-parameter (multilayer perceptrons, Transformer
/// feed-forward blocks, U-Net stages) store one of these; each case applies the Autodiff primitive
/// of the same name, so gradients of any order flow through it.
public enum Activation: String, Sendable, Hashable, Codable, CaseIterable {
    /// No activation: `f(x) = x`.
    case identity
    /// `max(x, 0)` (`torch.nn.ReLU`).
    case relu
    /// `max(x, 0) + 0.01·min(x, 0)` (`torch.nn.LeakyReLU` with its default slope 0.01).
    case leakyRelu
    /// The exact GELU `x·Φ(x)` (`torch.nn.GELU`, `approximate='none'`).
    case gelu
    /// `tanh(x)` (`torch.nn.Tanh`).
    case tanh
    /// `1 / (1 + e⁻ˣ)` (`torch.nn.Sigmoid`).
    case sigmoid
    /// `log(1 + eˣ)` (`torch.nn.Softplus` with β = 1).
    case softplus

    /// Applies the activation elementwise to `input`.
    public func callAsFunction<Scalar: TensorScalar>(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        switch self {
        case .identity: input
        case .relu: input.relu()
        case .leakyRelu: input.leakyRelu()
        case .gelu: input.gelu()
        case .tanh: input.tanh()
        case .sigmoid: input.sigmoid()
        case .softplus: input.softplus()
        }
    }
}
