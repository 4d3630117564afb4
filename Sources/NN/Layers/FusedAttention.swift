import Autodiff
import Linalg

// Multi-head attention as one differentiable operation with BLAS kernels (see `multiheadAttention`),
// and the same computation in `Tensor` operations (`multiheadAttentionReference`), which the fused
// operation differentiates for higher-order gradients.

/// The arguments of one ``MultiheadAttention`` call (see ``multiheadAttention(_:)``).
struct AttentionArguments<Scalar: TensorScalar>: Sendable {
    /// `[B, L, E]` when `batchFirst`, else `[L, B, E]`.
    var query: Tensor<Scalar>
    /// `[B, S, E]` (or `[S, B, E]`) each; both `nil` for self-attention, where key and value are `query`.
    var key: Tensor<Scalar>?, value: Tensor<Scalar>?
    /// `in_proj_weight` `[3E, E]` and `in_proj_bias` `[3E]`.
    var inProjectionWeight: Tensor<Scalar>, inProjectionBias: Tensor<Scalar>?
    /// `out_proj.weight` `[E, E]` and `out_proj.bias` `[E]`.
    var outProjectionWeight: Tensor<Scalar>, outProjectionBias: Tensor<Scalar>?
    let headCount: Int
    let batchFirst: Bool
    /// The combined additive mask (a constant), `[L, S]` or rank 4 broadcastable to `[B, heads, L, S]`.
    let mask: Tensor<Scalar>?

    var isSelfAttention: Bool { key == nil }

    /// The differentiable inputs in a fixed order: query (then key and value unless self-attention),
    /// the two projection weights, then the biases that are present.
    var tensors: [Tensor<Scalar>] {
        var all = [query]
        if let key, let value { all += [key, value] }
        all += [inProjectionWeight, outProjectionWeight]
        if let inProjectionBias { all.append(inProjectionBias) }
        if let outProjectionBias { all.append(outProjectionBias) }
        return all
    }

    /// Positions of the parameters in ``tensors``.
    var inProjectionWeightIndex: Int { isSelfAttention ? 1 : 3 }
    var outProjectionWeightIndex: Int { inProjectionWeightIndex + 1 }
    var inProjectionBiasIndex: Int? { inProjectionBias == nil ? nil : inProjectionWeightIndex + 2 }
    var outProjectionBiasIndex: Int? {
        outProjectionBias == nil ? nil : inProjectionWeightIndex + (inProjectionBias == nil ? 2 : 3)
    }

    /// The same arguments with ``tensors`` replaced (in their order).
    func replacing(_ values: [Tensor<Scalar>]) -> Self {
        var copy = self
        copy.query = values[0]
        if !isSelfAttention { (copy.key, copy.value) = (values[1], values[2]) }
        copy.inProjectionWeight = values[inProjectionWeightIndex]
        copy.outProjectionWeight = values[outProjectionWeightIndex]
        if let k = inProjectionBiasIndex { copy.inProjectionBias = values[k] }
        if let k = outProjectionBiasIndex { copy.outProjectionBias = values[k] }
        return copy
    }
}

/// Multi-head attention in `Tensor` operations: the projections, `softmax(q·kᵀ/√d + mask)·v` per head
/// through permuted copies, the output projection and the head average. The reference that
/// ``multiheadAttention(_:)`` is tested against and differentiated through for higher-order gradients.
/// Returns `[output (query's layout), weights [B, L, S]]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func multiheadAttentionReference<Scalar>(_ a: AttentionArguments<Scalar>) -> [Tensor<Scalar>] {
    let g = AttentionGeometry(a)
    let (e, heads, d) = (g.embedDimension, g.headCount, g.headWidth)
    func project(_ x: Tensor<Scalar>, _ part: Int, length: Int) -> Tensor<Scalar> {
        let rows = a.batchFirst ? x : x.transposed(0, 1)
        var y = rows.matmul(a.inProjectionWeight.sliced(alongAxis: 0, from: part * e, to: (part + 1) * e), transposingOther: true)
        if let b = a.inProjectionBias { y = y + b.sliced(alongAxis: 0, from: part * e, to: (part + 1) * e) }
        return y.reshaped([g.batch, length, heads, d]).permuted([0, 2, 1, 3])
    }
    let q = project(a.query, 0, length: g.targetLength) * g.scale(Scalar.self)
    let k = project(a.key ?? a.query, 1, length: g.sourceLength)
    let v = project(a.value ?? a.query, 2, length: g.sourceLength)
    var scores = q.matmul(k, transposingOther: true) // [B, heads, L, S]
    if let mask = a.mask { scores = scores + mask }
    let attention = scores.softmax(alongAxis: -1)
    let concatenated = attention.matmul(v).permuted([0, 2, 1, 3]).reshaped([g.batch, g.targetLength, e])
    var output = concatenated.matmul(a.outProjectionWeight, transposingOther: true)
    if let b = a.outProjectionBias { output = output + b }
    return [a.batchFirst ? output : output.transposed(0, 1), attention.mean(alongAxis: 1)]
}

