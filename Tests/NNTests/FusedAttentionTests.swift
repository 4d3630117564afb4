import Autodiff
import Linalg
import Testing
@testable import NN

/// The fused multi-head attention operation against its reference in `Tensor` operations.
@Suite struct FusedAttentionTests {
    /// The masks a case combines (each as `MultiheadAttention` takes it).
    enum Masks: CaseIterable {
        case none, keyPadding, additive, additivePerHead, causal, all
    }

    /// Sizes of the test cases: batch 2, target length 3, source length 4 (cross-attention), E = 6, 3 heads.
    static let (batch, targetLength, sourceLength, width, heads) = (2, 3, 4, 6, 3)

    /// A layer with random parameters (biases included unless `bias` is false).
    func layer<Scalar: TensorScalar>(_: Scalar.Type, bias: Bool, batchFirst: Bool, seed: UInt64) -> MultiheadAttention<Scalar> {
        var g = Xoshiro256StarStar(seed: seed)
        var m = try! MultiheadAttention<Scalar>(embedDimension: Self.width, headCount: Self.heads, bias: bias,
                                                batchFirst: batchFirst, using: &g)
        if bias {
            m.inProjectionBias = Tensor.normal([3 * Self.width], standardDeviation: 0.5, using: &g)
            m.outProjection.bias = Tensor.normal([Self.width], standardDeviation: 0.5, using: &g)
        }
        return m
    }

    /// The operation's arguments for `masks`: self-attention (`cross == false`, source length = target
    /// length) or cross-attention with distinct key and value of another length.
    func arguments<Scalar: TensorScalar>(_ m: MultiheadAttention<Scalar>, cross: Bool, masks: Masks,
                                         seed: UInt64) -> AttentionArguments<Scalar> {
        var g = Xoshiro256StarStar(seed: seed)
        let (b, l, e, h) = (Self.batch, Self.targetLength, Self.width, Self.heads)
        let s = cross ? Self.sourceLength : l
        func sequence(_ length: Int) -> Tensor<Scalar> {
            Tensor.normal(TensorShape(m.batchFirst ? [b, length, e] : [length, b, e]), using: &g)
        }
        let query = sequence(l)
        let (key, value) = cross ? (sequence(s), sequence(s)) : (nil, nil)
        // Padding: the last key of batch 0 and the second of batch 1 (with the causal mask too, every query
        // row keeps key 0).
        let padding = (0..<b).map { batch in (0..<s).map { j in j == (batch == 0 ? s - 1 : 1) } }
        let additive: Tensor<Scalar>? = switch masks {
        case .additive, .all: Tensor.normal([l, s], using: &g)
        case .additivePerHead: Tensor.normal([b * h, l, s], using: &g)
        default: nil
        }
        return m.arguments(query, key: key, value: value,
                           keyPaddingMask: masks == .keyPadding || masks == .all ? padding : nil,
                           attentionMask: additive, causal: masks == .causal || masks == .all)
    }

    /// Outputs, weights and the gradients of every input for random cotangents of both outputs agree
    /// with the reference: 1e-12 (Double) and 1e-5 (Float) absolute, for self- and cross-attention
    /// (L ≠ S), both layouts, with and without biases, and every mask.
    @Test(arguments: [false, true], [false, true])
    func fusedMatchesReference(batchFirst: Bool, cross: Bool) {
        for masks in Masks.allCases {
            for bias in [true, false] {
                let label = "batchFirst \(batchFirst) cross \(cross) masks \(masks) bias \(bias)"
                compare(Double.self, batchFirst: batchFirst, cross: cross, masks: masks, bias: bias, tolerance: 1e-12, label)
                compare(Float.self, batchFirst: batchFirst, cross: cross, masks: masks, bias: bias, tolerance: 1e-5, label)
            }
        }
    }

