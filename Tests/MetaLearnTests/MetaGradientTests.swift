import Autodiff
import Foundation
import Linalg
import MetaLearn
import NN
import Testing

/// The second-order meta-gradient of the whole MAML objective (mean post-adaptation query loss over a
/// meta-batch, two inner steps) against central finite differences in Double, for an MLP and for an
/// LSTM followed by self-attention; and the MLP case against PyTorch (Scripts/fixtures/metalearn.py).
@Suite struct MetaGradientTests {
    /// The MAML objective's value at `model` (inner gradients need not be recorded for the value).
    static func objective<M: Module>(_ model: M, tasks: [MetaTask<Double>], alpha: Double, steps: Int,
                                     loss: TaskLoss<M>) throws -> Double where M.Scalar == Double {
        let maml = try MAML(model, innerLearningRate: alpha, innerSteps: steps, firstOrder: true)
        var total = 0.0
        for task in tasks {
            var learner = maml.clone()
            try learner.adapt(on: task.support, steps: steps, loss: loss)
            total += try loss(learner.module, task.query).scalar
        }
        return total / Double(tasks.count)
    }

    /// Compares MAML's second-order meta-gradient with central differences of ``objective`` in every parameter,
    /// and checks that it differs from the first-order one (so the check sees the Hessian terms).
    static func checkAgainstFiniteDifferences<M: Module>(_ model: M, tasks: [MetaTask<Double>], alpha: Double,
                                                         steps: Int, tolerance: Double, loss: TaskLoss<M>) throws
        where M.Scalar == Double {
        let named = model.namedParameters()
        let (analytic, _) = try MAML(model, innerLearningRate: alpha, innerSteps: steps).metaGradients(on: tasks, loss: loss)
        let (firstOrder, _) = try MAML(model, innerLearningRate: alpha, innerSteps: steps, firstOrder: true)
            .metaGradients(on: tasks, loss: loss)
        var failure: Error? = nil
        let numeric = GradientCheck.numericalGradient(at: named.map(\.value), epsilon: 1e-5) { values in
            do {
                return try objective(model.replacingParameters(Dictionary(uniqueKeysWithValues: zip(named.map(\.key), values))),
                                     tasks: tasks, alpha: alpha, steps: steps, loss: loss)
            } catch {
                failure = error
                return .nan
            }
        }
        if let failure { throw failure }
        var worst = 0.0, secondOrderEffect = 0.0
        for (i, (key, value)) in named.enumerated() {
            let a = analytic.parameters[key]!.scalars, f = firstOrder.parameters[key]!.scalars
            #expect(a.count == value.scalarCount)
            for e in a.indices {
                worst = max(worst, abs(a[e] - numeric[i][e]) / (1 + abs(numeric[i][e])))
                secondOrderEffect = max(secondOrderEffect, abs(a[e] - f[e]))
            }
        }
        #expect(worst <= tolerance, "worst scaled |analytic − numeric| = \(worst)")
        #expect(secondOrderEffect > 1e-4, "second- and first-order meta-gradients agree to \(secondOrderEffect)")
    }

    static func sinusoidTasks(count: Int, support: Int, query: Int, seed: UInt64) throws -> [MetaTask<Double>] {
        var g = Xoshiro256StarStar(seed: seed)
        let family = try SinusoidTasks<Double>(supportSize: support, querySize: query)
        return (0..<count).map { _ in family.sampleTask(using: &g) }
    }

    /// Tolerance 1e-7 scaled: central differences with ε = 1e-5 have O(ε²) ≈ 1e-10 truncation and
    /// O(1e-16/ε) ≈ 1e-11 rounding error on an objective of order 1.
    @Test func mlpMetaGradientMatchesFiniteDifferences() throws {
        var g = Xoshiro256StarStar(seed: 11)
        let model = try MLP<Double>(sizes: [1, 6, 6, 1], activation: .tanh, using: &g)
        try Self.checkAgainstFiniteDifferences(model, tasks: Self.sinusoidTasks(count: 2, support: 4, query: 5, seed: 3),
                                               alpha: 0.1, steps: 2, tolerance: 1e-7, loss: mse)
    }

