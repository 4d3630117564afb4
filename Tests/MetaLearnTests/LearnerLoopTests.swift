import Autodiff
import Linalg
import MetaLearn
import NN
import Testing

/// The learn2learn-style loop of the DocC article (clone, adapt, query loss, meta-gradients, apply),
/// written out, gives the same parameters as ``GradientBasedMetaLearner/metaStep(on:optimizer:loss:)``.
@Suite struct LearnerLoopTests {
    @Test func explicitLoopEqualsMetaStep() throws {
        var generator = Xoshiro256StarStar(seed: 2017)
        let tasks = try SinusoidTasks<Double>(supportSize: 10, querySize: 10)
        let network = try MLP<Double>(sizes: [1, 16, 16, 1], activation: .relu, using: &generator)
        func mse(_ m: MLP<Double>, _ d: TaskData<Double>) throws -> Tensor<Double> {
            try meanSquaredErrorLoss(m(d.inputs), d.targets)
        }
        var explicit = try MAML(network, innerLearningRate: 0.01)
        var oneCall = explicit
        var adam = try Adam<Double>(learningRate: 0.001), adam2 = adam
        for _ in 0..<3 {
            let batch = try tasks.metaBatch(size: 5, using: &generator)
            var sum: MetaGradients<Double>? = nil
            for task in batch {
                var learner = explicit.clone()
                try learner.adapt(mse(learner.module, task.support))
                let queryLoss = try mse(learner.module, task.query)
                let g = try learner.metaGradients(of: queryLoss)
                sum = sum.map { $0.adding(g) } ?? g
            }
            try explicit.apply(sum!.scaled(by: 1.0 / 5), optimizer: &adam)
            try oneCall.metaStep(on: batch, optimizer: &adam2, loss: mse)
        }
        let a = Dictionary(uniqueKeysWithValues: explicit.model.namedParameters().map { ($0.key, $0.value) })
        let b = Dictionary(uniqueKeysWithValues: oneCall.model.namedParameters().map { ($0.key, $0.value) })
        // Tolerance 1e-15 scaled: the same operations, summed in the same order.
        #expect(worstScaledError(a, b) <= 1e-15)
        // The meta-steps moved the parameters (so the comparison is not between two untouched copies).
        let initial = Dictionary(uniqueKeysWithValues: network.namedParameters().map { ($0.key, $0.value) })
        #expect(worstScaledError(a, initial) > 1e-4)
    }
}
