import COpenBLAS

/// A dense matrix of `Double` in row-major order with copy-on-write storage.
///
/// `Matrix` is a value type: copies share storage until one of them is mutated.
/// Element `(i, j)` lives at `storage[i * columns + j]`, which is the layout
/// CBLAS and LAPACKE call `RowMajor` with leading dimension `columns`.
///
/// Shape errors in `Matrix` arithmetic operators (`+`, `-`, `*`) are programmer
/// errors and trap with a message naming both shapes, as Swift arrays do for
/// out-of-range indices. Every operation that takes user data has a throwing
/// form (``adding(_:)``, ``multiplied(by:)-(Matrix)``, ``BLAS/gemm(_:_:transposeA:transposeB:alpha:beta:into:)``)
/// that reports ``LinalgError`` instead.
public struct Matrix: Sendable, Hashable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// Row-major storage; `storage.count == rows * columns` always holds.
    @usableFromInline
    internal var storage: [Double]

    /// The entries in row-major order; `elements.count == rows * columns`.
    public var elements: [Double] { storage }

    /// Creates a `rows × columns` matrix with every entry equal to `value`.
    ///
    /// - Precondition: `rows >= 0` and `columns >= 0`.
    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        precondition(rows >= 0 && columns >= 0, "Matrix: negative shape \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.storage = Array(repeating: value, count: rows * columns)
    }

    /// Creates a matrix from row-major `elements`.
    ///
    /// - Throws: ``LinalgError/invalidArgument(operation:message:)`` when the shape is
    ///   negative or `elements.count != rows * columns`.
    public init(rows: Int, columns: Int, elements: [Double]) throws {
        guard rows >= 0, columns >= 0 else {
            throw LinalgError.invalidArgument(operation: "Matrix.init", message: "negative shape \(rows)×\(columns)")
        }
        guard elements.count == rows * columns else {
            throw LinalgError.invalidArgument(
                operation: "Matrix.init",
                message: "\(elements.count) elements cannot fill a \(rows)×\(columns) matrix")
        }
        self.rows = rows
        self.columns = columns
        self.storage = elements
    }

    /// Creates a matrix from an array of rows.
    ///
    /// - Throws: ``LinalgError/invalidArgument(operation:message:)`` naming the first row
    ///   whose length differs from the first row's.
    public init(_ rowArrays: [[Double]]) throws {
        let width = rowArrays.first?.count ?? 0
        var flat: [Double] = []
        flat.reserveCapacity(rowArrays.count * width)
        for (index, row) in rowArrays.enumerated() {
            guard row.count == width else {
                throw LinalgError.invalidArgument(
                    operation: "Matrix.init",
                    message: "row \(index) has \(row.count) elements, expected \(width)")
            }
            flat.append(contentsOf: row)
        }
        self.rows = rowArrays.count
        self.columns = width
        self.storage = flat
    }

    /// Creates a matrix whose entry `(i, j)` is `entry(i, j)`.
    public init(rows: Int, columns: Int, entry: (_ row: Int, _ column: Int) throws -> Double) rethrows {
        self.init(rows: rows, columns: columns)
        for i in 0..<rows {
            for j in 0..<columns {
                storage[i * columns + j] = try entry(i, j)
            }
        }
    }

    /// Creates a matrix with the given arrays as its columns.
    ///
    /// - Throws: ``LinalgError/invalidArgument(operation:message:)`` naming the first column
    ///   whose length differs from the first column's.
    public init(columnArrays: [[Double]]) throws {
        // Checked here so the message names a column, not a row of the transposed intermediate.
        let height = columnArrays.first?.count ?? 0
        if let index = columnArrays.firstIndex(where: { $0.count != height }) {
            throw LinalgError.invalidArgument(
                operation: "Matrix.init",
                message: "column \(index) has \(columnArrays[index].count) elements, expected \(height)")
        }
        self = try Matrix(columnArrays).transposed()
    }

    /// The `n × n` identity matrix.
    public static func identity(_ n: Int) -> Matrix {
        var result = Matrix(rows: n, columns: n)
        for i in 0..<n { result.storage[i * n + i] = 1 }
        return result
    }

    /// A square matrix with `values` on its diagonal and zeros elsewhere.
    public static func diagonal(_ values: [Double]) -> Matrix {
        let n = values.count
        var result = Matrix(rows: n, columns: n)
        for i in 0..<n { result.storage[i * n + i] = values[i] }
        return result
    }

    /// `(rows, columns)`.
    public var shape: Shape { Shape(rows, columns) }
    /// `rows * columns`.
    public var count: Int { elements.count }
    /// `true` when the matrix has no entries.
    public var isEmpty: Bool { elements.isEmpty }
    /// `true` when `rows == columns`.
    public var isSquare: Bool { rows == columns }

    /// The entry at `(row, column)`, 0-based.
    ///
    /// - Precondition: both indices are in range.
    @inlinable
    public subscript(row: Int, column: Int) -> Double {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns,
                         "Matrix index (\(row), \(column)) out of range for \(rows)×\(columns)")
            return storage[row * columns + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns,
                         "Matrix index (\(row), \(column)) out of range for \(rows)×\(columns)")
            storage[row * columns + column] = newValue
        }
    }

    /// A copy of row `index`.
    public func row(_ index: Int) -> [Double] {
        precondition(index >= 0 && index < rows, "Matrix.row: index \(index) out of range for \(rows) rows")
        return Array(storage[index * columns ..< (index + 1) * columns])
    }

    /// A copy of column `index`.
    public func column(_ index: Int) -> [Double] {
        precondition(index >= 0 && index < columns, "Matrix.column: index \(index) out of range for \(columns) columns")
        return (0..<rows).map { storage[$0 * columns + index] }
    }

    /// Replaces row `index` with `values`.
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` if `values.count != columns`.
    public mutating func setRow(_ index: Int, to values: [Double]) throws {
        precondition(index >= 0 && index < rows, "Matrix.setRow: index \(index) out of range for \(rows) rows")
        guard values.count == columns else {
            throw LinalgError.dimensionMismatch(operation: "Matrix.setRow", lhs: Shape(1, columns), rhs: Shape(1, values.count))
        }
        storage.replaceSubrange(index * columns ..< (index + 1) * columns, with: values)
    }

    /// Replaces column `index` with `values`.
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` if `values.count != rows`.
    public mutating func setColumn(_ index: Int, to values: [Double]) throws {
        precondition(index >= 0 && index < columns, "Matrix.setColumn: index \(index) out of range for \(columns) columns")
        guard values.count == rows else {
            throw LinalgError.dimensionMismatch(operation: "Matrix.setColumn", lhs: Shape(rows, 1), rhs: Shape(values.count, 1))
        }
        for i in 0..<rows { storage[i * columns + index] = values[i] }
    }

    /// The rows in `range` as a new matrix.
    public func rows(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "Matrix.rows: \(range) out of range for \(rows) rows")
        var result = Matrix(rows: range.count, columns: columns)
        result.storage = Array(storage[range.lowerBound * columns ..< range.upperBound * columns])
        return result
    }

    /// The block of rows `rowRange` and columns `columnRange` as a new matrix.
    public func submatrix(rows rowRange: Range<Int>, columns columnRange: Range<Int>) -> Matrix {
        precondition(rowRange.lowerBound >= 0 && rowRange.upperBound <= rows
                     && columnRange.lowerBound >= 0 && columnRange.upperBound <= columns,
                     "Matrix.submatrix: \(rowRange)×\(columnRange) out of range for \(rows)×\(columns)")
        var result = Matrix(rows: rowRange.count, columns: columnRange.count)
        var k = 0
        for i in rowRange {
            for j in columnRange {
                result.storage[k] = storage[i * columns + j]
                k += 1
            }
        }
        return result
    }

    /// The main diagonal, of length `min(rows, columns)`.
    public var diagonalElements: [Double] {
        (0..<Swift.min(rows, columns)).map { storage[$0 * columns + $0] }
    }

    /// The sum of the diagonal.
    public var trace: Double { diagonalElements.reduce(0, +) }

    /// The transpose, computed by OpenBLAS's blocked `domatcopy`.
    public func transposed() -> Matrix {
        var result = Matrix(rows: columns, columns: rows)
        guard !isEmpty else { return result }
        storage.withUnsafeBufferPointer { source in
            result.storage.withUnsafeMutableBufferPointer { target in
                cblas_domatcopy(CblasRowMajor, CblasTrans, Int32(rows), Int32(columns), 1.0,
                                source.baseAddress, Int32(columns), target.baseAddress, Int32(rows))
            }
        }
        return result
    }

    /// The same entries read as a `rows × columns` matrix (row-major order is kept).
    ///
    /// - Throws: ``LinalgError/invalidArgument(operation:message:)`` if the counts differ.
    public func reshaped(rows newRows: Int, columns newColumns: Int) throws -> Matrix {
        try Matrix(rows: newRows, columns: newColumns, elements: elements)
    }

    /// Applies `transform` to every entry.
    public func map(_ transform: (Double) throws -> Double) rethrows -> Matrix {
        var result = self
        try result.storage.withUnsafeMutableBufferPointer { buffer in
            for k in buffer.indices { buffer[k] = try transform(buffer[k]) }
        }
        return result
    }

    /// Calls `body` with the row-major storage.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Double>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with mutable row-major storage; the shape cannot change.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (inout UnsafeMutableBufferPointer<Double>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutableBufferPointer(body)
    }

    /// The position of the first NaN or infinity, or `nil` if every entry is finite.
    public func firstNonFiniteIndex() -> (row: Int, column: Int)? {
        guard let k = elements.firstIndex(where: { !$0.isFinite }) else { return nil }
        return (k / columns, k % columns)
    }

    /// `true` when `rows == columns` and `|a[i,j] - a[j,i]| <= tolerance * max(1, |a[i,j]|)` for all pairs.
    public func isSymmetric(tolerance: Double = 0) -> Bool {
        guard isSquare else { return false }
        for i in 0..<rows {
            for j in (i + 1)..<Swift.max(i + 1, columns) {
                let a = storage[i * columns + j], b = storage[j * columns + i]
                if Swift.abs(a - b) > tolerance * Swift.max(1, Swift.abs(a)) { return false }
            }
        }
        return true
    }

    /// `true` when shapes match and every entry differs by at most
    /// `absoluteTolerance + relativeTolerance * |other|` (NumPy's `allclose` rule).
    public func isApproximatelyEqual(to other: Matrix, absoluteTolerance: Double = 1e-12,
                                     relativeTolerance: Double = 1e-9) -> Bool {
        guard shape == other.shape else { return false }
        for (a, b) in zip(elements, other.elements) where !(Swift.abs(a - b) <= absoluteTolerance + relativeTolerance * Swift.abs(b)) {
            return false
        }
        return true
    }

    /// The largest absolute entry (the max norm); 0 for an empty matrix.
    public var maxAbs: Double { elements.reduce(0) { Swift.max($0, Swift.abs($1)) } }

    /// The Frobenius norm, computed by BLAS `dnrm2` without overflow.
    public var frobeniusNorm: Double { BLAS.nrm2(elements) }
}

extension Matrix: CustomStringConvertible {
    /// A multi-line rendering with the shape on the first line.
    public var description: String {
        var lines = ["Matrix \(rows)×\(columns)"]
        let shownRows = Swift.min(rows, 12), shownColumns = Swift.min(columns, 8)
        for i in 0..<shownRows {
            var cells = (0..<shownColumns).map { j -> String in
                let text = "\(storage[i * columns + j])"
                return String(repeating: " ", count: Swift.max(0, 22 - text.count)) + text
            }
            if shownColumns < columns { cells.append("  …") }
            lines.append(cells.joined(separator: " "))
        }
        if shownRows < rows { lines.append("  … \(rows - shownRows) more rows") }
        return lines.joined(separator: "\n")
    }
}
