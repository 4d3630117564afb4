// Reductions along axes, softmax, and cumulative sums and products.

extension Tensor {
    /// Sorted, unique, non-negative axes; traps naming `op` for an axis out of range.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func normalizedAxes(_ axes: [Int], op: String) -> [Int] {
        Array(Set(axes.map { shape.axis($0, op: op) })).sorted()
    }

    /// The shape after reducing `axes` (sorted) with kept dimensions of extent 1.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func keptShape(_ axes: [Int]) -> TensorShape {
        var d = shape.dimensions
        for a in axes { d[a] = 1 }
        return TensorShape(unchecked: d)
    }

    /// The shape after reducing `axes` (sorted), dropping them.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func droppedShape(_ axes: [Int]) -> TensorShape {
        TensorShape(unchecked: shape.dimensions.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
    }

    /// Raw reduction over sorted `axes`, kept dimensions; consecutive axes are merged into one pass.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func reduceValues(_ op: ReduceOp, _ axes: [Int]) -> TensorStorage<Scalar> {
        if axes.count == rank || scalarCount <= 1 && axes.count > 0 {
            return reduceKernel(op, storage, outer: 1, n: scalarCount, inner: 1)
        }
        var values = storage
        var dims = shape.dimensions
        var runs: [(Int, Int)] = [] // (first axis, last axis) of consecutive runs
        for a in axes {
            if let last = runs.last, last.1 == a - 1 { runs[runs.count - 1].1 = a } else { runs.append((a, a)) }
        }
        for (first, last) in runs.reversed() {
            var outer = 1, n = 1, inner = 1
            for i in 0..<first { outer *= dims[i] }
            for i in first...last { n *= dims[i]; dims[i] = 1 }
            for i in (last + 1)..<dims.count { inner *= dims[i] }
            values = reduceKernel(op, values, outer: outer, n: n, inner: inner)
        }
        return values
    }

    // MARK: Sum and mean

    /// The sum over `axes` (negative axes count from the end); kept as extent-1 axes when `keepingDimensions`.
    ///
    /// Pullback: the gradient broadcast back to this tensor's shape.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, op: "sum")
        let kept = keptShape(axes)
        let outShape = keepingDimensions ? kept : droppedShape(axes)
        if axes.isEmpty { return self }
        let out = reduceValues(.sum, axes)
        guard let context = Tensor.recording(node) else { return Tensor(shape: outShape, storage: out) }
        let inShape = shape
        return Tensor(shape: outShape, storage: out, context: context, parent: node!) { g, _ in
            g.reshaped(to: kept).expanded(to: inShape)
        }
    }

    /// The sum along one axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        sum(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The sum of all elements, as a rank-0 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum() -> Tensor {
        // The same result and pullback as `sum(alongAxes: Array(0..<rank))`, without its axis
        // bookkeeping (five small arrays and a set per call).
        if rank == 0 { return self }
        let out = reduceKernel(.sum, storage, outer: 1, n: scalarCount, inner: 1)
        let outShape = TensorShape(unchecked: [])
        guard let context = Tensor.recording(node) else { return Tensor(shape: outShape, storage: out) }
        let inShape = shape
        let kept = TensorShape(unchecked: [Int](repeating: 1, count: rank))
        return Tensor(shape: outShape, storage: out, context: context, parent: node!) { g, _ in
            g.reshaped(to: kept).expanded(to: inShape)
        }
    }

    /// The arithmetic mean over `axes`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, op: "mean")
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: axes, keepingDimensions: keepingDimensions) / Scalar(n)
    }

    /// The mean along one axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        mean(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The mean of all elements, as a rank-0 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean() -> Tensor { mean(alongAxes: Array(0..<rank)) }

    // MARK: Max and min

    /// The maximum over `axes`. At ties the gradient is split evenly among the maximal elements
    /// (PyTorch's `amax` rule).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        extremum(.max, axes, keepingDimensions, op: "max")
    }

    /// The maximum along one axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        max(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The maximum of all elements.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max() -> Tensor { max(alongAxes: Array(0..<rank)) }

    /// The minimum over `axes`, with the same tie rule as ``max(alongAxes:keepingDimensions:)``.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func min(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        extremum(.min, axes, keepingDimensions, op: "min")
    }

    /// The minimum along one axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func min(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        min(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    /// The minimum of all elements.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func min() -> Tensor { min(alongAxes: Array(0..<rank)) }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func extremum(_ op: ReduceOp, _ axes: [Int], _ keepingDimensions: Bool, op name: String) -> Tensor {
        let axes = normalizedAxes(axes, op: name)
        if axes.isEmpty { return self }
        let kept = keptShape(axes)
        let outShape = keepingDimensions ? kept : droppedShape(axes)
        let out = reduceValues(op, axes)
        guard let context = Tensor.recording(node) else { return Tensor(shape: outShape, storage: out) }
        let input = self
        return Tensor(shape: outShape, storage: out, context: context, parent: node!) { g, _ in
            let mask = input.detached() .== Tensor(shape: kept, storage: out)
            let count = mask.sum(alongAxes: axes, keepingDimensions: true)
            return g.reshaped(to: kept) * (mask / count)
        }
    }

    // MARK: Variance and friends

    /// The variance over `axes`: `Σ(x − mean)²/(n − 1)` when `unbiased` (PyTorch's default), else `/n`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func variance(alongAxes axes: [Int], unbiased: Bool = true, keepingDimensions: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, op: "variance")
        let n = axes.reduce(1) { $0 * shape[$1] }
        let d = self - mean(alongAxes: axes, keepingDimensions: true)
        return (d * d).sum(alongAxes: axes, keepingDimensions: keepingDimensions) / Scalar(unbiased ? n - 1 : n)
    }

    /// The variance along one axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func variance(alongAxis axis: Int, unbiased: Bool = true, keepingDimensions: Bool = false) -> Tensor {
        variance(alongAxes: [axis], unbiased: unbiased, keepingDimensions: keepingDimensions)
    }

    /// The standard deviation over `axes`: the square root of ``variance(alongAxes:unbiased:keepingDimensions:)``.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func standardDeviation(alongAxes axes: [Int], unbiased: Bool = true, keepingDimensions: Bool = false) -> Tensor {
        variance(alongAxes: axes, unbiased: unbiased, keepingDimensions: keepingDimensions).sqrt()
    }

    /// The standard deviation along one axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func standardDeviation(alongAxis axis: Int, unbiased: Bool = true, keepingDimensions: Bool = false) -> Tensor {
        standardDeviation(alongAxes: [axis], unbiased: unbiased, keepingDimensions: keepingDimensions)
    }

    /// `log Σ exp(x)` over `axes`, computed stably by shifting with the (constant) maximum.
    ///
    /// Its gradient is the softmax over `axes`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func logSumExp(alongAxes axes: [Int], keepingDimensions: Bool = false) -> Tensor {
        let axes = normalizedAxes(axes, op: "logSumExp")
        var shift = Tensor(shape: keptShape(axes), storage: reduceValues(.max, axes))
        shift = shift.constantMap(.clamp, -Scalar.greatestFiniteMagnitude, Scalar.greatestFiniteMagnitude)
        let result = (self - shift).exp().sum(alongAxes: axes, keepingDimensions: true).log() + shift
        return keepingDimensions ? result : result.reshaped(to: droppedShape(axes))
    }

    /// `log Σ exp(x)` along one axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func logSumExp(alongAxis axis: Int, keepingDimensions: Bool = false) -> Tensor {
        logSumExp(alongAxes: [axis], keepingDimensions: keepingDimensions)
    }

    // MARK: Softmax

    /// `exp(x)/Σexp(x)` along `axis` (default: the last), computed with a max shift.
    ///
    /// Pullback `y·(g − Σ g·y)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func softmax(alongAxis axis: Int = -1) -> Tensor {
        let a = shape.axis(axis, op: "softmax")
        let (outer, n, inner) = shape.split(at: a)
        let y = softmaxKernel(log: false, storage, outer: outer, n: n, inner: inner)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        let shape = self.shape
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, node in
            let s = Tensor(shape: shape, storage: y, node: node)
            return s * (g - (g * s).sum(alongAxis: a, keepingDimensions: true))
        }
    }

    /// `x − log Σ exp(x)` along `axis` (default: the last).
    ///
    /// Pullback `g − exp(y)·Σg`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
        let a = shape.axis(axis, op: "logSoftmax")
        let (outer, n, inner) = shape.split(at: a)
        let y = softmaxKernel(log: true, storage, outer: outer, n: n, inner: inner)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        let shape = self.shape
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, node in
            g - Tensor(shape: shape, storage: y, node: node).exp() * g.sum(alongAxis: a, keepingDimensions: true)
        }
    }

    // MARK: Cumulative operations

    /// Inclusive cumulative sum along `axis`; with `reverse`, summed from the end.
    ///
    /// Pullback: the cumulative sum of the gradient in the opposite direction.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func cumulativeSum(alongAxis axis: Int, reverse: Bool = false) -> Tensor {
        let a = shape.axis(axis, op: "cumulativeSum")
        let (outer, n, inner) = shape.split(at: a)
        let y = cumulativeKernel(product: false, reverse: reverse, storage, outer: outer, n: n, inner: inner)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        return Tensor(shape: shape, storage: y, context: context, parent: node!) { g, _ in
            g.cumulativeSum(alongAxis: a, reverse: !reverse)
        }
    }

    /// Inclusive cumulative product along `axis`.
    ///
    /// Pullback: `revcumsum(g·y)/x` when no element is zero; otherwise the exact
    /// `∂/∂xᵢ = Σ_{k≥i} g_k·Π_{j≤k, j≠i} x_j`, evaluated position by position in
    /// Tensor operations (O(n²) along the axis), so zeros get correct gradients.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func cumulativeProduct(alongAxis axis: Int) -> Tensor {
        let a = shape.axis(axis, op: "cumulativeProduct")
        let (outer, n, inner) = shape.split(at: a)
        let y = cumulativeKernel(product: true, reverse: false, storage, outer: outer, n: n, inner: inner)
        guard let context = Tensor.recording(node) else { return Tensor(shape: shape, storage: y) }
        let x = self
        return Tensor(shape: x.shape, storage: y, context: context, parent: node!) { g, node in
            let out = Tensor(shape: x.shape, storage: y, node: node)
            if !x.storage.contains(0) {
                return (g * out).cumulativeSum(alongAxis: a, reverse: true) / x
            }
            let one = Tensor.ones(x.shape.replacing(axis: a, with: 1))
            var pieces: [Tensor] = []
            for i in 0..<n {
                let left = i > 0 ? out.sliced(alongAxis: a, from: i - 1, to: i) : one
                let z = i < n - 1
                    ? Tensor.concatenate([one, x.sliced(alongAxis: a, from: i + 1, to: n).cumulativeProduct(alongAxis: a)], alongAxis: a)
                    : one
                pieces.append((g.sliced(alongAxis: a, from: i, to: n) * z).sum(alongAxis: a, keepingDimensions: true) * left)
            }
            return Tensor.concatenate(pieces, alongAxis: a)
        }
    }
}
