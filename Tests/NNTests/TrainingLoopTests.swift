import Autodiff
import Foundation
import Linalg
import NN
import Testing

@Suite("Training loop: valueWithGradient(of:) and Optimizer.update(_:gradients:)")
struct TrainingLoopTests {
    /// The loop of the `TrainingAModel` DocC article, verbatim: the loss falls by at least 90 %.
    @Test func articleLoopFits() throws {
        var generator = Xoshiro256StarStar(seed: 42)
        let inputs = Tensor<Double>.uniform([256, 3], lowerBound: -1, upperBound: 1, using: &generator)
        let x = inputs.scalars
        let y: [Double] = (0..<256).map { i -> Double in
            let (a, b, c): (Double, Double, Double) = (x[3 * i], x[3 * i + 1], x[3 * i + 2])
            return Foundation.sin(a) + b * c
        }
        let targets = try Tensor<Double>(shape: [256, 1], scalars: y)

        var model = try MLP<Double>(sizes: [3, 32, 1], activation: .tanh, using: &generator)
        var adam = try Adam<Double>(learningRate: 1e-2)
        var first: Double?, last = 0.0
        for _ in 0..<300 {
            let (loss, gradients) = try valueWithGradient(of: model) { m in
                try meanSquaredErrorLoss(m(inputs), targets)
            }
            try adam.update(&model, gradients: gradients)
            first = first ?? loss.scalar
            last = loss.scalar
        }
        #expect(last < 0.1 * first!, "loss \(first!) → \(last)")
    }

    /// The gradients, keyed like the state dict, against central differences of the loss in every
    /// parameter (ε = 1e-6; tolerance 1e-7 absolute on a loss of order 1).
    @Test func gradientsMatchFiniteDifferences() throws {
        var generator = Xoshiro256StarStar(seed: 3)
        let model = try MLP<Double>(sizes: [2, 4, 1], activation: .tanh, using: &generator)
        let inputs = Tensor<Double>.normal([8, 2], using: &generator)
        let targets = Tensor<Double>.normal([8, 1], using: &generator)
        func loss(_ m: MLP<Double>) throws -> Tensor<Double> { try meanSquaredErrorLoss(m(inputs), targets) }
        let (_, gradients) = try valueWithGradient(of: model, loss)
        let named = model.namedTrainableParameters()
        #expect(Set(gradients.keys) == Set(named.map(\.key)))
        let numeric = GradientCheck.numericalGradient(at: named.map(\.value)) { values in
            (try? loss(model.replacingParameters(Dictionary(uniqueKeysWithValues: zip(named.map(\.key), values)))).scalar) ?? .nan
        }
        for (i, (key, _)) in named.enumerated() {
            let analytic = gradients[key]!.scalars
            for e in analytic.indices { #expect(abs(analytic[e] - numeric[i][e]) <= 1e-7, "\(key)[\(e)]") }
        }
    }

    /// A frozen parameter gets no gradient and keeps its value; bad losses and unknown keys are named.
    @Test func frozenParametersAndErrors() throws {
        var generator = Xoshiro256StarStar(seed: 5)
        var model = try Linear<Double>(inFeatures: 2, outFeatures: 1, using: &generator)
        model.settings.frozenParameters = ["bias"]
        let inputs = Tensor<Double>.normal([4, 2], using: &generator)
        let (_, gradients) = try valueWithGradient(of: model) { m in m(inputs).sum() }
        #expect(Array(gradients.keys) == ["weight"])
        let bias = model.namedParameters().first { $0.key == "bias" }!.value.scalars
        var sgd = try SGD<Double>(learningRate: 0.1)
        try sgd.update(&model, gradients: gradients)
        #expect(model.namedParameters().first { $0.key == "bias" }!.value.scalars == bias)
        #expect(throws: NNError.invalidLoss(reason: "has shape [4, 1]; a single value is needed")) {
            try valueWithGradient(of: model) { m in m(inputs) }
        }
        #expect(throws: OptimizerError.gradientWithoutParameter(name: "bias")) {
            try sgd.update(&model, gradients: ["bias": Tensor<Double>.zeros([1])])
        }
    }
}
