import Testing
@testable import Autodiff

/// One primitive under test: input shapes, whether inputs must be positive, and the function.
struct PrimitiveCase: Sendable, CustomTestStringConvertible {
    let name: String
    let shapes: [TensorShape]
    let positive: Bool
    /// `false` for primitives with kinks (relu, abs, max …): their second derivative is checked only
    /// away from kinks, which random inputs are with overwhelming probability (fixed seeds make it certain).
    let smooth: Bool
    let f: @Sendable ([Tensor<Double>]) -> Tensor<Double>

    init(_ name: String, _ shapes: [TensorShape], positive: Bool = false, smooth: Bool = true,
         _ f: @escaping @Sendable ([Tensor<Double>]) -> Tensor<Double>) {
        self.name = name; self.shapes = shapes; self.positive = positive; self.smooth = smooth; self.f = f
    }

    var testDescription: String { name }

    func inputs(seed: UInt64) -> [Tensor<Double>] {
        shapes.enumerated().map { randomTensor($0.element, seed: seed &+ UInt64($0.offset) &* 7919, positive: positive) }
    }
}

/// Every differentiable primitive (and the composites built on them).
let primitiveCases: [PrimitiveCase] = [
    // Arithmetic with broadcasting.
    .init("add broadcast", [[3, 1, 4], [2, 4]]) { $0[0] + $0[1] },
    .init("sub broadcast", [[3, 1, 4], [4]]) { $0[0] - $0[1] },
    .init("mul broadcast", [[2, 3], [3, 1, 1]]) { $0[0] * $0[1] },
    .init("div broadcast", [[2, 3], [2, 1]], positive: true) { $0[0] / $0[1] },
    .init("neg", [[5]]) { -$0[0] },
    .init("scalar ops", [[2, 2]]) { 2 - (3 * $0[0] + 1) / 4 },
    .init("pow tensor", [[2, 3], [3]], positive: true) { $0[0].pow($0[1]) },
    .init("pow scalar", [[4]], positive: true) { $0[0].pow(2.5) },
    .init("abs", [[6]], smooth: false) { $0[0].abs() },
    .init("maximum", [[2, 3], [3]], smooth: false) { Tensor.maximum($0[0], $0[1]) },
    .init("minimum", [[2, 3], [2, 1]], smooth: false) { Tensor.minimum($0[0], $0[1]) },
    .init("where", [[2, 3], [3]]) { Tensor.where($0[0] .> 0, $0[0], $0[1]) },
    // Elementwise functions.
    .init("exp", [[5]]) { $0[0].exp() },
    .init("log", [[5]], positive: true) { $0[0].log() },
    .init("log1p", [[5]], positive: true) { $0[0].log1p() },
    .init("sqrt", [[5]], positive: true) { $0[0].sqrt() },
    .init("tanh", [[5]]) { $0[0].tanh() },
    .init("sigmoid", [[5]]) { ($0[0] * 3).sigmoid() },
    .init("relu", [[6]], smooth: false) { $0[0].relu() },
    .init("leakyRelu", [[6]], smooth: false) { $0[0].leakyRelu(negativeSlope: 0.2) },
    .init("erf", [[5]]) { $0[0].erf() },
    .init("gelu", [[6]]) { $0[0].gelu() },
    .init("softplus", [[6]]) { ($0[0] * 4).softplus() },
    .init("clamp", [[8]], smooth: false) { $0[0].clamped(lowerBound: -0.5, upperBound: 0.7) },
    // Reductions.
    .init("sum axes", [[2, 3, 4]]) { $0[0].sum(alongAxes: [0, 2]) },
    .init("sum keepDims", [[2, 3, 4]]) { $0[0].sum(alongAxis: -1, keepingDimensions: true) },
    .init("sum all", [[3, 4]]) { $0[0].sum() },
    .init("mean", [[3, 4]]) { $0[0].mean(alongAxis: 0) },
    .init("max axis", [[3, 4]], smooth: false) { $0[0].max(alongAxis: 1) },
    .init("min axes", [[2, 3, 2]], smooth: false) { $0[0].min(alongAxes: [0, 2], keepingDimensions: true) },
    .init("variance unbiased", [[3, 5]]) { $0[0].variance(alongAxis: 1) },
    .init("std biased", [[3, 5]]) { $0[0].standardDeviation(alongAxis: 0, unbiased: false) },
    .init("logSumExp", [[3, 4]]) { $0[0].logSumExp(alongAxis: 1) },
    .init("softmax", [[3, 4]]) { $0[0].softmax(alongAxis: 0) },
    .init("logSoftmax", [[2, 3, 4]]) { $0[0].logSoftmax(alongAxis: 1) },
    .init("cumsum", [[3, 4]]) { $0[0].cumulativeSum(alongAxis: 1) },
    .init("cumsum reverse", [[3, 4]]) { $0[0].cumulativeSum(alongAxis: 0, reverse: true) },
    .init("cumprod", [[3, 4]]) { $0[0].cumulativeProduct(alongAxis: 1) },
    .init("cumprod with zero", [[2, 5]]) { x in
        // Multiplying by a constant mask puts exact zeros into the product chain.
        let mask = try! Tensor<Double>(shape: [2, 5], scalars: [1, 1, 0, 1, 1, 0, 1, 1, 1, 1])
        return (x[0] * mask).cumulativeProduct(alongAxis: 1) + x[0].cumulativeProduct(alongAxis: 1)
    },
    // Shape operations.
    .init("reshape", [[2, 6]]) { $0[0].reshaped([3, -1]) * Tensor(shape: [3, 4], repeating: 1.5) },
    .init("permute", [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]) },
    .init("transpose", [[3, 4]]) { $0[0].transposed() },
    .init("expand", [[3, 1]]) { $0[0].expanded(to: [2, 3, 4]) },
    .init("squeeze unsqueeze", [[3, 1, 2]]) { $0[0].squeezed(at: 1).unsqueezed(at: 0) },
    .init("strided slice", [[4, 7]]) { $0[0].sliced(alongAxis: 1, from: 1, to: 7, step: 2) },
    .init("concat", [[2, 3], [2, 1], [2, 2]]) { Tensor.concatenate($0, alongAxis: 1) },
    .init("stack", [[2, 3], [2, 3]]) { Tensor.stack($0, alongAxis: 1) },
    .init("split", [[5, 2]]) { x in
        let parts = x[0].split(sizes: [2, 3], alongAxis: 0)
        return parts[0].sum(alongAxis: 0) * parts[1].sum(alongAxis: 0)
    },
    .init("overlapping slices with a full gradient", [[3, 5, 2]]) { xs in
        // Part gradients of three slices and a full gradient (through the mean) meet in one tensor.
        let x = xs[0]
        return (x.sliced(alongAxis: 1, from: 0, to: 3) * x.sliced(alongAxis: 1, from: 2, to: 5)).exp()
            + x.sliced(alongAxis: 1, from: 1, to: 4) * x.mean(alongAxis: 1, keepingDimensions: true)
    },
    .init("custom operation, Tensor-operation pullback", [[5]]) { customCube($0[0], reference: false) },
    .init("custom operation, reference pullback", [[5]]) { customCube($0[0], reference: true) },
    .init("custom operation, two outputs", [[2, 3], [3]]) { xs in
        let (p, q) = customProductAndTanh(xs[0], xs[1])
        return p * q + p
    },
    .init("pad", [[2, 3]]) { $0[0].padded([(1, 0), (2, 1)], value: 0.5) },
    .init("indexSelect", [[4, 3]]) { $0[0].indexSelected(alongAxis: 0, indices: [3, 1, 1, 0]) },
    .init("gather", [[4, 2]]) { $0[0].transposed().gathering(alongAxis: 1, indices: gatherIndexForShape) },
    // Linear algebra.
    .init("matmul", [[3, 4], [4, 2]]) { $0[0].matmul($0[1]) },
    .init("matmul transposed", [[4, 3], [2, 4]]) { $0[0].matmul($0[1], transposingSelf: true, transposingOther: true) },
    .init("matmul Bᵀ", [[3, 4], [2, 4]]) { $0[0].matmul($0[1], transposingOther: true) },
    .init("matmul Aᵀ", [[4, 3], [4, 2]]) { $0[0].matmul($0[1], transposingSelf: true) },
    .init("batched matmul broadcast", [[2, 1, 3, 4], [3, 4, 2]]) { $0[0].matmul($0[1]) },
    .init("batched matmul shared weight", [[2, 3, 4], [5, 4]]) { $0[0].matmul($0[1], transposingOther: true) },
    // Convolution and pooling.
    .init("unfold", [[2, 2, 7]]) { $0[0].unfolded(kernelSize: 3, stride: 2, padding: 1, dilation: 1) },
    .init("fold", [[1, 6, 4]]) { $0[0].folded(outputLength: 7, kernelSize: 3, stride: 2, padding: 1) },
    .init("conv1d groups stride dilation", [[2, 4, 9], [6, 2, 3], [6]]) {
        $0[0].conv1d(weight: $0[1], bias: $0[2], stride: 2, padding: 2, dilation: 2, groups: 2)
    },
    .init("transposedConv1d", [[2, 4, 5], [4, 3, 3], [6]]) {
        $0[0].transposedConv1d(weight: $0[1], bias: $0[2], stride: 2, padding: 1, outputPadding: 1, groups: 2)
    },
    .init("maxPool1d", [[2, 3, 8]], smooth: false) { $0[0].maxPool1d(kernelSize: 3, stride: 2, padding: 1) },
    .init("avgPool1d", [[2, 3, 8]]) { $0[0].avgPool1d(kernelSize: 2, padding: 1) },
]

