import COpenBLAS
import RealModule

/// The Cholesky factorization `A = L·Lᵀ` of a symmetric positive-definite matrix.
///
/// Only the lower triangle of `A` is read, as in `numpy.linalg.cholesky` and
/// LAPACK `dpotrf`. Factorization costs `n³/3` flops; each solve costs `2·n²`
/// flops per right-hand side.
///
/// ```swift
/// let chol = try Cholesky(covariance)
/// let x = try chol.solve(b)          // covariance · x = b
/// ```
public struct Cholesky: Sendable {
    /// The lower-triangular factor `L` (zeros above the diagonal).
    public let lower: Matrix

    /// Factors `matrix`.
    ///
    /// - Throws: ``LinalgError/notSquare(operation:shape:)``, ``LinalgError/empty(operation:)``,
    ///   ``LinalgError/nonFinite(operation:row:column:)``, or
    ///   ``LinalgError/notPositiveDefinite(operation:pivot:)`` naming the first leading
    ///   minor (1-based) that is not positive.
    public init(_ matrix: Matrix) throws {
        // The checks of `validateForFactorization`, in its order, with the vectorized finite scan.
        guard matrix.isSquare else { throw LinalgError.notSquare(operation: "Cholesky", shape: matrix.shape) }
        guard !matrix.isEmpty else { throw LinalgError.empty(operation: "Cholesky") }
        try matrix.validateFiniteQuickly("Cholesky")
        let n = matrix.rows
        var factor = matrix
        // Row-major lower triangle == column-major upper triangle, so no transpose is needed.
        // The `_work` entry point skips LAPACKE's own NaN scan, which the check above makes redundant.
        let info = factor.withUnsafeMutableBufferPointer { p in
            LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, LAPACKFlag.upper, Int32(n), p.baseAddress, Int32(n))
        }
        try checkArgumentInfo(info, routine: "dpotrf")
        if info > 0 { throw LinalgError.notPositiveDefinite(operation: "Cholesky", pivot: Int(info)) }
        factor.withUnsafeMutableBufferPointer { p in
            guard let base = p.baseAddress else { return }
            for i in 0..<n - 1 {
                (base + i * n + i + 1).update(repeating: 0, count: n - 1 - i)
            }
        }
        lower = factor
    }

    /// The order `n` of the factored matrix.
    public var order: Int { lower.rows }

    /// Solves `A·X = B` for `X` by two triangular solves (`dtrsm`).
    ///
    /// - Throws: ``LinalgError/dimensionMismatch(operation:lhs:rhs:)`` when `b.rows != n`,
    ///   ``LinalgError/nonFinite(operation:row:column:)`` when `b` holds NaN or infinity.
    public func solve(_ b: Matrix) throws -> Matrix {
        guard b.rows == order else {
            throw LinalgError.dimensionMismatch(operation: "Cholesky.solve", lhs: lower.shape, rhs: b.shape)
        }
        try b.validateFinite("Cholesky.solve")
        var x = b
        guard b.columns > 0 else { return x }
        let n = Int32(order), nrhs = Int32(b.columns)
        lower.withUnsafeBufferPointer { l in
            x.withUnsafeMutableBufferPointer { p in
                cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit,
                            n, nrhs, 1, l.baseAddress, n, p.baseAddress, nrhs)
                cblas_dtrsm(CblasRowMajor, CblasLeft, CblasLower, CblasTrans, CblasNonUnit,
                            n, nrhs, 1, l.baseAddress, n, p.baseAddress, nrhs)
            }
        }
        return x
    }

    /// Solves `A·x = b` for a vector `b`.
    ///
    /// - Throws: as ``solve(_:)-(Matrix)``.
    public func solve(_ b: [Double]) throws -> [Double] {
        try solve(Matrix(rows: b.count, columns: 1, elements: b)).elements
    }

    /// `log det A = 2·Σ log Lᵢᵢ`, computed without overflow.
    public var logDeterminant: Double {
        2 * lower.diagonalElements.reduce(0) { $0 + Double.log($1) }
    }

    /// `det A = Π Lᵢᵢ²`; may overflow to infinity for large matrices, prefer ``logDeterminant``.
    public var determinant: Double {
        lower.diagonalElements.reduce(1) { $0 * $1 * $1 }
    }

    /// `A⁻¹` from the factor (`dpotri`), exactly symmetric.
    ///
    /// - Throws: ``LinalgError/lapackFailure(routine:info:)`` only if LAPACK rejects the factor.
    public func inverse() throws -> Matrix {
        let n = order
        var result = lower
        let info = result.withUnsafeMutableBufferPointer { p in
            LAPACKE_dpotri(LAPACK_COL_MAJOR, LAPACKFlag.upper, Int32(n), p.baseAddress, Int32(n))
        }
        try checkArgumentInfo(info, routine: "dpotri")
        if info > 0 { throw LinalgError.singular(operation: "Cholesky.inverse", pivot: Int(info)) }
        result.mirrorLowerToUpper()
        return result
    }
}
