import Linalg

/// An n-dimensional, row-major array of `Float` or `Double` that records the
/// operations applied to it for reverse-mode differentiation.
///
/// `Tensor` is a value type with copy-on-write storage: copies share their
/// element buffer until one of them is changed. Element `(i₀, …, iₙ₋₁)` lives at
/// offset `Σ iₖ·strideₖ` of ``scalars``, with row-major strides.
///
/// ## Differentiation
///
/// A tensor *requires gradients* when it holds a graph node: either it was
/// marked with ``requiringGradient()``, or it is the result of an operation
/// on such a tensor while recording is on (see ``withoutGradients(_:)``).
/// There is no global tape: the graph is implicit in the tensors, so
/// independent tasks can build and differentiate graphs at the same time.
/// ``gradient(of:wrt:seed:createGraph:retainGraph:)`` walks the graph
/// backwards.
///
/// ## Sendable
///
/// `Tensor` is `Sendable`: its storage is an immutable-or-uniquely-owned
/// array and its node is a `Sendable` class whose only mutable state (the
/// backward rule) is guarded by a mutex. Sending a tensor that requires
/// gradients to another task shares its graph; differentiating the same graph
/// from two tasks at once is safe only with `retainGraph: true`.
///
/// ## Errors
///
/// Shape mismatches inside tensor algebra are programmer errors and trap with
/// a message naming the operation and both shapes, as Swift arrays do for bad
/// indices. Initializers that take user data throw ``TensorError``.
public struct Tensor<Scalar: TensorScalar>: Sendable {
    /// The extent of each axis.
    public let shape: TensorShape
    /// The row-major elements (`storage.count == shape.scalarCount`), shared, not copied.
    public internal(set) var storage: TensorStorage<Scalar>
    /// The graph node of a tensor that requires gradients, `nil` for a constant.
    @usableFromInline let node: Node<Scalar>?

    init(shape: TensorShape, storage: TensorStorage<Scalar>, node: Node<Scalar>? = nil) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// A tensor holding a copy of `elements`.
    init(shape: TensorShape, storage elements: [Scalar], node: Node<Scalar>? = nil) {
        self.init(shape: shape, storage: TensorStorage(elements), node: node)
    }

    // MARK: Creation

    /// A constant tensor with the given shape and row-major elements.
    ///
    /// - Throws: ``TensorError/scalarCountMismatch(shape:count:)`` when
    ///   `scalars.count` differs from the product of `shape`, and
    ///   ``TensorError/negativeExtent(_:)`` for a negative extent.
    public init(shape: [Int], scalars: [Scalar]) throws {
        try self.init(shape: shape, storage: TensorStorage(scalars))
    }

    /// A constant tensor with the given shape whose elements are `storage`, without a copy.
    ///
    /// - Throws: ``TensorError/scalarCountMismatch(shape:count:)`` when
    ///   `storage.count` differs from the product of `shape`, and
    ///   ``TensorError/negativeExtent(_:)`` for a negative extent.
    public init(shape: [Int], storage: TensorStorage<Scalar>) throws {
        guard shape.allSatisfy({ $0 >= 0 }) else { throw TensorError.negativeExtent(shape) }
        let s = TensorShape(unchecked: shape)
        guard s.scalarCount == storage.count else {
            throw TensorError.scalarCountMismatch(shape: shape, count: storage.count)
        }
        self.init(shape: s, storage: storage)
    }

    /// A rank-1 tensor whose elements are `storage`, without a copy (``reshaped(_:)`` gives it another shape).
    public init(_ storage: TensorStorage<Scalar>) {
        self.init(shape: TensorShape(unchecked: [storage.count]), storage: storage)
    }

    /// A rank-1 tensor holding `scalars`.
    public init(_ scalars: [Scalar]) {
        self.init(shape: TensorShape(unchecked: [scalars.count]), storage: scalars)
    }

    /// A rank-0 tensor holding `value`.
    public init(_ value: Scalar) {
        self.init(shape: TensorShape(unchecked: []), storage: [value])
    }

    /// A rank-2 tensor from an array of rows.
    ///
    /// - Throws: ``TensorError/raggedRows(row:count:expected:)`` naming the first
    ///   row whose length differs from the first row's.
    public init(_ rows: [[Scalar]]) throws {
        let width = rows.first?.count ?? 0
        var flat: [Scalar] = []
        flat.reserveCapacity(rows.count * width)
        for (i, row) in rows.enumerated() {
            guard row.count == width else { throw TensorError.raggedRows(row: i, count: row.count, expected: width) }
            flat.append(contentsOf: row)
        }
        self.init(shape: TensorShape(unchecked: [rows.count, width]), storage: flat)
    }

