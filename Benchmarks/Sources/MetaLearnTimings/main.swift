// Times one second-order MAML meta-step on the sinusoid setup of Finn et al. (2017) the way
// `compare/metalearn.py` times learn2learn + PyTorch, and prints one JSON object with the medians.
//
// Usage: MetaLearnTimings [--budget SECONDS] [--min-reps N] [--max-reps N] [--only NAME,NAME...]
//
// Workload (identical inputs on both sides, from SplitMix64 streams): a 1-40-40-1 ReLU MLP with
// weights 0.3·u (stream 21 + layer) and biases 0.1·u (stream 31 + layer); 25 tasks with
// A = 0.1 + 4.9·(u + 1)/2 and φ = π·(u + 1)/2 (stream 41, A then φ per task) and K = 10 support and
// 10 query inputs x = 5u (streams 51 and 52); targets A·sin(x − φ). One meta-step: for each task a
// clone, one inner SGD step (lr 0.01) on the support MSE with the gradient graph kept, the query MSE,
// its gradient w.r.t. the initial parameters; the mean over tasks; one Adam (lr 0.001) update.
// The checksum Σᵢ (1 + i mod 7)·gᵢ of the first meta-gradient (parameters in state-dict order) lets
// the driver check that both sides computed the same thing.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Autodiff
import BenchmarkSupport
import Linalg
import MetaLearn
import NN

struct SinusoidMetaStep<Scalar: TensorScalar> {
    let model: MLP<Scalar>
    let tasks: [MetaTask<Scalar>]

    init() throws {
        var layers: [Linear<Scalar>] = []
        for (k, (fanIn, fanOut)) in [(1, 40), (40, 40), (40, 1)].enumerated() {
            var w = SplitMix64(seed: 21 + UInt64(k)), b = SplitMix64(seed: 31 + UInt64(k))
            let weight = try Tensor(shape: [fanOut, fanIn], scalars: (0..<(fanIn * fanOut)).map { _ in Scalar(0.3 * w.nextSymmetricUnit()) })
            let bias = Tensor((0..<fanOut).map { _ in Scalar(0.1 * b.nextSymmetricUnit()) })
            layers.append(try Linear(weight: weight, bias: bias))
        }
        model = try MLP(layers: layers, activation: .relu)
        var shape = SplitMix64(seed: 41), support = SplitMix64(seed: 51), query = SplitMix64(seed: 52)
        tasks = try (0..<25).map { _ in
            let amplitude = 0.1 + 4.9 * (shape.nextSymmetricUnit() + 1) / 2
            let phase = Double.pi * (shape.nextSymmetricUnit() + 1) / 2
            func examples(_ g: inout SplitMix64) throws -> TaskData<Scalar> {
                let x = (0..<10).map { _ in 5 * g.nextSymmetricUnit() }
                return try TaskData(inputs: Tensor(shape: [10, 1], scalars: x.map { Scalar($0) }),
                                    targets: Tensor(shape: [10, 1], scalars: x.map { Scalar(amplitude * sin($0 - phase)) }))
            }
            return MetaTask(support: try examples(&support), query: try examples(&query))
        }
    }

    static func mse(_ m: MLP<Scalar>, _ d: TaskData<Scalar>) throws -> Tensor<Scalar> {
        try meanSquaredErrorLoss(m(d.inputs), d.targets)
    }

    /// Σᵢ (1 + i mod 7)·gᵢ over the meta-gradient at the initial parameters, in state-dict order.
    func checksum() throws -> Double {
        let maml = try MAML(model, innerLearningRate: 0.01, innerSteps: 1)
        let g = try maml.metaGradients(on: tasks, loss: Self.mse).gradients.parameters
        var total = 0.0, i = 0
        for key in model.namedParameters().map(\.key) {
            for x in g[key]!.scalars {
                total += Double(1 + i % 7) * Double(x)
                i += 1
            }
        }
        return total
    }
}

let options = TimingOptions(arguments: CommandLine.arguments, program: "MetaLearnTimings", maxReps: 2_000, maxWarmUpCalls: 200)
var results: [KernelTiming] = []

@MainActor
func metaStep<Scalar: TensorScalar>(_ type: Scalar.Type, _ name: String) throws {
    guard options.wants(name) else { return }
    let workload = try SinusoidMetaStep<Scalar>()
    let checksum = try workload.checksum()
    var maml = try MAML(workload.model, innerLearningRate: 0.01, innerSteps: 1)
    var adam = try Adam<Scalar>(learningRate: 1e-3)
    results.append(try timeKernel(name, options, {
        try maml.metaStep(on: workload.tasks, optimizer: &adam, loss: SinusoidMetaStep<Scalar>.mse)
    }, checksum: { _ in checksum }))
}

do {
    try metaStep(Float.self, "maml meta-step f32")
    try metaStep(Double.self, "maml meta-step f64")
} catch {
    options.fail("\(error)")
}
print(timingReport(results, openBLASThreads: openBLASThreadCount(), openBLASConfiguration: openBLASConfiguration()))
