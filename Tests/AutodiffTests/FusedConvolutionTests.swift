import Linalg
import Testing
@testable import Autodiff

/// A convolution case: input `[batch, channels, length]`, kernel, stride, padding, dilation, groups,
/// output channels (transposed: output channels per group) and, for the transposed form, output padding.
struct ConvolutionCase: Sendable, CustomStringConvertible {
    var batch: Int, channels: Int, length: Int, kernelSize: Int
    var stride = 1, padding = 0, dilation = 1, groups = 1, outChannels = 4, outputPadding = 0, bias = true

    var description: String {
        "b\(batch) c\(channels) l\(length) k\(kernelSize) s\(stride) p\(padding) d\(dilation) g\(groups) o\(outChannels) op\(outputPadding) bias \(bias)"
    }
}

let convolutionCases: [ConvolutionCase] = [
    ConvolutionCase(batch: 1, channels: 1, length: 5, kernelSize: 1, outChannels: 1),
    ConvolutionCase(batch: 3, channels: 2, length: 9, kernelSize: 3, bias: false),
    ConvolutionCase(batch: 2, channels: 4, length: 11, kernelSize: 3, stride: 2, padding: 2, dilation: 2, groups: 2, outChannels: 6),
    ConvolutionCase(batch: 4, channels: 3, length: 8, kernelSize: 2, dilation: 4, outChannels: 5),
    ConvolutionCase(batch: 2, channels: 6, length: 7, kernelSize: 4, stride: 3, padding: 1, groups: 3, outChannels: 3),
    ConvolutionCase(batch: 5, channels: 4, length: 6, kernelSize: 3, stride: 2, padding: 1, groups: 4, outChannels: 4,
                    outputPadding: 1),
]

/// Direct sums for `conv1d`: `y[b, o, t] = bias[o] + Σ_{c, k} w[o, c, k]·x[b, g·C/G + c, t·s − p + k·d]`.
func naiveConv1d(_ x: Tensor<Double>, _ w: Tensor<Double>, _ bias: Tensor<Double>?, _ c: ConvolutionCase) -> [Double] {
    let (xs, ws, bs) = (x.scalars, w.scalars, bias?.scalars)
    let (inPerGroup, outChannels, k) = (w.shape[1], w.shape[0], c.kernelSize)
    let outLength = (c.length + 2 * c.padding - c.dilation * (k - 1) - 1) / c.stride + 1
    var y = [Double]()
    for b in 0..<c.batch {
        for o in 0..<outChannels {
            let group = o / (outChannels / c.groups)
            for t in 0..<outLength {
                var total = bs?[o] ?? 0
                for ci in 0..<inPerGroup {
                    for tap in 0..<k {
                        let i = t * c.stride - c.padding + tap * c.dilation
                        guard i >= 0 && i < c.length else { continue }
                        total += ws[(o * inPerGroup + ci) * k + tap] * xs[(b * c.channels + group * inPerGroup + ci) * c.length + i]
                    }
                }
                y.append(total)
            }
        }
    }
    return y
}

/// The largest absolute elementwise difference, in Double.
func difference<Scalar: TensorScalar>(_ x: Tensor<Scalar>, _ y: Tensor<Scalar>) -> Double {
    maxAbsDiff(x.scalars.map { Double($0) }, y.scalars.map { Double($0) })
}

@Suite struct FusedConvolutionTests {
    func inputs<Scalar: TensorScalar>(_ c: ConvolutionCase, transposed: Bool, _: Scalar.Type) -> [Tensor<Scalar>] {
        var g = Xoshiro256StarStar(seed: 41)
        let weightShape = transposed ? [c.channels, c.outChannels, c.kernelSize] : [c.outChannels, c.channels / c.groups, c.kernelSize]
        let biasCount = transposed ? c.outChannels * c.groups : c.outChannels
        return [Tensor<Scalar>.normal(TensorShape([c.batch, c.channels, c.length]), using: &g),
                Tensor<Scalar>.normal(TensorShape(weightShape), using: &g)]
            + (c.bias ? [Tensor<Scalar>.normal(TensorShape([biasCount]), using: &g)] : [])
    }

