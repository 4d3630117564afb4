import Autodiff
import Linalg
import Testing
@testable import NN

/// The fused LSTM direction operation against its step-by-step reference in `Tensor` operations.
@Suite struct FusedRecurrentTests {
    func arguments<Scalar: TensorScalar>(_ type: Scalar.Type, batchFirst: Bool, reverse: Bool, bias: Bool,
                                         states: Bool, seed: UInt64) -> LSTMDirectionArguments<Scalar> {
        var g = Xoshiro256StarStar(seed: seed)
        let (b, t, f, h) = (3, 5, 2, 4)
        func make(_ shape: [Int]) -> Tensor<Scalar> { Tensor<Scalar>.normal(TensorShape(shape), standardDeviation: 0.7, using: &g) }
        return LSTMDirectionArguments(
            input: make(batchFirst ? [b, t, f] : [t, b, f]), weightIH: make([4 * h, f]), weightHH: make([4 * h, h]),
            biasIH: bias ? make([4 * h]) : nil, biasHH: bias ? make([4 * h]) : nil,
            hidden: states ? make([1, b, h]) : nil, cell: states ? make([1, b, h]) : nil,
            reverse: reverse, batchFirst: batchFirst)
    }

    /// Outputs and first-order gradients of every input for a random cotangent of each output agree with
    /// the reference: 1e-12 (Double) and 2e-5 (Float) absolute, for every layout, direction, bias and state
    /// option.
    @Test(arguments: [false, true], [false, true])
    func fusedMatchesReference(batchFirst: Bool, reverse: Bool) {
        let layout = (batchFirst: batchFirst, reverse: reverse)
        for (bias, states) in [(true, true), (false, false)] {
            compare(Double.self, layout, bias: bias, states: states, tolerance: 1e-12)
            compare(Float.self, layout, bias: bias, states: states, tolerance: 2e-5)
        }
    }

    func compare<Scalar: TensorScalar>(_ type: Scalar.Type, _ layout: (batchFirst: Bool, reverse: Bool),
                                       bias: Bool, states: Bool, tolerance: Double) {
        let a = arguments(Scalar.self, batchFirst: layout.batchFirst, reverse: layout.reverse, bias: bias,
                          states: states, seed: 99)
        let variables = a.tensors.map { $0.requiringGradient() }
        let inputs = a.replacing(variables)
        let fused = lstmDirection(inputs), reference = lstmDirectionReference(inputs)
        var g = Xoshiro256StarStar(seed: 5)
        let seeds = fused.map { Tensor<Scalar>.normal($0.shape, using: &g) }
        func loss(_ outputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
            zip(outputs, seeds).map { ($0 * $1).sum() }.reduce(Tensor<Scalar>(0), +)
        }
        let wanted = variables
        let fusedGradients = gradient(of: loss(fused), wrt: wanted)
        let referenceGradients = gradient(of: loss(reference), wrt: wanted)
        for (x, y) in zip(fused, reference) {
            #expect(x.shape == y.shape)
            #expect(maxDifference(x, y) <= tolerance, "outputs \(layout) bias \(bias) states \(states)")
        }
        for (k, (x, y)) in zip(fusedGradients, referenceGradients).enumerated() {
            #expect(maxDifference(x, y) <= tolerance, "gradient \(k) \(layout) bias \(bias) states \(states)")
        }
    }

    /// The first backward pass reuses the saved gate activations as its gradient buffer; a second pass
    /// over a retained graph (which finds them taken and differentiates the reference) gives the same
    /// gradients within 1e-12 (Double), for both layouts and directions.
    @Test(arguments: [false, true], [false, true])
    func retainedGraphSecondBackward(batchFirst: Bool, reverse: Bool) {
        let a = arguments(Double.self, batchFirst: batchFirst, reverse: reverse, bias: true, states: true, seed: 17)
        let variables = a.tensors.map { $0.requiringGradient() }
        let outputs = lstmDirection(a.replacing(variables))
        let loss = outputs[0].squared().sum() + (outputs[1] * outputs[2]).sum()
        let first = gradient(of: loss, wrt: variables, retainGraph: true)
        let second = gradient(of: loss, wrt: variables)
        for (k, (x, y)) in zip(first, second).enumerated() {
            #expect(maxDifference(x, y) <= 1e-12, "gradient \(k) batchFirst \(batchFirst) reverse \(reverse)")
            #expect(x.scalars.contains { $0 != 0 }, "gradient \(k) is zero")
        }
    }

    /// The fused operation records one node per direction (plus one part node per output), not one per
    /// gate operation and timestep.
    @Test func oneNodePerDirection() {
        let a = arguments(Double.self, batchFirst: true, reverse: false, bias: true, states: false, seed: 3)
        let tracker = NodeTracker()
        let outputs = tracker.track { lstmDirection(a.replacing(a.tensors.map { $0.requiringGradient() })) }
        #expect(outputs.allSatisfy { $0.requiresGradient })
        #expect(tracker.createdNodes == 7 + 4) // 7 leaves (5 inputs, 2 biases), the operation, 3 parts
    }
}