/// Sizes of one attention call and where each head's block lives in the row buffers.
///
/// Every row buffer (inputs, projections, the concatenated heads, the output) keeps the layer's
/// layout: row `(b, t)` is row `b·T + t` when `batchFirst`, else `t·B + b`. The block of batch `b`
/// and head `h` is then a `[T, d]` matrix at a fixed offset with leading dimension `width` (or
/// `B·width`), which the GEMMs read and write in place.
struct AttentionGeometry: Sendable {
    let batch: Int, targetLength: Int, sourceLength: Int, embedDimension: Int, headCount: Int
    let batchFirst: Bool, isSelfAttention: Bool
    var headWidth: Int { embedDimension / headCount }
    var queryRows: Int { batch * targetLength }
    var sourceRows: Int { batch * sourceLength }
    /// `1/√d`, applied to the projected queries.
    func scale<S: TensorScalar>(_: S.Type = S.self) -> S { S(1 / Double(headWidth).squareRoot()) }

    init<S: TensorScalar>(_ a: AttentionArguments<S>) {
        let timeAxis = a.batchFirst ? 1 : 0
        (batch, targetLength, embedDimension) = (a.query.shape[1 - timeAxis], a.query.shape[timeAxis], a.query.shape[2])
        sourceLength = (a.key ?? a.query).shape[timeAxis]
        (headCount, batchFirst, isSelfAttention) = (a.headCount, a.batchFirst, a.isSelfAttention)
    }

    /// Row width of the projection buffer: `[q | k | v]` rows of `3E` for self-attention; otherwise
    /// three stacked `E`-wide buffers (queries, then keys, then values).
    var projectionWidth: Int { isSelfAttention ? 3 * embedDimension : embedDimension }
    var projectionCount: Int { isSelfAttention ? queryRows * 3 * embedDimension : (queryRows + 2 * sourceRows) * embedDimension }
    /// Offsets of the query, key and value parts in the projection buffer.
    var partOffsets: [Int] {
        isSelfAttention ? [0, embedDimension, 2 * embedDimension]
            : [0, queryRows * embedDimension, (queryRows + sourceRows) * embedDimension]
    }

    /// The offset and leading dimension of head `h` of batch `b` in a buffer of rows of `width`
    /// scalars holding sequences of `length` in the layer's layout.
    @inline(__always)
    func block(batch b: Int, head h: Int, length: Int, width: Int) -> (offset: Int, leading: Int) {
        batchFirst ? (b * length * width + h * headWidth, width) : (b * width + h * headWidth, batch * width)
    }

    /// Element strides of the additive mask broadcast to `[B, heads, L, S]` (0 along broadcast axes).
    func maskStrides<S: TensorScalar>(_ mask: Tensor<S>) -> (batch: Int, head: Int, row: Int, column: Int) {
        let dims = mask.rank == 2 ? [1, 1] + mask.shape.dimensions : mask.shape.dimensions
        precondition(dims.count == 4, "MultiheadAttention: mask \(mask.shape) is not broadcastable to [B, heads, L, S]")
        var strides = [Int](repeating: 0, count: 4), running = 1
        for axis in (0..<4).reversed() {
            strides[axis] = dims[axis] == 1 ? 0 : running
            running *= dims[axis]
        }
        return (strides[0], strides[1], strides[2], strides[3])
    }
}

/// `c[r, 0..<outputs] = x[r, :]·wᵀ (+ bias)` for `rows` rows of `inputs` scalars, `w` `[outputs, inputs]`
/// (one GEMM; the bias is written first and accumulated into, as the fused LSTM does).
@inline(__always)
func affineRows<S: TensorScalar>(_ x: UnsafePointer<S>, rows: Int, inputs: Int, weight: UnsafePointer<S>, outputs: Int,
                                 bias: UnsafePointer<S>?, into c: UnsafeMutablePointer<S>, leading: Int) {
    if let bias {
        for r in 0..<rows { (c + r * leading).update(from: bias, count: outputs) }
    }
    S._gemm(transposeA: false, transposeB: true, m: rows, n: outputs, k: inputs, alpha: 1, a: x, lda: inputs,
            b: weight, ldb: inputs, beta: bias == nil ? 0 : 1, c: c, ldc: leading)
}