    func compare<Scalar: TensorScalar>(_: Scalar.Type, batchFirst: Bool, cross: Bool, masks: Masks, bias: Bool,
                                       tolerance: Double, _ label: String) {
        let m = layer(Scalar.self, bias: bias, batchFirst: batchFirst, seed: 11)
        let a = arguments(m, cross: cross, masks: masks, seed: 12)
        let variables = a.tensors.map { $0.requiringGradient() }
        let inputs = a.replacing(variables)
        let fused = multiheadAttention(inputs), reference = multiheadAttentionReference(inputs)
        var g = Xoshiro256StarStar(seed: 13)
        let seeds = fused.map { Tensor<Scalar>.normal($0.shape, using: &g) }
        func loss(_ outputs: [Tensor<Scalar>]) -> Tensor<Scalar> {
            zip(outputs, seeds).map { ($0 * $1).sum() }.reduce(Tensor<Scalar>(0), +)
        }
        let fusedGradients = gradient(of: loss(fused), wrt: variables)
        let referenceGradients = gradient(of: loss(reference), wrt: variables)
        for (k, (x, y)) in zip(fused, reference).enumerated() {
            #expect(x.shape == y.shape, "output \(k) \(label)")
            #expect(!x.scalars.contains { $0.isNaN }, "output \(k) \(label) has NaN")
            #expect(maxDifference(x, y) <= tolerance, "output \(k) \(label)")
        }
        #expect(fusedGradients.count == a.tensors.count)
        for (k, (x, y)) in zip(fusedGradients, referenceGradients).enumerated() {
            #expect(x.shape == a.tensors[k].shape, "gradient \(k) \(label)")
            #expect(maxDifference(x, y) <= tolerance, "gradient \(k) \(label)")
            #expect(x.scalars.contains { $0 != 0 }, "gradient \(k) is zero, \(label)")
        }
    }

    /// Only the weights (not the output) receive a cotangent: the fused backward adds the head average's
    /// gradient into every head's probabilities. Agreement with the reference within 1e-12 (Double).
    @Test func weightsOnlyCotangent() {
        let m = layer(Double.self, bias: true, batchFirst: true, seed: 21)
        let a = arguments(m, cross: true, masks: .all, seed: 22)
        let variables = a.tensors.map { $0.requiringGradient() }
        var g = Xoshiro256StarStar(seed: 23)
        let seed = Tensor<Double>.normal([Self.batch, Self.targetLength, Self.sourceLength], using: &g)
        let fused = gradient(of: (multiheadAttention(a.replacing(variables))[1] * seed).sum(), wrt: variables)
        let reference = gradient(of: (multiheadAttentionReference(a.replacing(variables))[1] * seed).sum(), wrt: variables)
        for (k, (x, y)) in zip(fused, reference).enumerated() {
            #expect(maxDifference(x, y) <= 1e-12, "gradient \(k)")
        }
    }

    /// A query row whose keys are all padding gets NaN output and weights, as in PyTorch and the
    /// reference; the other batch's rows agree with the reference within 1e-12 (Double).
    @Test func fullyMaskedRowIsNaN() {
        let m = layer(Double.self, bias: true, batchFirst: true, seed: 31)
        var g = Xoshiro256StarStar(seed: 32)
        let x = Tensor<Double>.normal([Self.batch, Self.targetLength, Self.width], using: &g)
        let padding = [[Bool](repeating: true, count: Self.targetLength), [Bool](repeating: false, count: Self.targetLength)]
        let a = m.arguments(x, key: nil, value: nil, keyPaddingMask: padding, attentionMask: nil, causal: false)
        let fused = multiheadAttention(a), reference = multiheadAttentionReference(a)
        for (k, (y, r)) in zip(fused, reference).enumerated() {
            let half = y.scalarCount / 2
            let batch0 = y.scalars[..<half]
            #expect(batch0.allSatisfy { $0.isNaN }, "output \(k): batch 0 is not NaN")
            let difference = zip(y.scalars[half...], r.scalars[half...]).map { Swift.abs($0 - $1) }.max()!
            #expect(difference <= 1e-12, "output \(k): batch 1")
        }
    }

