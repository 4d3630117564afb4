import Autodiff

/// Errors of task construction, task sampling and meta-training. Every case names what was wrong and where.
public enum MetaLearnError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A data set (support, query, a period or a group) named by `what` has no examples.
    case emptyData(what: String)
    /// `inputs` and `targets` of `what` have different numbers of examples (first axis).
    case exampleCountMismatch(what: String, inputs: Int, targets: Int)
    /// Per-example metadata (period keys, labels) of `what` has `found` entries for `expected` examples.
    case metadataCountMismatch(what: String, expected: Int, found: Int)
    /// The period key `key` reappears at row `row` after other periods: rows must be ordered by period.
    case periodNotContiguous(key: String, row: Int)
    /// A row range of period `index` is empty, out of `0..<rowCount`, or overlaps / precedes the previous one.
    case invalidPeriodRange(index: Int, lower: Int, upper: Int, rowCount: Int)
    /// A window setting (`name` = `value`) is out of range; `requirement` says what is allowed.
    case invalidWindow(name: String, value: Int, requirement: String)
    /// Group `group` has `available` examples; a task needs `required`.
    case tooFewExamples(group: String, required: Int, available: Int)
    /// No task can be formed from the data with the given windows.
    case noTasks(reason: String)
    /// A hyper-parameter `name` of `owner` has the invalid `value`.
    case invalidHyperparameter(owner: String, name: String, value: Double, requirement: String)
    /// A loss given to `operation` is not a single number.
    case lossNotScalar(operation: String, shape: [Int])
    /// A loss given to `operation` does not depend on the learner's parameters (it was computed
    /// from another module, or without gradient recording).
    case lossDetachedFromParameters(operation: String)
    /// A loss given to `operation` is NaN or infinite (diverging inner loop, bad data).
    case nonFiniteLoss(operation: String, value: Double)
    /// A parameter selection matches none of the module's parameter keys.
    case noParametersSelected(selection: String)
    /// The meta-gradient of `key` has a NaN or infinite element (for instance second order through Adam
    /// where an inner gradient element is exactly zero).
    case nonFiniteGradient(key: String)
    /// A gradient or learning rate keyed `key` is not a (selected) parameter of the model.
    case unknownParameter(key: String)

    /// A one-line explanation.
    public var description: String {
        switch self {
        case let .emptyData(what): "\(what) has no examples"
        case let .exampleCountMismatch(what, inputs, targets):
            "\(what): \(inputs) input examples but \(targets) target examples"
        case let .metadataCountMismatch(what, expected, found): "\(what): \(found) entries for \(expected) examples"
        case let .periodNotContiguous(key, row):
            "period '\(key)' reappears at row \(row) after another period; rows must be ordered by period"
        case let .invalidPeriodRange(index, lower, upper, rowCount):
            "period \(index): rows \(lower)..<\(upper) are empty, outside 0..<\(rowCount) or not after the previous period"
        case let .invalidWindow(name, value, requirement): "\(name) = \(value): \(requirement)"
        case let .tooFewExamples(group, required, available):
            "group '\(group)' has \(available) examples; a task needs \(required)"
        case let .noTasks(reason): "no task can be formed: \(reason)"
        case let .invalidHyperparameter(owner, name, value, requirement): "\(owner).\(name) = \(value): \(requirement)"
        case let .lossNotScalar(operation, shape): "\(operation): the loss has shape \(shape), not a single number"
        case let .lossDetachedFromParameters(operation):
            "\(operation): the loss does not depend on the learner's parameters (compute it with the learner's module)"
        case let .nonFiniteLoss(operation, value): "\(operation): the loss is \(value)"
        case let .noParametersSelected(selection): "parameter selection \(selection) matches no parameter"
        case let .nonFiniteGradient(key): "the meta-gradient of '\(key)' is not finite"
        case let .unknownParameter(key): "'\(key)' is not a selected parameter of the model"
        }
    }
}

/// Throws ``MetaLearnError/invalidHyperparameter(owner:name:value:requirement:)`` unless `condition` holds.
@inline(__always)
func require(_ condition: Bool, _ owner: String, _ name: String, _ value: Double, _ requirement: String) throws {
    guard condition else {
        throw MetaLearnError.invalidHyperparameter(owner: owner, name: name, value: value, requirement: requirement)
    }
}

/// Checks that `loss` is a finite scalar that depends on gradient-carrying parameters.
func validateLoss<Scalar: TensorScalar>(_ loss: Tensor<Scalar>, _ operation: String) throws {
    guard loss.scalarCount == 1 else { throw MetaLearnError.lossNotScalar(operation: operation, shape: loss.shape.dimensions) }
    let value = Double(loss.scalars[0])
    guard value.isFinite else { throw MetaLearnError.nonFiniteLoss(operation: operation, value: value) }
    guard loss.requiresGradient else { throw MetaLearnError.lossDetachedFromParameters(operation: operation) }
}
