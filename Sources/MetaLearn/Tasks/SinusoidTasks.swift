import Autodiff
import Foundation
import Linalg

/// The sinusoid regression tasks of Finn, Abbeel & Levine, "Model-agnostic meta-learning for fast
/// adaptation of deep networks", ICML 2017, §5.1: `y = A·sin(x − φ)`.
///
/// Each task draws an amplitude `A ~ U[0.1, 5]` and a phase `φ ~ U[0, π]`; its support and query
/// inputs are drawn independently from `x ~ U[−5, 5]`. Inputs and targets are `[K, 1]` and `[Q, 1]`.
public struct SinusoidTasks<Scalar: TensorScalar>: TaskSampler {
    /// The range of `A` (paper: `0.1...5`).
    public let amplitudeRange: ClosedRange<Double>
    /// The range of `φ` (paper: `0...π`).
    public let phaseRange: ClosedRange<Double>
    /// The range of `x` (paper: `−5...5`).
    public let inputRange: ClosedRange<Double>
    /// `K`, support examples per task (paper: 5 or 10).
    public let supportSize: Int
    /// Query examples per task (paper: `K` in training).
    public let querySize: Int

    /// The task family with the paper's ranges by default.
    /// - Throws: ``MetaLearnError/invalidWindow(name:value:requirement:)`` for sizes below 1 and
    ///   ``MetaLearnError/invalidHyperparameter(owner:name:value:requirement:)`` for a non-finite range.
    public init(supportSize: Int = 10, querySize: Int = 10, amplitudeRange: ClosedRange<Double> = 0.1...5,
                phaseRange: ClosedRange<Double> = 0...Double.pi, inputRange: ClosedRange<Double> = -5...5) throws {
        guard supportSize >= 1 else {
            throw MetaLearnError.invalidWindow(name: "supportSize", value: supportSize, requirement: "must be ≥ 1")
        }
        guard querySize >= 1 else {
            throw MetaLearnError.invalidWindow(name: "querySize", value: querySize, requirement: "must be ≥ 1")
        }
        for (name, range) in [("amplitudeRange", amplitudeRange), ("phaseRange", phaseRange), ("inputRange", inputRange)] {
            try require(range.lowerBound.isFinite && range.upperBound.isFinite, "SinusoidTasks", name,
                        range.upperBound - range.lowerBound, "bounds must be finite")
        }
        self.supportSize = supportSize
        self.querySize = querySize
        self.amplitudeRange = amplitudeRange
        self.phaseRange = phaseRange
        self.inputRange = inputRange
    }

    /// One task: draws `A`, then `φ`, then the `K` support inputs, then the query inputs.
    public func sampleTask(using generator: inout Xoshiro256StarStar) -> MetaTask<Scalar> {
        let amplitude = draw(amplitudeRange, &generator), phase = draw(phaseRange, &generator)
        func examples(_ count: Int) -> TaskData<Scalar> {
            let x = (0..<count).map { _ in draw(inputRange, &generator) }
            return TaskData(unchecked: Tensor(x.map { Scalar($0) }).reshaped([count, 1]),
                            targets: Tensor(x.map { Scalar(amplitude * sin($0 - phase)) }).reshaped([count, 1]))
        }
        let support = examples(supportSize)
        let query = examples(querySize)
        return MetaTask(support: support, query: query, name: "A=\(amplitude) φ=\(phase)")
    }

    private func draw(_ range: ClosedRange<Double>, _ generator: inout Xoshiro256StarStar) -> Double {
        range.lowerBound + (range.upperBound - range.lowerBound) * generator.nextUniform()
    }
}