    /// The same bar with a differentiable Adam inner loop (two steps, second order; tanh keeps every inner
    /// gradient element non-zero, where Adam's `√v` is differentiable).
    @Test func mlpMetaGradientThroughAdamMatchesFiniteDifferences() throws {
        var g = Xoshiro256StarStar(seed: 14)
        let model = try MLP<Double>(sizes: [1, 5, 5, 1], activation: .tanh, using: &g)
        let tasks = try Self.sinusoidTasks(count: 2, support: 4, query: 5, seed: 6)
        let adam = InnerOptimizer.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-3)
        let named = model.namedParameters()
        let (analytic, _) = try MAML(model, innerLearningRate: 0.05, innerSteps: 2, innerOptimizer: adam)
            .metaGradients(on: tasks, loss: mse)
        var failure: Error? = nil
        let numeric = GradientCheck.numericalGradient(at: named.map(\.value), epsilon: 1e-5) { values in
            do {
                let m = try model.replacingParameters(Dictionary(uniqueKeysWithValues: zip(named.map(\.key), values)))
                return try MAML(m, innerLearningRate: 0.05, innerSteps: 2, firstOrder: true, innerOptimizer: adam)
                    .metaGradients(on: tasks, loss: mse).report.queryLossAfterAdaptation
            } catch {
                failure = error
                return .nan
            }
        }
        if let failure { throw failure }
        for (i, (key, _)) in named.enumerated() {
            let error = scaledError(analytic.parameters[key]!, try Tensor(shape: named[i].value.shape.dimensions, scalars: numeric[i]))
            #expect(error <= 1e-6, "∂/∂\(key): \(error)")
        }
    }

    /// Same bar through LSTM gates, softmax attention and the head (two inner steps, second order).
    @Test func lstmAttentionMetaGradientMatchesFiniteDifferences() throws {
        var g = Xoshiro256StarStar(seed: 12)
        let model = try RecurrentAttentionRegressor<Double>(inputSize: 2, hiddenSize: 4, headCount: 2, using: &g)
        let tasks: [MetaTask<Double>] = try (0..<2).map { _ in
            MetaTask(support: try TaskData(inputs: Tensor.normal([3, 5, 2], using: &g), targets: Tensor.normal([3, 1], using: &g)),
                     query: try TaskData(inputs: Tensor.normal([4, 5, 2], using: &g), targets: Tensor.normal([4, 1], using: &g)))
        }
        try Self.checkAgainstFiniteDifferences(model, tasks: tasks, alpha: 0.5, steps: 2, tolerance: 1e-7, loss: mse)
    }

    /// Meta-SGD: the meta-gradient with respect to the learned learning rates, against central differences.
    @Test func metaSGDRateGradientMatchesFiniteDifferences() throws {
        var g = Xoshiro256StarStar(seed: 13)
        let model = try MLP<Double>(sizes: [1, 5, 1], activation: .tanh, using: &g)
        let tasks = try Self.sinusoidTasks(count: 2, support: 4, query: 4, seed: 5)
        let rates = Dictionary(uniqueKeysWithValues: model.namedParameters().map {
            ($0.key, Tensor<Double>.uniform($0.value.shape, lowerBound: 0.02, upperBound: 0.2, using: &g))
        })
        let metaSGD = try MetaSGD(model, learningRates: rates, innerSteps: 2)
        let (analytic, _) = try metaSGD.metaGradients(on: tasks, loss: mse)
        let keys = rates.keys.sorted()
        var failure: Error? = nil
        let numeric = GradientCheck.numericalGradient(at: keys.map { rates[$0]! }, epsilon: 1e-6) { values in
            do {
                let candidate = try MetaSGD(model, learningRates: Dictionary(uniqueKeysWithValues: zip(keys, values)),
                                            innerSteps: 2)
                return try candidate.metaGradients(on: tasks, loss: mse).report.queryLossAfterAdaptation
            } catch {
                failure = error
                return .nan
            }
        }
        if let failure { throw failure }
        for (i, key) in keys.enumerated() {
            let error = scaledError(analytic.learningRates[key]!, try Tensor(shape: rates[key]!.shape.dimensions, scalars: numeric[i]))
            // Tolerance 1e-7 scaled, as above.
            #expect(error <= 1e-7, "∂/∂α[\(key)]: \(error)")
        }
    }

    struct MAMLFixture: Decodable {
        struct TaskRows: Decodable {
            let support_x: EncodedTensor, support_y: EncodedTensor, query_x: EncodedTensor, query_y: EncodedTensor
        }
        let inner_learning_rate: Double
        let inner_steps: Int
        let tasks: [TaskRows]
        let objective: Double
        let second_order: [String: EncodedTensor]
        let first_order: [String: EncodedTensor]
        let meta_sgd_rates: [String: EncodedTensor]
        let meta_sgd_objective: Double
        let meta_sgd_parameter_gradients: [String: EncodedTensor]
        let meta_sgd_rate_gradients: [String: EncodedTensor]
        let adam_lr: Double
        let after_adam_step: [String: EncodedTensor]
    }

    static func decode(_ tensors: [String: EncodedTensor]) throws -> [String: Tensor<Double>] {
        try tensors.mapValues { try $0.tensor }
    }

    /// PyTorch (torch.autograd.grad with create_graph=True through two inner steps) to 1e-10 scaled:
    /// second- and first-order MAML meta-gradients, Meta-SGD gradients of parameters and rates, and the
    /// parameters after one Adam meta-step.
    @Test func mlpMetaGradientMatchesPyTorch() throws {
        let fixture = try JSONDecoder().decode(MAMLFixture.self, from: Data(contentsOf: fixtures.url("metalearn_maml_mlp")))
        var g = Xoshiro256StarStar(seed: 0)
        var model = try MLP<Double>(sizes: [1, 8, 8, 1], activation: .tanh, using: &g)
        try model.loadSafetensors(from: fixtures.url("metalearn_maml_mlp", withExtension: "safetensors"))
        let tasks = try fixture.tasks.map { t in
            MetaTask(support: try TaskData(inputs: t.support_x.tensor, targets: t.support_y.tensor),
                     query: try TaskData(inputs: t.query_x.tensor, targets: t.query_y.tensor))
        }
        let tolerance = 1e-10
        var maml = try MAML(model, innerLearningRate: fixture.inner_learning_rate, innerSteps: fixture.inner_steps)
        let (second, report) = try maml.metaGradients(on: tasks, loss: mse)
        #expect(abs(report.queryLossAfterAdaptation - fixture.objective) <= tolerance * (1 + abs(fixture.objective)))
        #expect(worstScaledError(second.parameters, try Self.decode(fixture.second_order)) <= tolerance)

        let fomaml = try MAML(model, innerLearningRate: fixture.inner_learning_rate, innerSteps: fixture.inner_steps,
                              firstOrder: true)
        #expect(worstScaledError(try fomaml.metaGradients(on: tasks, loss: mse).gradients.parameters,
                                 try Self.decode(fixture.first_order)) <= tolerance)

        let metaSGD = try MetaSGD(model, learningRates: Self.decode(fixture.meta_sgd_rates), innerSteps: fixture.inner_steps)
        let (msgd, msgdReport) = try metaSGD.metaGradients(on: tasks, loss: mse)
        #expect(abs(msgdReport.queryLossAfterAdaptation - fixture.meta_sgd_objective) <= tolerance * (1 + fixture.meta_sgd_objective))
        #expect(worstScaledError(msgd.parameters, try Self.decode(fixture.meta_sgd_parameter_gradients)) <= tolerance)
        #expect(worstScaledError(msgd.learningRates, try Self.decode(fixture.meta_sgd_rate_gradients)) <= tolerance)

        var adam = try Adam<Double>(learningRate: fixture.adam_lr)
        try maml.metaStep(on: tasks, optimizer: &adam, loss: mse)
        let after = Dictionary(uniqueKeysWithValues: maml.model.namedParameters().map { ($0.key, $0.value) })
        #expect(worstScaledError(after, try Self.decode(fixture.after_adam_step)) <= tolerance)
    }
}
