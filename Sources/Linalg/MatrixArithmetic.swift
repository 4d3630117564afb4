import COpenBLAS

extension Matrix {
    /// Combines two same-shaped matrices entry by entry.
    private func elementwise(_ other: Matrix, operation: String,
                             _ combine: (Double, Double) -> Double) throws -> Matrix {
        guard shape == other.shape else {
            throw LinalgError.dimensionMismatch(operation: operation, lhs: shape, rhs: other.shape)
        }
        var result = self
        result.withUnsafeMutableBufferPointer { target in
            other.withUnsafeBufferPointer { source in
                for k in target.indices { target[k] = combine(target[k], source[k]) }
            }
        }
        return result
    }

    /// `self + other`, entry by entry.
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when the shapes differ.
    public func adding(_ other: Matrix) throws -> Matrix {
        try elementwise(other, operation: "add", +)
    }

    /// `self - other`, entry by entry.
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when the shapes differ.
    public func subtracting(_ other: Matrix) throws -> Matrix {
        try elementwise(other, operation: "subtract", -)
    }

    /// The Hadamard (entry-by-entry) product.
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when the shapes differ.
    public func elementwiseProduct(_ other: Matrix) throws -> Matrix {
        try elementwise(other, operation: "elementwiseProduct", *)
    }

    /// Entry-by-entry division; IEEE rules apply to zero divisors.
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when the shapes differ.
    public func elementwiseQuotient(_ other: Matrix) throws -> Matrix {
        try elementwise(other, operation: "elementwiseQuotient", /)
    }

    /// The matrix product `self · other` through `dgemm`.
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when `columns != other.rows`.
    public func multiplied(by other: Matrix) throws -> Matrix {
        var result = Matrix(rows: rows, columns: other.columns)
        try BLAS.gemm(self, other, into: &result)
        return result
    }

    /// The matrix–vector product `self · vector` through `dgemv`.
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when `vector.count != columns`.
    public func multiplied(by vector: [Double]) throws -> [Double] {
        var result = [Double](repeating: 0, count: rows)
        try BLAS.gemv(self, vector, into: &result)
        return result
    }

    /// `Aᵀ·A` (the Gram matrix of the columns) through `dsyrk`.
    public func gram() -> Matrix {
        var result = Matrix(rows: columns, columns: columns)
        // syrk only fails on shape, and the output shape is correct by construction.
        try! BLAS.syrk(self, transpose: true, into: &result)
        return result
    }

    /// The entries scaled by `factor` (`dscal`).
    public func scaled(by factor: Double) -> Matrix {
        var result = self
        BLAS.scal(factor, &result.storage)
        return result
    }

    private static func checked(_ body: () throws -> Matrix) -> Matrix {
        do { return try body() } catch { preconditionFailure("\(error)") }
    }

    /// Entry-by-entry sum. Traps with both shapes when they differ; use ``adding(_:)`` to get an error instead.
    public static func + (lhs: Matrix, rhs: Matrix) -> Matrix { checked { try lhs.adding(rhs) } }
    /// Entry-by-entry difference. Traps with both shapes when they differ; use ``subtracting(_:)`` to get an error instead.
    public static func - (lhs: Matrix, rhs: Matrix) -> Matrix { checked { try lhs.subtracting(rhs) } }
    /// Matrix product. Traps with both shapes when they are incompatible; use ``multiplied(by:)-(Matrix)`` to get an error instead.
    public static func * (lhs: Matrix, rhs: Matrix) -> Matrix { checked { try lhs.multiplied(by: rhs) } }
    /// Matrix–vector product. Traps when `rhs.count != lhs.columns`; use ``multiplied(by:)-([Double])`` to get an error instead.
    public static func * (lhs: Matrix, rhs: [Double]) -> [Double] {
        do { return try lhs.multiplied(by: rhs) } catch { preconditionFailure("\(error)") }
    }
    /// Every entry multiplied by `rhs`.
    public static func * (lhs: Matrix, rhs: Double) -> Matrix { lhs.scaled(by: rhs) }
    /// Every entry multiplied by `lhs`.
    public static func * (lhs: Double, rhs: Matrix) -> Matrix { rhs.scaled(by: lhs) }
    /// Every entry divided by `rhs`.
    public static func / (lhs: Matrix, rhs: Double) -> Matrix { lhs.map { $0 / rhs } }
    /// Every entry negated.
    public static prefix func - (operand: Matrix) -> Matrix { operand.scaled(by: -1) }
    /// In-place entry-by-entry sum; traps when shapes differ.
    public static func += (lhs: inout Matrix, rhs: Matrix) { lhs = lhs + rhs }
    /// In-place entry-by-entry difference; traps when shapes differ.
    public static func -= (lhs: inout Matrix, rhs: Matrix) { lhs = lhs - rhs }
    /// In-place scaling.
    public static func *= (lhs: inout Matrix, rhs: Double) { BLAS.scal(rhs, &lhs.storage) }
}
