import Autodiff

/// Errors from loss functions: inputs whose shapes do not fit, targets out of range, invalid options.
public enum LossError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `argument` of `loss` has shape `actual` where `expected` is required.
    case shapeMismatch(loss: String, argument: String, expected: [Int], actual: [Int])
    /// `argument` of `loss` has rank `actual`, outside what the loss accepts.
    case rankMismatch(loss: String, argument: String, expected: String, actual: Int)
    /// A class index target at row-major `position` is outside `0..<classCount` (and is not the ignore index).
    case classIndexOutOfRange(loss: String, position: Int, index: Int, classCount: Int)
    /// Every target equals the ignore index, so the mean is undefined.
    case allTargetsIgnored(loss: String)
    /// An option of `loss` is outside its valid range.
    case invalidOption(loss: String, name: String, value: Double, requirement: String)
    /// An input element at row-major `position` of `argument` violates `requirement` (e.g. a negative variance).
    case invalidValue(loss: String, argument: String, position: Int, value: Double, requirement: String)
    /// The portfolio's growth factor `μ·(y·w)` of batch row `row` is not positive, so its logarithm is undefined.
    case nonPositiveGrowth(row: Int, value: Double)

    /// A one-line explanation naming what is wrong and where.
    public var description: String {
        switch self {
        case let .shapeMismatch(loss, argument, expected, actual):
            "\(loss): \(argument) has shape \(actual), expected \(expected)"
        case let .rankMismatch(loss, argument, expected, actual):
            "\(loss): \(argument) has rank \(actual), expected \(expected)"
        case let .classIndexOutOfRange(loss, position, index, classCount):
            "\(loss): target \(position) is class \(index), outside 0..<\(classCount)"
        case let .allTargetsIgnored(loss):
            "\(loss): every target is the ignore index, the mean is undefined"
        case let .invalidOption(loss, name, value, requirement):
            "\(loss): \(name) = \(value) is invalid (\(requirement))"
        case let .invalidValue(loss, argument, position, value, requirement):
            "\(loss): \(argument) element \(position) is \(value) (\(requirement))"
        case let .nonPositiveGrowth(row, value):
            "portfolio growth factor of row \(row) is \(value); it must be positive"
        }
    }
}

/// How a loss combines its per-element values (PyTorch's `reduction` argument).
public enum LossReduction: Sendable, Hashable {
    /// Per-element losses, unreduced.
    case none
    /// The arithmetic mean over elements (for class targets: over non-ignored targets).
    case mean
    /// The sum over elements.
    case sum
}

extension Tensor {
    /// `self` reduced as `reduction` says, with `count` elements for the mean.
    func reduced(_ reduction: LossReduction) -> Tensor {
        switch reduction {
        case .none: self
        case .mean: mean()
        case .sum: sum()
        }
    }
}

/// Throws ``LossError/shapeMismatch(loss:argument:expected:actual:)`` unless the shapes are equal.
func requireShape<S>(_ tensor: Tensor<S>, _ expected: TensorShape, _ loss: String, _ argument: String) throws {
    guard tensor.shape == expected else {
        throw LossError.shapeMismatch(loss: loss, argument: argument, expected: expected.dimensions,
                                      actual: tensor.shape.dimensions)
    }
}

/// Throws ``LossError/invalidOption(loss:name:value:requirement:)`` unless `condition` holds.
func requireOption(_ condition: Bool, _ loss: String, _ name: String, _ value: Double,
                   _ requirement: String) throws {
    guard condition else { throw LossError.invalidOption(loss: loss, name: name, value: value, requirement: requirement) }
}
