import Autodiff
import Linalg
import MetaLearn
import NN
import Testing

/// A short sinusoid meta-training run (Finn et al. 2017 setup, fewer iterations and a higher meta
/// learning rate so it takes seconds): the MAML initialization must reach a lower post-adaptation
/// query MSE on held-out tasks than the random initialization it started from and than a network
/// pretrained jointly on the same tasks with the same optimizer and iterations. An assertion on
/// loss only; nothing is timed.
@Suite struct SinusoidMetaTrainingTests {
    @Test func mamlInitializationAdaptsBetterThanRandomAndPretrained() throws {
        var generator = Xoshiro256StarStar(seed: 2017)
        let family = try SinusoidTasks<Double>(supportSize: 10, querySize: 10)
        let initial = try MLP<Double>(sizes: [1, 40, 40, 1], activation: .relu, using: &generator)
        var maml = try MAML(initial, innerLearningRate: 0.01, innerSteps: 1)
        var pretrained = JointTraining(initial)
        var metaAdam = try Adam<Double>(learningRate: 0.01), jointAdam = try Adam<Double>(learningRate: 0.01)
        for _ in 0..<150 {
            let batch = try family.metaBatch(size: 10, using: &generator)
            try maml.metaStep(on: batch, optimizer: &metaAdam, loss: mse)
            try pretrained.step(on: batch, optimizer: &jointAdam, loss: mse)
        }
        var heldOutGenerator = Xoshiro256StarStar(seed: 99)
        let heldOut = try SinusoidTasks<Double>(supportSize: 10, querySize: 50).metaBatch(size: 100, using: &heldOutGenerator)
        func score(_ model: MLP<Double>) throws -> AdaptationCurve {
            try AdaptationEvaluation.evaluate(model, on: heldOut, learningRate: 0.01, steps: [1, 10], loss: mse)
        }
        let meta = try score(maml.model), joint = try score(pretrained.model), random = try score(initial)
        for k in [1, 10] {
            let m = meta.point(steps: k)!.meanLoss, j = joint.point(steps: k)!.meanLoss, r = random.point(steps: k)!.meanLoss
            #expect(m < j, "after \(k) steps: MAML \(m) vs pretrained \(j)")
            #expect(m < r, "after \(k) steps: MAML \(m) vs random \(r)")
        }
    }
}