    /// The public self-attention call (one `3E`-wide projection) and the query/key/value call with the
    /// same tensor three times (three projections) agree within 1e-12 (Double): outputs, weights and
    /// the gradient of the input (summed over its three uses) and of every parameter.
    @Test(arguments: [false, true])
    func selfAttentionMatchesThreeInputs(batchFirst: Bool) throws {
        let m = layer(Double.self, bias: true, batchFirst: batchFirst, seed: 41)
        var g = Xoshiro256StarStar(seed: 42)
        let x = Tensor<Double>.normal(TensorShape(batchFirst ? [2, 5, 6] : [5, 2, 6]), using: &g).requiringGradient()
        let parameters = m.parameters().map { $0.requiringGradient() }
        let layer = try m.replacingParameters(parameters)
        let one = layer(x, causal: true), three = layer(query: x, key: x, value: x, causal: true)
        let cotangent = Tensor<Double>.normal(one.output.shape, using: &g)
        let gradientsOne = gradient(of: (one.output * cotangent).sum() + one.weights.squared().sum(), wrt: [x] + parameters)
        let gradientsThree = gradient(of: (three.output * cotangent).sum() + three.weights.squared().sum(), wrt: [x] + parameters)
        #expect(maxDifference(one.output, three.output) <= 1e-12)
        #expect(maxDifference(one.weights, three.weights) <= 1e-12)
        for (k, (p, q)) in zip(gradientsOne, gradientsThree).enumerated() {
            #expect(maxDifference(p, q) <= 1e-12, "gradient \(k)")
        }
    }

    /// Both outputs (output and weights, concatenated) of a small `[f(x)]`.
    func flattened(_ outputs: [Tensor<Double>]) -> Tensor<Double> {
        Tensor.concatenate(outputs.map { $0.reshaped([-1]) }, alongAxis: 0)
    }

    /// Central differences (ε = 1e-6) against the fused backward pass: pass rule 1e-6 absolute + 1e-5
    /// relative, for cross-attention with every mask and for self-attention, time-major.
    @Test func finiteDifferenceFirstOrder() {
        for (cross, batchFirst) in [(true, true), (false, false)] {
            let m = layer(Double.self, bias: true, batchFirst: batchFirst, seed: 51)
            let a = arguments(m, cross: cross, masks: cross ? .all : .causal, seed: 52)
            let report = GradientCheck.firstOrder(at: a.tensors) { xs in self.flattened(multiheadAttention(a.replacing(xs))) }
            #expect(report.passed, "cross \(cross): \(report)")
        }
    }

    /// Second derivatives (Hessian–vector products) through the fused operation, whose recorded backward
    /// pass differentiates the reference: central differences with ε = 1e-6, pass rule 1e-6 absolute +
    /// 1e-5 relative.
    @Test func finiteDifferenceSecondOrder() {
        let m = layer(Double.self, bias: true, batchFirst: true, seed: 61)
        let a = arguments(m, cross: true, masks: .keyPadding, seed: 62)
        let report = GradientCheck.secondOrder(at: a.tensors) { xs in self.flattened(multiheadAttention(a.replacing(xs))) }
        #expect(report.passed, "\(report)")
    }

    /// A second backward pass over a retained graph gives the first pass's gradients (within 1e-12,
    /// Double): the saved projections and probabilities are not overwritten by the first.
    @Test(arguments: [false, true])
    func retainedGraphSecondBackward(cross: Bool) {
        let m = layer(Double.self, bias: true, batchFirst: true, seed: 71)
        let a = arguments(m, cross: cross, masks: .causal, seed: 72)
        let variables = a.tensors.map { $0.requiringGradient() }
        let outputs = multiheadAttention(a.replacing(variables))
        let loss = outputs[0].squared().sum() + (outputs[1] * outputs[1]).sum()
        let first = gradient(of: loss, wrt: variables, retainGraph: true)
        let second = gradient(of: loss, wrt: variables)
        for (k, (x, y)) in zip(first, second).enumerated() {
            #expect(maxDifference(x, y) <= 1e-12, "gradient \(k)")
            #expect(x.scalars.contains { $0 != 0 }, "gradient \(k) is zero")
        }
    }

    /// The fused operation records one node (plus one part node per output), not one per tensor operation.
    @Test func oneNodePerCall() {
        let m = layer(Double.self, bias: true, batchFirst: true, seed: 81)
        let a = arguments(m, cross: false, masks: .none, seed: 82)
        let tracker = NodeTracker()
        let outputs = tracker.track { multiheadAttention(a.replacing(a.tensors.map { $0.requiringGradient() })) }
        #expect(outputs.allSatisfy { $0.requiresGradient })
        #expect(tracker.createdNodes == 5 + 3) // 5 leaves (input, 2 weights, 2 biases), the operation, 2 parts
    }
}
