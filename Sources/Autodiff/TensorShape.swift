/// The shape of a ``Tensor``: the extent of each axis, outermost first.
///
/// A rank-0 shape (`[]`) describes a scalar with one element. Axes are
/// row-major: the last axis varies fastest in memory.
///
/// `TensorShape` is a small value wrapper around `[Int]`. Elementwise
/// operations on equal shapes share the same array buffer, so most operations
/// do not allocate a new shape.
public struct TensorShape: Sendable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The extent of each axis, outermost first.
    public let dimensions: [Int]

    /// Creates a shape from axis extents.
    ///
    /// - Precondition: every extent is non-negative and the product of the non-zero extents fits
    ///   in `Int` (so ``scalarCount`` and the strides cannot wrap); check data from files with
    ///   ``elementCount(_:)`` first.
    @inlinable
    public init(_ dimensions: [Int]) {
        guard TensorShape.elementCount(dimensions) != nil else {
            fatalError("TensorShape: negative extent or element count beyond Int in \(dimensions)")
        }
        self.dimensions = dimensions
    }

    /// The number of elements of a shape with these extents, or `nil` when an extent is negative
    /// or the product of the non-zero extents overflows `Int` (a zero extent does not excuse the
    /// others: the strides still multiply them).
    @inlinable
    public static func elementCount(_ dimensions: [Int]) -> Int? {
        var nonZero = 1, hasZero = false
        for d in dimensions {
            guard d >= 0 else { return nil }
            if d == 0 { hasZero = true; continue }
            let (product, overflow) = nonZero.multipliedReportingOverflow(by: d)
            guard !overflow else { return nil }
            nonZero = product
        }
        return hasZero ? 0 : nonZero
    }

    @usableFromInline
    init(unchecked dimensions: [Int]) { self.dimensions = dimensions }

    /// Creates a shape from an array literal, e.g. `[2, 3]`.
    public init(arrayLiteral elements: Int...) { self.init(elements) }

    /// The number of axes.
    @inlinable public var rank: Int { dimensions.count }

    /// The number of elements: the product of the extents (1 for rank 0).
    @inlinable public var scalarCount: Int {
        var n = 1
        for d in dimensions { n &*= d }
        return n
    }

    /// The extent of axis `axis`.
    @inlinable public subscript(axis: Int) -> Int { dimensions[axis] }

    /// Row-major strides in elements (the last axis has stride 1).
    public var strides: [Int] {
        var result = [Int](repeating: 1, count: rank)
        var s = 1
        for i in stride(from: rank - 1, through: 0, by: -1) {
            result[i] = s
            s *= dimensions[i]
        }
        return result
    }

    /// `"[2, 3]"`.
    public var description: String { "\(dimensions)" }

    /// The NumPy broadcast of two shapes, or `nil` when they are incompatible.
    ///
    /// Shapes are aligned at their last axis; two extents are compatible when
    /// they are equal or one of them is 1.
    public static func broadcast(_ a: TensorShape, _ b: TensorShape) -> TensorShape? {
        if a == b { return a }
        let rank = Swift.max(a.rank, b.rank)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.rank ? 1 : a.dimensions[i - (rank - a.rank)]
            let db = i < rank - b.rank ? 1 : b.dimensions[i - (rank - b.rank)]
            if da == db || db == 1 { result[i] = da } else if da == 1 { result[i] = db } else { return nil }
        }
        return TensorShape(unchecked: result)
    }

    /// Normalizes a possibly negative axis (`-1` is the last) and traps with `op` in the message if out of range.
    func axis(_ axis: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < rank else {
            fatalError("\(op): axis \(axis) out of range for shape \(self)")
        }
        return a
    }

    /// `(outer, n, inner)` around `axis`: the product of extents before, at and after it.
    func split(at axis: Int) -> (outer: Int, n: Int, inner: Int) {
        var outer = 1, inner = 1
        for i in 0..<axis { outer *= dimensions[i] }
        for i in (axis + 1)..<rank { inner *= dimensions[i] }
        return (outer, dimensions[axis], inner)
    }

    /// This shape with axis `axis` replaced by `extent`.
    func replacing(axis: Int, with extent: Int) -> TensorShape {
        var d = dimensions
        d[axis] = extent
        return TensorShape(unchecked: d)
    }
}
