import Autodiff
import Linalg
import Testing
@testable import NN

/// The fused LSTM and GRU direction operations against their step-by-step references in `Tensor` operations.
@Suite struct FusedRecurrentTests {
    func arguments<Scalar: TensorScalar>(_ type: Scalar.Type, batchFirst: Bool, reverse: Bool, bias: Bool,
                                         states: Bool, seed: UInt64, gru: Bool = false) -> RecurrentDirectionArguments<Scalar> {
        var g = Xoshiro256StarStar(seed: seed)
        let (b, t, f, h) = (3, 5, 2, 4)
        let gates = gru ? 3 : 4
        func make(_ shape: [Int]) -> Tensor<Scalar> { Tensor<Scalar>.normal(TensorShape(shape), standardDeviation: 0.7, using: &g) }
        return RecurrentDirectionArguments(
            input: make(batchFirst ? [b, t, f] : [t, b, f]), weightIH: make([gates * h, f]), weightHH: make([gates * h, h]),
            biasIH: bias ? make([gates * h]) : nil, biasHH: bias ? make([gates * h]) : nil,
            hidden: states ? make([1, b, h]) : nil, cell: states && !gru ? make([1, b, h]) : nil, hasCell: !gru,
            reverse: reverse, batchFirst: batchFirst)
    }

    /// Outputs and first-order gradients of every input for a random cotangent of each output agree with
    /// the reference: 1e-12 (Double) and 2e-5 (Float) absolute, for every layout, direction, bias and state
    /// option, LSTM and GRU.
    @Test(arguments: [false, true], [false, true])
    func fusedMatchesReference(batchFirst: Bool, reverse: Bool) {
        let layout = (batchFirst: batchFirst, reverse: reverse)
        for gru in [false, true] {
            for (bias, states) in [(true, true), (false, false)] {
                compare(Double.self, layout, bias: bias, states: states, gru: gru, tolerance: 1e-12)
                compare(Float.self, layout, bias: bias, states: states, gru: gru, tolerance: 2e-5)
            }
        }
    }

    func compare<Scalar: TensorScalar>(_ type: Scalar.Type, _ layout: (batchFirst: Bool, reverse: Bool),
                                       bias: Bool, states: Bool, gru: Bool, tolerance: Double) {
        let a = arguments(Scalar.self, batchFirst: layout.batchFirst, reverse: layout.reverse, bias: bias,
                          states: states, seed: 99, gru: gru)
        let variables = a.tensors.map { $0.requiringGradient() }
        let inputs = a.replacing(variables)
        let fused = gru ? gruDirection(inputs) : lstmDirection(inputs)
        let reference = gru ? gruDirectionReference(inputs) : lstmDirectionReference(inputs)
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
            #expect(maxDifference(x, y) <= tolerance, "outputs \(layout) bias \(bias) states \(states) gru \(gru)")
        }
        for (k, (x, y)) in zip(fusedGradients, referenceGradients).enumerated() {
            #expect(maxDifference(x, y) <= tolerance, "gradient \(k) \(layout) bias \(bias) states \(states) gru \(gru)")
        }
    }

    /// The first backward pass reuses the saved gate activations as its gradient buffer; a second pass
    /// over a retained graph (which finds them taken and differentiates the reference) gives the same
    /// gradients within 1e-12 (Double), for both layouts and directions, LSTM and GRU.
    @Test(arguments: [false, true], [false, true])
    func retainedGraphSecondBackward(batchFirst: Bool, reverse: Bool) {
        for gru in [false, true] {
            let a = arguments(Double.self, batchFirst: batchFirst, reverse: reverse, bias: true, states: true, seed: 17, gru: gru)
            let variables = a.tensors.map { $0.requiringGradient() }
            let outputs = gru ? gruDirection(a.replacing(variables)) : lstmDirection(a.replacing(variables))
            let loss = outputs[0].squared().sum() + (outputs[1] * outputs.last!).sum()
            let first = gradient(of: loss, wrt: variables, retainGraph: true)
            let second = gradient(of: loss, wrt: variables)
            for (k, (x, y)) in zip(first, second).enumerated() {
                #expect(maxDifference(x, y) <= 1e-12, "gradient \(k) batchFirst \(batchFirst) reverse \(reverse) gru \(gru)")
                #expect(x.scalars.contains { $0 != 0 }, "gradient \(k) is zero, gru \(gru)")
            }
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

    /// The fused GRU records one node per direction plus one part node per output.
    @Test func gruOneNodePerDirection() {
        let a = arguments(Double.self, batchFirst: false, reverse: true, bias: true, states: false, seed: 3, gru: true)
        let tracker = NodeTracker()
        let outputs = tracker.track { gruDirection(a.replacing(a.tensors.map { $0.requiringGradient() })) }
        #expect(outputs.allSatisfy { $0.requiresGradient })
        #expect(tracker.createdNodes == 6 + 3) // 6 leaves (4 inputs, 2 biases), the operation, 2 parts
    }

    /// The fused GRU's first-order backward (and, through the reference, its second order) against
    /// central differences (ε = 1e-6), |Δ| ≤ 1e-6 + 1e-5·|numeric|, with and without biases.
    @Test(arguments: [false, true])
    func gruFiniteDifferences(bias: Bool) {
        let a = arguments(Double.self, batchFirst: true, reverse: bias, bias: bias, states: true, seed: 23, gru: true)
        func f(_ v: [Tensor<Double>]) -> Tensor<Double> {
            let outputs = gruDirection(a.replacing(v))
            return Tensor.concatenate([outputs[0].reshaped([-1]), outputs[1].reshaped([-1])], alongAxis: 0)
        }
        let first = GradientCheck.firstOrder(at: a.tensors, f)
        #expect(first.passed, "\(first)")
        let second = GradientCheck.secondOrder(at: a.tensors, f)
        #expect(second.passed, "\(second)")
    }
}
