import Autodiff

/// Labeled examples: `inputs` and `targets` with the examples along the first axis.
///
/// Shapes: `inputs` `[N, …]` (for sequence models `[N, time, features]`), `targets` `[N, …]`, `N ≥ 1`.
/// Rows are kept in the order given; samplers that split by time rely on it.
public struct TaskData<Scalar: TensorScalar>: Sendable {
    /// `[N, …]`.
    public let inputs: Tensor<Scalar>
    /// `[N, …]`.
    public let targets: Tensor<Scalar>

    /// Examples from inputs and targets with the same first dimension.
    ///
    /// - Parameters:
    ///   - inputs: `[N, …]`.
    ///   - targets: `[N, …]`.
    ///   - name: names the data in errors (`"support"`, `"month 2020-03"`).
    /// - Throws: ``MetaLearnError/emptyData(what:)`` for rank-0 tensors or zero examples and
    ///   ``MetaLearnError/exampleCountMismatch(what:inputs:targets:)`` when the counts differ.
    public init(inputs: Tensor<Scalar>, targets: Tensor<Scalar>, name: String = "data") throws {
        guard inputs.rank >= 1, targets.rank >= 1, inputs.shape[0] > 0 else { throw MetaLearnError.emptyData(what: name) }
        guard inputs.shape[0] == targets.shape[0] else {
            throw MetaLearnError.exampleCountMismatch(what: name, inputs: inputs.shape[0], targets: targets.shape[0])
        }
        self.inputs = inputs.detached()
        self.targets = targets.detached()
    }

    /// `N`, the number of examples.
    public var count: Int { inputs.shape[0] }

    /// The examples at `rows` (in that order). Rows must be valid and non-empty (internal use by samplers).
    func selecting(_ rows: [Int]) -> TaskData {
        TaskData(unchecked: inputs.indexSelected(alongAxis: 0, indices: rows),
                 targets: targets.indexSelected(alongAxis: 0, indices: rows))
    }

    /// The examples in `rows`, a non-empty sub-range of `0..<count` (internal use by samplers).
    func slicing(_ rows: Range<Int>) -> TaskData {
        TaskData(unchecked: inputs.sliced(alongAxis: 0, from: rows.lowerBound, to: rows.upperBound),
                 targets: targets.sliced(alongAxis: 0, from: rows.lowerBound, to: rows.upperBound))
    }

    /// The examples of `parts` one after another.
    ///
    /// - Throws: ``MetaLearnError/emptyData(what:)`` for no parts and
    ///   ``MetaLearnError/invalidWindow(name:value:requirement:)`` naming the first part whose example
    ///   shape (all axes but the first) differs from part 0's.
    public static func concatenating(_ parts: [TaskData]) throws -> TaskData {
        guard let first = parts.first else { throw MetaLearnError.emptyData(what: "concatenation of no data sets") }
        for (i, part) in parts.enumerated() {
            guard part.inputs.shape.dimensions.dropFirst() == first.inputs.shape.dimensions.dropFirst(),
                  part.targets.shape.dimensions.dropFirst() == first.targets.shape.dimensions.dropFirst() else {
                throw MetaLearnError.invalidWindow(name: "part", value: i,
                                                   requirement: "every part needs the example shape of part 0")
            }
        }
        return TaskData(unchecked: Tensor.concatenate(parts.map(\.inputs), alongAxis: 0),
                        targets: Tensor.concatenate(parts.map(\.targets), alongAxis: 0))
    }

    init(unchecked inputs: Tensor<Scalar>, targets: Tensor<Scalar>) {
        self.inputs = inputs
        self.targets = targets
    }
}

/// One meta-learning task: a support set to adapt on and a query set to evaluate the adapted model on.
///
/// Terminology follows Finn, Abbeel & Levine, "Model-agnostic meta-learning for fast adaptation of deep
/// networks", ICML 2017 (`D_train` / `D_test` of a task), and learn2learn's support / query (evaluation) sets.
public struct MetaTask<Scalar: TensorScalar>: Sendable {
    /// The examples the learner adapts on.
    public let support: TaskData<Scalar>
    /// The examples the adapted learner is scored on.
    public let query: TaskData<Scalar>
    /// What the task is (a period key, a label, an asset), for reports.
    public let name: String

    /// A task from its two sets.
    public init(support: TaskData<Scalar>, query: TaskData<Scalar>, name: String = "task") {
        self.support = support
        self.query = query
        self.name = name
    }

    /// Support and query examples together (for conventional, non-meta training on the same tasks).
    public var allExamples: TaskData<Scalar> {
        // Both sets come from the same source, so their example shapes agree.
        TaskData(unchecked: Tensor.concatenate([support.inputs, query.inputs], alongAxis: 0),
                 targets: Tensor.concatenate([support.targets, query.targets], alongAxis: 0))
    }
}
