import Foundation
import Testing
@testable import Autodiff

/// `x³` as a custom operation: a raw forward loop and either a VJP in Tensor operations
/// (`3x²·g`, used at every order) or, with `reference`, a fast first-order kernel plus
/// ``vectorJacobianProducts(of:at:cotangents:)`` of `x·x·x` under a recorded backward pass.
func customCube(_ x: Tensor<Double>, reference: Bool) -> Tensor<Double> {
    let cube = Tensor(x.scalars.map { $0 * $0 * $0 }).reshaped(to: x.shape)
    return Tensor.customOperation(inputs: [x], outputs: [cube]) { cotangents, inputs in
        let x = inputs[0]
        guard reference else { return [cotangents[0] * 3 * x * x] }
        if isRecordingGradients {
            return vectorJacobianProducts(of: { [$0[0] * $0[0] * $0[0]] }, at: inputs, cotangents: cotangents)
        }
        let g = zip(cotangents[0].scalars, x.scalars).map { $0 * 3 * $1 * $1 }
        return [Tensor(g).reshaped(to: x.shape)]
    }[0]
}

/// Two outputs of one custom operation, `(a·b, tanh(a + b))` with `b` broadcast over `a`'s rows,
/// differentiated through the reference implementation at every order.
func customProductAndTanh(_ a: Tensor<Double>, _ b: Tensor<Double>) -> (Tensor<Double>, Tensor<Double>) {
    let reference: @Sendable ([Tensor<Double>]) -> [Tensor<Double>] = { xs in [xs[0] * xs[1], (xs[0] + xs[1]).tanh()] }
    let values = withoutGradients { reference([a, b]) }
    let outputs = Tensor.customOperation(inputs: [a, b], outputs: values) { cotangents, inputs in
        vectorJacobianProducts(of: reference, at: inputs, cotangents: cotangents)
    }
    return (outputs[0], outputs[1])
}

@Suite("Custom operations and part gradients")
struct CustomOperationTests {
    @Test func outputsCarryTheForwardValuesAndOneNode() {
        let a = randomTensor([2, 3], seed: 1).requiringGradient(), b = randomTensor([3], seed: 2)
        let tracker = NodeTracker()
        let (p, q) = tracker.track { customProductAndTanh(a, b) }
        #expect(p.scalars == (a * b).scalars)
        #expect(q.scalars == (a + b).tanh().scalars)
        #expect(p.requiresGradient && q.requiresGradient)
        #expect(tracker.createdNodes == 3) // the operation's node and one part node per output
        // Constants in, constants out.
        let (c, _) = customProductAndTanh(a.detached(), b)
        #expect(!c.requiresGradient)
    }

    @Test func unusedOutputGetsZeroCotangent() {
        // Only the second output reaches the loss: d/da Σ tanh(a + b) = 1 − tanh².
        let a = randomTensor([2, 3], seed: 3).requiringGradient(), b = randomTensor([3], seed: 4)
        let (_, q) = customProductAndTanh(a, b)
        let g = gradient(of: q.sum(), wrt: a)
        let t = (a + b).tanh().scalars
        #expect(isClose(g.scalars, t.map { 1 - $0 * $0 }, atol: 1e-15))
    }

    @Test func vectorJacobianProductsStopAtTheirInputs() {
        // b = 2a is an input besides a: the products are partial derivatives (∂(a·b)/∂a = b), not the
        // total derivative through b (which would be 4a).
        let a = randomTensor([4], seed: 5).requiringGradient()
        let b = a * 2
        let products = vectorJacobianProducts(of: { [$0[0] * $0[1]] }, at: [a, b], cotangents: [Tensor.ones([4])])
        #expect(products[0]!.scalars == b.scalars)
        #expect(products[1]!.scalars == a.scalars)
        #expect(products[0]!.requiresGradient) // recording on: differentiable, d/da Σ b = 2
        #expect(gradient(of: products[0]!.sum(), wrt: a).scalars == [2, 2, 2, 2])
        let constants = withoutGradients {
            vectorJacobianProducts(of: { [$0[0] * $0[1]] }, at: [a, b], cotangents: [Tensor.ones([4])])
        }
        #expect(constants[0]!.scalars == b.scalars && !constants[0]!.requiresGradient)
        // A constant input gets nil.
        #expect(vectorJacobianProducts(of: { [$0[0] * $0[1]] }, at: [a, b.detached()], cotangents: [Tensor.ones([4])])[1] == nil)
    }