let gatherIndexForShape = try! TensorIndices(shape: [2, 3], values: [3, 0, 3, 1, 2, 1])

@Suite("Finite-difference gradient checks of every primitive")
struct PrimitiveGradientTests {
    /// First order: analytic VJP vs central differences (ε = 1e-6), tolerance |Δ| ≤ 1e-6 + 1e-5·|numeric|.
    @Test("first order", arguments: primitiveCases)
    func firstOrder(_ c: PrimitiveCase) {
        let report = GradientCheck.firstOrder(at: c.inputs(seed: 11), c.f)
        #expect(report.passed, "\(c.name): \(report)")
        // The check must be non-trivial: some derivative is non-zero.
        #expect(report.numeric.joined().contains { Swift.abs($0) > 1e-3 }, "\(c.name): all derivatives vanish")
    }

    /// Second order: gradient of ⟨∇L, v⟩ through the recorded backward pass vs central differences of the
    /// first-order gradient, for g(x) = f(x)³ so that every primitive's pullback must itself be
    /// differentiable. Tolerance |Δ| ≤ 1e-6 + 1e-5·|numeric|.
    @Test("second order", arguments: primitiveCases)
    func secondOrder(_ c: PrimitiveCase) {
        let report = GradientCheck.secondOrder(at: c.inputs(seed: 23)) { xs in
            let y = c.f(xs)
            return y * y * y
        }
        #expect(report.passed, "\(c.name): \(report)")
        #expect(report.numeric.joined().contains { Swift.abs($0) > 1e-3 }, "\(c.name): all second derivatives vanish")
    }

    @Test("the checker rejects a wrong gradient")
    func checkerDetectsErrors() {
        // exp with a deliberately wrong pullback (2·g·y instead of g·y), built from the internal API.
        let wrong: @Sendable ([Tensor<Double>]) -> Tensor<Double> = { xs in
            let x = xs[0]
            let y = unaryKernel(.exp, x.storage)
            guard let context = Tensor<Double>.recording(x.node) else { return Tensor(shape: x.shape, storage: y) }
            return Tensor(shape: x.shape, storage: y, context: context, parent: x.node!) { g, node in
                g * Tensor(shape: x.shape, storage: y, node: node) * 2
            }
        }
        let report = GradientCheck.firstOrder(at: [randomTensor([4], seed: 3)], wrong)
        #expect(!report.passed)
        #expect(report.maxAbsoluteError > 0.1)
    }
}
