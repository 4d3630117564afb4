import Foundation
import Testing
@testable import Autodiff

/// A PyTorch reference written by `Scripts/fixtures/autodiff.py`.
struct TorchFixture: Decodable {
    struct Array: Decodable {
        let shape: [Int]
        let data: [Double]
    }
    struct Result: Decodable {
        let output: Array
        let gradients: [Array]
    }
    struct HVP: Decodable {
        let value: Double
        let hvp: Array
    }
    let name: String
    let inputs: [Array]
    let cotangent: Array
    let float64: Result
    let float32: Result
    let matrix: Array?
    let direction: Array?
    let hvp_float64: HVP?
    let hvp_float32: HVP?

    static func load(_ name: String) throws -> TorchFixture {
        try fixtures.load(name, as: TorchFixture.self)
    }
}

extension Tensor {
    init(fixture a: TorchFixture.Array) {
        self.init(shape: TensorShape(a.shape), storage: a.data.map { Scalar($0) })
    }
}

/// The composite expressions of the fixture script, mirrored literally.
func fixtureExpression<S: TensorScalar>(_ name: String, _ x: [Tensor<S>], matrix: Tensor<S>? = nil) -> Tensor<S> {
    switch name {
    case "broadcasting":
        let (a, b, c) = (x[0], x[1], x[2])
        return (a * b - c) / (1 + b * b) + (a.abs() + 0.5).pow(c) + Tensor.maximum(a, b) - Tensor.minimum(b, c * 0.5)
    case "reductions":
        let t = x[0]
        return t.sum(alongAxis: 1, keepingDimensions: true) * t.mean(alongAxis: 2, keepingDimensions: true)
            + t.max(alongAxis: 0) + t.logSumExp(alongAxis: 2, keepingDimensions: true)
            + t.variance(alongAxis: 1, keepingDimensions: true) + t.standardDeviation(alongAxis: 0, unbiased: false)
            + t.min(alongAxes: [0, 2]).reshaped([1, 4, 1])
    case "matmul_chain":
        let (X, W, V, U) = (x[0], x[1], x[2], x[3])
        let h = X.matmul(W, transposingOther: true).tanh()
        let z = h.matmul(V).sigmoid()
        let g = X.matmul(X, transposingSelf: true)
        return z.matmul(U, transposingOther: true).sum(alongAxis: -1, keepingDimensions: true)
            * g.mean(alongAxes: [1, 2]).reshaped([2, 1, 1]) + z
    case "softmax_cross_entropy":
        let (logits, w0) = (x[0], x[1])
        let labels = try! TensorIndices(shape: [5, 1], values: [3, 0, 6, 2, 2])
        let nll = -logits.logSoftmax(alongAxis: 1).gathering(alongAxis: 1, indices: labels).mean()
        return nll + (logits.softmax(alongAxis: 0) * w0).sum()
    case "conv1d":
        let y1 = x[0].conv1d(weight: x[1], bias: x[2], stride: 2, padding: 1, dilation: 2, groups: 2)
        let y2 = y1.tanh().transposedConv1d(weight: x[3], bias: x[4], stride: 2, padding: 1, outputPadding: 1)
        return y2.maxPool1d(kernelSize: 3, stride: 2, padding: 1) + y2.avgPool1d(kernelSize: 2)
    case "cumulative":
        let t = x[0]
        return t.cumulativeProduct(alongAxis: 1) + t.cumulativeSum(alongAxis: 0) * t.cumulativeProduct(alongAxis: 0)
    case "activations":
        let t = x[0]
        return t.gelu() + t.softplus() + t.abs().log1p() + t.leakyRelu(negativeSlope: 0.1)
            + t.clamped(lowerBound: -0.5, upperBound: 0.5) * t.sigmoid() + t.erf() * (-t).exp() + (t * t + 1).sqrt()
    case "shape_ops":
        let t = x[0]
        let p = t.permuted([2, 0, 1])
        let s = t.sliced(alongAxis: 2, from: 0, to: 4, step: 2)
        let padded = s.padded(alongAxis: 2, before: 1, after: 0, value: 0.25)
        let cat = Tensor.concatenate([padded, t.sliced(alongAxis: 2, from: 1, to: 2)], alongAxis: 2)
        let st = Tensor.stack([cat, t], alongAxis: 0).sum(alongAxis: 0)
        let sel = st.indexSelected(alongAxis: 1, indices: [2, 0, 2])
        return Tensor.where(sel .> 0, sel, sel * 0.5) + p.permuted([1, 2, 0])
    case "hvp":
        return gradient(of: hvpFunction(x[0], matrix!), wrt: x[0], createGraph: true)
    default:
        fatalError("unknown fixture \(name)")
    }
}

