import Autodiff
import Foundation
import Linalg
import MetaLearn
import NN
import Testing
@_exported import FixtureSupport

/// This target's `Fixtures/` (peer outputs written by `Scripts/fixtures/`).
let fixtures = FixtureBundle(.module)

/// A tensor as the fixture scripts encode it.
struct EncodedTensor: Decodable {
    let shape: [Int]
    let data: [Double]

    var tensor: Tensor<Double> { get throws { try Tensor(shape: shape, scalars: data) } }
}

/// Mean squared error of a unary module on the task's examples.
func mse<M: UnaryModule>(_ model: M, _ data: TaskData<M.Scalar>) throws -> Tensor<M.Scalar> {
    try meanSquaredErrorLoss(model(data.inputs), data.targets)
}

/// The largest `|a − e| / (1 + |e|)` over the elements (∞ for a shape mismatch or NaN).
func scaledError(_ actual: Tensor<Double>, _ expected: Tensor<Double>) -> Double {
    guard actual.shape == expected.shape else { return .infinity }
    var worst = 0.0
    for (a, e) in zip(actual.scalars, expected.scalars) {
        let excess = Swift.abs(a - e) / (1 + Swift.abs(e))
        worst = Swift.max(worst, excess.isNaN ? .infinity : excess)
    }
    return worst
}

/// The largest scaled error over the keys of `expected`; a key missing from `actual` counts as ∞.
func worstScaledError(_ actual: [String: Tensor<Double>], _ expected: [String: Tensor<Double>]) -> Double {
    guard Set(actual.keys) == Set(expected.keys) else { return .infinity }
    return expected.keys.map { scaledError(actual[$0]!, expected[$0]!) }.max() ?? 0
}

/// A task from explicit rows.
func task(_ supportX: [[Double]], _ supportY: [[Double]], _ queryX: [[Double]], _ queryY: [[Double]]) throws -> MetaTask<Double> {
    MetaTask(support: try TaskData(inputs: Tensor(supportX), targets: Tensor(supportY), name: "support"),
             query: try TaskData(inputs: Tensor(queryX), targets: Tensor(queryY), name: "query"))
}
