import Autodiff
import NN

/// Conventional (non-meta) training on the pooled examples of many tasks: the "pretrained" baseline
/// of Finn et al. (2017, §5.1), which fits one network to all tasks and is fine-tuned at test time.
///
/// Each ``step(on:optimizer:loss:)`` minimizes the mean over the given tasks of the loss on all
/// their examples (support and query), with one update of an ordinary optimizer.
public struct JointTraining<Model: Module>: Sendable {
    /// The element type.
    public typealias Scalar = Model.Scalar

    /// The model being trained.
    public private(set) var model: Model

    /// Starts from `model`.
    public init(_ model: Model) {
        self.model = model.substituting(Dictionary(uniqueKeysWithValues: detachedTrainableParameters(model)))
    }

    /// One update on the mean loss over `tasks` (all examples of each); returns that loss before the update.
    /// - Throws: ``MetaLearnError/noTasks(reason:)`` for no tasks, the errors of `loss` (a non-scalar,
    ///   non-finite or detached loss) and of the optimizer; the model is unchanged on error.
    @discardableResult
    public mutating func step<O: Optimizer<Scalar>>(on tasks: [MetaTask<Scalar>], optimizer: inout O,
                                                    loss: TaskLoss<Model>) throws -> Double {
        guard !tasks.isEmpty else { throw MetaLearnError.noTasks(reason: "the batch is empty") }
        let data = tasks.map(\.allExamples)
        let (value, gradients) = try lossAndGradients(model, operation: "JointTraining.step") { m in
            var total = Tensor<Scalar>(0)
            for d in data { total = total + (try loss(m, d)) }
            return total / Scalar(data.count)
        }
        model = try optimizerUpdate(model, gradients: gradients, optimizer: &optimizer).model
        return value
    }
}
