import Testing
import Linalg
@testable import Autodiff

@Suite("Tensor creation, forward values and errors")
struct TensorTests {
    @Test("throwing initializers name the bad data")
    func throwingInitializers() throws {
        #expect(throws: TensorError.scalarCountMismatch(shape: [2, 3], count: 5)) {
            try Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5])
        }
        #expect(throws: TensorError.raggedRows(row: 1, count: 1, expected: 2)) {
            try Tensor<Float>([[1, 2], [3]])
        }
        #expect(throws: TensorError.negativeExtent([2, -1])) { try Tensor<Double>(shape: [2, -1], scalars: []) }
        #expect(throws: TensorError.raggedRows(row: 3, count: 1, expected: 2)) {
            try Tensor<Double>([[[1, 2], [3, 4]], [[5, 6], [7]]])
        }
        let t = try Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        #expect(t.shape == [2, 3])
        #expect(t[1, 2] == 6)
        #expect(throws: TensorError.rankMismatch(operation: "matrix()", expected: 2, shape: [3])) {
            try Tensor<Double>([1, 2, 3]).matrix()
        }
    }

    @Test("Matrix round trip for Double and Float")
    func matrixInterop() throws {
        let m = try Matrix([[1, 2], [3, 4.5]])
        let t = Tensor<Double>(m)
        #expect(t.shape == [2, 2] && t.scalars == [1, 2, 3, 4.5])
        #expect(try t.matrix() == m)
        let f = Tensor<Float>(m)
        #expect(f.scalars == [1, 2, 3, 4.5])
        #expect(try f.matrix() == m)
    }

    @Test("creation helpers")
    func creation() {
        #expect(Tensor<Double>.arange(0, 5).scalars == [0, 1, 2, 3, 4])
        #expect(Tensor<Double>.arange(1, 2, step: 0.25).scalars == [1, 1.25, 1.5, 1.75])
        #expect(Tensor<Float>.linspace(0, 1, count: 5).scalars == [0, 0.25, 0.5, 0.75, 1])
        #expect(Tensor<Double>.full([2], 7).scalars == [7, 7])
        #expect(Tensor<Double>.zeros([2, 0]).scalarCount == 0)
        #expect(Tensor<Double>.ones([3]).sum().scalar == 3)
    }

    @Test("xoshiro256** reproduces the reference sequence bit for bit")
    func generator() {
        // Reference values from an independent Python implementation of SplitMix64 + xoshiro256**.
        var g0 = Xoshiro256StarStar(seed: 0)
        #expect([g0.next(), g0.next(), g0.next()] == [0x99EC_5F36_CB75_F2B4, 0xBF6E_1F78_4956_452A, 0x1A5F_849D_4933_E6E0])
        var g42 = Xoshiro256StarStar(seed: 42)
        #expect([g42.next(), g42.next(), g42.next()] == [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1])
        var a = Xoshiro256StarStar(seed: 9), b = Xoshiro256StarStar(seed: 9)
        #expect(Tensor<Float>.normal([100], using: &a).scalars == Tensor<Float>.normal([100], using: &b).scalars)
        var u = Xoshiro256StarStar(seed: 5)
        let uniform = Tensor<Double>.uniform([10_000], lowerBound: -2, upperBound: 3, using: &u)
        #expect(uniform.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
        // Mean of U(−2, 3) is 0.5; sd of the sample mean ≈ 0.0144, tolerance 0.06 (> 4 sd).
        #expect(Swift.abs(uniform.mean().scalar - 0.5) < 0.06)
        var n = Xoshiro256StarStar(seed: 6)
        let normal = Tensor<Double>.normal([20_000], mean: 1, standardDeviation: 2, using: &n)
        // Sample mean sd ≈ 0.014, sample sd's sd ≈ 0.01; tolerances 0.06 and 0.05.
        #expect(Swift.abs(normal.mean().scalar - 1) < 0.06)
        #expect(Swift.abs(normal.standardDeviation(alongAxis: 0).scalar - 2) < 0.05)
    }

    @Test("broadcasting arithmetic forward values")
    func broadcasting() throws {
        let a = try Tensor<Double>(shape: [2, 1], scalars: [1, 2])
        let b = Tensor<Double>([10, 20, 30])
        #expect((a + b).shape == [2, 3])
        #expect((a + b).scalars == [11, 21, 31, 12, 22, 32])
        #expect((b - a).scalars == [9, 19, 29, 8, 18, 28])
        #expect((a * 2 / b).scalars[1] == 0.1)
        #expect((Tensor<Float>([1, -2, 3]) .> 0).scalars == [1, 0, 1])
        #expect((Tensor<Double>([1, 2]) .== Tensor<Double>([1, 3])).scalars == [1, 0])
        let w = Tensor.where(Tensor<Double>([1, 0, 1]), b, Tensor<Double>(-1))
        #expect(w.scalars == [10, -1, 30])
    }

    @Test("shape operations forward values")
    func shapeOps() throws {
        let x = try Tensor<Double>(shape: [2, 3, 4], scalars: (0..<24).map(Double.init))
        #expect(x.permuted([2, 0, 1]).shape == [4, 2, 3])
        #expect(x.permuted([2, 0, 1])[3, 1, 2] == x[1, 2, 3])
        #expect(x.transposed(0, 2)[3, 2, 1] == x[1, 2, 3])
        #expect(x.sliced(alongAxis: 2, from: 1, to: 4, step: 2).scalars == [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23])
        #expect(x.sliced(alongAxis: 0, from: 1, to: 2).scalars == Array((12..<24).map(Double.init)))
        let p = Tensor<Double>([1, 2]).padded(alongAxis: 0, before: 2, after: 1, value: -1)
        #expect(p.scalars == [-1, -1, 1, 2, -1])
        let parts = x.split(sizes: [1, 2], alongAxis: 1)
        #expect(parts[0].shape == [2, 1, 4] && parts[1].shape == [2, 2, 4])
        #expect(Tensor.concatenate(parts, alongAxis: 1).scalars == x.scalars)
        let s = Tensor.stack([Tensor<Double>([1, 2]), Tensor<Double>([3, 4])], alongAxis: 1)
        #expect(s.shape == [2, 2] && s.scalars == [1, 3, 2, 4])
        #expect(x.indexSelected(alongAxis: 1, indices: [2, 0]).sliced(alongAxis: 0, from: 0, to: 1).scalars
                == [8, 9, 10, 11, 0, 1, 2, 3])
        let e = Tensor<Double>([1, 2]).reshaped([2, 1]).expanded(to: [2, 2, 3])
        #expect(e.scalars == [1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2])
        #expect(x.reshaped([4, -1]).shape == [4, 6])
        #expect(x.unsqueezed(at: -1).shape == [2, 3, 4, 1])
        #expect(x.unsqueezed(at: 1).squeezed().shape == [2, 3, 4])
        let idx = try TensorIndices(shape: [2, 1], values: [2, 0])
        #expect(try Tensor<Double>([[1, 2, 3], [4, 5, 6]]).gathering(alongAxis: 1, indices: idx).scalars == [3, 4])
    }

    @Test("reductions, softmax and cumulative ops forward values")
    func reductions() throws {
        let x = try Tensor<Double>([[1, 5, 3], [4, 2, 6]])
        #expect(x.sum(alongAxis: 0).scalars == [5, 7, 9])
        #expect(x.sum(alongAxis: 1, keepingDimensions: true).shape == [2, 1])
        #expect(x.max(alongAxis: 1).scalars == [5, 6])
        #expect(x.min(alongAxis: 0).scalars == [1, 2, 3])
        #expect(x.mean().scalar == 3.5)
        #expect(x.variance(alongAxis: 1).scalars == [4, 4])
        #expect(x.variance(alongAxis: 1, unbiased: false).scalars[0] == 8.0 / 3)
        #expect(x.cumulativeSum(alongAxis: 1).scalars == [1, 6, 9, 4, 6, 12])
        #expect(x.cumulativeProduct(alongAxis: 0).scalars == [1, 5, 3, 4, 10, 18])
        let sm = x.softmax(alongAxis: 1)
        #expect(isClose(sm.sum(alongAxis: 1).scalars, [1, 1], atol: 1e-15))
        // log-sum-exp of huge values stays finite (max shift).
        let big = Tensor<Double>([1000, 1000])
        #expect(Swift.abs(big.logSumExp(alongAxis: 0).scalar - (1000 + 0.6931471805599453)) < 1e-12)
        #expect(Tensor<Float>([1000, 0]).softmax().scalars == [1, 0])
    }

    @Test("Float and Double kernels agree")
    func floatKernels() throws {
        var g = Xoshiro256StarStar(seed: 77)
        let d = Tensor<Double>.normal([3, 5], using: &g)
        let f = d.converted(to: Float.self)
        func chain<S: TensorScalar>(_ t: Tensor<S>) -> Tensor<S> {
            (t.gelu() + t.sigmoid() * t.tanh() - t.softplus() + t.abs().sqrt().log1p() + t.erf().exp())
                .matmul(t, transposingOther: true).logSoftmax(alongAxis: 1)
        }
        let rd = chain(d).scalars, rf = chain(f).scalars.map(Double.init)
        // Float rounding through ~10 ops on O(1) values: tolerance 1e-5.
        #expect(isClose(rf, rd, atol: 1e-5, rtol: 1e-5), "max diff \(maxAbsDiff(rf, rd))")
    }

    @Test("valueWithGradient and hessianVectorProduct helpers")
    func helpers() {
        let x = Tensor<Double>([1, 2, 3])
        let (value, grad) = valueWithGradient(at: x) { ($0 * $0).sum() }
        #expect(value.scalar == 14 && grad.scalars == [2, 4, 6])
        // f = Σ x³ ⇒ H = diag(6x); Hv with v = (1, 1, 2) is (6, 12, 36).
        let hv = hessianVectorProduct(at: x, direction: Tensor([1, 1, 2])) { ($0 * $0 * $0).sum() }
        #expect(isClose(hv.scalars, [6, 12, 36], atol: 1e-12))
    }

    @Test("shape errors trap with the op name and both shapes")
    func shapeErrorsTrap() async {
        let add = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>([1, 2, 3]) + Tensor<Double>([1, 2])
        }
        let addMessage = String(decoding: add?.standardErrorContent ?? [], as: UTF8.self)
        #expect(addMessage.contains("+: shapes [3] and [2] cannot be broadcast together"), "\(addMessage)")
        let product = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>.zeros([2, 3]).matmul(Tensor<Double>.zeros([2, 3]))
        }
        let productMessage = String(decoding: product?.standardErrorContent ?? [], as: UTF8.self)
        #expect(productMessage.contains("matmul: shapes [2, 3] and [2, 3] are not compatible"), "\(productMessage)")
        await #expect(processExitsWith: .failure) {
            // A second backward through a freed graph.
            let x = Tensor<Double>([1]).requiringGradient()
            let y = (x * x).sum()
            _ = gradient(of: y, wrt: x)
            _ = gradient(of: y, wrt: x)
        }
    }
}