/// `sums[j] = Σ_r x[r·leading + j]` for `j < columns`: a bias gradient.
@inline(__always)
func columnSums<S: TensorScalar>(_ x: UnsafePointer<S>, rows: Int, columns: Int, leading: Int,
                                 into sums: UnsafeMutablePointer<S>) {
    sums.update(repeating: 0, count: columns)
    for r in 0..<rows {
        let row = x + r * leading
        for j in 0..<columns { sums[j] += row[j] }
    }
}

/// `rows × count` scores (contiguous rows, the mask already added) turned into attention probabilities
/// in place: softmax along each row with the row maximum subtracted, as `Tensor.softmax` (an all `−∞`
/// row gives NaN, as in PyTorch). One vectorized `exp` covers the whole block. The maximum skips NaN
/// (a branch-free loop); a NaN score still makes its whole row NaN through the row sum. The
/// probabilities are also written into `sum` (`firstHead`) or added to it, in the same pass.
@inline(__always)
func softmaxRows<S: TensorScalar>(_ block: UnsafeMutablePointer<S>, rows: Int, count: Int,
                                  addingInto sum: UnsafeMutablePointer<S>, firstHead: Bool) {
    for i in 0..<rows {
        let row = block + i * count
        var maximum = -S.infinity
        for j in 0..<count { maximum = row[j] > maximum ? row[j] : maximum }
        if !maximum.isFinite { maximum = 0 }
        for j in 0..<count { row[j] -= maximum }
    }
    VectorMath.exp(UnsafePointer(block), block, count: rows * count)
    for i in 0..<rows {
        let row = block + i * count, sumRow = sum + i * count
        var total: S = 0
        for j in 0..<count { total += row[j] }
        let reciprocal = 1 / total
        if firstHead {
            for j in 0..<count { row[j] *= reciprocal; sumRow[j] = row[j] }
        } else {
            for j in 0..<count { row[j] *= reciprocal; sumRow[j] += row[j] }
        }
    }
}

