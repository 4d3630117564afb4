// Matrix and batched matrix products through BLAS sgemm/dgemm.

extension Tensor {
    /// The matrix product `op(self)·op(other)` over the last two axes, batched and broadcast over the rest.
    ///
    /// `op(X)` is `X` or, with the matching `transposing…` flag, `X` with its last
    /// two axes swapped (read transposed by BLAS, never copied). Both operands
    /// need rank ≥ 2; leading (batch) axes broadcast with NumPy rules. For
    /// `op(self)` of shape `[…, m, k]` and `op(other)` of `[…, k, n]` the result
    /// is `[…, m, n]`.
    ///
    /// The forward pass is one `gemm` per batch element (a single `gemm` when
    /// `other` has no batch axes and `self` is not transposed). The pullback is
    /// two more matrix products with transpose flags (`dA = G·op(B)ᵀ`,
    /// `dB = op(A)ᵀ·G`, arranged per flag), un-broadcast over batch axes, so the
    /// forward and backward of a product cost three `gemm`s. Cost `2·m·n·k`
    /// flops per `gemm` per batch element.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func matmul(_ other: Tensor, transposingSelf: Bool = false, transposingOther: Bool = false) -> Tensor {
        Tensor.matmul(self, other, transposeA: transposingSelf, transposeB: transposingOther)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func matmul(_ a: Tensor, _ b: Tensor, transposeA tA: Bool, transposeB tB: Bool) -> Tensor {
        guard a.rank >= 2, b.rank >= 2 else {
            fatalError("matmul: operands need rank >= 2, got shapes \(a.shape) and \(b.shape)")
        }
        let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1]
        let br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
        let (m, k) = tA ? (ac, ar) : (ar, ac)
        let (kb, n) = tB ? (bc, br) : (br, bc)
        let aBatch = TensorShape(unchecked: Array(a.shape.dimensions.dropLast(2)))
        let bBatch = TensorShape(unchecked: Array(b.shape.dimensions.dropLast(2)))
        guard k == kb, let batch = TensorShape.broadcast(aBatch, bBatch) else {
            fatalError("matmul: shapes \(a.shape)\(tA ? "ᵀ" : "") and \(b.shape)\(tB ? "ᵀ" : "") are not compatible")
        }
        let outShape = TensorShape(unchecked: batch.dimensions + [m, n])
        let count = outShape.scalarCount
        let batchCount = batch.scalarCount
        let out = uninitializedStorage(count) { (buffer: inout UnsafeMutableBufferPointer<Scalar>, initialized: inout Int) in
            initialized = count
            guard count > 0 else { return }
            let pc = buffer.baseAddress!
            if k == 0 {
                for i in 0..<count { pc[i] = 0 }
                return
            }
            a.storage.withUnsafeBufferPointer { pa in
                b.storage.withUnsafeBufferPointer { pb in
                    if bBatch.scalarCount == 1 && !tA && aBatch == batch {
                        // Fold a's batch into the row dimension: one gemm.
                        Scalar._gemm(transposeA: false, transposeB: tB, m: batchCount * m, n: n, k: k,
                                     alpha: 1, a: pa.baseAddress!, lda: ac, b: pb.baseAddress!, ldb: bc,
                                     beta: 0, c: pc, ldc: n)
                        return
                    }
                    let aStrides = broadcastStrides(aBatch, to: batch), bStrides = broadcastStrides(bBatch, to: batch)
                    var index = [Int](repeating: 0, count: batch.rank)
                    for item in 0..<batchCount {
                        var offA = 0, offB = 0
                        for d in 0..<batch.rank { offA += index[d] * aStrides[d]; offB += index[d] * bStrides[d] }
                        Scalar._gemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k,
                                     alpha: 1, a: pa.baseAddress! + offA * ar * ac, lda: ac,
                                     b: pb.baseAddress! + offB * br * bc, ldb: bc,
                                     beta: 0, c: pc + item * m * n, ldc: n)
                        var d = batch.rank - 1
                        while d >= 0 {
                            index[d] += 1
                            if index[d] < batch.dimensions[d] { break }
                            index[d] = 0
                            d -= 1
                        }
                    }
                }
            }
        }
        guard let context = recording(a.node, b.node) else { return Tensor(shape: outShape, storage: out) }
        let (needA, needB) = (a.node != nil, b.node != nil)
        return Tensor(shape: outShape, storage: out, context: context, parents: (a.node, b.node)) { g, _ in
            var ga: Tensor? = nil, gb: Tensor? = nil
            if needA {
                switch (tA, tB) {
                case (false, false): ga = matmul(g, b, transposeA: false, transposeB: true)
                case (false, true): ga = matmul(g, b, transposeA: false, transposeB: false)
                case (true, false): ga = matmul(b, g, transposeA: false, transposeB: true)
                case (true, true): ga = matmul(b, g, transposeA: true, transposeB: true)
                }
                ga = ga!.unbroadcast(to: a.shape)
            }
            if needB {
                if b.rank == 2 && a.rank > 2 && !tA {
                    // Shared weight: fold the batch into one product instead of summing per-batch products.
                    let a2 = a.reshaped([-1, k]), g2 = g.reshaped([-1, n])
                    gb = tB ? matmul(g2, a2, transposeA: true, transposeB: false)
                            : matmul(a2, g2, transposeA: true, transposeB: false)
                } else {
                    switch (tA, tB) {
                    case (false, false): gb = matmul(a, g, transposeA: true, transposeB: false)
                    case (false, true): gb = matmul(g, a, transposeA: true, transposeB: false)
                    case (true, false): gb = matmul(a, g, transposeA: false, transposeB: false)
                    case (true, true): gb = matmul(g, a, transposeA: true, transposeB: true)
                    }
                    gb = gb!.unbroadcast(to: b.shape)
                }
            }
            return (ga, gb)
        }
    }
}
