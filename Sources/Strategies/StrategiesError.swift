/// Errors thrown by the learned strategies.
///
/// Every case names what was wrong and where: the component, the parameter, the asset or the
/// period. A function that throws leaves nothing half-written behind.
public enum StrategiesError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An argument or configuration field is outside its domain.
    case invalidArgument(component: String, parameter: String, message: String)
    /// Market data cannot be used: a missing, non-finite or non-positive price, too few bars or assets.
    case invalidData(component: String, message: String)
    /// A checkpoint file is missing, unreadable or does not match the agent.
    case invalidCheckpoint(path: String, message: String)
    /// Training produced a non-finite loss or weight (the learning rate or the data is at fault).
    case trainingDiverged(component: String, step: Int, message: String)

    /// A one-line description naming the component and the fault.
    public var description: String {
        switch self {
        case let .invalidArgument(component, parameter, message):
            return "\(component): \(parameter) \(message)"
        case let .invalidData(component, message):
            return "\(component): \(message)"
        case let .invalidCheckpoint(path, message):
            return "checkpoint \(path): \(message)"
        case let .trainingDiverged(component, step, message):
            return "\(component): training diverged at step \(step): \(message)"
        }
    }
}

/// Throws ``StrategiesError/invalidArgument(component:parameter:message:)`` unless `condition` holds.
func require(_ condition: Bool, _ component: String, _ parameter: String, _ message: @autoclosure () -> String) throws {
    guard condition else { throw StrategiesError.invalidArgument(component: component, parameter: parameter, message: message()) }
}