    /// A rank-3 tensor from nested arrays `[i][j][k]`.
    ///
    /// - Throws: ``TensorError/raggedRows(row:count:expected:)`` when the nesting is not rectangular
    ///   (the row index counts inner rows in row-major order).
    public init(_ blocks: [[[Scalar]]]) throws {
        let d1 = blocks.first?.count ?? 0
        let d2 = blocks.first?.first?.count ?? 0
        var flat: [Scalar] = []
        flat.reserveCapacity(blocks.count * d1 * d2)
        for (i, block) in blocks.enumerated() {
            guard block.count == d1 else { throw TensorError.raggedRows(row: i, count: block.count, expected: d1) }
            for (j, row) in block.enumerated() {
                guard row.count == d2 else {
                    throw TensorError.raggedRows(row: i * d1 + j, count: row.count, expected: d2)
                }
                flat.append(contentsOf: row)
            }
        }
        self.init(shape: TensorShape(unchecked: [blocks.count, d1, d2]), storage: flat)
    }

    /// A tensor whose every element is `value`.
    public init(shape: TensorShape, repeating value: Scalar) {
        self.init(shape: shape, storage: TensorStorage(repeating: value, count: shape.scalarCount))
    }

    /// A rank-2 tensor with the entries of `matrix` (converted from `Double`).
    public init(_ matrix: Matrix) {
        let storage: [Scalar] = Scalar.self == Double.self
            ? unsafeBitCast(matrix.elements, to: [Scalar].self)
            : matrix.elements.map { Scalar($0) }
        self.init(shape: TensorShape(unchecked: [matrix.rows, matrix.columns]), storage: storage)
    }

    /// The elements of a rank-2 tensor as a `Matrix` (converted to `Double`).
    ///
    /// - Throws: ``TensorError/rankMismatch(operation:expected:shape:)`` unless the rank is 2.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func matrix() throws -> Matrix {
        guard shape.rank == 2 else { throw TensorError.rankMismatch(operation: "matrix()", expected: 2, shape: shape.dimensions) }
        let elements: [Double] = Scalar.self == Double.self
            ? unsafeBitCast(storage.array, to: [Double].self)
            : storage.map { Double($0) }
        return try Matrix(rows: shape[0], columns: shape[1], elements: elements)
    }

    /// A tensor of zeros.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func zeros(_ shape: TensorShape) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// A tensor of ones.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func ones(_ shape: TensorShape) -> Tensor { Tensor(shape: shape, repeating: 1) }
    /// A tensor whose every element is `value`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func full(_ shape: TensorShape, _ value: Scalar) -> Tensor { Tensor(shape: shape, repeating: value) }
    /// Zeros with the shape of `other`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }
    /// Ones with the shape of `other`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func ones(like other: Tensor) -> Tensor { ones(other.shape) }

    /// `[start, start + step, …]` up to but excluding `end`, as NumPy's `arange`.
    ///
    /// Element `i` is `start + Scalar(i)·step`; the count is `⌈(end − start)/step⌉` (0 if negative).
    /// - Precondition: `step != 0`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func arange(_ start: Scalar = 0, _ end: Scalar, step: Scalar = 1) -> Tensor {
        precondition(step != 0, "arange: step must be non-zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<n).map { start + Scalar($0) * step })
    }

    /// `count` evenly spaced values from `start` to `end` inclusive, as `torch.linspace`.
    ///
    /// Element `i` is `start + i·(end − start)/(count − 1)`; the last element is exactly `end`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func linspace(_ start: Scalar, _ end: Scalar, count: Int) -> Tensor {
        precondition(count >= 0, "linspace: negative count \(count)")
        if count == 1 { return Tensor([start]) }
        let step = (end - start) / Scalar(count - 1)
        return Tensor((0..<count).map { $0 == count - 1 ? end : start + Scalar($0) * step })
    }

    /// Uniform random numbers in `[lowerBound, upperBound)` drawn from `generator`.
    ///
    /// Element `i` (row-major) is `lowerBound + (upperBound − lowerBound)·u` with
    /// `u = Double(next() >> 11)·2⁻⁵³`, computed in `Double` and then rounded to `Scalar`
    /// (one generator call per element).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func uniform(_ shape: TensorShape, lowerBound: Scalar = 0, upperBound: Scalar = 1,
                               using generator: inout Xoshiro256StarStar) -> Tensor {
        let lo = Double(lowerBound), width = Double(upperBound) - Double(lowerBound)
        var storage = [Scalar]()
        storage.reserveCapacity(shape.scalarCount)
        for _ in 0..<shape.scalarCount { storage.append(Scalar(lo + width * generator.nextUniform())) }
        return Tensor(shape: shape, storage: storage)
    }

    /// Normal random numbers with the given mean and standard deviation drawn from `generator`.
    ///
    /// Element `i` is `mean + standardDeviation·z` with `z` from
    /// ``Xoshiro256StarStar/nextNormal()`` (two generator calls per element),
    /// computed in `Double` and rounded to `Scalar`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func normal(_ shape: TensorShape, mean: Scalar = 0, standardDeviation: Scalar = 1,
                              using generator: inout Xoshiro256StarStar) -> Tensor {
        let m = Double(mean), s = Double(standardDeviation)
        var storage = [Scalar]()
        storage.reserveCapacity(shape.scalarCount)
        for _ in 0..<shape.scalarCount { storage.append(Scalar(m + s * generator.nextNormal())) }
        return Tensor(shape: shape, storage: storage)
    }

    // MARK: Accessors

    /// The elements in row-major order.
    public var scalars: [Scalar] { storage.array }
    /// The number of axes.
    public var rank: Int { shape.rank }
    /// The number of elements.
    public var scalarCount: Int { storage.count }
    /// The only element of a one-element tensor.
    ///
    /// - Precondition: `scalarCount == 1`.
    public var scalar: Scalar {
        precondition(storage.count == 1, "Tensor.scalar: tensor of shape \(shape) has \(storage.count) elements")
        return storage[0]
    }

    /// The element at a multi-index (one index per axis).
    public subscript(indices: Int...) -> Scalar {
        precondition(indices.count == rank, "Tensor subscript: \(indices.count) indices for shape \(shape)")
        var offset = 0
        for (axis, i) in indices.enumerated() {
            precondition(i >= 0 && i < shape[axis], "Tensor subscript: index \(indices) out of range for shape \(shape)")
            offset = offset * shape[axis] + i
        }
        return storage[offset]
    }

    /// `true` when this tensor holds a graph node, so gradients can flow to or through it.
    public var requiresGradient: Bool { node != nil }

    /// The same values as a new differentiation variable (a fresh leaf of the graph).
    ///
    /// Pass the result to ``gradient(of:wrt:seed:createGraph:retainGraph:)`` as an
    /// input. Copies of the result name the same variable. Calling it on a tensor
    /// that already requires gradients cuts the graph above it.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func requiringGradient() -> Tensor {
        Tensor(shape: shape, storage: storage,
               node: Node(shape: shape, rule: nil, tracker: GradientContext.current.tracker))
    }

    /// The same values as a constant: gradients do not flow through the result.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// Calls `body` with the elements for in-place modification; the result is a constant.
    ///
    /// Use it in optimizer updates. The tensor loses its graph node (it no longer
    /// requires gradients), because its new values were not produced by recorded
    /// operations; call ``requiringGradient()`` afterwards to make it a variable again.
    public mutating func withUnsafeMutableScalars<R>(_ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        self = detached()
        return try storage.withUnsafeMutableBufferPointer(body)
    }

    /// Calls `body` with the row-major elements.
    public func withUnsafeScalars<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// The values converted to another scalar type, as a constant.
    public func converted<Other: TensorScalar>(to: Other.Type = Other.self) -> Tensor<Other> {
        Tensor<Other>(shape: shape, storage: TensorStorage(converting: storage))
    }
}