    @Test func manySlicesOfOneTensorGradientIsExact() {
        // Every timestep of a [2, 50, 3] sequence sliced and weighted: the gradient is the weights.
        let x = randomTensor([2, 50, 3], seed: 6).requiringGradient()
        var loss = Tensor<Double>(0)
        for t in 0..<50 { loss = loss + (x.sliced(alongAxis: 1, from: t, to: t + 1) * Double(t + 1)).sum() }
        let g = gradient(of: loss, wrt: x)
        let expected = (0..<2).flatMap { _ in (0..<50).flatMap { t in [Double](repeating: Double(t + 1), count: 3) } }
        #expect(g.scalars == expected)
    }

    @Test func hessianVectorProductThroughSlices() {
        // f(x) = Σ (x[:2]·x[1:])³ on a vector: the HVP by the recorded backward pass equals the one
        // from the same function written without slices (indexSelect), to rounding.
        let x = randomTensor([3], seed: 7), v = randomTensor([3], seed: 8)
        let sliced = hessianVectorProduct(at: x, direction: v) { x in
            let p = x.sliced(alongAxis: 0, from: 0, to: 2) * x.sliced(alongAxis: 0, from: 1, to: 3)
            return (p * p * p).sum()
        }
        let selected = hessianVectorProduct(at: x, direction: v) { x in
            let p = x.indexSelected(alongAxis: 0, indices: [0, 1]) * x.indexSelected(alongAxis: 0, indices: [1, 2])
            return (p * p * p).sum()
        }
        #expect(isClose(sliced.scalars, selected.scalars, atol: 1e-12, rtol: 1e-12))
    }
}

/// PyTorch's results for gather with a narrower index and for max-pool ties, written by
/// `Scripts/fixtures/autodiff_conventions.py`.
struct ConventionFixture: Decodable {
    struct Case: Decodable {
        let name: String
        let input_shape: [Int]
        let input: [Double]
        let output: [Double]
        let weights: [Double]
        let gradient: [Double]
    }
    let cases: [Case]

    static func load() throws -> [String: Case] {
        let fixture = try fixtures.load("conventions", as: ConventionFixture.self)
        return Dictionary(uniqueKeysWithValues: fixture.cases.map { ($0.name, $0) })
    }
}

@Suite("PyTorch conventions of gather and max pooling")
struct GatherAndPoolingConventionTests {
    /// The forward value and the gradient of `sum(output · weights)` against torch, exactly (small integers).
    private func check(_ c: ConventionFixture.Case, _ forward: (Tensor<Double>) -> Tensor<Double>) throws {
        let x = try Tensor<Double>(shape: c.input_shape, scalars: c.input).requiringGradient()
        let y = forward(x)
        #expect(y.scalars == c.output, "\(c.name) forward")
        let g = gradient(of: (y * Tensor(c.weights)).sum(), wrt: x)
        #expect(g.scalars == c.gradient, "\(c.name) gradient")
    }

    @Test func gatherWithASmallerIndex() throws {
        let cases = try ConventionFixture.load()
        // PyTorch allows index.size(d) ≤ input.size(d) off the gathered axis.
        let idx = try TensorIndices(shape: [2, 2], values: [3, 0, 1, 1])
        try check(try #require(cases["gather_axis1_narrow_index"])) { $0.gathering(alongAxis: 1, indices: idx) }
        let narrow = try TensorIndices(shape: [1, 3], values: [2, 0, 1])
        try check(try #require(cases["gather_axis0_narrow_index"])) { $0.gathering(alongAxis: 0, indices: narrow) }
        // Second order through the general path (its pullback is the general scatter, and back).
        let report = GradientCheck.secondOrder(at: [randomTensor([3, 4], seed: 9)]) { xs in
            let y = xs[0].gathering(alongAxis: 1, indices: idx)
            return y * y * y
        }
        #expect(report.passed, "\(report)")
    }

    @Test func maxPoolTiesGoToTheFirstMaximum() throws {
        let cases = try ConventionFixture.load()
        try check(try #require(cases["max_pool_ties"])) { $0.maxPool1d(kernelSize: 3) }
        // Overlapping windows that pick the same element accumulate.
        try check(try #require(cases["max_pool_overlapping_ties"])) { $0.maxPool1d(kernelSize: 2, stride: 1) }
    }
}

@Suite struct AllocatorTuningTests {
    /// Out-of-range settings are refused before anything reaches `mallopt` (a successful call would
    /// change the test process's allocator, so it is exercised by the benchmark executable instead,
    /// which stops when `mallopt` refuses).
    @Test func refusesOutOfRangeSettings() {
        #expect(!AllocatorTuning.retainFreedMemory(mmapThreshold: 0))
        #expect(!AllocatorTuning.retainFreedMemory(trimThreshold: -5))
        #expect(!AllocatorTuning.retainFreedMemory(mmapThreshold: 1 << 40))
    }
}
