import Autodiff
import Linalg
import MetaLearn
import NN
import Testing

/// The model of the MetaLearn DocC article "MAML with batch normalization", verbatim: a perceptron
/// with a batch-norm layer that normalizes each task's batch with its own statistics.
struct NormalizedRegressor: UnaryModule {
    var settings = ModuleSettings()
    var input: Linear<Double>
    var norm: BatchNorm1d<Double>
    var output: Linear<Double>

    init(hidden: Int, using generator: inout Xoshiro256StarStar) throws {
        input = try Linear(inFeatures: 1, outFeatures: hidden, using: &generator)
        norm = try BatchNorm1d(numFeatures: hidden)
        output = try Linear(inFeatures: hidden, outFeatures: 1, using: &generator)
    }

    mutating func visitEntries(_ visitor: inout ModuleVisitor<Double>) {
        visitor.child("input", &input)
        visitor.child("norm", &norm)
        visitor.child("output", &output)
    }

    func callAsFunction(_ x: Tensor<Double>) -> Tensor<Double> {
        output(norm.normalized(input(x)).relu())
    }
}

@Suite("MAML with batch normalization inside the model")
struct BatchNormMAMLTests {
    /// The article's loop: meta-training lowers the post-adaptation query loss on held-out tasks.
    @Test func articleLoopLearns() throws {
        var generator = Xoshiro256StarStar(seed: 11)
        let tasks = try SinusoidTasks<Double>(supportSize: 10, querySize: 10)
        var maml = try MAML(NormalizedRegressor(hidden: 32, using: &generator), innerLearningRate: 0.1)
        var adam = try Adam<Double>(learningRate: 0.003)
        func mse(_ m: NormalizedRegressor, _ d: TaskData<Double>) throws -> Tensor<Double> {
            try meanSquaredErrorLoss(m(d.inputs), d.targets)
        }
        var evaluation = Xoshiro256StarStar(seed: 99)
        let heldOut = try tasks.metaBatch(size: 20, using: &evaluation)
        func heldOutLoss() throws -> Double {
            try heldOut.reduce(0.0) { total, task in
                total + (try mse(maml.adapted(to: task.support, loss: mse), task.query)).scalar
            } / Double(heldOut.count)
        }
        let before = try heldOutLoss()
        for _ in 0..<600 {
            try maml.metaStep(on: tasks.metaBatch(size: 8, using: &generator), optimizer: &adam, loss: mse)
        }
        let after = try heldOutLoss()
        #expect(after < 0.8 * before, "held-out post-adaptation MSE \(before) → \(after)")
        // Running statistics are untouched: the batch norm only normalized.
        #expect(maml.model.norm.runningMean?.scalars == [Double](repeating: 0, count: 32))
    }

    /// Second-order meta-gradient through the batch-norm model against central differences (tolerance 1e-7 scaled).
    @Test func metaGradientMatchesFiniteDifferences() throws {
        var generator = Xoshiro256StarStar(seed: 12)
        let model = try NormalizedRegressor(hidden: 4, using: &generator)
        func mse(_ m: NormalizedRegressor, _ d: TaskData<Double>) throws -> Tensor<Double> {
            try meanSquaredErrorLoss(m(d.inputs), d.targets)
        }
        try MetaGradientTests.checkAgainstFiniteDifferences(
            model, tasks: MetaGradientTests.sinusoidTasks(count: 2, support: 5, query: 5, seed: 4),
            alpha: 0.05, steps: 2, tolerance: 1e-7, loss: mse)
    }
}
