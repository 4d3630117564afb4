// The workloads of the Autodiff benchmarks, shared by the package-benchmark suite
// (`Benchmarks/AutodiffBenchmarks`) and the same-run comparison's timing executable
// (`Sources/AutodiffTimings`). `compare/autodiff.py` builds exactly the same inputs and graphs in
// PyTorch.

import Autodiff
import Linalg
import NN
import BenchmarkSupport

/// Seeds of the Autodiff benchmark inputs; `compare/autodiff.py` uses the same numbers.
public enum AutodiffBenchmarkSeed {
    /// First operand (`x`, `a`, `u`).
    public static let first: UInt64 = 11
    /// Second operand (`w`, `b`, `v`).
    public static let second: UInt64 = 12
    /// The constant addend of the per-op graph and the seed (cotangent) of the matmul graph.
    public static let third: UInt64 = 13
}

extension Tensor {
    /// A tensor of `shape` filled in row-major order with ``SplitMix64/nextSymmetricUnit()`` draws
    /// (uniform on `[-1, 1)`, computed in `Double` and rounded to `Scalar`) from the stream `seed`.
    public static func benchmarkUniform(_ shape: [Int], seed: UInt64) -> Tensor {
        var generator = SplitMix64(seed: seed)
        let count = shape.reduce(1, *)
        let scalars = (0..<count).map { _ in Scalar(generator.nextSymmetricUnit()) }
        // The count matches the shape by construction.
        return try! Tensor(shape: shape, scalars: scalars)
    }

    /// The sum of the elements, accumulated in `Double` in row-major order (a checksum).
    public var checksum: Double { withUnsafeScalars { $0.reduce(0) { $0 + Double($1) } } }
}

/// Per-op overhead: three elementwise ops and their backward pass on 4×4 tensors.
///
/// `y = tanh(x·w + b)` with `x` and `w` variables and `b` a constant, then the gradients of `y`
/// with respect to `x` and `w` for a seed of ones (a vector–Jacobian product; PyTorch:
/// `torch.autograd.grad(y, [x, w], grad_outputs=ones)`). Forward: 3 kernels and 3 graph nodes;
/// backward: the pullbacks of tanh, + and ×.
public struct PerOpWorkload<Scalar: TensorScalar>: Sendable {
    /// Variable operand.
    public let x: Tensor<Scalar>
    /// Variable operand.
    public let w: Tensor<Scalar>
    /// Constant addend.
    public let b: Tensor<Scalar>
    /// Cotangent of `y` (ones).
    public let seed: Tensor<Scalar>

    /// Builds the inputs from the benchmark seeds.
    public init() {
        x = Tensor.benchmarkUniform([4, 4], seed: AutodiffBenchmarkSeed.first).requiringGradient()
        w = Tensor.benchmarkUniform([4, 4], seed: AutodiffBenchmarkSeed.second).requiringGradient()
        b = Tensor.benchmarkUniform([4, 4], seed: AutodiffBenchmarkSeed.third)
        seed = Tensor.ones([4, 4])
    }

    /// Builds the graph and runs backward; returns `[∂/∂x, ∂/∂w]`.
    @inline(never)
    public func run() -> [Tensor<Scalar>] {
        let y = (x * w + b).tanh()
        return gradient(of: y, wrt: [x, w], seed: seed)
    }

    /// Sum of both gradients' elements.
    public static func checksum(_ gradients: [Tensor<Scalar>]) -> Double { gradients.reduce(0) { $0 + $1.checksum } }
}

/// matmul forward and backward at `n × n` against the three raw GEMMs it needs.
///
/// `C = A·B` with `A`, `B` variables and the gradients for a seed `G`:
/// `dA = G·Bᵀ`, `dB = Aᵀ·G`. The raw baseline makes the same three `sgemm`/`dgemm` calls
/// (``TensorScalar/_gemm(transposeA:transposeB:m:n:k:alpha:a:lda:b:ldb:beta:c:ldc:)``, i.e.
/// `cblas_?gemm`) into preallocated outputs; ``rawGemmsAllocating()`` allocates the three
/// outputs per call as the tensor API must.
public final class MatmulWorkload<Scalar: TensorScalar> {
    /// Matrix order.
    public let n: Int
    /// Variable left factor.
    public let a: Tensor<Scalar>
    /// Variable right factor.
    public let b: Tensor<Scalar>
    /// Cotangent of the product.
    public let g: Tensor<Scalar>
    let pa: [Scalar], pb: [Scalar], pg: [Scalar]
    /// Preallocated outputs of the raw GEMMs.
    public private(set) var c: [Scalar], da: [Scalar], db: [Scalar]

    /// Builds the `n × n` inputs from the benchmark seeds.
    public init(order n: Int) {
        self.n = n
        a = Tensor.benchmarkUniform([n, n], seed: AutodiffBenchmarkSeed.first).requiringGradient()
        b = Tensor.benchmarkUniform([n, n], seed: AutodiffBenchmarkSeed.second).requiringGradient()
        g = Tensor.benchmarkUniform([n, n], seed: AutodiffBenchmarkSeed.third)
        pa = a.scalars
        pb = b.scalars
        pg = g.scalars
        c = [Scalar](repeating: 0, count: n * n)
        da = c
        db = c
    }

    /// `C = a.matmul(b)` and `gradient(of: C, wrt: [a, b], seed: g)`; returns `[C, dA, dB]`.
    @inline(never)
    public func run() -> [Tensor<Scalar>] {
        let product = a.matmul(b)
        let gradients = gradient(of: product, wrt: [a, b], seed: g)
        return [product, gradients[0], gradients[1]]
    }

