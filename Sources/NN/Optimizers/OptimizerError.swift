/// Errors from optimizers, learning-rate schedules and gradient clipping.
///
/// Every case names what was wrong and where: the hyperparameter and its
/// value, or the parameter (by position or by name) whose gradient or state
/// does not fit.
public enum OptimizerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A hyperparameter of `owner` (an optimizer, schedule or clipping call) is outside its valid range.
    case invalidHyperparameter(owner: String, name: String, value: Double, requirement: String)
    /// The number of gradients differs from the number of parameters.
    case gradientCountMismatch(parameters: Int, gradients: Int)
    /// A gradient's shape differs from its parameter's shape.
    case gradientShapeMismatch(parameter: ParameterKey, parameterShape: [Int], gradientShape: [Int])
    /// A gradient was given for a name that is not among the parameters.
    case gradientWithoutParameter(name: String)
    /// A parameter changed shape since the optimizer stored state for it.
    case stateShapeMismatch(parameter: ParameterKey, stateShape: [Int], parameterShape: [Int])
    /// Gradient clipping with `errorIfNonFinite` found a total norm that is NaN or infinite.
    case nonFiniteGradientNorm(Double)

    /// A one-line explanation naming what is wrong and where.
    public var description: String {
        switch self {
        case let .invalidHyperparameter(owner, name, value, requirement):
            "\(owner): \(name) = \(value) is invalid (\(requirement))"
        case let .gradientCountMismatch(parameters, gradients):
            "\(gradients) gradients for \(parameters) parameters"
        case let .gradientShapeMismatch(parameter, parameterShape, gradientShape):
            "\(parameter): gradient shape \(gradientShape) differs from parameter shape \(parameterShape)"
        case let .gradientWithoutParameter(name):
            "gradient given for '\(name)', which is not a parameter"
        case let .stateShapeMismatch(parameter, stateShape, parameterShape):
            "\(parameter): parameter shape \(parameterShape) differs from the shape \(stateShape) the optimizer state was created for"
        case let .nonFiniteGradientNorm(norm):
            "the total gradient norm is \(norm); gradients are not finite"
        }
    }
}

/// Identifies a parameter in an optimizer call: by its position in a list or by its name in a dictionary.
public enum ParameterKey: Hashable, Sendable, CustomStringConvertible {
    /// The parameter at this position of the parameter list.
    case index(Int)
    /// The parameter with this name (a PyTorch state-dict key such as `layers.0.weight`).
    case name(String)

    /// `parameter 3` or `parameter 'layers.0.weight'`.
    public var description: String {
        switch self {
        case .index(let i): "parameter \(i)"
        case .name(let n): "parameter '\(n)'"
        }
    }
}

/// Throws ``OptimizerError/invalidHyperparameter(owner:name:value:requirement:)`` unless `condition` holds.
@inline(__always)
func require(_ condition: Bool, _ owner: String, _ name: String, _ value: Double, _ requirement: String) throws {
    guard condition else {
        throw OptimizerError.invalidHyperparameter(owner: owner, name: name, value: value, requirement: requirement)
    }
}

/// Throws unless `value` is finite and `≥ 0`.
@inline(__always)
func requireNonNegative(_ value: Double, _ owner: String, _ name: String) throws {
    try require(value.isFinite && value >= 0, owner, name, value, "must be finite and ≥ 0")
}
