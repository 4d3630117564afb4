// The sinusoid regression benchmark of Finn, Abbeel & Levine (ICML 2017, §5.1) with MetaLearn.
//
// Tasks y = A·sin(x − φ), A ~ U[0.1, 5], φ ~ U[0, π], x ~ U[−5, 5], K = 10 support and 10 query points;
// a 1-40-40-1 ReLU network. Trained for the same number of iterations on meta-batches of 25 tasks:
//   - MAML (second order), inner SGD lr 0.01, 1 inner step, Adam meta lr 0.001 (the paper's setup);
//   - first-order MAML, same settings;
//   - Reptile (Nichol et al. 2018), 10 inner SGD steps of lr 0.01 on the support set, the averaged
//     (θ − W) fed to Adam with lr 0.001;
//   - a pretrained baseline: the same network fitted with Adam (lr 0.001) to all points of the same tasks;
//   - the random initialization itself.
// Every initialization is then adapted on 600 held-out tasks with plain SGD (lr 0.01, K = 10) and scored
// on 100 query points per task after 0, 1 and 10 steps: mean MSE and a 95% confidence half-width.
//
//     swift run -c release SinusoidMAML [--iterations N] [--seed S] [--eval-tasks T]
import ArgumentParser
import Autodiff
import Foundation
import Linalg
import MetaLearn
import NN

func mse(_ model: MLP<Double>, _ data: TaskData<Double>) throws -> Tensor<Double> {
    try meanSquaredErrorLoss(model(data.inputs), data.targets)
}

func format(_ p: AdaptationCurve.Point?) -> String {
    guard let p else { return "–" }
    return String(format: "%.3f ± %.3f", p.meanLoss, p.confidenceHalfWidth)
}

/// Progress goes to standard error (unbuffered), results to standard output.
func progress(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

@main
struct SinusoidMAML: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "MAML, first-order MAML, Reptile and a pretrained baseline on the sinusoid regression tasks of Finn et al. (2017).")

    @Option(help: "Meta-training iterations.")
    var iterations = 2000
    @Option(help: "Seed of the network, the task draws and the held-out tasks.")
    var seed: UInt64 = 2017
    @Option(name: .customLong("eval-tasks"), help: "Held-out tasks for the evaluation.")
    var evaluationTasks = 600
    @Option(name: .customLong("meta-batch"), help: "Tasks per meta-batch.")
    var metaBatch = 25

    func validate() throws {
        for (name, value) in [("--iterations", iterations), ("--eval-tasks", evaluationTasks), ("--meta-batch", metaBatch)]
            where value < 1 {
            throw ValidationError("\(name) needs a positive integer, not \(value)")
        }
    }

    func run() throws {
    let options = self
    var generator = Xoshiro256StarStar(seed: options.seed)
    let family = try SinusoidTasks<Double>(supportSize: 10, querySize: 10)
    let initial = try MLP<Double>(sizes: [1, 40, 40, 1], activation: .relu, using: &generator)

    var maml = try MAML(initial, innerLearningRate: 0.01, innerSteps: 1)
    var fomaml = try MAML(initial, innerLearningRate: 0.01, innerSteps: 1, firstOrder: true)
    var reptile = try Reptile(initial, innerSteps: 10)
    var pretrained = JointTraining(initial)
    var mamlAdam = try Adam<Double>(learningRate: 1e-3), fomamlAdam = try Adam<Double>(learningRate: 1e-3)
    var reptileAdam = try Adam<Double>(learningRate: 1e-3), pretrainAdam = try Adam<Double>(learningRate: 1e-3)
    let innerSGD = try SGD<Double>(learningRate: 0.01)

    var seconds: [String: Double] = [:]
    func timed(_ name: String, _ body: () throws -> Void) rethrows {
        let start = Date()
        try body()
        seconds[name, default: 0] += Date().timeIntervalSince(start)
    }
    print("Meta-training \(options.iterations) iterations, meta-batch \(options.metaBatch), seed \(options.seed)")
    for iteration in 1...options.iterations {
        let batch = try family.metaBatch(size: options.metaBatch, using: &generator)
        var report: MetaStepReport? = nil
        try timed("MAML") { report = try maml.metaStep(on: batch, optimizer: &mamlAdam, loss: mse) }
        try timed("FOMAML") { try fomaml.metaStep(on: batch, optimizer: &fomamlAdam, loss: mse) }
        try timed("Reptile") {
            try reptile.metaStep(on: batch, innerOptimizer: innerSGD, metaOptimizer: &reptileAdam, loss: mse)
        }
        try timed("pretrained") { try pretrained.step(on: batch, optimizer: &pretrainAdam, loss: mse) }
        if iteration % max(1, options.iterations / 10) == 0, let report {
            progress(String(format: "  iteration %5d  MAML post-adaptation query MSE %.3f", iteration,
                         report.queryLossAfterAdaptation))
        }
    }

    // Held-out tasks from a separate stream; 100 query points each for a precise score.
    var evaluationGenerator = Xoshiro256StarStar(seed: options.seed &+ 1_000_003)
    let evaluationFamily = try SinusoidTasks<Double>(supportSize: 10, querySize: 100)
    let heldOut = try evaluationFamily.metaBatch(size: options.evaluationTasks, using: &evaluationGenerator)
    let steps = [0, 1, 10]
    let rows: [(String, MLP<Double>)] = [
        ("MAML (second order)", maml.model), ("first-order MAML", fomaml.model), ("Reptile", reptile.model),
        ("pretrained (joint training)", pretrained.model), ("random initialization", initial),
    ]
    print("\nQuery MSE on \(options.evaluationTasks) held-out tasks after k SGD steps (lr 0.01, K = 10), mean ± 95% CI")
    print("| initialization | k = 0 | k = 1 | k = 10 |")
    print("|---|---|---|---|")
    for (name, model) in rows {
        let curve = try AdaptationEvaluation.evaluate(model, on: heldOut, learningRate: 0.01, steps: steps, loss: mse)
        print("| \(name) | \(steps.map { format(curve.point(steps: $0)) }.joined(separator: " | ")) |")
    }
    print("\nTraining time (s): " + ["MAML", "FOMAML", "Reptile", "pretrained"]
        .map { "\($0) " + String(format: "%.1f", seconds[$0] ?? 0) }.joined(separator: ", "))
    }
}