/// Errors from tensor initializers that take user data.
public enum TensorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The number of elements does not match the product of the shape.
    case scalarCountMismatch(shape: [Int], count: Int)
    /// A shape has a negative extent.
    case negativeExtent([Int])
    /// Nested arrays are not rectangular: `row` has `count` elements instead of `expected`.
    case raggedRows(row: Int, count: Int, expected: Int)
    /// An operation needs a tensor of another rank.
    case rankMismatch(operation: String, expected: Int, shape: [Int])
    /// An index is outside the extent of the axis it indexes.
    case indexOutOfRange(operation: String, index: Int, extent: Int)
    /// A negative byte count was given as ``TensorMemory``'s cache limit.
    case invalidCacheLimit(Int)

    /// A one-line explanation naming what is wrong and where.
    public var description: String {
        switch self {
        case let .scalarCountMismatch(shape, count): "\(count) elements cannot fill a tensor of shape \(shape)"
        case let .negativeExtent(shape): "shape \(shape) has a negative extent"
        case let .raggedRows(row, count, expected): "row \(row) has \(count) elements, expected \(expected)"
        case let .rankMismatch(op, expected, shape): "\(op): expected rank \(expected), got shape \(shape)"
        case let .indexOutOfRange(op, index, extent): "\(op): index \(index) out of range 0..<\(extent)"
        case let .invalidCacheLimit(bytes): "TensorMemory cache limit \(bytes) bytes is negative"
        }
    }
}

extension Tensor: CustomStringConvertible {
    /// `Tensor<Double>[2, 3] [1.0, 2.0, …]` (at most 16 elements shown), plus `requiresGradient` when set.
    public var description: String {
        let shown = storage.prefix(16).map { "\($0)" }.joined(separator: ", ")
        let more = storage.count > 16 ? ", …" : ""
        return "Tensor<\(Scalar.self)>\(shape) [\(shown)\(more)]\(node != nil ? " requiresGradient" : "")"
    }
}