    /// `C = A·B`, `dA = G·Bᵀ`, `dB = Aᵀ·G` as three GEMMs into the preallocated outputs.
    @inline(never)
    public func rawGemms() {
        Self.gemms(n, pa, pb, pg, &c, &da, &db)
    }

    /// The same three GEMMs into three newly allocated (uninitialized) outputs.
    @inline(never)
    public func rawGemmsAllocating() -> [[Scalar]] {
        let count = n * n
        func fresh() -> [Scalar] {
            [Scalar](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        }
        var c = fresh(), da = fresh(), db = fresh()
        Self.gemms(n, pa, pb, pg, &c, &da, &db)
        return [c, da, db]
    }

    static func gemms(_ n: Int, _ pa: [Scalar], _ pb: [Scalar], _ pg: [Scalar],
                      _ c: inout [Scalar], _ da: inout [Scalar], _ db: inout [Scalar]) {
        Scalar._gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1, a: pa, lda: n,
                     b: pb, ldb: n, beta: 0, c: &c, ldc: n)
        Scalar._gemm(transposeA: false, transposeB: true, m: n, n: n, k: n, alpha: 1, a: pg, lda: n,
                     b: pb, ldb: n, beta: 0, c: &da, ldc: n)
        Scalar._gemm(transposeA: true, transposeB: false, m: n, n: n, k: n, alpha: 1, a: pa, lda: n,
                     b: pg, ldb: n, beta: 0, c: &db, ldc: n)
    }

    /// Sum of the three raw outputs (`C`, `dA`, `dB`), comparable with the checksum of ``run()``.
    public var rawChecksum: Double {
        (c + da + db).reduce(0) { $0 + Double($1) }
    }
}

/// Forward elementwise kernels and a full reduction on `count` Float elements (constants, no graph).
public struct ElementwiseWorkload: Sendable {
    /// First operand.
    public let u: Tensor<Float>
    /// Second operand.
    public let v: Tensor<Float>

    /// Builds the inputs from the benchmark seeds.
    public init(count: Int) {
        u = Tensor.benchmarkUniform([count], seed: AutodiffBenchmarkSeed.first)
        v = Tensor.benchmarkUniform([count], seed: AutodiffBenchmarkSeed.second)
    }
}

/// One LSTM training step (the LSTM speed target): batch 32, 50 timesteps, 8 input features,
/// hidden 64, batch-first; forward, MSE loss of the whole output sequence against a target,
/// backward, one Adam step (learning rate 1e-3) that updates the parameters for the next call.
///
/// Inputs and initial parameters are SplitMix64 streams (see ``LSTMStepWorkload/parameterSeeds``)
/// scaled like PyTorch's initialization (`U(−1/√H, 1/√H)`); `compare/autodiff.py` builds the same
/// `torch.nn.LSTM` and `torch.optim.Adam`. Calls train the model further, so the checksum is the
/// loss of the first call (at the initial parameters), the same on both sides.
public final class LSTMStepWorkload<Scalar: TensorScalar> {
    /// Shapes: `[batch, steps, features]` in, hidden size.
    public static var sizes: (batch: Int, steps: Int, features: Int, hidden: Int) { (32, 50, 8, 64) }
    /// Seeds of `weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` (uniform on `[-1, 1)` × `1/√H`).
    public static var parameterSeeds: [UInt64] { [21, 22, 23, 24] }
    var model: LSTM<Scalar>
    var optimizer: Adam<Scalar>
    let input: Tensor<Scalar>
    let target: Tensor<Scalar>
    /// The loss of the first call, at the initial parameters.
    public private(set) var firstLoss: Double?

    /// Builds the model, the optimizer and the data from the benchmark seeds.
    public init() {
        let (batch, steps, features, hidden) = Self.sizes
        input = Tensor.benchmarkUniform([batch, steps, features], seed: AutodiffBenchmarkSeed.first)
        target = Tensor.benchmarkUniform([batch, steps, hidden], seed: AutodiffBenchmarkSeed.second)
        var generator = Xoshiro256StarStar(seed: 0)
        // Sizes are valid by construction, and the loaded tensors match the module's shapes.
        var model = try! LSTM<Scalar>(inputSize: features, hiddenSize: hidden, using: &generator)
        let scale = 1 / Scalar(hidden).squareRoot()
        let keys = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        let shapes = [[4 * hidden, features], [4 * hidden, hidden], [4 * hidden], [4 * hidden]]
        let values = (0..<4).map { k in Tensor<Scalar>.benchmarkUniform(shapes[k], seed: Self.parameterSeeds[k]) * scale }
        try! model.loadStateDict(Dictionary(uniqueKeysWithValues: zip(keys, values)))
        self.model = model
        optimizer = try! Adam<Scalar>(learningRate: 1e-3)
    }

    /// One training step; returns the loss before the update.
    @inline(never)
    public func run() -> Tensor<Scalar> {
        var parameters = model.parameters()
        let (loss, gradients) = valueWithGradient(at: parameters) { p in
            let output = try! model.replacingParameters(p)(input).output
            return try! meanSquaredErrorLoss(output, target)
        }
        try! optimizer.update(&parameters, gradients: gradients)
        model = try! model.replacingParameters(parameters)
        if firstLoss == nil { firstLoss = Double(loss.scalar) }
        return loss
    }
}
