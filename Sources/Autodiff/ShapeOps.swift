// Shape operations. All results are contiguous row-major tensors; reshape
// shares the element buffer, the others copy once.

/// Integer indices with a shape, for ``Tensor/gathering(alongAxis:indices:)``.
public struct TensorIndices: Sendable, Hashable {
    /// The shape of the index array.
    public let shape: TensorShape
    /// Row-major indices.
    public let values: [Int]

    /// Creates an index array.
    ///
    /// - Throws: ``TensorError/scalarCountMismatch(shape:count:)`` when the counts differ,
    ///   ``TensorError/negativeExtent(_:)`` for a negative extent.
    public init(shape: [Int], values: [Int]) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorError.negativeExtent(shape) }
        let s = TensorShape(unchecked: shape)
        guard s.scalarCount == values.count else { throw TensorError.scalarCountMismatch(shape: shape, count: values.count) }
        self.shape = s
        self.values = values
    }
}

extension Tensor {
    // MARK: Reshape

    /// The same elements with another shape of equal element count. Shares storage.
    ///
    /// Pullback: the gradient reshaped back.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reshaped(to newShape: TensorShape) -> Tensor {
        if newShape == shape { return self }
        precondition(newShape.scalarCount == scalarCount,
                     "reshaped: cannot reshape a tensor of shape \(shape) to \(newShape)")
        guard let context = Tensor.recording(node) else { return Tensor(shape: newShape, storage: storage) }
        let old = shape
        return Tensor(shape: newShape, storage: storage, context: context, parent: node!) { g, _ in g.reshaped(to: old) }
    }

    /// Reshape with at most one extent given as `-1`, inferred from the element count.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reshaped(_ dimensions: [Int]) -> Tensor {
        var d = dimensions
        if let i = d.firstIndex(of: -1) {
            let known = d.enumerated().filter { $0.offset != i }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && scalarCount % known == 0,
                         "reshaped: cannot reshape a tensor of shape \(shape) to \(dimensions)")
            d[i] = scalarCount / known
        }
        return reshaped(to: TensorShape(d))
    }

    /// All elements as a rank-1 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func flattened() -> Tensor { reshaped(to: [scalarCount]) }

    /// Inserts an axis of extent 1 at `axis` (`axis` may equal the rank; negative counts from the end).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func unsqueezed(at axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        precondition(a >= 0 && a <= rank, "unsqueezed: axis \(axis) out of range for shape \(shape)")
        var d = shape.dimensions
        d.insert(1, at: a)
        return reshaped(to: TensorShape(unchecked: d))
    }

    /// Removes axis `axis`, which must have extent 1.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func squeezed(at axis: Int) -> Tensor {
        let a = shape.axis(axis, op: "squeezed")
        precondition(shape[a] == 1, "squeezed: axis \(axis) of shape \(shape) has extent \(shape[a]), not 1")
        var d = shape.dimensions
        d.remove(at: a)
        return reshaped(to: TensorShape(unchecked: d))
    }

    /// Removes every axis of extent 1.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func squeezed() -> Tensor { reshaped(to: TensorShape(unchecked: shape.dimensions.filter { $0 != 1 })) }

    // MARK: Broadcast

    /// This tensor broadcast to `target` (NumPy rules), materialized.
    ///
    /// Pullback: ``unbroadcast(to:)``.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func expanded(to target: TensorShape) -> Tensor {
        if target == shape { return self }
        guard TensorShape.broadcast(shape, target) == target else {
            fatalError("expanded: shape \(shape) cannot be broadcast to \(target)")
        }
        let out = stridedGather(storage, offset: 0, strides: broadcastStrides(shape, to: target), shape: target)
        guard let context = Tensor.recording(node) else { return Tensor(shape: target, storage: out) }
        let old = shape
        return Tensor(shape: target, storage: out, context: context, parent: node!) { g, _ in g.unbroadcast(to: old) }
    }

    // MARK: Permute

    /// Axes reordered: result axis `i` is this tensor's axis `permutation[i]`.
    ///
    /// Pullback: the gradient permuted by the inverse permutation.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func permuted(_ permutation: [Int]) -> Tensor {
        precondition(permutation.count == rank && Set(permutation) == Set(0..<rank),
                     "permuted: \(permutation) is not a permutation of the axes of shape \(shape)")
        if permutation == Array(0..<rank) { return self }
        let strides = shape.strides
        let newShape = TensorShape(unchecked: permutation.map { shape[$0] })
        let out = stridedGather(storage, offset: 0, strides: permutation.map { strides[$0] }, shape: newShape)
        guard let context = Tensor.recording(node) else { return Tensor(shape: newShape, storage: out) }
        var inverse = [Int](repeating: 0, count: rank)
        for (i, p) in permutation.enumerated() { inverse[p] = i }
        return Tensor(shape: newShape, storage: out, context: context, parent: node!) { [inverse] g, _ in g.permuted(inverse) }
    }

    /// Swaps two axes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func transposed(_ axis0: Int, _ axis1: Int) -> Tensor {
        var p = Array(0..<rank)
        p.swapAt(shape.axis(axis0, op: "transposed"), shape.axis(axis1, op: "transposed"))
        return permuted(p)
    }

    /// Swaps the last two axes (the matrix transpose of each batch element).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func transposed() -> Tensor {
        precondition(rank >= 2, "transposed: shape \(shape) has fewer than 2 axes")
        return transposed(rank - 2, rank - 1)
    }

    // MARK: Slicing and padding

    /// Elements at `start + i·step` along `axis`, for every `i` with `start + i·step < end`.
    ///
    /// - Precondition: `0 ≤ start ≤ end ≤ extent` and `step ≥ 1`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sliced(alongAxis axis: Int, from start: Int, to end: Int, step: Int = 1) -> Tensor {
        let a = shape.axis(axis, op: "sliced")
        precondition(step >= 1, "sliced: step \(step) must be positive")
        precondition(0 <= start && start <= end && end <= shape[a],
                     "sliced: range \(start)..<\(end) out of bounds for axis \(a) of shape \(shape)")
        if step == 1 {
            // A contiguous range: a part node, whose gradient the backward pass adds into the
            // source's gradient in place (slicing every timestep of a sequence costs O(sequence)).
            if start == 0 && end == shape[a] { return self }
            let (outer, n, inner) = shape.split(at: a)
            return part(PartLayout(outer: outer, n: n, inner: inner, start: start, end: end),
                        shape: shape.replacing(axis: a, with: end - start))
        }
        var starts = [Int](repeating: 0, count: rank), steps = [Int](repeating: 1, count: rank)
        var counts = shape.dimensions
        starts[a] = start; steps[a] = step; counts[a] = (end - start + step - 1) / step
        return strided(starts: starts, steps: steps, counts: counts)
    }

    /// The general strided slice primitive: `counts[k]` elements from `starts[k]` with `steps[k]` along each axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func strided(starts: [Int], steps: [Int], counts: [Int]) -> Tensor {
        let strides = shape.strides
        var offset = 0
        for k in 0..<rank { offset += starts[k] * strides[k] }
        let outShape = TensorShape(unchecked: counts)
        if outShape == shape { return self }
        let out = stridedGather(storage, offset: offset, strides: (0..<rank).map { strides[$0] * steps[$0] }, shape: outShape)
        guard let context = Tensor.recording(node) else { return Tensor(shape: outShape, storage: out) }
        let inShape = shape
        return Tensor(shape: outShape, storage: out, context: context, parent: node!) { g, _ in
            g.unstrided(into: inShape, starts: starts, steps: steps, fill: 0)
        }
    }

    /// The adjoint of ``strided(starts:steps:counts:)``: this tensor written into a `fill`-valued tensor
    /// of shape `target` at the strided positions. Pullback: the strided slice again.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func unstrided(into target: TensorShape, starts: [Int], steps: [Int], fill: Scalar) -> Tensor {
        let strides = target.strides
        var offset = 0
        for k in 0..<target.rank { offset += starts[k] * strides[k] }
        let out = stridedScatter(storage, shape: shape, into: target.scalarCount, fill: fill, offset: offset,
                                 strides: (0..<target.rank).map { strides[$0] * steps[$0] })
        guard let context = Tensor.recording(node) else { return Tensor(shape: target, storage: out) }
        let counts = shape.dimensions
        return Tensor(shape: target, storage: out, context: context, parent: node!) { g, _ in
            g.strided(starts: starts, steps: steps, counts: counts)
        }
    }

    /// Pads every axis with `widths[k] = (before, after)` elements of `value` (constant padding).
    ///
    /// Pullback: the slice of the gradient that covers the original elements.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func padded(_ widths: [(before: Int, after: Int)], value: Scalar = 0) -> Tensor {
        precondition(widths.count == rank, "padded: \(widths.count) pad widths for shape \(shape)")
        precondition(widths.allSatisfy { $0.before >= 0 && $0.after >= 0 }, "padded: negative pad width")
        let target = TensorShape(unchecked: (0..<rank).map { shape[$0] + widths[$0].before + widths[$0].after })
        return unstrided(into: target, starts: widths.map(\.before), steps: [Int](repeating: 1, count: rank), fill: value)
    }

    /// Pads one axis with `before` and `after` elements of `value`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func padded(alongAxis axis: Int, before: Int, after: Int, value: Scalar = 0) -> Tensor {
        let a = shape.axis(axis, op: "padded")
        var widths = [(before: Int, after: Int)](repeating: (0, 0), count: rank)
        widths[a] = (before, after)
        return padded(widths, value: value)
    }

    // MARK: Concatenate, stack, split

    /// Joins tensors along `axis`; all other extents must agree.
    ///
    /// Pullback: the matching slice of the gradient for each input.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func concatenate(_ tensors: [Tensor], alongAxis axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate: no tensors")
        let first = tensors[0].shape
        let a = first.axis(axis, op: "concatenate")
        var total = 0
        for t in tensors {
            guard t.rank == first.rank, (0..<first.rank).allSatisfy({ $0 == a || t.shape[$0] == first[$0] }) else {
                fatalError("concatenate: shapes \(first) and \(t.shape) differ off axis \(a)")
            }
            total += t.shape[a]
        }
        let outShape = first.replacing(axis: a, with: total)
        let (outer, _, inner) = outShape.split(at: a)
        let count = outShape.scalarCount
        let out = uninitializedStorage(count) { (buffer: inout UnsafeMutableBufferPointer<Scalar>, initialized: inout Int) in
            initialized = count
            guard count > 0 else { return }
            var offset = 0
            for t in tensors {
                let block = t.shape[a] * inner
                t.storage.withUnsafeBufferPointer { src in
                    for o in 0..<outer where block > 0 {
                        (buffer.baseAddress! + o * total * inner + offset)
                            .initialize(from: src.baseAddress! + o * block, count: block)
                    }
                }
                offset += block
            }
        }
        guard let context = recording(tensors) else { return Tensor(shape: outShape, storage: out) }
        let extents = tensors.map { $0.shape[a] }
        let needs = tensors.map { $0.node != nil }
        return Tensor(shape: outShape, storage: out, context: context, parents: tensors.map(\.node)) { g, _ in
            var start = 0
            return zip(extents, needs).map { extent, need in
                defer { start += extent }
                return need ? g.sliced(alongAxis: a, from: start, to: start + extent) : nil
            }
        }
    }

    /// Stacks equally shaped tensors along a new axis at `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func stack(_ tensors: [Tensor], alongAxis axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: no tensors")
        for t in tensors where t.shape != tensors[0].shape {
            fatalError("stack: shapes \(tensors[0].shape) and \(t.shape) differ")
        }
        return concatenate(tensors.map { $0.unsqueezed(at: axis) }, alongAxis: axis < 0 ? axis : axis)
    }

    /// Splits along `axis` into pieces of the given extents, which must add up to the axis extent.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func split(sizes: [Int], alongAxis axis: Int) -> [Tensor] {
        let a = shape.axis(axis, op: "split")
        precondition(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[a],
                     "split: sizes \(sizes) do not add up to extent \(shape[a]) of axis \(a) in shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return sliced(alongAxis: a, from: start, to: start + size)
        }
    }

    // MARK: Indexing

    /// The slices at `indices` along `axis`, in that order (repeats allowed), as `torch.index_select`.
    ///
    /// Pullback: the gradient scatter-added back to the selected positions.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func indexSelected(alongAxis axis: Int, indices: [Int]) -> Tensor {
        let a = shape.axis(axis, op: "indexSelected")
        let (outer, n, inner) = shape.split(at: a)
        for i in indices where i < 0 || i >= n {
            fatalError("indexSelected: index \(i) out of range 0..<\(n) for axis \(a) of shape \(shape)")
        }
        let outShape = shape.replacing(axis: a, with: indices.count)
        let out = indexSelectKernel(storage, outer: outer, n: n, inner: inner, indices: indices)
        guard let context = Tensor.recording(node) else { return Tensor(shape: outShape, storage: out) }
        let inShape = shape
        return Tensor(shape: outShape, storage: out, context: context, parent: node!) { g, _ in
            g.indexAdded(into: inShape, alongAxis: a, indices: indices)
        }
    }

    /// Adjoint of ``indexSelected(alongAxis:indices:)``: rows of this tensor added into zeros of `target`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func indexAdded(into target: TensorShape, alongAxis a: Int, indices: [Int]) -> Tensor {
        let (outer, n, inner) = target.split(at: a)
        let out = indexAddKernel(storage, outer: outer, n: n, inner: inner, indices: indices)
        guard let context = Tensor.recording(node) else { return Tensor(shape: target, storage: out) }
        return Tensor(shape: target, storage: out, context: context, parent: node!) { g, _ in
            g.indexSelected(alongAxis: a, indices: indices)
        }
    }

    /// `out[…, t, …] = self[…, indices[…, t, …], …]` along `axis`, as `torch.gather`.
    ///
    /// `indices` has this tensor's rank and, off `axis`, extents no larger than this tensor's (as
    /// PyTorch: a smaller index reads the leading block); the result has `indices`' shape.
    /// Pullback: scatter-add of the gradient into zeros at the gathered positions.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gathering(alongAxis axis: Int, indices: TensorIndices) -> Tensor {
        let a = shape.axis(axis, op: "gathering")
        guard indices.shape.rank == rank,
              (0..<rank).allSatisfy({ $0 == a || indices.shape[$0] <= shape[$0] }) else {
            fatalError("gathering: index shape \(indices.shape) exceeds shape \(shape) off axis \(a)")
        }
        let (outer, n, inner) = shape.split(at: a)
        for i in indices.values where i < 0 || i >= n {
            fatalError("gathering: index \(i) out of range 0..<\(n) for axis \(a) of shape \(shape)")
        }
        let m = indices.shape[a]
        let out = (0..<rank).allSatisfy({ $0 == a || indices.shape[$0] == shape[$0] })
            ? gatherKernel(storage, outer: outer, n: n, inner: inner, m: m, index: indices.values)
            : stridedGatherKernel(storage, shape: shape, axis: a, indices: indices, scatter: false)
        guard let context = Tensor.recording(node) else { return Tensor(shape: indices.shape, storage: out) }
        let inShape = shape
        return Tensor(shape: indices.shape, storage: out, context: context, parent: node!) { g, _ in
            g.scatterAdded(into: inShape, alongAxis: a, indices: indices)
        }
    }

    /// Adjoint of ``gathering(alongAxis:indices:)``: this tensor scatter-added into zeros of `target`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func scatterAdded(into target: TensorShape, alongAxis a: Int, indices: TensorIndices) -> Tensor {
        let (outer, n, inner) = target.split(at: a)
        let out = (0..<target.rank).allSatisfy({ $0 == a || indices.shape[$0] == target[$0] })
            ? scatterAddKernel(storage, outer: outer, n: n, inner: inner, m: indices.shape[a], index: indices.values)
            : stridedGatherKernel(storage, shape: target, axis: a, indices: indices, scatter: true)
        guard let context = Tensor.recording(node) else { return Tensor(shape: target, storage: out) }
        return Tensor(shape: target, storage: out, context: context, parent: node!) { g, _ in
            g.gathering(alongAxis: a, indices: indices)
        }
    }
}