    func convolve<Scalar: TensorScalar>(_ v: [Tensor<Scalar>], _ c: ConvolutionCase, transposed: Bool, reference: Bool) -> Tensor<Scalar> {
        let bias = v.count > 2 ? v[2] : nil
        switch (transposed, reference) {
        case (false, false):
            return v[0].conv1d(weight: v[1], bias: bias, stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups)
        case (false, true):
            return v[0].conv1dReference(weight: v[1], bias: bias, stride: c.stride, padding: c.padding, dilation: c.dilation,
                                        groups: c.groups)
        case (true, false):
            return v[0].transposedConv1d(weight: v[1], bias: bias, stride: c.stride, padding: c.padding,
                                         outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups)
        case (true, true):
            return v[0].transposedConv1dReference(weight: v[1], bias: bias, stride: c.stride, padding: c.padding,
                                                  outputPadding: c.outputPadding, dilation: c.dilation, groups: c.groups)
        }
    }

    /// The fused single-GEMM convolutions against their unfold + batched-matmul formulations: outputs
    /// and the gradients of input, weight and bias for a random cotangent, within 1e-12 (Double) and
    /// 2e-5 (Float) absolute, for strides, paddings, dilations, groups and batches above 1.
    @Test(arguments: convolutionCases, [false, true])
    func fusedMatchesReference(_ c: ConvolutionCase, transposed: Bool) {
        compare(c, transposed: transposed, Double.self, tolerance: 1e-12)
        compare(c, transposed: transposed, Float.self, tolerance: 2e-5)
    }

    func compare<Scalar: TensorScalar>(_ c: ConvolutionCase, transposed: Bool, _: Scalar.Type, tolerance: Double) {
        let variables = inputs(c, transposed: transposed, Scalar.self).map { $0.requiringGradient() }
        let fused = convolve(variables, c, transposed: transposed, reference: false)
        let reference = convolve(variables, c, transposed: transposed, reference: true)
        #expect(fused.shape == reference.shape, "\(c)")
        var g = Xoshiro256StarStar(seed: 7)
        let cotangent = Tensor<Scalar>.normal(fused.shape, using: &g)
        let fusedGradients = gradient(of: (fused * cotangent).sum(), wrt: variables)
        let referenceGradients = gradient(of: (reference * cotangent).sum(), wrt: variables)
        #expect(difference(fused, reference) <= tolerance, "outputs \(c) transposed \(transposed)")
        for (k, (x, y)) in zip(fusedGradients, referenceGradients).enumerated() {
            #expect(x.shape == y.shape)
            #expect(difference(x, y) <= tolerance, "gradient \(k) \(c) transposed \(transposed)")
        }
    }

    /// `conv1d` equals the direct sums within 1e-12 for every case.
    @Test(arguments: convolutionCases)
    func conv1dMatchesDirectSums(_ c: ConvolutionCase) {
        let v = inputs(c, transposed: false, Double.self)
        let y = convolve(v, c, transposed: false, reference: false)
        #expect(isClose(y.scalars, naiveConv1d(v[0], v[1], v.count > 2 ? v[2] : nil, c), atol: 1e-12), "\(c)")
    }

    /// Central differences (ε = 1e-6) against the fused first-order backward, |Δ| ≤ 1e-6 + 1e-5·|numeric|,
    /// and against the recorded (second-order) backward, the same tolerance.
    @Test(arguments: convolutionCases, [false, true])
    func finiteDifferences(_ c: ConvolutionCase, transposed: Bool) {
        let v = inputs(c, transposed: transposed, Double.self)
        let first = GradientCheck.firstOrder(at: v) { convolve($0, c, transposed: transposed, reference: false) }
        #expect(first.passed, "\(c) transposed \(transposed): \(first)")
        let second = GradientCheck.secondOrder(at: v) { convolve($0, c, transposed: transposed, reference: false) }
        #expect(second.passed, "\(c) transposed \(transposed): \(second)")
    }

    /// Same inputs, same bits: two evaluations of the fused forward and backward agree exactly.
    @Test func deterministic() {
        let c = convolutionCases[2]
        func run() -> [[Float]] {
            let v = inputs(c, transposed: false, Float.self).map { $0.requiringGradient() }
            let y = convolve(v, c, transposed: false, reference: false)
            return [y.scalars] + gradient(of: (y * y).sum(), wrt: v).map(\.scalars)
        }
        #expect(run() == run())
    }

    /// A fused convolution records one operation node (plus its three leaves), not an unfold, a
    /// reshape, a matmul and a bias add.
    @Test func oneNode() {
        let c = convolutionCases[1]
        let tracker = NodeTracker()
        var v = inputs(c, transposed: false, Double.self)
        v.append(Tensor<Double>.zeros([c.outChannels]))
        let y = tracker.track { convolve(v.map { $0.requiringGradient() }, c, transposed: false, reference: false) }
        #expect(y.requiresGradient)
        #expect(tracker.createdNodes == 3 + 1)
    }
}