/// f(x) = Σ tanh(A·x)² + Σ x³/3, as in the fixture script.
func hvpFunction<S: TensorScalar>(_ x: Tensor<S>, _ a: Tensor<S>) -> Tensor<S> {
    a.matmul(x.reshaped([-1, 1])).tanh().pow(2).sum() + x.pow(3).sum() / 3
}

let fixtureNames = ["broadcasting", "reductions", "matmul_chain", "softmax_cross_entropy", "conv1d",
                    "cumulative", "activations", "shape_ops", "hvp"]

@Suite("Composite expressions against PyTorch")
struct FixtureTests {
    /// Forward output and gradients of Σ output·w, for one scalar type. `tolerance` is relative with
    /// an absolute floor of the same size: |ours − torch| ≤ tolerance·max(1, |torch|).
    func check<S: TensorScalar>(_ fixture: TorchFixture, _ reference: TorchFixture.Result, _: S.Type,
                                tolerance: Double) {
        let inputs = fixture.inputs.map { Tensor<S>(fixture: $0).requiringGradient() }
        let matrix = fixture.matrix.map { Tensor<S>(fixture: $0) }
        let output = fixtureExpression(fixture.name, inputs, matrix: matrix)
        #expect(output.shape.dimensions == reference.output.shape, "\(fixture.name) output shape")
        let loss = (output * Tensor<S>(fixture: fixture.cotangent)).sum()
        let grads = gradient(of: loss, wrt: inputs)
        func close(_ ours: [S], _ theirs: [Double], _ what: String) {
            let a = ours.map(Double.init)
            let worst = zip(a, theirs).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
            #expect(a.count == theirs.count && worst <= tolerance,
                    "\(fixture.name) \(S.self) \(what): worst scaled error \(worst) > \(tolerance)")
        }
        close(output.scalars, reference.output.data, "output")
        for (i, (g, r)) in zip(grads, reference.gradients).enumerated() {
            #expect(g.shape.dimensions == r.shape)
            close(g.scalars, r.data, "gradient \(i)")
        }
    }

    @Test("Double matches PyTorch float64 to 1e-10", arguments: fixtureNames)
    func double(_ name: String) throws {
        let fixture = try TorchFixture.load(name)
        check(fixture, fixture.float64, Double.self, tolerance: 1e-10)
    }

    @Test("Float matches PyTorch float32 to 1e-5", arguments: fixtureNames)
    func float(_ name: String) throws {
        let fixture = try TorchFixture.load(name)
        check(fixture, fixture.float32, Float.self, tolerance: 1e-5)
    }

    @Test("Hessian-vector product matches torch.autograd.functional.hvp (1e-10 Double, 1e-5 Float)")
    func hvp() throws {
        let fixture = try TorchFixture.load("hvp")
        func run<S: TensorScalar>(_: S.Type, _ reference: TorchFixture.HVP, tolerance: Double) throws {
            let x = Tensor<S>(fixture: fixture.inputs[0])
            let a = Tensor<S>(fixture: try #require(fixture.matrix))
            let v = Tensor<S>(fixture: try #require(fixture.direction))
            let value = hvpFunction(x, a).scalar
            let hv = hessianVectorProduct(at: x, direction: v) { hvpFunction($0, a) }
            #expect(Swift.abs(Double(value) - reference.value) <= tolerance * Swift.max(1, Swift.abs(reference.value)))
            let worst = zip(hv.scalars.map(Double.init), reference.hvp.data)
                .map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? .infinity
            #expect(worst <= tolerance, "\(S.self) hvp worst scaled error \(worst)")
        }
        try run(Double.self, try #require(fixture.hvp_float64), tolerance: 1e-10)
        try run(Float.self, try #require(fixture.hvp_float32), tolerance: 1e-5)
    }
}