/// Multi-head attention as a single differentiable operation with fused kernels.
///
/// Forward: one GEMM projects the input (`[B·L, E]·W_inᵀ`, `3E` wide for self-attention; one per
/// input otherwise) and the queries are scaled by `1/√d`; per batch and head, one GEMM forms the
/// scores `q·kᵀ` from the projection buffer in place, accumulating onto the mask, one pass applies
/// the softmax row by row (adding each head's probabilities into the head average), and one GEMM adds `A·v`
/// straight into the head-concatenated `[B·L, E]` rows; one GEMM applies the output projection.
/// Backward (first order): single GEMMs over all rows for the projections' weight and input
/// gradients, column sums for the biases, and per batch and head `dV = Aᵀ·dH`, `dA = dH·Vᵀ`,
/// `dScores = A ⊙ (dA − rowsum(dA ⊙ A))`, `dQ = dScores·K/√d`, `dK = dScoresᵀ·q/√d`.
/// Under a recorded backward pass (`createGraph`) the gradients come from
/// ``multiheadAttentionReference(_:)`` instead, so they can be differentiated again.
/// Returns the same two tensors as ``multiheadAttentionReference(_:)``.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func multiheadAttention<Scalar>(_ a: AttentionArguments<Scalar>) -> [Tensor<Scalar>] {
    let g = AttentionGeometry(a)
    let (e, heads, d) = (g.embedDimension, g.headCount, g.headWidth)
    let (batch, l, s) = (g.batch, g.targetLength, g.sourceLength)
    let width = g.projectionWidth, offsets = g.partOffsets
    let scale: Scalar = g.scale()
    // Saved for the backward pass: the projections (queries scaled), the attention probabilities
    // [B, heads, L, S] and the concatenated heads [B·L, E].
    var projections: [Scalar] = uninitializedBuffer(g.projectionCount)
    var attention: [Scalar] = uninitializedBuffer(batch * heads * l * s)
    // Zeros: the per-head GEMMs accumulate into their blocks (β = 1 is much cheaper than β = 0 for
    // OpenBLAS at these small sizes, which clears C in a separate pass).
    var concatenated = [Scalar](repeating: 0, count: g.queryRows * e)
    // Written by each batch's first head, then added to.
    var weights: [Scalar] = uninitializedBuffer(batch * l * s)
    var output: [Scalar] = uninitializedBuffer(g.queryRows * e)
    let inputs = a.tensors
    let sources = a.isSelfAttention ? [a.query] : [a.query, a.key!, a.value!]
    projections.withUnsafeMutableBufferPointer { pb in
        let p = pb.baseAddress!
        a.inProjectionWeight.withUnsafeScalars { w in
            let bias = a.inProjectionBias?.scalars
            for (part, x) in sources.enumerated() {
                let outputs = a.isSelfAttention ? 3 * e : e
                x.withUnsafeScalars { xb in
                    withOptionalPointer(bias, offset: part * e) { bp in
                        affineRows(xb.baseAddress!, rows: x.scalarCount / e, inputs: e, weight: w.baseAddress! + part * e * e,
                                   outputs: outputs, bias: bp, into: p + offsets[part], leading: width)
                    }
                }
            }
        }
        for r in 0..<g.queryRows {
            let row = p + r * width
            for j in 0..<e { row[j] *= scale }
        }
    }
    let strides = a.mask.map { g.maskStrides($0) }
    let maskScalars = a.mask?.scalars
    let averaging = 1 / Scalar(heads)
    projections.withUnsafeBufferPointer { pb in attention.withUnsafeMutableBufferPointer { ab in
    weights.withUnsafeMutableBufferPointer { wb in concatenated.withUnsafeMutableBufferPointer { cb in
    withOptionalPointer(maskScalars, offset: 0) { mask in
        let p = pb.baseAddress!
        for b in 0..<batch {
            let average = wb.baseAddress! + b * l * s
            for h in 0..<heads {
                let q = g.block(batch: b, head: h, length: l, width: width)
                let k = g.block(batch: b, head: h, length: s, width: width)
                let c = g.block(batch: b, head: h, length: l, width: e)
                let probabilities = ab.baseAddress! + (b * heads + h) * l * s
                let (kp, vp) = (p + offsets[1] + k.offset, p + offsets[2] + k.offset)
                // scores = mask + q·kᵀ: the mask (or zeros) first, then the GEMM accumulates.
                if let strides {
                    for i in 0..<l {
                        let row = probabilities + i * s, maskRow = mask! + b * strides.batch + h * strides.head + i * strides.row
                        for j in 0..<s { row[j] = maskRow[j * strides.column] }
                    }
                } else {
                    probabilities.update(repeating: 0, count: l * s)
                }
                Scalar._gemm(transposeA: false, transposeB: true, m: l, n: s, k: d, alpha: 1,
                             a: p + q.offset, lda: q.leading, b: kp, ldb: k.leading, beta: 1, c: probabilities, ldc: s)
                softmaxRows(probabilities, rows: l, count: s, addingInto: average, firstHead: h == 0)
                Scalar._gemm(transposeA: false, transposeB: false, m: l, n: d, k: s, alpha: 1,
                             a: probabilities, lda: s, b: vp, ldb: k.leading, beta: 1, c: cb.baseAddress! + c.offset, ldc: c.leading)
            }
            for j in 0..<(l * s) { average[j] *= averaging }
        }
    } } } } }
    concatenated.withUnsafeBufferPointer { cb in output.withUnsafeMutableBufferPointer { ob in
        a.outProjectionWeight.withUnsafeScalars { w in
            withOptionalPointer(a.outProjectionBias?.scalars, offset: 0) { bias in
                affineRows(cb.baseAddress!, rows: g.queryRows, inputs: e, weight: w.baseAddress!, outputs: e,
                           bias: bias, into: ob.baseAddress!, leading: e)
            }
        }
    } }
    let values = [Tensor<Scalar>(output).reshaped(to: a.query.shape),
                  Tensor<Scalar>(weights).reshaped([batch, l, s])]
    let template = a
    let saved = (projections: projections, attention: attention, concatenated: concatenated)
    return Tensor.customOperation(inputs: inputs, outputs: values) { cotangents, inputs in
        if isRecordingGradients {
            return vectorJacobianProducts(of: { multiheadAttentionReference(template.replacing($0)) }, at: inputs,
                                          cotangents: cotangents)
        }
        return multiheadAttentionBackward(template.replacing(inputs), g, projections: saved.projections,
                                          attention: saved.attention, concatenated: saved.concatenated, cotangents: cotangents,
                                          needed: inputs.map(\.requiresGradient))
    }
}

