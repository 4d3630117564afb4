import COpenBLAS
import RealModule

/// The LU factorization with partial pivoting `P·A = L·U` of a square matrix (`dgetrf`).
///
/// A singular matrix factors without error (its determinant is then 0); ``solve(_:)-(Matrix)``
/// and ``inverse()`` throw ``LinalgError/singular(operation:pivot:)``. Factorization costs
/// `2n³/3` flops.
public struct LUDecomposition: Sendable {
    /// `L` and `U` packed in one matrix: `U` on and above the diagonal, the strict
    /// lower part of `L` below it (its unit diagonal is implicit), as LAPACK stores them.
    public let packedFactors: Matrix
    /// LAPACK's 1-based pivot indices: row `i` was interchanged with row `pivots[i]`.
    public let pivots: [Int32]
    /// The first zero diagonal entry of `U` (1-based), or `nil` when `U` is nonsingular.
    public let firstZeroPivot: Int?

    /// Factors `matrix`.
    ///
    /// - Throws: ``LinalgError/notSquare(operation:shape:)``, ``LinalgError/empty(operation:)``
    ///   or ``LinalgError/nonFinite(operation:row:column:)``.
    public init(_ matrix: Matrix) throws {
        try matrix.validateForFactorization("LU", requireSquare: true)
        let n = Int32(matrix.rows)
        var factors = matrix
        var ipiv = [Int32](repeating: 0, count: matrix.rows)
        let info = factors.withUnsafeMutableBufferPointer { p in
            LAPACKE_dgetrf(LAPACK_ROW_MAJOR, n, n, p.baseAddress, n, &ipiv)
        }
        try checkArgumentInfo(info, routine: "dgetrf")
        packedFactors = factors
        pivots = ipiv
        firstZeroPivot = info > 0 ? Int(info) : nil
    }

    /// The order `n` of the factored matrix.
    public var order: Int { packedFactors.rows }

    /// The unit lower-triangular factor `L`.
    public var lower: Matrix {
        Matrix(rows: order, columns: order) { i, j in i == j ? 1 : (i > j ? packedFactors[i, j] : 0) }
    }

    /// The upper-triangular factor `U`.
    public var upper: Matrix {
        Matrix(rows: order, columns: order) { i, j in i <= j ? packedFactors[i, j] : 0 }
    }

    /// The permutation matrix `P` with `P·A = L·U`.
    public var permutation: Matrix {
        var rowOrder = Array(0..<order)
        for (i, pivot) in pivots.enumerated() { rowOrder.swapAt(i, Int(pivot) - 1) }
        var p = Matrix(rows: order, columns: order)
        for (i, source) in rowOrder.enumerated() { p[i, source] = 1 }
        return p
    }

    /// The sign of the permutation, `+1` or `-1`.
    private var permutationSign: Double {
        pivots.enumerated().reduce(1.0) { sign, entry in Int(entry.element) - 1 == entry.offset ? sign : -sign }
    }

    /// `det A`; exactly 0 for a singular matrix. May overflow, prefer ``logAbsoluteDeterminant``.
    public var determinant: Double {
        packedFactors.diagonalElements.reduce(permutationSign, *)
    }

    /// `(sign, log|det A|)` as `numpy.linalg.slogdet` returns it: `(0, -∞)` when singular.
    public var logAbsoluteDeterminant: (sign: Double, logAbsolute: Double) {
        var sign = permutationSign
        var logAbsolute = 0.0
        for u in packedFactors.diagonalElements {
            if u == 0 { return (0, -.infinity) }
            if u < 0 { sign = -sign }
            logAbsolute += Double.log(Swift.abs(u))
        }
        return (sign, logAbsolute)
    }

    /// Solves `A·X = B` (`dgetrs`).
    ///
    /// - Throws: ``LinalgError/singular(operation:pivot:)`` when `A` is singular,
    ///   ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when `b.rows != n`,
    ///   ``LinalgError/nonFinite(operation:row:column:)`` for NaN or infinity in `b`.
    public func solve(_ b: Matrix) throws -> Matrix {
        if let pivot = firstZeroPivot { throw LinalgError.singular(operation: "LU.solve", pivot: pivot) }
        guard b.rows == order else {
            throw LinalgError.dimensionMismatch(operation: "LU.solve", lhs: packedFactors.shape, rhs: b.shape)
        }
        try b.validateFinite("LU.solve")
        var x = b
        guard b.columns > 0 else { return x }
        let info = packedFactors.withUnsafeBufferPointer { a in
            x.withUnsafeMutableBufferPointer { p in
                LAPACKE_dgetrs(LAPACK_ROW_MAJOR, LAPACKFlag.none, Int32(order), Int32(b.columns),
                               a.baseAddress, Int32(order), pivots, p.baseAddress, Int32(b.columns))
            }
        }
        try checkArgumentInfo(info, routine: "dgetrs")
        return x
    }

    /// Solves `A·x = b` for a vector.
    ///
    /// - Throws: as ``solve(_:)-(Matrix)``.
    public func solve(_ b: [Double]) throws -> [Double] {
        try solve(Matrix(rows: b.count, columns: 1, elements: b)).elements
    }

    /// `A⁻¹` (`dgetri`).
    ///
    /// - Throws: ``LinalgError/singular(operation:pivot:)`` when `A` is singular.
    public func inverse() throws -> Matrix {
        if let pivot = firstZeroPivot { throw LinalgError.singular(operation: "inverse", pivot: pivot) }
        var result = packedFactors
        let info = result.withUnsafeMutableBufferPointer { p in
            LAPACKE_dgetri(LAPACK_ROW_MAJOR, Int32(order), p.baseAddress, Int32(order), pivots)
        }
        try checkArgumentInfo(info, routine: "dgetri")
        if info > 0 { throw LinalgError.singular(operation: "inverse", pivot: Int(info)) }
        return result
    }
}

extension Matrix {
    /// Solves the square system `self·X = B` by LU with partial pivoting.
    ///
    /// - Throws: see ``LUDecomposition/init(_:)`` and ``LUDecomposition/solve(_:)-(Matrix)``.
    public func solve(_ b: Matrix) throws -> Matrix { try LUDecomposition(self).solve(b) }

    /// Solves the square system `self·x = b` by LU with partial pivoting.
    ///
    /// - Throws: see ``LUDecomposition/init(_:)`` and ``LUDecomposition/solve(_:)-(Matrix)``.
    public func solve(_ b: [Double]) throws -> [Double] { try LUDecomposition(self).solve(b) }

    /// The inverse, by LU.
    ///
    /// - Throws: ``LinalgError/singular(operation:pivot:)`` and the errors of ``LUDecomposition/init(_:)``.
    public func inverse() throws -> Matrix { try LUDecomposition(self).inverse() }

    /// The determinant, by LU; 0 for a singular matrix.
    ///
    /// - Throws: the errors of ``LUDecomposition/init(_:)``.
    public func determinant() throws -> Double { try LUDecomposition(self).determinant }

    /// `(sign, log|det|)` as `numpy.linalg.slogdet` returns it; `(0, -∞)` for a singular matrix.
    ///
    /// - Throws: the errors of ``LUDecomposition/init(_:)``.
    public func logDeterminant() throws -> (sign: Double, logAbsolute: Double) {
        try LUDecomposition(self).logAbsoluteDeterminant
    }
}