/// Calls `body` with a pointer `offset` scalars into `array`, or with `nil` when there is no array.
@inline(__always)
func withOptionalPointer<S, R>(_ array: [S]?, offset: Int, _ body: (UnsafePointer<S>?) -> R) -> R {
    guard let array else { return body(nil) }
    return array.withUnsafeBufferPointer { body($0.baseAddress! + offset) }
}

/// The first-order backward pass of ``multiheadAttention(_:)`` (gradients in ``AttentionArguments/tensors``'
/// order), from the saved projections, attention probabilities and concatenated heads.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
func multiheadAttentionBackward<Scalar>(_ a: AttentionArguments<Scalar>, _ g: AttentionGeometry,
                                        projections: [Scalar], attention: [Scalar], concatenated: [Scalar],
                                        cotangents: [Tensor<Scalar>], needed: [Bool]) -> [Tensor<Scalar>?] {
    let (e, heads, d) = (g.embedDimension, g.headCount, g.headWidth)
    let (batch, l, s) = (g.batch, g.targetLength, g.sourceLength)
    let width = g.projectionWidth, offsets = g.partOffsets
    let scale: Scalar = g.scale()
    let sourceCount = a.isSelfAttention ? 1 : 3
    var gradients = [Tensor<Scalar>?](repeating: nil, count: needed.count)
    let dOutput = cotangents[0]
    // Output projection: dW_out = dOᵀ·H, db_out = Σ_rows dO.
    if needed[a.outProjectionWeightIndex] {
        var dw: [Scalar] = uninitializedBuffer(e * e)
        dOutput.withUnsafeScalars { dob in
            Scalar._gemm(transposeA: true, transposeB: false, m: e, n: e, k: g.queryRows, alpha: 1, a: dob.baseAddress!,
                         lda: e, b: concatenated, ldb: e, beta: 0, c: &dw, ldc: e)
        }
        gradients[a.outProjectionWeightIndex] = Tensor(dw).reshaped([e, e])
    }
    if let k = a.outProjectionBiasIndex, needed[k] {
        var db = [Scalar](repeating: 0, count: e)
        dOutput.withUnsafeScalars { dob in
            db.withUnsafeMutableBufferPointer { columnSums(dob.baseAddress!, rows: g.queryRows, columns: e, leading: e, into: $0.baseAddress!) }
        }
        gradients[k] = Tensor(db)
    }
    let innerIndices = Array(0..<sourceCount) + [a.inProjectionWeightIndex] + (a.inProjectionBiasIndex.map { [$0] } ?? [])
    guard innerIndices.contains(where: { needed[$0] }) else { return gradients }
    // dH = dO·W_out, the gradient of the concatenated heads.
    var dConcatenated: [Scalar] = uninitializedBuffer(g.queryRows * e)
    dOutput.withUnsafeScalars { dob in a.outProjectionWeight.withUnsafeScalars { w in
        Scalar._gemm(transposeA: false, transposeB: false, m: g.queryRows, n: e, k: e, alpha: 1, a: dob.baseAddress!,
                     lda: e, b: w.baseAddress!, ldb: e, beta: 0, c: &dConcatenated, ldc: e)
    } }
    // Per batch and head, the gradients of q, k and v, accumulated (β = 1) into their blocks of the
    // zeroed dProjections (every element of it belongs to exactly one block).
    var dProjections = [Scalar](repeating: 0, count: g.projectionCount)
    var dScores: [Scalar] = uninitializedBuffer(l * s)
    let dWeights = cotangents[1].scalars
    let weightsGradient = dWeights.contains { $0 != 0 }
    let averaging = 1 / Scalar(heads)
    projections.withUnsafeBufferPointer { pb in attention.withUnsafeBufferPointer { ab in
    dConcatenated.withUnsafeBufferPointer { dcb in dProjections.withUnsafeMutableBufferPointer { dpb in
    dScores.withUnsafeMutableBufferPointer { dsb in dWeights.withUnsafeBufferPointer { dwb in
        let (p, dp, ds) = (pb.baseAddress!, dpb.baseAddress!, dsb.baseAddress!)
        for b in 0..<batch {
            for h in 0..<heads {
                let q = g.block(batch: b, head: h, length: l, width: width)
                let k = g.block(batch: b, head: h, length: s, width: width)
                let c = g.block(batch: b, head: h, length: l, width: e)
                let probabilities = ab.baseAddress! + (b * heads + h) * l * s
                let dh = dcb.baseAddress! + c.offset
                // dV = Aᵀ·dH; dA = (the head average's cotangent)/heads + dH·Vᵀ.
                Scalar._gemm(transposeA: true, transposeB: false, m: s, n: d, k: l, alpha: 1, a: probabilities, lda: s,
                             b: dh, ldb: c.leading, beta: 1, c: dp + offsets[2] + k.offset, ldc: k.leading)
                if weightsGradient {
                    let averageBlock = dwb.baseAddress! + b * l * s
                    for j in 0..<(l * s) { ds[j] = averageBlock[j] * averaging }
                } else {
                    ds.update(repeating: 0, count: l * s)
                }
                Scalar._gemm(transposeA: false, transposeB: true, m: l, n: s, k: d, alpha: 1, a: dh, lda: c.leading,
                             b: p + offsets[2] + k.offset, ldb: k.leading, beta: 1, c: ds, ldc: s)
                for i in 0..<l {
                    let row = ds + i * s, probabilityRow = probabilities + i * s
                    var dot: Scalar = 0
                    for j in 0..<s { dot += row[j] * probabilityRow[j] }
                    for j in 0..<s { row[j] = probabilityRow[j] * (row[j] - dot) }
                }
                // dq = dScores·K/√d, dk = dScoresᵀ·(q/√d).
                Scalar._gemm(transposeA: false, transposeB: false, m: l, n: d, k: s, alpha: scale, a: ds, lda: s,
                             b: p + offsets[1] + k.offset, ldb: k.leading, beta: 1, c: dp + q.offset, ldc: q.leading)
                Scalar._gemm(transposeA: true, transposeB: false, m: s, n: d, k: l, alpha: 1, a: ds, lda: s,
                             b: p + q.offset, ldb: q.leading, beta: 1, c: dp + offsets[1] + k.offset, ldc: k.leading)
            }
        }
    } } } } } }
    // Input projection: dW_in = dPᵀ·X, db_in = Σ_rows dP, dX = dP·W_in (per source for cross-attention).
    let sources = a.isSelfAttention ? [a.query] : [a.query, a.key!, a.value!]
    let outputs = a.isSelfAttention ? 3 * e : e
    dProjections.withUnsafeBufferPointer { dpb in a.inProjectionWeight.withUnsafeScalars { w in
        let dp = dpb.baseAddress!
        if needed[a.inProjectionWeightIndex] {
            // Xᵀ·dP [E, outputs] per source, then transposed into dW_in's rows: OpenBLAS runs this
            // orientation faster than dPᵀ·X for these shapes.
            var dw: [Scalar] = uninitializedBuffer(3 * e * e)
            var product: [Scalar] = uninitializedBuffer(e * outputs)
            for (part, x) in sources.enumerated() {
                x.withUnsafeScalars { xb in
                    Scalar._gemm(transposeA: true, transposeB: false, m: e, n: outputs, k: x.scalarCount / e, alpha: 1,
                                 a: xb.baseAddress!, lda: e, b: dp + offsets[part], ldb: width, beta: 0,
                                 c: &product, ldc: outputs)
                }
                for o in 0..<outputs {
                    for i in 0..<e { dw[(part * e + o) * e + i] = product[i * outputs + o] }
                }
            }
            gradients[a.inProjectionWeightIndex] = Tensor(dw).reshaped([3 * e, e])
        }
        if let k = a.inProjectionBiasIndex, needed[k] {
            var db: [Scalar] = uninitializedBuffer(3 * e)
            db.withUnsafeMutableBufferPointer { dbb in
                for (part, x) in sources.enumerated() {
                    columnSums(dp + offsets[part], rows: x.scalarCount / e, columns: outputs, leading: width,
                               into: dbb.baseAddress! + part * e)
                }
            }
            gradients[k] = Tensor(db)
        }
        for (part, x) in sources.enumerated() where needed[part] {
            var dx: [Scalar] = uninitializedBuffer(x.scalarCount)
            Scalar._gemm(transposeA: false, transposeB: false, m: x.scalarCount / e, n: e, k: outputs, alpha: 1,
                         a: dp + offsets[part], lda: width, b: w.baseAddress! + part * e * e, ldb: e, beta: 0,
                         c: &dx, ldc: e)
            gradients[part] = Tensor(dx).reshaped(to: x.shape)
        }
    } }
    return gradients
}
